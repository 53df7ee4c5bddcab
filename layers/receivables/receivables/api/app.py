"""The REST API: Powertools' REST resolver with request validation and a generated OpenAPI document.

Several Lambda functions serve it, so that the read routes cannot write (least privilege): ``api`` (ledger reads),
``payments_api`` (payment commands), ``direct_debits`` (collection runs) and ``dunning_api`` (holds,
promises, plans, collector tasks, configuration). The OpenAPI document covers them all.
Errors always have one shape,
``{"error": {"code", "message", "details"}}`` (``receivables.api.errors``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from receivables.api import errors, roles
from receivables.api.adjustment_routes import router as adjustment_router
from receivables.api.bodies import parse_json_body
from receivables.api.direct_debit_routes import router as direct_debit_router
from receivables.api.dunning_routes import router as dunning_router
from receivables.api.insurance_routes import router as insurance_router
from receivables.api.ledger_routes import router as ledger_router
from receivables.api.params import API_TITLE, API_VERSION
from receivables.api.payments_routes import router as payments_router
from receivables.api.report_routes import router as report_router
from receivables.observability import logger


def build(*routers: Router) -> APIGatewayRestResolver:
    resolver = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=parse_json_body)
    errors.install(resolver)
    for router in routers:
        resolver.include_router(router)
    return resolver


app = build(ledger_router, report_router)
payments_app = build(payments_router, adjustment_router)
direct_debit_app = build(direct_debit_router)
dunning_app = build(dunning_router)
insurance_app = build(insurance_router)


def openapi_document() -> str:
    document = json.loads(
        build(
            ledger_router,
            report_router,
            payments_router,
            adjustment_router,
            direct_debit_router,
            dunning_router,
            insurance_router,
        ).get_openapi_json_schema(title=API_TITLE, version=API_VERSION, description="Receivables management platform")
    )
    # Every operation that can carry a body refuses one in another type (errors.refused_body, before routing).
    for operations in document["paths"].values():
        for method, operation in operations.items():
            if any(p.get("name") == "format" and p.get("in") == "query" for p in operation.get("parameters", [])):
                # A report answers ?format=csv as text/csv (receivables.api.report_format), JSON otherwise.
                content = operation["responses"]["200"]["content"]
                json_schema = content[errors.JSON]["schema"]
                content[errors.JSON]["schema"] = next(
                    (s for s in json_schema.get("anyOf", []) if s.get("type") != "string"), json_schema
                )
                content["text/csv"] = {"schema": {"type": "string", "description": "A header row, then one row each"}}
            if method.upper() in errors.BODY_METHODS:
                operation["responses"]["415"] = {
                    "description": errors.UNSUPPORTED[415]["description"],
                    "content": {errors.JSON: {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
                }
    return json.dumps(document, indent=2)


def _proxy_result(response: Response) -> dict[str, Any]:
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": response.content_type or errors.JSON},
        "body": response.body,
        "isBase64Encoded": False,
    }


def _serving(resolver: APIGatewayRestResolver) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        logger.append_keys(path=event.get("path"))
        refusal = roles.refused(event) or errors.refused_body(event)
        if refusal is not None:
            return _proxy_result(refusal)
        return resolver.resolve(event, context)

    return handle


handle = _serving(app)
handle_payments = _serving(payments_app)
handle_direct_debits = _serving(direct_debit_app)
handle_dunning = _serving(dunning_app)
handle_insurance = _serving(insurance_app)
