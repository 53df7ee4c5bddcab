"""The API's error handlers on a resolver of their own: what they answer, and what they leave to crash."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest
from aws_lambda_powertools.event_handler.api_gateway import Router
from receivables.api.app import build
from receivables.api.bodies import MAX_DEPTH, parse_json_body

EVENT = json.loads((Path(__file__).parents[2] / "events" / "api_get_account.json").read_text())

router = Router()


@router.get("/decodes")
def decodes() -> dict[str, str]:
    return {"text": b"\xff".decode()}  # a bug of the route's own: not the request body's fault


def test_a_unicode_error_of_the_route_is_not_blamed_on_the_body():
    event = copy.deepcopy(EVENT)
    event.update(resource="/decodes", path="/decodes", pathParameters=None, body=base64.b64encode(b"{}").decode())
    event["isBase64Encoded"] = True
    with pytest.raises(UnicodeDecodeError):
        build(router).resolve(event, None)


def test_json_bodies_at_the_depth_limit_are_read():
    nested = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert parse_json_body(nested) is not None
    with pytest.raises(json.JSONDecodeError, match="nested too deeply"):
        parse_json_body("[" + nested + "]")
    with pytest.raises(json.JSONDecodeError, match="Infinity is not JSON"):
        parse_json_body('{"amount": -Infinity}')


def test_every_operation_that_takes_a_body_documents_the_415():
    from receivables.api.app import openapi_document

    document = json.loads(openapi_document())
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            documented = "415" in operation["responses"]
            assert documented == (method in ("post", "put", "patch")), (method, path)


def test_counts_and_dates_are_taken_as_json_schema_types_them():
    from pydantic import TypeAdapter, ValidationError
    from receivables.api.params import Count
    from receivables.domain.dates import IsoDate

    counts = TypeAdapter(Count)
    assert [counts.validate_python(v) for v in (3, 3.0)] == [3, 3]  # 3.0 is an integer to JSON Schema
    for refused in ("3", True, 3.5, None):
        with pytest.raises(ValidationError):
            counts.validate_python(refused)
    dates = TypeAdapter(IsoDate)
    assert str(dates.validate_python("2026-11-24")) == "2026-11-24"
    for refused in (0, "0", "1795500000", "2026-11-24T00:00", "24.11.2026"):
        with pytest.raises(ValidationError):
            dates.validate_python(refused)
