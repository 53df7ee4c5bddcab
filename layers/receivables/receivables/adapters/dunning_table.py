"""The dunning review's reads and writes in the ledger table (layout: ``receivables.dunning.records``).

A review of a batch of accounts costs one BatchGetItem for the accounts, one for their customers, one Query per
account on the ``by_account`` index for its item keys and one BatchGetItem for the items — 1.18 requests per
account measured in batches of 25 (docs/benchmarks.md).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from receivables.adapters.attributes import cancelled_only_by_conflicts, transact_write
from receivables.adapters.attributes import is_condition_failure as _is_condition_failure
from receivables.adapters.attributes import string as _s
from receivables.adapters.attributes import text as _text
from receivables.adapters.dynamodb_batches import AttributeMap, batch_get, paginated
from receivables.adapters.keys import (
    account_key,
    account_partition,
    contact_key,
    customer_holds_key,
    customer_key,
    cycle_key,
    cycles_partition,
    deferred_partition,
    dunning_config_key,
    item_key,
    key,
    next_action_partition,
    party_key,
    task_key,
    task_partition,
)
from receivables.adapters.ledger_table import account_item_entries
from receivables.dunning.collectors import choose_collector
from receivables.dunning.config import DEFAULT_CONFIG, Channel, Collector, DunningConfig
from receivables.dunning.engine import AccountFacts, CustomerFacts, DunningState, Hold, ItemFacts
from receivables.dunning.history import MAX_CYCLES_SHOWN, AccountDunning
from receivables.dunning.records import (
    MAX_STAGE_CHANGES,
    ContactRecord,
    CycleRecord,
    Explanation,
    HoldRecord,
    PlanRecord,
    PromiseRecord,
    StageChange,
    TaskRecord,
)
from receivables.dunning.reports import CycleRow
from receivables.dunning.service import AccountSnapshot, Outcome

_ITEM_FIELDS = (
    "item_id, due_date, amount, open_amount, #status, subscription_id, account_id, policy_id, branch, card_status, "
    "collection_status"
)
# A collection with the bank and not answered: a card or bank-scheme request, a direct debit sent or accepted.
_PENDING_CARD = frozenset({"requested"})
_PENDING_DIRECT_DEBIT = frozenset({"sent", "accepted", "pending"})
_CLOSED = "restructured"
MAX_LATE_PAYMENTS_KEPT = 24


def _opted_out(attributes: dict[str, str]) -> frozenset[Channel]:
    # Customer files carry opt-outs as an extra column: opt_out = "sms,email".
    wanted = {part.strip().lower() for part in attributes.get("opt_out", "").replace(";", ",").split(",")}
    return frozenset(c for c in Channel if c.value in wanted)


def _holds(record: AttributeMap) -> list[HoldRecord]:
    return [HoldRecord.model_validate_json(v["S"]) for v in record.get("holds", {}).get("M", {}).values()]


def _party_as_customer(record: AttributeMap) -> AttributeMap:
    """A party's record in the shape of a customer's, for the few facts dunning reads (name, contact, language)."""
    shaped: AttributeMap = {
        "customer_id": record["party_id"],
        "name": record["name"],
        "type": {"S": "corporate"},
        "city": record.get("city", {"S": ""}),
        "language": record.get("language", {"S": "tr"}),
        "vip": {"BOOL": False},
        "attributes": {"M": {"party_kind": record["kind"]}},
    }
    for name in ("email", "phone"):
        if name in record:
            shaped[name] = record[name]
    return shaped


def postal_address(account: AttributeMap, customer: AttributeMap) -> tuple[str, ...]:
    """The letter's address lines: the account's billing address (CRM's accounts/ file) if it has one, else the
    customer's; the street line, then postal code with district and city."""
    street = _text(account, "billing_address")
    if street:
        place = " ".join(p for p in (_text(account, "billing_postal_code"), _text(account, "billing_city")) if p)
        return tuple(line for line in (street, place) if line)
    street = _text(customer, "address")
    if not street:
        return ()
    district, city = _text(customer, "district"), _text(customer, "city")
    where = " / ".join(p for p in (district, city) if p)
    place = " ".join(p for p in (_text(customer, "postal_code"), where) if p)
    return tuple(line for line in (street, place) if line)


def assignment_key(group: str) -> AttributeMap:
    """A collector group's assignment state: each collector's open tasks (``open#<name>``), who got the last one."""
    return key(f"ASSIGN#{group}", "COUNTS")


def assigned_key(account_id: str, cycle: int) -> AttributeMap:
    """Which collector an account's tasks of one cycle go to (sticky while the cycle lasts)."""
    return key(account_partition(account_id), f"ASSIGNED#{cycle:06d}")


def open_attribute(collector: str) -> str:
    return f"open#{collector}"


def assignment_writes(table: str, group: str, changes: dict[str, int]) -> list[dict[str, Any]]:
    """One update of the group's counts of open tasks per collector (a transaction touches an item once); the
    collector whose count goes up becomes the round-robin pointer."""
    changes = {name: change for name, change in changes.items() if change}
    if not changes:
        return []
    names = {f"#c{n}": open_attribute(name) for n, name in enumerate(changes)}
    values: dict[str, Any] = {f":d{n}": {"N": str(change)} for n, change in enumerate(changes.values())}
    expression = "ADD " + ", ".join(f"#c{n} :d{n}" for n in range(len(changes)))
    gained = [name for name, change in changes.items() if change > 0]
    if gained:
        expression += " SET last_assigned = :who"
        values[":who"] = _s(gained[-1])
    return [
        {
            "Update": {
                "TableName": table,
                "Key": assignment_key(group),
                "UpdateExpression": expression,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }
    ]


class DunningTable:
    def __init__(self, client: Any, table_name: str, *, workers: int = 8) -> None:
        self._client = client
        self._table = table_name
        self._workers = workers
        self._configs: dict[int, DunningConfig] = {}

    # -- configuration ------------------------------------------------------------------------------------------
    def current_config(self) -> DunningConfig:
        current = self._client.get_item(TableName=self._table, Key=dunning_config_key(None), ConsistentRead=True).get(
            "Item"
        )
        if current is None:
            return DEFAULT_CONFIG
        version = int(current["version"]["N"])
        if version not in self._configs:
            record = self._client.get_item(TableName=self._table, Key=dunning_config_key(version), ConsistentRead=True)[
                "Item"
            ]
            self._configs[version] = DunningConfig.model_validate_json(record["doc"]["S"])
        return self._configs[version]

    # -- reads for a review ---------------------------------------------------------------------------------------
    def load(self, account_ids: Sequence[str], today: dt.date) -> dict[str, AccountSnapshot]:
        accounts = {
            r["account_id"]["S"]: r for r in batch_get(self._client, self._table, map(account_key, account_ids))
        }
        customer_ids = {a["customer_id"]["S"] for a in accounts.values() if _text(a, "owner_kind") != "party"}
        party_ids = {a["customer_id"]["S"] for a in accounts.values() if _text(a, "owner_kind") == "party"}
        customers: dict[str, AttributeMap] = {}
        customer_holds: dict[str, AttributeMap] = {}
        keys_of_customers = [k for c in customer_ids for k in (customer_key(c), customer_holds_key(c))]
        for record in batch_get(self._client, self._table, keys_of_customers):
            customer_id = record["pk"]["S"].removeprefix("CUST#")
            (customer_holds if record["sk"]["S"] == "HOLDS" else customers)[customer_id] = record
        # An agency's (or other party's) current account is dunned too: the party stands where a customer would.
        for record in batch_get(self._client, self._table, [party_key(p) for p in party_ids]):
            customers[record["party_id"]["S"]] = _party_as_customer(record)

        def entries(account_id: str) -> list[AttributeMap]:
            return list(account_item_entries(self._client, self._table, account_id))

        with ThreadPoolExecutor(max_workers=self._workers) as pool:
            keys = [
                item_key(e["pk"]["S"].removeprefix("ITEM#")) for found in pool.map(entries, accounts) for e in found
            ]
        items: dict[str, list[AttributeMap]] = {}
        for record in batch_get(self._client, self._table, keys, projection=_ITEM_FIELDS, names={"#status": "status"}):
            items.setdefault(record["account_id"]["S"], []).append(record)
        return {
            account_id: self._snapshot(
                record,
                customers.get(record["customer_id"]["S"]),
                customer_holds.get(record["customer_id"]["S"], {}),
                items.get(account_id, []),
                today,
            )
            for account_id, record in accounts.items()
            if record["customer_id"]["S"] in customers
        }

    def _snapshot(
        self,
        account: AttributeMap,
        customer: AttributeMap | None,
        customer_holds: AttributeMap,
        items: list[AttributeMap],
        today: dt.date,
    ) -> AccountSnapshot:
        assert customer is not None
        attributes = {k: v["S"] for k, v in customer.get("attributes", {}).get("M", {}).items()}
        holds: list[Hold] = [
            Hold(level="customer", reason=h.reason, start=h.start, until=h.until)
            for h in _holds(customer_holds)
            if h.level == "customer" and h.active_on(today)
        ]
        held_items: dict[str, HoldRecord] = {}
        held_subscriptions: dict[str, HoldRecord] = {}
        for hold in _holds(account):
            if not hold.active_on(today):
                continue
            if hold.level == "account":
                holds.append(Hold(level="account", reason=hold.reason, start=hold.start, until=hold.until))
            elif hold.level == "item":
                held_items[hold.target_id] = hold
            elif hold.level == "subscription":
                held_subscriptions[hold.target_id] = hold
        item_facts = []
        for record in sorted(items, key=lambda r: (r["due_date"]["S"], r["item_id"]["S"])):
            item_id = record["item_id"]["S"]
            # The item's own hold first, else its subscription's.
            item_hold = held_items.get(item_id) or held_subscriptions.get(_text(record, "subscription_id") or "")
            item_facts.append(
                ItemFacts(
                    item_id=item_id,
                    due_date=dt.date.fromisoformat(record["due_date"]["S"]),
                    open_amount=Decimal(record["open_amount"]["N"]),
                    amount=Decimal(record["amount"]["N"]) if "amount" in record else None,
                    held=item_hold is not None,
                    hold_start=item_hold.start if item_hold else None,
                    hold_until=item_hold.until if item_hold else None,
                    status=_text(record, "status") or "open",
                    policy_id=_text(record, "policy_id"),
                    branch=_text(record, "branch"),
                    collection_pending=_text(record, "card_status") in _PENDING_CARD
                    or _text(record, "collection_status") in _PENDING_DIRECT_DEBIT,
                )
            )
        facts = AccountFacts(
            account_id=account["account_id"]["S"],
            customer=CustomerFacts(
                customer_id=customer["customer_id"]["S"],
                customer_type=customer["type"]["S"],
                city=customer["city"]["S"],
                language=customer["language"]["S"],
                vip=customer.get("vip", {}).get("BOOL", False),
                risk_score=int(customer["risk_score"]["N"]) if "risk_score" in customer else None,
                attributes=attributes,
                email=_text(customer, "email"),
                phone=_text(customer, "phone"),
                opted_out=_opted_out(attributes),
                autopay_method=_text(customer, "autopay_method"),
                has_mandate="mandate_id" in customer,
                postal_address=postal_address(account, customer),
                postal_address_known="postal_address_known" in customer or "billing_address" in account,
            ),
            account_type=_text(account, "account_type") or "standard",
            currency=account["currency"]["S"],
            items=tuple(item_facts),
            unapplied_credit=Decimal(account.get("unapplied_credit", {}).get("N", "0")),
        )
        state = _text(account, "dunning_state")
        promise = _text(account, "promise")
        plan = _text(account, "plan")
        next_action = _text(account, "next_action_on")
        return AccountSnapshot(
            facts=facts,
            state=DunningState.model_validate_json(state) if state else DunningState(),
            version=int(account.get("dunning_version", {}).get("N", "0")),
            customer_name=customer["name"]["S"],
            holds=tuple(holds),
            promise=PromiseRecord.model_validate_json(promise) if promise else None,
            plan=PlanRecord.model_validate_json(plan) if plan else None,
            late_payments=tuple(dt.date.fromisoformat(v["S"]) for v in account.get("late_payments", {}).get("L", [])),
            promise_history=tuple(
                PromiseRecord.model_validate_json(v["S"]) for v in account.get("promise_history", {}).get("L", [])
            ),
            next_action_on=dt.date.fromisoformat(next_action) if next_action else None,
        )

    # -- contacts and tasks -------------------------------------------------------------------------------------
    def _contact_item(self, record: ContactRecord) -> AttributeMap:
        item: AttributeMap = {
            **contact_key(record.account_id, record.cycle, record.step),
            "entity": _s("contact"),
            "doc": _s(record.model_dump_json()),
        }
        if record.status == "deferred" and record.send_at is not None:
            item["gsi2pk"] = _s(deferred_partition(record.send_at))
            item["gsi2sk"] = _s(f"{record.send_at.astimezone(dt.UTC).isoformat()}#{record.account_id}#{record.cycle}")
        return item

    def claim_contact(self, record: ContactRecord) -> ContactRecord | None:
        try:
            self._client.put_item(
                TableName=self._table, Item=self._contact_item(record), ConditionExpression="attribute_not_exists(pk)"
            )
            return None
        except ClientError as error:
            if not _is_condition_failure(error):
                raise
        stored = self._client.get_item(
            TableName=self._table, Key=contact_key(record.account_id, record.cycle, record.step), ConsistentRead=True
        )["Item"]
        return ContactRecord.model_validate_json(stored["doc"]["S"])

    def finish_contact(self, record: ContactRecord) -> None:
        self._client.put_item(TableName=self._table, Item=self._contact_item(record))

    def deferred_until(self, moment: dt.datetime) -> list[ContactRecord]:
        found: list[ContactRecord] = []
        day = moment.astimezone(dt.UTC).date()
        for back in range(7, -1, -1):  # a week back: a sender that stopped for days catches up
            partition = f"DEFERRED#{(day - dt.timedelta(days=back)).isoformat()}"
            for record in paginated(
                self._client.query,
                {
                    "TableName": self._table,
                    "IndexName": "next_action",
                    "KeyConditionExpression": "gsi2pk = :p AND gsi2sk <= :until",
                    "ExpressionAttributeValues": {
                        ":p": _s(partition),
                        ":until": _s(moment.astimezone(dt.UTC).isoformat() + "~"),
                    },
                },
            ):
                stored = self._client.get_item(
                    TableName=self._table, Key={"pk": record["pk"], "sk": record["sk"]}, ConsistentRead=True
                ).get("Item")
                if stored is not None:
                    contact = ContactRecord.model_validate_json(stored["doc"]["S"])
                    if contact.status == "deferred" and contact.send_at is not None and contact.send_at <= moment:
                        found.append(contact)
        return found

    def create_task(self, task: TaskRecord, collectors: Sequence[Collector] = (), cycle: int = 0) -> None:
        """The task, once; given to one of the group's ``collectors`` (round-robin under capacity, the account's
        collector of this cycle first), its count of open tasks and the account's pick written with it."""
        if self._client.get_item(TableName=self._table, Key=task_key(task.task_id), ProjectionExpression="pk").get(
            "Item"
        ):
            return  # created before (the step carried out again): nothing to assign twice
        assigned = self._assignee(task, collectors, cycle) if collectors else None
        if assigned is not None:
            task = task.model_copy(update={"assigned_to": assigned})
        writes: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        **task_key(task.task_id),
                        "entity": _s("task"),
                        "doc": _s(task.model_dump_json()),
                        "gsi2pk": _s(task_partition(task.group, "open")),
                        "gsi2sk": _s(f"{task.priority}#{task.task_id}"),
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]
        if assigned is not None:
            writes += assignment_writes(self._table, task.group, {assigned: +1})
            writes.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            **assigned_key(task.account_id, cycle),
                            "entity": _s("assignment"),
                            "collector": _s(assigned),
                        },
                    }
                }
            )
        try:
            transact_write(self._client, writes)
        except ClientError as error:
            if not (_is_condition_failure(error) or cancelled_only_by_conflicts(error)):
                raise

    def _assignee(self, task: TaskRecord, collectors: Sequence[Collector], cycle: int) -> str | None:
        counts = self._client.get_item(TableName=self._table, Key=assignment_key(task.group), ConsistentRead=True).get(
            "Item", {}
        )
        sticky = self._client.get_item(
            TableName=self._table, Key=assigned_key(task.account_id, cycle), ConsistentRead=True
        ).get("Item")
        open_tasks = {c.name: int(counts.get(open_attribute(c.name), {}).get("N", "0")) for c in collectors}
        return choose_collector(
            collectors, open_tasks, _text(counts, "last_assigned"), sticky["collector"]["S"] if sticky else None
        )

    def case_file(self, account_id: str) -> dict[str, Any]:
        contacts = [
            ContactRecord.model_validate_json(r["doc"]["S"]).model_dump(mode="json", exclude={"message"})
            for r in paginated(
                self._client.query,
                {
                    "TableName": self._table,
                    "KeyConditionExpression": "pk = :p AND begins_with(sk, :c)",
                    "ExpressionAttributeValues": {":p": _s(account_partition(account_id)), ":c": _s("CONTACT#")},
                },
            )
        ]
        return {"contacts": contacts}

    # -- what dunning did and why, for the API ---------------------------------------------------------------
    def account_dunning(self, account_id: str, cycles: int = 3) -> AccountDunning | None:
        """The account's dunning state with the latest decision's explanation, its latest ``cycles`` cycles and the
        steps carried out in them: a GetItem and two Queries, whatever the account's history."""
        account = self._client.get_item(
            TableName=self._table,
            Key=account_key(account_id),
            ProjectionExpression="account_id, dunning_state, dunning_explanation, next_action_on",
            ConsistentRead=True,
        ).get("Item")
        if account is None:
            return None
        state, explanation, next_action = (
            _text(account, name) for name in ("dunning_state", "dunning_explanation", "next_action_on")
        )
        found = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :p AND begins_with(sk, :c)",
            ExpressionAttributeValues={":p": _s(account_partition(account_id)), ":c": _s("CYCLE#")},
            ScanIndexForward=False,
            Limit=max(1, min(cycles, MAX_CYCLES_SHOWN)),
        )["Items"]
        shown = [_cycle_record(r) for r in found]
        contacts: list[ContactRecord] = []
        if shown:
            first, last = shown[-1].cycle, shown[0].cycle
            contacts = [
                ContactRecord.model_validate_json(r["doc"]["S"]).model_copy(update={"message": None})
                for r in paginated(
                    self._client.query,
                    {
                        "TableName": self._table,
                        # '$' sorts right after '#': every step of the last cycle shown, none of the next one.
                        "KeyConditionExpression": "pk = :p AND sk BETWEEN :first AND :last",
                        "ExpressionAttributeValues": {
                            ":p": _s(account_partition(account_id)),
                            ":first": _s(f"CONTACT#{first:06d}#"),
                            ":last": _s(f"CONTACT#{last:06d}$"),
                        },
                    },
                )
            ]
        return AccountDunning(
            account_id=account_id,
            state=DunningState.model_validate_json(state) if state else DunningState(),
            next_action_on=dt.date.fromisoformat(next_action) if next_action else None,
            explanation=Explanation.model_validate_json(explanation) if explanation else None,
            cycles=tuple(shown),
            contacts=tuple(sorted(contacts, key=lambda c: (c.cycle, c.date, c.step))),
        )

    # -- the account after a review ---------------------------------------------------------------------------
    def save(self, snapshot: AccountSnapshot, outcome: Outcome) -> bool:
        decision = outcome.decision
        account_id = decision.account_id
        values: dict[str, Any] = {
            ":state": _s(decision.state.model_dump_json()),
            ":why": _s(decision.explained().model_dump_json()),
            ":v": {"N": str(snapshot.version)},
            ":next_v": {"N": str(snapshot.version + 1)},
        }
        # Only the latest decision's explanation stays on the account, which every review reads and writes; what was
        # done, and why, stays on the contact and cycle records.
        sets = ["dunning_state = :state", "dunning_explanation = :why", "dunning_version = :next_v"]
        removes: list[str] = []
        review_on = decision.next_review_on
        if review_on is not None:
            sets += ["next_action_on = :day", "gsi2pk = :gp", "gsi2sk = :gs"]
            values |= {
                ":day": _s(review_on.isoformat()),
                ":gp": _s(next_action_partition(review_on, account_id)),
                ":gs": _s(account_partition(account_id)),
            }
        else:
            removes += ["next_action_on", "gsi2pk", "gsi2sk"]
        if outcome.late_payment is not None:
            kept = [d for d in snapshot.late_payments][-(MAX_LATE_PAYMENTS_KEPT - 1) :]
            values[":late"] = {"L": [_s(d.isoformat()) for d in (*kept, outcome.late_payment)]}
            sets.append("late_payments = :late")
        if outcome.promise is not None:
            removes.append("promise")
            # Kept on the account too: the legal hand-off's case file lists every promise the customer made.
            sets.append("promise_history = list_append(if_not_exists(promise_history, :none), :promised)")
            values |= {":none": {"L": []}, ":promised": {"L": [_s(outcome.promise.model_dump_json())]}}
        if outcome.plan is not None:
            removes.append("#plan")
        # The loader may have moved the next action earlier since we read it (a new invoice): then review again.
        condition = "(attribute_not_exists(dunning_version) OR dunning_version = :v) AND "
        if snapshot.next_action_on is None:
            condition += "attribute_not_exists(next_action_on)"
        else:
            condition += "next_action_on = :read_day"
            values[":read_day"] = _s(snapshot.next_action_on.isoformat())
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": account_key(account_id),
            "UpdateExpression": "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else ""),
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
        if outcome.plan is not None:
            update["ExpressionAttributeNames"] = {"#plan": "plan"}
        writes: list[dict[str, Any]] = [{"Update": update}]
        if outcome.promise is not None:
            writes.append(
                {"Put": self._doc_put(f"PROMISE#{outcome.promise.promise_id}", "PROMISE", "promise", outcome.promise)}
            )
        if outcome.plan is not None:
            writes.append({"Put": self._doc_put(f"PLAN#{outcome.plan.plan_id}", "PLAN", "plan", outcome.plan)})
        writes += self._cycle_writes(snapshot, outcome)
        try:
            if len(writes) == 1:
                self._client.update_item(**update)
            else:
                transact_write(self._client, writes)
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True

    def _cycle_writes(self, snapshot: AccountSnapshot, outcome: Outcome) -> list[dict[str, Any]]:
        """The cycle's record: how it started, what was sent, promises kept or broken, how it ended — what the
        champion–challenger report adds up, per strategy and arm (``CYCLES#<strategy>#<arm>`` partitions)."""
        decision = outcome.decision
        state = decision.state
        change = decision.stage_change()
        writes: list[dict[str, Any]] = []
        if decision.cycle_event == "started":
            strategy = state.strategy or "exempt"
            writes.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            **cycle_key(decision.account_id, state.cycle_number),
                            "entity": _s("cycle"),
                            "account_id": _s(decision.account_id),
                            "cycle": {"N": str(state.cycle_number)},
                            "segment": _s(state.segment or ""),
                            "strategy": _s(strategy),
                            "arm": _s(state.arm),
                            "config_version": {"N": str(decision.config_version)},
                            "started": _s(decision.business_date.isoformat()),
                            "overdue_at_start": {"N": str(decision.overdue_amount)},
                            "contacts": {"N": str(len(decision.fired))},
                            "promises_kept": {"N": "0"},
                            "promises_broken": {"N": "0"},
                            "explanations": {"L": [_s(change.model_dump_json())] if change else []},
                            "gsi2pk": _s(cycles_partition(strategy, state.arm)),
                            "gsi2sk": _s(
                                f"{decision.business_date.isoformat()}#{decision.account_id}#{state.cycle_number}"
                            ),
                        },
                    }
                }
            )
            return writes
        cycle = snapshot.state.cycle_number
        if not snapshot.state.in_cycle:
            return writes
        sets: list[str] = []
        values: dict[str, dict[str, Any]] = {}
        if decision.fired:
            sets.append("contacts = if_not_exists(contacts, :zero) + :fired")
            values |= {":fired": {"N": str(len(decision.fired))}, ":zero": {"N": "0"}}
        if decision.promise_outcome:
            name = "promises_kept" if decision.promise_outcome == "kept" else "promises_broken"
            sets.append(f"{name} = if_not_exists({name}, :zero) + :one")
            values |= {":one": {"N": "1"}, ":zero": {"N": "0"}}
        if decision.cycle_event == "ended":
            sets += ["ended = :ended", "overdue_at_end = :left"]
            values |= {":ended": _s(decision.business_date.isoformat()), ":left": {"N": str(decision.overdue_amount)}}
        if change is not None and _room_for(change, snapshot.state):
            sets.append("explanations = list_append(if_not_exists(explanations, :none), :change)")
            values |= {":none": {"L": []}, ":change": {"L": [_s(change.model_dump_json())]}}
        if sets:
            writes.append(
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": cycle_key(decision.account_id, cycle),
                        "UpdateExpression": "SET " + ", ".join(sets),
                        "ExpressionAttributeValues": values,
                    }
                }
            )
        return writes

    def _doc_put(self, pk: str, sk: str, entity: str, model: Any) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "Item": {"pk": _s(pk), "sk": _s(sk), "entity": _s(entity), "doc": _s(model.model_dump_json())},
        }


