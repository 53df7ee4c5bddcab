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
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from itertools import chain
from typing import Any, Protocol

from receivables.banking.pain002 import PaymentStatusReport, parse_pain002
from receivables.banking.recognise import HEAD_BYTES, is_pain002, read_bank_stream
from receivables.banking.statement import BankFileError, BankTransaction, Direction, EntryStatus
from receivables.direct_debit.service import StatusReportResult
from receivables.domain.clock import Clock
from receivables.domain.journal import Cause, PostingKind, on_payment
from receivables.domain.money import format_money, is_currency
from receivables.domain.outbox import Event
from receivables.domain.text import fold
from receivables.loading.ports import EventPublisher, FileStore, ObjectNotFoundError, StoredObject, flush_events
from receivables.loading.reports import etag_token, quarantine, write_report
from receivables.payments.allocation import FIFO, allocate
from receivables.payments.matching import MatchDecision, MatchMethod, PayerDirectory, match_payer
from receivables.payments.operations import SUSPENSE_ACCOUNT, AccountOperations, Planned, journal_entry
from receivables.payments.ports import LoadedAccount, PaymentFacts, PaymentRecord, PaymentStore, ProfileSource

EVENT_SOURCE = "receivables.payments"
LANES = 8  # accounts of one bank file applied at once (BankFileSettings.lanes)


@dataclass(frozen=True, slots=True)
class BankFileSummary:
    file: str
    bank_id: str
    source_format: str
    outcomes: dict[str, int]
    rejected: int
    balance_warnings: tuple[str, ...] = ()


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


class OutgoingSink(Protocol):
    """Money going out, as the bank books it: our transfers (payouts) paid, returned, or debits that are none of
    ours, kept for a person."""

    def transfer_named(self, references: Sequence[str]) -> str | None:
        """The first of ``references`` that is one of our transfers (its end-to-end id), else None."""
        ...

    def debit_booked(self, end_to_end_id: str, amount: Decimal, cause: Cause, booked_on: date) -> str: ...

    def returned(self, end_to_end_id: str, reason: str, cause: Cause) -> str: ...

    def unmatched_debit(self, payment_id: str, bank_id: str, transaction: BankTransaction, source: str) -> str: ...


