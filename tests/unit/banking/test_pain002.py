"""pain.002 payment status reports: every status level against hand-written fixtures (two of them validated against
the XSDs when present), malformed and hostile input, streaming, and the public OCA sample when present."""

from __future__ import annotations

import re
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pydantic
import pytest
from receivables.banking.pain002 import (
    STATUS_CODES,
    BatchStatus,
    PaymentStatusReport,
    StatusCode,
    StatusReason,
    TransactionStatus,
    is_pain002,
    parse_pain002,
)
from receivables.banking.statement import BankFileError

REPO = Path(__file__).parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "banks" / "pain002"
SAMPLES = next(
    (path for path in (REPO.parent / "shared" / "bank-samples", Path("/work/shared/bank-samples")) if path.is_dir()),
    Path("/work/shared/bank-samples"),
)
OCA_SAMPLE = SAMPLES / "pain" / "oca-test-sepa-pain-unpaid.xml"
V03 = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def chunks(data: bytes, size: int = 1024) -> Iterator[bytes]:
    return (data[i : i + size] for i in range(0, len(data), size))


def parse(name: str) -> PaymentStatusReport:
    return parse_pain002(chunks(read(name)))


def pain002(group: str = "<GrpSts>ACCP</GrpSts>", batches: str = "", *, namespace: str = V03) -> bytes:
    """A minimal pain.002 around the given group status elements and batches."""
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Document{xmlns}><CstmrPmtStsRpt>'
        "<GrpHdr><MsgId>STS-1</MsgId><CreDtTm>2024-03-01T10:00:00</CreDtTm></GrpHdr>"
        f"<OrgnlGrpInfAndSts><OrgnlMsgId>COLL-1</OrgnlMsgId><OrgnlMsgNmId>pain.008.001.02</OrgnlMsgNmId>{group}"
        f"</OrgnlGrpInfAndSts>{batches}</CstmrPmtStsRpt></Document>"
    ).encode()


def batch(transactions: str, status: str = "") -> str:
    return f"<OrgnlPmtInfAndSts><OrgnlPmtInfId>PMT-1</OrgnlPmtInfId>{status}{transactions}</OrgnlPmtInfAndSts>"


def tx(status: str = "<TxSts>RJCT</TxSts>", e2e: str = "<OrgnlEndToEndId>E2E-1</OrgnlEndToEndId>") -> str:
    return f"<TxInfAndSts>{e2e}{status}</TxInfAndSts>"


def by_end_to_end(report: PaymentStatusReport) -> dict[str, TransactionStatus]:
    return {t.original_end_to_end_id: t for t in report.transactions}


@pytest.fixture(scope="module")
def partial() -> PaymentStatusReport:
    return parse("pain002_v03_partial.xml")


@pytest.fixture(scope="module")
def v10() -> PaymentStatusReport:
    return parse("pain002_v10_batch_rejected.xml")


# --- pain.002.001.03: group PART, batch and transaction levels --------------------------------------------------------


def test_v03_header_and_group(partial):
    assert (partial.message_id, partial.created_at) == ("STS-20240302-0001", datetime(2024, 3, 2, 6, 15, 30))
    assert (partial.original_message_id, partial.original_message_type) == ("COLL-20240301-01", "pain.008.001.02")
    assert (partial.group_status, partial.group_iso_status, partial.group_reasons) == (
        StatusCode.PARTIALLY_ACCEPTED,
        "PART",
        (),
    )
    assert partial.version == "pain.002.001.03"
    assert [b.original_payment_information_id for b in partial.batches] == ["PMT-FRST-01", "PMT-RCUR-02", "PMT-RCUR-03"]


