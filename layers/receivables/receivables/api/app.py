"""The REST API: Powertools' REST resolver with request validation and a generated OpenAPI document.

Errors always have one shape, ``{"error": {"code", "message", "details"}}``, so clients can rely on it.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel

from receivables import bootstrap
from receivables.domain.ledger import AccountView, CustomerView, ItemView
from receivables.observability import logger

API_TITLE = "Receivables API"
API_VERSION = "0.1.0"
IDENTIFIER = r"^[^\s#]{1,128}$"  # the loaders rule (they also refuse control characters)

app = APIGatewayRestResolver(enable_validation=True)

IdParam = Annotated[str, Path(pattern=IDENTIFIER, max_length=128, description="Identifier as sent by billing")]


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] = []


class ErrorResponse(BaseModel):
    error: ErrorBody


class Health(BaseModel):
    status: str
    service: str
    version: str


def _error(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> Response:
    body = ErrorResponse(error=ErrorBody(code=code, message=message, details=details or []))
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body.model_dump_json())


@app.exception_handler(NotFoundError)
def _not_found(error: NotFoundError) -> Response:
    return _error(404, "not_found", error.msg or "not found")


@app.exception_handler(RequestValidationError)
def _invalid(error: RequestValidationError) -> Response:
    details = [
        {"location": list(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type", "")}
        for e in error.errors()
    ]
    return _error(422, "validation_error", "the request is not valid", details)


@app.not_found
def _no_route(_: Exception) -> Response:
    return _error(404, "not_found", f"no route {app.current_event.http_method} {app.current_event.path}")


_NOT_FOUND = {404: {"description": "Unknown id", "content": {"application/json": {"model": ErrorResponse}}}}


@app.get("/health", summary="Liveness of the API", responses={200: {"description": "OK"}})
def health() -> Health:
    return Health(status="ok", service="receivables", version=API_VERSION)


@app.get("/customers/<customer_id>", summary="A customer's master data and accounts", responses=_NOT_FOUND)
def get_customer(customer_id: IdParam) -> CustomerView:
    customer = bootstrap.ledger_reader().get_customer(customer_id)
    if customer is None:
        raise NotFoundError(f"customer {customer_id} not found")
    return customer


@app.get("/accounts/<account_id>", summary="An account's balance and its items with open amounts", responses=_NOT_FOUND)
def get_account(account_id: IdParam) -> AccountView:
    account = bootstrap.ledger_reader().get_account(account_id)
    if account is None:
        raise NotFoundError(f"account {account_id} not found")
    return account


@app.get("/items/<item_id>", summary="One receivable item", responses=_NOT_FOUND)
def get_item(item_id: IdParam) -> ItemView:
    item = bootstrap.ledger_reader().get_item(item_id)
    if item is None:
        raise NotFoundError(f"item {item_id} not found")
    return item


def openapi_document() -> str:
    return app.get_openapi_json_schema(
        title=API_TITLE, version=API_VERSION, description="Receivables management platform"
    )


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    logger.append_keys(path=event.get("path"))
    return app.resolve(event, context)
