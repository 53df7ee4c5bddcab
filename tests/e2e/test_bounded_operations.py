"""No DynamoDB limit in the way (on DynamoDB Local, which enforces them): one payment settling 250 invoices, and its
return, each applied in bounded steps of at most 50 items per transaction, with the function killed between two
steps. The redelivered message finishes the operation; nothing is posted twice; the journal proves every balance;
the events arrive once in effect."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from receivables.adapters.journal_table import JournalReader
from receivables.adapters.verification import LedgerVerifier
from receivables_local.embedded import EmbeddedStack
from receivables_local.faults import CallSite, FaultInjector
from receivables_local.session import LocalSession

from .conftest import requires_handlers

pytestmark = [pytest.mark.e2e, requires_handlers]

ITEMS = 250
IBAN = "TR690006700000006755667788"


@dataclass
class CrashAfterEach:
    """Kill ``function`` once per invocation number listed, after its ``count``-th successful transaction."""

    function: str
    count: int
    seen: Counter[int] = field(default_factory=Counter)

    def fault(self, site: CallSite) -> str | None:
        if site.function != self.function or site.operation != "TransactWriteItems" or site.phase != "after":
            return None
        self.seen[site.invocation] += 1
        return "crash" if site.invocation in (1, 3) and self.seen[site.invocation] == self.count else None


def _camt054(entry: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
  <BkToCstmrDbtCdtNtfctn>
    <GrpHdr><MsgId>M-{abs(hash(entry)) % 10**8}</MsgId><CreDtTm>2026-11-24T10:00:00+03:00</CreDtTm></GrpHdr>
    <Ntfctn>
      <Id>N1</Id>
      <Acct><Id><IBAN>{IBAN}</IBAN></Id><Ccy>TRY</Ccy></Acct>
      {entry}
    </Ntfctn>
  </BkToCstmrDbtCdtNtfctn>
</Document>""".encode()


CREDIT = """<Ntry>
  <Amt Ccy="TRY">2500.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
  <BookgDt><Dt>2026-11-24</Dt></BookgDt><ValDt><Dt>2026-11-24</Dt></ValDt><AcctSvcrRef>AGENCY-TRANSFER-1</AcctSvcrRef>
  <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
  <NtryDtls><TxDtls>
    <Refs><AcctSvcrRef>AGENCY-TRANSFER-1</AcctSvcrRef><EndToEndId>E2E-AGENCY-1</EndToEndId></Refs>
    <Amt Ccy="TRY">2500.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
    <RmtInf><Ustrd>Acente tahsilati AGENCY-1</Ustrd></RmtInf>
  </TxDtls></NtryDtls>
</Ntry>"""

RETURN = """<Ntry>
  <Amt Ccy="TRY">2500.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><RvslInd>true</RvslInd><Sts><Cd>BOOK</Cd></Sts>
  <BookgDt><Dt>2026-11-24</Dt></BookgDt><ValDt><Dt>2026-11-24</Dt></ValDt><AcctSvcrRef>AGENCY-RETURN-1</AcctSvcrRef>
  <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>RRTN</SubFmlyCd></Fmly></Domn></BkTxCd>
  <NtryDtls><TxDtls>
    <Refs><AcctSvcrRef>AGENCY-RETURN-1</AcctSvcrRef><EndToEndId>E2E-AGENCY-1</EndToEndId></Refs>
    <Amt Ccy="TRY">2500.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>
    <RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf>
  </TxDtls></NtryDtls>
</Ntry>"""


def _invoices() -> bytes:
    lines = ["invoice_id,customer_id,account_id,issue_date,due_date,amount,currency"]
    lines += [f"INV-{n:03},C1,AGENCY-1,2026-11-01,2026-11-{1 + n % 28:02},10.00,TRY" for n in range(ITEMS)]
    return ("\n".join(lines) + "\n").encode()


