"""`make chaos`: every shipped scenario replayed clean, then once per seed with the faults of ``simulate --chaos``;
each chaos replay must end in the clean STATE.json exactly, with the same journal, ``verify`` holding, nothing failed
for good and nothing in a dead-letter queue. The table (what was tried, what was injected, what held) is appended
to docs/reliability.md; the exit status is non-zero if any seed differed.

    python tests/chaos/run.py [--seeds 20] [--first-seed 1] [--scenario chaos_week ...] [--no-record]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.machine import machine  # noqa: E402

SCENARIOS_DIR = ROOT / "tests" / "e2e" / "scenarios"
RESULTS = ROOT / "docs" / "reliability.md"

# Each scenario replayed to the day its e2e test runs it to.
SCENARIOS: dict[str, date] = {
    "chaos_week": date(2026, 11, 25),
    "loading_week": date(2026, 11, 10),
    "payments_month": date(2026, 12, 31),
    "dunning_90days": date(2027, 3, 31),
}


@dataclass
class ScenarioOutcome:
    name: str
    until: date
    clean_seconds: float
    postings: int
    seeds: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    chaos_seconds: float = 0.0
    defects: list[str] = field(default_factory=list)


def state_differences(clean: Any, chaos: Any, path: str = "") -> list[str]:
    """Where two STATE.json documents differ, as JSON paths (the first few suffice to start looking)."""
    if isinstance(clean, dict) and isinstance(chaos, dict):
        found = []
        for key in sorted(set(clean) | set(chaos)):
            if key not in clean or key not in chaos:
                found.append(f"{path}/{key}: only in {'chaos' if key in chaos else 'clean'}")
            else:
                found += state_differences(clean[key], chaos[key], f"{path}/{key}")
        return found
    if isinstance(clean, list) and isinstance(chaos, list):
        if len(clean) != len(chaos):
            return [f"{path}: {len(clean)} entries clean, {len(chaos)} with chaos"]
        pairs = enumerate(zip(clean, chaos, strict=True))
        return [found for n, (a, b) in pairs for found in state_differences(a, b, f"{path}[{n}]")]
    if clean == chaos:
        return []
    return [f"{path}: {json.dumps(clean, default=str)} clean, {json.dumps(chaos, default=str)} with chaos"]


def check_seed(clean: Any, chaos: Any) -> list[str]:
    problems = [f"verify: {d}" for d in chaos.differences]
    if chaos.state.get("verified") is not True:
        problems.append('STATE.json says "verified": false')
    problems += [f"failed for good: {f}" for f in chaos.failures]
    problems += [f"dead letters: {n} in {queue}" for queue, n in sorted(chaos.dead_letters.items())]
    if chaos.journal != clean.journal:
        lost = sorted(set(clean.journal) - set(chaos.journal))
        extra = sorted(set(chaos.journal) - set(clean.journal))
        problems.append(f"journal: {len(lost)} postings missing, {len(extra)} extra, e.g. {(lost + extra)[:2]}")
    problems += [f"STATE.json {d}" for d in state_differences(clean.state, chaos.state)[:5]]
    return problems


def run_scenario(stack: Any, name: str, until: date, seeds: list[int]) -> ScenarioOutcome:
    from receivables_local.scenario import simulate

    started = time.perf_counter()
    clean = simulate(SCENARIOS_DIR / name, until, stack=stack)
    outcome = ScenarioOutcome(name, until, time.perf_counter() - started, len(clean.journal))
    baseline = check_seed(clean, clean)
    if baseline:
        outcome.defects += [f"clean replay: {p}" for p in baseline]
        return outcome
    for seed in seeds:
        started = time.perf_counter()
        chaos = simulate(SCENARIOS_DIR / name, until, stack=stack, chaos=seed)
        outcome.chaos_seconds += time.perf_counter() - started
        outcome.seeds.append(seed)
        outcome.faults.update(chaos.faults)
        problems = check_seed(clean, chaos)
        if problems:
            outcome.defects += [f"seed {seed}: {p}" for p in problems]
        else:
            outcome.held.append(seed)
        print(f"  {name} seed {seed}: {'held' if not problems else 'DIFFERS'} {dict(sorted(chaos.faults.items()))}")
        for problem in problems:
            print(f"    {problem}")
    return outcome


def report(outcomes: list[ScenarioOutcome]) -> str:
    stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    lines = [
        f"\n## {stamp} — {machine()}\n",
        "| scenario (until) | postings | seeds | held | faults injected over all seeds | clean / per seed |",
        "|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        faults = ", ".join(f"{n} {what}" for what, n in sorted(o.faults.items())) or "–"
        seeds = f"{o.seeds[0]}–{o.seeds[-1]}" if o.seeds else "–"
        per_seed = o.chaos_seconds / len(o.seeds) if o.seeds else 0.0
        lines.append(
            f"| {o.name} ({o.until}) | {o.postings} | {seeds} | **{len(o.held)} / {len(o.seeds)}** | {faults} "
            f"| {o.clean_seconds:.0f} s / {per_seed:.0f} s |"
        )
    defects = [f"- {o.name}: {d}" for o in outcomes for d in o.defects]
    lines.append("")
    held = ["Every seed ended in the clean STATE.json and journal, and verify held."]
    lines += ["Differences found:", "", *defects] if defects else held
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    parser.add_argument("--no-record", action="store_true", help="print, do not append to docs/reliability.md")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "infra"))
    from receivables_local.embedded import EmbeddedStack

    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    outcomes = []
    with EmbeddedStack() as stack:
        for name in args.scenario or list(SCENARIOS):
            print(f"{name}: clean replay, then seeds {seeds[0]}–{seeds[-1]}", flush=True)
            outcomes.append(run_scenario(stack, name, SCENARIOS[name], seeds))
    entry = report(outcomes)
    print(entry)
    if not args.no_record:
        with RESULTS.open("a", encoding="utf-8") as results:
            results.write(entry)
    return 1 if any(o.defects for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
