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


def test_dates_to_plan():
    d = date(2026, 11, 24)
    assert dates_to_plan(None, d) == [d]
    assert dates_to_plan(d, d) == []
    assert dates_to_plan(date(2026, 11, 25), d) == []
    assert dates_to_plan(date(2026, 11, 21), d) == [date(2026, 11, 22), date(2026, 11, 23), d]
    assert len(dates_to_plan(date(2025, 1, 1), d)) == MAX_CATCH_UP_DAYS


def test_planner_announces_each_due_account_and_records_the_date():
    due = {date(2026, 11, 23): ["A1"], date(2026, 11, 24): ["A2", "A3"]}
    log, events = Log(date(2026, 11, 22)), Events()
    summary = DailyRunPlanner(accounts_due=lambda d: due.get(d, []), log=log, events=events).plan(date(2026, 11, 24))
    assert summary.accounts_due == 3 and log.last == date(2026, 11, 24)
    assert [d["account_id"] for t, d in events.sent if t == "AccountActionDue"] == ["A1", "A2", "A3"]
    assert events.sent[-1] == (
        "DailyRunPlanned",
        {"business_date": "2026-11-24", "dates": ["2026-11-23", "2026-11-24"], "accounts_due": 3},
    )
