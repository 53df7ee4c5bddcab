"""Money out by bank file and back: approved payables due go out in one pain.001 per paying bank (valid against the
official XSD), the bank's pain.002 rejects one transfer, its camt.054 debit booking pays the others, a returned
transfer reopens its payable, and a debit none of ours explains waits on the debit suspense list."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import pytest
from receivables.adapters.disbursement_table import PayoutTable
from receivables.adapters.verification import LedgerVerifier
from receivables.disbursement.service import UnmatchedDebit

from tests.integration.conftest import API_CALLER
from tests.integration.test_claims import approve, claim, payable
from tests.integration.test_insurance import api, insured, jsonl  # noqa: F401 (insured is a fixture)
from tests.integration.test_loading_pipeline import drop

XSD = Path(__file__).resolve().parents[2].parent / "shared" / "bank-samples" / "xsd"
BANK = {"name": "Örnek Sigorta A.Ş.", "iban": "TR330006100519786457841326", "bic": "ISBKTRIS"}
PARTIES = """party_id,kind,name,tax_id,iban
GAR-1,service_provider,Usta Oto Servis,1111111106,TR320010009999901234567890
GAR-2,service_provider,Çelik Kaporta,1234567890,TR290006400000112345678901
"""


def outbound(stack, prefix):
    listed = stack.s3.list_objects_v2(Bucket=stack.physical("bucket", "outbound"), Prefix=prefix).get("Contents", [])
    return {
        o["Key"]: stack.s3.get_object(Bucket=stack.physical("bucket", "outbound"), Key=o["Key"])["Body"].read()
        for o in listed
    }


def pain002(original: str, rejected: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">
 <CstmrPmtStsRpt>
  <GrpHdr><MsgId>ISB-STS-9</MsgId><CreDtTm>2026-11-30T09:00:00+03:00</CreDtTm></GrpHdr>
  <OrgnlGrpInfAndSts><OrgnlMsgId>{original}</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId>
   <GrpSts>PART</GrpSts></OrgnlGrpInfAndSts>
  <OrgnlPmtInfAndSts><OrgnlPmtInfId>{original}-1</OrgnlPmtInfId>
   <TxInfAndSts><OrgnlEndToEndId>{rejected}</OrgnlEndToEndId><TxSts>RJCT</TxSts>
    <StsRsnInf><Rsn><Cd>AC04</Cd></Rsn></StsRsnInf></TxInfAndSts>
  </OrgnlPmtInfAndSts>
 </CstmrPmtStsRpt>
</Document>"""


