"""Use cases for loading billing/CRM files: plan a dropped file into chunks, load a chunk, finish the file.

A file's identity is the SHA-256 of its bytes plus its kind, so a redelivered S3 event and the same file uploaded again
(under any name) are both recognised. Each chunk is recorded once, atomically with the file's running tally; the
invocation that records the last chunk writes the rejection report and announces the file on the bus.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Literal

from pydantic import BaseModel, ConfigDict

from receivables.adjustments.model import AdjustmentStatus, validate_adjustment
from receivables.adjustments.service import AdjustmentConflictError, Adjustments, UnknownItemError
from receivables.domain.billing import InvoiceBatchPlan, conflict_reason, plan_invoice_batch
from receivables.domain.clock import Clock
from receivables.domain.journal import Cause
from receivables.domain.records import (
    INVOICE_COLUMNS,
    AccountMaster,
    Customer,
    FileKind,
    Invoice,
    SubscriptionMaster,
    clean_invoice,
    validate_account_master,
    validate_customer,
    validate_invoice,
    validate_subscription,
)
from receivables.insurance.parties import Party, validate_party
from receivables.loading.ports import (
    ChunkQueue,
    ChunkTally,
    CreditApplier,
    EventPublisher,
    FileRecord,
    FileStore,
    Ledger,
    LoadRegistry,
    ObjectNotFoundError,
    StoredObject,
)
from receivables.loading.reader import FileFormat, FileRejectedError, picker, plan_file, read_chunk_rows
from receivables.loading.reports import (
    REJECTED_PREFIX,
    REPORT_HEADER,
    csv_lines,
    quarantine,
    read_report_rows,
    report_key,
)

__all__ = ["REJECTED_PREFIX", "REPORT_HEADER", "ChunkMessage", "LoadingService", "PlanOutcome", "report_key"]

PARTS_PREFIX = "tmp/rejections/"
SAMPLE_REJECTIONS = 10

EVENT_SOURCE = "receivables.loading"


class ChunkMessage(BaseModel):
    """The SQS message that carries one chunk of a file to a loader."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    file_id: str
    bucket: str
    key: str
    etag: str
    size: int
    kind: FileKind
    file_format: FileFormat
    header: tuple[str, ...]
    index: int
    chunk_count: int
    start_byte: int
    end_byte: int
    first_line: int


@dataclass(frozen=True, slots=True)
class PlanOutcome:
    status: Literal["ignored", "gone", "rejected", "duplicate", "planned", "loaded"]
    detail: str
    file_id: str | None = None
    chunks: int = 0


def kind_of(key: str) -> FileKind | None:
    top = key.split("/", 1)[0]
    try:
        return FileKind(top)
    except ValueError:
        return None


def _part_key(file_id: str, index: int) -> str:
    return f"{PARTS_PREFIX}{file_id}/{index:06d}.csv"


