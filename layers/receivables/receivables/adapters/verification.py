"""``verify``: every account's open amounts, unapplied credit and balance recomputed from the journal and compared
with what the tables store (domain/journal.py says how).

It reads the whole table — a parallel Scan in segments — because it checks every account, including those nothing
touched lately; no production path reads this way. It runs as a daily schedule (functions/verify_ledger, alarmed on
any difference) and as ``receivables verify`` after every replay.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from receivables.adapters.dynamodb_batches import AttributeMap, paginated
from receivables.adapters.journal_table import entry_from_record, posted_amount
from receivables.adapters.keys import JOURNAL_PREFIX
from receivables.adapters.payments_table import payment_from_record
from receivables.domain.journal import Difference, JournalEntry, StoredAccount, StoredItem, StoredPayment, differences
from receivables.domain.money import ZERO
from receivables.payments.operations import SUSPENSE_ACCOUNT

SCAN_SEGMENTS = 4


@dataclass
class VerificationReport:
    accounts: int = 0
    items: int = 0
    payments: int = 0
    entries: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return not self.differences


@dataclass
class _Collected:
    items: dict[str, list[StoredItem]] = field(default_factory=lambda: defaultdict(list))
    payments: dict[str, list[StoredPayment]] = field(default_factory=lambda: defaultdict(list))
    credit: dict[str, Decimal] = field(default_factory=dict)
    credit_maps: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    entries: dict[str, list[JournalEntry]] = field(default_factory=lambda: defaultdict(list))


class LedgerVerifier:
    def __init__(self, client: Any, table_name: str, *, segments: int = SCAN_SEGMENTS) -> None:
        self._client = client
        self._table = table_name
        self._segments = segments

    def _segment(self, segment: int) -> Iterator[AttributeMap]:
        request = {
            "TableName": self._table,
            "Segment": segment,
            "TotalSegments": self._segments,
            "ConsistentRead": True,
            "FilterExpression": "begins_with(pk, :item) OR begins_with(pk, :pay) OR begins_with(pk, :acct) "
            "OR begins_with(pk, :payable) "
            "OR begins_with(pk, :journal)",
            "ExpressionAttributeValues": {
                ":item": {"S": "ITEM#"},
                ":pay": {"S": "PAY#"},
                ":payable": {"S": "PAYABLE#"},
                ":acct": {"S": "ACCT#"},
                ":journal": {"S": JOURNAL_PREFIX},
            },
        }
        return paginated(self._client.scan, request)

    def verify(self) -> VerificationReport:
        collected = _Collected()
        with ThreadPoolExecutor(max_workers=self._segments, thread_name_prefix="verify") as pool:
            for records in pool.map(lambda n: list(self._segment(n)), range(self._segments)):
                for record in records:
                    self._collect(record, collected)
        report = VerificationReport(
            accounts=len(collected.credit),
            items=sum(len(v) for v in collected.items.values()),
            payments=sum(len(v) for v in collected.payments.values()),
            entries=sum(len(v) for v in collected.entries.values()),
        )
        suspense = collected.payments.get(SUSPENSE_ACCOUNT, [])
        collected.credit[SUSPENSE_ACCOUNT] = sum((p.unapplied for p in suspense if not p.reversed), ZERO)
        accounts = sorted(set(collected.credit) | set(collected.entries))
        for account_id in accounts:
            if account_id not in collected.credit:
                report.differences.append(
                    Difference(account_id, "journal of an account that has no record", ZERO, ZERO)
                )
                continue
            stored = StoredAccount(
                account_id,
                items=collected.items.get(account_id, []),
                payments=collected.payments.get(account_id, []),
                unapplied_credit=collected.credit[account_id],
            )
            report.differences += differences(stored, collected.entries.get(account_id, []))
            report.differences += _credit_map_differences(
                account_id, collected.credit_maps.get(account_id), collected.payments.get(account_id, [])
            )
        return report

    @staticmethod
    def _collect(record: AttributeMap, into: _Collected) -> None:
        pk, sk = record["pk"]["S"], record["sk"]["S"]
        if pk.startswith("ITEM#") and sk == "ITEM":
            into.items[record["account_id"]["S"]].append(
                StoredItem(record["item_id"]["S"], posted_amount(record), Decimal(record["open_amount"]["N"]))
            )
        elif pk.startswith("PAYABLE#") and sk == "PAYABLE":
            # What the insurer owes: its record is its own negative posting on the party's account.
            into.items[record["account_id"]["S"]].append(
                StoredItem(
                    record["payable_id"]["S"], -Decimal(record["amount"]["N"]), -Decimal(record["open_amount"]["N"])
                )
            )
        elif pk.startswith("PAY#") and sk == "PAYMENT":
            payment = payment_from_record(record)
            into.payments[payment.account_id or SUSPENSE_ACCOUNT].append(
                StoredPayment(
                    payment.payment_id,
                    payment.unapplied,
                    {a.item_id: a.amount for a in payment.allocations},
                    payment.reversed,
                )
            )
        elif pk.startswith("ACCT#") and sk == "ACCOUNT":
            account_id = record["account_id"]["S"]
            into.credit[account_id] = Decimal(record.get("unapplied_credit", {}).get("N", "0"))
            into.credit_maps[account_id] = {
                payment_id: Decimal(value["N"])
                for payment_id, value in record.get("credit_payments", {}).get("M", {}).items()
            }
        elif pk.startswith(JOURNAL_PREFIX):
            entry = entry_from_record(record)
            into.entries[entry.account_id].append(entry)


def _credit_map_differences(
    account_id: str, credit_map: dict[str, Decimal] | None, payments: list[StoredPayment]
) -> list[Difference]:
    """The account record's credit map (which payments hold credit) must name exactly the payments with credit."""
    if credit_map is None:
        return []
    holding = {p.payment_id: p.unapplied for p in payments if p.unapplied > 0 and not p.reversed}
    found = []
    for payment_id in sorted(set(holding) | set(credit_map)):
        if holding.get(payment_id, ZERO) != credit_map.get(payment_id, ZERO):
            found.append(
                Difference(
                    account_id,
                    f"credit map entry of payment {payment_id}",
                    credit_map.get(payment_id, ZERO),
                    holding.get(payment_id, ZERO),
                    None,
                    payment_id,
                )
            )
    return found
