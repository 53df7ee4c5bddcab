"""Dates as our contracts write them: ISO 8601 calendar dates, ``YYYY-MM-DD`` only."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import BeforeValidator

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(value: object) -> object:
    """Pydantic reads a date leniently (``0`` or ``"1700000000"`` as a Unix time, ``"2026-11-24T00:00"``…); our
    documents say ``format: date``, so only that is taken: ``YYYY-MM-DD``, in a body, a query string or an event."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError(f"a date is written YYYY-MM-DD, got {value!r}")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
