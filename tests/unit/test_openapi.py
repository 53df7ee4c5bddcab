"""The committed OpenAPI document is the one the code generates (run `make openapi` after changing routes)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from pydantic import BaseModel, ValidationError
from receivables.api.app import openapi_document
from receivables.api.direct_debit_routes import RunRequest
from receivables.api.dunning_routes import HoldRequest, OutcomeRequest, PromiseRequest
from receivables.api.payments_routes import ItemAmount, ReceiptRequest, TenderRequest
from receivables.dunning.config import DEFAULT_CONFIG
from receivables.topology import TOPOLOGY

COMMITTED = Path(__file__).parents[2] / "docs" / "openapi.json"


def test_committed_openapi_matches_the_code():
    assert json.loads(COMMITTED.read_text()) == json.loads(openapi_document()), "run `make openapi`"


def test_every_documented_path_is_routed_by_api_gateway_and_back():
    documented = {
        (method.upper(), path) for path, ops in json.loads(openapi_document())["paths"].items() for method in ops
    }
    routed = {(r.method, r.path) for f in TOPOLOGY.functions for t in f.triggers for r in getattr(t, "routes", ())}
    assert documented == routed


def test_every_operation_documents_its_success_and_errors_in_the_api_shape():
    document = json.loads(openapi_document())
    undocumented, misshapen = [], []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            successes = [code for code in responses if code.startswith("2")]
            # A success response with its schema: what clients and schemathesis check the answer against.
            if len(successes) != 1 or not responses[successes[0]].get("content", {}).get("application/json", {}).get(
                "schema"
            ):
                undocumented.append(f"{method.upper()} {path}")
            for code, response in responses.items():
                schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                if code.startswith("4") and schema.get("$ref") != "#/components/schemas/ErrorResponse":
                    misshapen.append(f"{method.upper()} {path} {code}")
            if "422" not in responses:  # every route validates its request
                misshapen.append(f"{method.upper()} {path} 422 missing")
    assert undocumented == [] and misshapen == []


def _schema_accepts(document: dict, name: str, value: dict) -> bool:
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return jsonschema.Draft202012Validator(schema).is_valid(value)


def _server_accepts(model: type[BaseModel], value: dict) -> bool:
    try:
        model.model_validate(value)
    except ValidationError:
        return False
    return True


TENDER = {"type": "cash"}
HOLD = {"level": "account", "id": "A1", "reason": "disputed"}
REQUESTS = [
    *[
        (TenderRequest, {**TENDER, "amount": amount})
        for amount in ["0.01", "0.5", "125.50", "999999999999999.99", "10"]
    ],
    *[
        (TenderRequest, {**TENDER, "amount": amount})
        for amount in ["", "0", "0.00", "-5.00", "1.005", "1e3", " 1.00", "01.00", "1000000000000000", 12.5]
    ],
    (ItemAmount, {"item_id": "INV/2026/1", "amount": "1.00"}),
    (ItemAmount, {"item_id": "INV#1", "amount": "1.00"}),
    (ReceiptRequest, {"receipt_id": "R", "account_id": "", "currency": "TRY", "value_date": "2026-11-20"}),
    (PromiseRequest, {"amount": "", "date": "2026-11-30"}),
    (HoldRequest, HOLD),
    (HoldRequest, {**HOLD, "reason": "   "}),
    (HoldRequest, {**HOLD, "created_by": " "}),
    (HoldRequest, {**HOLD, "id": "A 1"}),
    (OutcomeRequest, {"outcome": "no_answer", "note": "\t"}),
    (RunRequest, {"bank_id": "garanti bank"}),
]


@pytest.mark.parametrize(("model", "value"), REQUESTS, ids=lambda v: getattr(v, "__name__", repr(v)))
def test_the_document_accepts_a_request_field_exactly_when_the_server_does(model, value):
    document = json.loads(openapi_document())
    tenders = {"tenders": [{"type": "cash", "amount": "1.00"}]} if model is ReceiptRequest else {}
    assert _schema_accepts(document, model.__name__, value | tenders) == _server_accepts(model, value | tenders)


def test_limits_that_are_configuration_are_documented_with_the_shipped_default():
    fields = json.loads(openapi_document())["components"]["schemas"]["PlanRequest"]["properties"]
    plans = DEFAULT_CONFIG.plans
    assert f"({plans.max_installments} as shipped)" in fields["installments"]["description"]
    assert (
        f"({plans.min_interval_days} to {plans.max_interval_days} as shipped)" in fields["interval_days"]["description"]
    )
