"""ISO 20022 bank-to-customer cash management files: camt.053 statements and camt.054 notifications.

Any version (.001.02 to .001.08 and later): the message is recognised by its namespace or, failing that, by the local
name of the element under ``Document``, and every field is found by local name, so version and namespace prefix do
not matter. camt.052 intraday reports are recognised but yield no transactions: they are not final bookings.

The file is read as a stream; each ``Ntry`` becomes transactions (or a rejection) when it closes and is then
dropped, so memory does not grow with the number of entries.

Choices where the standard or the banks leave room:

* Amount. One transaction per entry, for the entry's ``Amt`` (what was booked in the account currency), unless the
  entry carries several ``TxDtls``: then one transaction per ``TxDtls`` for that line's own amount, taken from the
  first of ``Amt``, ``AmtDtls/TxAmt``, ``AmtDtls/CntrValAmt``, ``AmtDtls/InstdAmt`` that is in the entry currency.
  A single ``TxDtls`` takes the entry's amount and ``CdtDbtInd`` (its own ``Amt`` is often the foreign amount),
  unless ``Btch/NbOfTxs`` says the booking holds more transactions: then it is a batch line like any other. An entry
  with no ``TxDtls`` at all (a batch whose details come separately, e.g. in a camt.054) is one transaction.
  The lines, signed by their own ``CdtDbtInd`` (the entry's when absent), must net to the entry amount; if any line
  cannot be read or they do not add up, the whole entry is rejected so a booking is never posted in part or twice.
* Amount digits. Leading zeros and trailing decimal zeros are accepted (``0000045.5000`` EUR is 45.50). A decimal
  that is not zero beyond the currency's ISO 4217 minor units (``10.001`` TRY, ``10.5`` JPY), or more than 18 digits
  (ISO 20022 ``totalDigits``), rejects the entry: money is never rounded. (Its ``fractionDigits`` 5 never binds: no
  currency has more than 4 minor units.) Every amount read is quantized to its currency's minor units (``8.850`` EUR
  is ``Decimal('8.85')``).
* ``instructed_amount`` is ``AmtDtls/InstdAmt`` (the line's, else for a one-line entry the entry's) only when it is
  in the booked currency: the model has no currency for it, and a foreign instructed amount must not be compared
  with local open items.
* Direction is ``CdtDbtInd`` as booked, never flipped for a reversal: a reversed customer payment is a DEBIT with
  ``reversal=True``.
* Returns. ``reversal`` is also set, without ``RvslInd``, when a line carries ``RtrInf`` or its bank transaction
  code is a PMNT return/reversal sub-family (RRTN, UPDD, PRDD, RCDD, RPCR, ARET, AREV): banks book returned
  transfers and unpaid direct debits as fresh movements. ``return_reason`` is ``RtrInf/Rsn/Cd`` (else ``Prtry``).
* Status ``BOOK`` → booked, ``PDNG`` and ``FUTR`` → pending, ``INFO`` → info; anything else rejects the entry.
  A camt.053 entry without ``Sts`` is booked (a statement reports booked entries), and says so in its
  ``assumptions``; in a camt.054 or camt.052 a missing status rejects the entry.
* Dates: ``Dt`` or ``DtTm``; a date-time gives its date as written, in its own offset, not converted to UTC.
* ``bank_reference``: the entry's ``AcctSvcrRef`` (else the only line's ``Refs/AcctSvcrRef``). A batch line takes its
  own ``Refs/AcctSvcrRef`` when that is unique within the entry, else ``<entry AcctSvcrRef>/<line number>``: banks
  often repeat one reference on every line, and the key must tell lines apart yet be the same in an overlapping
  statement. ``NtryRef`` is not used: banks number entries per statement, so it would merge different payments.
* Counterparty: ``debtor_*`` come from ``RltdPties/Dbtr`` (``Dbtr/Pty`` from v08) and ``DbtrAcct`` only; the creditor
  of an outgoing payment is not mapped (the model has no field for it).
* Remittance: ``Ustrd`` lines verbatim (a reference may be split across lines) then ``Strd/AddtlRmtInf``;
  ``structured_references`` are ``Strd/CdtrRefInf/Ref`` then ``Strd/RfrdDocInf/Nb`` (invoice numbers). With no
  remittance at all, ``AddtlTxInf`` (and for a one-line entry ``AddtlNtryInf``) stands in for it.
* Balances: per statement (and notification, when it has them) and currency, the opening booked balance
  (``OPBD``, else ``PRCD``) plus the booked entries must equal the closing booked balance (``CLBD``). One that
  does not is a :class:`BalanceWarning` on the parsed file; nothing is refused for it: the entries are what the bank
  booked, and the difference is for a person to look into.
* Bank transaction code: the line's ``BkTxCd`` when it has one, else the entry's; ``Domn/Cd/Fmly/Cd/SubFmlyCd`` as
  ``PMNT/RCDT/ESCT``, else ``Prtry/Cd``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from xml.etree.ElementTree import Element

from receivables.banking.statement import (
    BalanceWarning,
    BankFileError,
    BankFileRejection,
    BankFormat,
    BankTransaction,
    Direction,
    EntryStatus,
    ParsedBankFile,
    balance_warning,
)
from receivables.banking.xml_safety import OneMessageDocument, iter_local_events
from receivables.banking.xml_safety import element_text as _text
from receivables.domain.iban import normalise_iban
from receivables.domain.money import AmountError, quantize_to_currency, total_digits

__all__ = ["CamtReader", "is_camt", "parse_camt"]

# message element under Document → (format, name of its statement-like record)
_MESSAGES: dict[str, tuple[BankFormat, str]] = {
    "BkToCstmrStmt": (BankFormat.CAMT_053, "Stmt"),
    "BkToCstmrDbtCdtNtfctn": (BankFormat.CAMT_054, "Ntfctn"),
    "BkToCstmrAcctRpt": (BankFormat.CAMT_052, "Rpt"),
}
_FORMAT_BY_NUMBER = {"052": BankFormat.CAMT_052, "053": BankFormat.CAMT_053, "054": BankFormat.CAMT_054}
_CAMT_NAMESPACE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.(05[234])\.001\.[0-9]{2}")
_ISO_NAMESPACE_PREFIX = "urn:iso:std:iso:20022:tech:xsd:"

_DIRECTIONS = {"CRDT": Direction.CREDIT, "DBIT": Direction.DEBIT}
_STATUSES = {
    "BOOK": EntryStatus.BOOKED,
    "PDNG": EntryStatus.PENDING,
    "FUTR": EntryStatus.PENDING,  # v08+: on the books, value in the future - not cash yet
    "INFO": EntryStatus.INFO,
}
_FLAGS = {"true": True, "1": True, "false": False, "0": False}  # xs:boolean lexical forms
# ISO external code list ExternalBankTransactionSubFamily1Code: movements that undo an earlier payment.
_RETURN_SUB_FAMILIES = frozenset({"RRTN", "UPDD", "PRDD", "RCDD", "RPCR", "ARET", "AREV"})
_NOT_PROVIDED = "NOTPROVIDED"

# ASCII digits only: Python's \d and Decimal() also accept other scripts' digits.
_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_MAX_TOTAL_DIGITS = 18  # ActiveOrHistoricCurrencyAndAmount: totalDigits 18, fractionDigits 5
_CURRENCY = re.compile(r"[A-Z]{3}")
_COUNT = re.compile(r"[0-9]+")
_DATE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:T[0-9:.]+(?:Z|[+-][0-9]{2}:[0-9]{2})?)?")

_HEAD_NAMESPACE = re.compile(rb"urn:iso:std:iso:20022:tech:xsd:camt\.(05[234])\.001\.[0-9]{2}")
_HEAD_MESSAGE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(BkToCstmrStmt|BkToCstmrDbtCdtNtfctn|BkToCstmrAcctRpt)[\s/>]")


def is_camt(head: bytes) -> BankFormat | None:
    """The camt format of a file judged by its first bytes (a few kilobytes are plenty), or None."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="ignore").encode("ascii", errors="ignore")
    head = head.removeprefix(b"\xef\xbb\xbf")
    if not head.lstrip().startswith(b"<"):
        return None
    if match := _HEAD_NAMESPACE.search(head):
        return _FORMAT_BY_NUMBER[match[1].decode()]
    if match := _HEAD_MESSAGE.search(head):
        return _MESSAGES[match[1].decode()][0]
    return None


