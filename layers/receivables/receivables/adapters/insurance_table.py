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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from receivables.adapters.attributes import string as _s
from receivables.adapters.attributes import text as _text
from receivables.adapters.attributes import transact_write
from receivables.adapters.dynamodb_batches import AttributeMap, batch_get, paginated
from receivables.adapters.journal_table import entry_record
from receivables.adapters.keys import (
    account_key,
    account_partition,
    collection_partition,
    customer_key,
    customer_partition,
    item_key,
    key,
    party_key,
    party_partition,
    payable_key,
    policy_event_key,
    policy_key,
)
from receivables.domain.journal import Cause, JournalEntry, Posting, PostingKind, Side
from receivables.domain.ledger import ItemKind
from receivables.insurance.agency_bill import Agency
from receivables.insurance.changes import NewPolicyItem, PolicyItem
from receivables.insurance.commissions import CommissionState
from receivables.insurance.parties import Billing, Party, PartyKind
from receivables.insurance.payables import ClaimRecordedError, PayableFacts
from receivables.insurance.policy_changes import CommissionPayable, PolicyFacts
from receivables.insurance.premium import PREMIUM
from receivables.insurance.reinsurance import NewPayable, NewReceivable
from receivables.insurance.reinsurance import StatementLine as ReinsuranceLine
from receivables.insurance.service import (
    INSTALLMENT_KIND,
    EventRecordedError,
    NewPolicy,
    PartyFacts,
    PolicyAlreadyExistsError,
    StoredEvent,
    commission_payable_id,
)
from receivables.insurance.statements import AgencyStatement
from receivables.insurance.statements import StatementLine as AgencyStatementLine
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
from receivables.payments.ports import Attachment


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
        # Parties of a kind, listed without a Scan (the agencies the monthly statements go to).
        "gsi1pk": _s(f"PARTIES#{party.kind.value}"),
        "gsi1sk": _s(party_partition(party.party_id)),
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


# -- policies --------------------------------------------------------------------------------------------------------
def _account_upsert(
    table: str,
    account_id: str,
    owner_id: str,
    owner_is_party: bool,
    currency: str,
    today: date,
    account_type: str | None = None,
):
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
                ":t": _s(account_type or ("agency" if owner_is_party else "policyholder")),
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


def policy_item_record(
    *,
    item_id: str,
    kind: str,
    no: int,
    account_id: str,
    owner_id: str,
    policy_id: str,
    insured_id: str,
    components: dict[str, Decimal],
    due_date: date,
    currency: str,
    on: date,
    recorded_at: str,
    source: str,
    line: int | None,
    description: str,
    branch: str,
    order: int = 0,
) -> AttributeMap:
    """A policy's receivable item (installment, endorsement item, cancellation balance…): an ordinary ``ITEM#``
    record — its own posting — with its policy, number and components."""
    amount = sum(components.values(), Decimal("0.00"))
    due = due_date.isoformat()
    record: AttributeMap = {
        **item_key(item_id),
        "kind": _s(kind),
        "item_id": _s(item_id),
        "account_id": _s(account_id),
        "customer_id": _s(owner_id),
        "policy_id": _s(policy_id),
        "branch": _s(branch),
        "insured_id": _s(insured_id),
        "installment_no": _n(no),
        "components": _money_map(components),
        "issue_date": _s(on.isoformat()),
        "due_date": _s(due),
        "amount": _n(amount),
        "open_amount": _n(amount),
        "currency": _s(currency),
        "source_file": _s(source),
        "loaded_on": _s(on.isoformat()),
        "recorded_at": _s(recorded_at),
        "description": _s(description),
        # Its own posting (item_posted): where it sorts among the account's entries, in installment order.
        "journal_key": _s(f"{on.isoformat()}#{time.time_ns() + order:019d}-item"),
        "gsi1pk": _s(account_partition(account_id)),
        "gsi1sk": _s(f"ITEM#{due}#{item_id}"),
    }
    if line is not None:
        record["source_line"] = _n(line)
    return record


def _with_commission(
    record: AttributeMap, amount: Decimal, status: str, party_id: str, account_id: str
) -> AttributeMap:
    return record | {
        "commission": _n(amount),
        "commission_status": _s(status),
        "commission_party": _s(party_id),
        "commission_account": _s(account_id),
    }


