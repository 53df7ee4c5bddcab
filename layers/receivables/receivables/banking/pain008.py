"""ISO 20022 pain.008 (customer direct debit initiation, SEPA Core/B2B style) written as XML bytes.

Versions ``001.02`` and ``001.08`` are written; they differ here only in the agent BIC element (``BIC`` vs
``BICFI``) and in which BIC shapes the schema accepts. Element order follows the XSD sequences.

Choices where the standard or the banks leave room (the checks and text rules are shared with pain.001, in
:mod:`receivables.banking.initiation`):

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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal
from xml.etree.ElementTree import Element, SubElement

from pydantic import BaseModel, ConfigDict, field_validator

from receivables.banking.initiation import (
    BIC_2009,
    BIC_2014,
    MAX_AMOUNT,
    REMITTANCE_MAX_LENGTH,
    InitiationError,
    Where,
    agent,
    check_amount,
    check_bic,
    check_iban,
    check_id,
    check_name,
    check_payment_information_ids,
    exact_sum,
    money,
    path,
    sepa_text,
    serialised,
    text,
)

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

_NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.008.{version}"
_BIC_ELEMENT = {"001.02": "BIC", "001.08": "BICFI"}
_BIC_PATTERN = {"001.02": BIC_2009, "001.08": BIC_2014}


class SequenceType(StrEnum):
    FIRST = "FRST"
    RECURRING = "RCUR"
    FINAL = "FNAL"
    ONE_OFF = "OOFF"


# The order PmtInf blocks are written in for one collection date: the mandate's life cycle, one-offs last.
_SEQUENCE_ORDER = {sequence: position for position, sequence in enumerate(SequenceType)}


class DirectDebitError(InitiationError):
    """Input that cannot become a valid pain.008; says which instruction (if any) and which field."""


_MESSAGE = Where(DirectDebitError)


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


def _checked(instruction: DirectDebitInstruction, version: Pain008Version, index: int | None) -> _Transaction:
    where = Where(DirectDebitError, index, instruction.end_to_end_id)
    check_id(instruction.end_to_end_id, "end_to_end_id", where)
    check_id(instruction.mandate_id, "mandate_id", where)
    cents = check_amount(instruction.amount, instruction.currency, where)
    if instruction.mandate_date > instruction.collection_date:
        raise where.error(
            "mandate_date",
            f"mandate signed {instruction.mandate_date} is after the collection date {instruction.collection_date}",
        )

    return _Transaction(
        end_to_end_id=instruction.end_to_end_id,
        mandate_id=instruction.mandate_id,
        mandate_date=instruction.mandate_date,
        debtor_name=check_name(instruction.debtor_name, "debtor_name", where),
        debtor_iban=check_iban(instruction.debtor_iban, "debtor_iban", where),
        debtor_bic=_check_bic(instruction.debtor_bic, version, "debtor_bic", where),
        amount=cents,
        currency=instruction.currency,
        remittance=sepa_text(instruction.remittance or "", REMITTANCE_MAX_LENGTH),
        sequence_type=instruction.sequence_type,
        collection_date=instruction.collection_date,
    )


def _check_bic(value: str | None, version: Pain008Version, field: str, where: Where = _MESSAGE) -> str | None:
    return check_bic(value, _BIC_PATTERN[version], f"pain.008.{version}", field, where)


def check_instruction(
    instruction: DirectDebitInstruction, *, version: Pain008Version = "001.02", index: int | None = None
) -> None:
    """Raise :class:`DirectDebitError` if ``instruction`` on its own cannot be collected: lets a caller set bad
    mandates aside before building. Rules across the message (unique EndToEndIds, dates against the creation
    time) are only checked by :func:`build_pain008`."""
    _checked(instruction, version, index)


def _transaction(parent: Element, tx: _Transaction, version: Pain008Version) -> None:
    info = SubElement(parent, "DrctDbtTxInf")
    path(info, "PmtId/EndToEndId", tx.end_to_end_id)
    text(info, "InstdAmt", money(tx.amount), Ccy=tx.currency)
    mandate = SubElement(SubElement(info, "DrctDbtTx"), "MndtRltdInf")
    text(mandate, "MndtId", tx.mandate_id)
    text(mandate, "DtOfSgntr", tx.mandate_date.isoformat())
    agent(info, "DbtrAgt", tx.debtor_bic, _BIC_ELEMENT[version])
    path(info, "Dbtr/Nm", tx.debtor_name)
    path(info, "DbtrAcct/Id/IBAN", tx.debtor_iban)
    if tx.remittance:
        path(info, "RmtInf/Ustrd", tx.remittance)


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
    check_id(message_id, "message_id", _MESSAGE)
    check_id(local_instrument, "local_instrument", _MESSAGE)
    if created_at.utcoffset() is None:
        raise _MESSAGE.error("created_at", f"{created_at.isoformat()} has no timezone; pass an aware datetime")
    if not instructions:
        raise _MESSAGE.error("instructions", "a pain.008 needs at least one instruction")

    creditor_name = check_name(creditor.name, "creditor.name", _MESSAGE)
    creditor_iban = check_iban(creditor.iban, "creditor.iban", _MESSAGE)
    creditor_bic = _check_bic(creditor.bic, version, "creditor.bic")
    scheme_id = check_id(creditor.creditor_scheme_id, "creditor.creditor_scheme_id", _MESSAGE)

    groups: dict[_GroupKey, list[_Transaction]] = {}
    first_use: dict[str, int] = {}
    for index, instruction in enumerate(instructions):
        tx = _checked(instruction, version, index)
        where = Where(DirectDebitError, index, tx.end_to_end_id)
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

    check_payment_information_ids(message_id, len(groups), _MESSAGE)
    all_amounts = [tx.amount for group in groups.values() for tx in group]
    total = exact_sum(all_amounts)
    if total > MAX_AMOUNT:
        raise _MESSAGE.error("instructions", f"the control sum {total} is larger than the schema allows")

    document = Element("Document", {"xmlns": _NAMESPACE.format(version=version)})
    initiation = SubElement(document, "CstmrDrctDbtInitn")
    header = SubElement(initiation, "GrpHdr")
    text(header, "MsgId", message_id)
    text(header, "CreDtTm", created_at.isoformat(timespec="seconds"))
    text(header, "NbOfTxs", str(len(all_amounts)))
    text(header, "CtrlSum", money(total))
    path(header, "InitgPty/Nm", creditor_name)

    for key, payment_information_id in _numbered(message_id, groups).items():
        collection_date, sequence_type, _currency = key
        transactions = groups[key]
        block = SubElement(initiation, "PmtInf")
        text(block, "PmtInfId", payment_information_id)
        text(block, "PmtMtd", "DD")
        text(block, "BtchBookg", "true")
        text(block, "NbOfTxs", str(len(transactions)))
        text(block, "CtrlSum", money(exact_sum([tx.amount for tx in transactions])))
        payment_type = SubElement(block, "PmtTpInf")
        path(payment_type, "SvcLvl/Cd", "SEPA")
        path(payment_type, "LclInstrm/Cd", local_instrument)
        text(payment_type, "SeqTp", sequence_type.value)
        text(block, "ReqdColltnDt", collection_date.isoformat())
        path(block, "Cdtr/Nm", creditor_name)
        path(block, "CdtrAcct/Id/IBAN", creditor_iban)
        agent(block, "CdtrAgt", creditor_bic, _BIC_ELEMENT[version])
        text(block, "ChrgBr", "SLEV")
        scheme = SubElement(SubElement(SubElement(SubElement(block, "CdtrSchmeId"), "Id"), "PrvtId"), "Othr")
        text(scheme, "Id", scheme_id)
        path(scheme, "SchmeNm/Prtry", "SEPA")
        for tx in transactions:
            _transaction(block, tx, version)

    return serialised(document)