def parse_camt(blocks: Iterable[bytes]) -> ParsedBankFile:
    """Read a whole camt.052/053/054 file. Raises :class:`BankFileError` when the file as a whole cannot be read."""
    reader = CamtReader(blocks)
    transactions: list[BankTransaction] = []
    rejections: list[BankFileRejection] = []
    for item in reader:
        if isinstance(item, BankTransaction):
            transactions.append(item)
        else:
            rejections.append(item)
    assert reader.source_format is not None  # the reader raises when it finds no camt message
    return ParsedBankFile(
        source_format=reader.source_format,
        message_id=reader.message_id,
        statements=reader.statements,
        transactions=tuple(transactions),
        rejections=tuple(rejections),
        balance_warnings=tuple(reader.balance_warnings),
    )


class _Malformed(Exception):
    """One entry (or batch line) cannot be read; becomes a rejection, the rest of the file goes on."""


class CamtReader(OneMessageDocument):
    """Yields each entry's transactions or rejection as soon as the entry closes.

    ``source_format`` is known once the message element has been read, ``message_id`` once the group header has,
    ``statements`` counts the records (``Stmt``/``Ntfctn``/``Rpt``) seen so far. Iterate once.

    A caller that acts on items before the end must expect a :class:`BankFileError` after some of them (a truncated
    file); :func:`parse_camt` reads to the end first, so a broken file yields nothing at all.
    """

    what = "camt"
    one_message = "a bank file holds one camt message"

    def __init__(self, blocks: Iterable[bytes]) -> None:
        super().__init__()
        self._blocks = blocks
        self.source_format: BankFormat | None = None
        self.message_id: str | None = None
        self.statements = 0
        self._record_name = ""
        self._entries = 0  # entries seen in the current record
        self._entry_line = 0  # where the current Ntry's start tag is
        self._line_lines: list[int] = []  # where its TxDtls start tags are
        self.balance_warnings: list[BalanceWarning] = []  # statements read so far that do not add up
        self._record_line = 0
        self._booked: dict[str, Decimal] = {}  # net of the current record's booked entries, by currency
        self._unread = 0  # entries of the current record whose booking could not be read

    def __iter__(self) -> Iterator[BankTransaction | BankFileRejection]:
        for event, element, namespace, stack, line in iter_local_events(self._blocks, "camt"):
            if event == "start":
                self._on_start(element, namespace, stack, line)
            else:
                yield from self._on_end(element, stack)
        if self._message is None:
            raise BankFileError(
                f"camt: no BkToCstmrStmt, BkToCstmrDbtCdtNtfctn or BkToCstmrAcctRpt message under a Document "
                f"element (root element <{self._root}>)"
            )

    def _on_start(self, element: Element, namespace: str, stack: list[Element], line: int) -> None:
        depth = len(stack)
        if self._track_start(element, namespace, stack):
            return
        name = element.tag
        if name == "Ntry":
            self._entry_line = line
            self._line_lines = []
        elif name == "TxDtls":
            self._line_lines.append(line)  # NtryDtls/TxDtls in document order: the batch lines
        elif self._is_record(element, depth):
            self.statements += 1
            self._entries = 0
            self._record_line = line
            self._booked = {}
            self._unread = 0

    def _open_message(self, element: Element, namespace: str) -> None:
        name = element.tag
        known = _MESSAGES.get(name)
        if known is None:
            raise BankFileError(
                f"camt: not a camt.052/053/054 message: the Document holds <{name}> "
                f"in namespace '{namespace or '(none)'}'"
            )
        source_format, self._record_name = known
        if match := _CAMT_NAMESPACE.fullmatch(namespace):
            if _FORMAT_BY_NUMBER[match[1]] is not source_format:
                raise BankFileError(
                    f"camt: namespace '{namespace}' is camt.{match[1]} but the message is <{name}> ({source_format})"
                )
        elif namespace.startswith(_ISO_NAMESPACE_PREFIX):
            raise BankFileError(f"camt: <{name}> is in namespace '{namespace}', which is not a camt namespace")
        self.source_format = source_format

    def _is_record(self, element: Element, depth: int) -> bool:
        """A statement-like record (``Stmt``, ``Ntfctn``, ``Rpt``): a child of the open message with that name."""
        return self._inside_message(depth - 1) and depth == self._message_depth + 1 and element.tag == self._record_name

    def _on_end(self, element: Element, stack: list[Element]) -> Iterator[BankTransaction | BankFileRejection]:
        if self._pruned_outside(element, stack):
            return
        parent = stack[-1] if stack else None
        depth = len(stack)
        name = element.tag
        if depth == self._message_depth:  # a child of the message: GrpHdr, a record, supplementary data
            if name == "GrpHdr":
                self.message_id = _text(element, "MsgId")
            elif name == self._record_name and self.source_format is not BankFormat.CAMT_052:
                self.balance_warnings.extend(self._check_balances(element))
            assert parent is not None  # the message's children have the message above them
            parent.remove(element)
        elif (
            parent is not None
            and depth == self._message_depth + 1
            and name == "Ntry"
            and parent.tag == self._record_name
        ):
            self._entries += 1
            if self.source_format is not BankFormat.CAMT_052:  # intraday reports are not payments
                yield from self._read_entry(element, parent)
            parent.remove(element)

    def _check_balances(self, record: Element) -> list[BalanceWarning]:
        """Opening booked (``OPBD``, else the previous closing ``PRCD``) plus the booked entries must be the closing
        booked balance (``CLBD``), per currency; a record without both balances is not checked."""
        opening: dict[str, Decimal] = {}
        previous: dict[str, Decimal] = {}
        closing: dict[str, Decimal] = {}
        into = {"OPBD": opening, "PRCD": previous, "CLBD": closing}
        for balance in record.iterfind("Bal"):
            found = balance.find("Amt")
            kind = into.get(_text(balance, "Tp/CdOrPrtry/Cd") or "")
            indicator = _text(balance, "CdtDbtInd")
            if found is None or kind is None or indicator not in _DIRECTIONS:
                continue
            try:
                amount, currency = _money(found, "Bal/Amt")
            except _Malformed:
                continue  # a balance that cannot be read checks nothing
            kind.setdefault(currency, amount if _DIRECTIONS[indicator] is Direction.CREDIT else -amount)
        label = f"{self._record_name}[{self.statements}]"
        if identifier := _text(record, "Id"):
            label += f" (Id {identifier})"
        warnings = []
        for currency, closing_amount in closing.items():
            opening_amount = opening.get(currency, previous.get(currency))
            if opening_amount is None:
                continue
            warning = balance_warning(
                label,
                self._record_line,
                currency,
                opening=opening_amount,
                booked=self._booked.get(currency, Decimal(0)),
                closing=closing_amount,
                unread_entries=self._unread,
            )
            if warning is not None:
                warnings.append(warning)
        return warnings

    def _read_entry(self, entry: Element, record: Element) -> list[BankTransaction | BankFileRejection]:
        position = f"{self._record_name}[{self.statements}]/Ntry[{self._entries}]"
        line = self._entry_line
        try:
            booking = _read_booking(entry, statement=self.source_format is BankFormat.CAMT_053)
        except _Malformed as err:
            self._unread += 1
            return [BankFileRejection(position=position, reason=str(err), line=line)]
        if booking.status is EntryStatus.BOOKED:
            # The balance check counts the booking as the bank made it, even when its details are then rejected.
            signed = booking.amount if booking.direction is Direction.CREDIT else -booking.amount
            self._booked[booking.currency] = self._booked.get(booking.currency, Decimal(0)) + signed
        common: dict[str, Any] = {
            "source_format": self.source_format,
            "statement_id": _text(record, "Id"),
            "account": _iban(record, "Acct/Id/IBAN") or _text(record, "Acct/Id/Othr/Id"),
            "currency": booking.currency,
            "status": booking.status,
            "booking_date": booking.booking_date,
            "value_date": booking.value_date,
            "assumptions": booking.assumptions,
        }
        lines = entry.findall("NtryDtls/TxDtls")
        # One TxDtls out of a batch of several describes one payer only: it must not take the whole booking.
        declared = sum(int(count) for count in _texts(entry, "NtryDtls/Btch/NbOfTxs") if _COUNT.fullmatch(count))
        if len(lines) > 1 or (lines and declared > 1):
            starts = self._line_lines if len(self._line_lines) == len(lines) else [line] * len(lines)
            return _read_batch(lines, booking, position, line, starts, common)
        detail = lines[0] if lines else None
        try:
            details = _read_details(detail, booking)
            instructed = _instructed(detail, booking.currency)
            if instructed is None:
                instructed = _instructed(entry, booking.currency)
        except _Malformed as err:
            return [BankFileRejection(position=position, reason=str(err), line=line)]
        if not details.get("remittance_lines") and not details.get("structured_references"):
            details["remittance_lines"] = _texts(entry, "AddtlNtryInf")
        reference = booking.reference or (_text(detail, "Refs/AcctSvcrRef") if detail is not None else None)
        return [
            BankTransaction(
                **common,
                **details,
                position=position,
                line=line,
                amount=booking.amount,
                direction=booking.direction,
                instructed_amount=instructed,
                bank_reference=reference,
            )
        ]