def test_v03_transaction_rejections_carry_code_originator_and_joined_additional_info(partial):
    closed = by_end_to_end(partial)["E2E-INV-1001"]
    assert closed == TransactionStatus(
        position="OrgnlPmtInfAndSts[1]/TxInfAndSts[1]",
        original_end_to_end_id="E2E-INV-1001",
        original_instruction_id="INSTR-0001",
        status_id="BNK-REJ-0001",
        status=StatusCode.REJECTED,
        iso_status="RJCT",
        reasons=(
            StatusReason(
                code="AC04",
                additional_info="Account closed at the debtor bank, please obtain a new mandate.",
                originator="COBADEFFXXX",
            ),
        ),
        amount=Decimal("100.00"),
        currency="EUR",
        mandate_id="MNDT-1001",
        line=32,  # the TxInfAndSts start tag
    )
    refused = by_end_to_end(partial)["E2E-INV-1002"]
    assert refused.reasons == (StatusReason(code="MD06", originator="Debtor"),)
    assert (refused.amount, refused.position) == (Decimal("150.5"), "OrgnlPmtInfAndSts[1]/TxInfAndSts[2]")


def test_v03_accepted_settled_and_pending_transactions(partial):
    statuses = {e2e: (t.status, t.iso_status, t.reasons) for e2e, t in by_end_to_end(partial).items()}
    assert statuses["E2E-INV-1003"] == (StatusCode.ACCEPTED, "ACCP", ())
    assert statuses["E2E-INV-3001"] == (StatusCode.ACCEPTED, "ACSC", ())
    assert statuses["E2E-INV-3002"] == (StatusCode.PENDING, "PDNG", ())
    assert by_end_to_end(partial)["E2E-INV-3001"].amount is None  # no OrgnlTxRef: no amount, no currency


def test_v03_proprietary_reason_and_a_reason_that_says_nothing_is_dropped(partial):
    blocked = by_end_to_end(partial)["E2E-INV-3003"]
    assert blocked.reasons == (
        StatusReason(proprietary="BANK-BLOCKED-17", additional_info="Debtor account blocked by the bank"),
    )
    assert (blocked.amount, blocked.currency) == (Decimal("12.34"), "EUR")


def test_v03_batch_levels(partial):
    first, rejected, transactions_only = partial.batches
    assert (first.status, first.iso_status, len(first.transactions)) == (StatusCode.PARTIALLY_ACCEPTED, "PART", 3)
    assert rejected == BatchStatus(
        position="OrgnlPmtInfAndSts[2]",
        original_payment_information_id="PMT-RCUR-02",
        status=StatusCode.REJECTED,
        iso_status="RJCT",
        reasons=(StatusReason(code="MS03", additional_info="Reason not specified"),),
    )
    assert (transactions_only.status, transactions_only.iso_status) == (None, None)
    assert [t.position for t in transactions_only.transactions] == [
        f"OrgnlPmtInfAndSts[3]/TxInfAndSts[{n}]" for n in (1, 2, 3)
    ]


def test_v03_rejected_scope_names_batches_and_transactions_not_the_whole_message(partial):
    scope = partial.rejected_scope()
    assert scope.original_message_id == "COLL-20240301-01"
    assert not scope.whole_message and scope.group_reasons == ()
    assert [b.original_payment_information_id for b in scope.batches] == ["PMT-RCUR-02"]
    assert [t.original_end_to_end_id for t in scope.transactions] == ["E2E-INV-1001", "E2E-INV-1002", "E2E-INV-3003"]
    assert scope.rejects_anything


# --- group-level rejection (DK SEPA variant of .03) -----------------------------------------------------------------


def test_group_rejection_rejects_the_whole_original_message():
    report = parse("pain002_v03_dk_group_rejected.xml")
    assert report.created_at == datetime(2024, 3, 1, 16, 45, tzinfo=UTC)  # same instant, written in +01:00
    assert report.created_at.utcoffset() == timedelta(hours=1)
    assert (report.group_status, report.group_iso_status) == (StatusCode.REJECTED, "RJCT")
    assert report.group_reasons == (StatusReason(code="FF01", originator="BYLADEM1001"),)
    assert report.batches == ()
    scope = report.rejected_scope()
    assert (scope.original_message_id, scope.whole_message, scope.group_reasons) == (
        "COLL-20240301-02",
        True,
        report.group_reasons,
    )
    assert scope.batches == () and scope.transactions == ()


