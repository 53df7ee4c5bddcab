from decimal import Decimal

import pytest
from receivables.banking.statement import BankFormat, BankTransaction, Direction
from receivables.payments.matching import AccountRef, ItemRef, MatchMethod, PolicyRef, match_payer, reference_tokens


def tx(**fields):
    base = {
        "source_format": BankFormat.CAMT_053,
        "position": "Stmt[1]/Ntry[1]",
        "direction": Direction.CREDIT,
        "amount": Decimal("100.00"),
        "currency": "TRY",
    }
    return BankTransaction(**{**base, **fields})


ITEMS = {
    "INV-1": ItemRef(item_id="INV-1", account_id="A1", currency="TRY"),
    "INV-2": ItemRef(item_id="INV-2", account_id="A1", currency="TRY"),
    "INV-9": ItemRef(item_id="INV-9", account_id="A2", currency="TRY"),
    "EUR-1": ItemRef(item_id="EUR-1", account_id="E1", currency="EUR"),
}
ACCOUNTS = {
    "A1": AccountRef(account_id="A1", customer_id="C1", currency="TRY"),
    "A2": AccountRef(account_id="A2", customer_id="C2", currency="TRY"),
}


POLICIES = {
    "POL-7": PolicyRef(
        policy_id="POL-7", account_id="CARI-C7-TRY", currency="TRY", open_items=("POL-7-T2", "POL-7-T3")
    ),
    "POL-8": PolicyRef(policy_id="POL-8", account_id="CARI-C8-TRY", currency="TRY", status="cancelled"),
}

STATEMENTS = {
    "ST-AG-1-2027-01": PolicyRef(
        policy_id="ST-AG-1-2027-01", account_id="CARI-AG-1-TRY", currency="TRY", open_items=("POL-3-T1",)
    ),
}


class Directory:
    items = ITEMS
    accounts_by_id = ACCOUNTS
    collections = {"RCVABC234": ItemRef(item_id="INV-2", account_id="A1", currency="TRY")}  # noqa: RUF012

    def open_items(self, candidates):
        upper = {k.upper(): v for k, v in self.items.items()}
        return {c: upper[c.upper()] for c in candidates if c.upper() in upper}

    def accounts(self, candidates):
        return {c: self.accounts_by_id[c.upper()] for c in candidates if c.upper() in self.accounts_by_id}

    def policies(self, candidates):
        return {c: POLICIES[c.upper()] for c in candidates if c.upper() in POLICIES}

    def statements(self, candidates):
        return {c: STATEMENTS[c.upper()] for c in candidates if c.upper() in STATEMENTS}

    def accounts_of_iban(self, iban):
        return [self.accounts_by_id["A2"]] if iban == "TR330006100519786457841326" else []

    def collected_item(self, end_to_end_id):
        return self.collections.get(end_to_end_id)


def test_tokens_in_order_of_appearance_whole_words_case_insensitive():
    t = tx(
        remittance_lines=("Ödeme: fatura inv-2, INV-1.", "abonelik"),
        structured_references=("RF18INV1",),
        customer_reference="INV-2",
        end_to_end_id="E2E-77",
    )
    tokens = [tok.casefold() for tok in reference_tokens(t)]
    assert tokens.index("inv-2") < tokens.index("inv-1") and "rf18inv1" in tokens and "e2e-77" in tokens
    assert tokens.count("inv-2") == 1


def test_invoice_references_win_and_are_paid_first_in_order():
    decision = match_payer(tx(remittance_lines=("paying inv-2 and INV-1",)), Directory())
    assert decision.method is MatchMethod.INVOICE_REFERENCE and decision.allocatable
    assert decision.first_items == ("INV-2", "INV-1") and decision.account_ids == ("A1",)


def test_invoices_of_several_accounts_in_one_payment_wait_for_a_person():
    decision = match_payer(tx(remittance_lines=("paying inv-2 and INV-9",)), Directory())
    assert not decision.allocatable and "INV-9 (A2)" in decision.reason


def test_references_glued_to_labels_or_each_other_or_cut_at_a_line_end_are_found():
    for lines in (("REF:INV-1",), ("INV-1/INV-2",), ("#INV-1",), ("Fatura No:INV-1.",), ("odeme INV-", "1 tesekkur")):
        decision = match_payer(tx(remittance_lines=lines), Directory())
        assert decision.method is MatchMethod.INVOICE_REFERENCE and "INV-1" in decision.first_items, lines