def installment_records(policy: NewPolicy, recorded_at: str) -> list[AttributeMap]:
    records = []
    for n, installment in enumerate(policy.installments):
        record = policy_item_record(
            item_id=installment.item_id,
            kind=INSTALLMENT_KIND,
            no=installment.no,
            account_id=policy.account_id,
            owner_id=policy.payer_id,
            policy_id=policy.policy_id,
            insured_id=policy.customer_id,
            components=installment.components,
            due_date=installment.due_date,
            currency=policy.currency,
            on=policy.issued_on,
            recorded_at=recorded_at,
            source=policy.source.origin,
            line=policy.source.line,
            description=f"{policy.branch} policy {policy.policy_id}, installment {installment.no}",
            branch=policy.branch,
            order=n,
        )
        if policy.party_id and installment.commission:
            status = "payable" if installment.commission_payable else "accrued"
            record = _with_commission(
                record, installment.commission, status, policy.party_id, policy.commission_account_id or ""
            )
        if policy.collected:  # the collection runs find it on its due date (docs/card-collections.md)
            record["gsi2pk"] = _s(collection_partition(installment.due_date, installment.item_id))
            record["gsi2sk"] = _s(f"ITEM#{installment.item_id}")
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
    open_amount: Decimal | None = None,
    status: str = "approved",
    created_by: str | None = None,
    claim_id: str | None = None,
) -> AttributeMap:
    """``status`` open (waiting for approval) | approved | … | paid | cancelled; by status in ``next_action``
    (``PAYABLES#<status>`` / ``<due>#<id>``): the payout run and ``GET /payables?status=`` read only that."""
    record: AttributeMap = {
        **payable_key(payable_id),
        "entity": _s("payable"),
        "payable_id": _s(payable_id),
        "kind": _s(kind),
        "account_id": _s(account_id),
        "party_id": _s(party_id),
        "amount": _n(amount),
        "open_amount": _n(amount if open_amount is None else open_amount),
        "currency": _s(currency),
        "status": _s(status),
        "created_by": _s(created_by or cause.actor or cause.describe()),
        "due_date": _s(due_date.isoformat()),
        "created_on": _s(created_on.isoformat()),
        "recorded_at": _s(recorded_at),
        "cause": _s(cause.model_dump_json(exclude_none=True)),
        "journal_key": _s(f"{created_on.isoformat()}#{time.time_ns():019d}-payable"),
        "gsi1pk": _s(account_partition(account_id)),
        "gsi1sk": _s(f"PAYABLE#{due_date.isoformat()}#{payable_id}"),
        "gsi2pk": _s(payables_partition(status)),
        "gsi2sk": _s(f"{due_date.isoformat()}#{payable_id}"),
    }
    if claim_id:
        record["claim_id"] = _s(claim_id)
    if policy_id:
        record["policy_id"] = _s(policy_id)
    if item_id:
        record["item_id"] = _s(item_id)
    return record


def payable_facts(record: AttributeMap) -> PayableFacts:
    return PayableFacts(
        payable_id=record["payable_id"]["S"],
        kind=record["kind"]["S"],
        account_id=record["account_id"]["S"],
        party_id=record["party_id"]["S"],
        amount=Decimal(record["amount"]["N"]),
        open_amount=Decimal(record["open_amount"]["N"]),
        currency=record["currency"]["S"],
        status=_text(record, "status") or "approved",
        due_date=date.fromisoformat(record["due_date"]["S"]),
        created_by=_text(record, "created_by") or Cause.model_validate_json(record["cause"]["S"]).describe(),
        changed_by=_text(record, "changed_by"),
        approved_by=_text(record, "approved_by"),
        policy_id=_text(record, "policy_id"),
        claim_id=_text(record, "claim_id"),
        offsets=tuple(sorted(_money_of(record, "offsets").items())),
    )


def payables_partition(status: str) -> str:
    return f"PAYABLES#{status}"


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


def policy_facts(record: AttributeMap) -> PolicyFacts:
    cancelled_on = _text(record, "cancelled_on")
    rate = Decimal(record["commission_rate"]["N"]) if "commission_rate" in record else Decimal(0)
    ids = [v["S"] for v in record.get("installment_ids", {}).get("L", [])]
    ids += [v["S"] for v in record.get("extra_item_ids", {}).get("L", [])]
    return PolicyFacts(
        policy_id=record["policy_id"]["S"],
        customer_id=record["customer_id"]["S"],
        branch=record["branch"]["S"],
        status=record["status"]["S"],
        billing=record["billing"]["S"],
        party_id=_text(record, "party_id"),
        payer_id=record["payer_id"]["S"],
        account_id=record["account_id"]["S"],
        currency=record["currency"]["S"],
        start_date=date.fromisoformat(record["start_date"]["S"]),
        end_date=date.fromisoformat(record["end_date"]["S"]),
        components=_money_of(record, "components"),
        item_ids=tuple(ids),
        commission_rate=rate if _text(record, "party_id") else None,
        commission_account_id=_text(record, "commission_account_id"),
        version=int(record.get("version", {}).get("N", "1")),
        cancelled_on=date.fromisoformat(cancelled_on) if cancelled_on else None,
        cancellation_reason=_text(record, "cancellation_reason"),
        overdue_at_cancellation=Decimal(record.get("overdue_at_cancellation", {}).get("N", "0")),
        notices=tuple(json.loads(n["S"]) for n in record.get("notices", {}).get("L", [])),
        cancellation=json.loads(record["cancellation"]["S"]) if "cancellation" in record else {},
    )