# --- pain.002.001.10, prefixed namespace ----------------------------------------------------------------------------


def test_v10_header_with_prefix_and_offset(v10):
    assert v10.version == "pain.002.001.10"
    assert v10.message_id == "STS10-20240402-01"
    assert v10.created_at == datetime(2024, 4, 2, 8, 30, tzinfo=timezone(timedelta(hours=3)))
    assert (v10.original_message_id, v10.original_message_type) == ("COLL-20240401-01", "pain.008.001.08")
    assert v10.group_status is StatusCode.PARTIALLY_ACCEPTED  # NbOfTxsPerSts is ignored


def test_v10_batch_rejection_and_a_listed_transaction_inherits_it(v10):
    duplicate = v10.batches[0]
    assert (duplicate.original_payment_information_id, duplicate.status) == ("PMT-10-DUP", StatusCode.REJECTED)
    assert duplicate.reasons == (
        StatusReason(code="AM05", additional_info="Duplicate collection", originator="ORNKTRIS"),
    )
    (listed,) = duplicate.transactions
    assert (listed.original_end_to_end_id, listed.original_instruction_id) == ("E2E-10-0001", "I-10-0001")
    assert (listed.status, listed.iso_status, listed.status_inherited) == (StatusCode.REJECTED, "RJCT", True)
    assert listed.reasons == duplicate.reasons  # no reason of its own: the batch's explains it


def test_v10_transaction_details(v10):
    transactions = by_end_to_end(v10)
    settled = transactions["E2E-10-0003"]
    assert (settled.status, settled.iso_status, settled.status_inherited) == (StatusCode.ACCEPTED, "ACSC", False)
    assert (settled.original_uetr, settled.status_id) == ("4f1d2a3b-5c6d-4e7f-8a9b-0c1d2e3f4a5b", "S-10-0003")
    assert (settled.amount, settled.currency, settled.mandate_id) == (Decimal("120.50"), "EUR", "MNDT-10-0003")
    assert str(settled.amount) == "120.50"  # digits kept as written
    assert transactions["E2E-10-0004"].reasons == (StatusReason(proprietary="NOFUNDS-TR"),)
    assert transactions["E2E-10-0005"].reasons == (
        StatusReason(code="MD01", additional_info="No valid mandate", originator="Debtor bank"),
        StatusReason(code="AM04"),
    )
    assert transactions["E2E-10-0005"].amount is None


def test_v10_rejected_scope(v10):
    scope = v10.rejected_scope()
    assert not scope.whole_message
    assert [b.original_payment_information_id for b in scope.batches] == ["PMT-10-DUP"]
    assert [t.original_end_to_end_id for t in scope.transactions] == ["E2E-10-0001", "E2E-10-0004", "E2E-10-0005"]


def test_a_fully_accepted_report_rejects_nothing():
    scope = parse_pain002([pain002()]).rejected_scope()
    assert not scope.rejects_anything


@pytest.mark.parametrize(
    ("name", "schema"),
    [
        ("pain002_v10_batch_rejected.xml", "pain.002.001.10.xsd"),
        ("pain002_v03_dk_group_rejected.xml", "pain.002.001.03.dk-sepa-variant.xsd"),
    ],
)
def test_fixtures_are_valid_against_their_schema(name, schema):
    xmlschema = pytest.importorskip("xmlschema")
    path = SAMPLES / "xsd" / schema
    if not path.is_file():
        pytest.skip(f"{schema} not present on this machine")
    xmlschema.XMLSchema(str(path)).validate(str(FIXTURES / name))


# --- status codes ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [(code, StatusCode.ACCEPTED) for code in ("ACCP", "ACSC", "ACSP", "ACTC", "ACWC", "ACCC", "ACFC", "ACWP")]
    + [("RJCT", StatusCode.REJECTED), ("PDNG", StatusCode.PENDING)],
)
def test_transaction_status_codes(code, expected):
    report = parse_pain002([pain002("", batch(tx(f"<TxSts>{code}</TxSts>")))])
    (status,) = report.transactions
    assert (status.status, status.iso_status) == (expected, code)
    assert STATUS_CODES[code] is expected


