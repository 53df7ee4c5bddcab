"""What every bank format is turned into: one :class:`BankTransaction` per money movement, plus rejections.

camt.053/054 (``camt.py``), MT940/MT942 (``mt940.py``) and per-bank CSV/fixed-width profiles (``profiles.py``) all
produce this model, so payer matching and allocation never look at a bank format. Amounts are ``Decimal`` and
always positive; the direction says which way the money went, ``reversal`` says it undoes an earlier movement.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Direction(StrEnum):
    CREDIT = "credit"  # money in to our account (a customer paying us)
    DEBIT = "debit"  # money out of our account (a refund, a returned direct debit, charges)


class EntryStatus(StrEnum):
    BOOKED = "booked"  # only booked entries are cash
    PENDING = "pending"
    INFO = "info"


class BankFormat(StrEnum):
    CAMT_053 = "camt.053"
    CAMT_054 = "camt.054"
    CAMT_052 = "camt.052"  # intraday report: recognised, never posted as payments
    MT940 = "mt940"
    MT942 = "mt942"
    PAIN_002 = "pain.002"
    PROFILE = "profile"  # a per-bank CSV or fixed-width layout described as data


class BankTransaction(BaseModel):
    """One money movement as the bank reported it (for a batch-booked entry: one per transaction detail)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source_format: BankFormat
    position: str = Field(description="Where in the file, e.g. 'Stmt[1]/Ntry[3]/TxDtls[2]' or 'line 17'")
    statement_id: str | None = None  # camt Stmt/Id, MT940 :20:
    account: str | None = None  # our account at the bank: IBAN, or branch/account number (camt Acct, MT940 :25:)
    bank_reference: str | None = Field(
        default=None,
        description="The bank's own reference for the entry (camt AcctSvcrRef, MT940 '//' reference): the key that "
        "makes the same entry in two overlapping statements one entry",
    )
    direction: Direction
    amount: Decimal = Field(gt=0, description="Booked amount of this movement (a batch line's own amount)")
    instructed_amount: Decimal | None = Field(default=None, description="What the payer sent (AmtDtls/InstdAmt)")
    currency: str
    booking_date: date | None = None
    value_date: date | None = None
    status: EntryStatus = EntryStatus.BOOKED
    reversal: bool = False  # camt RvslInd, MT940 RC/RD
    return_reason: str | None = None  # camt RtrInf/Rsn/Cd (AC04, MD06, MS03, ...)
    end_to_end_id: str | None = None  # None when absent or 'NOTPROVIDED'
    instruction_id: str | None = None
    transaction_id: str | None = None
    mandate_id: str | None = None
    uetr: str | None = None
    customer_reference: str | None = None  # MT940 :61: customer reference (None for NONREF)
    debtor_name: str | None = None
    debtor_iban: str | None = None
    debtor_account: str | None = None  # a non-IBAN account identifier of the counterparty
    remittance_lines: tuple[str, ...] = ()  # unstructured remittance (camt Ustrd; MT940 :86: joined, see parser)
    structured_references: tuple[str, ...] = ()  # camt Strd/CdtrRefInf/Ref (e.g. RF creditor references)
    bank_transaction_code: str | None = None  # e.g. 'PMNT/RCDT/ESCT' or a proprietary/SWIFT code
    line: int | None = Field(
        default=None,
        description="Physical line of the entry in the file (MT940 :61:, a profile row, a camt Ntry/TxDtls start "
        "tag); what a report's 'line' column shows for anything said about this entry",
    )
    assumptions: tuple[str, ...] = Field(
        default=(),
        description="What the reader concluded that the file did not state in the field meant for it (a camt.053 "
        "entry without Sts taken as booked; an MT940 return recognised from its :86: text): to be kept on the "
        "payment, so whoever reviews it sees why it was treated so",
    )

    @property
    def matching_amount(self) -> Decimal:
        """The amount payer matching and allocation use: what the payer instructed, when the bank reports it
        (charges can make the booked amount smaller)."""
        return self.instructed_amount or self.amount


class BankFileRejection(BaseModel):
    """A part of a bank file that could not be read, with where and why; the rest of the file still counts."""

    model_config = ConfigDict(frozen=True)
    position: str | None  # None: the whole file
    reason: str
    # Physical line of the rejected entry (for XML: the line its start tag is on). Every entry-level rejection has
    # one; None is kept for the whole file, as the rejection report's schema reserves an empty line for that.
    line: int | None = None


class BalanceWarning(BaseModel):
    """A statement whose opening balance plus its booked entries is not its closing balance. The file is still
    read (its entries are what the bank booked); the difference is for a person to look into."""

    model_config = ConfigDict(frozen=True)
    statement: str  # which statement, e.g. "Stmt[2] (Id S-7)" or "statement 3 (:20: T0894)"
    line: int | None  # where that statement starts
    currency: str
    opening: Decimal  # signed: negative for a debit balance
    booked: Decimal  # net of the booked entries read (credits positive, debits negative)
    closing: Decimal  # signed
    difference: Decimal  # closing - (opening + booked)
    unread_entries: int = 0  # booked entries that were rejected and so could not be counted
    reason: str  # the whole finding in one sentence, for a summary or an event


class ParsedBankFile(BaseModel):
    model_config = ConfigDict(frozen=True)
    source_format: BankFormat
    message_id: str | None = None  # camt GrpHdr/MsgId, MT940 :20: of the first statement
    statements: int = 0
    transactions: tuple[BankTransaction, ...] = ()
    rejections: tuple[BankFileRejection, ...] = ()
    balance_warnings: tuple[BalanceWarning, ...] = ()


def balance_warning(
    statement: str,
    line: int | None,
    currency: str,
    *,
    opening: Decimal,
    booked: Decimal,
    closing: Decimal,
    unread_entries: int = 0,
) -> BalanceWarning | None:
    """The warning for a statement that does not add up, or None when opening + booked = closing."""
    difference = closing - (opening + booked)
    if difference == 0:
        return None
    reason = (
        f"{statement}: opening balance {opening:f} {currency} plus booked entries {booked:+f} makes "
        f"{opening + booked:f}, but the closing balance is {closing:f} (off by {difference:+f} {currency})"
    )
    if unread_entries:
        reason += f"; {unread_entries} booked entries could not be read and are not counted"
    return BalanceWarning(
        statement=statement,
        line=line,
        currency=currency,
        opening=opening,
        booked=booked,
        closing=closing,
        difference=difference,
        unread_entries=unread_entries,
        reason=reason,
    )


class BankFileError(ValueError):
    """The file as a whole cannot be read as the format it claims (or appears) to be."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
