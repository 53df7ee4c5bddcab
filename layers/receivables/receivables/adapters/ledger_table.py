"""The ledger in one DynamoDB table (design and costs: docs/dynamodb.md).

Records are built as low-level attribute maps by hand: this runs for every loaded row, and boto3's TypeSerializer
costs more per item than all our validation. Money is stored as DynamoDB numbers (exact decimals), never floats.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from receivables.adapters.attributes import is_condition_failure as _is_condition_failure
from receivables.adapters.attributes import string as _s
from receivables.adapters.attributes import text as _text
from receivables.adapters.dynamodb_batches import AttributeMap, batch_get, batch_put, paginated
from receivables.adapters.insurance_table import party_record
from receivables.adapters.keys import (
    account_key,
    account_partition,
    collection_partition,
    customer_key,
    customer_partition,
    iban_partition,
    item_key,
    key,
    next_action_partition,
    next_action_partitions,
    party_key,
    subscription_key,
    subscription_pointer_key,
)
from receivables.domain.billing import AccountRef, ExistingInvoice
from receivables.domain.ledger import (
    AccountView,
    CustomerView,
    ItemKind,
    ItemStatus,
    ItemView,
    MandateView,
    SourceRef,
    account_balance,
    item_status,
)
from receivables.domain.records import AccountMaster, Customer, Invoice, SubscriptionMaster
from receivables.insurance.parties import Party


def invoice_record(
    invoice: Invoice, file_id: str, line: int, loaded_on: str, source_file: str, recorded_at: str = ""
) -> AttributeMap:
    # Built once per loaded row: fields are unpacked once (NamedTuple attribute access costs more than locals), and
    # amounts are already quantized to cents by validation, so str() is their 2-decimal form.
    invoice_id, customer_id, account_id, issue_date, due_date, amount, currency, subscription_id, description = invoice
    due = due_date.isoformat()
    money = {"N": str(amount)}
    record: AttributeMap = {
        "pk": {"S": "ITEM#" + invoice_id},
        "sk": {"S": "ITEM"},
        "kind": {"S": "invoice"},
        "item_id": {"S": invoice_id},
        "account_id": {"S": account_id},
        "customer_id": {"S": customer_id},
        "issue_date": {"S": issue_date.isoformat()},
        "due_date": {"S": due},
        "amount": money,
        "open_amount": money,
        "currency": {"S": currency},
        "source_file_id": {"S": file_id},
        "source_file": {"S": source_file},
        "source_line": {"N": str(line)},
        "loaded_on": {"S": loaded_on},
        # The item record is its own journal posting (item_posted): where it sorts among the account's entries.
        "journal_key": {"S": f"{loaded_on}#{time.time_ns():019d}-item"},
        "gsi1pk": {"S": "ACCT#" + account_id},
        "gsi1sk": {"S": f"ITEM#{due}#{invoice_id}"},
    }
    if recorded_at:
        record["recorded_at"] = {"S": recorded_at}
    if subscription_id:
        record["subscription_id"] = {"S": subscription_id}
    if description:
        record["description"] = {"S": description}
    return record


def invoice_from_record(record: AttributeMap) -> Invoice:
    return Invoice(
        invoice_id=record["item_id"]["S"],
        customer_id=record["customer_id"]["S"],
        account_id=record["account_id"]["S"],
        issue_date=date.fromisoformat(record["issue_date"]["S"]),
        due_date=date.fromisoformat(record["due_date"]["S"]),
        amount=Decimal(record["amount"]["N"]),
        currency=record["currency"]["S"],
        subscription_id=_text(record, "subscription_id"),
        description=_text(record, "description"),
    )


def _existing(record: AttributeMap) -> ExistingInvoice:
    source = None
    if "source_file_id" in record and "source_line" in record:
        source = (record["source_file_id"]["S"], int(record["source_line"]["N"]))
    return ExistingInvoice(invoice_from_record(record), fingerprint="", source=source)


def item_view(record: AttributeMap) -> ItemView:
    amount = Decimal(record["amount"]["N"])
    open_amount = Decimal(record["open_amount"]["N"])
    source = None
    if "source_file_id" in record:
        source = SourceRef(
            file=_text(record, "source_file") or record["source_file_id"]["S"], line=int(record["source_line"]["N"])
        )
    stored_status = _text(record, "status")
    closed = stored_status in (ItemStatus.RESTRUCTURED.value, ItemStatus.CANCELLED.value, ItemStatus.WRITTEN_OFF.value)
    return ItemView(
        item_id=record["item_id"]["S"],
        kind=ItemKind(_text(record, "kind") or ItemKind.INVOICE.value),
        account_id=record["account_id"]["S"],
        customer_id=record["customer_id"]["S"],
        subscription_id=_text(record, "subscription_id"),
        issue_date=date.fromisoformat(record["issue_date"]["S"]),
        due_date=date.fromisoformat(record["due_date"]["S"]),
        amount=amount,
        open_amount=open_amount,
        currency=record["currency"]["S"],
        status=ItemStatus(stored_status) if closed and stored_status else item_status(amount, open_amount),
        description=_text(record, "description"),
        source=source,
        policy_id=_text(record, "policy_id"),
        installment_no=int(record["installment_no"]["N"]) if "installment_no" in record else None,
    )


def iban_lookup_record(iban: str, customer_id: str) -> AttributeMap:
    return {"pk": _s(iban_partition(iban)), "sk": _s(customer_partition(customer_id)), "customer_id": _s(customer_id)}


def customer_record(customer: Customer, source_file: str, line: int, now: datetime) -> AttributeMap:
    record: AttributeMap = {
        **customer_key(customer.customer_id),
        "entity": _s("customer"),
        "customer_id": _s(customer.customer_id),
        "name": _s(customer.name),
        "type": _s(customer.type),
        "city": _s(customer.city),
        "phone": _s(customer.phone),
        "language": _s(customer.language),
        "vip": {"BOOL": customer.vip},
        "attributes": {"M": {k: _s(v) for k, v in customer.attributes.items()}},
        "fingerprint": _s(customer.fingerprint()),
        "source_file": _s(source_file),
        "source_line": {"N": str(line)},
        "updated_at": _s(now.isoformat()),
    }
    if customer.email:
        record["email"] = _s(customer.email)
    if customer.iban:
        record["iban"] = _s(customer.iban)
    if customer.risk_score is not None:
        record["risk_score"] = {"N": str(customer.risk_score)}
    if customer.mandate_id and customer.mandate_date:
        record["mandate_id"] = _s(customer.mandate_id)
        record["mandate_date"] = _s(customer.mandate_date.isoformat())
        if customer.mandate_bank_id:
            record["mandate_bank_id"] = _s(customer.mandate_bank_id)
    for name in ("autopay_method", "autopay_bank_id", "autopay_token", "address", "postal_code", "district"):
        if value := getattr(customer, name):
            record[name] = _s(value)
    if customer.national_id:
        record["national_id"] = _s(customer.national_id)
    if customer.postal_address_known:
        record["postal_address_known"] = {"BOOL": True}
    return record


def account_profile_key(account_id: str) -> AttributeMap:
    """An account's master data from CRM, kept whether or not the account is open yet."""
    return key(account_partition(account_id), "PROFILE")


