import datetime as dt
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st
from receivables.dunning import add_days, business_days_between, days_overdue, is_business_day
from receivables.dunning.config import QuietHours

REPUBLIC_DAY = date(2026, 10, 29)  # a Thursday
ISTANBUL = dt.timezone(dt.timedelta(hours=3))


def test_weekends_and_turkish_public_holidays_are_not_business_days():
    assert not is_business_day(REPUBLIC_DAY)
    assert not is_business_day(date(2026, 10, 31)) and not is_business_day(date(2026, 11, 1))  # Saturday, Sunday
    assert is_business_day(date(2026, 10, 28))  # the eve is a half day: the morning is worked
    assert not is_business_day(date(2026, 5, 27))  # Kurban Bayramı, from the holidays package's calendar
    assert is_business_day(date(2026, 10, 30))


def test_days_overdue_in_calendar_days_is_the_plain_difference():
    assert days_overdue(date(2026, 10, 26), date(2026, 11, 2), business_days=False) == 7
    assert days_overdue(date(2026, 10, 26), date(2026, 10, 26), business_days=False) == 0


def test_days_overdue_in_business_days_skips_republic_day_and_the_weekend():
    due = date(2026, 10, 26)  # Monday
    counts = {d: days_overdue(due, date(2026, 10, d), business_days=True) for d in (27, 28, 29, 30, 31)}
    assert counts == {27: 1, 28: 2, 29: 2, 30: 3, 31: 3}
    assert days_overdue(due, date(2026, 11, 1), business_days=True) == 3
    assert days_overdue(due, date(2026, 11, 2), business_days=True) == 4


def test_add_days_finds_the_day_a_business_day_offset_is_reached():
    due = date(2026, 10, 26)
    assert add_days(due, 3, business_days=True) == date(2026, 10, 30)  # not the 29th: Republic Day
    assert add_days(due, 4, business_days=True) == date(2026, 11, 2)  # not the weekend
    assert add_days(due, 3, business_days=False) == date(2026, 10, 29)
    assert add_days(due, 0, business_days=True) == due


def test_counting_across_new_year_uses_both_years_holidays():
    # 2026-12-31 Thu, 2027-01-01 Fri (New Year), weekend, Mon 4th
    assert business_days_between(date(2026, 12, 30), date(2027, 1, 4)) == 2


@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    offset=st.integers(min_value=1, max_value=120),
    business=st.booleans(),
)
def test_add_days_is_the_first_date_the_count_reaches_the_offset(start, offset, business):
    reached = add_days(start, offset, business)
    assert days_overdue(start, reached, business) == offset
    assert days_overdue(start, reached - timedelta(days=1), business) == offset - 1


@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    length=st.integers(min_value=0, max_value=400),
)
def test_the_business_day_count_agrees_with_counting_day_by_day(start, length):
    end = start + timedelta(days=length)
    by_hand = sum(is_business_day(start + timedelta(days=n)) for n in range(1, length + 1))
    assert business_days_between(start, end) == by_hand


def test_sms_due_in_quiet_hours_waits_for_the_morning_in_istanbul():
    quiet = QuietHours()
    evening = dt.datetime(2026, 3, 4, 22, 30, tzinfo=ISTANBUL)
    assert quiet.send_time(evening) == dt.datetime(2026, 3, 5, 9, 0, tzinfo=ISTANBUL)
    early = dt.datetime(2026, 3, 5, 5, 0, tzinfo=dt.UTC)  # 08:00 in Istanbul
    assert quiet.send_time(early) == dt.datetime(2026, 3, 5, 9, 0, tzinfo=ISTANBUL)
    noon = dt.datetime(2026, 3, 5, 12, 0, tzinfo=ISTANBUL)
    assert quiet.send_time(noon) == noon


def test_a_quiet_window_inside_one_day_is_honoured():
    lunch = QuietHours(start=dt.time(12, 0), end=dt.time(13, 0))
    at = dt.datetime(2026, 3, 5, 12, 30, tzinfo=ISTANBUL)
    assert lunch.send_time(at) == dt.datetime(2026, 3, 5, 13, 0, tzinfo=ISTANBUL)
    assert lunch.send_time(at.replace(hour=14)) == at.replace(hour=14)
