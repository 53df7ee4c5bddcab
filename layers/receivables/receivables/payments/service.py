"""Use case: a bank file dropped under ``banks/<bank_id>/`` becomes payments, matched and allocated, each explained.

Every booked credit is a payment (identified by bank, our account and the bank's reference, so the same entry in two
overlapping statements posts once), matched by the contract in ``matching.py`` and allocated on its account through
``AccountLedger``; a reversal undoes the payment it refers to. Entries that are not cash (pending, info), and debits
that are not returns, are counted and left alone. Rows the bank file could not express are reported beside it.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from itertools import chain
from typing import Protocol

from receivables.banking.pain002 import PaymentStatusReport, parse_pain002
from receivables.banking.recognise import HEAD_BYTES, is_pain002, read_bank_stream
from receivables.banking.statement import BankFileError, BankTransaction, Direction, EntryStatus
from receivables.direct_debit.service import StatusReportResult
from receivables.domain.clock import Clock
from receivables.domain.money import format_money, is_currency
from receivables.domain.text import fold
from receivables.loading.ports import EventPublisher, FileStore, ObjectNotFoundError, StoredObject, flush_events
from receivables.loading.reports import etag_token, quarantine, write_report
from receivables.payments.account_ledger import PostingKind
from receivables.payments.matching import MatchDecision, MatchMethod, PayerDirectory, match_payer
from receivables.payments.ports import ConcurrentUpdateError, LoadedAccount, PaymentFacts, PaymentStore, ProfileSource

EVENT_SOURCE = "receivables.payments"
LANES = 8  # accounts of one bank file applied at once (BankFileSettings.lanes)
MAX_ATTEMPTS = 5  # optimistic retries when another payment changed the account meanwhile


@dataclass(frozen=True, slots=True)
class BankFileSummary:
    file: str
    bank_id: str
    source_format: str
    outcomes: dict[str, int]
    rejected: int


def entry_key(transaction: BankTransaction) -> str:
    """What identifies a bank entry across files: the bank's reference, or (when the bank gave none) its content.

    The reference alone is not enough: banks reuse one reference for both legs of a transfer, or for a debit and a
    credit on the same day, so direction, amount and date are part of the key too."""
    reference = transaction.bank_reference or "|".join(
        (
            transaction.end_to_end_id or "",
            transaction.transaction_id or "",
            transaction.instruction_id or "",
            transaction.uetr or "",
            transaction.debtor_iban or "",
            " ".join(transaction.remittance_lines),
        )
    )
    return "|".join(
        (
            transaction.account or "",
            reference,
            transaction.direction.value,
            str(transaction.amount),
            str(transaction.value_date or transaction.booking_date),
        )
    )


def _head(blocks: Iterator[bytes]) -> bytes:
    """At least the first ``HEAD_BYTES`` of a file (all of it when shorter), taken from its blocks."""
    parts: list[bytes] = []
    size = 0
    for block in blocks:
        parts.append(block)
        size += len(block)
        if size >= HEAD_BYTES:
            break
    return b"".join(parts)


def content_reference(bank_id: str, transaction: BankTransaction) -> str | None:
    """Our account, the amount and the remittance text, as one key: how a return that quotes neither the original's
    end-to-end id nor its bank reference is linked to it. None when there is no text to go by."""
    text = " ".join(fold(" ".join(transaction.remittance_lines)).split())
    if not text:
        return None
    digest = hashlib.sha256(text.encode()).hexdigest()[:20]
    return f"{bank_id}#{transaction.account or ''}#{transaction.amount}#{digest}"


def payment_id_of(bank_id: str, key: str) -> str:
    return "P" + hashlib.sha256(f"{bank_id}|{key}".encode()).hexdigest()[:23]


class StatusReportSink(Protocol):
    def apply_status_report(self, report: PaymentStatusReport, bank_id: str, source_file: str) -> StatusReportResult:
        """Apply a bank's pain.002 answer to the direct debits we sent; BankFileError when it is not about ours."""
        ...