@pytest.mark.parametrize(
    ("where", "data"),
    [
        ("OrgnlPmtInfAndSts[1]/TxInfAndSts[1]/TxSts", pain002("", batch(tx("<TxSts>CANC</TxSts>")))),
        ("OrgnlGrpInfAndSts/GrpSts", pain002("<GrpSts>CANC</GrpSts>")),
        ("OrgnlPmtInfAndSts[1]/PmtInfSts", pain002("", batch("", "<PmtInfSts>CANC</PmtInfSts>"))),
    ],
)
def test_an_unknown_status_code_fails_naming_the_code_and_where(where, data):
    # a transaction's element is named with the line its TxInfAndSts starts on
    line = r" \(line 1\)" if "TxInfAndSts" in where else ""
    expected = rf"pain\.002: {re.escape(where)}{line}: unknown status code 'CANC'; expected one of ACCP, ACSC"
    with pytest.raises(BankFileError, match=expected):
        parse_pain002([data])


def test_part_is_not_a_transaction_status():
    with pytest.raises(BankFileError, match=r"TxInfAndSts\[1\]/TxSts \(line 1\): PART .* is a group or batch status"):
        parse_pain002([pain002("", batch(tx("<TxSts>PART</TxSts>")))])


def test_a_transaction_without_status_inherits_the_group_status_when_its_batch_has_none():
    group = "<GrpSts>RJCT</GrpSts><StsRsnInf><Rsn><Cd>FF01</Cd></Rsn></StsRsnInf>"
    report = parse_pain002([pain002(group, batch(tx("")))])
    (status,) = report.transactions
    assert (status.status, status.iso_status, status.status_inherited) == (StatusCode.REJECTED, "RJCT", True)
    assert status.reasons == (StatusReason(code="FF01"),)


def test_an_inherited_status_keeps_the_transactions_own_reasons():
    own = "<StsRsnInf><Rsn><Cd>AC04</Cd></Rsn></StsRsnInf>"
    batch_level = "<PmtInfSts>RJCT</PmtInfSts><StsRsnInf><Rsn><Cd>AM05</Cd></Rsn></StsRsnInf>"
    report = parse_pain002([pain002("", batch(tx(own), batch_level))])
    (status,) = report.transactions
    assert (status.status, status.status_inherited, status.reasons) == (
        StatusCode.REJECTED,
        True,
        (StatusReason(code="AC04"),),
    )


@pytest.mark.parametrize(
    ("group", "batch_status", "shown"),
    [
        ("", "", "GrpSts (absent)"),
        ("<GrpSts>PART</GrpSts>", "", "GrpSts (PART)"),
        ("", "<PmtInfSts>PART</PmtInfSts>", "PmtInfSts (PART)"),
    ],
)
def test_a_transaction_whose_status_cannot_be_told_fails(group, batch_status, shown):
    with pytest.raises(
        BankFileError, match=rf"TxInfAndSts\[1\] \(line 1\): no TxSts, and the {re.escape(shown)} does not say"
    ):
        parse_pain002([pain002(group, batch(tx(""), batch_status))])


def test_number_of_transactions_per_status_is_ignored_whatever_it_says():
    group = "<GrpSts>ACCP</GrpSts><NbOfTxsPerSts><DtldNbOfTxs>1</DtldNbOfTxs><DtldSts>ZZZZ</DtldSts></NbOfTxsPerSts>"
    assert parse_pain002([pain002(group)]).group_status is StatusCode.ACCEPTED


# --- namespace-agnostic ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [f"pain.002.001.{n:02}" for n in range(3, 15)])
def test_any_version_reads_the_same(version, partial):
    data = read("pain002_v03_partial.xml").replace(V03.encode(), f"urn:iso:std:iso:20022:tech:xsd:{version}".encode())
    report = parse_pain002([data])
    assert report.version == version
    assert report.model_copy(update={"version": "pain.002.001.03"}) == partial


