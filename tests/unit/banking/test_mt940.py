"""MT940/MT942 parsing: every pitfall of the Payments issue (section 1) against hand-written fixtures, then the public
sample files when they are present (shared/bank-samples/mt940), compared with the package's expected results."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from receivables.banking.mt940 import is_mt940, parse_mt940
from receivables.banking.statement import BankFileError, BankFormat, BankTransaction, Direction, EntryStatus
from receivables.payments.matching import reference_tokens

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "banks" / "mt940"
SAMPLES = Path(__file__).resolve().parents[4] / "shared" / "bank-samples" / "mt940"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse(name: str):
    return parse_mt940(fixture(name))


def by_reference(transactions: tuple[BankTransaction, ...]) -> dict[str, BankTransaction]:
    return {t.bank_reference: t for t in transactions if t.bank_reference}


# --- recognising the format ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("marks-and-amounts.sta", BankFormat.MT940),
        ("swift-blocks-crlf.sta", BankFormat.MT940),  # {1:}{2:}{4: blocks, SOH/ETX, -} trailers, CRLF
        ("bank-quirks.sta", BankFormat.MT940),  # header lines before :20:, :28: instead of :28C:
        ("turkish-windows-1254.sta", BankFormat.MT940),
        ("mt942.sta", BankFormat.MT942),
        ("not-mt940.csv", None),
    ],
)
def test_recognised_by_content(name, expected):
    assert is_mt940(fixture(name)[:2048]) == expected


def test_not_recognised_without_statement_header():
    camt = b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt/>'
    fragment = b":61:1811261126CR30,00N062NONREF\n:86:166?00GUTSCHR. UEBERWEISUNG\n"  # entries without :20:/:25:
    for head in (camt, fragment, b"", b"\x00\x01\x02binary"):
        assert is_mt940(head) is None


def test_head_cut_inside_a_multibyte_character_is_still_recognised():
    data = fixture("turkish-utf-8.sta")
    cut = data.index("Ş".encode()) + 1
    assert is_mt940(data[:cut]) == BankFormat.MT940


def test_mt942_recognised_by_swift_application_header():
    body = fixture("marks-and-amounts.sta").decode().replace("-\n", "")
    framed = "{1:F01EXBKDEFFAXXX0000000000}{2:O9421200260306EXBKDEFFAXXX00000000002603061200N}{4:\n" + body + "-}\n"
    assert is_mt940(framed.encode()) == BankFormat.MT942
    assert parse_mt940(framed.encode()).source_format == BankFormat.MT942


def test_a_file_that_is_not_mt940_is_refused_whole():
    with pytest.raises(BankFileError, match=r"not an MT940/MT942 file: no :20:"):
        parse("not-mt940.csv")
    with pytest.raises(BankFileError, match="empty file"):
        parse_mt940(b"  \r\n")


# --- :61: marks, amounts, references ---------------------------------------------------------------------------------


def test_marks_give_direction_and_reversal():
    entries = by_reference(parse("marks-and-amounts.sta").transactions)
    credit, debit = entries["BR26030200001"], entries["BR26030200002"]
    reversed_credit, reversed_debit = entries["BR26030300003"], entries["BR26030300004"]
    assert (credit.direction, credit.reversal) == (Direction.CREDIT, False)
    assert (debit.direction, debit.reversal) == (Direction.DEBIT, False)
    # RC: the bank takes back an earlier credit, money leaves the account
    assert (reversed_credit.direction, reversed_credit.reversal) == (Direction.DEBIT, True)
    # RD: an earlier debit is given back, money comes in
    assert (reversed_debit.direction, reversed_debit.reversal) == (Direction.CREDIT, True)


def test_amounts_are_exact_decimals_with_comma_decimals_no_decimals_leading_zeros_and_funds_code():
    entries = by_reference(parse("marks-and-amounts.sta").transactions)
    assert entries["BR26030200001"].amount == Decimal("150.00")
    assert entries["BR26030200002"].amount == Decimal("9")  # '9,'
    funds_code = entries["BR26030400005"]  # 'CR000000001234,5': mark C, funds code R, leading zeros
    assert (funds_code.direction, funds_code.amount) == (Direction.CREDIT, Decimal("1234.5"))
    assert all(isinstance(t.amount, Decimal) for t in entries.values())
    assert {t.currency for t in entries.values()} == {"EUR"}


def test_statement_and_account_are_carried_on_every_entry():
    result = parse("marks-and-amounts.sta")
    assert (result.source_format, result.message_id, result.statements) == (BankFormat.MT940, "STMT-MARKS-01", 1)
    assert {(t.statement_id, t.account) for t in result.transactions} == {("STMT-MARKS-01", "DE89370400440532013000")}
    assert {t.status for t in result.transactions} == {EntryStatus.BOOKED}
    assert result.transactions[0].bank_transaction_code == "NTRF"


def test_customer_reference_nonref_is_none_and_a_real_one_is_kept():
    entries = by_reference(parse("marks-and-amounts.sta").transactions)
    assert entries["BR26030200001"].customer_reference == "INV-2026-0001"
    assert entries["BR26030200002"].customer_reference is None  # NONREF


def test_supplementary_details_are_remittance_information():
    entry = by_reference(parse("marks-and-amounts.sta").transactions)["BR26030600007"]
    assert entry.customer_reference == "REF-123"
    assert entry.remittance_lines == ("Supplementary details on the second line", "SUPPL DETAILS POL-2026-55")
    assert "POL-2026-55" in reference_tokens(entry)


def test_missing_bank_reference_is_derived_from_statement_number_index_amount_and_date():
    entry = parse("marks-and-amounts.sta").transactions[5]
    assert entry.bank_reference == "derived:DE89370400440532013000:STMT-MARKS-01:00042/001:6:C75:2026-03-05"
    # the same statement delivered again, framed differently, gives the same reference: posted once
    body = fixture("marks-and-amounts.sta").decode().replace("-\n", "")
    framed = "\x01{1:F01EXBKDEFFAXXX0000000000}{2:O940EXBKDEFFAXXXN}{4:\r\n" + body.replace("\n", "\r\n") + "-}\x03"
    again = parse_mt940(framed.encode()).transactions[5]
    assert again.bank_reference == entry.bank_reference
    assert again.position != entry.position  # one line further down


def statement(
    currency: str, *entries: str, account: str = "DE89370400440532013000", closing: str | None = None
) -> bytes:
    """One MT940 statement in ``currency`` holding the given :61:/:86: lines (the first :61: is on line 5), opening
    with 100,00 and closing with ``closing`` (by default 100,00 again)."""
    lines = [":20:STMT-INLINE", f":25:{account}", ":28C:00001/001", f":60F:C260601{currency}100,00"]
    closing = closing or f"C260602{currency}100,00"
    return "\n".join([*lines, *entries, f":62F:{closing}", "-", ""]).encode()


@pytest.mark.parametrize(
    ("currency", "amount", "expected"),
    [
        ("TRY", "10,500", "10.50"),  # extra decimals that are zeros are accepted
        ("TRY", "10,", "10.00"),
        ("JPY", "1000,", "1000"),
        ("JPY", "1000,00", "1000"),
        ("BHD", "1,250", "1.250"),
        ("EUR", "000000001234,5", "1234.50"),
        ("EUR", "123456789012,34", "123456789012.34"),  # 15 characters: the most SWIFT allows
    ],
)
def test_amounts_are_quantized_to_the_currency_minor_units(currency, amount, expected):
    (entry,) = parse_mt940(statement(currency, f":61:2606010601C{amount}NTRFNONREF//REF-1")).transactions
    assert (str(entry.amount), entry.currency) == (expected, currency)


@pytest.mark.parametrize(
    ("currency", "amount", "reason"),
    [
        ("TRY", "10,001", ":61: amount '10,001': 10.001 TRY has 3 significant decimals but TRY has 2"),
        ("JPY", "10,5", ":61: amount '10,5': 10.5 JPY has 1 significant decimal but JPY has 0"),
        ("EUR", "1234567890123,45", ":61: amount '1234567890123,45' is 16 characters long; SWIFT allows at most 15"),
        ("EUR", "0000000000001234,56", "is 19 characters long"),  # leading zeros count: 15d is a length
    ],
)
def test_an_amount_finer_than_its_currency_or_longer_than_15_characters_is_rejected_never_rounded(
    currency, amount, reason
):
    data = statement(currency, f":61:2606010601C{amount}NTRFNONREF//BAD-1", ":61:2606010601C5,NTRFNONREF//OK-2")
    result = parse_mt940(data)
    (rejection,) = result.rejections
    assert rejection.position == "statement 1 / :61: #1 (line 5)"
    assert reason in rejection.reason
    assert [t.bank_reference for t in result.transactions] == ["OK-2"]  # the file goes on


def test_a_derived_reference_keeps_the_amount_as_written_so_it_does_not_change():
    (entry,) = parse_mt940(statement("EUR", ":61:2606010601C75,5NTRFNONREF")).transactions
    assert str(entry.amount) == "75.50"
    assert entry.bank_reference == "derived:DE89370400440532013000:STMT-INLINE:00001/001:1:C75.5:2026-06-01"


def test_ibans_written_in_groups_or_with_a_label_are_read_in_their_one_compact_form():
    data = statement(
        "EUR",
        ":61:2606010601C5,00NTRFNONREF//REF-1",
        "IBAN: NL91-ABNA-0417-1643-00",
        account="IBAN DE89 3704 0044 0532 0130 00",
    )
    (entry,) = parse_mt940(data).transactions
    assert (entry.account, entry.debtor_iban) == ("DE89370400440532013000", "NL91ABNA0417164300")
    assert entry.remittance_lines == ()  # the IBAN in the supplementary details is no remittance information


# --- dates -----------------------------------------------------------------------------------------------------------


def test_entry_date_crosses_new_year_both_ways():
    first, second, third = parse("year-end.sta").transactions
    assert (first.value_date, first.booking_date) == (date(2026, 12, 31), date(2027, 1, 2))
    assert (second.value_date, second.booking_date) == (date(2027, 1, 2), date(2026, 12, 31))
    assert (third.value_date, third.booking_date) == (date(2026, 12, 30), None)  # no entry date given


# --- :86: ------------------------------------------------------------------------------------------------------------


def test_hard_wrapped_details_are_joined_without_a_space_where_the_wrap_cut_a_reference():
    wrapped, trailing_space = parse("wrapped-details.sta").transactions
    # The glued reading first; the other (a space at every break) is kept for matching, as a line that is exactly
    # as long as the wrap may also end on a whole word.
    assert wrapped.remittance_lines[0] == (
        "PAYMENT FOR POLICY POL-2026-88123 AND INVOICES INV-2026-0400 INV-2026-0401 THANK YOU CUSTOMER ACC-20077"
    )
    assert "INV- 2026-0401" in wrapped.remittance_lines[1]
    tokens = reference_tokens(wrapped)
    assert {"INV-2026-0400", "INV-2026-0401", "ACC-20077"} <= set(tokens)
    assert trailing_space.remittance_lines == ("X" * 60 + "END NEXT WORD AFTER A TRAILING SPACE",)


def test_german_structured_details():
    sepa, returned, plain = parse("german-gvc.sta").transactions
    assert sepa.end_to_end_id == "E2E-2026-0415-77"
    assert sepa.customer_reference == "KD-991"  # KREF+, the :61: says NONREF
    assert sepa.mandate_id == "MANDAT-2019-0042"
    assert sepa.debtor_iban == "DE41500105170123456789"
    assert sepa.debtor_name == "Müller-Lüdenscheidt Bauunternehmen GmbH"  # ?32/?33 cut inside a word
    assert sepa.remittance_lines == ("Zahlung Rechnung INV-2026-0150 Kunde ACC-4711",)  # ?24/?25 cut the reference
    assert "INV-2026-0150" in reference_tokens(sepa)

    assert returned.end_to_end_id is None  # EREF+NOTPROVIDED
    assert (returned.debtor_iban, returned.debtor_account) == (None, "37040044/0532013000")
    assert returned.remittance_lines == ("Miete April Wohnung 3",)  # short sub-fields end at a word
    assert plain.remittance_lines == ("Beitrag 2026 Police POL-77812",)  # no SEPA keywords: the whole purpose


def test_dutch_structured_details():
    transfer, rabobank, returned = parse("dutch-structured.sta").transactions
    assert transfer.remittance_lines == ("FACTUUR INV-2026-0042 EN INV-2026-0043",)
    assert (transfer.end_to_end_id, transfer.debtor_name) == ("E2E-NL-0042", "J. DE VRIES")
    assert transfer.debtor_iban == "NL91ABNA0417164300"
    assert [t for t in reference_tokens(transfer) if t.startswith("INV")] == ["INV-2026-0042", "INV-2026-0043"]

    assert rabobank.end_to_end_id is None  # NOTPROVIDED
    assert (rabobank.debtor_name, rabobank.debtor_iban) == ("BAKKERIJ DE ZON", "NL44RABO0123456789")  # /CNTP/
    assert rabobank.remittance_lines == ("KLANT ACC-55012",)  # /REMI/USTD//

    assert (returned.direction, returned.reversal, returned.return_reason) == (Direction.DEBIT, True, "MD06")
    assert (returned.end_to_end_id, returned.mandate_id) == ("E2E-NL-0007", "MANDATE-77")
    assert returned.structured_references == ("RF18539007547034",)  # /REMI/STRD/CUR/
    assert returned.debtor_iban == "NL91ABNA0417164300"  # cut across two lines


def references(transaction: BankTransaction) -> list[str]:
    return [token for token in reference_tokens(transaction) if any(c.isdigit() for c in token)]


def test_turkish_statement_in_utf8_windows_1254_and_ascii_transliteration():
    utf8, cp1254, ascii_only = (parse(f"turkish-{kind}.sta") for kind in ("utf-8", "windows-1254", "ascii"))
    assert utf8 == cp1254
    first = utf8.transactions[0]
    assert (first.account, first.currency, first.amount) == ("0123/98765432", "TRY", Decimal("12500.00"))
    assert first.remittance_lines == ("EFT GELEN - GÖNDEREN: ŞAHİN İNŞAAT LTD. ŞTİ. AÇIKLAMA: ACC-10077 AİDAT ÖDEMESİ",)
    assert "ACC-10077" in reference_tokens(first)
    wrapped = utf8.transactions[1]
    assert "INV-2026-0102" in reference_tokens(wrapped)  # cut at the 65th character, inside the reference

    transliterate = str.maketrans("ÇĞİÖŞÜçğıöşü", "CGIOSUcgiosu")
    for original, plain in zip(utf8.transactions, ascii_only.transactions, strict=True):
        assert plain.remittance_lines == tuple(line.translate(transliterate) for line in original.remittance_lines)
        assert (plain.amount, plain.direction, plain.bank_reference, plain.value_date) == (
            original.amount,
            original.direction,
            original.bank_reference,
            original.value_date,
        )
        # matching tokenises ASCII only, so compare the references (tokens with digits), not the Turkish words
        assert references(plain) == references(original)


# --- returns told only by :86: -------------------------------------------------------------------------------------
# The payments service takes an entry down its return path when ``reversal`` is set (or a debit has a
# ``return_reason``): anything else that is a credit is a customer payment and pays invoices.


def test_returns_marked_only_in_the_details_are_returns_in_every_dialect():
    entries = by_reference(parse("returns-in-details.sta").transactions)
    returns = {
        # German: GVC 159 RETOURE, a refund we sent coming back (a credit); DK return key ?34 901, no ISO code
        "DE260421R001": (Direction.CREDIT, None),
        # German: GVC 109 RUECKLASTSCHRIFT, our collection taken back (a debit), MD06 in the purpose
        "DE260422R002": (Direction.DEBIT, "MD06"),
        # Dutch: /RTRN/ on a credit (a refund returned) and on a debit (a collection returned)
        "NL26050700001": (Direction.CREDIT, "AC04"),
        "NL26050700002": (Direction.DEBIT, "MD06"),
        # free text: a keyword and a code, a code alone, a keyword alone with a code
        "FT26060200001": (Direction.CREDIT, "AC07"),
        "FT26060200002": (Direction.DEBIT, "MD06"),
        "FT26060200003": (Direction.CREDIT, "BE05"),
        # Turkish free text: İADE
        "TR2605030000001": (Direction.CREDIT, None),
    }
    for reference, (direction, reason) in returns.items():
        entry = entries[reference]
        assert (entry.direction, entry.reversal, entry.return_reason) == (direction, True, reason), reference
        assert any("return" in note for note in entry.assumptions), reference
    german = entries["DE260421R001"].assumptions[0]
    assert "GVC 159" in german and "RETOURE" in german and "?34 901" in german


def test_payments_that_only_look_like_returns_stay_payments():
    entries = by_reference(parse("returns-in-details.sta").transactions)
    for reference in ("DE260422R003", "FT26060200004", "TR2605030000002"):  # 'PO L-AC07', 'ACC-AC07 RETURNS-DEPT'
        entry = entries[reference]
        assert (entry.direction, entry.reversal, entry.return_reason) == (Direction.CREDIT, False, None), reference
        assert entry.assumptions == (), reference


def test_a_marked_reversal_takes_the_reason_code_from_its_details():
    data = statement(
        "EUR",
        ":61:2606020602RC35,00NDDTNONREF//RC-1",
        ":86:SEPA DD RETURNED AM04 INSUFFICIENT FUNDS",
        closing="C260602EUR65,00",
    )
    (entry,) = parse_mt940(data).transactions
    assert (entry.direction, entry.reversal, entry.return_reason) == (Direction.DEBIT, True, "AM04")


# --- balances --------------------------------------------------------------------------------------------------------


def test_a_statement_that_does_not_add_up_is_reported_and_still_read():
    data = statement(
        "EUR",
        ":61:2606020602C7300,00NTRFNONREF//BAL-1",
        ":86:PREMIUM INV-2026-0500",
        ":61:2606020602D80,00NCHGNONREF//BAL-2",
        closing="C260602EUR100,00",  # 100 + 7,300 - 80 is 7,320.00, not 100.00
    )
    parsed = parse_mt940(data)
    assert len(parsed.transactions) == 2
    (warning,) = parsed.balance_warnings
    assert (warning.statement, warning.line, warning.currency) == ("statement 1 (:20: STMT-INLINE)", 1, "EUR")
    assert (warning.opening, warning.booked, warning.closing, warning.difference) == (
        Decimal("100"),
        Decimal("7220.00"),
        Decimal("100"),
        Decimal("-7220.00"),
    )
    assert "off by -7220.00 EUR" in warning.reason


def test_debit_balances_reversals_and_unreadable_entries_in_the_balance_check():
    data = statement(
        "EUR",
        ":61:2606020602RC30,00NTRFNONREF//BAL-3",  # a reversed credit takes money out
        ":61:2606020602RD10,00NTRFNONREF//BAL-4",  # a reversed debit puts it back
        ":61:2606020602C12a,00NTRFNONREF//BAL-5",  # cannot be read: cannot be counted
        closing="D260602EUR20,00",
    )
    (warning,) = parse_mt940(data).balance_warnings  # 100 - 30 + 10 = 80, closing is -20
    assert (warning.booked, warning.closing, warning.difference, warning.unread_entries) == (
        Decimal("-20.00"),
        Decimal("-20"),
        Decimal("-100.00"),
        1,
    )
    assert "1 booked entries could not be read" in warning.reason
    balanced = statement("EUR", ":61:2606020602RC30,00NTRFNONREF//BAL-3", closing="C260602EUR70,")
    assert parse_mt940(balanced).balance_warnings == ()


@pytest.mark.parametrize("name", ["returns-in-details.sta", "german-gvc.sta", "turkish-windows-1254.sta", "mt942.sta"])
def test_statements_that_add_up_or_have_no_balances_give_no_warning(name):
    assert parse(name).balance_warnings == ()


# --- encodings and line endings --------------------------------------------------------------------------------------


def test_encoding_fallback_order():
    text = ":20:ENC\n:25:0123/98765432\n:28C:1/1\n:60F:C260101TRY0,00\n:61:2601010101C1,00NTRFNONREF//E1\n:86:{}\n"
    turkish = "İŞ ĞÜÇ".encode("iso-8859-9")
    # 0x81 is undefined in windows-1254, so ISO-8859-9 reads the file; 0xDD is İ there, not Ý as in Latin-1
    data = text.format("").encode().replace(b":86:", b":86:" + turkish + b" \x81X")
    assert parse_mt940(data).transactions[0].remittance_lines[0].startswith("İŞ ĞÜÇ ")
    latin1 = parse_mt940(data, encoding="iso-8859-1").transactions[0].remittance_lines[0]
    assert latin1.startswith("ÝÞ ÐÜÇ")  # a bank pinned to Latin-1 reads its own letters
    with_bom = b"\xef\xbb\xbf" + text.format("Çağrı").encode()
    assert parse_mt940(with_bom).transactions[0].remittance_lines == ("Çağrı",)
    with pytest.raises(BankFileError, match="cannot decode the file as utf-8"):
        parse_mt940(text.format("Ç").encode("windows-1254"), encoding="utf-8")


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_line_endings_do_not_matter(newline):
    lf = fixture("german-gvc.sta")
    other = lf.decode().replace("\n", newline).encode()
    assert parse_mt940(other) == parse_mt940(lf)


# --- several statements, SWIFT framing, positions --------------------------------------------------------------------


def test_several_statements_with_swift_blocks_and_framing_bytes():
    result = parse("swift-blocks-crlf.sta")
    assert (result.statements, result.message_id, result.rejections) == (2, "BLOCKS-0402", ())
    assert [t.statement_id for t in result.transactions] == ["BLOCKS-0402", "BLOCKS-0403", "BLOCKS-0403"]
    assert {t.account for t in result.transactions} == {"NL91ABNA0417164300"}  # IBAN with currency suffix in :25:
    assert [t.position for t in result.transactions] == [
        "statement 1 / :61: #1 (line 6)",
        "statement 2 / :61: #1 (line 16)",
        "statement 2 / :61: #2 (line 19)",
    ]
    assert result.transactions[1].remittance_lines == ("INV-2026-0211",)


def test_bank_quirks_header_lines_split_tags_and_amount_on_next_line():
    result = parse("bank-quirks.sta")
    assert (result.statements, len(result.transactions), result.rejections) == (2, 5, ())
    first, card = result.transactions[:2]
    assert (first.amount, first.direction) == (Decimal("30.00"), Direction.CREDIT)  # 'CR' then the amount below
    assert first.remittance_lines == ("INV-2026-0300",)  # ':' alone, then '86:' on the next line
    assert card.remittance_lines == ("CARD PAYMENT 01.07.26 CAFE CENTRAAL",)  # a blank line before :86:
    third = result.transactions[4]
    assert third.position == "statement 2 / :61: #3 (line 28)"
    assert (third.statement_id, third.amount, third.remittance_lines) == (
        "QUIRKS-02",
        Decimal("3"),
        ("THIRD OF THREE",),
    )
    assert "ABNANL2A" not in " ".join(line for t in result.transactions for line in t.remittance_lines)


# --- MT942 -----------------------------------------------------------------------------------------------------------


def test_mt942_entries_are_pending_not_booked():
    result = parse("mt942.sta")
    assert result.source_format == BankFormat.MT942
    assert [(t.source_format, t.status, t.currency) for t in result.transactions] == [
        (BankFormat.MT942, EntryStatus.PENDING, "TRY"),
        (BankFormat.MT942, EntryStatus.PENDING, "TRY"),
    ]  # the currency comes from :34F:, there is no balance
    assert result.transactions[0].account == "TR840001000000012345678901"


# --- malformed entries -----------------------------------------------------------------------------------------------


def test_malformed_entries_are_rejected_with_position_and_reason_and_the_rest_parses():
    result = parse("malformed.sta")
    assert [t.bank_reference for t in result.transactions] == ["OK-0001", "OK-0008"]
    assert result.statements == 2
    reasons = {r.position: r.reason for r in result.rejections}
    assert list(reasons) == [
        "statement 1 / :61: #2 (line 7)",
        "statement 1 / :61: #3 (line 9)",
        "statement 1 / :61: #4 (line 11)",
        "statement 1 / :61: #5 (line 13)",
        "statement 1 / :61: #6 (line 15)",
        "statement 1 / :61: #7 (line 17)",
        "statement 2 / :61: #1 (line 25)",
    ]
    texts = list(reasons.values())
    assert "'12a,00" in texts[0] and "decimal comma" in texts[0]
    assert "value date 261301 is not a calendar date" in texts[1]
    assert "entry date 1340 (MMDD) is not a calendar date" in texts[2]
    assert "'1.234,56" in texts[3]
    assert "amount '0,00' is zero" in texts[4]
    assert "not a statement line" in texts[5] and "NOT A STATEMENT LINE" in texts[5]
    assert texts[6].startswith("no currency")
    assert result.transactions[1].position == "statement 1 / :61: #8 (line 18)"  # numbering counts rejected entries


def test_rejections_and_transactions_carry_the_line_of_their_61_tag():
    result = parse("malformed.sta")
    assert [r.line for r in result.rejections] == [7, 9, 11, 13, 15, 17, 25]
    assert [t.line for t in result.transactions] == [5, 18]
    stray = parse_mt940(b":61:2601010101C1,00NTRFNONREF//STRAY\n" + fixture("marks-and-amounts.sta"))
    assert stray.rejections[0].line == 1


def test_an_entry_before_any_statement_header_is_rejected():
    data = b":61:2601010101C1,00NTRFNONREF//STRAY\n" + fixture("marks-and-amounts.sta")
    result = parse_mt940(data)
    assert [(r.position, r.reason) for r in result.rejections] == [
        ("line 1", "a :61: entry before any :20: statement header")
    ]
    assert len(result.transactions) == 7


def test_other_digits_than_ascii_are_no_date():
    data = fixture("marks-and-amounts.sta").decode().replace(":61:2603020302C150", ":61:٢٦03020302C150").encode()
    rejection = parse_mt940(data).rejections[0]
    assert "value date" in rejection.reason


# --- public sample files ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    amount: Decimal  # signed as the package signs it: only D is negative (RC stays positive, release 5.0.0)
    mark: str
    value_date: date
    entry_date: date | None
    bank_reference: str | None
    customer_reference: str | None


def expected_entries(yml: Path) -> list[Expected]:
    """The package's expected results, read as text: they are pickled Python objects (never load them as YAML)."""
    text = yml.read_text(encoding="utf-8")
    blocks = re.split(r"\n- !!python/object:mt940\.models\.Transaction\n", text.split("\ntransactions:\n", 1)[1])
    return [_expected(block) for block in blocks if block.strip()]


