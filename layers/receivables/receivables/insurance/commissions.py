"""Commission on collection: an installment's commission becomes payable to its channel when the installment is paid
in full, and goes back to accrued when a returned payment reopens it before the commission was paid out.

Settlement is a reconciliation, run whenever money moved on an account (payments, credit, reversals): it compares
each installment's commission status with its open amount and fixes what differs, each fix one transaction with its
posting. Running it twice, or for an event that changed nothing, does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol

from receivables.domain.journal import Cause


@dataclass(frozen=True, slots=True)
class CommissionState:
    item_id: str
    open_amount: Decimal
    item_status: str  # "cancelled" for an installment a cancellation closed
    commission: Decimal
    status: str  # accrued | payable | paid | clawed_back | cancelled
    payable_exists: bool
    payable_open: Decimal  # what of the payable is still owed (0 when none)
    policy_id: str = ""
    party_id: str = ""
    party_account_id: str = ""
    currency: str = ""


Fix = Literal["payable", "accrued"]


def fixes(states: list[CommissionState]) -> list[tuple[CommissionState, Fix]]:
    """What settlement changes: accrued commission of a paid installment becomes payable; payable commission of a
    reopened installment, not yet paid out, goes back to accrued."""
    found: list[tuple[CommissionState, Fix]] = []
    for state in states:
        if state.item_status == "cancelled" or state.commission <= 0:
            continue
        if state.status == "accrued" and state.open_amount == 0:
            found.append((state, "payable"))
        elif state.status == "payable" and state.open_amount > 0 and state.payable_open == state.commission:
            found.append((state, "accrued"))
    return found


class CommissionStore(Protocol):
    def commission_states(self, account_id: str) -> list[CommissionState]: ...

    def make_payable(self, state: CommissionState, cause: Cause) -> bool: ...

    def back_to_accrued(self, state: CommissionState, cause: Cause) -> bool: ...


class CommissionSettlement:
    def __init__(self, *, store: CommissionStore) -> None:
        self._store = store

    def settle(self, account_id: str, cause: Cause) -> dict[str, int]:
        done = {"payable": 0, "accrued": 0, "raced": 0}
        for state, fix in fixes(self._store.commission_states(account_id)):
            changed = (
                self._store.make_payable(state, cause)
                if fix == "payable"
                else self._store.back_to_accrued(state, cause)
            )
            done[fix if changed else "raced"] += 1
        return done
