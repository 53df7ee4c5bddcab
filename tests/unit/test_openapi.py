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
