"""Personal data never reaches a log line: the masking every log line passes through."""

from __future__ import annotations

import json
import logging

import pytest
from receivables.observability import MaskingFormatter
from receivables.privacy import mask_personal_data


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("mail ayse@example.com now", "mail <email> now"),
        ("IBAN TR330006100519786457841326.", "IBAN <iban>."),
        ("IBAN TR33 0006 1005 1978 6457 8413 26 spaced", "IBAN <iban> spaced"),
        ("call +905321234567", "call <phone>"),
        ("call 0532 123 45 67 or 05321234567", "call <phone> or <phone>"),
        ("TCKN 10000000146, VKN 4540536920", "TCKN <tax-id>, VKN <tax-id>"),
    ],
)
def test_personal_values_are_masked_by_their_shape(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "entry 1796324127673028717-1545fc of INV-100",  # ids made of long digit runs
        "reference NB20261203000123 and TR330006100519786457841327",  # IBAN-shaped, checksum wrong
        "10000000147 is no TCKN; 1796324127 is a timestamp",
        "amount 1234.56 TRY on 2026-11-24, 42 items",
    ],
)
def test_what_only_looks_like_personal_data_stays_readable(text: str) -> None:
    assert mask_personal_data(text) == text


def test_a_personal_field_is_masked_whatever_it_holds() -> None:
    line = json.dumps({"name": "Ayşe Yılmaz", "debtor_name": "Deniz Kaya Ltd.", "address": "Moda Cd. 5", "n": 3})
    assert json.loads(mask_personal_data(line)) == {
        "name": "<personal>",
        "debtor_name": "<personal>",
        "address": "<personal>",
        "n": 3,
    }


def test_the_log_formatter_masks_the_message_the_extra_fields_and_the_exception() -> None:
    try:
        raise ValueError("row rejected: phone +905321234567 of ayse@example.com")
    except ValueError:
        record = logging.LogRecord("receivables", logging.ERROR, __file__, 1, "payer %s", ("Ayşe",), None)
        record.exc_info = __import__("sys").exc_info()
    record.__dict__["customer_name"] = "Ayşe Yılmaz"
    record.__dict__["iban"] = "TR330006100519786457841326"
    line = MaskingFormatter().format(record)
    for personal in ("905321234567", "ayse@example.com", "Yılmaz", "Y\\u0131lmaz", "TR330006100519786457841326"):
        assert personal not in line
    assert json.loads(line)["customer_name"] == "<personal>"