def _room_for(change: StageChange, before: DunningState) -> bool:
    """Whether the cycle record takes one more stage change, keeping at most ``MAX_STAGE_CHANGES``: it holds one
    for the start and at most one per step fired since (``before.fired``), and the last place is kept for the end."""
    return change.event == "ended" or 1 + len(before.fired) < MAX_STAGE_CHANGES - 1


def _cycle_row(record: AttributeMap) -> CycleRow:
    def number(name: str) -> int:
        return int(record.get(name, {}).get("N", "0"))

    return CycleRow(
        account_id=record["account_id"]["S"],
        cycle=number("cycle"),
        strategy=record["strategy"]["S"],
        arm=record["arm"]["S"],
        segment=record["segment"]["S"],
        started=dt.date.fromisoformat(record["started"]["S"]),
        overdue_at_start=Decimal(record["overdue_at_start"]["N"]),
        contacts=number("contacts"),
        promises_kept=number("promises_kept"),
        promises_broken=number("promises_broken"),
        ended=dt.date.fromisoformat(record["ended"]["S"]) if "ended" in record else None,
        overdue_at_end=Decimal(record["overdue_at_end"]["N"]) if "overdue_at_end" in record else None,
    )


def _cycle_record(record: AttributeMap) -> CycleRecord:
    version = record.get("config_version", {}).get("N")
    return CycleRecord(
        **_cycle_row(record).model_dump(),
        config_version=int(version) if version else None,
        explanations=tuple(
            StageChange.model_validate_json(v["S"]) for v in record.get("explanations", {}).get("L", [])
        ),
    )


