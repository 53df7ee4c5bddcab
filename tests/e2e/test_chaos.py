"""Proof under faults (``simulate --chaos SEED``): a small scenario replayed clean and with three seeds of faults —
every message delivered twice, reordered, handlers killed before and after their writes, throttling, transaction
conflicts — ends in the same STATE.json and the same journal, and the journal proves every balance. ``make chaos``
runs every shipped scenario with 20 seeds (docs/reliability.md)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from receivables_local.embedded import EmbeddedStack
from receivables_local.scenario import SimulationResult, simulate

from .conftest import requires_handlers

pytestmark = [pytest.mark.e2e, requires_handlers]

SCENARIO = Path(__file__).parent / "scenarios" / "chaos_week"
UNTIL = date(2026, 11, 25)
SEEDS = (1, 2, 3)


@pytest.fixture(scope="module")
def clean(stack: EmbeddedStack) -> SimulationResult:
    result = simulate(SCENARIO, UNTIL, stack=stack)
    assert result.state["verified"] and not result.failures and not result.dead_letters, result
    return result


def test_the_clean_week_touches_every_path_the_chaos_must_prove(clean: SimulationResult) -> None:
    state = clean.state
    statuses = {p["status"] for p in state["payments"]}
    assert {"applied", "unapplied", "reversed"} <= statuses
    assert state["plans"] and state["holds"] and state["promises"] and state["notifications"]
    assert any(a["unapplied_credit"] != "0.00" for a in state["accounts"]) or any(
        p["allocations"] and p["bank_id"] == "counter" for p in state["payments"]
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_chaos_changes_nothing(stack: EmbeddedStack, clean: SimulationResult, seed: int) -> None:
    chaos = simulate(SCENARIO, UNTIL, stack=stack, chaos=seed)
    assert chaos.faults.get("delivered twice", 0) > 0 and any(k.startswith("crash") for k in chaos.faults), chaos.faults
    assert chaos.differences == [] and chaos.state["verified"] is True
    assert chaos.failures == [] and chaos.dead_letters == {}
    assert chaos.journal == clean.journal  # every posting once: nothing lost, nothing twice
    assert chaos.state == clean.state


def test_the_logs_of_a_chaos_replay_carry_no_personal_data(stack: EmbeddedStack, clean: SimulationResult) -> None:
    """Every line every function and the runtime wrote during the clean replay and its chaos seeds (the same
    stack's log), crashes and their tracebacks included: no customer's name, phone, e-mail or IBAN."""
    import csv
    import json

    customers = list(csv.DictReader((SCENARIO / "2026-11-19" / "customers" / "crm.csv").open(encoding="utf-8")))
    personal = {c[field] for c in customers for field in ("name", "phone", "email", "iban") if c.get(field)}
    lines = (stack.log_dir / "functions.log").read_text(encoding="utf-8").splitlines()
    assert len(lines) > 50
    for value in personal:
        spelled = {value, json.dumps(value)[1:-1]}  # as written, and as JSON escapes it (ş → \u015f)
        assert not [line for line in lines if any(s in line for s in spelled)], value