def policy_item(record: AttributeMap) -> PolicyItem:
    return PolicyItem(
        item_id=record["item_id"]["S"],
        no=int(record.get("installment_no", {}).get("N", "0")),
        kind=record.get("kind", {}).get("S", "invoice"),
        due_date=date.fromisoformat(record["due_date"]["S"]),
        amount=Decimal(record["amount"]["N"]),
        open_amount=Decimal(record["open_amount"]["N"]),
        components=_money_of(record, "components"),
        status=_text(record, "status") or "open",
        commission=Decimal(record["commission"]["N"]) if "commission" in record else Decimal("0.00"),
        commission_status=_text(record, "commission_status"),
        cancelled_open=Decimal(record.get("cancelled_open", {}).get("N", "0")),
    )


@dataclass(frozen=True, slots=True)
class TableWrites:
    """Writes of a step on records other than the account's (an Attachment of payments/ports.py)."""

    writes: tuple[dict[str, Any], ...]

    def transaction_items(self, table: str) -> list[dict[str, Any]]:
        return [{op: {**body, "TableName": table}} for write in self.writes for op, body in write.items()]


def _put_new(record: AttributeMap) -> TableWrites:
    return TableWrites(({"Put": {"Item": record, "ConditionExpression": "attribute_not_exists(pk)"}},))


def _value(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return _s(value)
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (Decimal, int)):
        return _n(value)
    if isinstance(value, dict) and all(isinstance(v, Decimal) for v in value.values()):
        return _money_map(value)
    return _s(json.dumps(value, default=str, ensure_ascii=False, sort_keys=True))


