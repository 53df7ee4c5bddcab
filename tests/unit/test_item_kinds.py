"""Every kind of item the writers store can be read back: a clawback item on a channel's account, a reinsurer's
commission or recovery, once broke every read of their account (the kind was not one the reader knew)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from receivables.adapters.insurance_table import policy_item_record
from receivables.adapters.ledger_table import item_view
from receivables.domain.ledger import ItemKind


@pytest.mark.parametrize("kind", ["commission_clawback", "reinsurance_commission", "claim_recovery"])
def test_items_written_by_the_insurance_writers_are_read_back_with_their_kind(kind):
    record = policy_item_record(
        item_id="POL-1-KC",
        kind=kind,
        no=0,
        account_id="CARI-AG-1-TRY",
        owner_id="AG-1",
        policy_id="POL-1",
        insured_id="C-1",
        components={"commission": Decimal("11.72")},
        due_date=date(2026, 12, 24),
        currency="TRY",
        on=date(2026, 11, 24),
        recorded_at="2026-11-24T09:00:00+03:00",
        source="policy-events/pas-2.jsonl:1",
        line=None,
        description="commission clawback",
        branch="trafik",
    )

    view = item_view(record)

    assert view.kind is ItemKind(kind)
    assert (view.amount, view.open_amount) == (Decimal("11.72"), Decimal("11.72"))
