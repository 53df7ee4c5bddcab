"""pain.008 generation: counts and control sums, grouping into payment blocks, element order, the SEPA character set,
every rejection, determinism, and the output checked against the official ISO 20022 XSDs (when present)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Context, Decimal, localcontext
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from receivables.banking.pain008 import (
    Creditor,
    DirectDebitError,
    DirectDebitInstruction,
    SequenceType,
    build_pain008,
    check_instruction,
    payment_information_ids,
    sepa_text,
)

VERSIONS = ("001.02", "001.08")
ISTANBUL = timezone(timedelta(hours=3))
CREATED_AT = datetime(2025, 8, 19, 8, 32, 2, 987654, tzinfo=ISTANBUL)
SEPT_1 = date(2025, 9, 1)
SEPT_5 = date(2025, 9, 5)

# Valid checksums, different countries: the generator must not care which.
TR_IBAN = "TR330006100519786457841326"
DE_IBAN = "DE89370400440532013000"
GB_IBAN = "GB82WEST12345698765432"
FR_IBAN = "FR1420041010050500013M02606"

XSD_DIRS = (
    Path(__file__).resolve().parents[3].parent / "shared" / "bank-samples" / "xsd",
    Path("/work/shared/bank-samples/xsd"),
)


def creditor(**overrides: Any) -> Creditor:
    values: dict[str, Any] = {
        "name": "İstanbul Ödeme A.Ş.",
        "iban": TR_IBAN,
        "bic": "AKBKTRIS",
        "creditor_scheme_id": "DE98ZZZ09999999999",
    }
    return Creditor(**(values | overrides))


def instruction(**overrides: Any) -> DirectDebitInstruction:
    values: dict[str, Any] = {
        "end_to_end_id": "E2E-1",
        "mandate_id": "MNDT-1",
        "mandate_date": date(2024, 3, 15),
        "debtor_name": "Çağlar Şükrü Işık",
        "debtor_iban": DE_IBAN,
        "amount": Decimal("1234.56"),
        "currency": "EUR",
        "remittance": "Fatura 2025/08 ödemesi",
        "collection_date": SEPT_1,
    }
    return DirectDebitInstruction(**(values | overrides))


def batch() -> list[DirectDebitInstruction]:
    """Five collections over two dates and two sequence types, given out of block order on purpose."""
    return [
        instruction(end_to_end_id="E2E-1", amount=Decimal("1234.56"), sequence_type="RCUR", collection_date=SEPT_5),
        instruction(
            end_to_end_id="E2E-2",
            mandate_id="MNDT-2",
            debtor_name="Gülşen Öztürk",
            debtor_iban=GB_IBAN,
            debtor_bic="NWBKGB2L",
            amount=Decimal("0.01"),
            sequence_type="FRST",
            collection_date=SEPT_1,
        ),
        instruction(
            end_to_end_id="E2E-3",
            mandate_id="MNDT-3",
            debtor_name="İsmail Ağaoğlu",
            amount=Decimal("99.99"),
            sequence_type="RCUR",
            collection_date=SEPT_1,
            remittance=None,
        ),
        instruction(
            end_to_end_id="E2E-4",
            mandate_id="MNDT-4",
            debtor_name="Jürgen Weiß",
            debtor_iban=FR_IBAN,
            amount=Decimal("10"),
            sequence_type="FRST",
            collection_date=SEPT_5,
        ),
        instruction(end_to_end_id="E2E-5", mandate_id="MNDT-5", amount=Decimal("0.45"), collection_date=SEPT_1),
    ]


def build(instructions: list[DirectDebitInstruction] | None = None, **kwargs: Any) -> bytes:
    arguments: dict[str, Any] = {
        "message_id": "MSG-20250819-1",
        "created_at": CREATED_AT,
        "creditor": creditor(),
        "instructions": batch() if instructions is None else instructions,
    }
    return build_pain008(**(arguments | kwargs))


class Doc:
    """The output parsed back, with namespace-free paths."""

    def __init__(self, xml: bytes):
        self.root = ET.fromstring(xml)
        self.ns = {"p": self.root.tag[1:].split("}")[0]}

    def find(self, path: str, node: ET.Element | None = None) -> ET.Element:
        found = (self.root if node is None else node).find(self._q(path), self.ns)
        assert found is not None, path
        return found

    def text(self, path: str, node: ET.Element | None = None) -> str:
        return self.find(path, node).text or ""

    def all(self, path: str, node: ET.Element | None = None) -> list[ET.Element]:
        return (self.root if node is None else node).findall(self._q(path), self.ns)

    def children(self, node: ET.Element) -> list[str]:
        return [child.tag.split("}")[1] for child in node]

    @staticmethod
    def _q(path: str) -> str:
        return "/".join(f"p:{part}" if part not in (".", "..") else part for part in path.split("/"))


@cache
def schema(version: str) -> Any:
    xmlschema = pytest.importorskip("xmlschema")
    for directory in XSD_DIRS:
        path = directory / f"pain.008.{version}.xsd"
        if path.is_file():
            # local files only: the pain XSDs import nothing, and a unit test must never try the network
            return xmlschema.XMLSchema(str(path), allow="local")
    pytest.skip(f"official pain.008.{version}.xsd is not on this machine")


# --- the happy path ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_output_is_valid_against_the_official_xsd(version):
    xml = build(version=version)

    schema(version).validate(xml)


@pytest.mark.parametrize("version", VERSIONS)
def test_minimal_file_without_bics_or_remittance_is_valid_against_the_official_xsd(version):
    xml = build(
        [instruction(remittance=None, sequence_type="OOFF", currency="TRY", debtor_iban=TR_IBAN)],
        creditor=creditor(bic=None),
        version=version,
    )

    schema(version).validate(xml)


@pytest.mark.parametrize("version", VERSIONS)
def test_declaration_namespace_and_encoding(version):
    xml = build(version=version)

    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Document ')
    assert Doc(xml).root.tag == f"{{urn:iso:std:iso:20022:tech:xsd:pain.008.{version}}}Document"
    xml.decode("utf-8")


def test_group_header_counts_and_sums_every_instruction():
    doc = Doc(build())

    assert doc.text("CstmrDrctDbtInitn/GrpHdr/MsgId") == "MSG-20250819-1"
    assert doc.text("CstmrDrctDbtInitn/GrpHdr/NbOfTxs") == "5"
    assert doc.text("CstmrDrctDbtInitn/GrpHdr/CtrlSum") == "1345.01"  # 1234.56 + 0.01 + 99.99 + 10 + 0.45
    assert doc.text("CstmrDrctDbtInitn/GrpHdr/InitgPty/Nm") == "Istanbul Odeme A.S."


def test_creation_time_keeps_its_offset_to_the_second():
    doc = Doc(build())

    assert doc.text("CstmrDrctDbtInitn/GrpHdr/CreDtTm") == "2025-08-19T08:32:02+03:00"


def test_one_payment_block_per_date_and_sequence_type_in_date_then_lifecycle_order():
    doc = Doc(build())
    blocks = doc.all("CstmrDrctDbtInitn/PmtInf")

    summary = [
        (
            doc.text("PmtInfId", block),
            doc.text("ReqdColltnDt", block),
            doc.text("PmtTpInf/SeqTp", block),
            doc.text("NbOfTxs", block),
            doc.text("CtrlSum", block),
            [doc.text("PmtId/EndToEndId", tx) for tx in doc.all("DrctDbtTxInf", block)],
        )
        for block in blocks
    ]
    assert summary == [
        ("MSG-20250819-1-1", "2025-09-01", "FRST", "1", "0.01", ["E2E-2"]),
        ("MSG-20250819-1-2", "2025-09-01", "RCUR", "2", "100.44", ["E2E-3", "E2E-5"]),
        ("MSG-20250819-1-3", "2025-09-05", "FRST", "1", "10.00", ["E2E-4"]),
        ("MSG-20250819-1-4", "2025-09-05", "RCUR", "1", "1234.56", ["E2E-1"]),
    ]


def test_currencies_are_never_mixed_in_one_block_and_any_iso_currency_is_written():
    xml = build(
        [
            instruction(end_to_end_id="E2E-EUR", amount=Decimal("5.00"), currency="EUR"),
            instruction(end_to_end_id="E2E-TRY", amount=Decimal("7.50"), currency="TRY", debtor_iban=TR_IBAN),
        ]
    )
    doc = Doc(xml)

    blocks = doc.all("CstmrDrctDbtInitn/PmtInf")
    assert [(doc.find("DrctDbtTxInf/InstdAmt", b).get("Ccy"), doc.text("CtrlSum", b)) for b in blocks] == [
        ("EUR", "5.00"),
        ("TRY", "7.50"),
    ]
    assert doc.text("CstmrDrctDbtInitn/GrpHdr/CtrlSum") == "12.50"  # ISO: the sum of all amounts, any currency


def test_payment_block_carries_creditor_scheme_and_payment_type():
    doc = Doc(build(local_instrument="B2B"))
    block = doc.all("CstmrDrctDbtInitn/PmtInf")[0]

    assert doc.text("PmtMtd", block) == "DD"
    assert doc.text("BtchBookg", block) == "true"
    assert doc.text("PmtTpInf/SvcLvl/Cd", block) == "SEPA"
    assert doc.text("PmtTpInf/LclInstrm/Cd", block) == "B2B"
    assert doc.text("Cdtr/Nm", block) == "Istanbul Odeme A.S."
    assert doc.text("CdtrAcct/Id/IBAN", block) == TR_IBAN
    assert doc.text("ChrgBr", block) == "SLEV"
    assert doc.text("CdtrSchmeId/Id/PrvtId/Othr/Id", block) == "DE98ZZZ09999999999"
    assert doc.text("CdtrSchmeId/Id/PrvtId/Othr/SchmeNm/Prtry", block) == "SEPA"
    assert doc.all("DrctDbtTxInf/DrctDbtTx/CdtrSchmeId", block) == []  # once per block, not per transaction


def test_transaction_values_read_back():
    doc = Doc(build())
    tx = next(
        tx for tx in doc.all("CstmrDrctDbtInitn/PmtInf/DrctDbtTxInf") if doc.text("PmtId/EndToEndId", tx) == "E2E-1"
    )

    assert doc.find("InstdAmt", tx).attrib == {"Ccy": "EUR"}
    assert doc.text("InstdAmt", tx) == "1234.56"
    assert doc.text("DrctDbtTx/MndtRltdInf/MndtId", tx) == "MNDT-1"
    assert doc.text("DrctDbtTx/MndtRltdInf/DtOfSgntr", tx) == "2024-03-15"
    assert doc.text("Dbtr/Nm", tx) == "Caglar Sukru Isik"
    assert doc.text("DbtrAcct/Id/IBAN", tx) == DE_IBAN
    assert doc.text("RmtInf/Ustrd", tx) == "Fatura 2025/08 odemesi"


@pytest.mark.parametrize(("version", "bic_element"), [("001.02", "BIC"), ("001.08", "BICFI")])
def test_agent_bic_element_depends_on_version_and_is_notprovided_without_one(version, bic_element):
    doc = Doc(build(version=version))
    transactions = {doc.text("PmtId/EndToEndId", tx): tx for tx in doc.all("CstmrDrctDbtInitn/PmtInf/DrctDbtTxInf")}

    assert doc.text(f"CstmrDrctDbtInitn/PmtInf/CdtrAgt/FinInstnId/{bic_element}") == "AKBKTRIS"
    assert doc.children(doc.find("DbtrAgt/FinInstnId", transactions["E2E-2"])) == [bic_element]
    assert doc.text(f"DbtrAgt/FinInstnId/{bic_element}", transactions["E2E-2"]) == "NWBKGB2L"
    assert doc.text("DbtrAgt/FinInstnId/Othr/Id", transactions["E2E-1"]) == "NOTPROVIDED"


def test_creditor_agent_without_bic_is_notprovided():
    doc = Doc(build(creditor=creditor(bic=None)))

    assert doc.text("CstmrDrctDbtInitn/PmtInf/CdtrAgt/FinInstnId/Othr/Id") == "NOTPROVIDED"


@pytest.mark.parametrize("version", VERSIONS)
def test_element_order_follows_the_xsd_sequences(version):
    doc = Doc(build(version=version))
    bic = "BIC" if version == "001.02" else "BICFI"
    block = doc.all("CstmrDrctDbtInitn/PmtInf")[0]
    tx_with_remittance = doc.all("CstmrDrctDbtInitn/PmtInf/DrctDbtTxInf")[0]

    assert doc.children(doc.find("CstmrDrctDbtInitn")) == ["GrpHdr", "PmtInf", "PmtInf", "PmtInf", "PmtInf"]
    assert doc.children(doc.find("CstmrDrctDbtInitn/GrpHdr")) == ["MsgId", "CreDtTm", "NbOfTxs", "CtrlSum", "InitgPty"]
    assert doc.children(block) == [
        "PmtInfId",
        "PmtMtd",
        "BtchBookg",
        "NbOfTxs",
        "CtrlSum",
        "PmtTpInf",
        "ReqdColltnDt",
        "Cdtr",
        "CdtrAcct",
        "CdtrAgt",
        "ChrgBr",
        "CdtrSchmeId",
        "DrctDbtTxInf",
    ]
    assert doc.children(doc.find("PmtTpInf", block)) == ["SvcLvl", "LclInstrm", "SeqTp"]
    assert doc.children(doc.find("CdtrAgt/FinInstnId", block)) == [bic]
    assert doc.children(doc.find("CdtrSchmeId/Id/PrvtId/Othr", block)) == ["Id", "SchmeNm"]
    assert doc.children(tx_with_remittance) == [
        "PmtId",
        "InstdAmt",
        "DrctDbtTx",
        "DbtrAgt",
        "Dbtr",
        "DbtrAcct",
        "RmtInf",
    ]
    assert doc.children(doc.find("DrctDbtTx/MndtRltdInf", tx_with_remittance)) == ["MndtId", "DtOfSgntr"]


def test_instruction_without_remittance_has_no_rmtinf():
    doc = Doc(build([instruction(remittance=None), instruction(end_to_end_id="E2E-2", remittance="€ ✓ ☺")]))

    assert doc.all("CstmrDrctDbtInitn/PmtInf/DrctDbtTxInf/RmtInf") == []


def test_amounts_are_written_with_two_decimals():
    doc = Doc(
        build(
            [
                instruction(end_to_end_id="A", amount=Decimal("10")),
                instruction(end_to_end_id="B", amount=Decimal("0.5")),
                instruction(end_to_end_id="C", amount=Decimal("1.230")),  # the value has two decimals: accepted
                instruction(end_to_end_id="D", amount="7.05"),
            ]
        )
    )

    amounts = [tx.text for tx in doc.all("CstmrDrctDbtInitn/PmtInf/DrctDbtTxInf/InstdAmt")]
    assert amounts == ["10.00", "0.50", "1.23", "7.05"]
    assert doc.text("CstmrDrctDbtInitn/GrpHdr/CtrlSum") == "18.78"


def test_control_sum_is_exact_where_float_is_not():
    # 0.1 + 0.2 in float is 0.30000000000000004; a thousand cents in float is 9.999999999999831.
    cents = [instruction(end_to_end_id=f"C-{n}", amount=Decimal("0.01")) for n in range(1000)]
    doc = Doc(build([instruction(end_to_end_id="X", amount=Decimal("0.10")), *cents]))

    assert doc.text("CstmrDrctDbtInitn/GrpHdr/NbOfTxs") == "1001"
    assert doc.text("CstmrDrctDbtInitn/GrpHdr/CtrlSum") == "10.10"


def test_a_low_precision_decimal_context_cannot_round_the_control_sum():
    amounts = [Decimal("1234.56"), Decimal("0.01")]
    instructions = [instruction(end_to_end_id=f"E-{n}", amount=amount) for n, amount in enumerate(amounts)]

    with localcontext(Context(prec=3)):
        doc = Doc(build(instructions))

    assert doc.text("CstmrDrctDbtInitn/GrpHdr/CtrlSum") == "1234.57"


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999999.99"), places=2),
            st.sampled_from(list(SequenceType)),
            st.sampled_from([SEPT_1, SEPT_5]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_block_counts_and_sums_always_add_up_to_the_header(rows):
    instructions = [
        instruction(end_to_end_id=f"E-{n}", amount=amount, sequence_type=sequence, collection_date=day)
        for n, (amount, sequence, day) in enumerate(rows)
    ]
    doc = Doc(build(instructions))
    blocks = doc.all("CstmrDrctDbtInitn/PmtInf")

    assert Decimal(doc.text("CstmrDrctDbtInitn/GrpHdr/CtrlSum")) == sum(amount for amount, _, _ in rows)
    assert sum(Decimal(doc.text("CtrlSum", b)) for b in blocks) == sum(amount for amount, _, _ in rows)
    assert sum(int(doc.text("NbOfTxs", b)) for b in blocks) == len(rows)
    assert int(doc.text("CstmrDrctDbtInitn/GrpHdr/NbOfTxs")) == len(rows)
    for block in blocks:
        transactions = doc.all("DrctDbtTxInf", block)
        assert int(doc.text("NbOfTxs", block)) == len(transactions)
        assert Decimal(doc.text("CtrlSum", block)) == sum(Decimal(doc.text("InstdAmt", tx)) for tx in transactions)


def test_ibans_and_bics_are_written_compact_and_upper_case():
    doc = Doc(build([instruction(debtor_iban="de89 3704 0044 0532 0130 00", debtor_bic="cobadeffxxx")]))

    assert doc.text("CstmrDrctDbtInitn/PmtInf/DrctDbtTxInf/DbtrAcct/Id/IBAN") == DE_IBAN
    assert doc.text("CstmrDrctDbtInitn/PmtInf/DrctDbtTxInf/DbtrAgt/FinInstnId/BIC") == "COBADEFFXXX"


def test_turkish_style_creditor_scheme_id_is_accepted():
    doc = Doc(build(creditor=creditor(creditor_scheme_id="TR12ZZZ1234567890")))

    assert doc.text("CstmrDrctDbtInitn/PmtInf/CdtrSchmeId/Id/PrvtId/Othr/Id") == "TR12ZZZ1234567890"


# --- determinism ------------------------------------------------------------------------------------------------


def test_same_input_gives_the_same_bytes():
    assert build() == build()


def test_block_order_does_not_depend_on_input_order():
    forward = Doc(build(batch()))
    backward = Doc(build(list(reversed(batch()))))

    def blocks(doc: Doc) -> list[tuple[str, str, str]]:
        return [
            (doc.text("PmtInfId", b), doc.text("ReqdColltnDt", b), doc.text("PmtTpInf/SeqTp", b))
            for b in doc.all("CstmrDrctDbtInitn/PmtInf")
        ]

    assert blocks(forward) == blocks(backward)


def test_payment_information_ids_match_the_blocks_written():
    doc = Doc(build())
    written = {
        doc.text("PmtId/EndToEndId", tx): doc.text("PmtInfId", block)
        for block in doc.all("CstmrDrctDbtInitn/PmtInf")
        for tx in doc.all("DrctDbtTxInf", block)
    }

    assert payment_information_ids("MSG-20250819-1", batch()) == written


# --- the SEPA character set -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Çağlar Şükrü Işık", "Caglar Sukru Isik"),
        ("İstanbul Ödeme A.Ş.", "Istanbul Odeme A.S."),
        ("ÇĞİÖŞÜ çğıöşü", "CGIOSU cgiosu"),
        ("Jürgen Weiß", "Jurgen Weiss"),
        ("Søren Ærøskøbing", "Soren AEroskobing"),
        ("Łukasz Dąbrowski", "Lukasz Dabrowski"),
        ("Müller & Söhne GmbH", "Muller + Sohne GmbH"),
        ("O’Brien – Ltd", "O'Brien - Ltd"),
        ("a_b@c#d;e", "a b c d e"),
        ("  lots   of\tspace\n ", "lots of space"),
        ("Fatura №5 ½", "Fatura No5 1 2"),
        ("日本語", ""),
        ("ok /-?:().,'+", "ok /-?:().,'+"),
    ],
)
def test_sepa_text_transliterates_and_replaces(text, expected):
    assert sepa_text(text, 140) == expected


def test_sepa_text_truncates_without_a_trailing_space():
    assert sepa_text("abc def", 4) == "abc"
    assert sepa_text("ş" * 200, 70) == "s" * 70


def test_names_are_cut_to_70_and_remittance_to_140():
    doc = Doc(build([instruction(debtor_name="Ö" * 100, remittance="ü" * 200)], creditor=creditor(name="Ç" * 80)))

    assert doc.text("CstmrDrctDbtInitn/PmtInf/DrctDbtTxInf/Dbtr/Nm") == "O" * 70
    assert doc.text("CstmrDrctDbtInitn/PmtInf/DrctDbtTxInf/RmtInf/Ustrd") == "u" * 140
    assert doc.text("CstmrDrctDbtInitn/PmtInf/Cdtr/Nm") == "C" * 70
    assert doc.text("CstmrDrctDbtInitn/GrpHdr/InitgPty/Nm") == "C" * 70


def test_no_character_outside_the_sepa_set_reaches_the_file():
    xml = build([instruction(debtor_name='Zoë <Ünal> & "Şirket"', remittance="<b>ödeme</b> & ‘vade’ 😀")])
    doc = Doc(xml)

    assert doc.text("CstmrDrctDbtInitn/PmtInf/DrctDbtTxInf/Dbtr/Nm") == "Zoe Unal + Sirket"
    assert doc.text("CstmrDrctDbtInitn/PmtInf/DrctDbtTxInf/RmtInf/Ustrd") == "b odeme /b + 'vade'"


# --- rejections -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("end_to_end_id", "E" * 36, "36 characters; at most 35"),
        ("end_to_end_id", "", "must not be empty"),
        ("end_to_end_id", "E2E_1", "outside the SEPA identifier set"),
        ("end_to_end_id", "ÖDEME-1", "outside the SEPA identifier set"),
        ("end_to_end_id", "E2E 1", "outside the SEPA identifier set"),
        ("end_to_end_id", "/E2E-1", "must not start or end with '/'"),
        ("end_to_end_id", "E2E-1/", "must not start or end with '/'"),
        ("end_to_end_id", "E2E//1", "nor contain '//'"),
        ("mandate_id", "M" * 36, "at most 35"),
        ("mandate_id", "MNDT#1", "outside the SEPA identifier set"),
        ("debtor_iban", "DE89370400440532013001", "not a valid IBAN"),
        ("debtor_iban", "TR33000610051978645784132", "not a valid IBAN"),
        ("debtor_iban", "not an iban", "not a valid IBAN"),
        ("debtor_bic", "COBAXXFF", "not a valid BIC"),
        ("debtor_bic", "COBADEFF1", "not a valid BIC"),
        ("debtor_bic", "1234DEFF", "pain.008.001.02 BIC pattern"),
        ("amount", Decimal("12.345"), "more than 2 decimals"),
        ("amount", Decimal("0.001"), "more than 2 decimals"),
        ("amount", Decimal("0"), "greater than 0"),
        ("amount", Decimal("-5.00"), "greater than 0"),
        ("amount", Decimal("10000000000000000.00"), "larger than the schema allows"),
        ("currency", "EURO", "not an ISO 4217 currency code"),
        ("currency", "eur", "not an ISO 4217 currency code"),
        ("currency", "ABC", "not an ISO 4217 currency code"),
        ("debtor_name", "日本語", "no characters left in the SEPA character set"),
        ("mandate_date", date(2025, 9, 2), "after the collection date"),
    ],
)
def test_bad_instruction_is_rejected_naming_instruction_and_field(field, value, reason):
    instructions = [instruction(end_to_end_id="OK-1"), instruction(**({"end_to_end_id": "BAD-1"} | {field: value}))]
    e2e = value if field == "end_to_end_id" else "BAD-1"

    with pytest.raises(DirectDebitError, match=reason) as raised:
        build(instructions)

    assert str(raised.value).startswith(f"instructions[1] (EndToEndId {e2e!r}): {field}: ")
    assert (raised.value.index, raised.value.field, raised.value.end_to_end_id) == (1, field, e2e)


def test_bic_valid_only_under_the_2014_rules_is_accepted_in_001_08():
    doc = Doc(build([instruction(debtor_bic="1234DEFF")], version="001.08"))

    assert doc.text("CstmrDrctDbtInitn/PmtInf/DrctDbtTxInf/DbtrAgt/FinInstnId/BICFI") == "1234DEFF"


def test_bad_iban_error_names_the_end_to_end_id():
    with pytest.raises(DirectDebitError) as raised:
        build([instruction(end_to_end_id="INV-2025-0042", debtor_iban="DE00370400440532013000")])

    message = str(raised.value)
    assert "INV-2025-0042" in message
    assert "debtor_iban" in message
    assert "DE00370400440532013000" in message


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("name", "☺☺", "no characters left"),
        ("iban", "TR330006100519786457841327", "not a valid IBAN"),
        ("bic", "AKBK", "not a valid BIC"),
        ("creditor_scheme_id", "DE98 ZZZ 09999999999", "outside the SEPA identifier set"),
        ("creditor_scheme_id", "DE98ZZZ" + "9" * 29, "at most 35"),
    ],
)
def test_bad_creditor_is_rejected_naming_the_field(field, value, reason):
    with pytest.raises(DirectDebitError, match=reason) as raised:
        build(creditor=creditor(**{field: value}))

    assert raised.value.field == f"creditor.{field}"
    assert raised.value.index is None


def test_control_sum_beyond_the_schema_is_rejected():
    huge = Decimal("9999999999999999.99")

    with pytest.raises(DirectDebitError, match=r"instructions: the control sum .* larger than the schema allows"):
        build([instruction(end_to_end_id="A", amount=huge), instruction(end_to_end_id="B", amount=huge)])


def test_empty_instruction_list_is_rejected():
    with pytest.raises(DirectDebitError, match="at least one instruction"):
        build([])


def test_naive_creation_time_is_rejected():
    with pytest.raises(DirectDebitError, match=r"created_at: .*no timezone"):
        build(created_at=datetime(2025, 8, 19, 8, 32, 2))


@pytest.mark.parametrize(
    ("message_id", "reason"),
    [
        ("M" * 36, "at most 35"),
        ("", "must not be empty"),
        ("MSG 1", "outside the SEPA identifier set"),
        ("MSG//1", "nor contain '//'"),
    ],
)
def test_bad_message_id_is_rejected(message_id, reason):
    with pytest.raises(DirectDebitError, match=f"message_id: .*{reason}"):
        build(message_id=message_id)


def test_message_id_must_leave_room_for_the_payment_block_number():
    four_blocks = batch()

    build(message_id="M" * 33, instructions=four_blocks)  # M…M-4 is 35 characters
    with pytest.raises(DirectDebitError, match=r"message_id: .*use at most 33"):
        build(message_id="M" * 34, instructions=four_blocks)


def test_ten_blocks_need_a_two_digit_suffix():
    ten_dates = [instruction(end_to_end_id=f"E-{n}", collection_date=SEPT_1 + timedelta(days=n)) for n in range(10)]

    assert Doc(build(message_id="M" * 32, instructions=ten_dates)).text("CstmrDrctDbtInitn/PmtInf[10]/PmtInfId") == (
        "M" * 32 + "-10"
    )
    with pytest.raises(DirectDebitError, match="use at most 32"):
        build(message_id="M" * 33, instructions=ten_dates)


def test_duplicate_end_to_end_id_is_rejected():
    with pytest.raises(DirectDebitError, match=r"instructions\[2\] .*already used by instructions\[0\]"):
        build([instruction(), instruction(end_to_end_id="E2E-2"), instruction()])


def test_collection_before_the_creation_date_is_rejected():
    with pytest.raises(DirectDebitError, match="collection_date: 2025-08-18 is before the message creation date"):
        build([instruction(collection_date=date(2025, 8, 18), mandate_date=date(2025, 1, 1))])


def test_creation_date_is_taken_in_its_own_offset():
    # 2025-08-31T22:30Z is already 1 September in Istanbul: a collection on 1 September is not in the past.
    late_evening_utc = datetime(2025, 8, 31, 22, 30, tzinfo=UTC)

    build([instruction(collection_date=SEPT_1)], created_at=late_evening_utc.astimezone(ISTANBUL))
    with pytest.raises(DirectDebitError, match="collection_date"):
        build([instruction(collection_date=date(2025, 8, 31))], created_at=late_evening_utc.astimezone(ISTANBUL))


@pytest.mark.parametrize("local_instrument", ["", "CORE B2B", "X" * 36])
def test_bad_local_instrument_is_rejected(local_instrument):
    with pytest.raises(DirectDebitError, match="local_instrument"):
        build(local_instrument=local_instrument)


def test_unknown_version_is_rejected():
    with pytest.raises(DirectDebitError, match="version"):
        build(version="001.09")


def test_check_instruction_lets_a_caller_set_bad_mandates_aside():
    good, bad = instruction(end_to_end_id="GOOD"), instruction(end_to_end_id="BAD", amount=Decimal("1.005"))

    check_instruction(good)
    with pytest.raises(DirectDebitError, match="instruction with EndToEndId 'BAD': amount"):
        check_instruction(bad)
    with pytest.raises(DirectDebitError, match=r"pain\.008\.001\.02 BIC pattern"):
        check_instruction(instruction(debtor_bic="1234DEFF"), version="001.02")
    check_instruction(instruction(debtor_bic="1234DEFF"), version="001.08")


# --- the models -------------------------------------------------------------------------------------------------


def test_float_amount_is_refused_by_the_model():
    with pytest.raises(ValidationError, match="not a float"):
        instruction(amount=12.34)


@pytest.mark.parametrize("amount", [Decimal("NaN"), Decimal("Infinity"), "abc"])
def test_non_numbers_are_refused_by_the_model(amount):
    with pytest.raises(ValidationError):
        instruction(amount=amount)


def test_models_are_frozen_and_refuse_unknown_fields():
    with pytest.raises(ValidationError, match="Extra inputs"):
        instruction(debtor_email="a@b.c")
    with pytest.raises(ValidationError, match="frozen"):
        instruction().amount = Decimal("1.00")  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Creditor(name="x", iban=TR_IBAN, creditor_scheme_id="X", country="TR")  # type: ignore[call-arg]


def test_sequence_type_defaults_to_recurring_and_refuses_unknown_codes():
    assert instruction().sequence_type is SequenceType.RECURRING
    with pytest.raises(ValidationError):
        instruction(sequence_type="RPRE")


def test_error_is_a_value_error():
    assert issubclass(DirectDebitError, ValueError)