class PolicyTableWrites:
    """The records a policy change writes beside the account's (the PolicyWrites of insurance/policy_changes.py)."""

    # Changes that append to a list attribute of the policy, by the list they append to.
    LISTS: ClassVar[dict[str, str]] = {
        "endorsement": "endorsements",
        "new_items": "extra_item_ids",
        "notice": "notices",
        "history": "history",
    }

    def __init__(self, clock: Any) -> None:
        self._clock = clock

    def event_record(
        self, event_id: str, kind: str, policy_id: str, content: str, raw: Mapping[str, Any], source: str, on: date
    ) -> TableWrites:
        return _put_new(
            {
                **policy_event_key(event_id),
                "entity": _s("policy_event"),
                "event_id": _s(event_id),
                "type": _s(kind),
                "policy_id": _s(policy_id),
                "content": _s(content),
                "raw": _s(json.dumps(dict(raw), default=str, ensure_ascii=False, sort_keys=True)),
                "applied_on": _s(on.isoformat()),
                "source": _s(source),
            }
        )

    def policy_update(self, facts: PolicyFacts, changes: Mapping[str, Any]) -> TableWrites:
        """Set what changed on the policy (list entries appended), only if nobody changed it since it was read."""
        sets = ["version = :next"]
        names: dict[str, str] = {}
        values: dict[str, Any] = {":next": _n(facts.version + 1), ":current": _n(facts.version)}
        for n, (name, value) in enumerate(sorted(changes.items())):
            if name in self.LISTS:
                entries = value if isinstance(value, list) else [value]
                if not entries:
                    continue
                names[f"#l{n}"] = self.LISTS[name]
                values[":none"] = {"L": []}
                values[f":l{n}"] = {"L": [_s(e) if isinstance(e, str) else _value(e) for e in entries]}
                sets.append(f"#l{n} = list_append(if_not_exists(#l{n}, :none), :l{n})")
            else:
                names[f"#a{n}"] = name
                values[f":a{n}"] = _value(value)
                sets.append(f"#a{n} = :a{n}")
        return TableWrites(
            (
                {
                    "Update": {
                        "Key": policy_key(facts.policy_id),
                        "UpdateExpression": "SET " + ", ".join(sets),
                        "ConditionExpression": "version = :current",
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": values,
                    }
                },
            )
        )

    def new_item(
        self, facts: PolicyFacts, item: NewPolicyItem, source: str, on: date, account_id: str | None = None
    ) -> TableWrites:
        owner_account = account_id or facts.account_id
        record = policy_item_record(
            item_id=item.item_id,
            kind=item.kind,
            no=0,
            account_id=owner_account,
            owner_id=facts.party_id if account_id and facts.party_id else facts.payer_id,
            policy_id=facts.policy_id,
            insured_id=facts.customer_id,
            components=item.components,
            due_date=item.due_date,
            currency=facts.currency,
            on=on,
            recorded_at=self._clock.now().isoformat(),
            source=source,
            line=None,
            description=f"{item.kind.replace('_', ' ')} of {facts.branch} policy {facts.policy_id}",
            branch=facts.branch,
        )
        if item.commission > 0 and facts.party_id and facts.commission_account_id:
            record = _with_commission(record, item.commission, "accrued", facts.party_id, facts.commission_account_id)
        return _put_new(record)

    def payable(
        self,
        payable_id: str,
        *,
        kind: str,
        account_id: str,
        party_id: str,
        amount: Decimal,
        currency: str,
        due_date: date,
        cause: Cause,
        policy_id: str,
        item_id: str | None = None,
    ) -> TableWrites:
        return _put_new(
            payable_record(
                payable_id,
                kind=kind,
                account_id=account_id,
                party_id=party_id,
                amount=amount,
                currency=currency,
                due_date=due_date,
                created_on=self._clock.today(),
                recorded_at=self._clock.now().isoformat(),
                cause=cause,
                policy_id=policy_id,
                item_id=item_id,
            )
        )

    def payable_adjusted(self, payable_id: str, old_open: Decimal, new_open: Decimal, status: str) -> TableWrites:
        return TableWrites(
            (
                {
                    "Update": {
                        "Key": payable_key(payable_id),
                        "UpdateExpression": "SET open_amount = :new, #s = :s, gsi2pk = :g",
                        "ConditionExpression": "open_amount = :old",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {
                            ":new": _n(new_open),
                            ":old": _n(old_open),
                            ":s": _s(status),
                            ":g": _s(payables_partition(status)),
                        },
                    }
                },
            )
        )

    def entry(self, entry: JournalEntry) -> TableWrites:
        return TableWrites(({"Put": {"Item": entry_record(entry), "ConditionExpression": "attribute_not_exists(pk)"}},))

    # -- claims' payables (the ClaimWrites of insurance/payables.py) ----------------------------------------------
    def claim_payable(
        self,
        payable_id: str,
        *,
        kind: str,
        account_id: str,
        party_id: str,
        party_is_customer: bool,
        amount: Decimal,
        open_amount: Decimal,
        status: str,
        currency: str,
        due_date: date,
        cause: Cause,
        policy_id: str,
        claim_id: str,
        offsets: Sequence[tuple[str, Decimal]] = (),
        open_account: bool = True,
    ) -> TableWrites:
        today = self._clock.today()
        record = payable_record(
            payable_id,
            kind=kind,
            account_id=account_id,
            party_id=party_id,
            amount=amount,
            currency=currency,
            due_date=due_date,
            created_on=today,
            recorded_at=self._clock.now().isoformat(),
            cause=cause,
            policy_id=policy_id,
            open_amount=open_amount,
            status=status,
            claim_id=claim_id,
        )
        if offsets:
            record["offsets"] = _money_map(dict(offsets))
            record["settled_by"] = _s("offset") if open_amount == 0 else _s("offset_and_transfer")
        writes: list[dict[str, Any]] = []
        if open_account:
            writes.append(_account_upsert("", account_id, party_id, not party_is_customer, currency, today))
        writes.append({"Put": {"Item": record, "ConditionExpression": "attribute_not_exists(pk)"}})
        return TableWrites(tuple(writes))

    def reinsurance_records(
        self,
        *,
        account_id: str,
        reinsurer: str,
        currency: str,
        cause: Cause,
        receivables: Sequence[NewReceivable],
        payables: Sequence[NewPayable],
        settlement: bool = False,
    ) -> TableWrites:
        today = self._clock.today()
        writes: list[dict[str, Any]] = [
            _account_upsert("", account_id, reinsurer, True, currency, today, account_type="reinsurance")
        ]
        for n, receivable in enumerate(receivables):
            record = policy_item_record(
                item_id=receivable.item_id,
                kind=receivable.kind.value,
                no=0,
                account_id=account_id,
                owner_id=reinsurer,
                policy_id=receivable.policy_id or "",
                insured_id="",
                components={receivable.kind.value: receivable.amount},
                due_date=receivable.due_date,
                currency=currency,
                on=today,
                recorded_at=self._clock.now().isoformat(),
                source=cause.describe(),
                line=None,
                description=receivable.description,
                branch="",
                order=n,
            )
            for name in ("policy_id", "insured_id", "branch", "installment_no"):
                if name != "policy_id" or not receivable.policy_id:
                    record.pop(name, None)
            for name, value in (("claim_id", receivable.claim_id), ("period", receivable.period)):
                if value:
                    record[name] = _s(value)
            writes.append({"Put": {"Item": record, "ConditionExpression": "attribute_not_exists(pk)"}})
        for payable in payables:
            record = payable_record(
                payable.payable_id,
                kind="reinsurance",
                account_id=account_id,
                party_id=reinsurer,
                amount=payable.amount,
                currency=currency,
                due_date=payable.due_date,
                created_on=today,
                recorded_at=self._clock.now().isoformat(),
                cause=cause,
                policy_id=payable.policy_id,
                status=payable.status,
                claim_id=payable.claim_id,
            )
            if payable.period:
                record["period"] = _s(payable.period)
            if settlement:
                record["settlement"] = {"BOOL": True}
            writes.append({"Put": {"Item": record, "ConditionExpression": "attribute_not_exists(pk)"}})
        return TableWrites(tuple(writes))

    def payable_settled(self, payable: PayableFacts, open_after: Decimal, status: str, cause: Cause) -> TableWrites:
        return TableWrites(
            (
                {
                    "Update": {
                        "Key": payable_key(payable.payable_id),
                        "UpdateExpression": "SET open_amount = :open, #s = :s, gsi2pk = :g, changed_by = :by",
                        "ConditionExpression": "open_amount = :old AND #s = :was",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {
                            ":open": _n(open_after),
                            ":old": _n(payable.open_amount),
                            ":s": _s(status),
                            ":was": _s(payable.status),
                            ":g": _s(payables_partition(status)),
                            ":by": _s(cause.actor or cause.describe()),
                        },
                    }
                },
            )
        )

    def payable_approved(self, payable: PayableFacts, actor: str, entry: JournalEntry) -> TableWrites:
        return TableWrites(
            (
                {
                    "Update": {
                        "Key": payable_key(payable.payable_id),
                        "UpdateExpression": "SET #s = :approved, gsi2pk = :g, approved_by = :by, approved_at = :at",
                        "ConditionExpression": "#s = :was",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {
                            ":approved": _s("approved"),
                            ":was": _s(payable.status),
                            ":g": _s(payables_partition("approved")),
                            ":by": _s(actor),
                            ":at": _s(entry.recorded_at.isoformat()),
                        },
                    }
                },
                *self.entry(entry).writes,
            )
        )