class BankFileService:
    def __init__(
        self,
        *,
        files: FileStore,
        store: PaymentStore,
        directory: PayerDirectory,
        profiles: ProfileSource,
        events: EventPublisher,
        clock: Clock,
        status_reports: StatusReportSink | None = None,
        lanes: int = LANES,
    ) -> None:
        self._lanes = lanes
        self._status_reports = status_reports
        self._files = files
        self._store = store
        self._directory = directory
        self._profiles = profiles
        self._events = events
        self._clock = clock

    def load(self, bucket: str, key: str) -> BankFileSummary | None:
        try:
            return self._load(bucket, key)
        finally:
            flush_events(self._events)  # whatever the file's end, its events go out with it

    def _load(self, bucket: str, key: str) -> BankFileSummary | None:
        parts = key.split("/")
        if len(parts) < 3 or parts[0] != "banks" or not parts[1]:
            return None
        bank_id = parts[1]
        try:
            obj = self._files.describe(bucket, key)
            blocks = iter(self._files.read(obj))
            head = _head(blocks)
        except ObjectNotFoundError:
            return None
        if is_pain002(head[:HEAD_BYTES]):
            return self._load_status_report(obj, chain([head], blocks), bank_id, key)
        try:
            # camt streams from S3 through the parser (large statements never sit whole in memory).
            parsed = read_bank_stream(head, blocks, bank_id=bank_id, profiles=self._profiles.profiles_for(bank_id))
        except ObjectNotFoundError:
            return None
        except BankFileError as error:
            quarantine(self._files, self._events, obj, "bank", error.reason)
            return None
        name = posixpath.basename(key)
        rejections: list[tuple[int | None, str]] = [(None, f"{r.position}: {r.reason}") for r in parsed.rejections]
        outcomes: Counter[str] = Counter()
        seen: Counter[str] = Counter()
        entries = []
        for transaction in parsed.transactions:
            # Two equal entries in one file (same payer, amount and day, no reference) are two payments.
            entry = entry_key(transaction)
            seen[entry] += 1
            entries.append(
                (transaction, payment_id_of(bank_id, entry if seen[entry] == 1 else f"{entry}#{seen[entry]}"))
            )
        for transaction, outcome in self._apply_all(entries, bank_id, key):
            outcomes[outcome.split(":")[0]] += 1
            if outcome.startswith("rejected:"):
                rejections.append((None, f"{transaction.position}: {outcome.removeprefix('rejected: ')}"))
        report = write_report(self._files, obj, etag_token(obj), rejections) if rejections else None
        summary = BankFileSummary(name, bank_id, parsed.source_format.value, dict(outcomes), len(rejections))
        self._events.publish(
            "BankFileLoaded",
            {
                "file": key,
                "bank_id": bank_id,
                "format": summary.source_format,
                "outcomes": summary.outcomes,
                "rejected": summary.rejected,
                "report": report,
            },
        )
        return summary

    def _load_status_report(
        self, obj: StoredObject, blocks: Iterable[bytes], bank_id: str, key: str
    ) -> BankFileSummary | None:
        try:
            if self._status_reports is None:
                raise BankFileError("pain.002 status reports are not accepted here (no direct-debit service)")
            report = parse_pain002(blocks)
            result = self._status_reports.apply_status_report(report, bank_id, key)
        except BankFileError as error:
            quarantine(self._files, self._events, obj, "bank", error.reason)
            return None
        outcomes = dict(result.outcomes)
        for update in result.rejected:
            # A collection the bank rejects after we booked its credit: that booking is undone like any return.
            if self._reverse_booking(bank_id, update.end_to_end_id, f"direct debit rejected: {update.reason}"):
                outcomes["reversed"] = outcomes.get("reversed", 0) + 1
        summary = BankFileSummary(posixpath.basename(key), bank_id, "pain.002", outcomes, 0)
        self._events.publish(
            "BankFileLoaded",
            {
                "file": key,
                "bank_id": bank_id,
                "format": "pain.002",
                "outcomes": outcomes,
                "rejected": 0,
                "report": None,
            },
        )
        return summary

    def _apply_all(
        self, entries: list[tuple[BankTransaction, str]], bank_id: str, key: str
    ) -> list[tuple[BankTransaction, str]]:
        """Every entry's outcome, in file order. Credits are matched in parallel and applied in parallel lanes, one
        per account (file order within a lane), so accounts never wait for each other; returns go after the credits,
        one by one, since a return may undo a payment of the same file. Lanes that meet on an account anyway (a
        payment shared over a customer's accounts) are kept apart by the accounts' versions, as any two writers."""
        outcomes: dict[int, str] = {}
        credits: list[int] = []
        later: list[int] = []
        for n, (transaction, _) in enumerate(entries):
            if self._is_credit(transaction):
                credits.append(n)
            else:
                later.append(n)
        with ThreadPoolExecutor(max_workers=self._lanes, thread_name_prefix="bank-file") as pool:
            decisions = dict(zip(credits, pool.map(lambda n: self._match(entries[n][0]), credits), strict=True))
            lanes: dict[str, list[int]] = {}
            for n in credits:
                accounts = decisions[n].account_ids if decisions[n].allocatable else ()
                lanes.setdefault(accounts[0] if accounts else f"#{n}", []).append(n)

            def run(lane: list[int]) -> list[tuple[int, str]]:
                return [(n, self._receive(entries[n][0], bank_id, key, entries[n][1], decisions[n])) for n in lane]

            for results in pool.map(run, lanes.values()):
                outcomes.update(results)
        for n in later:
            transaction, payment_id = entries[n]
            outcomes[n] = self._apply(transaction, bank_id, key, payment_id)
        return [(entries[n][0], outcomes[n]) for n in range(len(entries))]

    def _reverse_booking(self, bank_id: str, end_to_end_id: str, reason: str) -> bool:
        original = self._store.payment_by_reference(bank_id, end_to_end_id)
        if original is None or "account_id" not in original or original["status"]["S"] == "reversed":
            return False
        original_id = original["payment_id"]["S"]

        def reverse(loaded: LoadedAccount) -> dict[tuple[str, str], str]:
            postings = loaded.ledger.reverse(original_id, reason)
            return {(p.payment_id, p.item_id or ""): p.reason for p in postings if p.kind is PostingKind.ALLOCATION}

        self._with_account(original["account_id"]["S"], reverse, include=(original_id,), reversal_reason=reason)
        self._events.publish(
            "PaymentReversed", {"payment_id": original_id, "account_id": original["account_id"]["S"], "reason": reason}
        )
        return True

    @staticmethod
    def _is_credit(transaction: BankTransaction) -> bool:
        return (
            transaction.status is EntryStatus.BOOKED
            and is_currency(transaction.currency)
            and transaction.direction is Direction.CREDIT
            and not transaction.reversal
        )

    def _reported_before(self, transaction: BankTransaction, bank_id: str) -> bool:
        """The same credit reported under another bank reference: a camt.053 batch line whose details came earlier
        in a camt.054 with references of their own. Same end-to-end id, amount and value date: counted once."""
        e2e = transaction.end_to_end_id
        if not e2e or e2e.upper() == "NOTPROVIDED":
            return False
        earlier = self._store.payment_by_reference(bank_id, e2e)
        if earlier is None or earlier.get("end_to_end_id", {}).get("S") != e2e:
            return False
        same_day = earlier["value_date"]["S"] == str(transaction.value_date or transaction.booking_date)
        return same_day and Decimal(earlier["amount"]["N"]) == transaction.matching_amount

    def _match(self, transaction: BankTransaction) -> MatchDecision:
        return match_payer(transaction, self._directory)

    # -- one entry -------------------------------------------------------------------------------------------------
    def _apply(self, transaction: BankTransaction, bank_id: str, key: str, payment_id: str) -> str:
        if transaction.status is not EntryStatus.BOOKED:
            return "not_cash"  # pending and info entries are announcements; the booking comes later
        if not is_currency(transaction.currency):
            return f"rejected: unknown currency {transaction.currency!r} (not an ISO 4217 currency code)"
        if transaction.reversal or (transaction.direction is Direction.DEBIT and transaction.return_reason):
            return self._reverse(transaction, bank_id, key, payment_id)
        if transaction.direction is Direction.DEBIT:
            return "outgoing"  # our own payments and charges: not receivables
        return self._receive(transaction, bank_id, key, payment_id)

    def _facts(
        self, transaction: BankTransaction, bank_id: str, key: str, payment_id: str, method: str, reason: str
    ) -> PaymentFacts:
        return PaymentFacts(
            payment_id=payment_id,
            bank_id=bank_id,
            bank_reference=transaction.bank_reference or "",
            end_to_end_id=transaction.end_to_end_id,
            debtor_iban=transaction.debtor_iban,
            source_file=key,
            position=transaction.position,
            match_method=method,
            match_reason=reason,
            content_reference=None
            if transaction.end_to_end_id and transaction.end_to_end_id != "NOTPROVIDED"
            else content_reference(bank_id, transaction),
        )

    def _receive(
        self,
        transaction: BankTransaction,
        bank_id: str,
        key: str,
        payment_id: str,
        decision: MatchDecision | None = None,
    ) -> str:
        if self._store.payment_exists(payment_id):
            return "duplicate"  # the same entry in an overlapping statement, or the file sent again
        if self._reported_before(transaction, bank_id):
            return "duplicate"
        decision = decision or match_payer(transaction, self._directory)
        amount = transaction.matching_amount  # what the payer sent: bank charges are ours, not the customer's
        value_date = transaction.value_date or transaction.booking_date or self._clock.today()
        facts = self._facts(transaction, bank_id, key, payment_id, decision.method.value, decision.reason)
        if not decision.allocatable:
            self._store.save_unmatched(facts, amount, transaction.currency, value_date, self._clock.today())
            self._events.publish(
                "PaymentUnmatched",
                {
                    "payment_id": payment_id,
                    "amount": str(amount),
                    "currency": transaction.currency,
                    "reason": decision.reason,
                },
            )
            return "unmatched"
        if len(decision.account_ids) > 1:
            return self._receive_over_accounts(transaction, decision, facts, amount, value_date)
        return self._receive_on(decision.account_ids[0], facts, amount, transaction.currency, value_date, decision)

    def _receive_on(
        self,
        account_id: str,
        facts: PaymentFacts,
        amount: Decimal,
        currency: str,
        value_date: date,
        decision: MatchDecision,
    ) -> str:
        payment_id = facts.payment_id

        def receive(loaded: LoadedAccount) -> dict[tuple[str, str], str]:
            postings = loaded.ledger.receive(payment_id, amount, currency, value_date, first=decision.first_items)
            return {(p.payment_id, p.item_id or ""): p.reason for p in postings}

        loaded = self._with_account(account_id, receive, new_payment=facts)
        payment = loaded.ledger.payments[payment_id]
        self._announce_payment(loaded, payment_id, amount, currency, decision.method)
        return "applied" if payment.allocations else "credit"

    def _receive_over_accounts(
        self,
        transaction: BankTransaction,
        decision: MatchDecision,
        facts: PaymentFacts,
        amount: Decimal,
        value_date: date,
    ) -> str:
        """A payment from a customer's IBAN goes over all that customer's accounts (same currency), oldest due item
        first; each account's share is a payment of its own (``<id>-2``, ``<id>-3``…), the first keeps the entry's
        id and any surplus. Shares are written before the first, so a redelivery after a crash finds them and gives
        the first only what they did not take: nothing is received twice."""
        accounts = list(decision.account_ids)
        children = {f"{facts.payment_id}-{n}" for n in range(2, len(accounts) + 1)}
        taken = {cid: record for cid in sorted(children) if (record := self._store.get_payment(cid)) is not None}
        if taken:
            shares: list[tuple[str, Decimal]] = []
            first_account = self._store.get_payment(next(iter(taken)))["first_account"]["S"]  # type: ignore[index]
        else:
            shares = self._shares(accounts, amount)
            first_account = shares[0][0]
        for n, (account_id, share) in enumerate(shares[1:], start=2):
            child = replace(
                facts,
                payment_id=f"{facts.payment_id}-{n}",
                bank_reference=facts.bank_reference,
                match_reason=f"{decision.reason}; {format_money(share)} of the entry's {format_money(amount)} on "
                f"account {account_id} (paid over the customer's accounts, oldest due first)",
                content_reference=None,
                first_account=first_account,
            )
            self._receive_on(account_id, child, share, transaction.currency, value_date, decision)
            taken[child.payment_id] = {"amount": {"N": str(share)}}
        rest = amount - sum((Decimal(r["amount"]["N"]) for r in taken.values()), Decimal(0))
        first = replace(
            facts,
            match_reason=f"{decision.reason}; {format_money(rest)} of the entry's {format_money(amount)} on account "
            f"{first_account}"
            + (f", the rest on the customer's other accounts ({', '.join(sorted(taken))})" if taken else ""),
        )
        return self._receive_on(first_account, first, rest, transaction.currency, value_date, decision)

    def _shares(self, account_ids: list[str], amount: Decimal) -> list[tuple[str, Decimal]]:
        """Each account's share, oldest due item first across the accounts; the surplus stays with the first."""
        open_items = []
        for account_id in account_ids:
            loaded = self._store.load(account_id, on=self._clock.today())
            if loaded is not None:
                open_items += [
                    (i.due_date, i.issue_date, i.item_id, account_id, i.open_amount)
                    for i in loaded.ledger.items.values()
                    if i.open_amount > 0
                ]
        shares: dict[str, Decimal] = {}
        remaining = amount
        for _due, _issue, _item, account_id, open_amount in sorted(open_items):
            if remaining <= 0:
                break
            take = min(open_amount, remaining)
            shares[account_id] = shares.get(account_id, Decimal(0)) + take
            remaining -= take
        if not shares:
            return [(account_ids[0], amount)]
        first = next(iter(shares))
        shares[first] += remaining
        return list(shares.items())

    def _reverse(self, transaction: BankTransaction, bank_id: str, key: str, payment_id: str) -> str:
        reason = f"returned by the bank ({transaction.return_reason or 'no reason code'}), entry {transaction.position}"
        original = None
        for reference in (
            transaction.end_to_end_id,
            *transaction.structured_references,
            *" ".join(transaction.remittance_lines).split(),
        ):
            if reference and (original := self._store.payment_by_reference(bank_id, reference)):
                break
        why = (
            f"reversal ({transaction.return_reason or 'no reason code'}) whose original payment could not be "
            f"found by end-to-end id, reference, or account, amount and remittance text: kept for manual review"
        )
        if original is None and (content := content_reference(bank_id, transaction)):
            candidates = [
                p
                for p in self._store.payments_by_content(content)
                if p["status"]["S"] != "reversed" and "account_id" in p
            ]
            if len(candidates) == 1:
                original = candidates[0]
                reason += f"; linked by account, amount and remittance text to payment {original['payment_id']['S']}"
            elif candidates:
                ids = ", ".join(sorted(p["payment_id"]["S"] for p in candidates))
                why = (
                    f"reversal ({transaction.return_reason or 'no reason code'}) fits several payments by account, "
                    f"amount and remittance text ({ids}): kept for manual review"
                )
        if original is None or "account_id" not in original:
            if self._store.payment_exists(payment_id):
                return "duplicate"
            facts = self._facts(transaction, bank_id, key, payment_id, MatchMethod.UNMATCHED.value, why)
            value_date = transaction.value_date or transaction.booking_date or self._clock.today()
            self._store.save_unmatched(facts, transaction.amount, transaction.currency, value_date, self._clock.today())
            self._events.publish("PaymentUnmatched", {"payment_id": payment_id, "reason": why})
            return "unmatched"
        if original["status"]["S"] == "reversed":
            return "duplicate"
        original_id = original["payment_id"]["S"]

        def reverse(loaded: LoadedAccount) -> dict[tuple[str, str], str]:
            postings = loaded.ledger.reverse(original_id, reason)
            return {(p.payment_id, p.item_id or ""): p.reason for p in postings if p.kind is PostingKind.ALLOCATION}

        self._with_account(original["account_id"]["S"], reverse, include=(original_id,), reversal_reason=reason)
        self._events.publish(
            "PaymentReversed", {"payment_id": original_id, "account_id": original["account_id"]["S"], "reason": reason}
        )
        return "reversed"

    def _with_account(
        self,
        account_id: str,
        operation: Callable[[LoadedAccount], dict[tuple[str, str], str]],
        *,
        include: tuple[str, ...] = (),
        new_payment: PaymentFacts | None = None,
        reversal_reason: str | None = None,
    ) -> LoadedAccount:
        return apply_to_account(
            self._store,
            self._clock,
            account_id,
            operation,
            include=include,
            new_payment=new_payment,
            reversal_reason=reversal_reason,
        )

    def _announce_payment(
        self, loaded: LoadedAccount, payment_id: str, amount: Decimal, currency: str, method: MatchMethod
    ) -> None:
        ledger = loaded.ledger
        payment = ledger.payments[payment_id]
        self._events.publish(
            "PaymentReceived",
            {
                "payment_id": payment_id,
                "account_id": ledger.account_id,
                "amount": str(amount),
                "currency": currency,
                "method": method.value,
                "allocated": {k: str(v) for k, v in payment.allocations.items()},
                "unapplied": str(payment.unapplied),
            },
        )
        for item_id in payment.allocations:
            if ledger.items[item_id].open_amount == 0:
                self._events.publish(
                    "ItemPaid", {"item_id": item_id, "account_id": ledger.account_id, "payment_id": payment_id}
                )
        if ledger.balance <= 0 and any(loaded.open_at_load.values()):
            self._events.publish("AccountSettled", {"account_id": ledger.account_id, "payment_id": payment_id})


