"""What the loading use cases need from the outside world, stated as small protocols.

Adapters in ``receivables.adapters`` implement them over S3, DynamoDB, SQS and EventBridge; tests use in-memory fakes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from receivables.domain.billing import AccountRef, ExistingInvoice
from receivables.domain.records import AccountMaster, Customer, FileKind, Invoice, SubscriptionMaster
from receivables.insurance.parties import Party


@dataclass(frozen=True, slots=True)
class StoredObject:
    bucket: str
    key: str
    size: int
    etag: str


class ObjectNotFoundError(Exception):
    """The object is gone (already quarantined, deleted, or replaced)."""


class FileStore(Protocol):
    def describe(self, bucket: str, key: str) -> StoredObject: ...

    def read(self, obj: StoredObject, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The object's bytes [start, end) as blocks, pinned to ``obj.etag``."""
        ...

    def etag_of(self, bucket: str, key: str) -> str | None:
        """The object's ETag, or None when there is no such object."""
        ...

    def move(self, obj: StoredObject, new_key: str) -> None: ...

    def write_text(self, bucket: str, key: str, text: str) -> None: ...

    def write_bytes(self, bucket: str, key: str, body: bytes, content_type: str = "text/plain") -> None: ...

    def write_lines(self, bucket: str, key: str, lines: Iterable[str]) -> None:
        """Write a possibly large object from lines without holding it all in memory."""
        ...

    def read_text(self, bucket: str, key: str) -> str: ...


@dataclass(frozen=True, slots=True)
class FileRecord:
    file_id: str
    bucket: str
    key: str
    kind: FileKind
    status: str  # planned | finishing | loaded
    chunk_count: int
    chunks_done: int
    rows: int
    loaded: int
    skipped: int
    rejected: int
    chunks_with_rejections: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ChunkTally:
    loaded: int
    skipped: int
    rejected: int


class LoadRegistry(Protocol):
    """Which files and chunks have been loaded: what makes a redelivered event or re-uploaded file a no-op."""

    def register_file(self, record: FileRecord) -> FileRecord | None:
        """Store the record unless one with this id exists; return the existing one (None when newly stored)."""
        ...

    def record_chunk(self, file_id: str, index: int, tally: ChunkTally) -> FileRecord | None:
        """Atomically mark the chunk done and add its tally to the file. None if the chunk was already recorded."""
        ...

    def get_file(self, file_id: str) -> FileRecord | None: ...

    def claim_finish(self, file_id: str) -> bool:
        """Move the file from planned to finishing; False if another invocation already did."""
        ...

    def mark_file_loaded(self, file_id: str) -> bool:
        """Flip the file to loaded; False if another invocation already did."""
        ...


class Ledger(Protocol):
    def known_customers(self, customer_ids: Iterable[str]) -> dict[str, bool]:
        """The customers that exist among ``customer_ids``, each with whether it holds a direct-debit mandate."""
        ...

    def customer_fingerprints(self, customer_ids: Iterable[str]) -> dict[str, str]: ...

    def save_customers(self, customers: Sequence[tuple[Customer, str, int]]) -> None:
        """Upsert (customer, source file, line)."""
        ...

    def party_fingerprints(self, party_ids: Iterable[str]) -> dict[str, str]: ...

    def save_parties(self, parties: Sequence[tuple[Party, str, int]]) -> None:
        """Upsert (party, source file, line)."""
        ...

    def accounts(self, account_ids: Iterable[str]) -> dict[str, AccountRef]: ...

    def create_account(self, account: AccountRef, source_file: str) -> AccountRef | None:
        """Create unless it exists; return the existing account when it does (None when created)."""
        ...

    def existing_invoices(self, invoice_ids: Iterable[str]) -> dict[str, ExistingInvoice]: ...

    def create_items(
        self,
        rows: Sequence[tuple[Invoice, str, int]],
        loaded_on: date,
        source_file: str,
        collect: Collection[str] = frozenset(),
    ) -> dict[str, ExistingInvoice]:
        """Create each (invoice, file id, line) of ``source_file`` unless its id exists; return the ones that
        already existed. Invoices named in ``collect`` are to be collected by direct debit on their due date."""
        ...

    def ensure_subscriptions(self, pairs: Iterable[tuple[str, str]]) -> None: ...

    def account_master_fingerprints(self, account_ids: Iterable[str]) -> dict[str, str]: ...

    def save_account_master(self, master: AccountMaster, source_file: str, line: int) -> str | None:
        """Record an account's master data; the reason it is refused (unknown customer, another customer's
        account), else None."""
        ...

    def subscription_fingerprints(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]: ...

    def save_subscription(self, subscription: SubscriptionMaster, source_file: str, line: int) -> str | None: ...

    def advance_next_action(self, earliest: Mapping[str, date]) -> None:
        """Set each account's next-action date to the given one where it is absent or later."""
        ...


class CreditApplier(Protocol):
    def apply_credit(self, account_id: str) -> None:
        """Let the account's unapplied credit pay its open items."""
        ...


class ChunkQueue(Protocol):
    def send_chunks(self, messages: Sequence[Mapping[str, Any]]) -> None: ...


class EventPublisher(Protocol):
    def publish(self, detail_type: str, detail: Mapping[str, Any]) -> None: ...


def flush_events(publisher: EventPublisher) -> None:
    """Send what a batching publisher still holds (the others send as they go)."""
    flush = getattr(publisher, "flush", None)
    if flush is not None:
        flush()
