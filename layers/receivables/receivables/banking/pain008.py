"""ISO 20022 pain.008 (customer direct debit initiation, SEPA Core/B2B style) written as XML bytes.

Versions ``001.02`` and ``001.08`` are written; they differ here only in the agent BIC element (``BIC`` vs
``BICFI``) and in which BIC shapes the schema accepts. Element order follows the XSD sequences.

Choices where the standard or the banks leave room:

* Errors. The pydantic models check types only (a float amount, a missing field, an unknown sequence type); every
  rule of the scheme is checked by :func:`check_instruction` / :func:`build_pain008`, which raise
  :class:`DirectDebitError` naming the instruction (position and EndToEndId) and the field. pydantic would wrap our
  own exception in a ``ValidationError`` and lose that context, and a use case needs it to set one bad mandate aside
  and still collect the rest.
* Text (names, remittance) is made to fit the EPC basic character set rather than rejected: Turkish and other Latin
  letters lose their accents (``Ş`` → ``S``, ``ı`` → ``i``, ``ß`` → ``ss``), ``&`` becomes ``+``, typographic quotes
  and dashes their ASCII forms, anything else a space; spaces are collapsed and the text cut to the EPC length
  (names 70, remittance 140). A name that cleans to nothing is an error; a remittance that does is left out.
* Identifiers (MsgId, PmtInfId, EndToEndId, MndtId, creditor scheme id) are never altered: they come back in pain.002
  and camt.054 and must match what we stored. They must be 1–35 characters of the SEPA set without spaces (banks
  disagree about spaces in references), must not start or end with ``/`` and must not contain ``//``.
* IBAN and BIC are checked with schwifty and written in their compact upper-case form (``tr33 0006 …`` is the same
  account as ``TR330006…``); a BIC must also match the version's XSD pattern.
* Amounts: a ``Decimal`` > 0 whose value has at most 2 decimals (``1.230`` is accepted, ``1.234`` is not), within
  the schema's 18 digits. The currency is any billable ISO 4217 code: Turkish banks use this message for TRY.
* One ``PmtInf`` per (collection date, sequence type, currency), ordered by date, then FRST, RCUR, FNAL, OOFF, then
  currency, numbered ``<MsgId>-1``, ``<MsgId>-2``…; transactions keep their input order. Same input, same bytes.
  :func:`payment_information_ids` gives the same numbering to callers. The header ``CtrlSum`` adds every amount
  whatever its currency, as ISO defines it.
* EndToEndIds must be unique within the message: pain.002 status reports and returns are matched back by
  ``OrgnlEndToEndId``.
* The mandate must be signed no later than the collection date, and a collection cannot be requested for a day
  before the message's creation date (in the creation timestamp's own offset). Bank-specific lead times (D-1, D-5)
  are not checked here: they belong to the bank profile.
* ``CdtrSchmeId`` is written once per ``PmtInf`` (EPC recommendation), never per transaction. An agent without a
  BIC is written ``Othr/Id`` = ``NOTPROVIDED``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Context, Decimal, Inexact, InvalidOperation, localcontext
from enum import StrEnum
from typing import Any, Literal
from xml.etree.ElementTree import Element, SubElement, indent, tostring

from pydantic import BaseModel, ConfigDict, field_validator
from schwifty import BIC, IBAN

from receivables.domain.money import CENT, is_currency

__all__ = [
    "Creditor",
    "DirectDebitError",
    "DirectDebitInstruction",
    "Pain008Version",
    "SequenceType",
    "build_pain008",
    "check_instruction",
    "payment_information_ids",
    "sepa_text",
]

Pain008Version = Literal["001.02", "001.08"]

NAME_MAX_LENGTH = 70  # EPC limit; the XSD would allow 140
REMITTANCE_MAX_LENGTH = 140
ID_MAX_LENGTH = 35
# ActiveOrHistoricCurrencyAndAmount and DecimalNumber allow 18 digits in total; with 2 decimals that leaves 16.
_MAX_AMOUNT = Decimal("9999999999999999.99")

_NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.008.{version}"
_BIC_ELEMENT = {"001.02": "BIC", "001.08": "BICFI"}
# The two schemas disagree on BIC shape: ISO 9362:2014 (used by .08) allows digits in the bank code, the 2009 one
# (.02) forbids 0/1 as the first location character and O as the second. A BIC must fit the schema it is sent in.
_BIC_PATTERN = {
    "001.02": re.compile(r"[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?"),
    "001.08": re.compile(r"[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?"),
}
_NOT_PROVIDED = "NOTPROVIDED"

_SEPA_ID = re.compile(r"[A-Za-z0-9/\-?:().,'+]+")
_NOT_SEPA_TEXT = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")
_SPACES = re.compile(r" {2,}")
_CURRENCY = re.compile(r"[A-Z]{3}")

# Letters NFKD does not decompose into ASCII, and punctuation whose meaning survives as a SEPA character.
_TRANSLITERATION = str.maketrans(
    {
        "ı": "i",
        "İ": "I",
        "ß": "ss",
        "ẞ": "SS",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ø": "o",
        "Ø": "O",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "þ": "th",
        "Þ": "TH",
        "ł": "l",
        "Ł": "L",
        "ħ": "h",
        "Ħ": "H",
        "&": "+",
        "‘": "'",
        "’": "'",
        "‚": "'",
        "`": "'",
        "´": "'",
        "‐": "-",
        "‑": "-",
        "–": "-",
        "—": "-",
    }
)


class SequenceType(StrEnum):
    FIRST = "FRST"
    RECURRING = "RCUR"
    FINAL = "FNAL"
    ONE_OFF = "OOFF"


# The order PmtInf blocks are written in for one collection date: the mandate's life cycle, one-offs last.
_SEQUENCE_ORDER = {sequence: position for position, sequence in enumerate(SequenceType)}


class DirectDebitError(ValueError):
    """Input that cannot become a valid pain.008; says which instruction (if any) and which field."""

    def __init__(self, problem: str, *, field: str, index: int | None = None, end_to_end_id: str | None = None):
        self.field = field
        self.index = index
        self.end_to_end_id = end_to_end_id
        if index is not None:
            where = f"instructions[{index}] (EndToEndId {end_to_end_id!r}): "
        elif end_to_end_id is not None:
            where = f"instruction with EndToEndId {end_to_end_id!r}: "
        else:
            where = ""
        super().__init__(f"{where}{field}: {problem}")


class Creditor(BaseModel):
    """Us, as the party collecting: the account the money goes to and the SEPA creditor identifier."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    iban: str
    bic: str | None = None
    creditor_scheme_id: str