@dataclass(frozen=True)
class _Booking:
    """What the entry itself says: the booked movement that batch lines must add up to."""

    amount: Decimal
    currency: str
    direction: Direction
    status: EntryStatus
    booking_date: date | None
    value_date: date | None
    reversal: bool
    reference: str | None
    code: str | None
    assumptions: tuple[str, ...] = ()


def _read_booking(entry: Element, *, statement: bool) -> _Booking:
    amount_element = entry.find("Amt")
    if amount_element is None:
        raise _Malformed("the entry has no Amt (booked amount)")
    amount, currency = _money(amount_element, "Amt")
    if amount == 0:
        raise _Malformed("the entry's Amt is zero: nothing was booked")
    reversal = _text(entry, "RvslInd")
    if reversal is not None and reversal.lower() not in _FLAGS:
        raise _Malformed(f"RvslInd '{reversal}' is neither true nor false")
    assumptions: tuple[str, ...] = ()
    if entry.find("Sts") is None and statement:
        # A statement reports what was booked (camt.053's own definition); banks that leave the mandatory Sts out
        # of every entry would otherwise lose the whole statement. Notifications and intraday reports carry pending
        # and information entries too, so there a missing status stays a rejection.
        status = EntryStatus.BOOKED
        assumptions = ("camt.053 entry without Sts (status): taken as booked, as a statement reports booked entries",)
    else:
        status = _status(entry)
    return _Booking(
        amount=amount,
        currency=currency,
        direction=_direction(_text(entry, "CdtDbtInd"), "the entry"),
        status=status,
        booking_date=_date(entry, "BookgDt"),
        value_date=_date(entry, "ValDt"),
        reversal=reversal is not None and _FLAGS[reversal.lower()],
        reference=_text(entry, "AcctSvcrRef"),
        code=_bank_transaction_code(entry),
        assumptions=assumptions,
    )