@pytest.mark.parametrize(
    ("namespace", "version"),
    [
        ("", None),
        ("http://www.six-interbank-clearing.com/de/pain.002.001.03.ch.02.xsd", "pain.002.001.03"),
        ("urn:example:bank:status-report", None),
    ],
)
def test_national_or_missing_namespaces_are_read_by_local_name(namespace, version):
    report = parse_pain002([pain002("<GrpSts>RJCT</GrpSts>", namespace=namespace)])
    assert (report.version, report.group_status, report.original_message_id) == (version, StatusCode.REJECTED, "COLL-1")


# --- the public OCA sample ------------------------------------------------------------------------------------------


@pytest.mark.skipif(not OCA_SAMPLE.is_file(), reason="public bank samples not present on this machine")
def test_oca_unpaid_sample():
    report = parse_pain002(chunks(OCA_SAMPLE.read_bytes(), 512))
    assert (report.message_id, report.created_at) == ("MSGID99345678912", datetime(2016, 10, 8, 20, 49))
    assert (report.original_message_id, report.original_message_type) == ("MSGID12345678912", "PAIN.008.001.02")
    assert (report.version, report.group_status, report.group_reasons) == ("pain.002.001.03", None, ())
    assert [(b.original_payment_information_id, b.status, len(b.transactions)) for b in report.batches] == [
        ("PMTINFID1", None, 2),
        ("PMTINFID2", None, 2),
    ]
    rows = [
        (t.position, t.status_id, t.original_end_to_end_id, t.status, t.reasons, t.amount, t.currency, t.mandate_id)
        for t in report.transactions
    ]
    hundred = Decimal(100)
    assert rows == [
        (
            "OrgnlPmtInfAndSts[1]/TxInfAndSts[1]",
            "IDREJ1",
            "E2EID1",
            StatusCode.REJECTED,
            (StatusReason(code="AC01", additional_info="ACC NUMBER INVALID", originator="BOFIIE2D"),),
            hundred,
            "EUR",
            "MANDATEID1",
        ),
        # The sample's comment says MS03 but the element says MS02: the element is what counts.
        (
            "OrgnlPmtInfAndSts[1]/TxInfAndSts[2]",
            "IDREJ2",
            "E2EID2",
            StatusCode.REJECTED,
            (StatusReason(code="MS02", originator="DEBTOR2"),),
            hundred,
            "EUR",
            "MANDATEID2",
        ),
        (
            "OrgnlPmtInfAndSts[2]/TxInfAndSts[1]",
            "IDREJ3",
            "E2EID3",
            StatusCode.REJECTED,
            (StatusReason(code="MD06", originator="DEBTOR3"),),
            hundred,
            "EUR",
            "MANDATEID3",
        ),
        (
            "OrgnlPmtInfAndSts[2]/TxInfAndSts[2]",
            "IDREJ4",
            "E2EID4",
            StatusCode.REJECTED,
            (StatusReason(code="AM04", originator="BOFIIE2D"),),
            hundred,
            "EUR",
            "MANDATEID4",
        ),
    ]
    scope = report.rejected_scope()
    assert (scope.whole_message, scope.batches, len(scope.transactions)) == (False, (), 4)


# --- malformed, foreign and hostile input ---------------------------------------------------------------------------


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9, 0.999])
def test_a_truncated_file_fails_saying_so(cut):
    data = read("pain002_v03_partial.xml")
    with pytest.raises(BankFileError, match=r"not well-formed XML at line \d+, column \d+: .*looks truncated"):
        parse_pain002(chunks(data[: int(len(data) * cut)], 100))


def test_a_doctype_is_refused_before_any_entity_is_read():
    with pytest.raises(BankFileError, match=r"declares a document type \(<!DOCTYPE Document>\).*XXE"):
        parse("pain002_doctype_xxe.xml")


def test_a_camt_statement_is_not_a_status_report():
    with pytest.raises(
        BankFileError,
        match=r"not a payment status report: the Document holds <BkToCstmrStmt> in namespace "
        r"'urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.02' \(a camt\.053\.001\.02 message\); "
        r"expected <CstmrPmtStsRpt>",
    ):
        parse("camt053_not_pain002.xml")


