"""The journal in the ledger table: one immutable record per operation step, under its account's partition.

``JRNL#<account_id>`` / ``<business date>#<entry id>``: an account's entries in the order they were written, a date
range one key condition. Postings are one compact JSON attribute (an entry of a 50-item step stays a few KB; a
map per posting would spend most of its bytes on attribute names). Items and payments keep the keys of the
entries that moved their money (``journal``), so either reads its own postings without walking the account's.

The entry record also carries the step's events (``outbox``): the stream consumer publishes them from what was
committed (functions/publish_events), so an event can neither go out for a change that failed nor be lost after a
change that succeeded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from receivables.adapters.dynamodb_batches import AttributeMap, batch_get, paginated
from receivables.adapters.keys import entry_key, item_key, journal_partition, outbox_key
from receivables.domain.journal import Cause, JournalEntry, Posting, PostingKind, Side
from receivables.domain.outbox import Event


def entry_sort_key(entry: JournalEntry) -> str:
    return f"{entry.business_date.isoformat()}#{entry.entry_id}"


def entry_ref(entry: JournalEntry) -> str:
    """How items and payments name an entry: ``<business date>#<entry id>#<account id>`` (neither of the first two
    contains ``#``; the account id may be the suspense account's, which does)."""
    return f"{entry_sort_key(entry)}#{entry.account_id}"


def parse_ref(ref: str) -> tuple[str, str]:
    """(account id, entry key) of a reference made by :func:`entry_ref`."""
    day, entry_id, account_id = ref.split("#", 2)
    return account_id, f"{day}#{entry_id}"


def _posting_json(posting: Posting) -> dict[str, str]:
    line = {"k": posting.kind.value, "s": posting.side.value, "a": str(posting.amount)}
    if posting.item_id is not None:
        line["i"] = posting.item_id
    if posting.payment_id is not None:
        line["p"] = posting.payment_id
    if posting.reason:
        line["r"] = posting.reason
    return line


def _posting(line: dict[str, str]) -> Posting:
    return Posting(
        kind=PostingKind(line["k"]),
        side=Side(line["s"]),
        amount=Decimal(line["a"]),
        item_id=line.get("i"),
        payment_id=line.get("p"),
        reason=line.get("r", ""),
    )


def entry_record(entry: JournalEntry, events: Sequence[Event] = ()) -> AttributeMap:
    record: AttributeMap = {
        **entry_key(entry.account_id, entry_sort_key(entry)),
        "entity": {"S": "journal_entry"},
        "entry_id": {"S": entry.entry_id},
        "account_id": {"S": entry.account_id},
        "currency": {"S": entry.currency},
        "business_date": {"S": entry.business_date.isoformat()},
        "recorded_at": {"S": entry.recorded_at.isoformat()},
        "operation": {"S": entry.operation},
        "cause": {"S": entry.cause.model_dump_json(exclude_none=True)},
        "postings": {"S": json.dumps([_posting_json(p) for p in entry.postings], ensure_ascii=False)},
    }
    if events:
        record["outbox"] = {"S": outbox_json(entry.entry_id, events)}
    return record


def outbox_json(origin: str, events: Sequence[Event]) -> str:
    """Events as the publisher reads them; each carries an id (origin + position) that consumers may dedupe by."""
    return json.dumps(
        [
            {
                "id": f"{origin}:{n}",
                "source": event.source,
                "detail_type": event.detail_type,
                "detail": {**event.detail, "event_id": f"{origin}:{n}"},
            }
            for n, event in enumerate(events)
        ],
        default=str,
        sort_keys=True,
        ensure_ascii=False,
    )


def entry_from_record(record: AttributeMap) -> JournalEntry:
    return JournalEntry(
        entry_id=record["entry_id"]["S"],
        account_id=record["account_id"]["S"],
        currency=record["currency"]["S"],
        business_date=date.fromisoformat(record["business_date"]["S"]),
        recorded_at=datetime.fromisoformat(record["recorded_at"]["S"]),
        operation=record["operation"]["S"],
        cause=Cause.model_validate_json(record["cause"]["S"]),
        postings=tuple(_posting(line) for line in json.loads(record["postings"]["S"])),
    )


