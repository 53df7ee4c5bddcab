"""Who paid, and for what: the payer-matching contract, in the order the rules are tried.

0. The end-to-end id of one of our direct debits (pain.008): the item it collected (docs/direct-debit.md).
1. An open item's invoice id found as a whole token (case-insensitive) in the remittance information — unstructured
   lines joined, structured creditor references, MT940 ``:86:`` and the customer reference — or in the end-to-end id:
   those items are paid first, in the order they appear, the rest goes over the same account.
2. Else an agency statement id (``ST-<agency>-<YYYY-MM>``) found as a whole token: its open items are paid first,
   the rest goes over the agency's current account.
3. Else a policy id (insurance) found as a whole token: that policy's open installments are paid first, the rest goes
   over its payer's current account — also when the policy is cancelled and nothing of it is open: the money waits
   there as credit toward its reinstatement, never in suspense.
4. Else an account id found as a whole token: the payment goes over that account's open items.
5. Else the debtor IBAN equals a customer's registered IBAN: over that customer's accounts.
6. Else the payment is unmatched and waits, with the reason, in the suspense list.

A payment in a currency other than the matched account's is never allocated automatically. Every decision says
why, in words an operator can check against the bank line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from receivables.banking.statement import BankTransaction, Direction
from receivables.direct_debit.model import END_TO_END_PREFIX
from receivables.domain.text import fold


class MatchMethod(StrEnum):
    INVOICE_REFERENCE = "invoice_reference"
    POLICY_REFERENCE = "policy_reference"
    STATEMENT_REFERENCE = "statement_reference"
    ACCOUNT_REFERENCE = "account_reference"
    IBAN = "iban"
    MANUAL = "manual"
    COLLECTION = "collection"  # our own card or bank-scheme collection, approved in the bank's response file
    UNMATCHED = "unmatched"


class ItemRef(BaseModel):
    model_config = ConfigDict(frozen=True)
    item_id: str
    account_id: str
    currency: str


class AccountRef(BaseModel):
    model_config = ConfigDict(frozen=True)
    account_id: str
    customer_id: str
    currency: str


class PolicyRef(BaseModel):
    model_config = ConfigDict(frozen=True)
    policy_id: str
    account_id: str  # the payer's current account
    currency: str
    open_items: tuple[str, ...] = ()  # its installments still open, oldest due first
    status: str = "active"


class PayerDirectory(Protocol):
    """Lookups matching needs; ids are matched case-insensitively by the implementation."""

    def open_items(self, candidates: Sequence[str]) -> dict[str, ItemRef]:
        """Open items whose id equals a candidate (ignoring case), keyed by the candidate as given."""
        ...

    def accounts(self, candidates: Sequence[str]) -> dict[str, AccountRef]: ...

    def policies(self, candidates: Sequence[str]) -> dict[str, PolicyRef]:
        """Policies whose id equals a candidate (ignoring case), keyed by the candidate as given."""
        ...

    def statements(self, candidates: Sequence[str]) -> dict[str, PolicyRef]:
        """Agency statements whose id equals a candidate: their account and open items (``policy_id`` is the
        statement id)."""
        ...

    def accounts_of_iban(self, iban: str) -> list[AccountRef]: ...

    def collected_item(self, end_to_end_id: str) -> ItemRef | None:
        """The item our direct debit with this end-to-end id collected, if it is one of ours."""
        ...


class MatchDecision(BaseModel):
    model_config = ConfigDict(frozen=True)
    method: MatchMethod
    reason: str
    account_ids: tuple[str, ...] = ()  # where the money goes, in order
    first_items: tuple[str, ...] = ()  # items named in the payment, paid before the allocation order
    allocatable: bool = False  # False when matched but not to be allocated automatically (e.g. currency)


# A token is what lies between spaces and list punctuation (identifiers may hold any other character, see
# receivables.domain.records); punctuation that ends a sentence is not part of it.
_TOKEN = re.compile(r"[^\s,;()\[\]{}\"'<>«»]+")
_TRAILING = ".:-/"
# Inside a token, references are often glued to labels or to each other: 'REF:INV-1', 'INV-1/INV-2', '#INV-1'.
_SEPARATOR = re.compile(r"[/:+&#|=]")
_MAX_SEPARATORS = 6


def _candidates(token: str) -> list[str]:
    """The token, and every stretch of it between separators (so 'REF:INV/2026/001' offers 'INV/2026/001')."""
    token = token.strip(_TRAILING)
    cuts = [m.start() for m in _SEPARATOR.finditer(token)]
    if not cuts or len(cuts) > _MAX_SEPARATORS:
        return [token]
    starts, ends = [0, *(c + 1 for c in cuts)], [*cuts, len(token)]
    stretches = [token[a:b].strip(_TRAILING) for a in starts for b in ends if b > a]
    return sorted(dict.fromkeys(s for s in stretches if s), key=len, reverse=True)


def reference_tokens(transaction: BankTransaction) -> list[str]:
    """Candidate references in order of appearance, each once (ignoring case). Remittance lines are read both with
    a space at each line break and glued, since a bank may cut a reference in two where a line ends."""
    lines = transaction.remittance_lines
    texts = [
        " ".join(lines),
        "".join(lines) if len(lines) > 1 else "",
        *transaction.structured_references,
        transaction.customer_reference or "",
        transaction.end_to_end_id or "",
    ]
    seen: dict[str, str] = {}
    for text in texts:
        for raw in _TOKEN.findall(text):
            for token in (raw, *_candidates(raw)):
                if token and fold(token) not in seen:
                    seen[fold(token)] = token
    return list(seen.values())


def match_payer(transaction: BankTransaction, directory: PayerDirectory) -> MatchDecision:
    if transaction.direction is not Direction.CREDIT or transaction.reversal:
        raise ValueError(f"{transaction.position}: only incoming payments are matched to payers")
    tokens = reference_tokens(transaction)
    currency = transaction.currency

    e2e = transaction.end_to_end_id
    if e2e and e2e.upper().startswith(END_TO_END_PREFIX) and (collected := directory.collected_item(e2e.upper())):
        # The booking of one of our own direct debits: its end-to-end id names the item it collected.
        return _for_accounts(
            MatchMethod.INVOICE_REFERENCE,
            f"end-to-end id {e2e} is our direct debit of invoice {collected.item_id}; account {collected.account_id}",
            [collected],
            currency,
            (collected.item_id,),
        )

    items = directory.open_items(tokens) if tokens else {}
    if items:
        named = [items[t] for t in tokens if t in items]
        account_id = named[0].account_id
        first = tuple(dict.fromkeys(i.item_id for i in named if i.account_id == account_id))
        elsewhere = sorted({f"{i.item_id} ({i.account_id})" for i in named if i.account_id != account_id})
        reason = f"invoice {', '.join(first)} named in the payment reference; account {account_id}"
        if elsewhere:
            # Paying one account's items with money meant partly for another's would be a silent misallocation.
            return MatchDecision(
                method=MatchMethod.INVOICE_REFERENCE,
                reason=f"{reason}; also names invoices of other accounts: {', '.join(elsewhere)}; "
                "left unapplied for manual allocation",
                account_ids=tuple(dict.fromkeys(i.account_id for i in named)),
            )
        return _for_accounts(MatchMethod.INVOICE_REFERENCE, reason, [named[0]], currency, first)

    statements = directory.statements([t for t in tokens if t.upper().startswith("ST-")]) if tokens else {}
    if statements:
        statement = next(statements[t] for t in tokens if t in statements)
        return _for_accounts(
            MatchMethod.STATEMENT_REFERENCE,
            f"agency statement {statement.policy_id} named in the payment reference; account {statement.account_id}",
            [AccountRef(account_id=statement.account_id, customer_id="", currency=statement.currency)],
            currency,
            statement.open_items,
        )

    policies = directory.policies(tokens) if tokens else {}
    if policies:
        policy = next(policies[t] for t in tokens if t in policies)
        standing = "" if policy.status in ("active", "reinstated") else f" ({policy.status})"
        return _for_accounts(
            MatchMethod.POLICY_REFERENCE,
            f"policy {policy.policy_id}{standing} named in the payment reference; its payer's account "
            f"{policy.account_id}",
            [AccountRef(account_id=policy.account_id, customer_id="", currency=policy.currency)],
            currency,
            policy.open_items,
        )

    accounts = directory.accounts(tokens) if tokens else {}
    if accounts:
        account = next(accounts[t] for t in tokens if t in accounts)
        return _for_accounts(
            MatchMethod.ACCOUNT_REFERENCE,
            f"account {account.account_id} named in the payment reference",
            [account],
            currency,
        )

    if transaction.debtor_iban:
        owners = directory.accounts_of_iban(transaction.debtor_iban)
        customers = sorted({a.customer_id for a in owners})
        if len(customers) > 1:
            return MatchDecision(
                method=MatchMethod.IBAN,
                reason=f"debtor IBAN {transaction.debtor_iban} is registered to several customers "
                f"({', '.join(customers)}): left unapplied for manual allocation",
            )
        if owners:
            return _for_accounts(
                MatchMethod.IBAN,
                f"debtor IBAN {transaction.debtor_iban} is registered to customer {', '.join(customers)}",
                sorted(owners, key=lambda a: a.account_id),
                currency,
            )

    looked_at = ", ".join(tokens[:8]) or "no reference"
    iban = transaction.debtor_iban or "no debtor IBAN"
    return MatchDecision(
        method=MatchMethod.UNMATCHED,
        reason=f"no open invoice or account matches the references ({looked_at}) and {iban} belongs to no customer",
    )


def _for_accounts(
    method: MatchMethod,
    reason: str,
    accounts: Iterable[ItemRef | AccountRef],
    currency: str,
    first: tuple[str, ...] = (),
) -> MatchDecision:
    accounts = list(accounts)
    same = [a for a in accounts if a.currency == currency]
    if not same:
        held = accounts[0].currency
        return MatchDecision(
            method=method,
            reason=f"{reason}; but the payment is in {currency} and the account is kept in {held}: "
            "left unapplied for manual allocation",
            account_ids=tuple(dict.fromkeys(a.account_id for a in accounts)),
        )
    return MatchDecision(
        method=method,
        reason=reason,
        account_ids=tuple(dict.fromkeys(a.account_id for a in same)),
        first_items=first,
        allocatable=True,
    )