def test_our_own_collection_file_is_not_a_status_report():
    if not (SAMPLES / "pain" / "php-sepa-xml-pain.008.001.02.xml").is_file():
        pytest.skip("public bank samples not present on this machine")
    with pytest.raises(BankFileError, match=r"<CstmrDrctDbtInitn> .* \(a pain\.008\.001\.02 message\)"):
        parse_pain002([(SAMPLES / "pain" / "php-sepa-xml-pain.008.001.02.xml").read_bytes()])


def test_the_message_in_a_foreign_iso_namespace_is_refused():
    namespace = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"
    with pytest.raises(BankFileError, match=r"<CstmrPmtStsRpt> is in namespace .*camt\.054\.001\.08, not pain\.002"):
        parse_pain002([pain002(namespace=namespace)])


def test_the_pre_2009_layout_is_named():
    data = b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.02"><pain.002.001.02/></Document>'
    with pytest.raises(BankFileError, match=r"pre-2009 pain\.002\.001\.02 layout"):
        parse_pain002([data])


def test_a_file_without_a_document_fails_naming_its_root():
    with pytest.raises(BankFileError, match=r"no CstmrPmtStsRpt .* under a Document element \(root element <Report>\)"):
        parse_pain002([b"<Report><CstmrPmtStsRpt/></Report>"])


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ((b"<OrgnlMsgId>COLL-1</OrgnlMsgId>", b""), r"OrgnlGrpInfAndSts has no OrgnlMsgId"),
        ((b"<MsgId>STS-1</MsgId>", b""), r"GrpHdr has no MsgId"),
        ((b"2024-03-01T10:00:00", b"01.03.2024 10:00"), r"GrpHdr/CreDtTm '01\.03\.2024 10:00' is not a date-time"),
        ((b"2024-03-01T10:00:00", b"2024-02-30T10:00:00"), r"GrpHdr/CreDtTm '2024-02-30T10:00:00' is not a valid"),
        ((b"<OrgnlPmtInfId>PMT-1</OrgnlPmtInfId>", b""), r"OrgnlPmtInfAndSts\[1\]: no OrgnlPmtInfId"),
        ((b"<OrgnlEndToEndId>E2E-1</OrgnlEndToEndId>", b""), r"TxInfAndSts\[1\] \(line \d+\): no OrgnlEndToEndId"),
        ((b"<Amt>", b'<Amt><InstdAmt Ccy="EUR">1,50</InstdAmt>'), r"InstdAmt \(line 1\): '1,50' is not an amount"),
        ((b"<Amt>", b'<Amt><InstdAmt Ccy="eur">1.50</InstdAmt>'), r"currency 'eur' is not a three-letter"),
    ],
)
def test_missing_or_malformed_required_fields_fail_naming_them(change, reason):
    data = pain002("<GrpSts>RJCT</GrpSts>", batch(tx("<OrgnlTxRef><Amt></Amt></OrgnlTxRef>")))
    with pytest.raises(BankFileError, match=reason):
        parse_pain002([data.replace(*change)])


def test_a_report_without_group_information_fails():
    data = pain002().replace(b"<OrgnlGrpInfAndSts>", b"<Ignored>").replace(b"</OrgnlGrpInfAndSts>", b"</Ignored>")
    with pytest.raises(BankFileError, match="no OrgnlGrpInfAndSts"):
        parse_pain002([data])


def test_a_report_without_group_header_fails():
    data = pain002().replace(b"<GrpHdr>", b"<Ignored>").replace(b"</GrpHdr>", b"</Ignored>")
    with pytest.raises(BankFileError, match="no GrpHdr"):
        parse_pain002([data])