class DirectDebitInstruction(BaseModel):
    """One collection from one debtor under one mandate."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    end_to_end_id: str
    mandate_id: str
    mandate_date: date
    debtor_name: str
    debtor_iban: str
    debtor_bic: str | None = None
    amount: Decimal
    currency: str
    remittance: str | None = None
    sequence_type: SequenceType = SequenceType.RECURRING
    collection_date: date

    @field_validator("amount", mode="before")
    @classmethod
    def _not_float(cls, value: Any) -> Any:
        # pydantic would turn 0.1 into Decimal('0.1000000000000000055511151231257827'); a float here is a caller bug.
        if isinstance(value, float | bool):
            raise ValueError("amount must be a Decimal, an int or a decimal string, not a float")
        return value


def sepa_text(text: str, max_length: int) -> str:
    """``text`` in the EPC basic character set, spaces collapsed, cut to ``max_length`` (may return ``''``)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATION))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    cleaned = _SPACES.sub(" ", _NOT_SEPA_TEXT.sub(" ", bare)).strip()
    return cleaned[:max_length].rstrip()


@dataclass(frozen=True, slots=True)
class _Where:
    """Which instruction a check is about; neither index nor id for the message header and the creditor."""

    index: int | None = None
    end_to_end_id: str | None = None

    def error(self, field: str, problem: str) -> DirectDebitError:
        return DirectDebitError(problem, field=field, index=self.index, end_to_end_id=self.end_to_end_id)


_MESSAGE = _Where()