class CollectionResponseSink(Protocol):
    """The card and bank-scheme collections' answers (card_collection/service.py)."""

    def handles(self, bank_id: str, key: str) -> bool: ...

    def apply_response(self, bank_id: str, key: str, data: bytes) -> Any: ...


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
        outgoing: OutgoingSink | None = None,
        collections: CollectionResponseSink | None = None,
        lanes: int = LANES,
    ) -> None:
        self._outgoing = outgoing
        self._collections = collections
        self._lanes = lanes
        self._status_reports = status_reports
        self._files = files
        self._store = store
        self._directory = directory
        self._profiles = profiles
        self._events = events
        self._clock = clock
        self._operations = AccountOperations(store=store, clock=clock, completion=payment_events)

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
        if self._collections is not None and self._collections.handles(bank_id, key):
            return self._load_collection_response(obj, b"".join(chain([head], blocks)), bank_id, key)
        try:
            # camt streams from S3 through the parser (large statements never sit whole in memory).
            parsed = read_bank_stream(head, blocks, bank_id=bank_id, profiles=self._profiles.profiles_for(bank_id))
        except ObjectNotFoundError:
            return None
        except BankFileError as error:
            quarantine(self._files, self._events, obj, "bank", error.reason)
            return None
        name = posixpath.basename(key)
        rejections: list[tuple[int | None, str]] = [
            (r.line, f"{r.position}: {r.reason}" if r.position else r.reason) for r in parsed.rejections
        ]
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
                rejections.append((transaction.line, f"{transaction.position}: {outcome.removeprefix('rejected: ')}"))
        report = write_report(self._files, obj, etag_token(obj), rejections) if rejections else None
        warnings = [w.reason for w in parsed.balance_warnings]
        summary = BankFileSummary(
            name, bank_id, parsed.source_format.value, dict(outcomes), len(rejections), tuple(warnings)
        )
        # A statement that does not add up is read all the same (its entries are what the bank booked): a person
        # looks into the difference.
        for warning in parsed.balance_warnings:
            self._events.publish(
                "BankStatementOutOfBalance",
                {"file": key, "bank_id": bank_id, **warning.model_dump(mode="json")},
            )
        self._events.publish(
            "BankFileLoaded",
            {
                "file": key,
                "bank_id": bank_id,
                "format": summary.source_format,
                "outcomes": summary.outcomes,
                "rejected": summary.rejected,
                "report": report,
                "balance_warnings": warnings,
            },
        )
        return summary

    def _load_collection_response(self, obj: StoredObject, data: bytes, bank_id: str, key: str) -> BankFileSummary:
        """A card or bank-scheme collection response (card_collection/service.py): approvals become payments of
        exactly the requested items, declines recorded attempts; lines that cannot be read go into its report."""
        assert self._collections is not None
        result = self._collections.apply_response(bank_id, key, data)
        rows: list[tuple[int | None, str]] = [(line or None, why) for line, why in result.problems]
        report = write_report(self._files, obj, etag_token(obj), rows) if rows else None
        summary = BankFileSummary(posixpath.basename(key), bank_id, "collection_response", result.outcomes, len(rows))
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
            cause = Cause(kind="bank_entry", source=key, position=f"pain.002 {update.end_to_end_id}")
            reason = f"direct debit rejected: {update.reason}"
            if self._reverse_booking(bank_id, update.end_to_end_id, reason, cause):
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
            # A credit returning one of our payouts is not a customer's payment (looked up only for returns).
            if self._is_credit(transaction) and not (transaction.return_reason and self._our_transfer(transaction)):
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

    def _reverse_booking(self, bank_id: str, end_to_end_id: str, reason: str, cause: Cause) -> bool:
        original = self._store.payment_by_reference(bank_id, end_to_end_id)
        if original is None or original.account_id is None or original.reversed:
            return False
        self._reverse_payment(original, reason, cause)
        return True

    def _reverse_payment(self, original: PaymentRecord, reason: str, cause: Cause) -> None:
        payment_id = original.payment_id
        assert original.account_id is not None

        def reverse(loaded: LoadedAccount, limit: int) -> Planned | None:
            if loaded.ledger.payments[payment_id].reversed:
                return None  # reversed meanwhile (a redelivery finished it first)
            return Planned(
                "reverse", cause, loaded.ledger.reverse(payment_id, reason, cause=cause, limit=limit), payment_id
            )

        self._operations.run(original.account_id, reverse, include=(payment_id,))

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
        if earlier is None or earlier.end_to_end_id != e2e:
            return False
        same_day = earlier.value_date == (transaction.value_date or transaction.booking_date)
        return same_day and earlier.amount == transaction.matching_amount

    def _match(self, transaction: BankTransaction) -> MatchDecision:
        return match_payer(transaction, self._directory)

    # -- one entry -------------------------------------------------------------------------------------------------
    def _apply(self, transaction: BankTransaction, bank_id: str, key: str, payment_id: str) -> str:
        if transaction.status is not EntryStatus.BOOKED:
            return "not_cash"  # pending and info entries are announcements; the booking comes later
        if not is_currency(transaction.currency):
            return f"rejected: unknown currency {transaction.currency!r} (not an ISO 4217 currency code)"
        if self._outgoing is not None and (ours := self._our_transfer(transaction)):
            cause = self._cause(key, transaction)
            if transaction.direction is Direction.DEBIT and not transaction.reversal:
                booked = transaction.booking_date or transaction.value_date or self._clock.today()
                return self._outgoing.debit_booked(ours, transaction.amount, cause, booked)
            # A credit returning our transfer, or the reversal of its debit: what it paid is owed again.
            reason = f"{transaction.return_reason or 'no reason code'}, entry {transaction.position}"
            return self._outgoing.returned(ours, reason, cause)
        if transaction.reversal or (transaction.direction is Direction.DEBIT and transaction.return_reason):
            return self._reverse(transaction, bank_id, key, payment_id)
        if transaction.direction is Direction.DEBIT:
            # Our own payments and charges, not receivables: none of our transfers, so a person looks at it.
            if self._outgoing is not None:
                return self._outgoing.unmatched_debit(payment_id, bank_id, transaction, key)
            return "outgoing"
        return self._receive(transaction, bank_id, key, payment_id)

    def _our_transfer(self, transaction: BankTransaction) -> str | None:
        """A debit, or a return of one, that names one of our payouts (end-to-end id, reference, remittance)."""
        outgoing_like = transaction.direction is Direction.DEBIT or transaction.reversal or transaction.return_reason
        if self._outgoing is None or not outgoing_like:
            return None
        references = [
            transaction.end_to_end_id or "",
            *transaction.structured_references,
            *" ".join(transaction.remittance_lines).split(),
        ]
        return self._outgoing.transfer_named([r for r in references if r][:20])

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
            notes=tuple(transaction.assumptions),
        )

    @staticmethod
    def _cause(key: str, transaction: BankTransaction) -> Cause:
        return Cause(kind="bank_entry", source=key, line=transaction.line, position=transaction.position)

    def _receive(
        self,
        transaction: BankTransaction,
        bank_id: str,
        key: str,
        payment_id: str,
        decision: MatchDecision | None = None,
    ) -> str:
        existing = self._store.get_payment(payment_id)
        if existing is not None:  # the same entry in an overlapping statement, the file sent again, or a redelivery
            return self._finish_existing(existing, transaction, bank_id, key)
        if self._reported_before(transaction, bank_id):
            return "duplicate"
        decision = decision or match_payer(transaction, self._directory)
        amount = transaction.matching_amount  # what the payer sent: bank charges are ours, not the customer's
        value_date = transaction.value_date or transaction.booking_date or self._clock.today()
        facts = self._facts(transaction, bank_id, key, payment_id, decision.method.value, decision.reason)
        cause = self._cause(key, transaction)
        if not decision.allocatable:
            self._to_suspense(facts, amount, transaction.currency, value_date, cause, decision.reason)
            return "unmatched"
        if len(decision.account_ids) > 1:
            return self._receive_over_accounts(transaction, decision, facts, amount, value_date, cause)
        return self._receive_on(
            decision.account_ids[0], facts, amount, transaction.currency, value_date, decision, cause
        )

    def _finish_existing(self, existing: PaymentRecord, transaction: BankTransaction, bank_id: str, key: str) -> str:
        """A payment already recorded: whatever a crash left undone after its first write is done now — the rest of
        an operation too large for one step, the reference pointers, the shares on the customer's other accounts —
        and nothing is posted twice."""
        facts = self._facts(
            transaction, bank_id, key, existing.payment_id, existing.match_method or "", existing.match_reason or ""
        )
        self._store.ensure_references(facts)
        if existing.account_id is not None and existing.pending is not None:
            self._operations.run(existing.account_id, lambda _loaded, _limit: None, include=(existing.payment_id,))
        return "duplicate"

    def _to_suspense(
        self, facts: PaymentFacts, amount: Decimal, currency: str, value_date: date, cause: Cause, reason: str
    ) -> None:
        posting = on_payment(PostingKind.PAYMENT_RECEIVED, facts.payment_id, -amount, f"into suspense: {reason}")
        entry = journal_entry(self._clock, SUSPENSE_ACCOUNT, currency, "receive", cause, [posting])
        event = Event(
            "PaymentUnmatched",
            {"payment_id": facts.payment_id, "amount": str(amount), "currency": currency, "reason": reason},
        )
        self._store.save_unmatched(facts, amount, currency, value_date, entry, [event])

    def _receive_on(
        self,
        account_id: str,
        facts: PaymentFacts,
        amount: Decimal,
        currency: str,
        value_date: date,
        decision: MatchDecision,
        cause: Cause,
    ) -> str:
        payment_id = facts.payment_id

        def receive(loaded: LoadedAccount, limit: int) -> Planned:
            step = loaded.ledger.receive(
                payment_id, amount, currency, value_date, cause=cause, first=decision.first_items, limit=limit
            )
            return Planned("receive", cause, step, payment_id)

        loaded = self._operations.run(account_id, receive, new_payment=facts)
        payment = loaded.ledger.payments[payment_id]
        return "applied" if payment.allocations else "credit"

    def _receive_over_accounts(
        self,
        transaction: BankTransaction,
        decision: MatchDecision,
        facts: PaymentFacts,
        amount: Decimal,
        value_date: date,
        cause: Cause,
    ) -> str:
        """A payment from a customer's IBAN goes over all that customer's accounts (same currency), in the
        allocation policy's order; each account's share is a payment of its own (``<id>-2``, ``<id>-3``…), the first
        keeps the entry's id and any surplus. Shares are written before the first, so a redelivery after a crash
        finds them and gives the first only what they did not take: nothing is received twice."""
        accounts = list(decision.account_ids)
        children = [f"{facts.payment_id}-{n}" for n in range(2, len(accounts) + 1)]
        taken = {cid: record for cid in children if (record := self._store.get_payment(cid)) is not None}
        if taken:
            for record in taken.values():  # finish what a crash interrupted
                if record.account_id is not None and record.pending is not None:
                    self._operations.run(record.account_id, lambda _l, _n: None, include=(record.payment_id,))
            shares: list[tuple[str, Decimal]] = []
            explanation = ""
            first_account = next(iter(taken.values())).first_account or accounts[0]
        else:
            shares, explanation = self._shares(accounts, amount, value_date, transaction.currency)
            first_account = shares[0][0]
        for n, (account_id, share) in enumerate(shares[1:], start=2):
            child = replace(
                facts,
                payment_id=f"{facts.payment_id}-{n}",
                bank_reference=facts.bank_reference,
                match_reason=f"{decision.reason}; {format_money(share)} of the entry's {format_money(amount)} on "
                f"account {account_id} ({explanation})",
                content_reference=None,
                first_account=first_account,
            )
            self._receive_on(account_id, child, share, transaction.currency, value_date, decision, cause)
            taken[child.payment_id] = PaymentRecord(
                child.payment_id, share, transaction.currency, value_date, share, ""
            )
        rest = amount - sum((r.amount for r in taken.values()), Decimal(0))
        first = replace(
            facts,
            match_reason=f"{decision.reason}; {format_money(rest)} of the entry's {format_money(amount)} on account "
            f"{first_account}"
            + (f", the rest on the customer's other accounts ({', '.join(sorted(taken))})" if taken else ""),
        )
        return self._receive_on(first_account, first, rest, transaction.currency, value_date, decision, cause)

    def _shares(
        self, account_ids: list[str], amount: Decimal, value_date: date, currency: str
    ) -> tuple[list[tuple[str, Decimal]], str]:
        """Each account's share by the allocation policy over all the accounts' open items (the accounts' common
        policy; FIFO when their types' policies differ), and how it was decided. The surplus stays with the first."""
        today = self._clock.today()
        ledgers = [loaded.ledger for a in account_ids if (loaded := self._store.load(a, on=today)) is not None]
        policies = [ledger.policy for ledger in ledgers]
        policy = policies[0] if policies and all(p == policies[0] for p in policies) else FIFO
        how = f"paid over the customer's accounts by {policy.describe()}"
        if policies and policy is FIFO and any(p != FIFO for p in policies):
            how += " (their account types' policies differ)"
        open_items = [item for ledger in ledgers for item in ledger.open_items()]
        shares: dict[str, Decimal] = {}
        if open_items:
            result = allocate(amount, open_items, policy=policy, value_date=value_date, currency=currency)
            by_item = {item.item_id: item.account_id for item in open_items}
            for allocation in result.allocations:
                account = by_item[allocation.item_id]
                shares[account] = shares.get(account, Decimal(0)) + allocation.amount
            remaining = result.unapplied
        if not shares:
            return [(account_ids[0], amount)], how
        first = next(iter(shares))
        shares[first] += remaining
        return list(shares.items()), how

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
                p for p in self._store.payments_by_content(content) if not p.reversed and p.account_id is not None
            ]
            if len(candidates) == 1:
                original = candidates[0]
                reason += f"; linked by account, amount and remittance text to payment {original.payment_id}"
            elif candidates:
                ids = ", ".join(sorted(p.payment_id for p in candidates))
                why = (
                    f"reversal ({transaction.return_reason or 'no reason code'}) fits several payments by account, "
                    f"amount and remittance text ({ids}): kept for manual review"
                )
        cause = self._cause(key, transaction)
        if original is None or original.account_id is None:
            if self._store.payment_exists(payment_id):
                return "duplicate"
            facts = replace(
                self._facts(transaction, bank_id, key, payment_id, MatchMethod.UNMATCHED.value, why), outgoing=True
            )
            value_date = transaction.value_date or transaction.booking_date or self._clock.today()
            self._to_suspense(facts, transaction.amount, transaction.currency, value_date, cause, why)
            return "unmatched"
        if original.reversed:
            if original.account_id:  # credit its return left behind may still be waiting for the reopened items
                self._operations.run(original.account_id, lambda _l, _n: None)
            return "duplicate"
        self._reverse_payment(original, reason, cause)
        return "reversed"