def apply_to_account(
    store: PaymentStore,
    clock: Clock,
    account_id: str,
    operation: Callable[[LoadedAccount], dict[tuple[str, str], str]],
    *,
    include: tuple[str, ...] = (),
    new_payment: PaymentFacts | None = None,
    reversal_reason: str | None = None,
    assigned_payment: str | None = None,
) -> LoadedAccount:
    """Read the account, apply one ledger operation, write it back under the account's version; redo on a race."""
    for _attempt in range(MAX_ATTEMPTS):
        loaded = store.load(account_id, on=clock.today(), include_payments=include)
        if loaded is None:
            raise LookupError(f"account {account_id} vanished while its money was being moved")
        reasons = operation(loaded)
        try:
            store.save(
                loaded,
                new_payment=new_payment,
                reasons=reasons,
                reversal_reason=reversal_reason,
                assigned_payment=assigned_payment,
                today=clock.today(),
            )
            return loaded
        except ConcurrentUpdateError:
            continue  # another writer changed the account: read it again and redo
    raise ConcurrentUpdateError(f"account {account_id} kept changing; the message will be retried")


class CreditApplication:
    """Credit → debit: when new items load on an account holding unapplied credit, the credit pays them at once."""

    def __init__(self, *, store: PaymentStore, events: EventPublisher, clock: Clock) -> None:
        self._store = store
        self._events = events
        self._clock = clock

    def apply_credit(self, account_id: str) -> None:
        def spend(loaded: LoadedAccount) -> dict[tuple[str, str], str]:
            postings = loaded.ledger.apply_credit()
            return {(p.payment_id, p.item_id or ""): f"credit: {p.reason}" for p in postings}

        loaded = apply_to_account(self._store, self._clock, account_id, spend)
        paid = {item_id for p in loaded.ledger.payments.values() for item_id in p.allocations}
        self._events.publish(
            "CreditApplied",
            {
                "account_id": account_id,
                "unapplied_credit": str(loaded.ledger.unapplied_credit),
                "items": sorted(paid & set(loaded.ledger.items)),
            },
        )
