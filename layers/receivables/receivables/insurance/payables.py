"""What the insurer owes a party, besides commission and refunds: claim payments (``ClaimPaymentApproved``,
``ClaimPaymentCancelled``), the income tax withheld from them, and approval by a second person.

- A claim's payable is ``<claim_id>-C`` on the payee's current account (a party's, or the policyholder's), for the
  claim amount less what is withheld; the withheld part is ``<claim_id>-W`` on the tax authority's account.
- Offsetting (mahsup): a claim paid to the policyholder first settles the policy's overdue installments, oldest due
  first (configuration per billing, shipped on for direct bill), through the journal (posting ``offset``: − on the
  installment, + on the payable); only the rest is paid out. A payable settled wholly by offset is ``paid``.
- A payable above its kind's threshold is ``open`` until an identity other than the one that created or last changed
  it approves it; at or below, it is ``approved`` on creation. The approval is a journal entry of its own (no money
  moves), so the audit trail names who approved what and when.
- A cancelled claim payment cancels its payables (``payable_adjusted``) and reopens what its offset settled; one
  already with the bank (scheduled, sent) or paid out cannot be cancelled: a returned transfer reopens it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from receivables.domain.clock import Clock
from receivables.domain.journal import Cause, JournalEntry, Posting, PostingKind, Side
from receivables.domain.outbox import Event
from receivables.insurance.changes import PolicyItem
from receivables.insurance.config import InsuranceRules, PayableRules
from receivables.insurance.events import ClaimPaymentApproved, ClaimPaymentCancelled
from receivables.insurance.parties import PartyKind
from receivables.insurance.policy_changes import ChangeOutcome, PolicyFacts
from receivables.insurance.service import PartyFacts, current_account_id
from receivables.payments.account_ledger import Step
from receivables.payments.operations import AccountOperations, Planned, new_entry_id
from receivables.payments.ports import Attachment, LoadedAccount

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
EVENT_SOURCE = "receivables.insurance"
# Statuses in which the money is still the insurer's to hold back; beyond them the bank has it (or paid it).
CANCELLABLE = frozenset({"open", "approved", "rejected"})
# Waiting for a person: above the threshold (open), or rejected by the bank (approved again to be paid again).
APPROVABLE = frozenset({"open", "rejected"})
# What the insurer still holds: a payable with the bank (scheduled, sent) is not netted.
NETTABLE = frozenset({"open", "approved", "rejected"})


def claim_payable_id(claim_id: str) -> str:
    return f"{claim_id}-C"


def withholding_payable_id(claim_id: str) -> str:
    return f"{claim_id}-W"


@dataclass(frozen=True, slots=True)
class DueInstallment:
    item_id: str
    due_date: date
    open_amount: Decimal


@dataclass(frozen=True, slots=True)
class ClaimPlan:
    gross: Decimal
    withheld: Decimal
    offsets: tuple[tuple[str, Decimal], ...]
    status: str  # of the claim payable: open (to approve) | approved | paid (settled wholly by offset)
    withholding_status: str

    @property
    def net(self) -> Decimal:
        return self.gross - self.withheld

    @property
    def offset(self) -> Decimal:
        return sum((a for _, a in self.offsets), ZERO)

    @property
    def open_after(self) -> Decimal:
        return self.net - self.offset


def plan_claim(
    amount: Decimal,
    withholding_percent: Decimal | None,
    overdue: Sequence[DueInstallment],
    rules: PayableRules,
) -> ClaimPlan:
    """The claim's payables: withholding off the gross (half-up to the cent), then the net settling ``overdue``
    installments oldest due first; the status each payable starts in."""
    withheld = ZERO
    if withholding_percent is not None:
        withheld = (amount * withholding_percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    net = amount - withheld
    left = net
    offsets: list[tuple[str, Decimal]] = []
    for installment in sorted(overdue, key=lambda i: (i.due_date, i.item_id)):
        if left <= 0:
            break
        take = min(left, installment.open_amount)
        if take > 0:
            offsets.append((installment.item_id, take))
            left -= take
    status = "open" if rules.needs_approval("claim", net) else "approved"
    return ClaimPlan(
        gross=amount,
        withheld=withheld,
        offsets=tuple(offsets),
        status="paid" if left == 0 else status,
        withholding_status="open" if rules.needs_approval("tax", withheld) else "approved",
    )


class SameIdentityError(PermissionError):
    """Four eyes: the identity that created or last changed a payable cannot approve it."""


class PayableStateError(ValueError):
    """The payable is not in a state the request applies to (approving one already approved…)."""


@dataclass(frozen=True, slots=True)
class PayableFacts:
    payable_id: str
    kind: str
    account_id: str
    party_id: str
    amount: Decimal
    open_amount: Decimal
    currency: str
    status: str
    due_date: date
    created_by: str
    changed_by: str | None = None
    approved_by: str | None = None
    policy_id: str | None = None
    claim_id: str | None = None
    offsets: tuple[tuple[str, Decimal], ...] = ()


def check_approval(payable: PayableFacts, actor: str) -> None:
    if payable.status not in APPROVABLE:
        by = f" by {payable.approved_by}" if payable.approved_by else ""
        raise PayableStateError(f"payable {payable.payable_id} is {payable.status}{by}, not waiting for approval")
    if actor in (payable.created_by, payable.changed_by):
        what = "created" if actor == payable.created_by else "last changed"
        raise SameIdentityError(
            f"payable {payable.payable_id}: {actor} {what} it; another person approves it (four eyes)"
        )


class ClaimStore(Protocol):
    def event_recorded(self, event_id: str) -> bool: ...

    def policy_facts(self, policy_id: str) -> PolicyFacts | None: ...

    def policy_items(self, facts: PolicyFacts) -> list[PolicyItem]: ...

    def party(self, party_id: str) -> PartyFacts | None: ...

    def parties_of_kind(self, kind: str) -> list[str]: ...

    def payable_facts(self, payable_id: str) -> PayableFacts | None: ...

    def current_accounts(self, owner_id: str) -> list[str]:
        """A party's (else a customer's) current accounts, one per currency."""
        ...

    def payables_on_account(self, account_id: str) -> list[PayableFacts]: ...

    def write_new(self, attachment: Attachment) -> None:
        """In a transaction of its own; :class:`ClaimRecordedError` when a record it creates exists already (the
        event was applied, or the payable changed meanwhile)."""
        ...


class ClaimRecordedError(Exception):
    """Another delivery of the event wrote it first."""


class ClaimWrites(Protocol):
    def event_record(
        self, event_id: str, kind: str, policy_id: str, content: str, raw: Mapping[str, Any], source: str, on: date
    ) -> Attachment: ...

    def claim_payable(
        self,
        payable_id: str,
        *,
        kind: str,
        account_id: str,
        party_id: str,
        party_is_customer: bool,
        amount: Decimal,
        open_amount: Decimal,
        status: str,
        currency: str,
        due_date: date,
        cause: Cause,
        policy_id: str,
        claim_id: str,
        offsets: Sequence[tuple[str, Decimal]] = (),
        open_account: bool = True,
    ) -> Attachment:
        """The payable's record (its own posting) and, with ``open_account``, its owner's current account opened if
        it has none."""
        ...

    def payable_settled(self, payable: PayableFacts, open_after: Decimal, status: str, cause: Cause) -> Attachment:
        """Its open amount to ``open_after`` and ``status``, only if nobody changed it since it was read."""
        ...

    def payable_approved(self, payable: PayableFacts, actor: str, entry: JournalEntry) -> Attachment: ...

    def entry(self, entry: JournalEntry) -> Attachment: ...


class _Combined:
    def __init__(self, parts: Sequence[Attachment]) -> None:
        self._parts = parts

    def transaction_items(self, table: str) -> list[dict[str, Any]]:
        return [item for part in self._parts for item in part.transaction_items(table)]


class Payables:
    def __init__(
        self,
        *,
        store: ClaimStore,
        writes: ClaimWrites,
        operations: AccountOperations,
        rules: Any,  # RulesSource: .rules() -> InsuranceRules
        clock: Clock,
    ) -> None:
        self._store = store
        self._writes = writes
        self._operations = operations
        self._rules = rules
        self._clock = clock

    def payable(self, payable_id: str) -> PayableFacts | None:
        return self._store.payable_facts(payable_id)

    def policy_facts(self, policy_id: str) -> PolicyFacts | None:
        return self._store.policy_facts(policy_id)

    # -- a claim payment approved by the claim system ---------------------------------------------------------------
    def approved(
        self, event: ClaimPaymentApproved, facts: PolicyFacts, content: str, raw: Mapping[str, Any], source: str
    ) -> ChangeOutcome:
        rules: InsuranceRules = self._rules.rules()
        payee_is_customer, tax_party, problems = self._judge(event, facts, rules)
        if problems:
            return ChangeOutcome("rejected", "; ".join(problems))
        today = self._clock.today()
        cause = Cause(kind="event", source=source, position=f"event {event.event_id}")
        payee_account = current_account_id(event.payee, event.currency)
        offsetting = (
            payee_is_customer
            and payee_account == facts.account_id
            and event.currency == facts.currency
            and rules.payables.offsets(facts.billing)
        )

        def attachments(plan: ClaimPlan, *, open_payee_account: bool) -> list[Attachment]:
            parts = [
                self._writes.event_record(event.event_id, event.type, facts.policy_id, content, raw, source, today),
                self._writes.claim_payable(
                    claim_payable_id(event.claim_id),
                    kind="claim",
                    account_id=payee_account,
                    party_id=event.payee,
                    party_is_customer=payee_is_customer,
                    amount=plan.net,
                    open_amount=plan.open_after,
                    status=plan.status,
                    currency=event.currency,
                    due_date=event.due_date,
                    cause=cause,
                    policy_id=facts.policy_id,
                    claim_id=event.claim_id,
                    offsets=plan.offsets,
                    open_account=open_payee_account,
                ),
            ]
            if plan.withheld > 0 and tax_party is not None:
                parts.append(
                    self._writes.claim_payable(
                        withholding_payable_id(event.claim_id),
                        kind="tax",
                        account_id=current_account_id(tax_party, event.currency),
                        party_id=tax_party,
                        party_is_customer=False,
                        amount=plan.withheld,
                        open_amount=plan.withheld,
                        status=plan.withholding_status,
                        currency=event.currency,
                        due_date=event.due_date,
                        cause=cause,
                        policy_id=facts.policy_id,
                        claim_id=event.claim_id,
                    )
                )
            return parts

        if not offsetting:
            plan = plan_claim(event.amount, event.withholding_percent, (), rules.payables)
            try:
                self._store.write_new(_Combined(attachments(plan, open_payee_account=True)))
            except ClaimRecordedError:
                return ChangeOutcome("duplicate", "the same event was already applied")
            return ChangeOutcome("applied")

        applied = {"done": False}

        def first(loaded: LoadedAccount, _limit: int) -> Planned | None:
            if self._store.event_recorded(event.event_id):
                return None
            ledger = loaded.ledger
            current = self._store.policy_facts(facts.policy_id) or facts
            overdue = [
                DueInstallment(i.item_id, i.due_date, ledger.items[i.item_id].open_amount)
                for i in self._store.policy_items(current)
                if i.status != "cancelled"
                and i.item_id in ledger.items
                and i.due_date < today
                and ledger.items[i.item_id].open_amount > 0
            ]
            plan = plan_claim(event.amount, event.withholding_percent, overdue, rules.payables)
            payable_id = claim_payable_id(event.claim_id)
            postings: list[Posting] = []
            for item_id, amount in plan.offsets:
                ledger.items[item_id].open_amount -= amount
                reason = f"claim {event.claim_id} offset against installment {item_id} (mahsup)"
                postings += [
                    Posting(kind=PostingKind.OFFSET, side=Side.ITEM, amount=-amount, item_id=item_id, reason=reason),
                    Posting(kind=PostingKind.OFFSET, side=Side.ITEM, amount=amount, item_id=payable_id, reason=reason),
                ]
            events: tuple[Event, ...] = ()
            if plan.offsets:
                events = (
                    Event(
                        "ClaimOffset",
                        {
                            "claim_id": event.claim_id,
                            "policy_id": facts.policy_id,
                            "account_id": facts.account_id,
                            "items": {item_id: str(amount) for item_id, amount in plan.offsets},
                            "paid_out": str(plan.open_after),
                        },
                        EVENT_SOURCE,
                    ),
                )
            applied["done"] = True
            return Planned(
                "claim_offset",
                cause,
                Step(postings),
                attachments=tuple(attachments(plan, open_payee_account=False)),
                events=events,
            )

        self._operations.run(facts.account_id, first)
        if not applied["done"]:
            return ChangeOutcome("duplicate", "the same event was already applied")
        return ChangeOutcome("applied")

    def _judge(
        self, event: ClaimPaymentApproved, facts: PolicyFacts, rules: InsuranceRules
    ) -> tuple[bool, str | None, list[str]]:
        """(payee is the policyholder, the tax authority owed the withholding, what is wrong with the event)."""
        problems: list[str] = []
        party = self._store.party(event.payee)
        if party is None and event.payee != facts.customer_id:
            problems.append(f"payee: {event.payee} is neither a known party nor the policyholder of {facts.policy_id}")
        elif party is not None and party.kind is PartyKind.TAX_AUTHORITY:
            problems.append(f"payee: party {event.payee} is a {party.kind.value}; withholding reaches it by itself")
        tax_party: str | None = None
        if event.withholding_percent is not None:
            tax_party, problem = self._tax_authority(rules)
            if problem:
                problems.append(problem)
        if self._store.payable_facts(claim_payable_id(event.claim_id)) is not None:
            problems.append(f"claim_id: claim {event.claim_id} already has a payment (by another event)")
        return party is None, tax_party, problems

    def _tax_authority(self, rules: InsuranceRules) -> tuple[str | None, str]:
        named = rules.withholding.party_id
        if named is not None:
            party = self._store.party(named)
            if party is None or party.kind is not PartyKind.TAX_AUTHORITY:
                return None, (
                    f"withholding_percent: config/insurance/withholding.json names {named}, which is not a known "
                    "tax_authority party"
                )
            return named, ""
        found = self._store.parties_of_kind(PartyKind.TAX_AUTHORITY.value)
        if len(found) == 1:
            return found[0], ""
        if not found:
            return None, "withholding_percent: no party of kind tax_authority to owe the withheld tax to"
        return None, (
            f"withholding_percent: {len(found)} tax_authority parties ({', '.join(sorted(found))}); name one in "
            "config/insurance/withholding.json"
        )

    # -- a claim payment withdrawn ------------------------------------------------------------------------------------
    def cancelled(
        self, event: ClaimPaymentCancelled, claim: PayableFacts, content: str, raw: Mapping[str, Any], source: str
    ) -> ChangeOutcome:
        withholding = self._store.payable_facts(withholding_payable_id(event.claim_id))
        held_by_bank = [
            p
            for p in (claim, withholding)
            if p is not None and p.status not in CANCELLABLE and not (p.status == "paid" and _wholly_offset(p))
        ]
        if held_by_bank:
            names = ", ".join(f"{p.payable_id} is {p.status}" for p in held_by_bank)
            return ChangeOutcome(
                "rejected",
                f"claim_id: claim {event.claim_id} cannot be cancelled ({names}); a returned transfer reopens it",
            )
        today = self._clock.today()
        cause = Cause(kind="event", source=source, position=f"event {event.event_id}")
        reason = f"claim {event.claim_id} payment cancelled" + (f": {event.reason}" if event.reason else "")
        policy_id = claim.policy_id or event.policy_id or ""

        def closing(payable: PayableFacts, postings_before: Sequence[Posting] = ()) -> tuple[Attachment, JournalEntry]:
            owed_again = sum((-p.amount for p in postings_before if p.item_id == payable.payable_id), ZERO)
            posting = Posting(
                kind=PostingKind.PAYABLE_ADJUSTED,
                side=Side.ITEM,
                amount=payable.open_amount + owed_again,
                item_id=payable.payable_id,
                reason=reason,
            )
            entry = JournalEntry(
                entry_id=new_entry_id(),
                account_id=payable.account_id,
                currency=payable.currency,
                business_date=today,
                recorded_at=self._clock.now(),
                operation="claim_cancelled",
                cause=cause,
                postings=(*postings_before, posting),
            )
            return self._writes.payable_settled(payable, ZERO, "cancelled", cause), entry

        record = self._writes.event_record(event.event_id, event.type, policy_id, content, raw, source, today)
        if not claim.offsets:
            parts: list[Attachment] = [record]
            for payable in (claim, withholding):
                if payable is not None:
                    closed, entry = closing(payable)
                    parts += [closed, self._writes.entry(entry)]
            try:
                self._store.write_new(_Combined(parts))
            except ClaimRecordedError:
                return ChangeOutcome("duplicate", "the same event was already applied")
            return ChangeOutcome("applied")

        applied = {"done": False}

        def first(loaded: LoadedAccount, _limit: int) -> Planned | None:
            if self._store.event_recorded(event.event_id):
                return None
            ledger = loaded.ledger
            reopen: list[Posting] = []
            for item_id, amount in claim.offsets:
                item = ledger.items.get(item_id)
                if item is None:
                    continue
                back = min(amount, item.amount - item.open_amount)
                if back <= 0:
                    continue
                item.open_amount += back
                why = f"{reason}: its offset against {item_id} reopens it"
                reopen += [
                    Posting(kind=PostingKind.OFFSET, side=Side.ITEM, amount=back, item_id=item_id, reason=why),
                    Posting(
                        kind=PostingKind.OFFSET, side=Side.ITEM, amount=-back, item_id=claim.payable_id, reason=why
                    ),
                ]
            closed, entry = closing(claim, [p for p in reopen if p.item_id == claim.payable_id])
            parts: list[Attachment] = [record, closed]
            if withholding is not None:
                w_closed, w_entry = closing(withholding)
                parts += [w_closed, self._writes.entry(w_entry)]
            applied["done"] = True
            # The step's own entry carries the installments' side; the claim's side is the closing entry's.
            return Planned(
                "claim_cancelled",
                cause,
                Step([p for p in reopen if p.item_id != claim.payable_id] + list(entry.postings)),
                attachments=tuple(parts),
                events=(
                    Event(
                        "ClaimOffsetReversed",
                        {"claim_id": event.claim_id, "policy_id": policy_id, "account_id": claim.account_id},
                        EVENT_SOURCE,
                    ),
                ),
            )

        self._operations.run(claim.account_id, first)
        if not applied["done"]:
            return ChangeOutcome("duplicate", "the same event was already applied")
        return ChangeOutcome("applied")

    # -- netting (mahsup) of a party's two sides -------------------------------------------------------------------
    def net(
        self, owner_id: str, *, amount: Decimal | None, currency: str | None, actor: str, route: str
    ) -> list[Netted] | None:
        """``POST /parties/{id}/netting``: on each current account of the party (or the one in ``currency``), its
        open receivables against its payables not yet with the bank, oldest first, in one journal entry per account
        (posting ``netted``: − on the item, + on the payable). None when the party has no current account."""
        accounts = self._store.current_accounts(owner_id)
        if not accounts:
            return None
        cause = Cause(kind="api", source=route, actor=actor)
        done: list[Netted] = []
        left = amount
        for account_id in accounts:
            if left is not None and left <= 0:
                break
            # A step nets what one transaction holds; a party with more lines takes more steps.
            while (netted := self._net_account(owner_id, account_id, left, currency, cause)) is not None:
                done.append(netted)
                if left is not None:
                    left -= netted.amount
                    if left <= 0:
                        break
        return done

    def _net_account(
        self, owner_id: str, account_id: str, left: Decimal | None, currency: str | None, cause: Cause
    ) -> Netted | None:
        result: dict[str, Netted] = {}

        def first(loaded: LoadedAccount, limit: int) -> Planned | None:
            ledger = loaded.ledger
            if currency is not None and ledger.currency != currency:
                return None
            payables = [  # read again on every attempt: a lost race is recomputed from what is stored
                p
                for p in self._store.payables_on_account(account_id)
                if p.status in NETTABLE and p.open_amount > 0 and p.currency == ledger.currency
            ]
            open_items = [
                DueInstallment(i.item_id, i.due_date, i.open_amount)
                for i in ledger.items.values()
                if i.open_amount > 0 and not i.held
            ]
            lines = plan_netting(open_items, payables, left)[: max(1, limit // 2)]
            if not lines:
                return None
            postings: list[Posting] = []
            taken: dict[str, Decimal] = {}
            for line in lines:
                ledger.items[line.item_id].open_amount -= line.amount
                taken[line.payable_id] = taken.get(line.payable_id, ZERO) + line.amount
                why = f"netted: {line.payable_id} owed to {owner_id} set against {line.item_id}"
                postings += [
                    Posting(
                        kind=PostingKind.NETTED, side=Side.ITEM, amount=-line.amount, item_id=line.item_id, reason=why
                    ),
                    Posting(
                        kind=PostingKind.NETTED, side=Side.ITEM, amount=line.amount, item_id=line.payable_id, reason=why
                    ),
                ]
            by_id = {p.payable_id: p for p in payables}
            attachments = tuple(
                self._writes.payable_settled(
                    by_id[pid],
                    by_id[pid].open_amount - took,
                    "paid" if by_id[pid].open_amount == took else by_id[pid].status,
                    cause,
                )
                for pid, took in taken.items()
            )
            result["netted"] = Netted(account_id, ledger.currency, lines)
            netted_event = Event(
                "PartyNetted",
                {
                    "party_id": owner_id,
                    "account_id": account_id,
                    "amount": str(result["netted"].amount),
                    "items": {line.item_id: str(line.amount) for line in lines},
                },
                EVENT_SOURCE,
            )
            return Planned("netting", cause, Step(postings), attachments=attachments, events=(netted_event,))

        self._operations.run(account_id, first)
        return result.get("netted")

    # -- approval ----------------------------------------------------------------------------------------------------
    def approve(self, payable_id: str, actor: str, route: str) -> PayableFacts | None:
        payable = self._store.payable_facts(payable_id)
        if payable is None:
            return None
        check_approval(payable, actor)
        entry = JournalEntry(
            entry_id=new_entry_id(),
            account_id=payable.account_id,
            currency=payable.currency,
            business_date=self._clock.today(),
            recorded_at=self._clock.now(),
            operation="payable_approved",
            cause=Cause(kind="api", source=route, actor=actor),
            postings=(),
        )
        try:
            self._store.write_new(self._writes.payable_approved(payable, actor, entry))
        except ClaimRecordedError:
            raise PayableStateError(f"payable {payable_id} changed meanwhile; read it again") from None
        return self._store.payable_facts(payable_id)


@dataclass(frozen=True, slots=True)
class NettedLine:
    item_id: str
    payable_id: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Netted:
    account_id: str
    currency: str
    lines: tuple[NettedLine, ...]

    @property
    def amount(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)


def plan_netting(
    receivables: Sequence[DueInstallment], payables: Sequence[PayableFacts], amount: Decimal | None
) -> tuple[NettedLine, ...]:
    """What a party owes set against what it is owed, oldest first on both sides, up to ``amount`` (as much as both
    sides allow without one)."""
    items = [[i.item_id, i.open_amount] for i in sorted(receivables, key=lambda i: (i.due_date, i.item_id))]
    owed = [[p.payable_id, p.open_amount] for p in sorted(payables, key=lambda p: (p.due_date, p.payable_id))]
    left = amount
    lines: list[NettedLine] = []
    i = j = 0
    while i < len(items) and j < len(owed) and (left is None or left > 0):
        take = min(items[i][1], owed[j][1], *(() if left is None else (left,)))
        lines.append(NettedLine(str(items[i][0]), str(owed[j][0]), Decimal(take)))
        items[i][1] -= take
        owed[j][1] -= take
        if left is not None:
            left -= take
        i += items[i][1] == 0
        j += owed[j][1] == 0
    return tuple(lines)


def _wholly_offset(payable: PayableFacts) -> bool:
    return sum((a for _, a in payable.offsets), ZERO) == payable.amount
