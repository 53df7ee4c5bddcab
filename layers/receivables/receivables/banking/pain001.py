"""ISO 20022 pain.001 (customer credit transfer initiation) written as XML bytes: how we pay claims, commissions,
refunds and withholding out of our own bank account.

Versions ``001.001.03`` (what most Turkish and SEPA banks still take) and ``001.001.09`` are written. They differ
here in the agent BIC element (``BIC`` vs ``BICFI``), the BIC shapes the schema accepts and the requested execution
date (a plain date in .03, ``<Dt>`` inside a choice in .09). Element order follows the XSD sequences.

The rules are those of the pain.008 writer (:mod:`receivables.banking.initiation`): names and remittance made to fit
the EPC character set, identifiers refused rather than altered (the EndToEndId is the payable's id and comes back
in pain.002 and in the statement's debit booking), IBANs and BICs checked with schwifty, amounts exact to the cent.
Then, for transfers:

* One ``PmtInf`` per currency, in currency order, numbered ``<MsgId>-1``, ``<MsgId>-2``…; transfers keep their input
  order. Same input, same bytes. The service level is ``SEPA`` only for a EUR block: a TRY transfer through a
  Turkish bank's EFT is not a SEPA payment, and banks refuse the code there.
* ``ChrgBr`` is ``SLEV`` (each side pays its own bank, the scheme's rule) once per block.
* The execution date cannot be before the message's creation date (in the creation timestamp's own offset).
* A creditor agent without a BIC is left out (the IBAN identifies the bank, and the element is optional); our own
  bank without a BIC is written ``Othr/Id`` = ``NOTPROVIDED`` (the debtor agent is mandatory).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
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
    "CreditTransfer",
    "Debtor",
    "Pain001Version",
    "PayoutError",
    "build_pain001",
    "check_transfer",
    "payment_information_ids",
]

Pain001Version = Literal["001.001.03", "001.001.09"]

_NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.{version}"
_BIC_ELEMENT = {"001.001.03": "BIC", "001.001.09": "BICFI"}
_BIC_PATTERN = {"001.001.03": BIC_2009, "001.001.09": BIC_2014}


class PayoutError(InitiationError):
    """Input that cannot become a valid pain.001; says which transfer (if any) and which field."""

    items = "transfers"
    item = "transfer"


_MESSAGE = Where(PayoutError)


class Debtor(BaseModel):
    """Us, as the party paying: the account the money leaves."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    iban: str
    bic: str | None = None


class CreditTransfer(BaseModel):
    """One payment to one creditor's account."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    end_to_end_id: str
    amount: Decimal
    currency: str
    creditor_name: str
    creditor_iban: str
    creditor_bic: str | None = None
    remittance: str | None = None

    @field_validator("amount", mode="before")
    @classmethod
    def _not_float(cls, value: Any) -> Any:
        if isinstance(value, float | bool):
            raise ValueError("amount must be a Decimal, an int or a decimal string, not a float")
        return value


@dataclass(frozen=True, slots=True)
class _Transfer:
    """A transfer after checking: every value exactly as it will be written."""

    end_to_end_id: str
    amount: Decimal
    currency: str
    creditor_name: str
    creditor_iban: str
    creditor_bic: str | None
    remittance: str


def _check_bic(value: str | None, version: Pain001Version, field: str, where: Where = _MESSAGE) -> str | None:
    return check_bic(value, _BIC_PATTERN[version], f"pain.{version}", field, where)


def _checked(transfer: CreditTransfer, version: Pain001Version, index: int | None) -> _Transfer:
    where = Where(PayoutError, index, transfer.end_to_end_id)
    return _Transfer(
        end_to_end_id=check_id(transfer.end_to_end_id, "end_to_end_id", where),
        amount=check_amount(transfer.amount, transfer.currency, where),
        currency=transfer.currency,
        creditor_name=check_name(transfer.creditor_name, "creditor_name", where),
        creditor_iban=check_iban(transfer.creditor_iban, "creditor_iban", where),
        creditor_bic=_check_bic(transfer.creditor_bic, version, "creditor_bic", where),
        remittance=sepa_text(transfer.remittance or "", REMITTANCE_MAX_LENGTH),
    )


def check_transfer(
    transfer: CreditTransfer, *, version: Pain001Version = "001.001.03", index: int | None = None
) -> None:
    """Raise :class:`PayoutError` if ``transfer`` on its own cannot be sent: lets a caller set a bad payee aside
    before building. Rules across the message (unique EndToEndIds, the date) are checked by :func:`build_pain001`."""
    _checked(transfer, version, index)


def payment_information_ids(message_id: str, currency_of: Mapping[str, str]) -> dict[str, str]:
    """EndToEndId → the PmtInfId :func:`build_pain001` sends it under (one block per currency, in currency order),
    given each EndToEndId's currency: pain.002 may report a status per block."""
    number = {currency: n for n, currency in enumerate(sorted(set(currency_of.values())), start=1)}
    return {e2e: f"{message_id}-{number[currency]}" for e2e, currency in currency_of.items()}


