import re
from pathlib import Path

import pytest
from receivables.banking.profiles import load_profile
from receivables.banking.recognise import read_bank_file
from receivables.banking.statement import BankFileError, BankFormat

FIXTURES = Path(__file__).parents[2] / "fixtures" / "banks"


def first(folder: str, suffix: str) -> bytes:
    return sorted((FIXTURES / folder).glob(f"*{suffix}"))[0].read_bytes()


def test_each_format_is_recognised_by_content():
    camt = read_bank_file(first("camt", ".xml"), bank_id="x", profiles={})
    assert camt.source_format.value.startswith("camt.")
    mt940 = sorted(p for p in (FIXTURES / "mt940").glob("*") if "not-mt940" not in p.name and "malformed" not in p.name)
    assert read_bank_file(mt940[0].read_bytes(), bank_id="x", profiles={}).source_format in (
        BankFormat.MT940,
        BankFormat.MT942,
    )
    profile = load_profile((FIXTURES / "profiles" / "ornekbank.json").read_text(encoding="utf-8"))
    data = (FIXTURES / "profiles" / "ornekbank-2025-03-14.csv").read_bytes()
    parsed = read_bank_file(data, bank_id="ornekbank", profiles={"ornekbank": profile})
    assert parsed.source_format is BankFormat.PROFILE and parsed.transactions


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"  \n", "empty"),
        (b"<?xml version='1.0'?><Document xmlns='urn:example'/>", "not an ISO 20022 camt"),
        (b"date;amount\n01.03.2025;1,00\n", "no bank profile for bank 'nobank'"),
    ],
)
def test_what_cannot_be_read_says_why(data, reason):
    with pytest.raises(BankFileError, match=reason):
        read_bank_file(data, bank_id="nobank", profiles={})


def test_a_utf16_camt_is_read_and_a_utf16_line_file_is_refused_naming_its_encoding():
    utf8 = (FIXTURES / "camt" / "camt053_v08_two_accounts.xml").read_bytes()
    camt = utf8.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    parsed = read_bank_file(camt.encode("utf-16"), bank_id="x", profiles={})  # XML names its own encoding
    assert parsed.transactions == read_bank_file(utf8, bank_id="x", profiles={}).transactions != ()
    mt940 = (FIXTURES / "mt940" / "marks-and-amounts.sta").read_text(encoding="utf-8")
    for encoded, named in (
        (mt940.encode("utf-16"), "UTF-16 (little-endian, byte-order mark"),
        (mt940.encode("utf-16-be"), "UTF-16 (big-endian, without"),
    ):
        with pytest.raises(BankFileError, match=rf"file is {re.escape(named)}.*MT940 and bank profiles are read"):
            read_bank_file(encoded, bank_id="x", profiles={})
