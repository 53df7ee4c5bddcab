"""Bank files dropped under banks/<bank_id>/ become matched, allocated payments on the ledger."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from receivables import bootstrap
from receivables.adapters.payments_table import PayerDirectoryTable

from tests.integration.test_loading_pipeline import CUSTOMERS, INVOICES, drop

FIXTURES = Path(__file__).parents[1] / "fixtures" / "banks" / "integration"


def payment(stack, payment_id):
    return stack.dynamodb.get_item(
        TableName=stack.table, Key={"pk": {"S": f"PAY#{payment_id}"}, "sk": {"S": "PAYMENT"}}
    )["Item"]


def payments(stack):
    items = stack.dynamodb.scan(TableName=stack.table)["Items"]
    return {i["bank_reference"]["S"]: i for i in items if i["pk"]["S"].startswith("PAY#")}


def loaded(stack, context):
    drop(stack, "customers/c.csv", CUSTOMERS)
    stack.drain(context)
    drop(stack, "invoices/i.csv", INVOICES)
    stack.drain(context)


def test_a_camt_statement_pays_invoices_by_reference_iban_or_waits_in_suspense(stack, context):
    loaded(stack, context)
    drop(stack, "banks/garanti/2026-11-20.xml", (FIXTURES / "garanti-camt053-2026-11-20.xml").read_bytes())
    stack.drain(context)

    by_ref = payments(stack)
    first = by_ref["GAR-REF-0001"]
    assert first["match_method"]["S"] == "invoice_reference" and first["account_id"]["S"] == "A1"
    # INV-2 named in the remittance is paid first, the rest goes FIFO to INV-1.
    assert [(a["M"]["item_id"]["S"], a["M"]["amount"]["N"]) for a in first["allocations"]["L"]] == [
        ("INV-1", "50.50"),
        ("INV-2", "99.50"),
    ]
    assert by_ref["GAR-REF-0002"]["match_method"]["S"] == "unmatched" and "account_id" not in by_ref["GAR-REF-0002"]
    third = by_ref["GAR-REF-0003"]
    assert third["match_method"]["S"] == "iban" and third["account_id"]["S"] == "A1"
    account = stack.root("api", bootstrap.ledger_reader).get_account("A1")
    assert {i.item_id: str(i.open_amount) for i in account.items} == {"INV-1": "25.00", "INV-2": "0.00"}

    # The same statement again (an overlapping export) posts nothing twice.
    drop(stack, "banks/garanti/2026-11-20-again.xml", (FIXTURES / "garanti-camt053-2026-11-20.xml").read_bytes())
    stack.drain(context)
    assert len(payments(stack)) == 3

    # The bank returns the first payment (AC04): exactly what it paid reopens.
    drop(stack, "banks/garanti/2026-11-21.xml", (FIXTURES / "garanti-camt053-2026-11-21-return.xml").read_bytes())
    stack.drain(context)
    reversed_payment = payments(stack)["GAR-REF-0001"]
    assert reversed_payment["status"]["S"] == "reversed" and reversed_payment["allocations"]["L"] == []
    assert "AC04" in reversed_payment["reversal_reason"]["S"]
    account = stack.root("api", bootstrap.ledger_reader).get_account("A1")
    # INV-1 100.50 − 25.00 (the IBAN payment, re-applied FIFO) ; INV-2 back to 99.50.
    assert {i.item_id: i.open_amount for i in account.items} == {"INV-1": Decimal("75.50"), "INV-2": Decimal("99.50")}
    kinds = [e["detail-type"] for e in stack.bus_events()]
    assert {"PaymentReceived", "ItemPaid", "PaymentUnmatched", "PaymentReversed", "BankFileLoaded"} <= set(kinds)


def test_a_bank_file_nobody_can_read_is_quarantined(stack, context):
    drop(stack, "banks/unknownbank/export.csv", b"tarih;tutar\n01.11.2026;100,00\n")
    stack.drain(context)
    keys = [o["Key"] for o in stack.s3.list_objects_v2(Bucket=stack.inbound)["Contents"]]
    assert "quarantine/banks/unknownbank/export.csv" in keys


OVERPAYMENT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
  <BkToCstmrDbtCdtNtfctn>
    <GrpHdr><MsgId>N-1</MsgId><CreDtTm>2026-11-20T10:00:00+03:00</CreDtTm></GrpHdr>
    <Ntfctn>
      <Id>N-1</Id>
      <Acct><Id><IBAN>TR120006200000000012345678</IBAN></Id></Acct>
      <Ntry>
        <Amt Ccy="TRY">300.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2026-11-20</Dt></BookgDt><ValDt><Dt>2026-11-20</Dt></ValDt>
        <AcctSvcrRef>N-REF-1</AcctSvcrRef>
        <NtryDtls><TxDtls><RmtInf><Ustrd>abone hesap A1</Ustrd></RmtInf></TxDtls></NtryDtls>
      </Ntry>
    </Ntfctn>
  </BkToCstmrDbtCdtNtfctn>
</Document>
"""


