"""The committed OpenAPI document is the one the code generates (run `make openapi` after changing routes)."""

from __future__ import annotations

import json
from pathlib import Path

from receivables.api.app import openapi_document
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
