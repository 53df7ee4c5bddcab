"""CRM master data: accounts/ and subscriptions/ files, and customers' addresses and national ids. An account still
opens on first sight from an invoice; it takes its master data whether that arrives before or after."""

from __future__ import annotations

from receivables import bootstrap

from tests.integration.test_loading_pipeline import drop, report

CUSTOMERS = """customer_id,name,type,city,phone,language,address,postal_code,district,national_id
C1,Ayşe Yılmaz,individual,İstanbul,+905321234567,tr,Bağdat Cad. 10,34710,Kadıköy,10000000146
C2,Acme Ltd,corporate,Ankara,+903121234567,en,,,,4540536920
C3,Bad Id,individual,İzmir,+905321234568,tr,,,,12345678901
"""
ACCOUNTS = """account_id,customer_id,account_type,name,billing_address,city,postal_code,status
A1,C1,corporate,Ayşe's line,Moda Cad. 5,İstanbul,34710,active
A2,C2,,Acme HQ,,,,
A3,C9,standard,,,,,
A4,C1,bad type!,,,,,
"""
INVOICES = """invoice_id,customer_id,account_id,issue_date,due_date,amount,currency,subscription_id
INV-1,C1,A1,2026-10-01,2026-10-15,100.00,TRY,S1
INV-2,C2,A2,2026-10-01,2026-10-15,50.00,TRY,
"""
SUBSCRIPTIONS = """subscription_id,account_id,service,msisdn,meter,line_id,status
S1,A1,mobile,+905321234567,,,active
S2,A2,electricity,,MTR-77,,active
S1,A2,mobile,,,,active
S3,A9,fiber,,,L-1,active
"""


def record(stack, pk, sk):
    return stack.dynamodb.get_item(TableName=stack.table, Key={"pk": {"S": pk}, "sk": {"S": sk}}).get("Item")


def test_accounts_take_their_master_data_before_or_after_their_first_invoice(stack, context):
    drop(stack, "customers/crm.csv", CUSTOMERS)
    stack.drain(context)
    assert [(r["line"], r["reason"]) for r in report(stack, "customers/crm.csv")] == [
        ("4", "national_id: not a valid TCKN (its check digits do not match)")
    ]
    customer = stack.root("api", bootstrap.ledger_reader).get_customer("C1")
    assert (customer.address, customer.postal_code, customer.district, customer.national_id) == (
        "Bağdat Cad. 10",
        "34710",
        "Kadıköy",
        "10000000146",
    )

    drop(stack, "accounts/crm.csv", ACCOUNTS)  # before any invoice: A1 and A2 are not open yet
    stack.drain(context)
    assert [(r["line"], r["reason"]) for r in report(stack, "accounts/crm.csv")] == [
        ("4", "customer_id: customer C9 is not loaded (load the customers file first)"),
        ("5", "account_type: 'bad type!' is not an account type (letters, digits, _ . -, ≤ 64)"),
    ]
    drop(stack, "invoices/i.csv", INVOICES)
    stack.drain(context)
    reader = stack.root("api", bootstrap.ledger_reader)
    a1, a2 = reader.get_account("A1"), reader.get_account("A2")
    assert (a1.account_type, a1.name, a1.billing_address, a1.city, a1.postal_code, a1.status) == (
        "corporate",
        "Ayşe's line",
        "Moda Cad. 5",
        "İstanbul",
        "34710",
        "active",
    )
    assert a2.account_type == "standard" and a2.name == "Acme HQ"

    # After: the open account takes the change at once; an account never changes customer.
    drop(stack, "accounts/crm-2.csv", "account_id,customer_id,account_type\nA2,C2,key_account\nA1,C2,standard\n")
    stack.drain(context)
    assert reader.get_account("A2").account_type == "key_account"
    assert [(r["line"], r["reason"]) for r in report(stack, "accounts/crm-2.csv")] == [
        ("3", "account_id: account A1 belongs to customer C1, not C2")
    ]
    assert record(stack, "ACCT#A1", "ACCOUNT")["account_type"]["S"] == "corporate"

    drop(stack, "subscriptions/crm.csv", SUBSCRIPTIONS)
    stack.drain(context)
    assert [(r["line"], r["reason"]) for r in report(stack, "subscriptions/crm.csv")] == [
        ("4", "subscription_id: subscription S1 bills to account A1, not A2"),
        ("5", "account_id: account A9 is not known (load its account or invoices first)"),
    ]
    s1, s2 = record(stack, "ACCT#A1", "SUB#S1"), record(stack, "ACCT#A2", "SUB#S2")
    assert (s1["service"]["S"], s1["msisdn"]["S"], s1["status"]["S"]) == ("mobile", "+905321234567", "active")
    assert "first_billed_on" in s1  # the invoice's subscription record, enriched
    assert (s2["service"]["S"], s2["meter"]["S"]) == ("electricity", "MTR-77")
    assert record(stack, "SUBID#S2", "SUBSCRIPTION")["account_id"]["S"] == "A2"


def test_a_letter_goes_to_the_billing_address_else_the_customers(stack, context):
    from receivables.adapters.dunning_table import postal_address

    account = {"billing_address": {"S": "Moda Cad. 5"}, "billing_postal_code": {"S": "34710"}}
    customer = {"address": {"S": "Bağdat Cad. 10"}, "postal_code": {"S": "34728"}, "city": {"S": "İstanbul"}}
    assert postal_address(account, customer) == ("Moda Cad. 5", "34710")
    customer["district"] = {"S": "Kadıköy"}
    assert postal_address({}, customer) == ("Bağdat Cad. 10", "34728 Kadıköy / İstanbul")
    assert postal_address({}, {"city": {"S": "İzmir"}}) == ()