def _check_id(value: str, field: str, where: _Where = _MESSAGE) -> str:
    if not value:
        raise where.error(field, "must not be empty")
    if len(value) > ID_MAX_LENGTH:
        raise where.error(field, f"{value!r} is {len(value)} characters; at most {ID_MAX_LENGTH} are allowed")
    if not _SEPA_ID.fullmatch(value):
        bad = sorted({char for char in value if not _SEPA_ID.fullmatch(char)})
        raise where.error(
            field, f"{value!r} has characters outside the SEPA identifier set (A-Z a-z 0-9 / - ? : ( ) . , ' +): {bad}"
        )
    if value.startswith("/") or value.endswith("/") or "//" in value:
        raise where.error(field, f"{value!r} must not start or end with '/' nor contain '//'")
    return value


def _check_iban(value: str, field: str, where: _Where = _MESSAGE) -> str:
    try:
        return IBAN(value).compact
    except ValueError as error:  # schwifty's exceptions are ValueErrors that say what is wrong
        raise where.error(field, f"{value!r} is not a valid IBAN ({error})") from None


def _check_bic(value: str | None, version: Pain008Version, field: str, where: _Where = _MESSAGE) -> str | None:
    if value is None:
        return None
    try:
        compact = BIC(value).compact
    except ValueError as error:
        raise where.error(field, f"{value!r} is not a valid BIC ({error})") from None
    if not _BIC_PATTERN[version].fullmatch(compact):
        raise where.error(field, f"{value!r} does not fit the pain.008.{version} BIC pattern")
    return compact


def _check_name(value: str, field: str, where: _Where = _MESSAGE) -> str:
    cleaned = sepa_text(value, NAME_MAX_LENGTH)
    if not cleaned:
        raise where.error(field, f"{value!r} has no characters left in the SEPA character set")
    return cleaned


@dataclass(frozen=True, slots=True)
class _Transaction:
    """An instruction after checking: every value exactly as it will be written."""

    end_to_end_id: str
    mandate_id: str
    mandate_date: date
    debtor_name: str
    debtor_iban: str
    debtor_bic: str | None
    amount: Decimal
    currency: str
    remittance: str
    sequence_type: SequenceType
    collection_date: date


def _exact_context() -> AbstractContextManager[Context]:
    # A caller's decimal context with low precision would round sums silently; ours traps instead.
    context = Context(prec=40, traps=[Inexact, InvalidOperation])
    return localcontext(context)


def _to_cents(amount: Decimal) -> Decimal | None:
    """``amount`` with exactly 2 decimals, or None when that would drop a digit (``1.230`` is fine, ``1.234`` not)."""
    with _exact_context():
        try:
            return amount.quantize(CENT)
        except Inexact:
            return None


def _checked(instruction: DirectDebitInstruction, version: Pain008Version, index: int | None) -> _Transaction:
    where = _Where(index, instruction.end_to_end_id)
    _check_id(instruction.end_to_end_id, "end_to_end_id", where)
    _check_id(instruction.mandate_id, "mandate_id", where)

    amount = instruction.amount
    if not amount.is_finite() or amount <= 0:
        raise where.error("amount", f"{amount} must be greater than 0")
    if amount > _MAX_AMOUNT:
        raise where.error("amount", f"{amount} is larger than the schema allows ({_MAX_AMOUNT})")
    cents = _to_cents(amount)
    if cents is None:
        raise where.error("amount", f"{amount} has more than 2 decimals")
    currency = instruction.currency
    if not (_CURRENCY.fullmatch(currency) and is_currency(currency)):
        raise where.error("currency", f"{currency!r} is not an ISO 4217 currency code")
    if instruction.mandate_date > instruction.collection_date:
        raise where.error(
            "mandate_date",
            f"mandate signed {instruction.mandate_date} is after the collection date {instruction.collection_date}",
        )

    return _Transaction(
        end_to_end_id=instruction.end_to_end_id,
        mandate_id=instruction.mandate_id,
        mandate_date=instruction.mandate_date,
        debtor_name=_check_name(instruction.debtor_name, "debtor_name", where),
        debtor_iban=_check_iban(instruction.debtor_iban, "debtor_iban", where),
        debtor_bic=_check_bic(instruction.debtor_bic, version, "debtor_bic", where),
        amount=cents,
        currency=currency,
        remittance=sepa_text(instruction.remittance or "", REMITTANCE_MAX_LENGTH),
        sequence_type=instruction.sequence_type,
        collection_date=instruction.collection_date,
    )


