"""ISO 20022 pain.002 Customer Payment Status Report: the bank's answer to a pain.008 direct-debit collection file.

Any version from .001.03 (the message named ``CstmrPmtStsRpt``) to .001.12 and later: the message is recognised by
the local name of the element under ``Document`` and every field is found by local name, so the namespace (ISO,
a national variant such as the German DK SEPA schema or the Swiss ``.ch.`` ones, or none at all) and its prefix do not
matter. A namespace that is ISO 20022 but not pain.002 (a camt.053 statement, our own pain.008) is refused.

The file is read as a stream: each ``TxInfAndSts`` becomes a :class:`TransactionStatus` when it closes and is then
dropped together with its ``OrgnlTxRef`` copy of the original transaction, so memory grows with the number of
statuses reported, not with the bytes of the file.

What a status means, level by level (the caller owns the original pain.008 and expands it; see
:meth:`PaymentStatusReport.rejected_scope`):

* ``GrpSts`` (group): the status of the whole original message. ``RJCT`` means *every* transaction of the original
  message is rejected, whether or not any batch or transaction is listed. ``PART`` means some were rejected: only
  those listed (as a batch or a transaction) are.
* ``PmtInfSts`` (batch): the status of one original ``PmtInf``. ``RJCT`` means *every* transaction of that ``PmtInf``
  is rejected, listed or not.
* ``TxSts`` (transaction): the status of the one original transaction named by ``OrgnlEndToEndId``.

Choices where the standard or the banks leave room:

* Status codes are mapped to four outcomes (:data:`STATUS_CODES`); the code the bank wrote is kept as ``iso_status``
  because the outcome alone hides differences that matter later (``ACTC``: only technically validated, ``ACSC``:
  settled). Any other code (``RCVD``, ``CANC``, a typo) fails the file, naming the code and where it was: guessing
  the meaning of a status is how a rejected collection gets booked as paid.
* ``TxSts`` is optional in the schema. A transaction without one takes its batch's ``PmtInfSts``, else the group's
  ``GrpSts`` (``status_inherited=True``), and, when it gives no reason of its own, that level's reasons too, so every
  transaction explains itself. ``PART`` cannot be inherited by one transaction, and is refused as a ``TxSts``: both
  fail the file.
* Reasons: one :class:`StatusReason` per ``StsRsnInf`` that says anything (``Rsn/Cd``, ``Rsn/Prtry`` or
  ``AddtlInf``); ``AddtlInf`` lines are stripped and joined with one space. The originator (``Orgtr/Nm``, else its
  BIC) is kept: it tells a bank refusal from a debtor refusal.
* ``amount``/``currency`` come from ``OrgnlTxRef/Amt/InstdAmt`` only (the instructed amount of our own collection),
  digits kept as written. ``EqvtAmt`` and settlement amounts are not used.
* ``original_message_type`` is ``OrgnlMsgNmId`` as written (banks write ``PAIN.008.001.02`` as well as
  ``pain.008.001.02``).
* Required, or the file fails: the message, ``GrpHdr/MsgId``, ``GrpHdr/CreDtTm``, ``OrgnlGrpInfAndSts/OrgnlMsgId``,
  ``OrgnlPmtInfId`` and each transaction's ``OrgnlEndToEndId`` (the key that links a status to our collection).
  ``NbOfTxsPerSts`` counters and ``SplmtryData`` are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from xml.etree.ElementTree import Element

from pydantic import BaseModel, ConfigDict, Field

from receivables.banking.statement import BankFileError
from receivables.banking.xml_safety import OneMessageDocument, iter_local_events
from receivables.banking.xml_safety import element_text as _text
from receivables.domain.money import AmountError, quantize_to_currency, total_digits

__all__ = [
    "STATUS_CODES",
    "BatchStatus",
    "PaymentStatusReport",
    "RejectedScope",
    "StatusCode",
    "StatusReason",
    "TransactionStatus",
    "is_pain002",
    "parse_pain002",
]


class StatusCode(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PENDING = "pending"
    PARTIALLY_ACCEPTED = "partially_accepted"  # group or batch level only: some transactions were rejected


# ISO external code sets ExternalPaymentGroupStatus1Code / ExternalPaymentTransactionStatus1Code (the ones a
# creditor's bank sends back for a collection file), mapped to what they mean for the collection.
STATUS_CODES: dict[str, StatusCode] = {
    "ACCP": StatusCode.ACCEPTED,  # accepted customer profile
    "ACSC": StatusCode.ACCEPTED,  # accepted settlement completed
    "ACSP": StatusCode.ACCEPTED,  # accepted settlement in process
    "ACTC": StatusCode.ACCEPTED,  # accepted technical validation
    "ACWC": StatusCode.ACCEPTED,  # accepted with change
    "ACCC": StatusCode.ACCEPTED,  # accepted settlement completed (creditor account credited)
    "ACFC": StatusCode.ACCEPTED,  # accepted funds checked
    "ACWP": StatusCode.ACCEPTED,  # accepted without posting
    "RJCT": StatusCode.REJECTED,
    "PDNG": StatusCode.PENDING,
    "RCVD": StatusCode.PENDING,  # received, not yet checked: banks send it as an acknowledgement
    "PART": StatusCode.PARTIALLY_ACCEPTED,
}


class StatusReason(BaseModel):
    """One ``StsRsnInf``: why the bank (or the debtor, or the clearing) gave a status."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str | None = None  # Rsn/Cd, ExternalStatusReason1Code: AC04 closed account, AM04 insufficient funds, ...
    proprietary: str | None = None  # Rsn/Prtry: a bank's own reason
    additional_info: str | None = None  # AddtlInf lines, stripped and joined with one space
    originator: str | None = None  # Orgtr/Nm, else Orgtr/Id/OrgId/AnyBIC (BICOrBEI up to v04)