def test_batches_before_the_group_information_are_refused():
    data = pain002(batches=batch(tx())).replace(b"<OrgnlGrpInfAndSts>", b"<X>", 1)
    head, _, rest = data.partition(b"<X>")
    group, _, tail = rest.partition(b"</OrgnlGrpInfAndSts>")
    moved = tail.replace(
        b"</CstmrPmtStsRpt>", b"<OrgnlGrpInfAndSts>" + group + b"</OrgnlGrpInfAndSts></CstmrPmtStsRpt>"
    )
    with pytest.raises(BankFileError, match=r"OrgnlPmtInfAndSts\[1\] comes before OrgnlGrpInfAndSts"):
        parse_pain002([head + moved])


def test_two_messages_in_one_file_are_refused():
    document = pain002().split(b"?>", 1)[1]
    with pytest.raises(BankFileError, match="more than one message"):
        parse_pain002([b"<Envelope>" + document + document + b"</Envelope>"])


def test_an_envelope_around_the_document_is_allowed():
    document = pain002().split(b"?>", 1)[1]
    report = parse_pain002([b"<Envelope><AppHdr><From>BANK</From></AppHdr>" + document + b"</Envelope>"])
    assert report.original_message_id == "COLL-1"


def test_models_are_frozen(partial):
    with pytest.raises(pydantic.ValidationError):
        partial.batches[0].transactions[0].status = StatusCode.ACCEPTED  # type: ignore[misc]


# --- recognition ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (read("pain002_v03_partial.xml")[:2048], True),
        (read("pain002_v10_batch_rejected.xml")[:2048], True),
        (b"\xef\xbb\xbf<Document><CstmrPmtStsRpt><GrpHdr>", True),  # no namespace, BOM
        (pain002().decode().encode("utf-16"), True),
        (read("camt053_not_pain002.xml"), False),
        (b":20:STMT\r\n:25:DE89370400440532013000\r\n", False),
        (b"", False),
    ],
)
def test_is_pain002(head, expected):
    assert is_pain002(head) is expected


# --- streaming ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 7, 4096, 1 << 20])
def test_block_boundaries_do_not_change_the_result(size, v10):
    assert parse_pain002(chunks(read("pain002_v10_batch_rejected.xml"), size)) == v10


def test_empty_blocks_are_not_end_of_file(partial):
    data = read("pain002_v03_partial.xml")
    assert parse_pain002([b"", data[:100], b"", bytearray(data[100:]), b""]) == partial


def status_report(count: int, padding: int) -> Iterator[bytes]:
    """``count`` rejected transactions, each carrying ``padding`` 140-character lines of original transaction."""
    original = "".join(f"<RmtInf><Ustrd>{'x' * 140}</Ustrd></RmtInf>" for _ in range(padding))
    head, tail = pain002("<GrpSts>PART</GrpSts>", "{}").split(b"{}")
    yield head + b"<OrgnlPmtInfAndSts><OrgnlPmtInfId>PMT-1</OrgnlPmtInfId>"
    for n in range(count):
        yield (
            f"<TxInfAndSts><OrgnlEndToEndId>E2E-{n}</OrgnlEndToEndId><TxSts>RJCT</TxSts>"
            f"<StsRsnInf><Rsn><Cd>AM04</Cd></Rsn></StsRsnInf><OrgnlTxRef>{original}</OrgnlTxRef></TxInfAndSts>"
        ).encode()
    yield b"</OrgnlPmtInfAndSts>" + tail


def peak_memory(count: int, padding: int) -> tuple[int, int]:
    """(bytes of XML, peak traced memory while parsing it)."""
    size = sum(len(block) for block in status_report(count, padding))
    tracemalloc.start()
    try:
        parsed = parse_pain002(status_report(count, padding))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(parsed.transactions) == count
    return size, peak


def test_memory_does_not_grow_with_the_bytes_of_the_file():
    # The statuses themselves are the result and are kept; the copy of each original transaction (OrgnlTxRef), nearly
    # all of a real file's bytes, must not be. Same statuses, ten times the bytes: about the same peak.
    small_size, small_peak = peak_memory(1000, 2)
    large_size, large_peak = peak_memory(1000, 40)
    assert large_size > 10 * small_size
    assert large_peak < small_peak * 1.25
    assert large_peak < large_size / 2  # kept as a tree, the 6 MB of XML would take several times its size