def _read_batch(
    lines: list[Element], booking: _Booking, position: str, line: int, starts: list[int], common: dict[str, Any]
) -> list[BankTransaction | BankFileRejection]:
    """``line`` is where the entry starts, ``starts`` where each of its lines does."""
    own_references = [_text(line, "Refs/AcctSvcrRef") for line in lines]
    transactions: list[BankTransaction | BankFileRejection] = []
    problems: list[BankTransaction | BankFileRejection] = []
    net = Decimal(0)
    for number, (detail, own_reference, start) in enumerate(zip(lines, own_references, starts, strict=True), 1):
        line_position = f"{position}/TxDtls[{number}]"
        try:
            amount, direction = _line_amount(detail, booking)
            details = _read_details(detail, booking)
            instructed = _instructed(detail, booking.currency)
        except _Malformed as err:
            reason = f"{err}; the whole batch entry is held back so it is never posted in part"
            problems.append(BankFileRejection(position=line_position, reason=reason, line=start))
            continue
        net += amount if direction is booking.direction else -amount
        reference: str | None
        if own_reference and own_references.count(own_reference) == 1:
            reference = own_reference
        else:
            base = booking.reference or own_reference
            reference = f"{base}/{number}" if base else None
        transactions.append(
            BankTransaction(
                **common,
                **details,
                position=line_position,
                line=start,
                amount=amount,
                direction=direction,
                instructed_amount=instructed,
                bank_reference=reference,
            )
        )
    if problems:
        return problems
    if net != booking.amount:
        currency = booking.currency
        return [
            BankFileRejection(
                position=position,
                reason=f"the {len(lines)} batch lines net to {net} {currency} but the entry books "
                f"{booking.amount} {currency}: posting the lines would lose or invent money",
                line=line,
            )
        ]
    return transactions


