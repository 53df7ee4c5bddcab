"""The insurance rules that are data: the levy table, commission plans and the cancellation table.

Shipped defaults live beside this module (``defaults/*.json``); an insurer replaces them with
``config/insurance/levies.json``, ``config/insurance/commission-plans/<plan_id>.json``,
``config/insurance/cancellation.json``, ``config/insurance/payables.json`` and ``config/insurance/withholding.json``
in the inbound bucket (or through the API), with no deploy.
"""

from __future__ import annotations

import json
from decimal import Decimal
from importlib import resources
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

Rate = Annotated[Decimal, Field(ge=0, le=1, max_digits=9, decimal_places=6)]
Code = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,15}$")]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class InsuranceConfigError(ValueError):
    """A configuration document that does not validate: the message names the document and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LevyRule(_Strict):
    """One tax or fund: ``rate`` of the net premium of the covers it applies to, on the branches it applies to.

    ``branches`` (only these) or ``branches_except`` (all but these) choose the branches, ``covers`` the cover kinds
    (all when absent): ``YSV`` is ``{"covers": ["fire"]}``, ``BSMV`` ``{"branches_except": ["life", "health"]}``."""

    code: Code
    name: str = Field(default="", max_length=200)
    rate: Rate
    branches: tuple[Name, ...] | None = None
    branches_except: tuple[Name, ...] = ()
    covers: tuple[Name, ...] | None = None

    @model_validator(mode="after")
    def _one_branch_rule(self) -> LevyRule:
        if self.branches is not None and self.branches_except:
            raise ValueError("give branches or branches_except, not both")
        return self

    def applies_to_branch(self, branch: str) -> bool:
        if self.branches is not None:
            return branch in self.branches
        return branch not in self.branches_except

    def applies_to_cover(self, cover: str) -> bool:
        return self.covers is None or cover in self.covers


class LevyTable(_Strict):
    levies: tuple[LevyRule, ...]

    @field_validator("levies")
    @classmethod
    def _unique_codes(cls, levies: tuple[LevyRule, ...]) -> tuple[LevyRule, ...]:
        codes = [levy.code for levy in levies]
        if repeated := sorted({c for c in codes if codes.count(c) > 1}):
            raise ValueError(f"levy codes must be unique: {', '.join(repeated)} repeated")
        if "premium" in codes:
            raise ValueError("'premium' names the net premium component and cannot be a levy code")
        return levies


class CommissionPlan(_Strict):
    """``rates`` per branch with a ``default``; commission is payable when its installment is paid in full
    (``on_collection``) or when the policy is issued (``on_issue``)."""

    rates: dict[str, Rate]
    payable: Literal["on_collection", "on_issue"] = "on_collection"

    def rate_for(self, branch: str) -> Decimal:
        return self.rates.get(branch, self.rates.get("default", Decimal(0)))


class CancellationTable(_Strict):
    """What a cancellation keeps beyond the earned premium: under short rate, ``short_rate_percent`` of the unearned
    net premium (levies stay pro rata). A default: each product's general conditions set its own."""

    short_rate_percent: Annotated[Decimal, Field(ge=0, le=100, decimal_places=4)] = Decimal(10)
    balance_due_days: Annotated[int, Field(ge=0, le=365)] = 10  # a cancellation balance falls due this many days on
    separate_item_due_days: Annotated[int, Field(ge=0, le=365)] = 15  # an endorsement billed separately
    # A policy cancelled for non-payment is reinstated when what was overdue is paid within this many days.
    reinstatement_days: Annotated[int, Field(ge=0, le=365)] = 30


class AgencyBillRules(_Strict):
    """Agency bill: a remittance within ``tolerance`` of a statement's net due is settled by writing the difference
    off; beyond it the difference waits for a person (an exception)."""

    tolerance: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)] = Decimal("1.00")