def _expected(block: str) -> Expected:
    def scalar(key: str) -> str | None:
        found = re.search(rf"\n    {key}: (.*)", "\n" + block)
        value = found.group(1).strip().strip("'") if found else "null"
        return None if value == "null" else value

    def day(key: str) -> date | None:
        found = re.search(
            rf"\n    {key}: !!python/object/apply:mt940\.models\.Date\n    - !!binary \|\n\s+(\S+)", block
        )
        if not found:
            return None
        raw = base64.b64decode(found.group(1))  # the pickled date: year (2 bytes), month, day
        return date(raw[0] * 256 + raw[1], raw[2], raw[3])

    amount = re.search(r"amount: !!python/object/apply:decimal\.Decimal\n\s+- '([^']+)'", block)
    value_date = day("date")
    assert amount and value_date, block[:200]
    return Expected(
        amount=Decimal(amount.group(1)),
        mark=scalar("status") or "",
        value_date=value_date,
        entry_date=day("entry_date"),
        bank_reference=scalar("bank_reference"),
        customer_reference=scalar("customer_reference"),
    )


def samples() -> list[str]:
    return sorted(p.stem for p in SAMPLES.glob("*.yml")) if SAMPLES.is_dir() else []


needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason="public MT940 samples not present")
# The package lets a structured :86: (KREF+ or none) overwrite the :61: customer reference; we keep the :61: one.
_GERMAN_LAYOUT = {"betterplace-sepa_mt9401", "sparkassen"}