def statement_record(statement: AgencyStatement) -> AttributeMap:
    return {
        **key(f"STMT#{statement.statement_id}", "STATEMENT"),
        "entity": _s("agency_statement"),
        "statement_id": _s(statement.statement_id),
        "party_id": _s(statement.party_id),
        "account_id": _s(statement.account_id),
        "currency": _s(statement.currency),
        "period": _s(statement.period),
        "issued_on": _s(statement.issued_on.isoformat()),
        "lines": _s(
            json.dumps(
                [
                    {
                        "item_id": line.item_id,
                        "policy_id": line.policy_id,
                        "no": line.no,
                        "due_date": line.due_date.isoformat(),
                        "gross": str(line.gross),
                        "commission": str(line.commission),
                    }
                    for line in statement.lines
                ]
            )
        ),
        "gross": _n(statement.gross),
        "commission": _n(statement.commission),
        "net_due": _n(statement.net_due),
        "status": _s("issued"),
        "gsi1pk": _s(account_partition(statement.account_id)),
        "gsi1sk": _s(f"STMT#{statement.period}#{statement.statement_id}"),
    }


def statement_from_record(record: AttributeMap) -> AgencyStatement:
    return AgencyStatement(
        statement_id=record["statement_id"]["S"],
        party_id=record["party_id"]["S"],
        account_id=record["account_id"]["S"],
        currency=record["currency"]["S"],
        period=record["period"]["S"],
        issued_on=date.fromisoformat(record["issued_on"]["S"]),
        lines=tuple(
            AgencyStatementLine(
                item_id=line["item_id"],
                policy_id=line["policy_id"],
                no=int(line["no"]),
                due_date=date.fromisoformat(line["due_date"]),
                gross=Decimal(line["gross"]),
                commission=Decimal(line["commission"]),
            )
            for line in json.loads(record["lines"]["S"])
        ),
    )