def check_instruction(
    instruction: DirectDebitInstruction, *, version: Pain008Version = "001.02", index: int | None = None
) -> None:
    """Raise :class:`DirectDebitError` if ``instruction`` on its own cannot be collected: lets a caller set bad
    mandates aside before building. Rules across the message (unique EndToEndIds, dates against the creation
    time) are only checked by :func:`build_pain008`."""
    _checked(instruction, version, index)


def _money(value: Decimal) -> str:
    """Every value reaching here has exactly 2 decimals already; format, never round."""
    return f"{value:f}"


def _exact_sum(amounts: Sequence[Decimal]) -> Decimal:
    with _exact_context():
        return sum(amounts, Decimal("0.00"))


def _text(parent: Element, tag: str, text: str, **attributes: str) -> Element:
    element = SubElement(parent, tag, attributes)
    element.text = text
    return element


def _path(parent: Element, path: str, text: str) -> Element:
    """``a/b/c`` under ``parent``, the last one holding ``text``: pain nests single values deeply."""
    *wrappers, leaf = path.split("/")
    for tag in wrappers:
        parent = SubElement(parent, tag)
    return _text(parent, leaf, text)


def _agent(parent: Element, tag: str, bic: str | None, version: Pain008Version) -> None:
    institution = SubElement(SubElement(parent, tag), "FinInstnId")
    if bic is None:
        _path(institution, "Othr/Id", _NOT_PROVIDED)
    else:
        _text(institution, _BIC_ELEMENT[version], bic)


def _transaction(parent: Element, tx: _Transaction, version: Pain008Version) -> None:
    info = SubElement(parent, "DrctDbtTxInf")
    _path(info, "PmtId/EndToEndId", tx.end_to_end_id)
    _text(info, "InstdAmt", _money(tx.amount), Ccy=tx.currency)
    mandate = SubElement(SubElement(info, "DrctDbtTx"), "MndtRltdInf")
    _text(mandate, "MndtId", tx.mandate_id)
    _text(mandate, "DtOfSgntr", tx.mandate_date.isoformat())
    _agent(info, "DbtrAgt", tx.debtor_bic, version)
    _path(info, "Dbtr/Nm", tx.debtor_name)
    _path(info, "DbtrAcct/Id/IBAN", tx.debtor_iban)
    if tx.remittance:
        _path(info, "RmtInf/Ustrd", tx.remittance)


_GroupKey = tuple[date, SequenceType, str]  # (collection date, sequence type, currency): one PmtInf each


def _numbered(message_id: str, keys: Iterable[_GroupKey]) -> dict[_GroupKey, str]:
    ordered = sorted(set(keys), key=lambda key: (key[0], _SEQUENCE_ORDER[key[1]], key[2]))
    return {key: f"{message_id}-{number}" for number, key in enumerate(ordered, start=1)}


def payment_information_ids(message_id: str, instructions: Iterable[DirectDebitInstruction]) -> dict[str, str]:
    """EndToEndId → the PmtInfId :func:`build_pain008` sends it under, so a caller can store or match (pain.002
    reports status per PmtInf) without repeating the grouping rule. Checks nothing: build the message for that."""
    instructions = list(instructions)
    numbered = _numbered(message_id, (_group_key(i) for i in instructions))
    return {i.end_to_end_id: numbered[_group_key(i)] for i in instructions}


def _group_key(item: DirectDebitInstruction | _Transaction) -> _GroupKey:
    return (item.collection_date, item.sequence_type, item.currency)