@needs_samples
@pytest.mark.parametrize("name", samples())
def test_public_sample_matches_the_expected_results(name):
    data = (SAMPLES / f"{name}.sta").read_bytes()
    expected = expected_entries(SAMPLES / f"{name}.yml")
    if name == "sparkassen":  # a fragment: two tags of one entry, no :20:/:25: header, no currency
        assert is_mt940(data) is None
        with pytest.raises(BankFileError):
            parse_mt940(data)
        return

    result = parse_mt940(data)
    assert result.rejections == ()
    assert result.statements == len(re.findall(rb"(?m)^:20:", data))
    assert len(result.transactions) == len(expected)
    for got, want in zip(result.transactions, expected, strict=True):
        assert got.amount == abs(want.amount), got.position
        credit = want.mark.upper() in ("C", "RD")
        assert got.direction == (Direction.CREDIT if credit else Direction.DEBIT), got.position
        # RC/RD, or a plain C/D whose :86: says it is a return (betterplace's GVC 159 RETOURE credits)
        told = any(note.startswith("return told by the :86: details") for note in got.assumptions)
        assert got.reversal == (want.mark.upper().startswith("R") or told), got.position
        assert (got.value_date, got.booking_date) == (want.value_date, want.entry_date), got.position
        if want.bank_reference in (None, "NONREF"):
            assert got.bank_reference and got.bank_reference.startswith("derived:"), got.position
        else:
            assert got.bank_reference == want.bank_reference, got.position
        if name not in _GERMAN_LAYOUT:
            nonref = want.customer_reference in (None, "NONREF")
            assert got.customer_reference == (None if nonref else want.customer_reference), got.position


