"""Direct debit both ways: a run writes pain.008 per creditor bank for items falling due, the bank's pain.002 marks
collections accepted or rejected, and the later camt booking pays the item it collected, found by end-to-end id."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest
from receivables import bootstrap

from tests.integration.test_loading_pipeline import drop

XSD = Path(__file__).resolve().parents[2].parent / "shared" / "bank-samples" / "xsd"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}

CUSTOMERS = """customer_id,name,type,city,phone,language,email,iban,mandate_id,mandate_date
C1,Çağlar Şükrü Işık,individual,İstanbul,+905321234567,tr,c1@example.com,TR400006200000000000000001,MND-C1,2026-01-15
C2,Deniz Öztürk,individual,Ankara,+905321234568,tr,,TR130006200000000000000002,MND-C2,2026-02-01
C3,No Mandate,individual,İzmir,+905321234569,tr,,TR130006200000000000000099,,
"""
INVOICES = """invoice_id,customer_id,account_id,issue_date,due_date,amount,currency
INV-1,C1,A1,2026-11-01,2026-11-25,120.50,TRY
INV-2,C2,A2,2026-11-01,2026-11-25,80.00,TRY
INV-3,C3,A3,2026-11-01,2026-11-25,50.00,TRY
INV-4,C1,A1,2026-11-01,2026-12-25,120.50,TRY
"""
CREDITOR = {
    "bank_id": "isbank",
    "creditor_name": "Örnek Sigorta A.Ş.",
    "iban": "TR850001000000000012345678",
    "creditor_scheme_id": "TR00ZZZ123456789",
    "lead_days": 1,
}


def collections(stack):
    items = stack.dynamodb.scan(TableName=stack.table)["Items"]
    return {i["item_id"]["S"]: i for i in items if i["pk"]["S"].startswith("DD#")}


def item(stack, item_id):
    return stack.root("api", bootstrap.ledger_reader).get_item(item_id)


def run(stack, context, run_date):
    return stack.handler("direct_debits")({"business_date": run_date}, context)


def pain002(original_message_id: str, rejected_e2e: str, accepted_e2e: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">
 <CstmrPmtStsRpt>
  <GrpHdr><MsgId>ISB-STS-1</MsgId><CreDtTm>2026-11-25T09:00:00+03:00</CreDtTm></GrpHdr>
  <OrgnlGrpInfAndSts><OrgnlMsgId>{original_message_id}</OrgnlMsgId><OrgnlMsgNmId>pain.008.001.02</OrgnlMsgNmId>
   <GrpSts>PART</GrpSts></OrgnlGrpInfAndSts>
  <OrgnlPmtInfAndSts><OrgnlPmtInfId>{original_message_id}-1</OrgnlPmtInfId>
   <TxInfAndSts><OrgnlEndToEndId>{rejected_e2e}</OrgnlEndToEndId><TxSts>RJCT</TxSts>
    <StsRsnInf><Rsn><Cd>AM04</Cd></Rsn></StsRsnInf></TxInfAndSts>
   <TxInfAndSts><OrgnlEndToEndId>{accepted_e2e}</OrgnlEndToEndId><TxSts>ACCP</TxSts></TxInfAndSts>
  </OrgnlPmtInfAndSts>
 </CstmrPmtStsRpt>
</Document>""".encode()


