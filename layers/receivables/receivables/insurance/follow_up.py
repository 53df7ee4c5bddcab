"""What the sub-ledger does when something happens elsewhere: money moved on a payer's account (commission on
collection, reinstatement), dunning sent a legal notice (recorded on the policies), or a notice's deadline passed
unpaid (cancellation for non-payment). Each is idempotent: the same event twice changes nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Protocol

from receivables.domain.clock import Clock
from receivables.domain.journal import Cause, JournalEntry, Posting, PostingKind, Side
from receivables.domain.outbox import Event
from receivables.insurance.agency_bill import AgencyBill
from receivables.insurance.changes import AccountChange, PolicyItem
from receivables.insurance.commissions import CommissionSettlement
from receivables.insurance.policy_changes import (
    EVENT_SOURCE,
    PolicyChanges,
    PolicyChangeStore,
    PolicyFacts,
    PolicyWrites,
    RulesSource,
    item_updates,
)
from receivables.insurance.premium import ZERO
from receivables.payments.account_ledger import Step
from receivables.payments.operations import AccountOperations, Planned, new_entry_id
from receivables.payments.ports import Attachment, LoadedAccount


class PolicyDirectory(Protocol):
    def policies_of_items(self, item_ids: list[str]) -> dict[str, str]:
        """item id → its policy id, for the items that belong to a policy."""
        ...

    def policies_of_account(self, account_id: str) -> list[str]: ...

    def holds_policies(self, account_id: str) -> bool:
        """Whether the account is a current account the sub-ledger writes to (a policyholder's or a party's)."""
        ...


@dataclass(frozen=True, slots=True)
class FollowUpSummary:
    commissions: dict[str, int]
    reinstated: tuple[str, ...] = ()
    cancelled: tuple[str, ...] = ()
    noticed: tuple[str, ...] = ()
    statements: tuple[str, ...] = ()  # agency statements a remittance was judged against


class PolicyFollowUp:
    def __init__(
        self,
        *,
        store: PolicyChangeStore,
        directory: PolicyDirectory,
        writes: PolicyWrites,
        operations: AccountOperations,
        changes: PolicyChanges,
        commissions: CommissionSettlement,
        agency_bill: AgencyBill,
        rules: RulesSource,
        clock: Clock,
    ) -> None:
        self._agency_bill = agency_bill
        self._store = store
        self._directory = directory
        self._writes = writes
        self._operations = operations
        self._changes = changes
        self._commissions = commissions
        self._rules = rules
        self._clock = clock

    # -- money moved -------------------------------------------------------------------------------------------------
    def money_moved(self, account_id: str, cause: Cause) -> FollowUpSummary:
        if not self._directory.holds_policies(account_id):
            # Most money moves on accounts without policies: one read tells, and nothing else is read.
            return FollowUpSummary({"payable": 0, "accrued": 0, "raced": 0})
        reinstated = tuple(p for p in self._directory.policies_of_account(account_id) if self._reinstate(p, cause))
        judged = tuple(self._agency_bill.remittance(account_id, cause))
        return FollowUpSummary(self._commissions.settle(account_id, cause), reinstated=reinstated, statements=judged)

    def _reinstate(self, policy_id: str, cause: Cause) -> bool:
        """§6: everything overdue at a cancellation for non-payment paid within the reinstatement period reopens the
        policy: cancelled installments back with their original due dates, the cancellation balance withdrawn (what
        was paid on it goes back to credit, which then pays the reopened installments), clawed-back commission
        restored."""
        facts = self._store.policy_facts(policy_id)
        if facts is None or facts.status != "cancelled" or facts.cancellation_reason != "non_payment":
            return False
        assert facts.cancelled_on is not None
        days = self._rules.rules().cancellation.reinstatement_days
        today = self._clock.today()
        if today > facts.cancelled_on + timedelta(days=days):
            return False
        done = {"reinstated": False}

        def first(loaded: LoadedAccount, _limit: int) -> Planned | None:
            current = self._store.policy_facts(policy_id)
            if current is None or current.status != "cancelled":
                return None
            items = self._store.policy_items(current)
            ledger = loaded.ledger
            balance = [i for i in items if i.kind == "cancellation_balance"]
            paid_on_balance = sum((i.amount - ledger.items[i.item_id].open_amount for i in balance), ZERO)
            if paid_on_balance + ledger.unapplied_credit < current.overdue_at_cancellation:
                return None
            change = AccountChange()
            postings: list[Posting] = []
            for item in balance:
                for payment in ledger.payments.values():
                    given = payment.allocations.get(item.item_id, ZERO)
                    if given > 0:
                        held = payment.held
                        postings += ledger.unallocate(
                            payment.payment_id, item.item_id, given, f"policy {policy_id} reinstated"
                        ).postings
                        payment.held = held  # the system moved it, not a person: credit may pay the installments
            for item in items:
                self._reopen(item, ledger.items[item.item_id].open_amount, change, policy_id)
            attachments: list[Attachment] = [
                self._writes.policy_update(
                    current, {"status": "reinstated", "history": {"reinstated_on": today.isoformat()}}
                )
            ]
            attachments += self._restore_commission(current, change)
            refund_id = current.cancellation.get("refund_payable")
            refund = self._store.payable_open(refund_id) if refund_id else None
            if refund_id and refund and refund[1] == refund[0] > 0:
                # The premium the cancellation gave back is owed to the insurer again (not yet paid out).
                attachments.append(self._writes.payable_adjusted(refund_id, refund[1], ZERO, "cancelled"))
                change.postings.append(
                    Posting(
                        kind=PostingKind.PAYABLE_ADJUSTED,
                        side=Side.ITEM,
                        amount=refund[1],
                        item_id=refund_id,
                        reason=f"policy {policy_id} reinstated: the cancellation's refund is withdrawn",
                    )
                )
            for item_id, open_amount in change.open_after.items():
                ledger.items[item_id].open_amount = open_amount
            event = Event(
                "PolicyReinstatementRequested",
                {
                    "policy_id": policy_id,
                    "account_id": current.account_id,
                    "cancelled_on": current.cancelled_on.isoformat() if current.cancelled_on else None,
                    "reinstated_on": today.isoformat(),
                },
                EVENT_SOURCE,
            )
            done["reinstated"] = True
            return Planned(
                "reinstate_policy",
                cause,
                Step(postings + change.postings),
                item_updates=item_updates(change),
                attachments=tuple(attachments),
                events=(event,),
            )

        self._operations.run(facts.account_id, first)
        return done["reinstated"]

    @staticmethod
    def _reopen(item: PolicyItem, open_now: Decimal, change: AccountChange, policy_id: str) -> None:
        update = change.change(item.item_id)
        if item.kind == "cancellation_balance":
            if open_now > 0:
                change.postings.append(
                    Posting(
                        kind=PostingKind.ITEM_CANCELLED,
                        side=Side.ITEM,
                        amount=-open_now,
                        item_id=item.item_id,
                        reason=f"policy {policy_id} reinstated: its cancellation balance is withdrawn",
                    )
                )
                change.open_after[item.item_id] = ZERO
            update.status = "cancelled"
            if item.commission_status == "accrued":
                update.commission_status = "cancelled"
            return
        if item.status != "cancelled":
            return
        if item.cancelled_open > 0:
            change.postings.append(
                Posting(
                    kind=PostingKind.ITEM_CANCELLED,
                    side=Side.ITEM,
                    amount=item.cancelled_open,
                    item_id=item.item_id,
                    reason=f"policy {policy_id} reinstated: the installment is owed again",
                )
            )
            change.open_after[item.item_id] = open_now + item.cancelled_open
        update.status = "open"
        update.cancelled_open = ZERO
        if item.commission_status == "cancelled":
            update.commission_status = "accrued"

    def _restore_commission(self, facts: PolicyFacts, change: AccountChange) -> list[Attachment]:
        """Commission a cancellation clawed back from payables the channel was owed: owed again."""
        attachments: list[Attachment] = []
        if facts.commission_account_id is None:
            return attachments
        postings = []
        for payable in self._store.clawed_back_payables(facts):
            restored = payable.amount - payable.open_amount
            if restored <= 0:
                continue
            attachments.append(
                self._writes.payable_adjusted(payable.payable_id, payable.open_amount, payable.amount, "approved")
            )
            postings.append(
                Posting(
                    kind=PostingKind.PAYABLE_ADJUSTED,
                    side=Side.ITEM,
                    amount=-restored,
                    item_id=payable.payable_id,
                    reason=f"policy {facts.policy_id} reinstated: clawed-back commission owed again",
                )
            )
            update = change.change(payable.item_id)
            update.commission_status = "payable"
            update.commission = payable.amount
        if postings:
            entry = JournalEntry(
                entry_id=new_entry_id(),
                account_id=facts.commission_account_id,
                currency=facts.currency,
                business_date=self._clock.today(),
                recorded_at=self._clock.now(),
                operation="commission_restored",
                cause=Cause(kind="event", source=f"reinstatement of policy {facts.policy_id}"),
                postings=tuple(postings),
            )
            attachments.append(self._writes.entry(entry))
        return attachments

    # -- dunning's notices and cancellations -------------------------------------------------------------------------
    def notice_sent(
        self, account_id: str, *, on: date, deadline: date, items: Mapping[str, Decimal], letter: str | None
    ) -> tuple[str, ...]:
        """Record the notice on each policy it names, with its date, deadline and what it demanded."""
        noticed = []
        by_policy: dict[str, dict[str, str]] = {}
        for item_id, policy_id in self._directory.policies_of_items(list(items)).items():
            by_policy.setdefault(policy_id, {})[item_id] = str(items[item_id])
        for policy_id, demanded in sorted(by_policy.items()):
            facts = self._store.policy_facts(policy_id)
            if facts is None or any(n.get("date") == on.isoformat() for n in facts.notices):
                continue
            notice = {"date": on.isoformat(), "deadline": deadline.isoformat(), "items": demanded, "letter": letter}
            self._store.write_alone(self._writes.policy_update(facts, {"notice": notice}))
            noticed.append(policy_id)
        return tuple(noticed)

    def cancellation_due(self, account_id: str, *, deadline: date, items: Mapping[str, Decimal]) -> tuple[str, ...]:
        """The notice's deadline passed: each policy it named that still owes what it demanded is cancelled for
        non-payment, effective the day after the deadline, pro rata; the policy system is told."""
        cancelled = []
        effective = deadline + timedelta(days=1)
        by_policy: dict[str, list[str]] = {}
        for item_id, policy_id in self._directory.policies_of_items(list(items)).items():
            by_policy.setdefault(policy_id, []).append(item_id)
        for policy_id, demanded in sorted(by_policy.items()):
            facts = self._store.policy_facts(policy_id)
            if facts is None or facts.status == "cancelled" or facts.billing == "agency":
                continue  # an agency-billed policy is never cancelled for the agency's arrears
            open_now = {i.item_id: i.open_amount for i in self._store.policy_items(facts)}
            if not any(open_now.get(i, ZERO) > 0 for i in demanded):
                continue  # paid in full by the deadline: no cancellation
            requested = Event(
                "PolicyCancellationRequested",
                {
                    "policy_id": policy_id,
                    "customer_id": facts.customer_id,
                    "effective_date": effective.isoformat(),
                    "reason": "non_payment",
                    "notice_deadline": deadline.isoformat(),
                },
                EVENT_SOURCE,
            )
            outcome = self._changes.cancel(
                policy_id,
                effective_date=min(max(effective, facts.start_date), facts.end_date),
                basis="pro_rata",
                reason_kind="non_payment",
                reason=f"the notice's deadline {deadline.isoformat()} passed unpaid",
                source=f"dunning notice of account {account_id}",
                events=(requested,),
            )
            if outcome.status == "applied":
                cancelled.append(policy_id)
        return tuple(cancelled)