@needs_samples
def test_public_sample_latin1_with_impossible_closing_balance_date():
    result = parse_mt940((SAMPLES / "cmxl-mt940-iso8859-1.sta").read_bytes())
    assert result.rejections == ()  # :62F:C021131 (31 November) is not read: it must not cost the entries
    rent, salary = result.transactions
    assert (rent.direction, rent.amount, rent.value_date, rent.booking_date) == (
        Direction.DEBIT,
        Decimal("800"),
        date(2002, 11, 1),
        date(2002, 11, 2),
    )
    assert (salary.direction, salary.amount, salary.bank_reference) == (Direction.CREDIT, Decimal("3000"), "55555")
    assert salary.debtor_name == "MÜLLER"  # Latin-1 umlaut decoded
    assert salary.remittance_lines[0].startswith("Gehalt Oktober")  # 'Gehalt Oktob' / 'er' joined
    assert salary.debtor_account == "50060400/0847564700"


@needs_samples
def test_public_samples_that_do_not_add_up_are_reported():
    def differences(name: str) -> list[Decimal]:
        return [w.difference for w in parse_mt940((SAMPLES / name).read_bytes()).balance_warnings]

    assert differences("triodos.sta") == [Decimal("111.40")]  # 4,975.09 - 15.70 - 700.00 is not 4,370.79
    assert differences("betterplace-sepa_mt9401.sta") == []  # 26 statements that add up, debit balances included


