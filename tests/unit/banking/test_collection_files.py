"""Collection profiles, pure: a request written delimited and fixed-width with header and trailer, amounts in the
profile's style, identifiers never cut, a response read by column name or position with reasons in words, bad lines
reported without losing the rest, and profiles that cannot work refused naming the field."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from receivables.banking.collection_files import (
    CollectionFileError,
    CollectionRequest,
    load_collection_profile,
    read_response,
    write_request,
)
from receivables.banking.profiles import ProfileError
from receivables.card_collection.model import CardCandidate, next_try, plan_requests, reference

DAY = date(2026, 11, 24)
CSV_PROFILE = {
    "bank_id": "akbank",
    "name": "Akbank kurum tahsilatı",
    "method": "bank_scheme",
    "layout": "delimited",
    "delimiter": ";",
    "column_names": True,
    "decimal_separator": ",",
    "line_ending": "LF",
    "record": {
        "fields": [
            {"value": "reference", "header": "REF"},
            {"value": "token", "header": "ABONE"},
            {"value": "amount", "header": "TUTAR"},
            {"value": "due_date", "header": "VADE"},
        ]
    },
    "trailer": {
        "fields": [{"value": "literal", "text": "TOPLAM"}, {"value": "record_count"}, {"value": "total_amount"}]
    },
    "response": {
        "columns": {"reference": 0, "status": 1, "reason_code": 2, "amount": 3},
        "approved": ["OK"],
        "declined": ["RED"],
        "reasons": {"B1": "subscriber not found"},
    },
}


def request(n: int, amount: str = "100.50", **fields) -> CollectionRequest:
    values = {
        "reference": f"CCREF{n:012d}",
        "item_id": f"I{n}",
        "customer_id": f"C{n}",
        "account_id": f"A{n}",
        "token": f"SUB{n}",
        "amount": Decimal(amount),
        "currency": "TRY",
        "due_date": DAY,
        "attempt": 1,
    }
    return CollectionRequest(**(values | fields))


def test_a_delimited_request_with_column_names_and_a_trailer_in_the_banks_number_style():
    profile = load_collection_profile(json.dumps(CSV_PROFILE))

    body = write_request(profile, [request(1), request(2, "9.00")], file_date=DAY, sequence=1).decode()

    assert body.split("\n") == [
        "REF;ABONE;TUTAR;VADE",
        "CCREF000000000001;SUB1;100,50;20261124",
        "CCREF000000000002;SUB2;9,00;20261124",
        "TOPLAM;2;109,50",
        "",
    ]
    assert profile.key(DAY, 2) == "banks/akbank/collections-20261124-002.txt"


def test_a_fixed_width_field_never_cuts_an_identifier():
    profile = load_collection_profile(
        {
            **CSV_PROFILE,
            "layout": "fixed_width",
            "record": {"fields": [{"value": "reference", "width": 10}, {"value": "token", "width": 8}]},
            "trailer": None,
        }.__repr__()
        .replace("'", '"')
        .replace("True", "true")
        .replace("None", "null")
    )
    with pytest.raises(CollectionFileError, match="reference needs 17 characters, the field has 10"):
        write_request(profile, [request(1)], file_date=DAY, sequence=1)


def test_a_response_read_by_position_with_reasons_in_words_and_bad_lines_reported():
    profile = load_collection_profile(json.dumps(CSV_PROFILE))
    data = b"CCREF1;OK;;100,50\nCCREF2;RED;B1;\nCCREF3;RED;Z9;\nCCREF4;MAYBE;;\n;OK;;\n"

    answers, problems = read_response(profile, data)

    assert [(a.reference, a.approved, a.reason, a.amount) for a in answers] == [
        ("CCREF1", True, None, Decimal("100.50")),
        ("CCREF2", False, "subscriber not found", None),
        ("CCREF3", False, "declined (Z9)", None),
    ]
    assert problems == [(4, "status 'MAYBE' is neither approved nor declined"), (5, "no reference")]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"method": "cash"}, "method"),
        ({"record": {"fields": [{"value": "token"}]}}, "record.fields: the reference must be sent"),
        ({"layout": "fixed_width"}, "a fixed-width file needs each field's width"),
        ({"encoding": "ebcdic"}, "encoding"),
        ({"retry_after_days": [3, 0]}, "retry_after_days"),
        ({"response": {"columns": {"reference": 0}, "approved": ["OK"]}}, "columns.status"),
    ],
)
def test_a_profile_that_cannot_work_is_refused_naming_the_field(change, field):
    with pytest.raises(ProfileError, match=field):
        load_collection_profile(json.dumps({**CSV_PROFILE, **change}), bank_id="akbank")


def test_plan_asks_each_bank_once_per_item_and_attempt_and_stops_after_the_last_retry():
    profile = load_collection_profile(json.dumps(CSV_PROFILE))
    base = {
        "account_id": "A1",
        "customer_id": "C1",
        "open_amount": Decimal("50.00"),
        "currency": "TRY",
        "due_date": DAY,
        "method": "bank_scheme",
        "bank_id": "akbank",
        "token": "SUB1",
    }
    plan = plan_requests(
        DAY,
        [
            CardCandidate(item_id="I1", **base),
            CardCandidate(item_id="I2", attempts=1, **base),
            CardCandidate(item_id="I3", attempts=3, **base),  # 1 + 2 retries declined: dunning's
            CardCandidate(item_id="I4", pending=True, **base),
            CardCandidate(item_id="I5", **(base | {"bank_id": "isbank"})),
            CardCandidate(item_id="I6", **(base | {"method": "card"})),
        ],
        {"akbank": profile},
    )

    ((file,),) = [plan.files]
    assert [(r.item_id, r.attempt, r.reference) for r in file.requests] == [
        ("I1", 1, reference("I1", 1)),
        ("I2", 2, reference("I2", 2)),
    ]
    assert {s.item_id: s.reason for s in plan.skipped} == {
        "I5": "no collection profile for bank isbank (config/collections)",
        "I6": "bank akbank collects by bank_scheme, not card",
    }
    assert reference("I1", 1) != reference("I1", 2) and len(reference("I1", 1)) == 18
    assert next_try(profile, 1, DAY) == date(2026, 11, 27)
    assert next_try(profile, 2, DAY) == date(2026, 12, 1)
    assert next_try(profile, 3, DAY) is None