def account_master_attributes(master: AccountMaster) -> dict[str, str | None]:
    """How master data sits on the account record (None: removed; the type defaults to standard)."""
    return {
        "account_type": master.account_type or "standard",
        "account_name": master.name,
        "billing_address": master.billing_address,
        "billing_city": master.city,
        "billing_postal_code": master.postal_code,
        "account_status": master.status,
    }


def account_master_record(master: AccountMaster, source_file: str, line: int, now: str) -> AttributeMap:
    record: AttributeMap = {
        **account_profile_key(master.account_id),
        "entity": _s("account_profile"),
        "account_id": _s(master.account_id),
        "customer_id": _s(master.customer_id),
        "fingerprint": _s(master.fingerprint()),
        "source_file": _s(source_file),
        "source_line": {"N": str(line)},
        "updated_at": _s(now),
    }
    for name in ("account_type", "name", "billing_address", "city", "postal_code", "status"):
        if value := getattr(master, name):
            record[name] = _s(value)
    return record


def account_master_from_record(record: AttributeMap) -> AccountMaster:
    return AccountMaster(
        account_id=record["account_id"]["S"],
        customer_id=record["customer_id"]["S"],
        **{n: _text(record, n) for n in ("account_type", "name", "billing_address", "city", "postal_code", "status")},
    )