def camt054(entries: list[tuple[str, str, str, str]]) -> str:
    """(direction, amount, end-to-end id, return reason) per entry."""
    rows = []
    for n, (direction, amount, e2e, reason) in enumerate(entries, start=1):
        ret = f"<RtrInf><Rsn><Cd>{reason}</Cd></Rsn></RtrInf>" if reason else ""
        rows.append(
            f"""<Ntry><Amt Ccy="TRY">{amount}</Amt><CdtDbtInd>{direction}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><Dt>2026-11-30</Dt></BookgDt><ValDt><Dt>2026-11-30</Dt></ValDt><AcctSvcrRef>ISB-OUT-{n}</AcctSvcrRef>
    <NtryDtls><TxDtls><Refs><EndToEndId>{e2e}</EndToEndId></Refs>{ret}
     <RmtInf><Ustrd>transfer {e2e}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"""
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
 <BkToCstmrDbtCdtNtfctn>
  <GrpHdr><MsgId>ISB-NTF-OUT</MsgId><CreDtTm>2026-11-30T18:00:00+03:00</CreDtTm></GrpHdr>
  <Ntfctn><Id>ISB-NTF-OUT</Id><Acct><Id><IBAN>{BANK["iban"]}</IBAN></Id></Acct>
   {"".join(rows)}
  </Ntfctn>
 </BkToCstmrDbtCdtNtfctn>
</Document>"""


def transfer(stack, context, end_to_end_id):
    status, body = api(
        stack, context, "/transfers/{end_to_end_id}", f"/transfers/{end_to_end_id}", {"end_to_end_id": end_to_end_id}
    )
    return status, body


@pytest.fixture
def approved_claims(stack, context, insured):  # noqa: F811
    drop(stack, "parties/garages.csv", PARTIES)
    drop(stack, "config/disbursement/isbank.json", json.dumps(BANK))
    stack.drain(context)
    drop(
        stack,
        "policy-events/claims.jsonl",
        jsonl(
            claim("CE-1", "CLM-1", "GAR-1", "1200.00"),
            claim("CE-2", "CLM-2", "GAR-2", "800.00", due_date="2026-11-24"),
            claim("CE-3", "CLM-3", "GAR-1", "90000.00"),  # above the threshold: waits for approval
            claim("CE-4", "CLM-4", "GAR-2", "50.00", due_date="2027-01-10"),  # not due yet
        ),
    )
    stack.drain(context)


def test_approved_payables_due_go_out_in_one_pain001_and_the_banks_answers_settle_them(stack, context, approved_claims):
    run = stack.handler("pay_out")({"business_date": "2026-11-30"}, context)
    ((key, xml),) = outbound(stack, "banks/isbank/").items()
    assert run["files"][0]["transactions"] == 2 and run["files"][0]["total"] == "2000.00"
    assert key.startswith("banks/isbank/pain.001-PO20261130")
    if (XSD / "pain.001.001.03.xsd").exists():
        import xmlschema

        xmlschema.XMLSchema(str(XSD / "pain.001.001.03.xsd"), allow="local").validate(xml)
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
    document = ElementTree.fromstring(xml)
    assert [e.text for e in document.iterfind(".//p:EndToEndId", ns)] == ["CLM-2-C", "CLM-1-C"]
    assert document.findtext(".//p:Cdtr/p:Nm", namespaces=ns) == "Celik Kaporta"
    assert payable(stack, context, "CLM-1-C")[1]["status"] == "sent"
    assert payable(stack, context, "CLM-3-C")[1]["status"] == "open"
    # Running the date again pays nothing twice.
    again = stack.handler("pay_out")({"business_date": "2026-11-30"}, context)
    assert again["files"] == [] and len(outbound(stack, "banks/isbank/")) == 1

    message_id = run["files"][0]["message_id"]
    drop(stack, "banks/isbank/pain002-1.xml", pain002(message_id, "CLM-2-C"))
    stack.drain(context)
    rejected = payable(stack, context, "CLM-2-C")[1]
    assert rejected["status"] == "rejected" and rejected["open_amount"] == "800.00"
    status, sent = transfer(stack, context, "CLM-2-C")
    assert status == 200 and "AC04" in sent.pop("reason")
    assert sent == {
        "end_to_end_id": "CLM-2-C",
        "payable_id": "CLM-2-C",
        "bank_id": "isbank",
        "message_id": message_id,
        "file": key,
        "amount": "800.00",
        "currency": "TRY",
        "creditor_iban": "TR290006400000112345678901",
        "status": "rejected",
        "sent_on": "2026-11-30",
        "paid_on": None,
        "returned_on": None,
    }
    assert transfer(stack, context, "CLM-3-C")[0] == 404
    drop(
        stack,
        "banks/isbank/camt054-out.xml",
        camt054([("DBIT", "1200.00", "CLM-1-C", ""), ("DBIT", "35.00", "BANK-FEE-11", "")]),
    )
    stack.drain(context)
    paid = payable(stack, context, "CLM-1-C")[1]
    assert (paid["status"], paid["open_amount"]) == ("paid", "0.00")
    assert transfer(stack, context, "CLM-1-C")[1]["status"] == "paid"
    _, garage = api(stack, context, "/parties/{party_id}", "/parties/GAR-1", {"party_id": "GAR-1"})
    assert [(a["payable"], a["net"]) for a in garage["accounts"]] == [("90000.00", "-90000.00")]
    # The same booking again pays nothing twice; a return reopens what the transfer paid.
    drop(stack, "banks/isbank/camt054-out-again.xml", camt054([("DBIT", "1200.00", "CLM-1-C", "")]))
    drop(stack, "banks/isbank/camt054-return.xml", camt054([("CRDT", "1200.00", "CLM-1-C", "AC04")]))
    stack.drain(context)
    back = payable(stack, context, "CLM-1-C")[1]
    assert (back["status"], back["open_amount"]) == ("rejected", "1200.00")
    assert transfer(stack, context, "CLM-1-C")[1]["status"] == "returned"
    # A person approves it again (after a corrected IBAN, say): the next run pays it.
    assert approve(stack, context, "CLM-1-C", API_CALLER)[0] == 200
    rerun = stack.handler("pay_out")({"business_date": "2026-12-01"}, context)
    assert [f["transactions"] for f in rerun["files"]] == [1]
    events = [e["detail-type"] for e in stack.bus_events()]
    assert {"PayoutFileCreated", "PayoutRejected", "PayoutPaid", "PayoutReturned", "DebitUnmatched"} <= set(events)
    assert LedgerVerifier(stack.dynamodb, stack.table).verify().verified


class _Clock:
    def today(self):
        return date(2026, 11, 30)

    def now(self):
        return datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def test_a_message_finished_twice_and_a_debit_recorded_twice_change_nothing(stack, context, approved_claims):
    run = stack.handler("pay_out")({"business_date": "2026-11-30"}, context)
    table = PayoutTable(stack.dynamodb, stack.table, clock=_Clock())
    message = table.message(run["files"][0]["message_id"])
    assert message is not None
    # A second run finishing the same message (after a crash between the file and marking it sent): its payables
    # are already sent, so claiming takes none of them again and marking sent again is refused quietly.
    assert table.claim(message).transfers == ()
    table.mark_sent(message, run["files"][0]["file"])
    assert payable(stack, context, "CLM-1-C")[1]["status"] == "sent"
    debit = UnmatchedDebit(
        payment_id="isbank-FEE-1",
        bank_id="isbank",
        source_file="banks/isbank/camt054.xml",
        position="Ntry[2]",
        amount=Decimal("35.00"),
        currency="TRY",
        booked_on=date(2026, 11, 30),
        end_to_end_id=None,
        bank_reference="FEE-1",
        remittance="bank charges",
    )
    assert table.record_unmatched_debit(debit) is True
    assert table.record_unmatched_debit(debit) is False
    assert [d["payment_id"] for d in table.unmatched_debits()] == ["isbank-FEE-1"]


def test_an_mt940_debit_quoting_our_transfer_pays_it(stack, context, approved_claims):
    stack.handler("pay_out")({"business_date": "2026-11-30"}, context)
    statement = (
        ":20:ISB-MT-1\n:25:TR330006100519786457841326\n:28C:1/1\n:60F:C261130TRY5000,00\n"
        ":61:2611301130D1200,00NTRFCLM-1-C//ISB-OUT-77\n:86:EFT CLM-1-C USTA OTO SERVIS\n"
        ":62F:C261130TRY3800,00\n-\n"
    )
    drop(stack, "banks/isbank/mt940-20261130.sta", statement)
    stack.drain(context)
    paid = payable(stack, context, "CLM-1-C")[1]
    assert (paid["status"], paid["open_amount"]) == ("paid", "0.00")
    assert payable(stack, context, "CLM-2-C")[1]["status"] == "sent"  # not booked yet