class TransactionStatus(BaseModel):
    """The status of one transaction of the original collection file (one ``TxInfAndSts``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    position: str = Field(description="Where in the file, e.g. 'OrgnlPmtInfAndSts[1]/TxInfAndSts[2]'")
    original_end_to_end_id: str  # OrgnlEndToEndId: our EndToEndId in the pain.008
    original_instruction_id: str | None = None  # OrgnlInstrId
    original_uetr: str | None = None  # OrgnlUETR (v09+)
    status_id: str | None = None  # StsId: the bank's reference for this status
    status: StatusCode
    iso_status: str = Field(description="The code as written (TxSts, or the inherited PmtInfSts/GrpSts), e.g. ACSC")
    status_inherited: bool = Field(
        default=False,
        description="No TxSts: the status is the batch's PmtInfSts, else the group's GrpSts; so are the reasons when "
        "the transaction gives none of its own",
    )
    reasons: tuple[StatusReason, ...] = ()
    amount: Decimal | None = None  # OrgnlTxRef/Amt/InstdAmt
    currency: str | None = None
    mandate_id: str | None = None  # OrgnlTxRef/MndtRltdInf/MndtId
    line: int | None = None  # physical line of the TxInfAndSts start tag


class BatchStatus(BaseModel):
    """The status of one original ``PmtInf`` (one ``OrgnlPmtInfAndSts``) and of the transactions listed in it.

    ``status`` REJECTED means every transaction of that ``PmtInf`` in the original file, not only those listed.
    ``status`` is None when the bank reports transactions only.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    position: str = Field(description="e.g. 'OrgnlPmtInfAndSts[2]'")
    original_payment_information_id: str  # OrgnlPmtInfId
    status: StatusCode | None = None  # PmtInfSts
    iso_status: str | None = None
    reasons: tuple[StatusReason, ...] = ()
    transactions: tuple[TransactionStatus, ...] = ()


