from datetime import date

from receivables.collections.daily_run import MAX_CATCH_UP_DAYS, DailyRunPlanner, dates_to_plan


class Log:
    def __init__(self, last=None):
        self.last = last

    def last_planned(self):
        return self.last

    def record_planned(self, business_date, accounts):
        self.last = business_date


class Events:
    def __init__(self):
        self.sent = []

    def publish(self, detail_type, detail):
        self.sent.append((detail_type, detail))


class Queue:
    def __init__(self):
        self.messages = []

    def send_chunks(self, messages):
        self.messages.extend(messages)


def test_dates_to_plan():
    d = date(2026, 11, 24)
    assert dates_to_plan(None, d) == [d]
    assert dates_to_plan(d, d) == []
    assert dates_to_plan(date(2026, 11, 25), d) == []
    assert dates_to_plan(date(2026, 11, 21), d) == [date(2026, 11, 21), date(2026, 11, 22), date(2026, 11, 23), d]
    assert len(dates_to_plan(date(2025, 1, 1), d)) == MAX_CATCH_UP_DAYS


def test_planner_queues_the_due_accounts_in_batches_and_records_the_date():
    due = {date(2026, 11, 23): ["A1"], date(2026, 11, 24): [f"B{n}" for n in range(30)]}
    log, events, queue = Log(date(2026, 11, 22)), Events(), Queue()
    planner = DailyRunPlanner(accounts_due=lambda d: due.get(d, []), log=log, events=events, fan_out=queue)
    summary = planner.plan(date(2026, 11, 24))
    assert summary.accounts_due == 31 and log.last == date(2026, 11, 24)
    assert [len(m["account_ids"]) for m in queue.messages] == [25, 6]
    assert queue.messages[0]["account_ids"][:2] == ["A1", "B0"]
    assert {m["business_date"] for m in queue.messages} == {"2026-11-24"}
    assert events.sent[-1] == (
        "DailyRunPlanned",
        {"business_date": "2026-11-24", "dates": ["2026-11-22", "2026-11-23", "2026-11-24"], "accounts_due": 31},
    )
