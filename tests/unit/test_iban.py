"""One IBAN normalisation for customer files, bank files and payer matching."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from receivables.domain.iban import iban_checksum_ok, is_iban_shaped, normalise_iban

COMPACT = "TR330006100519786457841326"


@pytest.mark.parametrize(
    "written",
    [
        "TR330006100519786457841326",
        "TR33 0006 1005 1978 6457 8413 26",
        "tr33 0006 1005 1978 6457 8413 26",
        "  TR33 0006 1005 1978 6457 8413 26 \n",
        "TR33-0006-1005-1978-6457-8413-26",
        "TR33.0006.1005.1978.6457.8413.26",
        "TR33\u00a00006\u00a01005\u00a01978\u00a06457\u00a08413\u00a026",  # no-break spaces from a PDF
        "TR33\u202f0006\u20091005\t1978 6457 8413 26",  # narrow no-break and thin spaces, a tab
        "TR33\u20110006\u20131005 1978 6457 8413 26",  # non-breaking hyphen, en dash
        "\ufeffTR33\u200b0006 1005 1978 6457 8413 26",  # byte-order mark, zero-width space
        "IBAN TR33 0006 1005 1978 6457 8413 26",
        "IBAN: TR33 0006 1005 1978 6457 8413 26",
        "iban:TR330006100519786457841326",
        "IBANTR330006100519786457841326",
    ],
)
def test_every_way_of_writing_an_iban_gives_one_compact_form(written):
    assert normalise_iban(written) == COMPACT
    assert is_iban_shaped(written)
    assert iban_checksum_ok(written)


def test_only_the_writing_is_normalised_not_the_content():
    assert normalise_iban("0006/12345678") == "0006/12345678"  # a Turkish branch/account number stays as it is
    assert normalise_iban("") == ""
    assert normalise_iban("IBAN") == ""


@pytest.mark.parametrize(
    "text",
    [
        "TR000000",  # too short
        "TR33 0006 1005 1978 6457 8413 26 7890 1234 5",  # 35 characters: longer than any IBAN
        "3300 0610 0519 7864 5784 1326",  # no country
        "TRX30006100519786457841326",  # check digits are digits
        "TR33 0006 1005 1978 6457 8413 2!",
        "TR33 0006 1005 1978 6457 8413 2İ",  # not ASCII
    ],
)
def test_text_that_is_not_iban_shaped(text):
    assert not is_iban_shaped(text)
    assert not iban_checksum_ok(text)


def test_the_shape_check_does_not_verify_the_checksum_but_the_checksum_check_does():
    wrong_digit = "TR330006100519786457841327"
    assert is_iban_shaped(wrong_digit) and not iban_checksum_ok(wrong_digit)
    assert iban_checksum_ok("DE89 3704 0044 0532 0130 00") and iban_checksum_ok("gb82-west-1234-5698-7654-32")
    assert not iban_checksum_ok("DE89370400440532013000000")  # shaped, but not Germany's length


@given(st.text())
@example("IBAN IBAN: TR33 0006")
@example("iban::-IBAN")
def test_normalising_is_idempotent(text):
    once = normalise_iban(text)
    assert normalise_iban(once) == once