def test_overpayment_is_credit_that_pays_the_next_invoice_when_it_loads(stack, context):
    loaded(stack, context)
    drop(stack, "banks/garanti/notification.xml", OVERPAYMENT)
    stack.drain(context)
    paid = payments(stack)["N-REF-1"]
    assert paid["match_method"]["S"] == "account_reference" and paid["unapplied_amount"]["N"] == "100.00"

    drop(stack, "invoices/next.csv", INVOICES.splitlines()[0] + "\nINV-30,C1,A1,2026-12-01,2026-12-15,60.00,TRY,,\n")
    stack.drain(context)

    account = stack.root("api", bootstrap.ledger_reader).get_account("A1")
    assert {i.item_id: str(i.open_amount) for i in account.items} == {
        "INV-1": "0.00",
        "INV-2": "0.00",
        "INV-30": "0.00",
    }
    assert payments(stack)["N-REF-1"]["unapplied_amount"]["N"] == "40.00"
    credit = stack.dynamodb.get_item(TableName=stack.table, Key={"pk": {"S": "ACCT#A1"}, "sk": {"S": "ACCOUNT"}})
    assert credit["Item"]["unapplied_credit"]["N"] == "40.00"


def test_two_payments_for_one_account_at_the_same_time_lose_nothing(stack, context):
    from datetime import date

    import pytest
    from receivables.adapters.payments_table import PaymentsTable
    from receivables.domain.journal import Cause
    from receivables.payments.operations import StepWrite, journal_entry
    from receivables.payments.ports import ConcurrentUpdateError, PaymentFacts

    from tests.unit.fakes import FixedClock

    loaded(stack, context)
    store = PaymentsTable(stack.dynamodb, stack.table)

    def facts(pid):
        return PaymentFacts(pid, "b", pid, None, None, "f", "p", "manual", "test")

    cause = Cause(kind="system", source="test")

    def write(loaded_account, pid, amount):
        step = loaded_account.ledger.receive(pid, Decimal(amount), "TRY", date(2026, 11, 24), cause=cause)
        entry = journal_entry(FixedClock(date(2026, 11, 24)), "A1", "TRY", "receive", cause, step.postings)
        return StepWrite(loaded_account, [entry], new_payment=facts(pid))

    today = date(2026, 11, 24)
    first, second = store.load("A1", on=today), store.load("A1", on=today)  # both read INV-1 open at 100.50
    store.save(write(first, "PX1", "60.00"))
    with pytest.raises(ConcurrentUpdateError):
        store.save(write(second, "PX2", "70.00"))

    store.save(write(store.load("A1", on=today), "PX2", "70.00"))  # the loser reads again and redoes its work
    account = stack.root("api", bootstrap.ledger_reader).get_account("A1")
    assert {i.item_id: str(i.open_amount) for i in account.items} == {"INV-1": "0.00", "INV-2": "70.00"}