def build_pain008(
    message_id: str,
    created_at: datetime,
    creditor: Creditor,
    instructions: Sequence[DirectDebitInstruction],
    version: Pain008Version = "001.02",
    local_instrument: str = "CORE",
) -> bytes:
    """A complete pain.008 message (UTF-8 XML with declaration) collecting ``instructions`` for ``creditor``.

    Raises :class:`DirectDebitError` naming the instruction and field when the input breaks a scheme rule."""
    if version not in _BIC_ELEMENT:
        raise _MESSAGE.error("version", f"{version!r} is not one of {sorted(_BIC_ELEMENT)}")
    _check_id(message_id, "message_id")
    _check_id(local_instrument, "local_instrument")
    if created_at.utcoffset() is None:
        raise _MESSAGE.error("created_at", f"{created_at.isoformat()} has no timezone; pass an aware datetime")
    if not instructions:
        raise _MESSAGE.error("instructions", "a pain.008 needs at least one instruction")

    creditor_name = _check_name(creditor.name, "creditor.name")
    creditor_iban = _check_iban(creditor.iban, "creditor.iban")
    creditor_bic = _check_bic(creditor.bic, version, "creditor.bic")
    scheme_id = _check_id(creditor.creditor_scheme_id, "creditor.creditor_scheme_id")

    groups: dict[_GroupKey, list[_Transaction]] = {}
    first_use: dict[str, int] = {}
    for index, instruction in enumerate(instructions):
        tx = _checked(instruction, version, index)
        where = _Where(index, tx.end_to_end_id)
        if (earlier := first_use.get(tx.end_to_end_id)) is not None:
            raise where.error(
                "end_to_end_id", f"already used by instructions[{earlier}]; a status report could not tell them apart"
            )
        first_use[tx.end_to_end_id] = index
        if tx.collection_date < created_at.date():
            raise where.error(
                "collection_date", f"{tx.collection_date} is before the message creation date {created_at.date()}"
            )
        groups.setdefault(_group_key(tx), []).append(tx)

    longest_suffix = len(f"-{len(groups)}")
    if len(message_id) + longest_suffix > ID_MAX_LENGTH:
        raise _MESSAGE.error(
            "message_id",
            f"{message_id!r} is {len(message_id)} characters; with {len(groups)} payment blocks the PmtInfId "
            f"{message_id}-{len(groups)} would exceed {ID_MAX_LENGTH} (use at most {ID_MAX_LENGTH - longest_suffix})",
        )

    all_amounts = [tx.amount for group in groups.values() for tx in group]
    total = _exact_sum(all_amounts)
    if total > _MAX_AMOUNT:
        raise _MESSAGE.error("instructions", f"the control sum {total} is larger than the schema allows")

    document = Element("Document", {"xmlns": _NAMESPACE.format(version=version)})
    initiation = SubElement(document, "CstmrDrctDbtInitn")
    header = SubElement(initiation, "GrpHdr")
    _text(header, "MsgId", message_id)
    _text(header, "CreDtTm", created_at.isoformat(timespec="seconds"))
    _text(header, "NbOfTxs", str(len(all_amounts)))
    _text(header, "CtrlSum", _money(total))
    _path(header, "InitgPty/Nm", creditor_name)

    for key, payment_information_id in _numbered(message_id, groups).items():
        collection_date, sequence_type, _currency = key
        transactions = groups[key]
        block = SubElement(initiation, "PmtInf")
        _text(block, "PmtInfId", payment_information_id)
        _text(block, "PmtMtd", "DD")
        _text(block, "BtchBookg", "true")
        _text(block, "NbOfTxs", str(len(transactions)))
        _text(block, "CtrlSum", _money(_exact_sum([tx.amount for tx in transactions])))
        payment_type = SubElement(block, "PmtTpInf")
        _path(payment_type, "SvcLvl/Cd", "SEPA")
        _path(payment_type, "LclInstrm/Cd", local_instrument)
        _text(payment_type, "SeqTp", sequence_type.value)
        _text(block, "ReqdColltnDt", collection_date.isoformat())
        _path(block, "Cdtr/Nm", creditor_name)
        _path(block, "CdtrAcct/Id/IBAN", creditor_iban)
        _agent(block, "CdtrAgt", creditor_bic, version)
        _text(block, "ChrgBr", "SLEV")
        scheme = SubElement(SubElement(SubElement(SubElement(block, "CdtrSchmeId"), "Id"), "PrvtId"), "Othr")
        _text(scheme, "Id", scheme_id)
        _path(scheme, "SchmeNm/Prtry", "SEPA")
        for tx in transactions:
            _transaction(block, tx, version)

    indent(document, space="  ")
    body = tostring(document, encoding="unicode")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body.encode("utf-8") + b"\n"
