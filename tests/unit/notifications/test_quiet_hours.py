from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from receivables.notifications import is_quiet, sms_send_time

IST = ZoneInfo("Europe/Istanbul")  # UTC+3 all year
BERLIN = ZoneInfo("Europe/Berlin")  # CET/CEST: 2026-03-29 02:00 -> 03:00, 2026-10-25 03:00 -> 02:00


def ist(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=IST)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (ist(24, 20, 59), ist(24, 20, 59)),  # just before: sent now
        (ist(24, 21, 0), ist(25, 9, 0)),  # start is inside the quiet period
        (ist(24, 23, 59), ist(25, 9, 0)),
        (ist(25, 0, 0), ist(25, 9, 0)),  # after midnight: this morning, not tomorrow's
        (ist(25, 8, 59), ist(25, 9, 0)),
        (ist(25, 9, 0), ist(25, 9, 0)),  # end is outside
        (ist(25, 13, 0), ist(25, 13, 0)),
    ],
)
def test_default_quiet_period_spans_midnight(now: datetime, expected: datetime) -> None:
    assert sms_send_time(now) == expected
    assert sms_send_time(now, time(21), time(9), "Europe/Istanbul") == expected


def test_now_in_utc_is_judged_in_the_zone() -> None:
    now = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)  # 21:00 in Istanbul

    send = sms_send_time(now, time(21), time(9), "Europe/Istanbul")

    assert send == datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    assert send.tzinfo == IST and send.hour == 9


def test_outside_quiet_hours_now_is_returned_unchanged() -> None:
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert sms_send_time(now) is now


def test_the_same_instant_differs_by_zone() -> None:
    now = datetime(2026, 11, 24, 19, 30, tzinfo=UTC)  # 22:30 in Istanbul, 19:30 in London
    assert sms_send_time(now, time(21), time(9), "Europe/Istanbul") == datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    assert sms_send_time(now, time(21), time(9), "Europe/London") == now


@pytest.mark.parametrize(
    ("hour", "minute", "quiet"),
    [(12, 59, False), (13, 0, True), (13, 59, True), (14, 0, False)],
)
def test_quiet_period_within_a_day(hour: int, minute: int, quiet: bool) -> None:
    now = ist(24, hour, minute)
    assert is_quiet(now, time(13), time(14), "Europe/Istanbul") is quiet
    assert sms_send_time(now, time(13), time(14), "Europe/Istanbul") == (ist(24, 14) if quiet else now)


def test_equal_bounds_mean_no_quiet_period() -> None:
    assert not is_quiet(ist(24, 9), time(9), time(9), "Europe/Istanbul")


def test_spring_forward_night_ends_at_local_nine() -> None:
    now = datetime(2026, 3, 28, 22, 0, tzinfo=BERLIN)  # CET, 21:00 UTC

    send = sms_send_time(now, time(21), time(9), "Europe/Berlin")

    assert send == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)  # 09:00 CEST: 10 hours later, not 11
    assert (send.hour, send.utcoffset().total_seconds()) == (9, 7200)  # type: ignore[union-attr]


def test_fall_back_night_ends_at_local_nine() -> None:
    now = datetime(2026, 10, 24, 22, 0, tzinfo=BERLIN)  # CEST, 20:00 UTC

    send = sms_send_time(now, time(21), time(9), "Europe/Berlin")

    assert send == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)  # 09:00 CET: 12 hours later
    assert (send.hour, send.utcoffset().total_seconds()) == (9, 3600)  # type: ignore[union-attr]


def test_end_inside_the_spring_forward_gap_resolves_to_a_real_instant() -> None:
    now = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)  # 01:00 CET, quiet until a 02:30 that does not exist

    send = sms_send_time(now, time(21), time(2, 30), "Europe/Berlin")

    assert send == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST
    assert send > now


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sms_send_time(datetime(2026, 11, 24, 22, 0))


def test_bounds_with_a_timezone_are_refused() -> None:
    with pytest.raises(ValueError, match="wall-clock"):
        sms_send_time(ist(24, 22), time(21, tzinfo=UTC), time(9), "Europe/Istanbul")
