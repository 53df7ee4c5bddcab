"""The policy-event schemas in docs/ are the models' own: a change to an event that is not published fails here."""

from __future__ import annotations

import json
from pathlib import Path

from receivables.insurance.events import event_schemas

DOCS = Path(__file__).resolve().parents[3] / "docs" / "policy-events"


def test_each_event_types_schema_is_published_as_the_code_has_it():
    published = {p.name.removesuffix(".schema.json"): json.loads(p.read_text()) for p in DOCS.glob("*.schema.json")}
    assert published == event_schemas()
