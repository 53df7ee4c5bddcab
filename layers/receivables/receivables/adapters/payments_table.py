"""Payments in the ledger table: an account's money loaded as an AccountLedger, and one operation's result written
back in one transaction guarded by the account's version (docs/payments.md).

Records: ``PAY#<payment_id>`` (the payment, its allocations with reasons: the append-only log of where its money
went), ``REF#<bank_id>#<reference>`` (end-to-end id or bank reference → payment, for reversals), and on the account
record ``version`` and ``credit_payments`` (payment id → unapplied amount).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from botocore.exceptions import ClientError

from receivables.adapters.dynamodb_batches import AttributeMap, batch_get, paginated
from receivables.adapters.ledger_table import account_item_entries, account_key, item_key
from receivables.domain.iban import normalise_iban
from receivables.domain.money import ZERO, format_money
from receivables.domain.text import fold
from receivables.dunning.records import HoldRecord
from receivables.payments.account_ledger import AccountLedger, ItemState, PaymentState
from receivables.payments.allocation import FIFO, AllocationPolicy
from receivables.payments.matching import AccountRef, ItemRef
from receivables.payments.ports import ConcurrentUpdateError, LoadedAccount, PaymentFacts

POLICY_KEY = {"pk": {"S": "CONFIG#allocation"}, "sk": {"S": "CURRENT"}}
_POLICY_PREFIX = "policy:"


class PolicySource(Protocol):
    def policy_for(self, account_type: str) -> AllocationPolicy: ...


class DefaultPolicies:
    def policy_for(self, account_type: str) -> AllocationPolicy:
        return FIFO


class AllocationPolicyTable:
    """Allocation policies per account type, stored as configuration (``CONFIG#allocation``); FIFO for a type with
    none. Read at most once a minute per warm function, so a change through the API applies within a minute."""

    TTL_SECONDS = 60.0

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name
        self._cached: tuple[float, dict[str, AllocationPolicy], int] | None = None

    def policies(self) -> tuple[dict[str, AllocationPolicy], int]:
        if self._cached is None or time.monotonic() - self._cached[0] > self.TTL_SECONDS:
            record = self._client.get_item(TableName=self._table, Key=POLICY_KEY, ConsistentRead=True).get("Item")
            policies = {
                name.removeprefix(_POLICY_PREFIX): AllocationPolicy.model_validate_json(value["S"])
                for name, value in (record or {}).items()
                if name.startswith(_POLICY_PREFIX)
            }
            version = int(record["version"]["N"]) if record else 0
            self._cached = (time.monotonic(), policies, version)
        return self._cached[1], self._cached[2]

    def policy_for(self, account_type: str) -> AllocationPolicy:
        return self.policies()[0].get(account_type, FIFO)

    def put(self, account_type: str, policy: AllocationPolicy) -> int:
        """Set the policy of one account type; the configuration's version goes up by one."""
        _, version = self.policies()
        self._cached = None
        try:
            # One attribute per account type, so one conditional update sets a policy and the version together.
            self._client.update_item(
                TableName=self._table,
                Key=POLICY_KEY,
                UpdateExpression="SET #policy = :policy, version = :next",
                ConditionExpression="attribute_not_exists(version) OR version = :read",
                ExpressionAttributeNames={"#policy": _POLICY_PREFIX + account_type},
                ExpressionAttributeValues={
                    ":policy": {"S": policy.model_dump_json()},
                    ":next": {"N": str(version + 1)},
                    ":read": {"N": str(version)},
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ConcurrentUpdateError("allocation policies changed meanwhile; read them again") from error
            raise
        return version + 1


def payment_key(payment_id: str) -> AttributeMap:
    return {"pk": {"S": f"PAY#{payment_id}"}, "sk": {"S": "PAYMENT"}}


def reference_key(bank_id: str, reference: str) -> AttributeMap:
    return {"pk": {"S": f"REF#{bank_id}#{fold(reference)}"}, "sk": {"S": "PAYMENT"}}


def _n(value: Decimal) -> dict[str, str]:
    return {"N": format_money(value)}


def _snapshot(payment: PaymentState) -> tuple[tuple[tuple[str, Decimal], ...], Decimal, bool, bool]:
    return tuple(sorted(payment.allocations.items())), payment.unapplied, payment.reversed, payment.held


def _held(account: AttributeMap, on: date) -> tuple[set[str], set[str]]:
    """Items and subscriptions under a hold in force on ``on`` (dunning's mirror on the account record, judged by
    dunning's one rule, ``HoldRecord.active_on``): allocation policies with the ``not_held`` filter leave their money
    alone."""
    items, subscriptions = set(), set()
    for value in account.get("holds", {}).get("M", {}).values():
        hold = HoldRecord.model_validate_json(value["S"])
        if not hold.active_on(on):
            continue
        if hold.level == "item":
            items.add(hold.target_id)
        elif hold.level == "subscription":
            subscriptions.add(hold.target_id)
    return items, subscriptions


class PaymentsTable:
    def __init__(self, client: Any, table_name: str, *, policies: PolicySource | None = None) -> None:
        self._client = client
        self._table = table_name
        self._policies = policies or DefaultPolicies()

    # -- reads ---------------------------------------------------------------------------------------------------
    def payment_exists(self, payment_id: str) -> bool:
        response = self._client.get_item(TableName=self._table, Key=payment_key(payment_id), ProjectionExpression="pk")
        return "Item" in response

    def payment_by_reference(self, bank_id: str, reference: str) -> dict[str, Any] | None:
        """The payment a reversal refers to, by its end-to-end id or bank reference."""
        pointer = self._client.get_item(TableName=self._table, Key=reference_key(bank_id, reference)).get("Item")
        if pointer is None:
            return None
        return self._client.get_item(
            TableName=self._table, Key=payment_key(pointer["payment_id"]["S"]), ConsistentRead=True
        ).get("Item")

    def get_payment(self, payment_id: str) -> dict[str, Any] | None:
        return self._client.get_item(TableName=self._table, Key=payment_key(payment_id), ConsistentRead=True).get(
            "Item"
        )

    def suspense(self, limit: int) -> list[dict[str, Any]]:
        """Payments waiting for a person, oldest first (a sparse partition of the next-action index)."""
        response = self._client.query(
            TableName=self._table,
            IndexName="next_action",
            KeyConditionExpression="gsi2pk = :s",
            ExpressionAttributeValues={":s": {"S": "SUSPENSE"}},
            Limit=limit,
        )
        keys = [{"pk": r["pk"], "sk": r["sk"]} for r in response.get("Items", [])]
        found = {r["payment_id"]["S"]: r for r in batch_get(self._client, self._table, keys)}
        return [found[k["pk"]["S"].removeprefix("PAY#")] for k in keys if k["pk"]["S"].removeprefix("PAY#") in found]

    def load(self, account_id: str, *, on: date, include_payments: Iterable[str] = ()) -> LoadedAccount | None:
        """The account's money; ``on``: the business date whose holds count (the ``not_held`` filter)."""
        account = self._client.get_item(TableName=self._table, Key=account_key(account_id), ConsistentRead=True).get(
            "Item"
        )
        if account is None:
            return None
        item_keys = [
            item_key(r["pk"]["S"].removeprefix("ITEM#"))
            for r in account_item_entries(self._client, self._table, account_id)
        ]
        held_items, held_subscriptions = _held(account, on)
        items = [
            ItemState(
                item_id=r["item_id"]["S"],
                kind=r.get("kind", {}).get("S", "invoice"),
                issue_date=date.fromisoformat(r["issue_date"]["S"]),
                due_date=date.fromisoformat(r["due_date"]["S"]),
                amount=Decimal(r["amount"]["N"]),
                open_amount=Decimal(r["open_amount"]["N"]),
                currency=r["currency"]["S"],
                held=r["item_id"]["S"] in held_items or r.get("subscription_id", {}).get("S") in held_subscriptions,
            )
            for r in batch_get(self._client, self._table, item_keys)
        ]
        credit = account.get("credit_payments", {}).get("M", {})
        wanted = [payment_key(p) for p in {*credit, *include_payments}]
        stored = batch_get(self._client, self._table, wanted) if wanted else []
        payments, facts = [], {}
        for record in stored:
            payment = PaymentState(
                payment_id=record["payment_id"]["S"],
                amount=Decimal(record["amount"]["N"]),
                currency=record["currency"]["S"],
                value_date=date.fromisoformat(record["value_date"]["S"]),
                allocations={
                    a["M"]["item_id"]["S"]: Decimal(a["M"]["amount"]["N"])
                    for a in record.get("allocations", {}).get("L", [])
                },
                unapplied=Decimal(record["unapplied_amount"]["N"]),
                reversed=record["status"]["S"] == "reversed",
                held=record.get("held", {}).get("BOOL", False),
            )
            payments.append(payment)
            facts[payment.payment_id] = record
        policy = self._policies.policy_for(account.get("account_type", {}).get("S", "standard"))
        ledger = AccountLedger(account_id, account["currency"]["S"], items=items, payments=payments, policy=policy)
        return LoadedAccount(
            ledger=ledger,
            version=int(account.get("version", {}).get("N", "0")),
            open_at_load={i.item_id: i.open_amount for i in items},
            payments_at_load={p.payment_id: _snapshot(p) for p in payments},
            facts=facts,
        )

    # -- writes --------------------------------------------------------------------------------------------------
    def save(
        self,
        loaded: LoadedAccount,
        *,
        new_payment: PaymentFacts | None = None,
        reasons: dict[tuple[str, str], str] | None = None,
        reversal_reason: str | None = None,
        assigned_payment: str | None = None,
        today: date,
    ) -> None:
        """Write what the operation changed: items, payments, and the account (credit map, version) — all or none."""
        ledger = loaded.ledger
        reasons = reasons or {}
        writes: list[dict[str, Any]] = []
        for item in ledger.items.values():
            before = loaded.open_at_load.get(item.item_id)
            if before is not None and before != item.open_amount:
                writes.append(
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": item_key(item.item_id),
                            "UpdateExpression": "SET open_amount = :new",
                            "ConditionExpression": "open_amount = :old",
                            "ExpressionAttributeValues": {":new": _n(item.open_amount), ":old": _n(before)},
                        }
                    }
                )
        for payment in ledger.payments.values():
            is_new = new_payment is not None and payment.payment_id == new_payment.payment_id
            if not is_new and loaded.payments_at_load.get(payment.payment_id) == _snapshot(payment):
                continue
            stored = loaded.facts.get(payment.payment_id, {})
            record = self._payment_record(
                payment, ledger.account_id, stored, new_payment if is_new else None, reasons, reversal_reason, today
            )
            put: dict[str, Any] = {"TableName": self._table, "Item": record}
            if is_new:
                put["ConditionExpression"] = "attribute_not_exists(pk)"
            elif payment.payment_id == assigned_payment:  # out of suspense: only if nobody assigned it meanwhile
                put["ConditionExpression"] = "attribute_not_exists(account_id)"
            writes.append({"Put": put})
        credit = {p.payment_id: _n(p.unapplied) for p in ledger.payments.values() if p.unapplied > 0 and not p.reversed}
        credit_at_load = {
            pid: _n(unapplied)
            for pid, (_, unapplied, gone, _held) in loaded.payments_at_load.items()
            if unapplied > 0 and not gone
        }
        # The account record holds only the credit map; items are guarded by their own old amounts. A payment that
        # leaves no credit need not touch (or lock) the account: two units saved per payment, no false conflicts.
        if credit != credit_at_load or assigned_payment is not None:
            writes.append(
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": account_key(ledger.account_id),
                        "UpdateExpression": "SET credit_payments = :credit, unapplied_credit = :total, version = :next",
                        # The version guards the credit map: a writer that read an older one lost, and redoes its work.
                        "ConditionExpression": "version = :current"
                        if loaded.version
                        else "attribute_not_exists(version)",
                        "ExpressionAttributeValues": {
                            ":credit": {"M": credit},
                            ":total": _n(sum((p.unapplied for p in ledger.payments.values() if not p.reversed), ZERO)),
                            ":next": {"N": str(loaded.version + 1)},
                            **({":current": {"N": str(loaded.version)}} if loaded.version else {}),
                        },
                    }
                }
            )
        try:
            self._client.transact_write_items(TransactItems=writes)
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException":
                raise ConcurrentUpdateError(ledger.account_id) from error
            raise
        if new_payment is not None:
            self._point_references(new_payment)

    def _point_references(self, facts: PaymentFacts) -> None:
        """Where a reversal will look the payment up: by end-to-end id and bank reference, or (for a payment
        without an end-to-end id) by its content. Written after the payment (plain, idempotent puts outside the
        transaction: half the cost); a reversal arriving in between cannot exist, since the bank books it after the
        payment."""
        for reference in dict.fromkeys(r for r in (facts.end_to_end_id, facts.bank_reference) if r):
            self._client.put_item(
                TableName=self._table,
                Item={**reference_key(facts.bank_id, reference), "payment_id": {"S": facts.payment_id}},
            )
        if facts.content_reference:
            # One entry per payment under the content key: equal payments (same amount and text every month) stay
            # distinguishable, and a return that fits several is left for a person rather than guessed.
            self._client.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": f"RMT#{facts.content_reference}"},
                    "sk": {"S": f"PAY#{facts.payment_id}"},
                    "payment_id": {"S": facts.payment_id},
                },
            )

    def payments_by_content(self, content_reference: str) -> list[dict[str, Any]]:
        pointers = paginated(
            self._client.query,
            {
                "TableName": self._table,
                "KeyConditionExpression": "pk = :p",
                "ExpressionAttributeValues": {":p": {"S": f"RMT#{content_reference}"}},
            },
        )
        return batch_get(self._client, self._table, [payment_key(p["payment_id"]["S"]) for p in pointers])

    def save_unmatched(
        self, facts: PaymentFacts, amount: Decimal, currency: str, value_date: date, today: date
    ) -> bool:
        """A payment no account could take: kept whole, with the reason, for manual allocation."""
        payment = PaymentState(facts.payment_id, amount, currency, value_date, unapplied=amount)
        record = self._payment_record(payment, None, {}, facts, {}, None, today)
        record |= {"gsi2pk": {"S": "SUSPENSE"}, "gsi2sk": {"S": f"{value_date.isoformat()}#{facts.payment_id}"}}
        try:
            self._client.put_item(TableName=self._table, Item=record, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        self._point_references(facts)
        return True

    def _payment_record(
        self,
        payment: PaymentState,
        account_id: str | None,
        stored: dict[str, Any],
        facts: PaymentFacts | None,
        reasons: dict[tuple[str, str], str],
        reversal_reason: str | None,
        today: date,
    ) -> AttributeMap:
        kept_reasons = {
            a["M"]["item_id"]["S"]: a["M"].get("reason", {}).get("S", "")
            for a in stored.get("allocations", {}).get("L", [])
        }
        record: AttributeMap = (
            dict(stored)
            if stored
            else {
                **payment_key(payment.payment_id),
                "entity": {"S": "payment"},
                "payment_id": {"S": payment.payment_id},
                "received_on": {"S": today.isoformat()},
            }
        )
        if account_id:  # allocated now: no longer in the suspense list
            record.pop("gsi2pk", None)
            record.pop("gsi2sk", None)
        record |= {
            "amount": _n(payment.amount),
            "currency": {"S": payment.currency},
            "value_date": {"S": payment.value_date.isoformat()},
            "unapplied_amount": _n(payment.unapplied),
            "status": {"S": payment.status.value},
            "held": {"BOOL": payment.held},
            "allocations": {
                "L": [
                    {
                        "M": {
                            "item_id": {"S": item_id},
                            "amount": _n(amount),
                            "reason": {"S": reasons.get((payment.payment_id, item_id), kept_reasons.get(item_id, ""))},
                        }
                    }
                    for item_id, amount in sorted(payment.allocations.items())
                ]
            },
        }
        if account_id:
            record["account_id"] = {"S": account_id}
        # Only the payment the bank returned carries the reason; others the operation touched (credit re-applied
        # to what the reversal reopened) keep theirs.
        kept_reversal = stored.get("reversal_reason")
        if payment.reversed and (reversal_reason or kept_reversal):
            record["reversal_reason"] = {"S": reversal_reason} if reversal_reason else kept_reversal
        if facts is not None and facts.first_account:
            record["first_account"] = {"S": facts.first_account}
        if facts is not None:
            record |= {
                "bank_id": {"S": facts.bank_id},
                "bank_reference": {"S": facts.bank_reference},
                "source_file": {"S": facts.source_file},
                "position": {"S": facts.position},
                "match_method": {"S": facts.match_method},
                "match_reason": {"S": facts.match_reason},
            }
            if facts.end_to_end_id:
                record["end_to_end_id"] = {"S": facts.end_to_end_id}
            if facts.debtor_iban:
                record["debtor_iban"] = {"S": facts.debtor_iban}
            if facts.tenders:
                record["tenders"] = {
                    "L": [
                        {"M": {"type": {"S": kind}, "amount": _n(amount), **({"reference": {"S": ref}} if ref else {})}}
                        for kind, amount, ref in facts.tenders
                    ]
                }
        return record


class PayerDirectoryTable:
    """Payer matching's lookups. Ids are stored as billing sent them; a reference typed in other case is found by
    also trying its upper- and lower-case forms."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    @staticmethod
    def _variants(candidate: str) -> list[str]:
        return list(dict.fromkeys((candidate, candidate.upper(), candidate.lower(), fold(candidate).upper())))

    def _lookup(self, candidates: Sequence[str], key: Any, id_attribute: str) -> dict[str, tuple[str, AttributeMap]]:
        """Each candidate's stored record (under whichever case variant exists), with the id as stored."""
        keys = [key(v) for c in candidates for v in self._variants(c)]
        found = {r[id_attribute]["S"]: r for r in batch_get(self._client, self._table, keys)}
        result = {}
        for candidate in candidates:
            variant = next((v for v in self._variants(candidate) if v in found), None)
            if variant is not None:
                result[candidate] = (variant, found[variant])
        return result

    def open_items(self, candidates: Sequence[str]) -> dict[str, ItemRef]:
        return {
            candidate: ItemRef(item_id=item_id, account_id=r["account_id"]["S"], currency=r["currency"]["S"])
            for candidate, (item_id, r) in self._lookup(candidates, item_key, "item_id").items()
            if Decimal(r["open_amount"]["N"]) > 0
        }

    def accounts(self, candidates: Sequence[str]) -> dict[str, AccountRef]:
        return {
            candidate: AccountRef(account_id=account_id, customer_id=r["customer_id"]["S"], currency=r["currency"]["S"])
            for candidate, (account_id, r) in self._lookup(candidates, account_key, "account_id").items()
        }

    def collected_item(self, end_to_end_id: str) -> ItemRef | None:
        record = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": f"DD#{end_to_end_id}"}, "sk": {"S": "COLLECTION"}}
        ).get("Item")
        if record is None:
            return None
        return ItemRef(
            item_id=record["item_id"]["S"], account_id=record["account_id"]["S"], currency=record["currency"]["S"]
        )

    def accounts_of_iban(self, iban: str) -> list[AccountRef]:
        compact = normalise_iban(iban)
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": f"IBAN#{compact}"}},
        )
        customers = [r["customer_id"]["S"] for r in response.get("Items", [])]
        current = batch_get(
            self._client,
            self._table,
            [{"pk": {"S": f"CUST#{c}"}, "sk": {"S": "CUSTOMER"}} for c in customers],
            projection="customer_id, iban",
        )
        owners = [r["customer_id"]["S"] for r in current if r.get("iban", {}).get("S") == compact]
        accounts: list[AccountRef] = []
        for customer_id in owners:
            request = {
                "TableName": self._table,
                "IndexName": "by_account",
                "KeyConditionExpression": "gsi1pk = :p AND begins_with(gsi1sk, :a)",
                "ExpressionAttributeValues": {":p": {"S": f"CUST#{customer_id}"}, ":a": {"S": "ACCT#"}},
            }
            ids = [r["gsi1sk"]["S"].removeprefix("ACCT#") for r in self._client.query(**request).get("Items", [])]
            for r in batch_get(self._client, self._table, [account_key(a) for a in ids]):
                accounts.append(
                    AccountRef(account_id=r["account_id"]["S"], customer_id=customer_id, currency=r["currency"]["S"])
                )
        return accounts
