"""The insurance sub-ledger in the ledger table (docs/dynamodb.md): parties, policies, policy events, installments'
commission and payables.

- ``PARTY#<id>`` / ``PARTY``: a party's master data; its current accounts sit in ``by_account`` under the same key.
- ``POLICY#<id>`` / ``POLICY``: the policy as it stands (components, status, installment ids); in ``by_account``
  under its customer (``CUST#<customer>`` / ``POLICY#<id>``), for a customer's policies.
- ``PEVT#<event_id>`` / ``EVENT``: an applied event's canonical content (idempotency, conflicts).
- Installments are ordinary ``ITEM#`` records (kind ``premium_installment``) with their policy, number, components and
  commission (amount, status, channel): payments, dunning and the journal treat them as any item.
- ``PAYABLE#<id>`` / ``PAYABLE``: what the insurer owes a party; its record is its own (negative) posting, and it sits
  in ``by_account`` under the party's account as ``PAYABLE#<due>#<id>`` (never among the ``ITEM#`` entries).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from receivables.adapters.attributes import string as _s
from receivables.adapters.attributes import text as _text
from receivables.adapters.attributes import transact_write
from receivables.adapters.dynamodb_batches import AttributeMap, batch_get, paginated
from receivables.adapters.journal_table import entry_record
from receivables.adapters.keys import (
    account_key,
    account_partition,
    customer_key,
    customer_partition,
    item_key,
    party_key,
    party_partition,
    payable_key,
    policy_event_key,
    policy_key,
)
from receivables.domain.journal import Cause, JournalEntry, Posting, PostingKind, Side
from receivables.insurance.commissions import CommissionState
from receivables.insurance.parties import Billing, Party, PartyKind
from receivables.insurance.premium import PREMIUM
from receivables.insurance.service import (
    INSTALLMENT_KIND,
    EventRecordedError,
    NewPolicy,
    PartyFacts,
    PolicyAlreadyExistsError,
    StoredEvent,
    commission_payable_id,
)
from receivables.insurance.views import (
    CommissionView,
    CurrentAccountView,
    InstallmentView,
    NoticeView,
    PartyStatement,
    PartyView,
    PolicyView,
    StatementLine,
    StatementView,
    installment_status,
)
from receivables.payments.operations import new_entry_id


def _n(value: Decimal | int) -> dict[str, str]:
    return {"N": str(value)}


def _money_map(values: dict[str, Decimal]) -> dict[str, Any]:
    return {"M": {code: _n(amount) for code, amount in values.items()}}


def _money_of(record: AttributeMap, name: str) -> dict[str, Decimal]:
    """A map of components, net premium first, then levies by code (a DynamoDB map keeps no order)."""
    values = record.get(name, {}).get("M", {})
    return {code: Decimal(values[code]["N"]) for code in sorted(values, key=lambda c: (c != PREMIUM, c))}


# -- parties ---------------------------------------------------------------------------------------------------------
def party_record(party: Party, source_file: str, line: int, now: datetime) -> AttributeMap:
    record: AttributeMap = {
        **party_key(party.party_id),
        "entity": _s("party"),
        "party_id": _s(party.party_id),
        "kind": _s(party.kind.value),
        "name": _s(party.name),
        "tax_id": _s(party.tax_id),
        "language": _s(party.language),
        "fingerprint": _s(party.fingerprint()),
        "source_file": _s(source_file),
        "source_line": _n(line),
        "updated_at": _s(now.isoformat()),
    }
    for name in ("iban", "city", "address", "email", "phone", "commission_plan"):
        if value := getattr(party, name):
            record[name] = _s(value)
    if party.billing:
        record["billing"] = _s(party.billing.value)
    return record


def party_view(record: AttributeMap) -> dict[str, Any]:
    view: dict[str, Any] = {
        name: _text(record, name)
        for name in (
            "party_id",
            "kind",
            "name",
            "tax_id",
            "iban",
            "city",
            "address",
            "email",
            "phone",
            "language",
            "commission_plan",
            "billing",
        )
    }
    view["source"] = {"file": _text(record, "source_file"), "line": int(record["source_line"]["N"])}
    return view


# -- policies --------------------------------------------------------------------------------------------------------
def _account_upsert(table: str, account_id: str, owner_id: str, owner_is_party: bool, currency: str, today: date):
    owner_partition = party_partition(owner_id) if owner_is_party else customer_partition(owner_id)
    return {
        "Update": {
            "TableName": table,
            "Key": account_key(account_id),
            "UpdateExpression": "SET entity = if_not_exists(entity, :e), account_id = if_not_exists(account_id, :a), "
            "customer_id = if_not_exists(customer_id, :o), currency = if_not_exists(currency, :c), "
            "account_type = if_not_exists(account_type, :t), opened_on = if_not_exists(opened_on, :d), "
            "owner_kind = if_not_exists(owner_kind, :k), gsi1pk = if_not_exists(gsi1pk, :g1), "
            "gsi1sk = if_not_exists(gsi1sk, :g2)",
            "ExpressionAttributeValues": {
                ":e": _s("account"),
                ":a": _s(account_id),
                ":o": _s(owner_id),
                ":c": _s(currency),
                ":t": _s("agency" if owner_is_party else "policyholder"),
                ":d": _s(today.isoformat()),
                ":k": _s("party" if owner_is_party else "customer"),
                ":g1": _s(owner_partition),
                ":g2": _s(account_partition(account_id)),
            },
        }
    }


def policy_record(policy: NewPolicy) -> AttributeMap:
    record: AttributeMap = {
        **policy_key(policy.policy_id),
        "entity": _s("policy"),
        "policy_id": _s(policy.policy_id),
        "customer_id": _s(policy.customer_id),
        "branch": _s(policy.branch),
        "start_date": _s(policy.start_date.isoformat()),
        "end_date": _s(policy.end_date.isoformat()),
        "currency": _s(policy.currency),
        "status": _s("active"),
        "billing": _s(policy.billing.value),
        "payer_id": _s(policy.payer_id),
        "account_id": _s(policy.account_id),
        "components": _money_map(policy.components),
        "installment_ids": {"L": [_s(i.item_id) for i in policy.installments]},
        "commission_rate": _n(policy.commission_rate),
        "issued_on": _s(policy.issued_on.isoformat()),
        "issued_by": _s(policy.event_id),
        "version": _n(1),
        "gsi1pk": _s(customer_partition(policy.customer_id)),
        "gsi1sk": _s(f"POLICY#{policy.policy_id}"),
    }
    if policy.party_id:
        record["party_id"] = _s(policy.party_id)
    if policy.commission_plan:
        record["commission_plan"] = _s(policy.commission_plan)
    if policy.commission_account_id:
        record["commission_account_id"] = _s(policy.commission_account_id)
    return record


def installment_records(policy: NewPolicy, recorded_at: str) -> list[AttributeMap]:
    loaded = policy.issued_on.isoformat()
    records = []
    for n, installment in enumerate(policy.installments):
        money = _n(installment.amount)
        due = installment.due_date.isoformat()
        record: AttributeMap = {
            **item_key(installment.item_id),
            "kind": _s(INSTALLMENT_KIND),
            "item_id": _s(installment.item_id),
            "account_id": _s(policy.account_id),
            "customer_id": _s(policy.payer_id),
            "policy_id": _s(policy.policy_id),
            "insured_id": _s(policy.customer_id),
            "installment_no": _n(installment.no),
            "components": _money_map(installment.components),
            "issue_date": _s(loaded),
            "due_date": _s(due),
            "amount": money,
            "open_amount": money,
            "currency": _s(policy.currency),
            "source_file": _s(policy.source.origin),
            "loaded_on": _s(loaded),
            "recorded_at": _s(recorded_at),
            "description": _s(f"{policy.branch} policy {policy.policy_id}, installment {installment.no}"),
            # Its own posting (item_posted): where it sorts among the account's entries, in installment order.
            "journal_key": _s(f"{loaded}#{time.time_ns() + n:019d}-item"),
            "gsi1pk": _s(account_partition(policy.account_id)),
            "gsi1sk": _s(f"ITEM#{due}#{installment.item_id}"),
        }
        if policy.source.line is not None:
            record["source_line"] = _n(policy.source.line)
        if policy.party_id and installment.commission:
            record |= {
                "commission": _n(installment.commission),
                "commission_status": _s("payable" if installment.commission_payable else "accrued"),
                "commission_party": _s(policy.party_id),
                "commission_account": _s(policy.commission_account_id or ""),
            }
        records.append(record)
    return records


def payable_record(
    payable_id: str,
    *,
    kind: str,
    account_id: str,
    party_id: str,
    amount: Decimal,
    currency: str,
    due_date: date,
    created_on: date,
    recorded_at: str,
    cause: Cause,
    policy_id: str | None = None,
    item_id: str | None = None,
) -> AttributeMap:
    record: AttributeMap = {
        **payable_key(payable_id),
        "entity": _s("payable"),
        "payable_id": _s(payable_id),
        "kind": _s(kind),
        "account_id": _s(account_id),
        "party_id": _s(party_id),
        "amount": _n(amount),
        "open_amount": _n(amount),
        "currency": _s(currency),
        "status": _s("approved"),
        "due_date": _s(due_date.isoformat()),
        "created_on": _s(created_on.isoformat()),
        "recorded_at": _s(recorded_at),
        "cause": _s(cause.model_dump_json(exclude_none=True)),
        "journal_key": _s(f"{created_on.isoformat()}#{time.time_ns():019d}-payable"),
        "gsi1pk": _s(account_partition(account_id)),
        "gsi1sk": _s(f"PAYABLE#{due_date.isoformat()}#{payable_id}"),
    }
    if policy_id:
        record["policy_id"] = _s(policy_id)
    if item_id:
        record["item_id"] = _s(item_id)
    return record


def payable_posting(record: AttributeMap) -> JournalEntry:
    """A payable's own record read as the entry that posted it: minus its amount on the party's account."""
    created = date.fromisoformat(record["created_on"]["S"])
    return JournalEntry(
        entry_id=record["journal_key"]["S"].split("#", 1)[1],
        account_id=record["account_id"]["S"],
        currency=record["currency"]["S"],
        business_date=created,
        recorded_at=datetime.fromisoformat(record["recorded_at"]["S"]),
        operation="payable_posted",
        cause=Cause.model_validate_json(record["cause"]["S"]),
        postings=(
            Posting(
                kind=PostingKind.PAYABLE_POSTED,
                side=Side.ITEM,
                amount=-Decimal(record["amount"]["N"]),
                item_id=record["payable_id"]["S"],
                reason=f"{record['kind']['S']} payable posted",
            ),
        ),
    )


def first_commission_due(paid_on: date) -> date:
    """Commission falls due on the 1st of the month after it became payable."""
    return date(paid_on.year + paid_on.month // 12, paid_on.month % 12 + 1, 1)


class InsuranceTable:
    """Parties, policies, events and payables (the PolicyStore of the policy-event service)."""

    def __init__(self, client: Any, table_name: str, *, clock: Any) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock

    # -- parties ---------------------------------------------------------------------------------------------------
    def party(self, party_id: str) -> PartyFacts | None:
        record = self._get(party_key(party_id))
        if record is None:
            return None
        billing = _text(record, "billing")
        return PartyFacts(
            party_id=party_id,
            kind=PartyKind(record["kind"]["S"]),
            commission_plan=_text(record, "commission_plan"),
            billing=Billing(billing) if billing else None,
        )

    def party_record(self, party_id: str) -> AttributeMap | None:
        return self._get(party_key(party_id))

    def customer_record(self, customer_id: str) -> AttributeMap | None:
        return self._get(customer_key(customer_id))

    def customer_exists(self, customer_id: str) -> bool:
        return self._get(customer_key(customer_id), projection="customer_id") is not None

    # -- events and policies ---------------------------------------------------------------------------------------
    def stored_event(self, event_id: str) -> StoredEvent | None:
        record = self._get(policy_event_key(event_id))
        if record is None:
            return None
        return StoredEvent(event_id, record["content"]["S"], json.loads(record["raw"]["S"]))

    def policy_exists(self, policy_id: str) -> bool:
        return self._get(policy_key(policy_id), projection="policy_id") is not None

    def policy(self, policy_id: str) -> AttributeMap | None:
        return self._get(policy_key(policy_id))

    def policies_of_customer(self, customer_id: str) -> list[str]:
        request = {
            "TableName": self._table,
            "IndexName": "by_account",
            "KeyConditionExpression": "gsi1pk = :p AND begins_with(gsi1sk, :s)",
            "ExpressionAttributeValues": {":p": _s(customer_partition(customer_id)), ":s": _s("POLICY#")},
        }
        return sorted(r["gsi1sk"]["S"].removeprefix("POLICY#") for r in paginated(self._client.query, request))

    def items(self, item_ids: Iterable[str]) -> list[AttributeMap]:
        return batch_get(self._client, self._table, [item_key(i) for i in item_ids])

    def issue(self, policy: NewPolicy, content: str) -> None:
        now = self._clock.now()
        recorded_at = now.isoformat()
        writes: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        **policy_event_key(policy.event_id),
                        "entity": _s("policy_event"),
                        "event_id": _s(policy.event_id),
                        "type": _s("PolicyIssued"),
                        "policy_id": _s(policy.policy_id),
                        "content": _s(content),
                        "raw": _s(json.dumps(policy.raw, default=str, ensure_ascii=False, sort_keys=True)),
                        "applied_on": _s(policy.issued_on.isoformat()),
                        "source": _s(policy.source.describe()),
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Put": {
                    "TableName": self._table,
                    "Item": policy_record(policy),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            _account_upsert(
                self._table,
                policy.account_id,
                policy.payer_id,
                policy.payer_is_party,
                policy.currency,
                policy.issued_on,
            ),
        ]
        writes += [
            {"Put": {"TableName": self._table, "Item": r, "ConditionExpression": "attribute_not_exists(pk)"}}
            for r in installment_records(policy, recorded_at)
        ]
        payable_now = [i for i in policy.installments if i.commission_payable and i.commission > 0]
        if payable_now and policy.party_id and policy.commission_account_id:
            writes.append(
                _account_upsert(
                    self._table, policy.commission_account_id, policy.party_id, True, policy.currency, policy.issued_on
                )
            )
            cause = Cause(kind="event", source=policy.source.describe(), position=f"event {policy.event_id}")
            writes += [
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": payable_record(
                            commission_payable_id(i.item_id),
                            kind="commission",
                            account_id=policy.commission_account_id,
                            party_id=policy.party_id,
                            amount=i.commission,
                            currency=policy.currency,
                            due_date=first_commission_due(policy.issued_on),
                            created_on=policy.issued_on,
                            recorded_at=recorded_at,
                            cause=cause,
                            policy_id=policy.policy_id,
                            item_id=i.item_id,
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
                for i in payable_now
            ]
        try:
            transact_write(self._client, writes)
        except ClientError as error:
            reasons = error.response.get("CancellationReasons") or []
            failed = [n for n, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"]
            if 0 in failed:
                raise EventRecordedError(policy.event_id) from error
            if failed:
                raise PolicyAlreadyExistsError(policy.policy_id) from error
            raise

    # -- commissions -------------------------------------------------------------------------------------------------
    def commission_states(self, account_id: str) -> list[CommissionState]:
        """The account's installments that carry commission, with their payables (what settlement looks at)."""
        from receivables.adapters.ledger_table import account_item_entries

        keys = [
            item_key(r["pk"]["S"].removeprefix("ITEM#"))
            for r in account_item_entries(self._client, self._table, account_id)
        ]
        items = [r for r in batch_get(self._client, self._table, keys) if "commission" in r]
        payables = self.payables(commission_payable_id(r["item_id"]["S"]) for r in items)
        states = []
        for r in items:
            payable = payables.get(commission_payable_id(r["item_id"]["S"]))
            states.append(
                CommissionState(
                    item_id=r["item_id"]["S"],
                    open_amount=Decimal(r["open_amount"]["N"]),
                    item_status=_text(r, "status") or "open",
                    commission=Decimal(r["commission"]["N"]),
                    status=r["commission_status"]["S"],
                    payable_exists=payable is not None,
                    payable_open=Decimal(payable["open_amount"]["N"]) if payable else Decimal(0),
                    policy_id=r["policy_id"]["S"],
                    party_id=r["commission_party"]["S"],
                    party_account_id=r["commission_account"]["S"],
                    currency=r["currency"]["S"],
                )
            )
        return states

    def payables(self, payable_ids: Iterable[str]) -> dict[str, AttributeMap]:
        found = batch_get(self._client, self._table, [payable_key(p) for p in payable_ids])
        return {r["payable_id"]["S"]: r for r in found}

    def _adjustment(self, state: CommissionState, amount: Decimal, operation: str, reason: str, cause: Cause):
        entry = JournalEntry(
            entry_id=new_entry_id(),
            account_id=state.party_account_id,
            currency=state.currency,
            business_date=self._clock.today(),
            recorded_at=self._clock.now(),
            operation=operation,
            cause=cause,
            postings=(
                Posting(
                    kind=PostingKind.PAYABLE_ADJUSTED,
                    side=Side.ITEM,
                    amount=amount,
                    item_id=commission_payable_id(state.item_id),
                    reason=reason,
                ),
            ),
        )
        return {"Put": {"TableName": self._table, "Item": entry_record(entry)}}

    def make_payable(self, state: CommissionState, cause: Cause) -> bool:
        """Flip an installment's commission from accrued to payable and post the payable (or owe it again), in one
        transaction; False when someone else changed it first."""
        payable_id = commission_payable_id(state.item_id)
        today = self._clock.today()
        writes: list[dict[str, Any]] = [self._commission_status(state.item_id, "accrued", "payable", paid_guard=True)]
        if state.payable_exists:
            writes += [
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": payable_key(payable_id),
                        "UpdateExpression": "SET open_amount = :a, #s = :open",
                        "ConditionExpression": "open_amount = :zero",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {
                            ":a": _n(state.commission),
                            ":open": _s("approved"),
                            ":zero": _n(0),
                        },
                    }
                },
                self._adjustment(
                    state,
                    -state.commission,
                    "commission_payable",
                    f"installment {state.item_id} paid in full again: commission owed again",
                    cause,
                ),
            ]
        else:
            writes.append(
                _account_upsert(self._table, state.party_account_id, state.party_id, True, state.currency, today)
            )
            writes.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": payable_record(
                            payable_id,
                            kind="commission",
                            account_id=state.party_account_id,
                            party_id=state.party_id,
                            amount=state.commission,
                            currency=state.currency,
                            due_date=first_commission_due(today),
                            created_on=today,
                            recorded_at=self._clock.now().isoformat(),
                            cause=cause,
                            policy_id=state.policy_id,
                            item_id=state.item_id,
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        return self._try(writes)

    def back_to_accrued(self, state: CommissionState, cause: Cause) -> bool:
        """The installment reopened (its payment returned) before the commission was paid out: the payable is
        cancelled through a posting and the commission waits for the installment again."""
        writes = [
            self._commission_status(state.item_id, "payable", "accrued", paid_guard=False),
            {
                "Update": {
                    "TableName": self._table,
                    "Key": payable_key(commission_payable_id(state.item_id)),
                    "UpdateExpression": "SET open_amount = :zero, #s = :cancelled",
                    "ConditionExpression": "open_amount = :a",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {
                        ":a": _n(state.commission),
                        ":zero": _n(0),
                        ":cancelled": _s("cancelled"),
                    },
                }
            },
            self._adjustment(
                state,
                state.commission,
                "commission_reversed",
                f"installment {state.item_id} reopened: its commission is no longer payable",
                cause,
            ),
        ]
        return self._try(writes)

    def _commission_status(self, item_id: str, old: str, new: str, *, paid_guard: bool) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._table,
                "Key": item_key(item_id),
                "UpdateExpression": "SET commission_status = :new",
                "ConditionExpression": "commission_status = :old AND open_amount "
                + ("= :zero" if paid_guard else "> :zero"),
                "ExpressionAttributeValues": {":new": _s(new), ":old": _s(old), ":zero": _n(0)},
            }
        }

    def _try(self, writes: list[dict[str, Any]]) -> bool:
        try:
            transact_write(self._client, writes)
            return True
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                return False
            raise

    # -- reads ---------------------------------------------------------------------------------------------------------
    def account_payables(self, account_id: str) -> list[AttributeMap]:
        request = {
            "TableName": self._table,
            "IndexName": "by_account",
            "KeyConditionExpression": "gsi1pk = :p AND begins_with(gsi1sk, :s)",
            "ExpressionAttributeValues": {":p": _s(account_partition(account_id)), ":s": _s("PAYABLE#")},
        }
        ids = [r["pk"]["S"].removeprefix("PAYABLE#") for r in paginated(self._client.query, request)]
        return list(self.payables(ids).values())

    def accounts_of_owner(self, owner_id: str, *, party: bool) -> list[str]:
        partition = party_partition(owner_id) if party else customer_partition(owner_id)
        request = {
            "TableName": self._table,
            "IndexName": "by_account",
            "KeyConditionExpression": "gsi1pk = :p AND begins_with(gsi1sk, :s)",
            "ExpressionAttributeValues": {":p": _s(partition), ":s": _s("ACCT#")},
        }
        return sorted(r["gsi1sk"]["S"].removeprefix("ACCT#") for r in paginated(self._client.query, request))

    def policy_document(self, policy_id: str) -> PolicyView | None:
        record = self.policy(policy_id)
        if record is None:
            return None
        return policy_view(record, self.items(v["S"] for v in record.get("installment_ids", {}).get("L", [])))

    def account_items(self, account_id: str) -> list[AttributeMap]:
        from receivables.adapters.ledger_table import account_item_entries

        keys = [
            item_key(r["pk"]["S"].removeprefix("ITEM#"))
            for r in account_item_entries(self._client, self._table, account_id)
        ]
        return batch_get(self._client, self._table, keys)

    def party_document(self, party_id: str) -> PartyView | None:
        """A party — or a customer, as kind ``customer`` — with its current accounts."""
        party = self.party_record(party_id)
        customer = None if party is not None else self.customer_record(party_id)
        if party is None and customer is None:
            return None
        account_ids = self.accounts_of_owner(party_id, party=party is not None)
        accounts = {
            r["account_id"]["S"]: r for r in batch_get(self._client, self._table, map(account_key, account_ids))
        }
        views = [
            current_account(accounts[a], self.account_items(a), self.account_payables(a))
            for a in account_ids
            if a in accounts
        ]
        source = party if party is not None else customer
        assert source is not None
        return PartyView(
            party_id=party_id,
            kind=_text(source, "kind") if party is not None else "customer",
            name=source["name"]["S"],
            tax_id=_text(source, "tax_id"),
            iban=_text(source, "iban"),
            city=_text(source, "city"),
            email=_text(source, "email"),
            phone=_text(source, "phone"),
            language=_text(source, "language"),
            commission_plan=_text(source, "commission_plan"),
            billing=_text(source, "billing"),
            accounts=views,
        )

    def statement(self, party_id: str, since: date | None, until: date | None) -> PartyStatement | None:
        """Per current account: the balance before ``since``, every posting from ``since`` to ``until`` (items' and
        payables' own postings included) with the running balance, and the balance after."""
        from receivables.adapters.journal_table import JournalReader, item_posting

        party = self.party_document(party_id)
        if party is None:
            return None
        statements = []
        for account in party.accounts:
            entries = list(JournalReader(self._client, self._table).all(account.account_id))
            entries += [item_posting(r) for r in self.account_items(account.account_id)]
            entries += [payable_posting(r) for r in self.account_payables(account.account_id)]
            entries.sort(key=lambda e: (e.business_date, e.recorded_at, e.entry_id))
            opening = Decimal("0.00")
            balance = Decimal("0.00")
            lines = []
            for entry in entries:
                if until is not None and entry.business_date > until:
                    break
                for posting in entry.postings:
                    balance += posting.amount
                    if since is not None and entry.business_date < since:
                        opening = balance
                        continue
                    lines.append(
                        StatementLine(
                            business_date=entry.business_date,
                            operation=entry.operation,
                            kind=posting.kind.value,
                            target=posting.target,
                            amount=posting.amount,
                            balance=balance,
                            reason=posting.reason,
                            cause=entry.cause.describe(),
                        )
                    )
            statements.append(
                StatementView(
                    party_id=party_id,
                    account_id=account.account_id,
                    currency=account.currency,
                    period_from=since,
                    period_to=until,
                    opening_balance=opening,
                    lines=lines,
                    closing_balance=balance,
                )
            )
        return PartyStatement(party_id=party_id, statements=statements)

    def _get(self, key: AttributeMap, projection: str | None = None) -> AttributeMap | None:
        request: dict[str, Any] = {"TableName": self._table, "Key": key, "ConsistentRead": True}
        if projection:
            request["ProjectionExpression"] = projection
        return self._client.get_item(**request).get("Item")


