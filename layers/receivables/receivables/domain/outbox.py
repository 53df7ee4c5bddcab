"""An event that must follow a committed change: written in the change's own transaction (the outbox) and published
from the table's stream once committed (adapters/outbox.py, functions/publish_events)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    detail_type: str
    detail: Mapping[str, Any]
    source: str = "receivables.payments"
