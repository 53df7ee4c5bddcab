"""Business dates come from a clock the caller hands in; the domain never reads the wall clock."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol


class Clock(Protocol):
    def today(self) -> date:
        """The business date."""
        ...

    def now(self) -> datetime:
        """An aware timestamp, for audit fields."""
        ...
