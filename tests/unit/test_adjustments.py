"""Billing adjustments, pure: how a row or a body is read, when an adjustment is refused, what each kind posts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from receivables.adjustments.model import (
    AdjustmentKind,
    AdjustmentRefusedError,
    AdjustmentRequest,
    AdjustmentRules,
    ItemFacts,
    default_rules,
    effect_of,
    load_rules,
    validate_adjustment,
)
from receivables.domain.journal import PostingKind, Side

TODAY = date(2026, 11, 24)
ITEM = ItemFacts(
    item_id="INV-1",
    account_id="A1",
    customer_id="C1",
    kind="invoice",
    status=None,
    amount=Decimal("100.00"),
    issue_date=date(2026, 10, 1),
    due_date=date(2026, 10, 15),
    currency="TRY",
)


def request(kind: str, amount: str | None = None, **more: object) -> AdjustmentRequest:
    values = {"adjustment_id": "ADJ-1", "item_id": "INV-1", "kind": kind, "reason": "because", **more}
    if amount is not None:
        values["amount"] = amount
    result = validate_adjustment(values)
    assert not isinstance(result, list), result
    return result


@pytest.mark.parametrize(
    ("values", "problems"),
    [
        ({"kind": "credit_note"}, ["amount: missing (a credit_note needs one)"]),
        ({"kind": "cancel", "amount": "5.00"}, ["amount: a cancel moves no amount; leave it empty"]),
        ({"kind": "due_date_change"}, ["new_due_date: missing (a due_date_change needs the new date)"]),
        (
            {"kind": "refund", "amount": "1"},
            ["kind: 'refund' is not one of credit_note, debit_note, write_off, cancel, due_date_change"],
        ),
        ({"kind": "write_off", "amount": "-3"}, ["amount: amount must be greater than 0, got '-3'"]),
        (
            {"kind": "write_off", "amount": "3", "new_due_date": "2027-01-01"},
            ["new_due_date: only for a due_date_change or a debit_note, not a write_off"],
        ),
        (
            {"kind": "debit_note", "amount": "3", "date": "24.11.2026"},
            ["date: '24.11.2026' is not an ISO 8601 date (YYYY-MM-DD)"],
        ),
    ],
)
def test_a_malformed_adjustment_names_every_field_at_fault(values, problems):
    base = {"adjustment_id": "ADJ-1", "item_id": "INV-1", "reason": "because"}
    assert validate_adjustment({**base, **values}) == problems


def test_missing_ids_and_reason_are_each_named():
    assert validate_adjustment({"kind": "cancel"}) == [
        "adjustment_id: missing",
        "item_id: missing",
        "reason: missing (say why the item is adjusted)",
    ]


def test_a_credit_note_reduces_the_open_amount_and_what_is_paid_becomes_credit():
    effect = effect_of(request("credit_note", "30.00"), ITEM, Decimal("100.00"), TODAY)
    assert effect.open_after == Decimal("70.00") and effect.excess_credit == 0
    (posting,) = effect.postings
    assert (posting.kind, posting.side, posting.amount) == (PostingKind.CREDIT_NOTE, Side.ITEM, Decimal("-30.00"))
    assert effect.attributes == {"credited": Decimal("30.00")}

    # 80.00 of it is paid: 20.00 is absorbed, 10.00 is credit on the account.
    effect = effect_of(request("credit_note", "30.00"), ITEM, Decimal("20.00"), TODAY)
    assert effect.open_after == 0 and effect.excess_credit == Decimal("10.00")
    assert "10.00 it could not absorb (already paid) held as credit on account A1" in effect.explanation

    paid = effect_of(request("credit_note", "30.00"), ITEM, Decimal("0.00"), TODAY)
    assert paid.postings == [] and paid.open_after is None and paid.excess_credit == Decimal("30.00")


def test_an_item_is_never_credited_beyond_what_it_billed():
    item = replace(ITEM, credited=Decimal("90.00"))
    with pytest.raises(AdjustmentRefusedError, match=r"more than the 10.00 that can still be credited"):
        effect_of(request("credit_note", "10.01"), item, Decimal("10.00"), TODAY)


def test_a_debit_note_is_a_new_item_due_with_the_original_unless_given():
    effect = effect_of(request("debit_note", "15.00"), ITEM, Decimal("100.00"), TODAY)
    note = effect.debit_note
    assert note is not None and effect.postings == []
    assert (note.item_id, note.linked_item_id, note.amount, note.issue_date, note.due_date) == (
        "DN-ADJ-1",
        "INV-1",
        Decimal("15.00"),
        TODAY,
        ITEM.due_date,
    )
    later = effect_of(request("debit_note", "15.00", new_due_date="2026-12-20"), ITEM, Decimal("0"), TODAY)
    assert later.debit_note is not None and later.debit_note.due_date == date(2026, 12, 20)


def test_a_write_off_closes_the_rest_with_its_reason_and_never_more_than_is_open():
    effect = effect_of(request("write_off", "40.00"), ITEM, Decimal("40.00"), TODAY)
    assert effect.open_after == 0 and effect.attributes == {"write_off_reason": "because", "status": "written_off"}
    assert [(p.kind, p.amount) for p in effect.postings] == [(PostingKind.WRITTEN_OFF, Decimal("-40.00"))]
    part = effect_of(request("write_off", "10.00"), ITEM, Decimal("40.00"), TODAY)
    assert part.open_after == Decimal("30.00") and "status" not in part.attributes
    with pytest.raises(AdjustmentRefusedError, match=r"has 40.00 open: cannot write off 40.01"):
        effect_of(request("write_off", "40.01"), ITEM, Decimal("40.00"), TODAY)
    with pytest.raises(AdjustmentRefusedError, match="nothing to write off"):
        effect_of(request("write_off", "1.00"), ITEM, Decimal("0"), TODAY)


def test_only_an_unpaid_item_is_cancelled_a_paid_one_is_credited_instead():
    effect = effect_of(request("cancel"), ITEM, Decimal("100.00"), TODAY)
    assert effect.open_after == 0 and effect.attributes["status"] == "cancelled"
    assert [(p.kind, p.amount) for p in effect.postings] == [(PostingKind.ITEM_CANCELLED, Decimal("-100.00"))]
    with pytest.raises(AdjustmentRefusedError, match=r"is paid .*credit it instead"):
        effect_of(request("cancel"), ITEM, Decimal("0"), TODAY)
    with pytest.raises(AdjustmentRefusedError, match="is partly paid"):
        effect_of(request("cancel"), ITEM, Decimal("99.99"), TODAY)
    policy_item = replace(ITEM, policy_id="POL-1")
    with pytest.raises(AdjustmentRefusedError, match="cancelled by the policy's own cancellation event"):
        effect_of(request("cancel"), policy_item, Decimal("100.00"), TODAY)


def test_a_due_date_change_moves_an_open_item_only():
    effect = effect_of(request("due_date_change", new_due_date="2026-12-31"), ITEM, Decimal("5"), TODAY)
    assert effect.new_due_date == date(2026, 12, 31) and effect.postings == []
    assert effect.attributes == {"due_date": "2026-12-31", "previous_due_date": "2026-10-15"}
    with pytest.raises(AdjustmentRefusedError, match="is paid: there is no due date left to move"):
        effect_of(request("due_date_change", new_due_date="2026-12-31"), ITEM, Decimal("0"), TODAY)
    with pytest.raises(AdjustmentRefusedError, match="was issued on 2026-10-01"):
        effect_of(request("due_date_change", new_due_date="2026-09-30"), ITEM, Decimal("5"), TODAY)


@pytest.mark.parametrize("kind", ["credit_note", "write_off", "cancel"])
def test_a_closed_item_refuses_what_would_change_its_money(kind):
    closed = replace(ITEM, status="written_off")
    with pytest.raises(AdjustmentRefusedError, match="is written off: nothing to"):
        effect_of(request(kind, None if kind == "cancel" else "1.00"), closed, Decimal("0"), TODAY)


def test_the_approval_threshold_is_data_and_the_shipped_one_is_for_write_offs():
    assert default_rules() == AdjustmentRules(approval_thresholds={"write_off": Decimal("1000.00")})
    rules = load_rules('{"approval_thresholds": {"credit_note": "500"}}')
    assert rules.needs_approval(AdjustmentKind.CREDIT_NOTE, Decimal("500.01"))
    assert not rules.needs_approval(AdjustmentKind.CREDIT_NOTE, Decimal("500.00"))
    assert not rules.needs_approval(AdjustmentKind.WRITE_OFF, Decimal("1e6"))
    with pytest.raises(ValueError, match=r"approval_thresholds.refund"):
        load_rules('{"approval_thresholds": {"refund": "1"}}')


def test_the_fingerprint_tells_the_same_adjustment_from_another_under_the_same_id():
    assert request("write_off", "1.00").fingerprint() == request("write_off", "1.00").fingerprint()
    assert request("write_off", "1.00").fingerprint() != request("write_off", "1.01").fingerprint()
