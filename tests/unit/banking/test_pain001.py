"""pain.001 generation: valid against the official XSDs (both versions), counts and sums, one block per currency,
the version differences, the SEPA service level only for euros, every rejection named, and determinism."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from receivables.banking.pain001 import (
    CreditTransfer,
    Debtor,
    PayoutError,
    build_pain001,
    check_transfer,
    payment_information_ids,
)

VERSIONS = ("001.001.03", "001.001.09")
ISTANBUL = timezone(timedelta(hours=3))
CREATED_AT = datetime(2026, 12, 4, 6, 0, 5, tzinfo=ISTANBUL)
EXECUTION = date(2026, 12, 4)
TR_IBAN = "TR330006100519786457841326"
OUR_IBAN = "TR320010009999901234567890"
DE_IBAN = "DE89370400440532013000"

XSD_DIRS = (
    Path(__file__).resolve().parents[3].parent / "shared" / "bank-samples" / "xsd",
    Path("/work/shared/bank-samples/xsd"),
)


@cache
def schema(version: str) -> Any:
    xmlschema = pytest.importorskip("xmlschema")
    for directory in XSD_DIRS:
        path = directory / f"pain.{version}.xsd"
        if path.is_file():
            return xmlschema.XMLSchema(str(path), allow="local")
    pytest.skip(f"official pain.{version}.xsd is not on this machine")


def transfer(**overrides: Any) -> CreditTransfer:
    values: dict[str, Any] = {
        "end_to_end_id": "CLM-2026-0001-C",
        "amount": Decimal("12500.00"),
        "currency": "TRY",
        "creditor_name": "Yıldız Oto Servis Ltd. Şti.",
        "creditor_iban": TR_IBAN,
        "creditor_bic": "TGBATRIS",
        "remittance": "Hasar CLM-2026-0001 ödemesi",
    }
    return CreditTransfer(**(values | overrides))


def build(transfers: list[CreditTransfer] | None = None, **overrides: Any) -> bytes:
    arguments: dict[str, Any] = {
        "message_id": "PO20261204-3f2a9c",
        "created_at": CREATED_AT,
        "debtor": Debtor(name="Anadolu Sigorta A.Ş.", iban=OUR_IBAN, bic="ISBKTRIS"),
        "execution_date": EXECUTION,
        "transfers": transfers
        if transfers is not None
        else [
            transfer(),
            transfer(end_to_end_id="CLM-2026-0001-W", amount=Decimal("1875.00"), creditor_bic=None),
            transfer(end_to_end_id="REF-77-R", amount=Decimal("310.40"), currency="EUR", creditor_iban=DE_IBAN),
        ],
        "version": "001.001.03",
    }
    return build_pain001(**(arguments | overrides))


class Doc:
    def __init__(self, xml: bytes):
        self.root = ET.fromstring(xml)
        self.ns = {"p": self.root.tag[1:].split("}")[0]}

    def all(self, path: str) -> list[ET.Element]:
        return self.root.findall(_prefixed(path), self.ns)

    def text(self, path: str, within: ET.Element | None = None) -> str | None:
        element = (within if within is not None else self.root).find(_prefixed(path), self.ns)
        return None if element is None else element.text


def _prefixed(path: str) -> str:
    return "/".join(f"p:{part}" for part in path.split("/"))


@pytest.mark.parametrize("version", VERSIONS)
def test_output_is_valid_against_the_official_xsd(version):
    schema(version).validate(build(version=version))


@pytest.mark.parametrize("version", VERSIONS)
def test_minimal_file_without_any_bic_or_remittance_is_valid_against_the_official_xsd(version):
    xml = build(
        [transfer(creditor_bic=None, remittance=None)],
        debtor=Debtor(name="Anadolu Sigorta", iban=OUR_IBAN),
        version=version,
    )

    schema(version).validate(xml)
    assert Doc(xml).text("CstmrCdtTrfInitn/PmtInf/DbtrAgt/FinInstnId/Othr/Id") == "NOTPROVIDED"


def test_header_counts_and_sums_every_transfer_and_names_us():
    doc = Doc(build())

    assert doc.text("CstmrCdtTrfInitn/GrpHdr/MsgId") == "PO20261204-3f2a9c"
    assert doc.text("CstmrCdtTrfInitn/GrpHdr/CreDtTm") == "2026-12-04T06:00:05+03:00"
    assert doc.text("CstmrCdtTrfInitn/GrpHdr/NbOfTxs") == "3"
    assert doc.text("CstmrCdtTrfInitn/GrpHdr/CtrlSum") == "14685.40"
    assert doc.text("CstmrCdtTrfInitn/GrpHdr/InitgPty/Nm") == "Anadolu Sigorta A.S."


def test_one_block_per_currency_in_currency_order_each_with_its_own_count_and_sum():
    doc = Doc(build())

    blocks = doc.all("CstmrCdtTrfInitn/PmtInf")
    assert [doc.text("PmtInfId", b) for b in blocks] == ["PO20261204-3f2a9c-1", "PO20261204-3f2a9c-2"]
    assert [doc.text("NbOfTxs", b) for b in blocks] == ["1", "2"]  # EUR before TRY
    assert [doc.text("CtrlSum", b) for b in blocks] == ["310.40", "14375.00"]
    assert [doc.text("PmtMtd", b) for b in blocks] == ["TRF", "TRF"]
    assert [doc.text("ChrgBr", b) for b in blocks] == ["SLEV", "SLEV"]
    euro, lira = blocks
    assert doc.text("PmtTpInf/SvcLvl/Cd", euro) == "SEPA"
    assert doc.text("PmtTpInf/SvcLvl/Cd", lira) is None  # an EFT in lira is not a SEPA payment
    assert [e.text for e in lira.findall("p:CdtTrfTxInf/p:PmtId/p:EndToEndId", doc.ns)] == [
        "CLM-2026-0001-C",
        "CLM-2026-0001-W",
    ]


def test_payment_information_ids_number_blocks_as_the_file_does():
    assert payment_information_ids("PO1", {"A-C": "TRY", "B-C": "EUR", "C-C": "TRY"}) == {
        "A-C": "PO1-2",
        "B-C": "PO1-1",
        "C-C": "PO1-2",
    }


def test_execution_date_is_plain_in_03_and_a_choice_in_09():
    assert Doc(build(version="001.001.03")).text("CstmrCdtTrfInitn/PmtInf/ReqdExctnDt") == "2026-12-04"
    assert Doc(build(version="001.001.09")).text("CstmrCdtTrfInitn/PmtInf/ReqdExctnDt/Dt") == "2026-12-04"


@pytest.mark.parametrize(("version", "element"), [("001.001.03", "BIC"), ("001.001.09", "BICFI")])
def test_agent_bic_element_follows_the_version(version, element):
    doc = Doc(build(version=version))

    assert doc.text(f"CstmrCdtTrfInitn/PmtInf/DbtrAgt/FinInstnId/{element}") == "ISBKTRIS"
    lira = doc.all("CstmrCdtTrfInitn/PmtInf")[1]
    first, second = lira.findall("p:CdtTrfTxInf", doc.ns)
    assert doc.text(f"CdtrAgt/FinInstnId/{element}", first) == "TGBATRIS"
    assert first.find("p:CdtrAgt", doc.ns) is not None
    assert second.find("p:CdtrAgt", doc.ns) is None  # unknown BIC: the IBAN says which bank


def test_names_and_remittance_are_made_sepa_safe_identifiers_are_not_touched():
    doc = Doc(build())
    lira = doc.all("CstmrCdtTrfInitn/PmtInf")[1]

    assert doc.text("CdtTrfTxInf/Cdtr/Nm", lira) == "Yildiz Oto Servis Ltd. Sti."
    assert doc.text("CdtTrfTxInf/RmtInf/Ustrd", lira) == "Hasar CLM-2026-0001 odemesi"
    assert doc.text("CdtTrfTxInf/CdtrAcct/Id/IBAN", lira) == TR_IBAN


def test_iban_written_compact_whatever_the_input_spacing():
    xml = build([transfer(creditor_iban="tr33 0006 1005 1978 6457 8413 26")])

    assert Doc(xml).text("CstmrCdtTrfInitn/PmtInf/CdtTrfTxInf/CdtrAcct/Id/IBAN") == TR_IBAN


def test_same_input_same_bytes():
    assert build() == build()


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("creditor_iban", "TR330006100519786457841327", "not a valid IBAN"),
        ("creditor_bic", "NOTABIC", "not a valid BIC"),
        ("end_to_end_id", "CLM 1-C", "outside the SEPA identifier set"),
        ("end_to_end_id", "X" * 36, "at most 35"),
        ("amount", Decimal("10.005"), "more than 2 decimals"),
        ("amount", Decimal("0"), "greater than 0"),
        ("currency", "TL", "not an ISO 4217 currency code"),
        ("creditor_name", "☃☃", "no characters left"),
    ],
)
def test_each_broken_rule_is_named_with_the_transfer_and_field(field, value, problem):
    bad = transfer(**{field: value})

    with pytest.raises(PayoutError, match=problem) as caught:
        check_transfer(bad, index=4)

    assert caught.value.field == field
    assert caught.value.index == 4
    assert str(caught.value).startswith(f"transfers[4] (EndToEndId {bad.end_to_end_id!r}): {field}:")


def test_a_bic_must_fit_the_version_schema():
    # digits in the location code's first position: ISO 9362:2014 allows it, the 2009 schema of .03 does not
    bic = "DEUTDE1FXXX"
    check_transfer(transfer(creditor_bic=bic), version="001.001.09")
    with pytest.raises(PayoutError, match=r"pain\.001\.001\.03 BIC pattern"):
        check_transfer(transfer(creditor_bic=bic), version="001.001.03")


def test_message_rules_duplicate_ids_past_dates_naive_times_no_transfers():
    with pytest.raises(PayoutError, match=r"transfers\[1\].*already used by transfers\[0\]"):
        build([transfer(), transfer()])
    with pytest.raises(PayoutError, match="before the message creation date"):
        build(execution_date=date(2026, 12, 3))
    with pytest.raises(PayoutError, match="no timezone"):
        build(created_at=datetime(2026, 12, 4, 6, 0))
    with pytest.raises(PayoutError, match="at least one transfer"):
        build([])
    with pytest.raises(PayoutError, match=r"debtor\.iban"):
        build(debtor=Debtor(name="Us", iban="TR00"))


def test_a_float_amount_is_a_caller_bug():
    with pytest.raises(ValidationError, match="not a float"):
        transfer(amount=10.5)


@pytest.mark.parametrize("version", VERSIONS)
def test_declaration_and_namespace(version):
    xml = build(version=version)

    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Document ')
    assert Doc(xml).root.tag == f"{{urn:iso:std:iso:20022:tech:xsd:pain.{version}}}Document"