def _transfer(parent: Element, tx: _Transfer, version: Pain001Version) -> None:
    info = SubElement(parent, "CdtTrfTxInf")
    path(info, "PmtId/EndToEndId", tx.end_to_end_id)
    text(SubElement(info, "Amt"), "InstdAmt", money(tx.amount), Ccy=tx.currency)
    if tx.creditor_bic is not None:
        agent(info, "CdtrAgt", tx.creditor_bic, _BIC_ELEMENT[version])
    path(info, "Cdtr/Nm", tx.creditor_name)
    path(info, "CdtrAcct/Id/IBAN", tx.creditor_iban)
    if tx.remittance:
        path(info, "RmtInf/Ustrd", tx.remittance)


def build_pain001(
    *,
    message_id: str,
    created_at: datetime,
    debtor: Debtor,
    execution_date: date,
    transfers: Sequence[CreditTransfer],
    version: Pain001Version = "001.001.03",
) -> bytes:
    """A complete pain.001 message (UTF-8 XML with declaration) paying ``transfers`` from ``debtor``'s account.

    Raises :class:`PayoutError` naming the transfer and field when the input breaks a scheme rule."""
    if version not in _BIC_ELEMENT:
        raise _MESSAGE.error("version", f"{version!r} is not one of {sorted(_BIC_ELEMENT)}")
    check_id(message_id, "message_id", _MESSAGE)
    if created_at.utcoffset() is None:
        raise _MESSAGE.error("created_at", f"{created_at.isoformat()} has no timezone; pass an aware datetime")
    if execution_date < created_at.date():
        raise _MESSAGE.error(
            "execution_date", f"{execution_date} is before the message creation date {created_at.date()}"
        )
    if not transfers:
        raise _MESSAGE.error("transfers", "a pain.001 needs at least one transfer")

    debtor_name = check_name(debtor.name, "debtor.name", _MESSAGE)
    debtor_iban = check_iban(debtor.iban, "debtor.iban", _MESSAGE)
    debtor_bic = _check_bic(debtor.bic, version, "debtor.bic")

    blocks: dict[str, list[_Transfer]] = {}
    first_use: dict[str, int] = {}
    for index, transfer in enumerate(transfers):
        tx = _checked(transfer, version, index)
        if (earlier := first_use.get(tx.end_to_end_id)) is not None:
            raise Where(PayoutError, index, tx.end_to_end_id).error(
                "end_to_end_id", f"already used by transfers[{earlier}]; a status report could not tell them apart"
            )
        first_use[tx.end_to_end_id] = index
        blocks.setdefault(tx.currency, []).append(tx)

    check_payment_information_ids(message_id, len(blocks), _MESSAGE)
    all_amounts = [tx.amount for block in blocks.values() for tx in block]
    total = exact_sum(all_amounts)
    if total > MAX_AMOUNT:
        raise _MESSAGE.error("transfers", f"the control sum {total} is larger than the schema allows")

    document = Element("Document", {"xmlns": _NAMESPACE.format(version=version)})
    initiation = SubElement(document, "CstmrCdtTrfInitn")
    header = SubElement(initiation, "GrpHdr")
    text(header, "MsgId", message_id)
    text(header, "CreDtTm", created_at.isoformat(timespec="seconds"))
    text(header, "NbOfTxs", str(len(all_amounts)))
    text(header, "CtrlSum", money(total))
    path(header, "InitgPty/Nm", debtor_name)

    for number, currency in enumerate(sorted(blocks), start=1):
        block_transfers = blocks[currency]
        block = SubElement(initiation, "PmtInf")
        text(block, "PmtInfId", f"{message_id}-{number}")
        text(block, "PmtMtd", "TRF")
        text(block, "BtchBookg", "true")
        text(block, "NbOfTxs", str(len(block_transfers)))
        text(block, "CtrlSum", money(exact_sum([tx.amount for tx in block_transfers])))
        if currency == "EUR":
            path(block, "PmtTpInf/SvcLvl/Cd", "SEPA")
        if version == "001.001.03":
            text(block, "ReqdExctnDt", execution_date.isoformat())
        else:
            path(block, "ReqdExctnDt/Dt", execution_date.isoformat())
        path(block, "Dbtr/Nm", debtor_name)
        path(block, "DbtrAcct/Id/IBAN", debtor_iban)
        agent(block, "DbtrAgt", debtor_bic, _BIC_ELEMENT[version])
        text(block, "ChrgBr", "SLEV")
        for tx in block_transfers:
            _transfer(block, tx, version)

    return serialised(document)