def test_only_a_hold_in_force_on_the_date_keeps_items_out_of_a_not_held_allocation(stack, context):
    from datetime import date

    from receivables.adapters.dunning_commands_table import DunningCommandsTable
    from receivables.adapters.payments_table import AllocationPolicyTable, PaymentsTable
    from receivables.domain.journal import Cause
    from receivables.dunning.records import HoldRecord
    from receivables.payments.allocation import FIFO, AllocationPolicy, NotHeldFilter
    from receivables.payments.operations import StepWrite, journal_entry
    from receivables.payments.ports import PaymentFacts

    from tests.unit.fakes import FixedClock

    # Given A1's items INV-1 (due 2026-10-15), INV-8 (10-30) and INV-2 (11-15), each under an item hold mirrored on
    # the account: INV-1's ended yesterday, INV-8's starts tomorrow, INV-2's is in force
    loaded(stack, context)
    drop(
        stack,
        "invoices/extra.csv",
        "invoice_id,customer_id,account_id,issue_date,due_date,amount,currency\n"
        "INV-8,C1,A1,2026-10-20,2026-10-30,10.00,TRY\n",
    )
    stack.drain(context)
    today = date(2026, 11, 24)
    holds = DunningCommandsTable(stack.dynamodb, stack.table)
    for item_id, start, until in (
        ("INV-1", date(2026, 10, 20), date(2026, 11, 23)),
        ("INV-8", date(2026, 11, 25), None),
        ("INV-2", date(2026, 11, 20), today),
    ):
        holds.create_hold(
            HoldRecord(
                hold_id=f"HL-{item_id}",
                level="item",
                target_id=item_id,
                customer_id="C1",
                account_id="A1",
                reason="dispute",
                start=start,
                until=until,
                created_by="test",
            )
        )
    policies = AllocationPolicyTable(stack.dynamodb, stack.table)
    policies.put(
        "standard",
        AllocationPolicy(name="not held fifo", eligibility=(NotHeldFilter(),), order=FIFO.order),
        changed_by="test",
    )
    store = PaymentsTable(stack.dynamodb, stack.table, policies=policies)

    # When the account is loaded for a payment today and 200.00 is received
    account = store.load("A1", on=today)
    assert {i.item_id: i.held for i in account.ledger.items.values()} == {"INV-1": False, "INV-8": False, "INV-2": True}
    cause = Cause(kind="system", source="test")
    step = account.ledger.receive("PH1", Decimal("200.00"), "TRY", today, cause=cause)
    entry = journal_entry(FixedClock(today), "A1", "TRY", "receive", cause, step.postings)
    facts = PaymentFacts("PH1", "b", "PH1", None, None, "f", "p", "manual", "t")
    store.save(StepWrite(account, [entry], new_payment=facts))

    # Then the expired and the future hold keep nothing out of FIFO; the hold in force does
    stored = stack.root("api", bootstrap.ledger_reader).get_account("A1")
    assert {i.item_id: str(i.open_amount) for i in stored.items} == {"INV-1": "0.00", "INV-8": "0.00", "INV-2": "99.50"}
    assert payment(stack, "PH1")["unapplied_amount"]["N"] == "89.50"
    # The same account judged on the first day of INV-8's hold keeps INV-8 out too
    assert {i.item_id for i in store.load("A1", on=date(2026, 11, 25)).ledger.items.values() if i.held} == {"INV-8"}


def _mt940(reference: str, *lines: str) -> bytes:
    body = "\n".join(lines)
    return (
        f":20:{reference}\n:25:TR120006200000000012345678\n:28C:1/1\n:60F:C261120TRY0,00\n{body}\n"
        ":62F:C261120TRY0,00\n-\n"
    ).encode()


def test_a_return_quoting_no_reference_is_linked_by_account_amount_and_remittance_text(stack, context):
    loaded(stack, context)
    drop(
        stack,
        "banks/garanti/mt940-1.sta",
        _mt940("S1", ":61:2611201120C50,00NTRFNONREF//GAR-MT-1", ":86:A1 KASIM ODEMESI"),
    )
    stack.drain(context)
    assert payments(stack)["GAR-MT-1"]["status"]["S"] == "applied"

    drop(
        stack,
        "banks/garanti/mt940-2.sta",
        _mt940("S2", ":61:2611211121RD50,00NTRFNONREF//GAR-MT-9", ":86:A1 KASIM ODEMESI"),
    )
    stack.drain(context)
    original = payments(stack)["GAR-MT-1"]
    assert original["status"]["S"] == "reversed"
    assert "linked by account, amount and remittance text" in original["reversal_reason"]["S"]
    account = stack.root("api", bootstrap.ledger_reader).get_account("A1")
    assert {i.item_id: str(i.open_amount) for i in account.items}["INV-1"] == "100.50"


def test_a_return_that_fits_several_payments_waits_for_a_person(stack, context):
    loaded(stack, context)
    drop(
        stack,
        "banks/garanti/mt940-1.sta",
        _mt940(
            "S1",
            ":61:2611201120C20,00NTRFNONREF//GAR-MT-1",
            ":86:A1 ODEME",
            ":61:2611201120C20,00NTRFNONREF//GAR-MT-2",
            ":86:A1 ODEME",
        ),
    )
    stack.drain(context)
    drop(stack, "banks/garanti/mt940-2.sta", _mt940("S2", ":61:2611211121RD20,00NTRFNONREF//GAR-MT-9", ":86:A1 ODEME"))
    stack.drain(context)
    by_ref = payments(stack)
    assert by_ref["GAR-MT-1"]["status"]["S"] == by_ref["GAR-MT-2"]["status"]["S"] == "applied"
    assert by_ref["GAR-MT-9"]["match_method"]["S"] == "unmatched"
    assert "fits several payments" in by_ref["GAR-MT-9"]["match_reason"]["S"]


def _camt(kind: str, entries: str) -> bytes:
    root, block = ("BkToCstmrDbtCdtNtfctn", "Ntfctn") if kind == "054" else ("BkToCstmrStmt", "Stmt")
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.{kind}.001.08">'
        f"<{root}><GrpHdr><MsgId>M{kind}</MsgId><CreDtTm>2026-11-24T10:00:00</CreDtTm></GrpHdr><{block}><Id>S{kind}</Id>"
        "<Acct><Id><IBAN>TR120006200000000012345678</IBAN></Id></Acct>"
        f"{entries}</{block}></{root}></Document>"
    ).encode()


