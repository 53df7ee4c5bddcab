"""One error shape for every API function: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from pydantic import BaseModel

from receivables.api.caller import NoCallerIdentityError
from receivables.insurance.payables import PayableStateError, SameIdentityError
from receivables.payments.account_ledger import LedgerRuleError
from receivables.payments.manual import UnknownAccountError, UnknownPaymentError, UnknownTenderError


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] = []


class ErrorResponse(BaseModel):
    error: ErrorBody


class InvalidInputError(Exception):
    """The request is well-formed JSON but its content breaks a rule the domain states (e.g. a bank profile)."""

    def __init__(self, code: str, message: str, details: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.code = code
        self.details = details


class UnknownIdError(Exception):
    """A route's id names nothing (404). Not Powertools' ``NotFoundError``: ``@app.not_found`` is registered as the
    handler of that very exception, so a route raising it would be answered "no route …"."""


class ConflictError(Exception):
    """The request clashes with the current state (e.g. a receipt id already used for another receipt)."""


_BODY = {"application/json": {"model": ErrorResponse}}


def _failure(description: str) -> dict[str, Any]:
    return {"description": description, "content": _BODY}


# Every route validates its request, so every operation can answer 422 (in our shape, not Powertools' default one).
INVALID = {422: _failure("Invalid request: each field at fault in details")}
NOT_FOUND = {404: _failure("Unknown id"), **INVALID}
REJECTED = {
    404: _failure("Unknown id"),
    409: _failure("Conflicts with the current state"),
    422: _failure("Invalid, or would break a ledger rule"),
}


# Routes that record who acted refuse a request without a caller identity (API Gateway itself refuses unsigned
# ones, in its own shape, before any function runs).
ACTING = {403: _failure("The request carries no caller identity, or the caller may not do this (four eyes)")}


def answers(
    description: str, status: int = 200, errors: dict[int, Any] = REJECTED, *, acting: bool = False
) -> dict[int, Any]:
    """An operation's documented responses: the success one, whose schema Powertools takes from the route's return
    type (an entry without ``content`` gets it), then the errors. ``responses=`` is the operation's whole list:
    errors alone would leave the success response undocumented, and unchecked by anything reading the document.
    The 422 is always there: it replaces the one Powertools documents, which has its own shape, not ours. An
    ``acting`` route records its caller as the actor, so it documents the 403 for a request that names none."""
    return {status: {"description": description}, **INVALID, **errors, **(ACTING if acting else {})}


def error(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> Response:
    body = ErrorResponse(error=ErrorBody(code=code, message=message, details=details or []))
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body.model_dump_json())


BODY_METHODS = ("POST", "PUT", "PATCH")
JSON = "application/json"
UNSUPPORTED = {415: _failure("The request body is not application/json")}


def unsupported_media_type(content_type: str, reason: str = "unsupported content type") -> Response:
    return error(
        415,
        "unsupported_media_type",
        f"the request body must be {JSON}, not {content_type}",
        [{"location": ["header", "content-type"], "message": reason, "type": "unsupported_content_type"}],
    )


def refused_body(event: dict[str, Any]) -> Response | None:
    """A body in any type but JSON is refused before Powertools reads it: it would parse form and multipart
    bodies itself (a multipart type without a boundary even raises), though every route takes JSON only."""
    if event.get("httpMethod") not in BODY_METHODS or not event.get("body"):
        return None
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    content_type = headers.get("content-type", "").strip()
    if not content_type or content_type.lower().startswith(JSON):
        return None
    return unsupported_media_type(content_type)


def _message(problem: dict[str, Any]) -> str:
    """Pydantic's message; for a body that is not JSON, what the parser said (Powertools keeps it in ``ctx``)."""
    reason = (problem.get("ctx") or {}).get("error") if problem.get("type") == "json_invalid" else None
    return str(reason) if reason else str(problem.get("msg", ""))


def install(app: APIGatewayRestResolver) -> None:
    @app.exception_handler([UnknownIdError, UnknownPaymentError, UnknownAccountError, UnknownTenderError])
    def _unknown_id(exc: Exception) -> Response:
        return error(404, "not_found", str(exc))

    @app.exception_handler([NoCallerIdentityError, SameIdentityError])
    def _no_caller(exc: Exception) -> Response:
        return error(403, "forbidden", str(exc))

    @app.exception_handler(PayableStateError)
    def _payable_state(exc: PayableStateError) -> Response:
        return error(409, "conflict", str(exc))

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response:
        details = [
            {"location": list(e.get("loc", ())), "message": _message(e), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        unreadable = next((d["message"] for d in details if d["type"] == "json_invalid"), None)
        message = f"the request body is not valid JSON: {unreadable}" if unreadable else "the request is not valid"
        return error(422, "validation_error", message, details)

    # A base64 body (API Gateway sends binary ones so) whose bytes are not UTF-8 fails in Powertools' decoding,
    # before any JSON parser sees it.
    @app.exception_handler(UnicodeDecodeError)
    def _not_utf8(exc: UnicodeDecodeError) -> Response:
        try:
            app.current_event.decoded_body  # noqa: B018 - decodes again: the error was the body's, or is a bug's
        except UnicodeDecodeError:
            detail = {"location": ["body"], "message": f"invalid UTF-8 at byte {exc.start}", "type": "json_invalid"}
            return error(422, "validation_error", "the request body is not UTF-8 JSON", [detail])
        raise exc

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported(exc: RequestUnsupportedContentType) -> Response:
        return unsupported_media_type(app.current_event.headers.get("content-type", ""), str(exc))

    @app.exception_handler(LedgerRuleError)
    def _rule(exc: LedgerRuleError) -> Response:
        return error(422, "ledger_rule", str(exc))

    @app.exception_handler(InvalidInputError)
    def _invalid_input(exc: InvalidInputError) -> Response:
        return error(422, exc.code, str(exc), exc.details)

    @app.exception_handler(ConflictError)
    def _conflict(exc: ConflictError) -> Response:
        return error(409, "conflict", str(exc))

    # Only a path no route matches comes here (Powertools calls it with a bare NotFoundError).
    @app.not_found
    def _no_route(_: Exception) -> Response:
        return error(404, "not_found", f"no route {app.current_event.http_method} {app.current_event.path}")
