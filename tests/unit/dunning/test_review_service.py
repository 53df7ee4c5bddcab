"""DunningReview on in-memory fakes (no DynamoDB attribute format crosses its ports): a step is sent once, a race
on the account's version is retried without sending twice, and a paid account is left alone."""

from __future__ import annotations

import dataclasses

from receivables.dunning import DEFAULT_CONFIG, DunningState
from receivables.dunning.records import ContactRecord, TaskRecord
from receivables.dunning.service import AccountSnapshot, DunningReview, Outcome

from tests.unit.dunning.builders import account, day, paid
from tests.unit.fakes import FixedClock, MemoryEvents


class MemoryDunningStore:
    def __init__(self, *facts) -> None:
        self.snapshots = {
            f.account_id: AccountSnapshot(facts=f, state=DunningState(), version=0, customer_name="Ayşe Yılmaz")
            for f in facts
        }
        self.contacts: dict[tuple[str, int, str], ContactRecord] = {}
        self.tasks: dict[str, TaskRecord] = {}
        self.races = 0  # saves to refuse, as if another review had moved the account on meanwhile

    def current_config(self):
        return DEFAULT_CONFIG

    def load(self, account_ids, today):
        return {a: self.snapshots[a] for a in account_ids if a in self.snapshots}

    def claim_contact(self, record: ContactRecord) -> ContactRecord | None:
        key = (record.account_id, record.cycle, record.step)
        if key in self.contacts:
            return self.contacts[key]
        self.contacts[key] = record
        return None

    def finish_contact(self, record: ContactRecord) -> None:
        self.contacts[(record.account_id, record.cycle, record.step)] = record

    def create_task(self, task: TaskRecord, collectors=(), cycle: int = 0) -> None:
        self.tasks.setdefault(task.task_id, task)

    def save(self, snapshot: AccountSnapshot, outcome: Outcome) -> bool:
        stored = self.snapshots[snapshot.facts.account_id]
        if self.races:
            self.races -= 1
            return False
        if stored.version != snapshot.version:
            return False
        self.snapshots[snapshot.facts.account_id] = dataclasses.replace(
            stored, state=outcome.decision.state, version=stored.version + 1
        )
        return True

    def case_file(self, account_id):
        return {}


class Outbox:
    def __init__(self) -> None:
        self.emails: list[tuple[str, str]] = []
        self.sms: list[str] = []
        self.letters: list[str] = []

    def send_email(self, to, subject, html, text) -> str:
        self.emails.append((to, subject))
        return f"m{len(self.emails)}"

    def send_sms(self, to, text) -> str:
        self.sms.append(to)
        return f"s{len(self.sms)}"

    def post_letter(self, key, pdf) -> None:
        self.letters.append(key)


def review_on(store: MemoryDunningStore, n: int) -> tuple[DunningReview, Outbox, MemoryEvents]:
    outbox, events = Outbox(), MemoryEvents()
    review = DunningReview(
        store=store,
        messenger=outbox,
        letters=outbox,
        events=events,
        clock=FixedClock(day(n)),
        company_name="Örnek Telekom A.Ş.",
        threads=1,
    )
    return review, outbox, events


def test_a_due_step_is_sent_once_however_often_the_account_is_reviewed() -> None:
    store = MemoryDunningStore(account())
    review, outbox, _ = review_on(store, 3)
    first = review.review(["A1"])
    review.review(["A1", "A1"])
    assert first.reviewed == 1 and sum(first.fired.values()) == 1
    assert [to for to, _ in outbox.emails] == ["ayse@example.com"]
    assert [c.status for c in store.contacts.values()] == ["sent"]


def test_a_review_that_loses_the_race_for_the_account_reads_it_again_and_sends_nothing_twice() -> None:
    store = MemoryDunningStore(account())
    store.races = 1
    review, outbox, _ = review_on(store, 3)
    review.review(["A1"])
    assert len(outbox.emails) == 1 and store.snapshots["A1"].version == 1


def test_an_account_that_paid_gets_no_step_and_an_unknown_one_is_reported_missing() -> None:
    store = MemoryDunningStore(paid(account(), "I1", "0.00"))
    review, outbox, _ = review_on(store, 3)
    summary = review.review(["A1", "A404"])
    assert outbox.emails == [] and store.contacts == {}
    assert summary.missing == ["A404"]