def policy_view(record: AttributeMap, items: Sequence[AttributeMap]) -> PolicyView:
    components = _money_of(record, "components")
    by_id = {r["item_id"]["S"]: r for r in items}
    installments = []
    commissions = []
    for item_id in (v["S"] for v in record.get("installment_ids", {}).get("L", [])):
        item = by_id.get(item_id)
        if item is None:
            continue
        amount, open_amount = Decimal(item["amount"]["N"]), Decimal(item["open_amount"]["N"])
        no = int(item["installment_no"]["N"])
        installments.append(
            InstallmentView(
                no=no,
                item_id=item_id,
                due_date=date.fromisoformat(item["due_date"]["S"]),
                amount=amount,
                open_amount=open_amount,
                status=installment_status(amount, open_amount, _text(item, "status")),
                components=_money_of(item, "components"),
            )
        )
        if "commission" in item:
            commissions.append(
                CommissionView(
                    policy_id=record["policy_id"]["S"],
                    installment_no=no,
                    item_id=item_id,
                    party_id=item["commission_party"]["S"],
                    amount=Decimal(item["commission"]["N"]),
                    status=item["commission_status"]["S"],
                )
            )
    net = components.get(PREMIUM, Decimal("0.00"))
    levies = {code: amount for code, amount in components.items() if code != PREMIUM}
    cancelled_on = _text(record, "cancelled_on")
    return PolicyView(
        policy_id=record["policy_id"]["S"],
        customer_id=record["customer_id"]["S"],
        branch=record["branch"]["S"],
        status=record["status"]["S"],
        billing=record["billing"]["S"],
        party_id=_text(record, "party_id"),
        account_id=record["account_id"]["S"],
        currency=record["currency"]["S"],
        start_date=date.fromisoformat(record["start_date"]["S"]),
        end_date=date.fromisoformat(record["end_date"]["S"]),
        net_premium=net,
        levies=levies,
        gross_premium=net + sum(levies.values(), Decimal("0.00")),
        cancelled_on=date.fromisoformat(cancelled_on) if cancelled_on else None,
        cancellation_reason=_text(record, "cancellation_reason"),
        installments=sorted(installments, key=lambda i: i.no),
        commissions=sorted(commissions, key=lambda c: c.installment_no),
        notices=[NoticeView.model_validate_json(n["S"]) for n in record.get("notices", {}).get("L", [])],
    )


def current_account(account: AttributeMap, items: Iterable[AttributeMap], payables: Iterable[AttributeMap]):
    receivable = sum((Decimal(r["open_amount"]["N"]) for r in items), Decimal("0.00"))
    payable = sum((Decimal(r["open_amount"]["N"]) for r in payables), Decimal("0.00"))
    credit = Decimal(account.get("unapplied_credit", {}).get("N", "0"))
    return CurrentAccountView(
        account_id=account["account_id"]["S"],
        currency=account["currency"]["S"],
        receivable=receivable,
        payable=payable,
        net=receivable - payable - credit,
        unapplied_credit=credit,
    )


class InsuranceExport:
    """Policies, parties and payables as plain data for STATE.json (a Scan: `simulate` only, docs/dynamodb.md)."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def scan(self, pk_prefix: str, sk: str) -> Iterator[AttributeMap]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": "begins_with(pk, :prefix) AND sk = :sk",
            "ExpressionAttributeValues": {":prefix": _s(pk_prefix), ":sk": _s(sk)},
            "ConsistentRead": True,
        }
        return paginated(self._client.scan, request)
