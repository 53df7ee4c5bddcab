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


class ParsedBankFile(BaseModel):
    model_config = ConfigDict(frozen=True)
    source_format: BankFormat
    message_id: str | None = None  # camt GrpHdr/MsgId, MT940 :20: of the first statement
    statements: int = 0
    transactions: tuple[BankTransaction, ...] = ()
    rejections: tuple[BankFileRejection, ...] = ()


class BankFileError(ValueError):
    """The file as a whole cannot be read as the format it claims (or appears) to be."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