class RejectedScope(BaseModel):
    """What a report rejects, level by level; the caller, who holds the original file, expands it to transactions.

    * ``whole_message``: every transaction of ``original_message_id``.
    * ``batches``: every transaction of each of these original ``PmtInf`` (whether listed or not).
    * ``transactions``: these transactions (with their own reasons), including those that inherited a rejection.

    A transaction may be in more than one level; rejected is rejected.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    original_message_id: str
    whole_message: bool
    group_reasons: tuple[StatusReason, ...] = ()
    batches: tuple[BatchStatus, ...] = ()
    transactions: tuple[TransactionStatus, ...] = ()

    @property
    def rejects_anything(self) -> bool:
        return self.whole_message or bool(self.batches) or bool(self.transactions)


class PaymentStatusReport(BaseModel):
    """A whole pain.002: the status of one original message (our pain.008), of some of its batches and transactions.

    ``group_status`` REJECTED means every transaction of the original message is rejected; PARTIALLY_ACCEPTED means
    only the rejections listed in ``batches`` apply. Use :meth:`rejected_scope` rather than reading levels one by one.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: str  # GrpHdr/MsgId
    created_at: datetime  # GrpHdr/CreDtTm, in its own offset (naive when the bank wrote none)
    original_message_id: str  # OrgnlGrpInfAndSts/OrgnlMsgId: our pain.008 GrpHdr/MsgId
    original_message_type: str | None = None  # OrgnlMsgNmId as written, e.g. 'pain.008.001.02'
    group_status: StatusCode | None = None  # GrpSts
    group_iso_status: str | None = None
    group_reasons: tuple[StatusReason, ...] = ()  # OrgnlGrpInfAndSts/StsRsnInf
    batches: tuple[BatchStatus, ...] = ()
    version: str | None = Field(
        default=None, description="e.g. 'pain.002.001.03', from the namespace; None when it names no version"
    )

    @property
    def transactions(self) -> tuple[TransactionStatus, ...]:
        """Every transaction status of every batch, in file order."""
        return tuple(transaction for batch in self.batches for transaction in batch.transactions)

    def rejected_scope(self) -> RejectedScope:
        """What is rejected at each level. Group RJCT: every transaction of the original message; batch RJCT:
        every transaction of that original ``PmtInf``; transaction RJCT: that transaction. Only the caller knows the
        original file's transactions, so the group and batch levels are returned as such, not expanded."""
        return RejectedScope(
            original_message_id=self.original_message_id,
            whole_message=self.group_status is StatusCode.REJECTED,
            group_reasons=self.group_reasons if self.group_status is StatusCode.REJECTED else (),
            batches=tuple(batch for batch in self.batches if batch.status is StatusCode.REJECTED),
            transactions=tuple(
                transaction for transaction in self.transactions if transaction.status is StatusCode.REJECTED
            ),
        )


_MESSAGE = "CstmrPmtStsRpt"
_PAIN002_VERSION = re.compile(r"pain\.002\.001\.[0-9]{2}")
_ISO_NAMESPACE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:([a-z]{4}\.[0-9]{3}\.[0-9]{3}\.[0-9]{2})")

# ASCII digits only: Python's \d and Decimal() also accept other scripts' digits.
_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_MAX_TOTAL_DIGITS = 18  # ActiveOrHistoricCurrencyAndAmount: totalDigits 18
_CURRENCY = re.compile(r"[A-Z]{3}")
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})?"
)

_HEAD_NAMESPACE = re.compile(rb"urn:iso:std:iso:20022:tech:xsd:pain\.002\.001\.[0-9]{2}")
_HEAD_MESSAGE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?CstmrPmtStsRpt[\s/>]")


