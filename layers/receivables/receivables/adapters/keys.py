"""Every key pattern of the single table, in one place (docs/dynamodb.md lists the access patterns they serve).

A record's key is ``pk`` + ``sk``; index partitions (``gsi1pk`` of ``by_account``, ``gsi2pk`` of ``next_action``)
are plain strings. Ids are used as given: none of the prefixes below can be produced by another prefix's id, since
each ends in ``#`` and the sort key tells the entity apart.
"""

from __future__ import annotations

import datetime as dt
import zlib

from receivables.adapters.dynamodb_batches import AttributeMap
from receivables.domain.text import fold

NEXT_ACTION_SHARDS = 16  # spreads one busy date over 16 index partitions (see docs/dynamodb.md)
JOURNAL_PREFIX = "JRNL#"
DUNNING_CONFIG_PK = "CONFIG#dunning"


def key(pk: str, sk: str) -> AttributeMap:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


# -- master data and the ledger -------------------------------------------------------------------------------------
def customer_key(customer_id: str) -> AttributeMap:
    return key(customer_partition(customer_id), "CUSTOMER")


def customer_partition(customer_id: str) -> str:
    """The customer's records, and its accounts in ``by_account`` (``gsi1pk``)."""
    return f"CUST#{customer_id}"


def account_key(account_id: str) -> AttributeMap:
    return key(account_partition(account_id), "ACCOUNT")


def account_partition(account_id: str) -> str:
    """The account's records (subscriptions, cycles, contacts), and its items in ``by_account`` (``gsi1pk``)."""
    return f"ACCT#{account_id}"


def item_key(item_id: str) -> AttributeMap:
    return key(f"ITEM#{item_id}", "ITEM")


def subscription_key(account_id: str, subscription_id: str) -> AttributeMap:
    return key(account_partition(account_id), f"SUB#{subscription_id}")


def subscription_pointer_key(subscription_id: str) -> AttributeMap:
    """Where the loader records which account a subscription bills to (attribute ``account_id``)."""
    return key(f"SUBID#{subscription_id}", "SUBSCRIPTION")


def _shard(value: str) -> int:
    return zlib.crc32(value.encode()) % NEXT_ACTION_SHARDS


def next_action_partition(day: dt.date, account_id: str) -> str:
    return f"NEXT#{day.isoformat()}#{_shard(account_id):02d}"


def next_action_partitions(day: dt.date) -> list[str]:
    return [f"NEXT#{day.isoformat()}#{shard:02d}" for shard in range(NEXT_ACTION_SHARDS)]


def collection_partition(due: dt.date, item_id: str) -> str:
    """Items a direct debit should collect, by due date: only items of customers with a mandate carry these keys."""
    return f"COLLECT#{due.isoformat()}#{_shard(item_id):02d}"


def collection_partitions(due: dt.date) -> list[str]:
    return [f"COLLECT#{due.isoformat()}#{shard:02d}" for shard in range(NEXT_ACTION_SHARDS)]


# -- the insurance sub-ledger ----------------------------------------------------------------------------------------
def party_key(party_id: str) -> AttributeMap:
    return key(party_partition(party_id), "PARTY")


def party_partition(party_id: str) -> str:
    """The party's record, and its current accounts in ``by_account`` (``gsi1pk``)."""
    return f"PARTY#{party_id}"


def policy_key(policy_id: str) -> AttributeMap:
    return key(f"POLICY#{policy_id}", "POLICY")


def policy_event_key(event_id: str) -> AttributeMap:
    return key(f"PEVT#{event_id}", "EVENT")


def payable_key(payable_id: str) -> AttributeMap:
    return key(f"PAYABLE#{payable_id}", "PAYABLE")


# -- the journal ------------------------------------------------------------------------------------------------------
def journal_partition(account_id: str) -> str:
    return JOURNAL_PREFIX + account_id


def entry_key(account_id: str, sort_key: str) -> AttributeMap:
    return key(journal_partition(account_id), sort_key)


def outbox_key(origin: str) -> AttributeMap:
    return key(f"OUTBOX#{origin}", "EVENTS")


# -- payments -------------------------------------------------------------------------------------------------------
def payment_key(payment_id: str) -> AttributeMap:
    return key(f"PAY#{payment_id}", "PAYMENT")


def reference_key(bank_id: str, reference: str) -> AttributeMap:
    return key(f"REF#{bank_id}#{fold(reference)}", "PAYMENT")


def iban_partition(compact_iban: str) -> str:
    return f"IBAN#{compact_iban}"


# -- dunning ----------------------------------------------------------------------------------------------------------
def hold_key(hold_id: str) -> AttributeMap:
    return key(f"HOLD#{hold_id}", "HOLD")


def customer_holds_key(customer_id: str) -> AttributeMap:
    return key(customer_partition(customer_id), "HOLDS")


def promise_key(promise_id: str) -> AttributeMap:
    return key(f"PROMISE#{promise_id}", "PROMISE")


def plan_key(plan_id: str) -> AttributeMap:
    return key(f"PLAN#{plan_id}", "PLAN")


def task_key(task_id: str) -> AttributeMap:
    return key(f"TASK#{task_id}", "TASK")


def task_partition(group: str, status: str) -> str:
    return f"TASKS#{group}#{status}"


def contact_key(account_id: str, cycle: int, step: str) -> AttributeMap:
    return key(account_partition(account_id), f"CONTACT#{cycle:06d}#{step}")


def cycle_key(account_id: str, cycle: int) -> AttributeMap:
    return key(account_partition(account_id), f"CYCLE#{cycle:06d}")


def deferred_partition(moment: dt.datetime) -> str:
    return f"DEFERRED#{moment.astimezone(dt.UTC).date().isoformat()}"


DAILY_RUN_KEY = key("RUN#daily", "STATE")  # which business date the daily run last planned


def dunning_config_key(version: int | None) -> AttributeMap:
    """The current configuration (None) or one version of it."""
    return key(DUNNING_CONFIG_PK, "CURRENT" if version is None else f"V#{version:08d}")


# -- direct debit ---------------------------------------------------------------------------------------------------
def message_key(run_date: dt.date, message_id: str) -> AttributeMap:
    return key(f"DDRUN#{run_date.isoformat()}", f"MSG#{message_id}")


def collection_key(end_to_end_id: str) -> AttributeMap:
    return key(f"DD#{end_to_end_id}", "COLLECTION")


# -- loading --------------------------------------------------------------------------------------------------------
def file_key(file_id: str) -> AttributeMap:
    return key(f"FILE#{file_id}", "FILE")


def chunk_key(file_id: str, index: int) -> AttributeMap:
    return key(f"FILE#{file_id}", f"CHUNK#{index:06d}")


def remittance_partition(content_reference: str) -> str:
    """Payments by the content of their remittance text, to link a return that quotes no reference."""
    return f"RMT#{content_reference}"


def cycles_partition(strategy: str, arm: str) -> str:
    """``next_action``'s partition of the cycles started under a strategy's arm (champion–challenger reports)."""
    return f"CYCLES#{strategy}#{arm}"


def run_partition(run_date: dt.date) -> str:
    return f"DDRUN#{run_date.isoformat()}"
