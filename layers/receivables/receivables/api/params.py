"""Path parameters, request field types and constants shared by the API's routes.

The request types say in the OpenAPI document what the server accepts, so that a client (or schemathesis) reading
it is not surprised by a 422 for a value the document allowed."""

import re
from decimal import Decimal
from typing import Annotated
from urllib.parse import unquote

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BeforeValidator, Field, PlainValidator, WithJsonSchema

from receivables.domain.money import MAX_INTEGER_DIGITS

API_TITLE = "Receivables API"
API_VERSION = "0.2.0"
IDENTIFIER = r"^[^\s#]{1,128}$"  # the loaders' rule (they also refuse control characters)
SOME_TEXT = r"\S"  # free text is stripped, then must not be empty: at least one character that is not a space


def _percent_decoded(value: object) -> object:
    """API Gateway (REST) hands the path over still percent-encoded, and Powertools routes on it: an id's ``/``
    arrives as ``%2F`` (a raw one would separate segments), its other reserved characters likewise."""
    return unquote(value, errors="strict") if isinstance(value, str) else value


# The order matters: pydantic's JSON schema keeps the pattern only when the Field comes before the validator.
IdParam = Annotated[
    str,
    Field(pattern=IDENTIFIER, max_length=128),
    BeforeValidator(_percent_decoded),
    Path(description="Identifier as sent by billing, percent-encoded in the path: '/' as %2F"),
]
# Task ids are 'T' and a digest of the step's idempotency key (account#cycle#step); any '#' is sent as %23.
TaskIdParam = Annotated[
    str,
    Field(min_length=1, max_length=400),
    BeforeValidator(_percent_decoded),
    Path(description="Task id, percent-encoded in the path: '#' as %23"),
]
Identifier = Annotated[str, Field(pattern=IDENTIFIER, min_length=1, max_length=128)]
BankId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]

# Greater than 0, at most 2 decimals and 15 integer digits, written as a string like every amount the API answers
# (a JSON number is binary floating point: 0.1 is not one tenth). No sign, exponent, spaces or leading zeros.
AMOUNT = rf"^([1-9][0-9]{{0,{MAX_INTEGER_DIGITS - 1}}}(\.[0-9]{{1,2}})?|0\.(0[1-9]|[1-9][0-9]?))$"
_AMOUNT = re.compile(AMOUNT)


def _amount(value: object) -> Decimal:
    if not isinstance(value, str) or not _AMOUNT.fullmatch(value):
        raise ValueError("an amount is a string greater than 0 with at most 2 decimals, e.g. '125.50'")
    return Decimal(value)


Amount = Annotated[
    Decimal,
    PlainValidator(_amount),
    WithJsonSchema({"type": "string", "pattern": AMOUNT, "examples": ["125.50"], "description": "Greater than 0"}),
]


def _json_integer(value: object) -> object:
    """What JSON Schema calls an integer (3, also 3.0), never a string or a flag: pydantic would take "3" and true."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"a count is a JSON integer, got {value!r}")
    return value


Count = Annotated[int, BeforeValidator(_json_integer)]
