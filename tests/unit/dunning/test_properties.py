"""Invariants over random histories: whatever happens day to day, a step never fires twice in a cycle."""

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from receivables.dunning import DEFAULT_CONFIG, DunningConfig, DunningState, Hold, ItemFacts, decide

from tests.unit.dunning.builders import account

START = date(2026, 9, 1)

BUSINESS = DunningConfig.model_validate(
    DEFAULT_CONFIG.model_dump(mode="json")
    | {
        "version": 9,
        "strategies": [
            strategy | {"business_days": True} if n == 0 else strategy
            for n, strategy in enumerate(DEFAULT_CONFIG.model_dump(mode="json")["strategies"])
        ],
    }
)

events = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=12),  # days until the next run (0: the same day again)
        st.sampled_from(["none", "none", "pay_part", "pay_all", "new_bill", "hold", "lift"]),
        st.integers(min_value=1, max_value=9999),  # cents
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(history=events, business=st.booleans())
def test_a_step_never_fires_twice_in_one_cycle_and_at_most_one_fires_per_run(history, business):
    config = BUSINESS if business else DEFAULT_CONFIG
    items = {"I0": ItemFacts(item_id="I0", due_date=START, open_amount=Decimal("200.00"))}
    state, today, holds = DunningState(), START, []
    seen: Counter[tuple[int, str]] = Counter()
    for n, (gap, event, cents) in enumerate(history):
        today += timedelta(days=gap)
        if event == "pay_part" or event == "pay_all":
            for key, it in sorted(items.items()):
                if it.open_amount > 0:
                    left = Decimal(0) if event == "pay_all" else max(it.open_amount - Decimal(cents) / 100, Decimal(0))
                    items[key] = it.model_copy(update={"open_amount": left})
                    break
        elif event == "new_bill":
            items[f"I{n + 1}"] = ItemFacts(item_id=f"I{n + 1}", due_date=today, open_amount=Decimal(cents) / 100)
        elif event == "hold":
            holds = [Hold(reason="random", until=today + timedelta(days=cents % 20))]
        elif event == "lift":
            holds = []
        decision = decide(config, account(*items.values()), state, today, holds=holds)
        assert len(decision.fired) <= 1
        for step in decision.fired:
            seen[(decision.state.cycle_number, step.step)] += 1
        assert all(count == 1 for count in seen.values()), seen
        assert decision.next_review_on is None or decision.next_review_on > today
        assert not set(decision.state.fired) & set(decision.state.skipped)
        state = decision.state