def _line_amount(line: Element, booking: _Booking) -> tuple[Decimal, Direction]:
    """A batch line's own amount in the entry currency; v02 has no ``TxDtls/Amt``, hence the ``AmtDtls`` fallbacks."""
    indicator = _text(line, "CdtDbtInd")
    direction = booking.direction if indicator is None else _direction(indicator, "the line")
    for path in ("Amt", "AmtDtls/TxAmt/Amt", "AmtDtls/CntrValAmt/Amt", "AmtDtls/InstdAmt/Amt"):
        element = line.find(path)
        if element is None:
            continue
        amount, currency = _money(element, path)
        if currency == booking.currency:
            if amount == 0:
                raise _Malformed(f"the line's {path} is zero")
            return amount, direction
    raise _Malformed(
        f"the batch line has no amount of its own in {booking.currency} "
        "(looked at Amt, AmtDtls/TxAmt, AmtDtls/CntrValAmt, AmtDtls/InstdAmt); the entry total belongs to all lines"
    )


def _read_details(line: Element | None, booking: _Booking) -> dict[str, Any]:
    """Everything a transaction says about who paid and why; ``line`` is None for an entry without ``TxDtls``."""
    line_code = _bank_transaction_code(line) if line is not None else None
    code = line_code or booking.code
    returned = booking.reversal or _is_return_code(line_code) or _is_return_code(booking.code)
    if line is None:
        return {"reversal": returned, "bank_transaction_code": code}
    return_info = line.find("RtrInf")
    return_reason = _text(line, "RtrInf/Rsn/Cd") or _text(line, "RtrInf/Rsn/Prtry")
    remittance = _texts(line, "RmtInf/Ustrd", verbatim=True) + _texts(line, "RmtInf/Strd/AddtlRmtInf")
    references = _texts(line, "RmtInf/Strd/CdtrRefInf/Ref") + _texts(line, "RmtInf/Strd/RfrdDocInf/Nb")
    if not remittance and not references:
        remittance = _texts(line, "AddtlTxInf")
    end_to_end = _text(line, "Refs/EndToEndId")
    return {
        "reversal": returned or return_info is not None,
        "return_reason": return_reason,
        "end_to_end_id": None if end_to_end and end_to_end.upper() == _NOT_PROVIDED else end_to_end,
        "instruction_id": _text(line, "Refs/InstrId"),
        "transaction_id": _text(line, "Refs/TxId"),
        "mandate_id": _text(line, "Refs/MndtId"),
        "uetr": _text(line, "Refs/UETR"),
        "debtor_name": _text(line, "RltdPties/Dbtr/Nm") or _text(line, "RltdPties/Dbtr/Pty/Nm"),
        "debtor_iban": _iban(line, "RltdPties/DbtrAcct/Id/IBAN"),
        "debtor_account": _text(line, "RltdPties/DbtrAcct/Id/Othr/Id"),
        "remittance_lines": remittance,
        "structured_references": references,
        "bank_transaction_code": code,
    }