PayableKind = Literal["claim", "commission", "refund", "reinsurance", "tax"]
Threshold = Annotated[Decimal, Field(ge=0, max_digits=17, decimal_places=2)]


class PayableRules(_Strict):
    """What the insurer owes: a payable above its kind's ``approval_thresholds`` waits for a second person's
    approval (at or below, it is approved on creation); a claim paid to the policyholder first settles the policy's
    overdue installments (mahsup) when ``offset_claims`` is on for the policy's billing."""

    approval_thresholds: dict[PayableKind, Threshold] = Field(default_factory=dict)
    offset_claims: dict[Literal["direct", "agency"], bool] = {"direct": True}

    def needs_approval(self, kind: str, amount: Decimal) -> bool:
        threshold = self.approval_thresholds.get(kind)  # type: ignore[call-overload]
        return threshold is not None and amount > threshold

    def offsets(self, billing: str) -> bool:
        return self.offset_claims.get(billing, False)  # type: ignore[call-overload]


class WithholdingRules(_Strict):
    """Where income tax withheld from a claim payment is owed: the ``tax_authority`` party named here, or the only
    party of that kind when none is named."""

    party_id: str | None = Field(default=None, min_length=1, max_length=128)


def _load[M: BaseModel](model: type[M], body: bytes | str, where: str) -> M:
    try:
        return model.model_validate(json.loads(body))
    except json.JSONDecodeError as error:
        raise InsuranceConfigError(f"{where}: not JSON ({error})") from None
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(document)'}: {e['msg']}" for e in error.errors()
        )
        raise InsuranceConfigError(f"{where}: {problems}") from None


def load_levies(body: bytes | str, where: str = "config/insurance/levies.json") -> LevyTable:
    return _load(LevyTable, body, where)


def load_commission_plan(body: bytes | str, where: str) -> CommissionPlan:
    return _load(CommissionPlan, body, where)


def load_cancellation(body: bytes | str, where: str = "config/insurance/cancellation.json") -> CancellationTable:
    return _load(CancellationTable, body, where)


def _default(name: str) -> str:
    return resources.files("receivables.insurance").joinpath("defaults", name).read_text(encoding="utf-8")


def default_levies() -> LevyTable:
    return load_levies(_default("levies.json"), "shipped levies.json")


def default_commission_plan() -> CommissionPlan:
    """The plan of a channel whose party names none (or names one that is not configured)."""
    return load_commission_plan(_default("commission-plan.json"), "shipped commission-plan.json")


def load_agency_bill(body: bytes | str, where: str = "config/insurance/agency-bill.json") -> AgencyBillRules:
    return _load(AgencyBillRules, body, where)


def load_payables(body: bytes | str, where: str = "config/insurance/payables.json") -> PayableRules:
    return _load(PayableRules, body, where)


def default_payables() -> PayableRules:
    return load_payables(_default("payables.json"), "shipped payables.json")


def load_withholding(body: bytes | str, where: str = "config/insurance/withholding.json") -> WithholdingRules:
    return _load(WithholdingRules, body, where)


def default_cancellation() -> CancellationTable:
    return load_cancellation(_default("cancellation.json"), "shipped cancellation.json")


class InsuranceRules(_Strict):
    """Everything a policy event is priced with, as one value the service takes."""

    levies: LevyTable
    commission_plans: dict[str, CommissionPlan] = Field(default_factory=dict)
    default_plan: CommissionPlan
    cancellation: CancellationTable
    agency_bill: AgencyBillRules = AgencyBillRules()
    payables: PayableRules = Field(default_factory=lambda: default_payables())
    withholding: WithholdingRules = WithholdingRules()

    def plan(self, plan_id: str | None) -> CommissionPlan:
        return self.commission_plans.get(plan_id or "", self.default_plan)


def shipped_rules() -> InsuranceRules:
    return InsuranceRules(
        levies=default_levies(), default_plan=default_commission_plan(), cancellation=default_cancellation()
    )
