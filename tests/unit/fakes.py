"""In-memory implementations of the loading ports, for unit tests of the use cases."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from receivables.domain.billing import AccountRef, ExistingInvoice
from receivables.domain.records import Customer, Invoice
from receivables.insurance.parties import Party
from receivables.loading.ports import ChunkTally, FileRecord, ObjectNotFoundError, StoredObject


class FixedClock:
    def __init__(self, day: date) -> None:
        self.day = day

    def today(self) -> date:
        return self.day

    def now(self) -> datetime:
        return datetime(self.day.year, self.day.month, self.day.day, 9, tzinfo=UTC)


class MemoryFiles:
    def __init__(self, block: int = 64) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.block = block

    def put(self, bucket: str, key: str, data: bytes) -> None:
        self.objects[bucket, key] = data

    def describe(self, bucket: str, key: str) -> StoredObject:
        if (bucket, key) not in self.objects:
            raise ObjectNotFoundError(key)
        data = self.objects[bucket, key]
        return StoredObject(bucket, key, len(data), hashlib.md5(data).hexdigest())

    def read(self, obj: StoredObject, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        current = self.objects.get((obj.bucket, obj.key))
        if current is None or hashlib.md5(current).hexdigest() != obj.etag:  # S3's If-Match
            raise ObjectNotFoundError(obj.key)
        data = current[start:end]
        return (data[i : i + self.block] for i in range(0, len(data), self.block))

    def etag_of(self, bucket: str, key: str) -> str | None:
        return self.describe(bucket, key).etag if (bucket, key) in self.objects else None

    def move(self, obj: StoredObject, new_key: str) -> None:
        self.objects[obj.bucket, new_key] = self.objects.pop((obj.bucket, obj.key))

    def write_text(self, bucket: str, key: str, text: str) -> None:
        self.objects[bucket, key] = text.encode()

    def write_bytes(self, bucket: str, key: str, body: bytes, content_type: str = "text/plain") -> None:
        self.objects[bucket, key] = body

    def write_lines(self, bucket: str, key: str, lines: Iterable[str]) -> None:
        self.objects[bucket, key] = "".join(lines).encode()

    def read_text(self, bucket: str, key: str) -> str:
        return self.objects[bucket, key].decode()


class MemoryRegistry:
    def __init__(self) -> None:
        self.files: dict[str, FileRecord] = {}
        self.chunks: set[tuple[str, int]] = set()

    def register_file(self, record: FileRecord) -> FileRecord | None:
        if record.file_id in self.files:
            return self.files[record.file_id]
        self.files[record.file_id] = record
        return None

    def record_chunk(self, file_id: str, index: int, tally: ChunkTally) -> FileRecord | None:
        if (file_id, index) in self.chunks:
            return None
        self.chunks.add((file_id, index))
        f = self.files[file_id]
        self.files[file_id] = replace(
            f,
            chunks_done=f.chunks_done + 1,
            loaded=f.loaded + tally.loaded,
            skipped=f.skipped + tally.skipped,
            rejected=f.rejected + tally.rejected,
            chunks_with_rejections=tuple(sorted({*f.chunks_with_rejections, *([index] if tally.rejected else [])})),
        )
        return self.files[file_id]

    def get_file(self, file_id: str) -> FileRecord | None:
        return self.files.get(file_id)

    def claim_finish(self, file_id: str) -> bool:
        if self.files[file_id].status != "planned":
            return False
        self.files[file_id] = replace(self.files[file_id], status="finishing")
        return True

    def mark_file_loaded(self, file_id: str) -> bool:
        if self.files[file_id].status == "loaded":
            return False
        self.files[file_id] = replace(self.files[file_id], status="loaded")
        return True


class MemoryLedger:
    def __init__(self) -> None:
        self.customers: dict[str, Customer] = {}
        self.parties: dict[str, Party] = {}
        self.accounts_by_id: dict[str, AccountRef] = {}
        self.items: dict[str, ExistingInvoice] = {}
        self.subscriptions: set[tuple[str, str]] = set()
        self.to_collect: set[str] = set()

    def known_customers(self, customer_ids: Iterable[str]) -> dict[str, bool]:
        return {c: self.customers[c].mandate_id is not None for c in customer_ids if c in self.customers}

    def customer_fingerprints(self, customer_ids: Iterable[str]) -> dict[str, str]:
        return {c: self.customers[c].fingerprint() for c in customer_ids if c in self.customers}

    def save_customers(self, customers: Sequence[tuple[Customer, str, int]]) -> None:
        for customer, _, _ in customers:
            self.customers[customer.customer_id] = customer

    def party_fingerprints(self, party_ids: Iterable[str]) -> dict[str, str]:
        return {p: self.parties[p].fingerprint() for p in party_ids if p in self.parties}

    def save_parties(self, parties: Sequence[tuple[Party, str, int]]) -> None:
        for party, _, _ in parties:
            self.parties[party.party_id] = party

    def accounts(self, account_ids: Iterable[str]) -> dict[str, AccountRef]:
        return {a: self.accounts_by_id[a] for a in account_ids if a in self.accounts_by_id}

    def create_account(self, account: AccountRef, source_file: str) -> AccountRef | None:
        if account.account_id in self.accounts_by_id:
            return self.accounts_by_id[account.account_id]
        self.accounts_by_id[account.account_id] = account
        return None

    def existing_invoices(self, invoice_ids: Iterable[str]) -> dict[str, ExistingInvoice]:
        return {i: self.items[i] for i in invoice_ids if i in self.items}

    def create_items(
        self,
        rows: Sequence[tuple[Invoice, str, int]],
        loaded_on: date,
        source_file: str,
        collect: Collection[str] = frozenset(),
    ) -> dict[str, ExistingInvoice]:
        self.to_collect |= {invoice.invoice_id for invoice, _, _ in rows if invoice.invoice_id in collect}
        already = {}
        for invoice, file_id, line in rows:
            if invoice.invoice_id in self.items:
                already[invoice.invoice_id] = self.items[invoice.invoice_id]
            else:
                self.items[invoice.invoice_id] = ExistingInvoice(invoice, "", (file_id, line))
        return already

    def ensure_subscriptions(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.subscriptions |= set(pairs)

    def advance_next_action(self, earliest: Mapping[str, date]) -> None:
        for account_id, day in earliest.items():
            account = self.accounts_by_id[account_id]
            if account.next_action_on is None or account.next_action_on > day:
                self.accounts_by_id[account_id] = replace(account, next_action_on=day)


class MemoryQueue:
    def __init__(self) -> None:
        self.messages: list[Mapping[str, Any]] = []

    def send_chunks(self, messages: Sequence[Mapping[str, Any]]) -> None:
        self.messages.extend(messages)


class MemoryEvents:
    def __init__(self) -> None:
        self.events: list[tuple[str, Mapping[str, Any]]] = []

    def publish(self, detail_type: str, detail: Mapping[str, Any]) -> None:
        self.events.append((detail_type, detail))