def is_pain002(head: bytes) -> bool:
    """Whether a file is a pain.002 judged by its first bytes (a few kilobytes are plenty)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="ignore").encode("ascii", errors="ignore")
    head = head.removeprefix(b"\xef\xbb\xbf")
    if not head.lstrip().startswith(b"<"):
        return False
    return bool(_HEAD_NAMESPACE.search(head) or _HEAD_MESSAGE.search(head))


def parse_pain002(blocks: Iterable[bytes]) -> PaymentStatusReport:
    """Read a whole pain.002 from its byte blocks. Raises :class:`BankFileError`, naming where and why, when the
    file is not well-formed XML, is not a pain.002, lacks an identifier it must have or uses an unknown status."""
    return _Reader().read(blocks)


@dataclass(frozen=True)
class _Level:
    """A group's or a batch's own status, as read from ``GrpSts``/``PmtInfSts`` and ``StsRsnInf``."""

    status: StatusCode | None
    iso_status: str | None
    reasons: tuple[StatusReason, ...]


@dataclass(frozen=True)
class _Group:
    original_message_id: str
    original_message_type: str | None
    level: _Level


@dataclass
class _Batch:
    """The ``OrgnlPmtInfAndSts`` being read: its header (read once, before its first transaction) and statuses."""

    number: int
    header: tuple[str, _Level] | None = None  # OrgnlPmtInfId and the batch's own status
    transactions: list[TransactionStatus] = field(default_factory=list)

    @property
    def position(self) -> str:
        return f"OrgnlPmtInfAndSts[{self.number}]"


class _Reader(OneMessageDocument):
    what = "pain.002"
    one_message = "a status report holds one message"

    def __init__(self) -> None:
        super().__init__()
        self._version: str | None = None
        self._header: tuple[str, datetime] | None = None
        self._group: _Group | None = None
        self._batches: list[BatchStatus] = []
        self._batch: _Batch | None = None
        self._transaction_line = 0  # where the TxInfAndSts being read starts

    def read(self, blocks: Iterable[bytes]) -> PaymentStatusReport:
        for event, element, namespace, stack, line in iter_local_events(blocks, "pain.002"):
            if event == "start":
                if element.tag == "TxInfAndSts":
                    self._transaction_line = line
                self._on_start(element, namespace, stack)
            else:
                self._on_end(element, stack)
        if self._message is None:
            raise BankFileError(
                f"pain.002: no {_MESSAGE} (Customer Payment Status Report) message under a Document element "
                f"(root element <{self._root}>)"
            )
        if self._header is None:
            raise BankFileError("pain.002: the message has no GrpHdr (group header with MsgId and CreDtTm)")
        if self._group is None:
            raise BankFileError("pain.002: the message has no OrgnlGrpInfAndSts (missing OrgnlMsgId)")
        message_id, created_at = self._header
        group = self._group
        return PaymentStatusReport(
            message_id=message_id,
            created_at=created_at,
            original_message_id=group.original_message_id,
            original_message_type=group.original_message_type,
            group_status=group.level.status,
            group_iso_status=group.level.iso_status,
            group_reasons=group.level.reasons,
            batches=tuple(self._batches),
            version=self._version,
        )

    def _on_start(self, element: Element, namespace: str, stack: list[Element]) -> None:
        depth = len(stack)
        if self._track_start(element, namespace, stack):
            return
        if self._inside_message(depth - 1) and depth == self._message_depth + 1:
            self._on_message_child_start(element.tag)

    def _open_message(self, element: Element, namespace: str) -> None:
        name = element.tag
        iso = _ISO_NAMESPACE.fullmatch(namespace)
        if name != _MESSAGE:
            what = f" (a {iso[1]} message)" if iso else ""
            if name.startswith("pain.002."):
                what = " (the pre-2009 pain.002.001.02 layout, which is not supported)"
            raise BankFileError(
                f"pain.002: not a payment status report: the Document holds <{name}> in namespace "
                f"'{namespace or '(none)'}'{what}; expected <{_MESSAGE}>"
            )
        if iso and not iso[1].startswith("pain.002."):
            raise BankFileError(f"pain.002: <{name}> is in namespace '{namespace}', which is {iso[1]}, not pain.002")
        version = _PAIN002_VERSION.search(namespace)
        self._version = version[0] if version else None

    def _on_message_child_start(self, name: str) -> None:
        if name != "OrgnlPmtInfAndSts":
            return
        if self._group is None:
            # Transactions inherit the group status, so it must be known before the first batch (as the schema has it).
            raise BankFileError(
                f"pain.002: OrgnlPmtInfAndSts[{len(self._batches) + 1}] comes before OrgnlGrpInfAndSts; "
                "the schema puts the original group information first"
            )
        self._batch = _Batch(number=len(self._batches) + 1)

    def _on_end(self, element: Element, stack: list[Element]) -> None:
        if self._pruned_outside(element, stack):
            return
        parent = stack[-1]  # inside the message there is always a parent
        depth = len(stack)
        name = element.tag
        if depth == self._message_depth:  # a child of the message
            if name == "GrpHdr":
                self._header = _read_group_header(element)
            elif name == "OrgnlGrpInfAndSts":
                self._group = _read_group(element)
            elif name == "OrgnlPmtInfAndSts" and self._batch is not None:
                self._batches.append(self._close_batch(element, self._batch))
                self._batch = None
            parent.remove(element)
        elif depth == self._message_depth + 1 and name == "TxInfAndSts" and self._batch is not None:
            batch = self._batch
            if batch.header is None:  # everything before the first TxInfAndSts is complete by now
                batch.header = _read_batch_header(parent, batch.position)
            batch.transactions.append(self._read_transaction(element, batch))
            parent.remove(element)

    def _close_batch(self, element: Element, batch: _Batch) -> BatchStatus:
        identifier, level = batch.header or _read_batch_header(element, batch.position)
        return BatchStatus(
            position=batch.position,
            original_payment_information_id=identifier,
            status=level.status,
            iso_status=level.iso_status,
            reasons=level.reasons,
            transactions=tuple(batch.transactions),
        )

    def _read_transaction(self, element: Element, batch: _Batch) -> TransactionStatus:
        position = f"{batch.position}/TxInfAndSts[{len(batch.transactions) + 1}]"
        line = self._transaction_line
        where = f"{position} (line {line})"  # what error messages name: the element and where an editor finds it
        end_to_end = _text(element, "OrgnlEndToEndId")
        if end_to_end is None:
            raise BankFileError(
                f"pain.002: {where}: no OrgnlEndToEndId, so the status cannot be linked to a collection"
            )
        iso_status = _text(element, "TxSts")
        reasons = _reasons(element)
        inherited = iso_status is None
        if iso_status is not None:
            status = _status(iso_status, f"{position}/TxSts (line {line})")
            if status is StatusCode.PARTIALLY_ACCEPTED:
                raise BankFileError(
                    f"pain.002: {position}/TxSts (line {line}): PART (partially accepted) is a group or batch status; "
                    "one transaction is accepted, rejected or pending"
                )
        else:
            level = self._inherited_level(batch, where)
            assert level.status is not None and level.iso_status is not None  # checked by _inherited_level
            status, iso_status, reasons = level.status, level.iso_status, reasons or level.reasons
        amount, currency = _instructed_amount(element, position, line)
        return TransactionStatus(
            position=position,
            line=line,
            original_end_to_end_id=end_to_end,
            original_instruction_id=_text(element, "OrgnlInstrId"),
            original_uetr=_text(element, "OrgnlUETR"),
            status_id=_text(element, "StsId"),
            status=status,
            iso_status=iso_status,
            status_inherited=inherited,
            reasons=reasons,
            amount=amount,
            currency=currency,
            mandate_id=_text(element, "OrgnlTxRef/MndtRltdInf/MndtId"),
        )

    def _inherited_level(self, batch: _Batch, position: str) -> _Level:
        """The batch's status when it has one, else the group's: what a transaction without ``TxSts`` takes."""
        assert batch.header is not None and self._group is not None  # both read before the first transaction
        batch_level = batch.header[1]
        level, name = (batch_level, "PmtInfSts") if batch_level.status is not None else (self._group.level, "GrpSts")
        if level.status is None or level.status is StatusCode.PARTIALLY_ACCEPTED:
            raise BankFileError(
                f"pain.002: {position}: no TxSts, and the {name} ({level.iso_status or 'absent'}) does not say what "
                "happened to this one transaction"
            )
        return level


def _read_group_header(element: Element) -> tuple[str, datetime]:
    message_id = _text(element, "MsgId")
    if message_id is None:
        raise BankFileError("pain.002: GrpHdr has no MsgId (the status report's message identification)")
    created = _text(element, "CreDtTm")
    if created is None or not _DATE_TIME.fullmatch(created):
        raise BankFileError(
            f"pain.002: GrpHdr/CreDtTm {created!r} is not a date-time (YYYY-MM-DDThh:mm:ss, optional offset)"
        )
    try:
        return message_id, datetime.fromisoformat(created)
    except ValueError:  # shaped like a date-time but not one (2024-02-30T...)
        raise BankFileError(f"pain.002: GrpHdr/CreDtTm '{created}' is not a valid date-time") from None


def _read_group(element: Element) -> _Group:
    original_message_id = _text(element, "OrgnlMsgId")
    if original_message_id is None:
        raise BankFileError(
            "pain.002: OrgnlGrpInfAndSts has no OrgnlMsgId, so the report cannot be linked to the collection file"
        )
    return _Group(
        original_message_id=original_message_id,
        original_message_type=_text(element, "OrgnlMsgNmId"),
        level=_read_level(element, "GrpSts", "OrgnlGrpInfAndSts"),
    )


def _read_batch_header(element: Element, position: str) -> tuple[str, _Level]:
    identifier = _text(element, "OrgnlPmtInfId")
    if identifier is None:
        raise BankFileError(f"pain.002: {position}: no OrgnlPmtInfId, so the batch cannot be linked to a PmtInf")
    return identifier, _read_level(element, "PmtInfSts", position)


def _read_level(element: Element, status_name: str, position: str) -> _Level:
    iso_status = _text(element, status_name)
    status = _status(iso_status, f"{position}/{status_name}") if iso_status is not None else None
    return _Level(status=status, iso_status=iso_status, reasons=_reasons(element))


def _status(code: str, where: str) -> StatusCode:
    try:
        return STATUS_CODES[code]
    except KeyError:
        raise BankFileError(
            f"pain.002: {where}: unknown status code '{code}'; expected one of {', '.join(STATUS_CODES)}"
        ) from None


def _reasons(element: Element) -> tuple[StatusReason, ...]:
    reasons = []
    for info in element.iterfind("StsRsnInf"):
        code = _text(info, "Rsn/Cd")
        proprietary = _text(info, "Rsn/Prtry")
        lines = [(line.text or "").strip() for line in info.iterfind("AddtlInf")]
        additional = " ".join(line for line in lines if line) or None
        if code is None and proprietary is None and additional is None:
            continue  # an originator alone says nothing about why
        originator = (
            _text(info, "Orgtr/Nm") or _text(info, "Orgtr/Id/OrgId/AnyBIC") or _text(info, "Orgtr/Id/OrgId/BICOrBEI")
        )
        reasons.append(
            StatusReason(code=code, proprietary=proprietary, additional_info=additional, originator=originator)
        )
    return tuple(reasons)


def _instructed_amount(element: Element, position: str, line: int) -> tuple[Decimal | None, str | None]:
    found = element.find("OrgnlTxRef/Amt/InstdAmt")
    if found is None:
        return None, None
    where = f"{position}/OrgnlTxRef/Amt/InstdAmt (line {line})"
    text = (found.text or "").strip()
    if not _AMOUNT.fullmatch(text):
        raise BankFileError(f"pain.002: {where}: '{text}' is not an amount (digits, optional '.' decimals)")
    currency = found.get("Ccy")
    if currency is None or not _CURRENCY.fullmatch(currency):
        raise BankFileError(f"pain.002: {where}: currency {currency!r} is not a three-letter ISO 4217 code")
    value = Decimal(text)
    # The same money rules as every bank file: ISO 20022's 18 digits, no decimals beyond the currency's minor units.
    if total_digits(value) > _MAX_TOTAL_DIGITS:
        raise BankFileError(f"pain.002: {where}: '{text}' has more than {_MAX_TOTAL_DIGITS} digits")
    try:
        return quantize_to_currency(value, currency), currency
    except AmountError as err:
        raise BankFileError(f"pain.002: {where}: '{text}': {err}") from None