@needs_samples
def test_public_sample_mbank_mt942():
    result = parse_mt940((SAMPLES / "mbank-mt942.sta").read_bytes())  # SOH/ETX framed
    assert (result.source_format, result.statements, len(result.transactions)) == (BankFormat.MT942, 1, 3)
    assert {(t.status, t.currency, t.amount) for t in result.transactions} == {
        (EntryStatus.PENDING, "PLN", Decimal("0.01"))
    }
    first = result.transactions[0]
    assert first.remittance_lines[0].endswith("TNR: 179171073864111.010001")
    assert "XX000000000001" in reference_tokens(first)


# --- nothing is lost, nothing crashes --------------------------------------------------------------------------------

STATEMENT_FIXTURES = sorted(p.name for p in FIXTURES.glob("*.sta"))


@pytest.mark.parametrize("name", STATEMENT_FIXTURES)
def test_every_entry_is_a_transaction_or_a_rejection(name):
    data = fixture(name)
    result = parse_mt940(data)
    assert len(result.transactions) + len(result.rejections) == len(re.findall(rb"(?m)^:61:", data))


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(STATEMENT_FIXTURES),
    edits=st.lists(st.tuples(st.integers(min_value=0), st.sampled_from(list(b":?/>-{}\r\n\x01 09CDRN,."))), max_size=8),
)
def test_damaged_files_give_rejections_or_a_file_error_never_a_crash(name, edits):
    data = bytearray(fixture(name))
    for position, byte in edits:
        data[position % len(data)] = byte
    try:
        result = parse_mt940(bytes(data))
    except BankFileError:
        return
    assert all(r.reason for r in result.rejections)