def _account_ref(record: AttributeMap) -> AccountRef:
    next_action = _text(record, "next_action_on")
    return AccountRef(
        account_id=record["account_id"]["S"],
        customer_id=record["customer_id"]["S"],
        currency=record["currency"]["S"],
        next_action_on=date.fromisoformat(next_action) if next_action else None,
        unapplied_credit=Decimal(record.get("unapplied_credit", {}).get("N", "0")),
        account_type=_text(record, "account_type") or "standard",
    )


def account_item_entries(client: Any, table: str, account_id: str) -> Iterator[AttributeMap]:
    """The index entries (keys only) of an account's items, oldest due first."""
    return paginated(
        client.query,
        {
            "TableName": table,
            "IndexName": "by_account",
            "KeyConditionExpression": "gsi1pk = :p AND begins_with(gsi1sk, :items)",
            "ExpressionAttributeValues": {":p": _s(account_partition(account_id)), ":items": _s("ITEM#")},
        },
    )


class LedgerTable:
    """Reads and writes of customers, accounts, subscriptions and items."""

    def __init__(self, client: Any, table_name: str, *, clock: Any, write_workers: int = 8) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock
        self._pool = ThreadPoolExecutor(max_workers=write_workers, thread_name_prefix="ddb-write")

    # -- customers ----------------------------------------------------------------------------------------------
    def known_customers(self, customer_ids: Iterable[str]) -> dict[str, bool]:
        found = batch_get(
            self._client,
            self._table,
            (customer_key(c) for c in customer_ids),
            projection="customer_id, mandate_id, autopay_method",
        )
        # True: someone collects this customer's items (a mandate, or an auto-pay instruction), so they are indexed
        # by due date for the collection runs.
        return {record["customer_id"]["S"]: "mandate_id" in record or "autopay_method" in record for record in found}

    def customer_fingerprints(self, customer_ids: Iterable[str]) -> dict[str, str]:
        found = batch_get(
            self._client, self._table, (customer_key(c) for c in customer_ids), projection="customer_id, fingerprint"
        )
        return {r["customer_id"]["S"]: r.get("fingerprint", {}).get("S", "") for r in found}

    def save_customers(self, customers: Sequence[tuple[Customer, str, int]]) -> None:
        now = self._clock.now()
        records = [customer_record(c, f, line, now) for c, f, line in customers]
        # Who pays from an IBAN: payer matching's third rule. A lookup entry per IBAN and customer; a stale one (the
        # customer changed IBAN) is harmless because matching checks the customer's current IBAN.
        records += [iban_lookup_record(c.iban, c.customer_id) for c, _, _ in customers if c.iban]
        batch_put(self._client, self._table, records)

    def get_customer(self, customer_id: str) -> CustomerView | None:
        record = self._client.get_item(TableName=self._table, Key=customer_key(customer_id), ConsistentRead=True).get(
            "Item"
        )
        if record is None:
            return None
        account_ids = [
            r["gsi1sk"]["S"].removeprefix("ACCT#")
            for r in self._query_index("by_account", "gsi1pk", customer_partition(customer_id), "ACCT#")
        ]
        return CustomerView(
            customer_id=record["customer_id"]["S"],
            name=record["name"]["S"],
            type=record["type"]["S"],
            city=record["city"]["S"],
            phone=record["phone"]["S"],
            language=record["language"]["S"],
            email=_text(record, "email"),
            iban=_text(record, "iban"),
            vip=record["vip"]["BOOL"],
            risk_score=int(record["risk_score"]["N"]) if "risk_score" in record else None,
            attributes={k: v["S"] for k, v in record.get("attributes", {}).get("M", {}).items()},
            mandate=MandateView(
                mandate_id=record["mandate_id"]["S"],
                signed_on=date.fromisoformat(record["mandate_date"]["S"]),
                bank_id=_text(record, "mandate_bank_id"),
            )
            if "mandate_id" in record
            else None,
            account_ids=sorted(account_ids),
            address=_text(record, "address"),
            postal_code=_text(record, "postal_code"),
            district=_text(record, "district"),
            national_id=_text(record, "national_id"),
            source=SourceRef(file=record["source_file"]["S"], line=int(record["source_line"]["N"])),
            updated_at=datetime.fromisoformat(record["updated_at"]["S"]),
        )

    # -- parties (the loader's; the rest of the sub-ledger is adapters/insurance_table.py) ----------------------------
    def party_fingerprints(self, party_ids: Iterable[str]) -> dict[str, str]:
        found = batch_get(
            self._client, self._table, (party_key(p) for p in party_ids), projection="party_id, fingerprint"
        )
        return {r["party_id"]["S"]: r.get("fingerprint", {}).get("S", "") for r in found}

    def save_parties(self, parties: Sequence[tuple[Party, str, int]]) -> None:
        now = self._clock.now()
        batch_put(self._client, self._table, [party_record(p, f, line, now) for p, f, line in parties])

    # -- accounts -----------------------------------------------------------------------------------------------
    def accounts(self, account_ids: Iterable[str]) -> dict[str, AccountRef]:
        found = batch_get(
            self._client,
            self._table,
            (account_key(a) for a in account_ids),
            projection="account_id, customer_id, currency, next_action_on, unapplied_credit",
        )
        return {r["account_id"]["S"]: _account_ref(r) for r in found}

    def create_account(self, account: AccountRef, source_file: str) -> AccountRef | None:
        record = {
            **account_key(account.account_id),
            "entity": _s("account"),
            "account_id": _s(account.account_id),
            "customer_id": _s(account.customer_id),
            "currency": _s(account.currency),
            "account_type": _s("standard"),
            "opened_on": _s(self._clock.today().isoformat()),
            "source_file": _s(source_file),
            "gsi1pk": _s(customer_partition(account.customer_id)),
            "gsi1sk": _s(account_partition(account.account_id)),
        }
        if account.next_action_on:
            record |= {
                "next_action_on": _s(account.next_action_on.isoformat()),
                "gsi2pk": _s(next_action_partition(account.next_action_on, account.account_id)),
                "gsi2sk": _s(account_partition(account.account_id)),
            }
        try:
            self._client.put_item(TableName=self._table, Item=record, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if not _is_condition_failure(error):
                raise
            stored = self._client.get_item(
                TableName=self._table, Key=account_key(account.account_id), ConsistentRead=True
            )["Item"]
            return _account_ref(stored)
        # Master data that arrived before the first invoice: read after the put, as its writer updates the account
        # after its own put, so whichever comes second sees the other's record.
        profile = self._client.get_item(
            TableName=self._table, Key=account_profile_key(account.account_id), ConsistentRead=True
        ).get("Item")
        if profile is not None and profile["customer_id"]["S"] == account.customer_id:
            self._apply_master(account_master_from_record(profile))
        return None

    # -- account and subscription master data ------------------------------------------------------------------
    def save_account_master(self, master: AccountMaster, source_file: str, line: int) -> str | None:
        """Record an account's master data (and put it on the account, when it is open); the reason it is
        refused otherwise. An account never changes customer."""
        customer = self._client.get_item(
            TableName=self._table, Key=customer_key(master.customer_id), ProjectionExpression="pk"
        ).get("Item")
        if customer is None:
            return f"customer_id: customer {master.customer_id} is not loaded (load the customers file first)"
        for record_key in (account_key(master.account_id), account_profile_key(master.account_id)):
            stored = self._client.get_item(
                TableName=self._table, Key=record_key, ConsistentRead=True, ProjectionExpression="customer_id"
            ).get("Item")
            if stored is not None and stored["customer_id"]["S"] != master.customer_id:
                return (
                    f"account_id: account {master.account_id} belongs to customer {stored['customer_id']['S']}, "
                    f"not {master.customer_id}"
                )
        self._client.put_item(
            TableName=self._table,
            Item=account_master_record(master, source_file, line, self._clock.now().isoformat()),
        )
        self._apply_master(master)
        return None

    def account_master_fingerprints(self, account_ids: Iterable[str]) -> dict[str, str]:
        found = batch_get(
            self._client, self._table, (account_profile_key(a) for a in account_ids), projection="pk, fingerprint"
        )
        return {r["pk"]["S"].removeprefix("ACCT#"): r["fingerprint"]["S"] for r in found}

    def _apply_master(self, master: AccountMaster) -> None:
        """The master data onto the open account record, where the payment and dunning paths read it."""
        sets, removes, values = [], [], {":c": _s(master.customer_id)}
        for name, value in account_master_attributes(master).items():
            if value is None:
                removes.append(name)
            else:
                sets.append(f"{name} = :{name}")
                values[f":{name}"] = _s(value)
        expression = "SET " + ", ".join(sets) if sets else ""
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        try:
            self._client.update_item(
                TableName=self._table,
                Key=account_key(master.account_id),
                UpdateExpression=expression.strip(),
                ConditionExpression="attribute_exists(pk) AND customer_id = :c",
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if not _is_condition_failure(error):
                raise  # not open yet: its first invoice opens it with this master data

    def account_known(self, account_id: str) -> bool:
        return any(
            self._client.get_item(TableName=self._table, Key=record_key, ProjectionExpression="pk").get("Item")
            for record_key in (account_key(account_id), account_profile_key(account_id))
        )

    def save_subscription(self, subscription: SubscriptionMaster, source_file: str, line: int) -> str | None:
        """Record a subscription's master data under its account; the reason it is refused otherwise."""
        pointer = self._client.get_item(
            TableName=self._table, Key=subscription_pointer_key(subscription.subscription_id), ConsistentRead=True
        ).get("Item")
        if pointer is not None and pointer["account_id"]["S"] != subscription.account_id:
            return (
                f"subscription_id: subscription {subscription.subscription_id} bills to account "
                f"{pointer['account_id']['S']}, not {subscription.account_id}"
            )
        if pointer is None and not self.account_known(subscription.account_id):
            return f"account_id: account {subscription.account_id} is not known (load its account or invoices first)"
        names = ("service", "msisdn", "meter", "line_id", "status")
        values: dict[str, Any] = {
            ":e": _s("subscription"),
            ":a": _s(subscription.account_id),
            ":s": _s(subscription.subscription_id),
            ":f": _s(subscription.fingerprint()),
            ":src": _s(f"{source_file}:{line}"),
        }
        sets = [
            "entity = :e",
            "account_id = :a",
            "subscription_id = :s",
            "fingerprint = :f",
            "master_source = :src",
        ]
        removes = []
        for name in names:  # "status" is a reserved word: every name goes through a placeholder
            value = getattr(subscription, name)
            if value is None:
                removes.append(f"#{name}")
            else:
                sets.append(f"#{name} = :{name}")
                values[f":{name}"] = _s(value)
        self._client.update_item(
            TableName=self._table,
            Key=subscription_key(subscription.account_id, subscription.subscription_id),
            UpdateExpression="SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else ""),
            ExpressionAttributeNames={f"#{name}": name for name in names},
            ExpressionAttributeValues=values,
        )
        self._client.put_item(
            TableName=self._table,
            Item={**subscription_pointer_key(subscription.subscription_id), "account_id": _s(subscription.account_id)},
        )
        return None

    def subscription_fingerprints(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
        found = batch_get(
            self._client,
            self._table,
            (subscription_key(a, s) for a, s in pairs),
            projection="account_id, subscription_id, fingerprint",
        )
        return {
            (r["account_id"]["S"], r["subscription_id"]["S"]): r["fingerprint"]["S"]
            for r in found
            if "fingerprint" in r
        }

    def get_account(self, account_id: str) -> AccountView | None:
        record = self._client.get_item(TableName=self._table, Key=account_key(account_id), ConsistentRead=True).get(
            "Item"
        )
        if record is None:
            return None
        keys = [
            item_key(r["pk"]["S"].removeprefix("ITEM#"))
            for r in account_item_entries(self._client, self._table, account_id)
        ]
        items = sorted(
            (item_view(r) for r in batch_get(self._client, self._table, keys)),
            key=lambda item: (item.due_date, item.issue_date, item.item_id),
        )
        ref = _account_ref(record)
        return AccountView(
            account_id=ref.account_id,
            customer_id=ref.customer_id,
            account_type=ref.account_type,
            name=_text(record, "account_name"),
            billing_address=_text(record, "billing_address"),
            city=_text(record, "billing_city"),
            postal_code=_text(record, "billing_postal_code"),
            status=_text(record, "account_status"),
            currency=ref.currency,
            balance=account_balance(items, ref.unapplied_credit),
            unapplied_credit=ref.unapplied_credit,
            open_items=sum(1 for i in items if i.open_amount > 0),
            next_action_on=ref.next_action_on,
            items=items,
        )

    def advance_next_action(self, earliest: Mapping[str, date]) -> None:
        def advance(account_id: str, day: date) -> None:
            try:
                self._client.update_item(
                    TableName=self._table,
                    Key=account_key(account_id),
                    UpdateExpression="SET next_action_on = :d, gsi2pk = :p, gsi2sk = :s",
                    ConditionExpression="attribute_exists(pk) AND "
                    "(attribute_not_exists(next_action_on) OR next_action_on > :d)",
                    ExpressionAttributeValues={
                        ":d": _s(day.isoformat()),
                        ":p": _s(next_action_partition(day, account_id)),
                        ":s": _s(account_partition(account_id)),
                    },
                )
            except ClientError as error:
                if not _is_condition_failure(error):  # an earlier date is already set: nothing to do
                    raise

        list(self._pool.map(lambda pair: advance(*pair), earliest.items()))

    def accounts_due(self, day: date) -> Iterator[str]:
        """Accounts whose next action falls on ``day``: reads only the sparse index partitions for that date."""
        for partition in next_action_partitions(day):
            for record in self._query_index("next_action", "gsi2pk", partition, None, key_sk="gsi2sk"):
                yield record["gsi2sk"]["S"].removeprefix("ACCT#")

    # -- subscriptions ------------------------------------------------------------------------------------------
    def ensure_subscriptions(self, pairs: Iterable[tuple[str, str]]) -> None:
        wanted = {(a, s) for a, s in pairs}
        if not wanted:
            return
        existing = {
            (r["pk"]["S"].removeprefix("ACCT#"), r["sk"]["S"].removeprefix("SUB#"))
            for r in batch_get(
                self._client, self._table, (subscription_key(a, s) for a, s in wanted), projection="pk, sk"
            )
        }
        today = self._clock.today().isoformat()
        batch_put(
            self._client,
            self._table,
            [
                record
                for a, s in sorted(wanted - existing)
                for record in (
                    {
                        **subscription_key(a, s),
                        "entity": _s("subscription"),
                        "account_id": _s(a),
                        "subscription_id": _s(s),
                        "first_billed_on": _s(today),
                    },
                    # Which account a subscription bills to, for holds placed on the subscription alone.
                    {**subscription_pointer_key(s), "account_id": _s(a)},
                )
            ],
        )

    # -- items --------------------------------------------------------------------------------------------------
    def existing_invoices(self, invoice_ids: Iterable[str]) -> dict[str, ExistingInvoice]:
        found = batch_get(self._client, self._table, (item_key(i) for i in invoice_ids))
        return {r["item_id"]["S"]: _existing(r) for r in found}

    def create_items(
        self,
        rows: Sequence[tuple[Invoice, str, int]],
        loaded_on: date,
        source_file: str,
        collect: Collection[str] = frozenset(),
    ) -> dict[str, ExistingInvoice]:
        loaded = loaded_on.isoformat()
        recorded_at = self._clock.now().isoformat()

        def create(row: tuple[Invoice, str, int]) -> tuple[str, ExistingInvoice] | None:
            invoice, file_id, line = row
            record = invoice_record(invoice, file_id, line, loaded, source_file, recorded_at)
            if invoice.invoice_id in collect:  # the customer has a mandate: the direct-debit run will find it
                record["gsi2pk"] = _s(collection_partition(invoice.due_date, invoice.invoice_id))
                record["gsi2sk"] = _s(f"ITEM#{invoice.invoice_id}")
            try:
                # One conditional write per invoice: the id is claimed atomically, so two files racing with the
                # same invoice id can never overwrite each other.
                self._client.put_item(
                    TableName=self._table,
                    Item=record,
                    ConditionExpression="attribute_not_exists(pk)",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return None
            except ClientError as error:
                if not _is_condition_failure(error):
                    raise
                stored = (
                    error.response.get("Item")
                    or self._client.get_item(
                        TableName=self._table, Key=item_key(invoice.invoice_id), ConsistentRead=True
                    )["Item"]
                )
                return invoice.invoice_id, _existing(stored)

        return dict(result for result in self._pool.map(create, rows) if result is not None)

    def get_item(self, item_id: str) -> ItemView | None:
        record = self._client.get_item(TableName=self._table, Key=item_key(item_id), ConsistentRead=True).get("Item")
        return item_view(record) if record else None

    # -- queries ------------------------------------------------------------------------------------------------
    def _query_index(
        self, index: str, key_pk: str, value: str, sk_prefix: str | None, *, key_sk: str = "gsi1sk"
    ) -> Iterator[AttributeMap]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": "#pk = :pk" + (" AND begins_with(#sk, :prefix)" if sk_prefix else ""),
            "ExpressionAttributeNames": {"#pk": key_pk, **({"#sk": key_sk} if sk_prefix else {})},
            "ExpressionAttributeValues": {":pk": _s(value), **({":prefix": _s(sk_prefix)} if sk_prefix else {})},
        }
        return paginated(self._client.query, request)


def scan_entities(client: Any, table: str, pk_prefix: str, sk: str) -> Iterator[AttributeMap]:
    """Every record of one entity (by key prefix and sort key), by a Scan: STATE.json and BI export only."""
    request: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "begins_with(pk, :prefix) AND sk = :sk",
        "ExpressionAttributeValues": {":prefix": _s(pk_prefix), ":sk": _s(sk)},
        "ConsistentRead": True,
    }
    return paginated(client.scan, request)


class LedgerExport:
    """A full dump of accounts and items, for `simulate`'s STATE.json and BI export only: it scans the table, which
    no production path does (see docs/dynamodb.md)."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def _scan(self, pk_prefix: str, sk: str) -> Iterator[AttributeMap]:
        return scan_entities(self._client, self._table, pk_prefix, sk)

    def accounts(self) -> Iterator[AccountRef]:
        return (_account_ref(r) for r in self._scan("ACCT#", "ACCOUNT"))

    def items(self) -> Iterator[ItemView]:
        return (item_view(r) for r in self._scan("ITEM#", "ITEM"))

    def unapplied_credit(self) -> dict[str, Decimal]:
        return {
            r["account_id"]["S"]: Decimal(r.get("unapplied_credit", {}).get("N", "0"))
            for r in self._scan("ACCT#", "ACCOUNT")
        }

    def payments(self) -> Iterator[dict[str, Any]]:
        """Payments as plain data (the STATE.json shape, money as Decimal)."""
        for r in self._scan("PAY#", "PAYMENT"):
            yield {
                "payment_id": r["payment_id"]["S"],
                "bank_id": _text(r, "bank_id"),
                "bank_reference": _text(r, "bank_reference"),
                "amount": Decimal(r["amount"]["N"]),
                "currency": r["currency"]["S"],
                "value_date": r["value_date"]["S"],
                "account_id": _text(r, "account_id"),
                "allocations": [
                    {"item_id": a["M"]["item_id"]["S"], "amount": Decimal(a["M"]["amount"]["N"])}
                    for a in r.get("allocations", {}).get("L", [])
                ],
                "unapplied_amount": Decimal(r["unapplied_amount"]["N"]),
                "status": r["status"]["S"],
                "match": {"method": _text(r, "match_method"), "reason": _text(r, "match_reason")},
            }

    def direct_debits(self) -> Iterator[dict[str, Any]]:
        """Direct-debit collections as plain data (the STATE.json shape, money as Decimal)."""
        for r in self._scan("DD#", "COLLECTION"):
            yield {
                "end_to_end_id": r["end_to_end_id"]["S"],
                "message_id": r["message_id"]["S"],
                "bank_id": r["bank_id"]["S"],
                "item_id": r["item_id"]["S"],
                "account_id": r["account_id"]["S"],
                "amount": Decimal(r["amount"]["N"]),
                "currency": r["currency"]["S"],
                "collection_date": r["collection_date"]["S"],
                "status": r["status"]["S"],
                "reason": _text(r, "status_reason"),
            }
