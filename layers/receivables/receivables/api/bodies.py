"""How the API reads a JSON request body: Powertools' resolver calls :func:`parse_json_body` (its
``json_body_deserializer``), and turns the ``JSONDecodeError`` it raises into a 422 in the API's error shape.

``json.loads`` alone lets through what would crash later or is not JSON at all: nesting deep enough to exhaust the
stack (a ``RecursionError``, here or in the code that walks the value afterwards), ``NaN``/``Infinity`` (Python
extensions to JSON) and lone surrogates (``"\\ud800"``), which no UTF-8 encoder — boto3's included — can write.
"""

from __future__ import annotations

import json
from typing import Any

# Far deeper than any document the API takes (a dunning configuration is < 10 levels), far below the stack's limit.
MAX_DEPTH = 64


def parse_json_body(text: str) -> Any:
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise json.JSONDecodeError(f"JSON nested too deeply (more than {MAX_DEPTH} levels)", text, 0) from None
    except _NotJsonError as exc:
        raise json.JSONDecodeError(str(exc), text, 0) from None
    problem = _problem(value)
    if problem:
        raise json.JSONDecodeError(problem, text, 0)
    return value


class _NotJsonError(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NotJsonError(f"{name} is not JSON")


def _problem(value: Any) -> str | None:
    """Walks the value without recursion: too deep, or a string UTF-8 cannot encode."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        current, depth = pending.pop()
        if isinstance(current, str):
            if not _encodable(current):
                return "the body is not UTF-8 JSON: a string holds a lone surrogate"
            continue
        if not isinstance(current, dict | list):
            continue
        if depth > MAX_DEPTH:
            return f"JSON nested too deeply (more than {MAX_DEPTH} levels)"
        children = [*current.keys(), *current.values()] if isinstance(current, dict) else current
        pending.extend((child, depth + 1) for child in children)
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