class AgencyTableWrites:
    """The records agency bill writes beside the agency's account (the AgencyWrites of insurance/agency_bill.py)."""

    def statement(self, statement: AgencyStatement) -> TableWrites:
        return _put_new(statement_record(statement))

    def statement_status(self, statement: AgencyStatement, status: str, difference: Decimal) -> TableWrites:
        return TableWrites(
            (
                {
                    "Update": {
                        "Key": key(f"STMT#{statement.statement_id}", "STATEMENT"),
                        "UpdateExpression": "SET #s = :s, difference = :d",
                        "ConditionExpression": "#s = :issued",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {
                            ":s": _s(status),
                            ":d": _n(difference),
                            ":issued": _s("issued"),
                        },
                    }
                },
            )
        )

    def exception(self, statement: AgencyStatement, amount: Decimal, reason: str, on: date) -> TableWrites:
        exception_id = f"EX-{statement.statement_id}"
        return _put_new(
            {
                **key(f"EXC#{exception_id}", "EXCEPTION"),
                "entity": _s("exception"),
                "exception_id": _s(exception_id),
                "party_id": _s(statement.party_id),
                "account_id": _s(statement.account_id),
                "statement_id": _s(statement.statement_id),
                "amount": _n(amount),
                "currency": _s(statement.currency),
                "reason": _s(reason),
                "raised_on": _s(on.isoformat()),
                "status": _s("open"),
                "gsi1pk": _s("EXCEPTIONS#open"),
                "gsi1sk": _s(f"{on.isoformat()}#{exception_id}"),
            }
        )


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

    def collects_from(self, customer_id: str) -> bool:
        record = self._get(customer_key(customer_id), projection="mandate_id, autopay_method")
        return record is not None and ("mandate_id" in record or "autopay_method" in record)

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
        entries = self._by_account(customer_partition(customer_id), "POLICY#")
        return sorted(r["gsi1sk"]["S"].removeprefix("POLICY#") for r in entries)

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

    # -- agency bill (the AgencyStore of insurance/agency_bill.py) -----------------------------------------------
    def agencies(self) -> list[Agency]:
        entries = self._by_account("PARTIES#agency")
        ids = [r["pk"]["S"].removeprefix("PARTY#") for r in entries]
        agencies = []
        for record in batch_get(self._client, self._table, [party_key(p) for p in ids]):
            party_id = record["party_id"]["S"]
            agencies.append(
                Agency(
                    party_id=party_id,
                    name=record["name"]["S"],
                    email=_text(record, "email"),
                    language=_text(record, "language") or "tr",
                    account_ids=tuple(self.accounts_of_owner(party_id, party=True)),
                )
            )
        return sorted(agencies, key=lambda a: a.party_id)

    def account_policy_items(self, account_id: str) -> list[tuple[str, PolicyItem]]:
        return [(r["policy_id"]["S"], policy_item(r)) for r in self.account_items(account_id) if "policy_id" in r]

    def account_currency(self, account_id: str) -> str:
        record = self._get(account_key(account_id), projection="currency")
        assert record is not None, f"account {account_id} not found"
        return record["currency"]["S"]

    def statement_exists(self, statement_id: str) -> bool:
        return self._get(key(f"STMT#{statement_id}", "STATEMENT"), projection="statement_id") is not None

    def agency_statement(self, statement_id: str) -> AgencyStatement | None:
        record = self._get(key(f"STMT#{statement_id}", "STATEMENT"))
        return statement_from_record(record) if record else None

    def open_statements(self, account_id: str) -> list[AgencyStatement]:
        entries = self._by_account(account_partition(account_id), "STMT#")
        keys = [{"pk": r["pk"], "sk": _s("STATEMENT")} for r in entries]
        found = batch_get(self._client, self._table, keys) if keys else []
        return sorted(
            (statement_from_record(r) for r in found if r["status"]["S"] == "issued"), key=lambda s: s.statement_id
        )

    def exceptions(self, status: str = "open") -> list[dict[str, Any]]:
        entries = self._by_account(f"EXCEPTIONS#{status}")
        keys = [{"pk": r["pk"], "sk": _s("EXCEPTION")} for r in entries]
        return [exception_view(r) for r in (batch_get(self._client, self._table, keys) if keys else [])]

    def exception(self, exception_id: str) -> dict[str, Any] | None:
        record = self._get(key(f"EXC#{exception_id}", "EXCEPTION"))
        return exception_view(record) if record else None

    def resolve_exception(self, exception_id: str, *, resolution: str, note: str, actor: str) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=key(f"EXC#{exception_id}", "EXCEPTION"),
                UpdateExpression="SET #s = :resolved, resolution = :r, note = :n, resolved_by = :a, "
                "resolved_on = :d, gsi1pk = :p",
                ConditionExpression="#s = :open",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":resolved": _s("resolved"),
                    ":r": _s(resolution),
                    ":n": _s(note),
                    ":a": _s(actor),
                    ":d": _s(self._clock.today().isoformat()),
                    ":p": _s("EXCEPTIONS#resolved"),
                    ":open": _s("open"),
                },
            )
            return True
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise

    # -- policy changes (the PolicyChangeStore of endorsements, cancellations and reinstatements) ----------------
    def event_recorded(self, event_id: str) -> bool:
        return self._get(policy_event_key(event_id), projection="event_id") is not None

    def policy_facts(self, policy_id: str) -> PolicyFacts | None:
        record = self.policy(policy_id)
        return policy_facts(record) if record is not None else None

    def policy_items(self, facts: PolicyFacts) -> list[PolicyItem]:
        return [policy_item(r) for r in self.items(facts.item_ids)]

    def clawed_back_payables(self, facts: PolicyFacts) -> list[CommissionPayable]:
        found = self._commission_payables(facts, lambda item: "commission" in item)
        return [p for p in found if p.open_amount < p.amount and p.status != "paid"]

    def _commission_payables(
        self, facts: PolicyFacts, of_item: Callable[[AttributeMap], bool]
    ) -> list[CommissionPayable]:
        items = [r for r in self.items(facts.item_ids) if of_item(r)]
        payables = self.payables(commission_payable_id(r["item_id"]["S"]) for r in items)
        return [
            CommissionPayable(
                payable_id=p["payable_id"]["S"],
                item_id=p["item_id"]["S"],
                open_amount=Decimal(p["open_amount"]["N"]),
                amount=Decimal(p["amount"]["N"]),
                status=_text(p, "status") or "approved",
            )
            for p in payables.values()
        ]

    def payable_open(self, payable_id: str) -> tuple[Decimal, Decimal] | None:
        record = self._get(payable_key(payable_id), projection="amount, open_amount")
        return (Decimal(record["amount"]["N"]), Decimal(record["open_amount"]["N"])) if record else None

    def write_alone(self, attachment: Attachment) -> None:
        transact_write(self._client, attachment.transaction_items(self._table))

    # -- claims' payables (the ClaimStore of insurance/payables.py) ----------------------------------------------
    def write_new(self, attachment: Attachment) -> None:
        try:
            transact_write(self._client, attachment.transaction_items(self._table))
        except ClientError as error:
            reasons = error.response.get("CancellationReasons") or []
            if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
                raise ClaimRecordedError(str(error)) from error
            raise

    def parties_of_kind(self, kind: str) -> list[str]:
        return sorted(r["gsi1sk"]["S"].removeprefix("PARTY#") for r in self._by_account(f"PARTIES#{kind}"))

    def payable_facts(self, payable_id: str) -> PayableFacts | None:
        record = self._get(payable_key(payable_id))
        return payable_facts(record) if record is not None else None

    def payables_by_status(self, status: str) -> list[PayableFacts]:
        """``GET /payables?status=``: the ``next_action`` index's ``PAYABLES#<status>`` partition, due date order."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "next_action",
            "KeyConditionExpression": "gsi2pk = :p",
            "ExpressionAttributeValues": {":p": _s(payables_partition(status))},
        }
        keys = [{"pk": r["pk"], "sk": r["sk"]} for r in paginated(self._client.query, request)]
        found = batch_get(self._client, self._table, keys) if keys else []
        return sorted(map(payable_facts, found), key=lambda p: (p.due_date, p.payable_id))

    def current_accounts(self, owner_id: str) -> list[str]:
        return self.accounts_of_owner(owner_id, party=True) or self.accounts_of_owner(owner_id, party=False)

    def payables_on_account(self, account_id: str) -> list[PayableFacts]:
        return sorted(map(payable_facts, self.account_payables(account_id)), key=lambda p: (p.due_date, p.payable_id))

    def payables_of_party(self, owner_id: str) -> list[PayableFacts] | None:
        """Every payable on the current accounts of a party (or a customer); None when it has no account."""
        accounts = self.accounts_of_owner(owner_id, party=True) or self.accounts_of_owner(owner_id, party=False)
        if not accounts:
            return None
        found = [payable_facts(r) for a in accounts for r in self.account_payables(a)]
        return sorted(found, key=lambda p: (p.due_date, p.payable_id))

    def policies_of_items(self, item_ids: list[str]) -> dict[str, str]:
        found = batch_get(self._client, self._table, [item_key(i) for i in item_ids], projection="item_id, policy_id")
        return {r["item_id"]["S"]: r["policy_id"]["S"] for r in found if "policy_id" in r}

    def holds_policies(self, account_id: str) -> bool:
        record = self._get(account_key(account_id), projection="owner_kind")
        return record is not None and "owner_kind" in record

    def policies_of_account(self, account_id: str) -> list[str]:
        return sorted({r["policy_id"]["S"] for r in self.account_items(account_id) if "policy_id" in r})

    def commission_payables(self, facts: PolicyFacts) -> list[CommissionPayable]:
        return self._commission_payables(facts, lambda item: _text(item, "commission_status") == "payable")

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
                        "UpdateExpression": "SET open_amount = :a, #s = :open, gsi2pk = :g",
                        "ConditionExpression": "open_amount = :zero",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {
                            ":a": _n(state.commission),
                            ":open": _s("approved"),
                            ":g": _s(payables_partition("approved")),
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
                    "UpdateExpression": "SET open_amount = :zero, #s = :cancelled, gsi2pk = :g",
                    "ConditionExpression": "open_amount = :a",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {
                        ":a": _n(state.commission),
                        ":zero": _n(0),
                        ":cancelled": _s("cancelled"),
                        ":g": _s(payables_partition("cancelled")),
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
    def reinsurance_lines(self, account_id: str) -> list[ReinsuranceLine]:
        """Every reinsurance receivable and payable of a reinsurer's account, signed (+ it owes us)."""
        lines = [
            ReinsuranceLine(
                line_id=r["item_id"]["S"],
                kind=r["kind"]["S"],
                booked_on=date.fromisoformat(r["issue_date"]["S"]),
                amount=Decimal(r["amount"]["N"]),
                open_amount=Decimal(r["open_amount"]["N"]),
                policy_id=_text(r, "policy_id"),
                claim_id=_text(r, "claim_id"),
                period=_text(r, "period"),
            )
            for r in self.account_items(account_id)
            if _text(r, "kind") in (ItemKind.REINSURANCE_COMMISSION.value, ItemKind.CLAIM_RECOVERY.value)
        ]
        lines += [
            ReinsuranceLine(
                line_id=r["payable_id"]["S"],
                kind="settlement" if "settlement" in r else "ceded_premium",
                booked_on=date.fromisoformat(r["created_on"]["S"]),
                amount=-Decimal(r["amount"]["N"]),
                open_amount=-Decimal(r["open_amount"]["N"]),
                policy_id=_text(r, "policy_id"),
                period=_text(r, "period"),
            )
            for r in self.account_payables(account_id)
            if r["kind"]["S"] == "reinsurance"
        ]
        return lines

    def account_payables(self, account_id: str) -> list[AttributeMap]:
        entries = self._by_account(account_partition(account_id), "PAYABLE#")
        ids = [r["pk"]["S"].removeprefix("PAYABLE#") for r in entries]
        return list(self.payables(ids).values())

    def accounts_of_owner(self, owner_id: str, *, party: bool) -> list[str]:
        partition = party_partition(owner_id) if party else customer_partition(owner_id)
        entries = self._by_account(partition, "ACCT#")
        return sorted(r["gsi1sk"]["S"].removeprefix("ACCT#") for r in entries)

    def policy_document(self, policy_id: str) -> PolicyView | None:
        record = self.policy(policy_id)
        if record is None:
            return None
        facts = policy_facts(record)
        return policy_view(record, self.items(facts.item_ids), as_of=self._clock.today())

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

    def _by_account(self, partition: str, prefix: str | None = None) -> Iterator[AttributeMap]:
        """The keys ``by_account`` holds under ``partition`` (those whose sort key starts with ``prefix``)."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "by_account",
            "KeyConditionExpression": "gsi1pk = :p" + (" AND begins_with(gsi1sk, :s)" if prefix else ""),
            "ExpressionAttributeValues": {":p": _s(partition), **({":s": _s(prefix)} if prefix else {})},
        }
        return paginated(self._client.query, request)

    def _get(self, key: AttributeMap, projection: str | None = None) -> AttributeMap | None:
        request: dict[str, Any] = {"TableName": self._table, "Key": key, "ConsistentRead": True}
        if projection:
            request["ProjectionExpression"] = projection
        return self._client.get_item(**request).get("Item")


def policy_view(record: AttributeMap, items: Sequence[AttributeMap], *, as_of: date | None = None) -> PolicyView:
    """The policy as it stands on ``as_of`` (a policy in force past its end date reads ``expired``)."""
    components = _money_of(record, "components")
    by_id = {r["item_id"]["S"]: r for r in items}
    installments: list[InstallmentView] = []
    others: list[InstallmentView] = []
    commissions = []
    ids = [v["S"] for v in record.get("installment_ids", {}).get("L", [])]
    ids += [v["S"] for v in record.get("extra_item_ids", {}).get("L", [])]
    for item_id in ids:
        item = by_id.get(item_id)
        if item is None:
            continue
        amount, open_amount = Decimal(item["amount"]["N"]), Decimal(item["open_amount"]["N"])
        no = int(item["installment_no"]["N"])
        # The plan's installments and an endorsement billed on its own are what the payer owes by installment;
        # a cancellation balance (or a commission clawback on the channel) is listed with the policy's other items.
        billed = _text(item, "kind") in (INSTALLMENT_KIND, "endorsement")
        (installments if billed else others).append(
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
        status=_status_on(record, as_of),
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
        installments=sorted(installments, key=lambda i: (i.no == 0, i.due_date, i.item_id)),
        items=sorted(others, key=lambda i: (i.due_date, i.item_id)),
        cancellation=json.loads(record["cancellation"]["S"]) if "cancellation" in record else None,
        commissions=sorted(commissions, key=lambda c: c.installment_no),
        notices=[NoticeView.model_validate_json(n["S"]) for n in record.get("notices", {}).get("L", [])],
    )


def _status_on(record: AttributeMap, as_of: date | None) -> str:
    status = record["status"]["S"]
    if status in ("active", "reinstated") and as_of is not None and as_of > date.fromisoformat(record["end_date"]["S"]):
        return "expired"
    return status


def exception_view(record: AttributeMap) -> dict[str, Any]:
    return {
        "exception_id": record["exception_id"]["S"],
        "party_id": record["party_id"]["S"],
        "account_id": record["account_id"]["S"],
        "statement_id": _text(record, "statement_id"),
        "amount": Decimal(record["amount"]["N"]),
        "currency": record["currency"]["S"],
        "reason": record["reason"]["S"],
        "raised_on": record["raised_on"]["S"],
        "status": record["status"]["S"],
        "resolution": _text(record, "resolution"),
        "resolved_by": _text(record, "resolved_by"),
    }


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
        from receivables.adapters.ledger_table import scan_entities  # ledger_table imports this module

        return scan_entities(self._client, self._table, pk_prefix, sk)