def _line(e2e: str, amount: str, reference: str = "") -> str:
    own = f"<AcctSvcrRef>{reference}</AcctSvcrRef>" if reference else ""
    return (
        f'<TxDtls><Refs>{own}<EndToEndId>{e2e}</EndToEndId></Refs><Amt Ccy="TRY">{amount}</Amt>'
        "<RmtInf><Ustrd>INV-1</Ustrd></RmtInf></TxDtls>"
    )


def _entry(reference: str, amount: str, lines: str) -> str:
    return (
        f'<Ntry><Amt Ccy="TRY">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
        f"<BookgDt><Dt>2026-11-24</Dt></BookgDt><ValDt><Dt>2026-11-24</Dt></ValDt><AcctSvcrRef>{reference}</AcctSvcrRef>"
        f"<NtryDtls>{lines}</NtryDtls></Ntry>"
    )


def test_a_statement_batch_whose_lines_came_earlier_as_notifications_counts_them_once(stack, context):
    loaded(stack, context)
    notified = _entry("N-1", "30.00", _line("E2E-A", "30.00")) + _entry("N-2", "20.00", _line("E2E-B", "20.00"))
    drop(stack, "banks/garanti/ntf.xml", _camt("054", notified))
    stack.drain(context)
    batch = _entry("BATCH-9", "60.00", _line("E2E-A", "30.00") + _line("E2E-B", "20.00") + _line("E2E-C", "10.00"))
    drop(stack, "banks/garanti/stmt.xml", _camt("053", batch))
    stack.drain(context)
    posted = sorted(p["amount"]["N"] for p in payments(stack).values())
    assert posted == ["10.00", "20.00", "30.00"]  # E2E-C is new; A and B were notified already


def test_a_statement_that_does_not_add_up_is_read_and_its_difference_announced(stack, context):
    loaded(stack, context)
    camt = Path(__file__).parents[1] / "fixtures" / "banks" / "camt" / "camt053_v04_balance_off.xml"
    drop(stack, "banks/garanti/balance-off.xml", camt.read_bytes())
    stack.drain(context)
    events = stack.bus_events()
    warnings = [e["detail"] for e in events if e["detail-type"] == "BankStatementOutOfBalance"]
    assert warnings and all(w["difference"] for w in warnings)
    (loaded_file,) = [e["detail"] for e in events if e["detail-type"] == "BankFileLoaded"]
    assert loaded_file["balance_warnings"] == [w["reason"] for w in warnings]


def test_a_camt053_entry_without_status_is_booked_and_the_assumption_kept_on_the_payment(stack, context):
    loaded(stack, context)
    camt = Path(__file__).parents[1] / "fixtures" / "banks" / "camt" / "camt053_v08_no_status.xml"
    drop(stack, "banks/db/no-status.xml", camt.read_bytes())
    stack.drain(context)
    recorded = [p for p in payments(stack).values() if p.get("notes")]
    assert recorded and all("status" in n["S"].lower() for p in recorded for n in p["notes"]["L"])


class OnePerPage:
    """A DynamoDB client whose Query answers one item per page, as a partition bigger than 1 MB is answered."""

    def __init__(self, client):
        self._client = client

    def query(self, **request):
        return self._client.query(**request, Limit=1)

    def __getattr__(self, name):
        return getattr(self._client, name)


def test_an_iban_shared_by_several_customers_finds_every_account_on_every_page(stack, context):
    iban = "TR330006100519786457841326"
    customers = "customer_id,name,type,city,phone,language,iban\n" + "".join(
        f"P{n},Payer {n},individual,Ankara,+90532123456{n},tr,{iban}\n" for n in range(1, 4)
    )
    invoices = "invoice_id,customer_id,account_id,issue_date,due_date,amount,currency\n" + "".join(
        f"PI-{n}{k},P{n},PA{n}{k},2026-11-01,2026-11-20,10.00,TRY\n" for n in range(1, 4) for k in (1, 2)
    )
    drop(stack, "customers/shared.csv", customers)
    stack.drain(context)
    drop(stack, "invoices/shared.csv", invoices)
    stack.drain(context)
    directory = PayerDirectoryTable(OnePerPage(stack.dynamodb), stack.table)
    found = directory.accounts_of_iban(iban)
    assert sorted(a.account_id for a in found) == ["PA11", "PA12", "PA21", "PA22", "PA31", "PA32"]
    assert {a.customer_id for a in found} == {"P1", "P2", "P3"}