class CycleReader:
    """Cycles by strategy and arm, started on or after a date: one Query per (strategy, arm), never a Scan."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def cycles(self, strategies: Iterable[str], since: dt.date) -> list[CycleRow]:
        return [_cycle_row(r) for r in self._cycle_records(strategies, since)]

    def cycle_records(self, strategies: Iterable[str], since: dt.date) -> list[CycleRecord]:
        """The cycles with their stage changes (the stage distribution reads the last step of each)."""
        return [_cycle_record(r) for r in self._cycle_records(strategies, since)]

    def _cycle_records(self, strategies: Iterable[str], since: dt.date) -> list[AttributeMap]:
        rows: list[AttributeMap] = []
        for strategy in sorted({*strategies, "exempt"}):
            for arm in ("champion", "challenger"):
                keys = paginated(
                    self._client.query,
                    {
                        "TableName": self._table,
                        "IndexName": "next_action",
                        "KeyConditionExpression": "gsi2pk = :p AND gsi2sk >= :since",
                        "ExpressionAttributeValues": {
                            ":p": _s(cycles_partition(strategy, arm)),
                            ":since": _s(since.isoformat()),
                        },
                    },
                )
                rows += batch_get(self._client, self._table, [{"pk": k["pk"], "sk": k["sk"]} for k in keys])
        return rows


class DunningExport:
    """Everything dunning recorded, for `simulate`'s STATE.json only: it scans, which no production path does."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def _scan(self, condition: str, values: dict[str, Any]) -> Iterator[AttributeMap]:
        return paginated(
            self._client.scan,
            {
                "TableName": self._table,
                "FilterExpression": condition,
                "ExpressionAttributeValues": values,
                "ConsistentRead": True,
            },
        )

    def docs(self, entity: str) -> list[dict[str, Any]]:
        return [json.loads(r["doc"]["S"]) for r in self._scan("entity = :e", {":e": _s(entity)})]

    def states(self) -> dict[str, DunningState]:
        return {
            r["account_id"]["S"]: DunningState.model_validate_json(r["dunning_state"]["S"])
            for r in self._scan("sk = :a AND attribute_exists(dunning_state)", {":a": _s("ACCOUNT")})
        }
