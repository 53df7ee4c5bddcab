from datetime import date
from decimal import Decimal

import pytest
from receivables.domain.records import Invoice, validate_customer, validate_invoice

GOOD_INVOICE = {
    "invoice_id": "INV-1",
    "customer_id": "C1",
    "account_id": "A1",
    "issue_date": "2026-11-01",
    "due_date": "2026-11-15",
    "amount": "100.5",
    "currency": "TRY",
}
GOOD_CUSTOMER = {
    "customer_id": "C1",
    "name": "Ayşe",
    "type": "individual",
    "city": "İstanbul",
    "phone": "+905321234567",
    "language": "tr",
}


def test_a_good_invoice_row():
    invoice = validate_invoice({**GOOD_INVOICE, "subscription_id": "", "description": " Kasım "})
    assert invoice == Invoice(
        "INV-1", "C1", "A1", date(2026, 11, 1), date(2026, 11, 15), Decimal("100.50"), "TRY", None, "Kasım"
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"invoice_id": ""}, "invoice_id: missing"),
        ({"due_date": "15.11.2026"}, "due_date: '15.11.2026' is not an ISO 8601 date"),
        ({"due_date": "2026-02-30"}, "due_date: '2026-02-30' is not an ISO 8601 date"),
        ({"issue_date": "20261101"}, "issue_date: '20261101' is not an ISO 8601 date"),
        ({"amount": "-1"}, "amount: amount must be greater than 0"),
        ({"amount": "1.005"}, "amount: amount '1.005' has 3 decimals"),
        ({"currency": "TL"}, "currency: unknown currency 'TL'"),
        ({"amount": "١٠٠"}, "amount: amount '١٠٠' is not a decimal number"),
        ({"amount": "1" * 16}, "amount: amount '1111111111111111' has more than 15 integer digits"),
        ({"due_date": "2026-10-01"}, "due_date: 2026-10-01 is before issue_date 2026-11-01"),
        ({"account_id": "A#1"}, "account_id: 'A#1' is not a valid identifier"),
    ],
)
def test_each_invoice_problem_is_named(change, reason):
    errors = validate_invoice({**GOOD_INVOICE, **change})
    assert isinstance(errors, list) and any(e.startswith(reason) for e in errors), errors


def test_all_problems_of_a_row_are_reported_together():
    errors = validate_invoice({**GOOD_INVOICE, "amount": "0", "currency": "", "issue_date": "x"})
    assert [e.split(":")[0] for e in errors] == ["issue_date", "amount", "currency"]


def test_a_good_customer_keeps_extra_columns_as_attributes():
    customer = validate_customer(
        {
            **GOOD_CUSTOMER,
            "email": "",
            "iban": "TR33 0006 1005 1978 6457 8413 26",
            "vip": "TRUE",
            "risk_score": "1000",
            "region": "Marmara",
        }
    )
    assert not isinstance(customer, list)
    assert customer.iban == "TR330006100519786457841326" and customer.vip and customer.risk_score == 1000
    assert customer.email is None and customer.attributes == {"region": "Marmara"}


@pytest.mark.parametrize(
    "written",
    [
        "tr33-0006-1005-1978-6457-8413-26",
        "TR33.0006.1005.1978.6457.8413.26",
        "IBAN: TR33 0006 1005 1978 6457 8413 26",
        "TR33\u00a00006\u00a01005\u00a01978\u00a06457\u00a08413\u00a026",
    ],
)
def test_a_customer_iban_is_stored_in_its_one_compact_form_however_written(written):
    customer = validate_customer({**GOOD_CUSTOMER, "iban": written})
    assert not isinstance(customer, list), customer
    assert customer.iban == "TR330006100519786457841326"