class JournalReader:
    """Reads an account's journal: by date range and page, or the entries named by an item or a payment."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def page(
        self,
        account_id: str,
        *,
        since: date | None = None,
        until: date | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> tuple[list[JournalEntry], str | None]:
        """Up to ``limit`` entries from ``since`` to ``until`` (inclusive), after the entry key ``after``; and the
        key to continue from (None at the end)."""
        low = after or (since.isoformat() if since else "0")
        high = (until.isoformat() if until else "9999-12-31") + "#~"
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :p AND sk BETWEEN :low AND :high",
            "ExpressionAttributeValues": {
                ":p": {"S": journal_partition(account_id)},
                ":low": {"S": low},
                ":high": {"S": high},
            },
            "ConsistentRead": True,
        }
        entries: list[JournalEntry] = []
        for record in paginated(self._client.query, request):
            if after is not None and record["sk"]["S"] == after:
                continue  # BETWEEN is inclusive: the cursor's own entry was on the previous page
            if len(entries) == limit:
                return entries, entry_sort_key(entries[-1])
            entries.append(entry_from_record(record))
        return entries, None

    def all(self, account_id: str) -> Iterator[JournalEntry]:
        request = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": journal_partition(account_id)}},
            "ConsistentRead": True,
        }
        return (entry_from_record(r) for r in paginated(self._client.query, request))

    def entries(self, refs: Iterable[str]) -> list[JournalEntry]:
        """The entries named by references (:func:`entry_ref`), oldest first."""
        found = batch_get(self._client, self._table, [entry_key(*parse_ref(ref)) for ref in refs])
        return sorted((entry_from_record(r) for r in found), key=entry_sort_key)


def item_posting(record: AttributeMap) -> JournalEntry:
    """An item's own record read as the entry that posted it (``item_posted``): its amount, its file and line."""
    loaded_on = date.fromisoformat(record.get("loaded_on", record["issue_date"])["S"])
    key = record.get("journal_key", {}).get("S") or f"{loaded_on.isoformat()}#{'0' * 19}-item"
    source = record.get("source_file", {}).get("S") or record.get("source_file_id", {}).get("S", "")
    line = int(record["source_line"]["N"]) if "source_line" in record else None
    kind = "schedule" if source.startswith("plan:") else "file"
    return JournalEntry(
        entry_id=key.split("#", 1)[1],
        account_id=record["account_id"]["S"],
        currency=record["currency"]["S"],
        business_date=loaded_on,
        recorded_at=datetime.fromisoformat(record["recorded_at"]["S"])
        if "recorded_at" in record
        else datetime.combine(loaded_on, datetime.min.time()),
        operation="item_posted",
        cause=Cause(kind="api" if kind == "schedule" else "file", source=source, line=line)
        if source
        else Cause(kind="system", source="unknown"),
        postings=(
            Posting(
                kind=PostingKind.ITEM_POSTED,
                side=Side.ITEM,
                amount=posted_amount(record),
                item_id=record["item_id"]["S"],
                reason=f"{record.get('kind', {}).get('S', 'invoice')} posted",
            ),
        ),
    )


def posted_amount(record: AttributeMap) -> Decimal:
    """An item's own posting: what it was billed at first (an endorsement changes ``amount`` through postings)."""
    return Decimal(record.get("posted_amount", record["amount"])["N"])


def item_journal_key(record: AttributeMap) -> str:
    return record.get("journal_key", {}).get("S") or f"{record.get('loaded_on', record['issue_date'])['S']}#{'0' * 19}"


class AccountJournal:
    """An account's whole journal, as people read it: the items' own postings merged with the operations' entries,
    in the order they were recorded, a page at a time."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name
        self._entries = JournalReader(client, table_name)

    def item_records(self, account_id: str) -> list[AttributeMap]:
        from receivables.adapters.ledger_table import account_item_entries

        keys = [
            {"pk": r["pk"], "sk": {"S": "ITEM"}} for r in account_item_entries(self._client, self._table, account_id)
        ]
        return batch_get(self._client, self._table, keys)

    def page(
        self,
        account_id: str,
        *,
        since: date | None = None,
        until: date | None = None,
        item_id: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> tuple[list[JournalEntry], str | None]:
        low, high = (since.isoformat() if since else "0"), (until.isoformat() if until else "9999-12-31") + "#~"
        if item_id is not None:
            record = self._client.get_item(TableName=self._table, Key=item_key(item_id), ConsistentRead=True).get(
                "Item"
            )
            if record is None or record["account_id"]["S"] != account_id:
                return [], None
            refs = [r["S"] for r in record.get("journal", {}).get("L", [])]
            keyed = [(item_journal_key(record), item_posting(record))]
            keyed += [(entry_sort_key(e), _only_item(e, item_id)) for e in self._entries.entries(refs)]
        else:
            keyed = [(item_journal_key(r), item_posting(r)) for r in self.item_records(account_id)]
            # Entries of the range after the cursor; one more than a page tells whether another page follows.
            entries, _ = self._entries.page(account_id, since=since, until=until, after=after, limit=limit + 1)
            keyed += [(entry_sort_key(e), e) for e in entries]
        keyed = sorted(
            (k for k in keyed if low <= k[0] <= high and (after is None or k[0] > after)), key=lambda k: k[0]
        )
        page = keyed[:limit]
        more = len(keyed) > limit
        return [e for _, e in page], (page[-1][0] if more and page else None)


def _only_item(entry: JournalEntry, item_id: str) -> JournalEntry:
    return entry.model_copy(update={"postings": tuple(p for p in entry.postings if p.item_id == item_id)})


OUTBOX_DAYS = 7  # an outbox record has done its work once the stream carried it (24 h); then it expires


def outbox_record(origin: str, events: Sequence[Event], expires_at: int) -> AttributeMap:
    """A record that only carries events, for a transaction that writes no journal entry (a hold, a promise): put in
    the same transaction, published from the stream, expired by TTL."""
    return {
        **outbox_key(origin),
        "entity": {"S": "outbox"},
        "outbox": {"S": outbox_json(origin, events)},
        "expires_at": {"N": str(expires_at)},
    }
