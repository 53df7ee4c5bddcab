"""What an adjustment is, when it is refused, and what it does to the item it names — pure: the service runs the
effect as one step of the account's ledger, so it is journalled with the state it changes.

- ``credit_note``: the item's open amount goes down by the amount (posting ``credit_note`` on the item); what the item
  cannot absorb — it is already paid — becomes unapplied credit on the account (``credit_note`` on a credit of its
  own, ``CN-<adjustment_id>``), which the payments machinery applies to open items as it does any credit. An item is
  never credited beyond what it billed.
- ``debit_note``: a new item ``DN-<adjustment_id>`` linked to the original (``linked_item_id``), due on the original's
  due date unless ``new_due_date`` says otherwise; its record is its own posting, like any item's.
- ``write_off``: the amount (at most what is open) is closed without money (posting ``written_off``); once nothing is
  open the item is ``written_off``, with the reason.
- ``cancel``: an item nothing has paid or credited is closed as ``cancelled`` (posting ``item_cancelled``); one that
  was paid is refused — credit it instead.
- ``due_date_change``: an open item moves to ``new_due_date``; no money moves, the journal still records it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from importlib import resources
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from receivables.domain.config_files import load_settings
from receivables.domain.journal import Posting, PostingKind, Side
from receivables.domain.money import ZERO, AmountError, format_money, parse_positive_amount
from receivables.domain.records import _identifier, _iso_date, _optional

MAX_REASON = 500
CLOSED = frozenset({"cancelled", "written_off", "restructured"})


class AdjustmentKind(StrEnum):
    CREDIT_NOTE = "credit_note"
    DEBIT_NOTE = "debit_note"
    WRITE_OFF = "write_off"
    CANCEL = "cancel"
    DUE_DATE_CHANGE = "due_date_change"


MONEY_KINDS = frozenset({AdjustmentKind.CREDIT_NOTE, AdjustmentKind.DEBIT_NOTE, AdjustmentKind.WRITE_OFF})


class AdjustmentStatus(StrEnum):
    APPLIED = "applied"
    PENDING_APPROVAL = "pending_approval"  # above its kind's threshold: waits for a second person
    DECLINED = "declined"  # the second person said no: nothing moved
    REFUSED = "refused"  # the item's state does not allow it (a paid item cancelled…): nothing moved, reason kept


class AdjustmentRefusedError(ValueError):
    """The adjustment is well formed but the item's state does not allow it; ``reason`` says why and what to do."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class AdjustmentRequest:
    adjustment_id: str
    item_id: str
    kind: AdjustmentKind
    reason: str
    amount: Decimal | None = None
    new_due_date: date | None = None
    date: date | None = None  # when billing made it; the day it is applied otherwise

    def fingerprint(self) -> str:
        """Its content: the same id sent again with other content is refused, never applied as a second change."""
        canonical = "\x1f".join(
            (
                self.adjustment_id,
                self.item_id,
                self.kind.value,
                "" if self.amount is None else format_money(self.amount),
                self.new_due_date.isoformat() if self.new_due_date else "",
                self.reason,
                self.date.isoformat() if self.date else "",
            )
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def validate_adjustment(values: Mapping[str, object]) -> AdjustmentRequest | list[str]:
    """A file row's or a request body's fields as an adjustment, or every reason it is rejected."""
    text = {k: "" if v is None else str(v) for k, v in values.items()}
    errors: list[str] = []
    adjustment_id = _identifier(text, "adjustment_id", errors)
    item_id = _identifier(text, "item_id", errors)
    raw_kind = (text.get("kind") or "").strip()
    kind: AdjustmentKind | None = None
    if not raw_kind:
        errors.append("kind: missing")
    else:
        try:
            kind = AdjustmentKind(raw_kind)
        except ValueError:
            errors.append(f"kind: {raw_kind!r} is not one of {', '.join(k.value for k in AdjustmentKind)}")
    reason = (text.get("reason") or "").strip()
    if not reason:
        errors.append("reason: missing (say why the item is adjusted)")
    elif len(reason) > MAX_REASON:
        errors.append(f"reason: longer than {MAX_REASON} characters")
    amount: Decimal | None = None
    raw_amount = (text.get("amount") or "").strip()
    if kind in MONEY_KINDS:
        if not raw_amount:
            errors.append(f"amount: missing (a {kind} needs one)")
        else:
            try:
                amount = parse_positive_amount(raw_amount)
            except AmountError as exc:
                errors.append(f"amount: {exc}")
    elif kind is not None and raw_amount:
        errors.append(f"amount: a {kind} moves no amount; leave it empty")
    new_due_date = _iso_date(text, "new_due_date", errors) if _optional(text, "new_due_date") else None
    if kind is AdjustmentKind.DUE_DATE_CHANGE and not _optional(text, "new_due_date"):
        errors.append("new_due_date: missing (a due_date_change needs the new date)")
    if kind in (AdjustmentKind.CREDIT_NOTE, AdjustmentKind.WRITE_OFF, AdjustmentKind.CANCEL) and new_due_date:
        errors.append(f"new_due_date: only for a due_date_change or a debit_note, not a {kind}")
    on = _iso_date(text, "date", errors) if _optional(text, "date") else None
    if errors or kind is None:
        return errors
    return AdjustmentRequest(adjustment_id, item_id, kind, reason, amount, new_due_date, on)


Threshold = Annotated[Decimal, Field(ge=0, max_digits=17, decimal_places=2)]


class AdjustmentRules(BaseModel):
    """Shipped in ``adjustments/defaults/adjustments.json``; a user's ``config/adjustments.json`` replaces it. An
    adjustment above its kind's threshold waits for a second person's approval (at or below, it applies at once)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    approval_thresholds: dict[Literal["credit_note", "debit_note", "write_off"], Threshold] = Field(
        default_factory=dict
    )

    def needs_approval(self, kind: AdjustmentKind, amount: Decimal | None) -> bool:
        threshold = self.approval_thresholds.get(kind.value)  # type: ignore[call-overload]
        return threshold is not None and amount is not None and amount > threshold


RULES_FILE = "config/adjustments.json"


class AdjustmentRulesError(ValueError):
    pass


def load_rules(text: bytes | str, where: str = RULES_FILE) -> AdjustmentRules:
    return load_settings(text, AdjustmentRules, where=where, error=AdjustmentRulesError, bank_id="")


def default_rules() -> AdjustmentRules:
    shipped = resources.files("receivables.adjustments").joinpath("defaults", "adjustments.json")
    return load_rules(shipped.read_text(encoding="utf-8"), "shipped adjustments.json")


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """The adjusted item as stored (its open amount is taken from the account's ledger when the step runs)."""

    item_id: str
    account_id: str
    customer_id: str
    kind: str
    status: str | None  # the stored closing status (cancelled, written_off, restructured), else None
    amount: Decimal
    issue_date: date
    due_date: date
    currency: str
    policy_id: str | None = None
    subscription_id: str | None = None
    credited: Decimal = ZERO  # what credit notes took off it before
    collected: bool = False  # a direct debit or card collection will collect it on its due date


@dataclass(frozen=True, slots=True)
class DebitNote:
    item_id: str
    linked_item_id: str
    amount: Decimal
    issue_date: date
    due_date: date
    description: str


@dataclass(slots=True)
class Effect:
    """What the adjustment does: postings on the item, values it sets on the item, a new item, credit left over."""

    postings: list[Posting] = field(default_factory=list)
    open_after: Decimal | None = None
    attributes: dict[str, str | Decimal] = field(default_factory=dict)
    new_due_date: date | None = None
    debit_note: DebitNote | None = None
    excess_credit: Decimal = ZERO
    explanation: str = ""


def credit_payment_id(adjustment_id: str) -> str:
    return f"CN-{adjustment_id}"


def debit_note_id(adjustment_id: str) -> str:
    return f"DN-{adjustment_id}"


def effect_of(request: AdjustmentRequest, item: ItemFacts, open_amount: Decimal, today: date) -> Effect:
    """The effect on an item with ``open_amount`` open now, or :class:`AdjustmentRefusedError` saying why not."""
    what = f"{request.kind.value.replace('_', ' ')} {request.adjustment_id}: {request.reason}"
    match request.kind:
        case AdjustmentKind.CREDIT_NOTE:
            return _credit_note(request, item, open_amount, what)
        case AdjustmentKind.DEBIT_NOTE:
            assert request.amount is not None
            issued = request.date or today
            # Due with the original (overdue as it is, when it is) unless billing gives it a date of its own.
            due = request.new_due_date or item.due_date
            note = DebitNote(debit_note_id(request.adjustment_id), item.item_id, request.amount, issued, due, what)
            return Effect(
                debit_note=note,
                explanation=f"{what}: new item {note.item_id} of {format_money(note.amount)}"
                f" due {note.due_date}, linked to {item.item_id}",
            )
        case AdjustmentKind.WRITE_OFF:
            return _write_off(request, item, open_amount, what)
        case AdjustmentKind.CANCEL:
            return _cancel(item, open_amount, what)
        case AdjustmentKind.DUE_DATE_CHANGE:
            return _due_date_change(request, item, open_amount, what)


def _refuse_closed(item: ItemFacts, doing: str) -> None:
    if item.status in CLOSED:
        raise AdjustmentRefusedError(f"item {item.item_id} is {item.status.replace('_', ' ')}: nothing to {doing}")


def _credit_note(request: AdjustmentRequest, item: ItemFacts, open_amount: Decimal, what: str) -> Effect:
    assert request.amount is not None
    _refuse_closed(item, "credit")
    creditable = item.amount - item.credited
    if request.amount > creditable:
        raise AdjustmentRefusedError(
            f"item {item.item_id} billed {format_money(item.amount)}"
            + (f" and was credited {format_money(item.credited)} before" if item.credited else "")
            + f": a credit note of {format_money(request.amount)} is more than the {format_money(creditable)} "
            "that can still be credited"
        )
    absorbed = min(open_amount, request.amount)
    effect = Effect(attributes={"credited": item.credited + request.amount})
    if absorbed > 0:
        effect.open_after = open_amount - absorbed
        effect.postings.append(
            Posting(kind=PostingKind.CREDIT_NOTE, side=Side.ITEM, amount=-absorbed, item_id=item.item_id, reason=what)
        )
    effect.excess_credit = request.amount - absorbed
    effect.explanation = f"{what}: {format_money(absorbed)} off {item.item_id}'s open amount" + (
        f", {format_money(effect.excess_credit)} it could not absorb (already paid) held as credit on account "
        f"{item.account_id}"
        if effect.excess_credit
        else ""
    )
    return effect


def _write_off(request: AdjustmentRequest, item: ItemFacts, open_amount: Decimal, what: str) -> Effect:
    assert request.amount is not None
    _refuse_closed(item, "write off")
    if open_amount <= 0:
        raise AdjustmentRefusedError(f"item {item.item_id} has nothing open: nothing to write off")
    if request.amount > open_amount:
        raise AdjustmentRefusedError(
            f"item {item.item_id} has {format_money(open_amount)} open: cannot write off {format_money(request.amount)}"
        )
    rest = open_amount - request.amount
    effect = Effect(
        postings=[
            Posting(
                kind=PostingKind.WRITTEN_OFF, side=Side.ITEM, amount=-request.amount, item_id=item.item_id, reason=what
            )
        ],
        open_after=rest,
        attributes={"write_off_reason": request.reason},
        explanation=f"{what}: {format_money(request.amount)} of {item.item_id} written off"
        + (f", {format_money(rest)} still open" if rest else ", nothing left open"),
    )
    if rest == 0:
        effect.attributes["status"] = "written_off"
    return effect


def _cancel(item: ItemFacts, open_amount: Decimal, what: str) -> Effect:
    _refuse_closed(item, "cancel")
    if item.policy_id:
        raise AdjustmentRefusedError(
            f"item {item.item_id} is an installment of policy {item.policy_id}: it is cancelled by the policy's own "
            "cancellation event (or credit it instead)"
        )
    if open_amount < item.amount:
        paid = item.amount - open_amount
        raise AdjustmentRefusedError(
            f"item {item.item_id} is {'paid' if open_amount <= 0 else 'partly paid'} "
            f"({format_money(paid)} of {format_money(item.amount)} paid or credited): a paid item cannot be "
            "cancelled — credit it instead"
        )
    return Effect(
        postings=[
            Posting(
                kind=PostingKind.ITEM_CANCELLED, side=Side.ITEM, amount=-open_amount, item_id=item.item_id, reason=what
            )
        ],
        open_after=ZERO,
        attributes={"status": "cancelled", "cancel_reason": what},
        explanation=f"{what}: {item.item_id} cancelled, {format_money(open_amount)} no longer owed",
    )


def _due_date_change(request: AdjustmentRequest, item: ItemFacts, open_amount: Decimal, what: str) -> Effect:
    assert request.new_due_date is not None
    _refuse_closed(item, "move")
    if open_amount <= 0:
        raise AdjustmentRefusedError(f"item {item.item_id} is paid: there is no due date left to move")
    if request.new_due_date < item.issue_date:
        raise AdjustmentRefusedError(
            f"item {item.item_id} was issued on {item.issue_date}: it cannot fall due on {request.new_due_date}"
        )
    if request.new_due_date == item.due_date:
        raise AdjustmentRefusedError(f"item {item.item_id} is already due on {item.due_date}")
    return Effect(
        new_due_date=request.new_due_date,
        attributes={"due_date": request.new_due_date.isoformat(), "previous_due_date": item.due_date.isoformat()},
        explanation=f"{what}: {item.item_id} moved from {item.due_date} to {request.new_due_date}",
    )


@dataclass(frozen=True, slots=True)
class Adjustment:
    """An adjustment as recorded, once, under its id: what was asked, by whom, and what became of it."""

    request: AdjustmentRequest
    account_id: str
    status: AdjustmentStatus
    created_by: str  # the person or system that sent it (a file's key for a file's line)
    created_at: str
    source: str  # the cause, as an operator reads it ("adjustments/a.csv:4", "POST /adjustments by ayse")
    explanation: str = ""  # what it did, or why it was refused
    decided_by: str | None = None  # the second person who approved or declined it
    decided_at: str | None = None
    fingerprint: str = ""

    @property
    def adjustment_id(self) -> str:
        return self.request.adjustment_id

    def view(self) -> dict[str, object]:
        r = self.request
        return {
            "adjustment_id": r.adjustment_id,
            "item_id": r.item_id,
            "account_id": self.account_id,
            "kind": r.kind.value,
            "amount": None if r.amount is None else format_money(r.amount),
            "new_due_date": r.new_due_date.isoformat() if r.new_due_date else None,
            "date": r.date.isoformat() if r.date else None,
            "reason": r.reason,
            "status": self.status.value,
            "explanation": self.explanation,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "source": self.source,
            "decided_by": self.decided_by,
            "decided_at": self.decided_at,
            "debit_note_item_id": debit_note_id(r.adjustment_id) if r.kind is AdjustmentKind.DEBIT_NOTE else None,
        }