def _table(session: LocalSession) -> tuple[Any, str]:
    return session.clients("dynamodb"), session.resources.table


def _payment(session: LocalSession) -> dict[str, Any]:
    client, table = _table(session)
    found = client.scan(
        TableName=table,
        FilterExpression="begins_with(pk, :p) AND bank_reference = :r",
        ExpressionAttributeValues={":p": {"S": "PAY#"}, ":r": {"S": "AGENCY-TRANSFER-1"}},
    )["Items"]
    (payment,) = found
    return payment


def _open_amounts(session: LocalSession) -> set[Decimal]:
    client, table = _table(session)
    items = client.scan(
        TableName=table,
        FilterExpression="begins_with(pk, :p)",
        ExpressionAttributeValues={":p": {"S": "ITEM#"}},
        ConsistentRead=True,
    )["Items"]
    assert len(items) == ITEMS
    return {Decimal(i["open_amount"]["N"]) for i in items}


@pytest.fixture
def crashing(stack: EmbeddedStack):  # type: ignore[no-untyped-def]
    stack.reset()
    policy = CrashAfterEach("load_bank_file", count=2)
    injector = FaultInjector(policy)
    with LocalSession(stack, date(2026, 11, 24), faults=injector) as session:
        session.upload(
            "customers/c.csv",
            b"customer_id,name,type,city,phone,language\nC1,Acente,corporate,Izmir,+905321112233,tr\n",
        )
        session.upload("invoices/agency.csv", _invoices())
        session.runtime.run_until_idle()
        yield session, injector


def test_a_payment_of_250_items_and_its_return_post_exactly_once_across_a_crash(crashing) -> None:  # type: ignore[no-untyped-def]
    session, injector = crashing
    client, table = _table(session)

    session.upload("banks/yapikredi/credit.xml", _camt054(CREDIT))
    session.runtime.run_until_idle()
    crashes = [site for site, fault in injector.injected if fault == "crash"]
    assert len(crashes) == 1  # died after its second step's transaction: the redelivery finished the payment
    payment = _payment(session)
    assert payment["status"]["S"] == "applied" and Decimal(payment["unapplied_amount"]["N"]) == 0
    assert len(payment["allocations"]["L"]) == ITEMS and "pending" not in payment
    assert _open_amounts(session) == {Decimal(0)}

    entries = JournalReader(client, table).entries(r["S"] for r in payment["journal"]["L"])
    assert len(entries) == 5  # 250 items, 50 to a step
    paid = Counter()
    for entry in entries:
        items = {p.item_id for p in entry.postings if p.item_id}
        assert len(items) <= 50
        for p in entry.postings:
            if p.side.value == "item":
                paid[p.item_id] -= p.amount
    assert set(paid.values()) == {Decimal("10.00")} and len(paid) == ITEMS  # each item paid once, never twice
    assert LedgerVerifier(client, table).verify().differences == []

    session.upload("banks/yapikredi/return.xml", _camt054(RETURN))
    session.runtime.run_until_idle()
    assert len([f for _s, f in injector.injected if f == "crash"]) == 2
    payment = _payment(session)
    assert payment["status"]["S"] == "reversed" and payment["allocations"]["L"] == []
    assert _open_amounts(session) == {Decimal("10.00")}
    report = LedgerVerifier(client, table).verify()
    assert report.differences == [] and report.entries >= 10

    bus = [e for e in session.runtime.bus.events if e["source"] == "receivables.payments"]
    received = {e["detail"]["event_id"] for e in bus if e["detail-type"] == "PaymentReceived"}
    reversed_ = {e["detail"]["event_id"] for e in bus if e["detail-type"] == "PaymentReversed"}
    assert len(received) == 1 and len(reversed_) == 1  # once in effect, whatever the crashes
    dead = session.runtime.dead_letters()
    assert not any(dead.values()), dead
    assert json.loads(json.dumps(payment, default=str))  # serialisable, for the report below