def _instructed(element: Element | None, currency: str) -> Decimal | None:
    found = element.find("AmtDtls/InstdAmt/Amt") if element is not None else None
    if found is None:
        return None
    amount, instructed_currency = _money(found, "AmtDtls/InstdAmt/Amt")
    return amount if instructed_currency == currency else None


def _bank_transaction_code(element: Element) -> str | None:
    domain = _text(element, "BkTxCd/Domn/Cd")
    family = _text(element, "BkTxCd/Domn/Fmly/Cd")
    sub_family = _text(element, "BkTxCd/Domn/Fmly/SubFmlyCd")
    if domain and family and sub_family:
        return f"{domain}/{family}/{sub_family}"
    return _text(element, "BkTxCd/Prtry/Cd")


def _is_return_code(code: str | None) -> bool:
    if code is None:
        return False
    parts = code.split("/")
    return len(parts) == 3 and parts[0] == "PMNT" and parts[2] in _RETURN_SUB_FAMILIES


def _money(element: Element, what: str) -> tuple[Decimal, str]:
    text = (element.text or "").strip()
    if not _AMOUNT.fullmatch(text):
        raise _Malformed(f"{what} '{text}' is not an amount (digits with an optional '.' and decimals)")
    currency = element.get("Ccy")
    if currency is None or not _CURRENCY.fullmatch(currency):
        raise _Malformed(f"{what} currency {currency!r} is not a three-letter ISO 4217 code")
    value = Decimal(text)
    digits = total_digits(value)
    if digits > _MAX_TOTAL_DIGITS:
        raise _Malformed(
            f"{what} '{text}' has {digits} digits; an ISO 20022 amount has at most {_MAX_TOTAL_DIGITS} "
            "(leading zeros and trailing decimal zeros not counted)"
        )
    try:
        return quantize_to_currency(value, currency), currency
    except AmountError as err:
        raise _Malformed(f"{what} '{text}': {err}") from None