def payment_events(loaded: LoadedAccount, operation: str, payment_id: str, facts: PaymentFacts | None) -> list[Event]:
    """The events an operation's completion causes, from the state it committed."""
    ledger = loaded.ledger
    account_id = ledger.account_id
    payment = ledger.payments.get(payment_id)
    match operation:
        case "receive":
            assert payment is not None
            record = loaded.records.get(payment_id)
            method = facts.match_method if facts else (record.match_method if record else None)
            events = [
                Event(
                    "PaymentReceived",
                    {
                        "payment_id": payment_id,
                        "account_id": account_id,
                        "amount": str(payment.amount),
                        "currency": payment.currency,
                        "method": method,
                        "allocated": {k: str(v) for k, v in payment.allocations.items()},
                        "unapplied": str(payment.unapplied),
                    },
                )
            ]
            events += [
                Event("ItemPaid", {"item_id": item_id, "account_id": account_id, "payment_id": payment_id})
                for item_id in payment.allocations
                if ledger.items[item_id].open_amount == 0
            ]
            if ledger.balance <= 0 and any(loaded.open_at_load.values()):
                events.append(Event("AccountSettled", {"account_id": account_id, "payment_id": payment_id}))
            return events
        case "reverse":
            assert payment is not None
            return [
                Event(
                    "PaymentReversed",
                    {
                        "payment_id": payment_id,
                        "account_id": account_id,
                        "reason": _returned_reason(loaded, payment_id),
                    },
                )
            ]
        case "return_part":
            # A receipt's cheque bounced: what it paid reopens, dunning re-plans, commission on it stops being payable.
            assert payment is not None
            part = next(reversed(payment.returned))
            return [
                Event(
                    "PaymentPartReturned",
                    {
                        "payment_id": payment_id,
                        "account_id": account_id,
                        "part": part,
                        "amount": str(payment.returned[part]),
                        "reversed": payment.reversed,
                        "allocations": {k: str(v) for k, v in payment.allocations.items()},
                        "unapplied": str(payment.unapplied),
                    },
                )
            ]
        case "allocate":
            assert payment is not None
            return [
                Event(
                    "PaymentAllocatedManually",
                    {
                        "payment_id": payment_id,
                        "account_id": account_id,
                        "allocations": {k: str(v) for k, v in payment.allocations.items()},
                    },
                )
            ]
        case "unallocate":
            # Money taken back from an item reopens it: dunning re-plans and commission on it stops being payable.
            assert payment is not None
            return [
                Event(
                    "PaymentUnallocated",
                    {
                        "payment_id": payment_id,
                        "account_id": account_id,
                        "allocations": {k: str(v) for k, v in payment.allocations.items()},
                        "unapplied": str(payment.unapplied),
                    },
                )
            ]
        case "apply_credit":
            return [
                Event(
                    "CreditApplied",
                    {
                        "account_id": account_id,
                        "unapplied_credit": str(ledger.unapplied_credit),
                        "items": sorted(i for p in ledger.payments.values() for i in p.allocations),
                    },
                )
            ]
    return []


def _returned_reason(loaded: LoadedAccount, payment_id: str) -> str:
    payment = loaded.ledger.payments[payment_id]
    pending = payment.pending
    record = loaded.records.get(payment_id)
    return (pending.reason if pending else None) or (record.reversal_reason if record else None) or ""


class CreditApplication:
    """Credit → debit: when new items load on an account holding unapplied credit, the credit pays them at once."""

    def __init__(self, *, operations: AccountOperations) -> None:
        self._operations = operations

    def apply_credit(self, account_id: str) -> None:
        # Nothing of its own to do first: the runner finishes anything pending, then applies free credit.
        self._operations.run(account_id, lambda _loaded, _limit: None)