class LoadingService:
    def __init__(
        self,
        *,
        files: FileStore,
        registry: LoadRegistry,
        ledger: Ledger,
        chunks: ChunkQueue | None,
        events: EventPublisher,
        clock: Clock,
        rows_per_chunk: int,
        credit: CreditApplier | None = None,
        adjustments: Adjustments | None = None,
    ) -> None:
        self._adjustments = adjustments
        self._files = files
        self._registry = registry
        self._ledger = ledger
        self._chunks = chunks
        self._events = events
        self._clock = clock
        self._rows_per_chunk = rows_per_chunk
        self._credit = credit

    # -- planning ------------------------------------------------------------------------------------------------
    def plan(self, bucket: str, key: str) -> PlanOutcome:
        kind = kind_of(key)
        if kind is None:
            return PlanOutcome("ignored", f"{key} is not under a loading prefix")
        try:
            obj = self._files.describe(bucket, key)
            plan = plan_file(self._files.read(obj), kind, rows_per_chunk=self._rows_per_chunk)
        except ObjectNotFoundError:
            return PlanOutcome("gone", f"{key} no longer exists (already quarantined or replaced)")
        except FileRejectedError as rejection:
            return self._reject_whole_file(obj, kind, rejection.reason)

        file_id = f"{plan.sha256}-{kind.value}"
        record = FileRecord(
            file_id=file_id,
            bucket=bucket,
            key=key,
            kind=kind,
            status="planned",
            chunk_count=len(plan.chunks),
            chunks_done=0,
            rows=plan.records,
            loaded=0,
            skipped=0,
            rejected=0,
        )
        existing = self._registry.register_file(record)
        if existing is not None and (existing.key != key or existing.status != "planned"):
            # The same bytes again: uploaded once more (under this or another name) or announced twice.
            again = "this file" if existing.key == key else existing.key
            detail = f"identical content was already received as {again}; nothing changes"
            self._events.publish("FileSkipped", {"file": key, "file_id": file_id, "reason": detail})
            return PlanOutcome("duplicate", detail, file_id)
        # New, or the same object planned before by an invocation that stopped: (re)send every chunk. Loading a
        # chunk twice is harmless; losing one would leave the file unfinished.
        if not plan.chunks:
            self._finish(self._registry.get_file(file_id) or record)
            return PlanOutcome("loaded", "file has no rows", file_id)
        assert self._chunks is not None, "planning needs the chunk queue"
        self._chunks.send_chunks(
            [
                ChunkMessage(
                    file_id=file_id,
                    bucket=bucket,
                    key=key,
                    etag=obj.etag,
                    size=obj.size,
                    kind=kind,
                    file_format=plan.file_format,
                    header=plan.header,
                    index=chunk.index,
                    chunk_count=len(plan.chunks),
                    start_byte=chunk.start_byte,
                    end_byte=chunk.end_byte,
                    first_line=chunk.first_line,
                ).model_dump(mode="json")
                for chunk in plan.chunks
            ]
        )
        return PlanOutcome("planned", f"{plan.records} rows in {len(plan.chunks)} chunks", file_id, len(plan.chunks))

    def _reject_whole_file(self, obj: StoredObject, kind: FileKind, reason: str) -> PlanOutcome:
        quarantine(self._files, self._events, obj, kind.value, reason)
        return PlanOutcome("rejected", reason)

    # -- loading a chunk -----------------------------------------------------------------------------------------
    def load_chunk(self, message: ChunkMessage) -> FileRecord:
        obj = StoredObject(message.bucket, message.key, message.size, message.etag)
        name = posixpath.basename(message.key)
        try:
            blocks = self._files.read(obj, message.start_byte, message.end_byte)
        except ObjectNotFoundError:
            # Overwritten or deleted while its chunks were queued: this part can no longer be read as it was.
            # The file still finishes, and says so; a replacement upload is a file of its own and loads itself.
            tally = ChunkTally(loaded=0, skipped=0, rejected=1)
            rejections = [
                (
                    message.first_line,
                    f"rows from line {message.first_line} on (part {message.index + 1} "
                    f"of {message.chunk_count}) not loaded: {message.key} was replaced or deleted first",
                )
            ]
        else:
            rows = read_chunk_rows(blocks, message.file_format, message.header, message.first_line)
            if message.kind is FileKind.CUSTOMERS:
                tally, rejections = self._load_customers(rows, name)
            elif message.kind is FileKind.PARTIES:
                tally, rejections = self._load_parties(rows, name)
            elif message.kind is FileKind.ADJUSTMENTS:
                tally, rejections = self._load_adjustments(rows, message.key)
            elif message.kind is FileKind.ACCOUNTS:
                tally, rejections = self._load_master(rows, name, accounts=True)
            elif message.kind is FileKind.SUBSCRIPTIONS:
                tally, rejections = self._load_master(rows, name, accounts=False)
            else:
                tally, rejections = self._load_invoices(rows, message.header, message.key, message.file_id)
        if rejections:
            rejections.sort()
            self._files.write_text(
                message.bucket,
                _part_key(message.file_id, message.index),
                csv_lines([(message.key, line, reason) for line, reason in rejections]),
            )
        record = self._registry.record_chunk(message.file_id, message.index, tally)
        if record is None:
            # A redelivery of a chunk already counted. If the file is complete but not finished, the invocation
            # that should have finished it stopped: finish it now (its events may then be sent twice).
            record = self._registry.get_file(message.file_id)
            assert record is not None, f"file {message.file_id} has chunks but no record"
            if record.chunks_done >= record.chunk_count and record.status != "loaded":
                self._finish(record)
        elif record.chunks_done >= record.chunk_count and self._registry.claim_finish(message.file_id):
            # Two last chunks recorded at once both see the file complete; only the one that claims it finishes.
            self._finish(record)
        return record

    def _load_customers(self, rows: Iterator, file_name: str) -> tuple[ChunkTally, list[tuple[int, str]]]:
        rejections: list[tuple[int, str]] = []
        latest: dict[str, tuple[Customer, int]] = {}
        superseded = 0
        for row in rows:
            if row.problem is not None:
                rejections.append((row.line, row.problem))
                continue
            result = validate_customer(row.values or {})
            if isinstance(result, list):
                rejections.append((row.line, "; ".join(result)))
                continue
            if result.customer_id in latest:
                superseded += 1  # a later row for the same customer in this chunk wins
            latest[result.customer_id] = (result, row.line)
        stored = self._ledger.customer_fingerprints(latest)
        changed = [
            (customer, file_name, line)
            for customer, line in latest.values()
            if stored.get(customer.customer_id) != customer.fingerprint()
        ]
        self._ledger.save_customers(changed)
        skipped = len(latest) - len(changed)
        return ChunkTally(loaded=len(changed) + superseded, skipped=skipped, rejected=len(rejections)), rejections

    def _load_parties(self, rows: Iterator, file_name: str) -> tuple[ChunkTally, list[tuple[int, str]]]:
        """Parties by the customers' rules: a rejection per bad line, the last row of an id wins, unchanged rows are
        skipped (exactly once by content)."""
        rejections: list[tuple[int, str]] = []
        latest: dict[str, tuple[Party, int]] = {}
        superseded = 0
        for row in rows:
            if row.problem is not None:
                rejections.append((row.line, row.problem))
                continue
            result = validate_party(row.values or {})
            if isinstance(result, list):
                rejections.append((row.line, "; ".join(result)))
                continue
            superseded += result.party_id in latest
            latest[result.party_id] = (result, row.line)
        stored = self._ledger.party_fingerprints(latest)
        changed = [(p, file_name, line) for p, line in latest.values() if stored.get(p.party_id) != p.fingerprint()]
        self._ledger.save_parties(changed)
        skipped = len(latest) - len(changed)
        return ChunkTally(loaded=len(changed) + superseded, skipped=skipped, rejected=len(rejections)), rejections

    def _load_master(
        self, rows: Iterator, file_name: str, *, accounts: bool
    ) -> tuple[ChunkTally, list[tuple[int, str]]]:
        """Account or subscription master data by the customers' rules: a rejection per bad line, the last row of
        an id wins, unchanged rows are skipped."""
        rejections: list[tuple[int, str]] = []
        # An account by its id; a subscription by its account and id, so a row moving it to another account is
        # judged (and refused) on its own rather than superseding the row that placed it.
        latest: dict[str | tuple[str, str], tuple[AccountMaster | SubscriptionMaster, int]] = {}
        superseded = 0
        for row in rows:
            if row.problem is not None:
                rejections.append((row.line, row.problem))
                continue
            result = validate_account_master(row.values or {}) if accounts else validate_subscription(row.values or {})
            if isinstance(result, list):
                rejections.append((row.line, "; ".join(result)))
                continue
            name = (
                result.account_id if isinstance(result, AccountMaster) else (result.account_id, result.subscription_id)
            )
            superseded += name in latest
            latest[name] = (result, row.line)
        stored: dict[str | tuple[str, str], str] = {}
        if accounts:
            stored.update(self._ledger.account_master_fingerprints(n for n in latest if isinstance(n, str)))
        else:
            stored.update(self._ledger.subscription_fingerprints(n for n in latest if isinstance(n, tuple)))
        loaded = skipped = 0
        for name, (master, line) in latest.items():
            if stored.get(name) == master.fingerprint():
                skipped += 1
                continue
            if isinstance(master, AccountMaster):
                refused = self._ledger.save_account_master(master, file_name, line)
            else:
                refused = self._ledger.save_subscription(master, file_name, line)
            if refused:
                rejections.append((line, refused))
            else:
                loaded += 1
        return ChunkTally(loaded=loaded + superseded, skipped=skipped, rejected=len(rejections)), rejections

    def _load_adjustments(self, rows: Iterator, key: str) -> tuple[ChunkTally, list[tuple[int, str]]]:
        """Each line one adjustment, applied in the file's order, exactly once by its id: a line sent before is
        skipped; a refused one (a paid item cancelled…) is recorded with its reason and rejected in the report."""
        assert self._adjustments is not None, "loading adjustments needs the adjustments service"
        rejections: list[tuple[int, str]] = []
        loaded = skipped = 0
        for row in rows:
            if row.problem is not None:
                rejections.append((row.line, row.problem))
                continue
            request = validate_adjustment(row.values or {})
            if isinstance(request, list):
                rejections.append((row.line, "; ".join(request)))
                continue
            cause = Cause(kind="file", source=key, line=row.line)
            try:
                before = self._adjustments.recorded(request.adjustment_id)
                adjustment = self._adjustments.submit(request, cause=cause, actor=key)
            except (UnknownItemError, AdjustmentConflictError) as exc:
                rejections.append((row.line, str(exc)))
                continue
            if adjustment.status is AdjustmentStatus.REFUSED:
                rejections.append((row.line, f"adjustment {request.adjustment_id} refused: {adjustment.explanation}"))
            elif before:
                skipped += 1
            else:
                loaded += 1
        return ChunkTally(loaded=loaded, skipped=skipped, rejected=len(rejections)), rejections

    def _load_invoices(
        self, rows: Iterator, header: tuple[str, ...], source_key: str, file_id: str
    ) -> tuple[ChunkTally, list[tuple[int, str]]]:
        rejections: list[tuple[int, str]] = []
        parsed: list[tuple[int, Invoice]] = []
        pick_cells = picker(header, INVOICE_COLUMNS)  # once per chunk: this loop runs for every row
        for row in rows:
            if row.problem is not None:
                rejections.append((row.line, row.problem))
                continue
            fields = pick_cells(row.cells) if row.cells is not None else row.pick(INVOICE_COLUMNS)
            result = clean_invoice(fields) or validate_invoice(row.values or {})
            if isinstance(result, list):
                rejections.append((row.line, "; ".join(result)))
            else:
                parsed.append((row.line, result))
        ledger = self._ledger
        known = ledger.known_customers({invoice.customer_id for _, invoice in parsed})
        accounts = ledger.accounts({invoice.account_id for _, invoice in parsed})
        existing = ledger.existing_invoices({invoice.invoice_id for _, invoice in parsed})

        def decide() -> InvoiceBatchPlan:
            return plan_invoice_batch(
                parsed, known_customers=known, accounts=accounts, existing=existing, file_id=file_id
            )

        plan = decide()
        raced = {}
        for account in plan.new_accounts.values():
            # A new account is written once, already carrying its first next-action date.
            first_action = plan.next_action_on.pop(account.account_id, None)
            opening = replace(account, next_action_on=max(first_action, self._clock.today()) if first_action else None)
            stored = ledger.create_account(opening, source_key)
            if stored is not None:
                raced[account.account_id] = stored
        if raced:  # another loader opened the account first: judge the rows against what it stored
            accounts = {**accounts, **raced}
            plan = decide()
        already = ledger.create_items(
            [(decision.invoice, file_id, decision.line) for decision in plan.new_items],
            self._clock.today(),
            source_key,
            collect={d.invoice.invoice_id for d in plan.new_items if known.get(d.invoice.customer_id)},
        )
        loaded = len(plan.loaded_before)
        for decision in plan.new_items:
            earlier = already.get(decision.invoice.invoice_id)
            if earlier is None:
                loaded += 1
            elif earlier.invoice == decision.invoice:
                plan.skipped.append(decision.line)
            else:
                plan.rejected.append((decision.line, conflict_reason(earlier.invoice, decision.invoice)))
        ledger.ensure_subscriptions(
            {(d.invoice.account_id, d.invoice.subscription_id) for d in plan.new_items if d.invoice.subscription_id}
        )
        # An item overdue at load is reviewed from today on: a next action in the past is a partition no run reads.
        today = self._clock.today()
        ledger.advance_next_action({a: max(d, today) for a, d in plan.next_action_on.items()})
        if self._credit is not None:
            # Debit → credit: money already received for an account pays what was just billed to it. Items this
            # file loaded in an earlier attempt count too: a chunk redelivered after a crash between loading its
            # items and applying credit must still apply it (a no-op where nothing is left to apply).
            invoices_by_line = dict(parsed)
            created = {
                d.invoice.account_id
                for d in plan.new_items
                if d.invoice.invoice_id not in already or already[d.invoice.invoice_id].invoice == d.invoice
            } | {invoices_by_line[line].account_id for line in plan.loaded_before}
            for account_id in sorted(created):
                if account_id in accounts and accounts[account_id].unapplied_credit > 0:
                    self._credit.apply_credit(account_id)
        rejections.extend(plan.rejected)
        return ChunkTally(loaded=loaded, skipped=len(plan.skipped), rejected=len(rejections)), rejections

    # -- finishing a file ----------------------------------------------------------------------------------------
    def _finish(self, record: FileRecord) -> None:
        name = posixpath.basename(record.key)
        report = None
        samples: list[dict[str, object]] = []
        if record.rejected:
            report = report_key(record.key, record.file_id)
            self._files.write_lines(record.bucket, report, self._report_lines(record, samples))
        summary = {
            "file": record.key,
            "file_id": record.file_id,
            "kind": record.kind.value,
            "rows": record.rows,
            "loaded": record.loaded,
            "skipped": record.skipped,
            "rejected": record.rejected,
            "report": report,
        }
        if record.rejected:
            self._events.publish(
                "RowsRejected",
                {"file": record.key, "name": name, "rejected": record.rejected, "report": report, "sample": samples},
            )
        self._events.publish("FileLoaded", summary)
        self._registry.mark_file_loaded(record.file_id)

    def _report_lines(self, record: FileRecord, samples: list[dict[str, object]]) -> Iterator[str]:
        yield csv_lines([REPORT_HEADER])
        for index in sorted(record.chunks_with_rejections):
            text = self._files.read_text(record.bucket, _part_key(record.file_id, index))
            if len(samples) < SAMPLE_REJECTIONS:
                for file_key, line, reason in read_report_rows(text):
                    if len(samples) < SAMPLE_REJECTIONS:
                        samples.append({"file": file_key, "line": int(line), "reason": reason})
            yield text