def _direction(indicator: str | None, whose: str) -> Direction:
    if indicator is None:
        raise _Malformed(f"{whose} has no CdtDbtInd (credit or debit)")
    try:
        return _DIRECTIONS[indicator]
    except KeyError:
        raise _Malformed(f"{whose} has CdtDbtInd '{indicator}'; expected CRDT or DBIT") from None


def _status(entry: Element) -> EntryStatus:
    status = entry.find("Sts")
    if status is None:
        raise _Malformed("the entry has no Sts (status)")
    # Up to v04 the code is the element's text; later versions wrap it as <Sts><Cd>BOOK</Cd></Sts>.
    code = _text(status, "Cd") or _text(status, "Prtry") or (status.text or "").strip()
    try:
        return _STATUSES[code]
    except KeyError:
        raise _Malformed(f"unknown entry status '{code}'; expected BOOK, PDNG, FUTR or INFO") from None


def _date(entry: Element, name: str) -> date | None:
    container = entry.find(name)
    if container is None:
        return None
    text = _text(container, "Dt") or _text(container, "DtTm") or ""
    if match := _DATE.fullmatch(text):
        try:
            return date.fromisoformat(match[1])
        except ValueError:
            pass  # shaped like a date but not one (2024-02-30): same answer as any other bad date
    raise _Malformed(f"{name} '{text}' is not a date (Dt YYYY-MM-DD or DtTm YYYY-MM-DDThh:mm:ss)")


def _iban(element: Element, path: str) -> str | None:
    """An IBAN element's value in its one compact form: the schema wants it compact, yet banks write it grouped."""
    text = _text(element, path)
    return (normalise_iban(text) or None) if text else None


def _texts(element: Element, path: str, *, verbatim: bool = False) -> tuple[str, ...]:
    """Texts of all matches, blank ones left out; ``verbatim`` keeps edge spaces (wrapped remittance lines)."""
    texts = (found.text or "" for found in element.iterfind(path))
    return tuple(text if verbatim else text.strip() for text in texts if text.strip())