def test_only_incoming_payments_are_matched():
    with pytest.raises(ValueError, match="only incoming"):
        match_payer(tx(direction=Direction.DEBIT), Directory())


def test_turkish_capital_i_folds_to_i():
    decision = match_payer(tx(remittance_lines=("Fatura İNV-2 ödemesi",)), TurkishDirectory())
    assert decision.first_items == ("INV-2",)


class TurkishDirectory(Directory):
    def open_items(self, candidates):
        from receivables.domain.text import fold

        return {c: ITEMS[fold(c).upper()] for c in candidates if fold(c).upper() in ITEMS}


def test_a_partial_token_is_not_a_match():
    decision = match_payer(tx(remittance_lines=("INV-10 and XINV-1",)), Directory())
    assert decision.method is MatchMethod.UNMATCHED


def test_end_to_end_id_counts_as_a_reference():
    assert match_payer(tx(end_to_end_id="INV-9"), Directory()).account_ids == ("A2",)


def test_account_reference_then_iban_then_unmatched():
    assert match_payer(tx(remittance_lines=("hesap a1",)), Directory()).method is MatchMethod.ACCOUNT_REFERENCE
    by_iban = match_payer(tx(debtor_iban="TR330006100519786457841326"), Directory())
    assert by_iban.method is MatchMethod.IBAN and by_iban.account_ids == ("A2",) and "C2" in by_iban.reason
    unmatched = match_payer(tx(remittance_lines=("thanks",), debtor_iban="DE89370400440532013000"), Directory())
    assert unmatched.method is MatchMethod.UNMATCHED and not unmatched.allocatable
    assert "thanks" in unmatched.reason and "DE89370400440532013000" in unmatched.reason


def test_a_payment_in_another_currency_is_matched_but_not_allocated():
    decision = match_payer(tx(remittance_lines=("EUR-1",)), Directory())
    assert decision.method is MatchMethod.INVOICE_REFERENCE and not decision.allocatable
    assert "kept in EUR" in decision.reason


def test_the_booking_of_our_direct_debit_is_matched_by_its_end_to_end_id():
    decision = match_payer(tx(end_to_end_id="rcvabc234", remittance_lines=("INV-9",)), Directory())
    assert decision.method is MatchMethod.INVOICE_REFERENCE
    assert decision.first_items == ("INV-2",) and decision.account_ids == ("A1",)
    assert "our direct debit of invoice INV-2" in decision.reason


def test_an_end_to_end_id_with_our_prefix_that_we_never_sent_falls_through_to_the_references():
    decision = match_payer(tx(end_to_end_id="RCVUNKNOWN", remittance_lines=("INV-9",)), Directory())
    assert decision.first_items == ("INV-9",)


def test_a_policy_id_pays_its_open_installments_first_over_its_payers_current_account():
    decision = match_payer(tx(remittance_lines=("Police pol-7 taksit",)), Directory())
    assert decision.method is MatchMethod.POLICY_REFERENCE and decision.allocatable
    assert decision.account_ids == ("CARI-C7-TRY",) and decision.first_items == ("POL-7-T2", "POL-7-T3")
    assert "policy POL-7 named" in decision.reason


def test_a_cancelled_policy_named_still_finds_its_payer_never_suspense():
    decision = match_payer(tx(remittance_lines=("POL-8",)), Directory())
    assert decision.method is MatchMethod.POLICY_REFERENCE and decision.account_ids == ("CARI-C8-TRY",)
    assert decision.first_items == () and "(cancelled)" in decision.reason


def test_an_installment_id_is_an_invoice_reference_before_its_policy():
    directory = Directory()
    directory.items = {**ITEMS, "POL-7-T3": ItemRef(item_id="POL-7-T3", account_id="CARI-C7-TRY", currency="TRY")}
    decision = match_payer(tx(remittance_lines=("POL-7-T3 POL-7",)), directory)
    assert decision.method is MatchMethod.INVOICE_REFERENCE and decision.first_items == ("POL-7-T3",)


def test_an_agency_statement_id_pays_its_items_first_over_the_agencys_account():
    decision = match_payer(tx(remittance_lines=("Ocak ekstresi st-ag-1-2027-01 net",)), Directory())
    assert decision.method is MatchMethod.STATEMENT_REFERENCE and decision.first_items == ("POL-3-T1",)
    assert decision.account_ids == ("CARI-AG-1-TRY",) and "statement ST-AG-1-2027-01" in decision.reason