def camt054_booking(e2e: str, amount: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
 <BkToCstmrDbtCdtNtfctn>
  <GrpHdr><MsgId>ISB-NTF-1</MsgId><CreDtTm>2026-11-25T18:00:00+03:00</CreDtTm></GrpHdr>
  <Ntfctn><Id>ISB-NTF-1</Id><Acct><Id><IBAN>TR850001000000000012345678</IBAN></Id></Acct>
   <Ntry><Amt Ccy="TRY">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><Dt>2026-11-25</Dt></BookgDt><ValDt><Dt>2026-11-25</Dt></ValDt><AcctSvcrRef>ISB-DD-1</AcctSvcrRef>
    <NtryDtls><TxDtls><Refs><EndToEndId>{e2e}</EndToEndId></Refs>
     <RmtInf><Ustrd>SDD collection</Ustrd></RmtInf></TxDtls></NtryDtls>
   </Ntry>
  </Ntfctn>
 </BkToCstmrDbtCdtNtfctn>
</Document>""".encode()


@pytest.fixture
def collected(stack, context):
    drop(stack, "config/direct-debit/isbank.json", json.dumps(CREDITOR))
    drop(stack, "customers/c.csv", CUSTOMERS)
    stack.drain(context)
    drop(stack, "invoices/i.csv", INVOICES)
    stack.drain(context)
    result = run(stack, context, "2026-11-24")
    return result


def test_a_run_writes_one_pain008_for_the_items_of_customers_with_a_mandate(stack, collected):
    [written] = collected["files"]
    assert written["bank_id"] == "isbank" and written["transactions"] == 2 and written["total"] == "200.50"
    outbound = f"{stack.inbound.removesuffix('inbound')}outbound"
    xml = stack.s3.get_object(Bucket=outbound, Key=written["file"])["Body"].read()
    assert written["file"].startswith("banks/isbank/pain.008-")
    root = ElementTree.fromstring(xml)
    assert root.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:NbOfTxs", namespaces=NS) == "2"
    assert root.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:CtrlSum", namespaces=NS) == "200.50"
    names = [e.text for e in root.iterfind(".//p:DrctDbtTxInf/p:Dbtr/p:Nm", NS)]
    assert names == ["Caglar Sukru Isik", "Deniz Ozturk"]  # the SEPA character set
    assert [e.text for e in root.iterfind(".//p:MndtId", NS)] == ["MND-C1", "MND-C2"]
    if (XSD / "pain.008.001.02.xsd").exists():
        import xmlschema

        xmlschema.XMLSchema(str(XSD / "pain.008.001.02.xsd"), allow="local").validate(xml)
    # INV-3 (no mandate) and INV-4 (due next month) are not taken.
    assert set(collections(stack)) == {"INV-1", "INV-2"}


def test_running_the_same_date_again_collects_nothing_twice(stack, context, collected):
    again = run(stack, context, "2026-11-24")
    assert again["files"] == []
    assert len(collections(stack)) == 2


def test_pain002_rejects_one_collection_which_stays_open_and_the_booking_pays_the_other(stack, context, collected):
    message_id = collected["files"][0]["message_id"]
    by_item = collections(stack)
    e2e_1, e2e_2 = by_item["INV-1"]["end_to_end_id"]["S"], by_item["INV-2"]["end_to_end_id"]["S"]

    drop(stack, "banks/isbank/status-1.xml", pain002(message_id, rejected_e2e=e2e_2, accepted_e2e=e2e_1))
    stack.drain(context)
    by_item = collections(stack)
    assert by_item["INV-2"]["status"]["S"] == "rejected"
    assert "AM04" in by_item["INV-2"]["status_reason"]["S"]
    assert "insufficient funds" in by_item["INV-2"]["status_reason"]["S"]
    assert by_item["INV-1"]["status"]["S"] == "accepted"
    assert str(item(stack, "INV-2").open_amount) == "80.00"  # a rejection leaves the item open

    drop(stack, "banks/isbank/ntf-1.xml", camt054_booking(e2e_1.lower(), "120.50"))
    stack.drain(context)
    assert str(item(stack, "INV-1").open_amount) == "0.00"
    payment = next(i for i in stack.dynamodb.scan(TableName=stack.table)["Items"] if i["pk"]["S"].startswith("PAY#"))
    assert payment["match_method"]["S"] == "invoice_reference"
    assert "our direct debit of invoice INV-1" in payment["match_reason"]["S"]


def test_a_status_report_about_a_message_we_never_sent_is_quarantined(stack, context, collected):
    drop(stack, "banks/isbank/status-x.xml", pain002("RCV20261124UNKNOWN", "RCVX", "RCVY"))
    stack.drain(context)
    listed = stack.s3.list_objects_v2(Bucket=stack.inbound, Prefix="quarantine/")
    assert any("status-x.xml" in o["Key"] for o in listed.get("Contents", []))


def test_without_creditor_configuration_the_run_says_why(stack, context):
    result = run(stack, context, "2026-11-24")
    assert result["files"] == [] and "no creditor bank is configured" in result["problem"]


def test_a_rejection_after_the_booking_undoes_the_booking(stack, context, collected):
    message_id = collected["files"][0]["message_id"]
    by_item = collections(stack)
    e2e_1, e2e_2 = by_item["INV-1"]["end_to_end_id"]["S"], by_item["INV-2"]["end_to_end_id"]["S"]
    drop(stack, "banks/isbank/ntf-1.xml", camt054_booking(e2e_1, "120.50"))
    stack.drain(context)
    assert str(item(stack, "INV-1").open_amount) == "0.00"

    # The debtor's bank refuses the collection after all (MD06): what the booking paid reopens.
    drop(stack, "banks/isbank/status-late.xml", pain002(message_id, rejected_e2e=e2e_1, accepted_e2e=e2e_2))
    stack.drain(context)
    assert str(item(stack, "INV-1").open_amount) == "120.50"
    payment = next(i for i in stack.dynamodb.scan(TableName=stack.table)["Items"] if i["pk"]["S"].startswith("PAY#"))
    assert payment["status"]["S"] == "reversed"
    assert "direct debit rejected" in payment["reversal_reason"]["S"]