def test_a_customer_iban_is_checked_for_shape_not_checksum():
    customer = validate_customer({**GOOD_CUSTOMER, "iban": "TR33 0006 1005 1978 6457 8413 27"})  # wrong check digits
    assert not isinstance(customer, list) and customer.iban == "TR330006100519786457841327"
    errors = validate_customer({**GOOD_CUSTOMER, "iban": "IBAN: 0006 1005 1978"})
    assert errors == ["iban: 'IBAN: 0006 1005 1978' is not an IBAN (country code, 2 check digits, account number)"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "company"}, "type"),
        ({"phone": "05321234567"}, "phone"),
        ({"phone": "+90 532 123 45 67"}, "phone"),
        ({"language": "de"}, "language"),
        ({"email": "not-an-email"}, "email"),
        ({"iban": "TR000000"}, "iban"),
        ({"vip": "maybe"}, "vip"),
        ({"risk_score": "1001"}, "risk_score"),
        ({"risk_score": "-1"}, "risk_score"),
        ({"name": ""}, "name"),
    ],
)
def test_each_customer_problem_is_named(change, field):
    errors = validate_customer({**GOOD_CUSTOMER, **change})
    assert isinstance(errors, list) and errors[0].startswith(f"{field}:"), errors


def test_customer_fingerprint_changes_with_content_only():
    a = validate_customer(GOOD_CUSTOMER)
    b = validate_customer(dict(GOOD_CUSTOMER))
    c = validate_customer({**GOOD_CUSTOMER, "city": "Ankara"})
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


# --- auto-pay instructions (talimat) ---------------------------------------------------------------------------------

VISA_TEST_PAN = "4111111111111111"  # the well-known test number: 16 digits, Luhn-valid


def test_a_card_instruction_names_its_bank_and_the_vaults_token():
    customer = validate_customer(
        {**GOOD_CUSTOMER, "autopay_method": "Card", "autopay_bank_id": "garanti", "autopay_token": "tok_8f2a9c01"}
    )
    assert not isinstance(customer, list)
    assert (customer.autopay_method, customer.autopay_bank_id, customer.autopay_token) == (
        "card",
        "garanti",
        "tok_8f2a9c01",
    )
    assert customer.attributes == {}


@pytest.mark.parametrize(
    "token", [VISA_TEST_PAN, "4111 1111 1111 1111", "4111-1111-1111-1111", "5500005555555559", "378282246310005"]
)
def test_a_card_number_is_refused_and_never_repeated(token):
    errors = validate_customer(
        {**GOOD_CUSTOMER, "autopay_method": "card", "autopay_bank_id": "garanti", "autopay_token": token}
    )
    assert errors == ["autopay_token: looks like a card number (PAN); send the card vault's token instead"]
    assert all(token not in e and token.replace(" ", "") not in e for e in errors)


def test_a_card_number_in_any_other_column_is_refused_without_its_value():
    errors = validate_customer({**GOOD_CUSTOMER, "kart_no": VISA_TEST_PAN})
    assert errors == ["kart_no: looks like a card number (PAN); we never keep card numbers"]


def test_a_long_number_that_fails_luhn_is_an_ordinary_token():
    customer = validate_customer(
        {
            **GOOD_CUSTOMER,
            "autopay_method": "bank_scheme",
            "autopay_bank_id": "akbank",
            "autopay_token": "4111111111111112",
        }
    )
    assert not isinstance(customer, list) and customer.autopay_token == "4111111111111112"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"autopay_method": "cash"}, "autopay_method: 'cash' is not one of card, direct_debit, bank_scheme"),
        ({"autopay_method": "card", "autopay_token": "t1"}, "autopay_bank_id: missing (which bank collects by card)"),
        (
            {"autopay_method": "card", "autopay_bank_id": "garanti"},
            "autopay_token: missing (the card instruction's token)",
        ),
        ({"autopay_bank_id": "garanti"}, "autopay_method: missing (card, direct_debit or bank_scheme)"),
        ({"autopay_method": "direct_debit"}, "autopay_method: direct_debit needs the customer's mandate"),
    ],
)
def test_an_incomplete_instruction_is_refused_naming_what_is_missing(fields, reason):
    errors = validate_customer({**GOOD_CUSTOMER, **fields})
    assert isinstance(errors, list) and any(e.startswith(reason) for e in errors), errors


def test_logs_never_carry_a_card_number_or_a_token():
    from receivables.privacy import mask_personal_data

    line = f'{{"autopay_token": "tok_1", "message": "card {VISA_TEST_PAN} and 4111 1111 1111 1111 declined"}}'
    masked = mask_personal_data(line)
    assert VISA_TEST_PAN not in masked and "4111 1111" not in masked and "tok_1" not in masked
    assert masked.count("<pan>") == 2
    assert mask_personal_data("entry 20261124000123") == "entry 20261124000123"  # not Luhn-valid: kept
