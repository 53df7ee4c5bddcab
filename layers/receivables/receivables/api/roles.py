"""Who may call what. People sign in through the Cognito user pool and arrive with the authorizer's verified claims
(``cognito:username``, ``cognito:groups``); each route of the topology names the groups that may call it
(``ApiRoute.groups``). Systems sign with IAM and may call every route, as before. Checked in the function, before
any route runs, so the same rule holds behind API Gateway and on the local stack."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import Response

from receivables.api import errors
from receivables.topology import TOPOLOGY, ApiTrigger

ROUTE_GROUPS: dict[tuple[str, str], frozenset[str]] = {
    (route.method, route.path): frozenset(route.groups)
    for _function, trigger in TOPOLOGY.triggers_of_kind(ApiTrigger)
    for route in trigger.routes
}


def person_of(event: Mapping[str, Any]) -> tuple[str, frozenset[str]] | None:
    """(username, groups) of a signed-in person; None for an IAM caller (a system) or no identity at all."""
    context = event.get("requestContext") or {}
    claims = (context.get("authorizer") or {}).get("claims") or {}
    name = claims.get("cognito:username") or claims.get("username")
    if not isinstance(name, str) or not name.strip():
        return None
    raw = claims.get("cognito:groups", ())
    # API Gateway hands array claims over as text ("[a, b]" or "a,b"); a test or another authorizer, as a list.
    groups = raw if isinstance(raw, list | tuple) else re.split(r"[\s,]+", str(raw).strip("[]"))
    return name.strip(), frozenset(str(g) for g in groups if str(g))


def refused(event: Mapping[str, Any]) -> Response | None:
    """403 when a signed-in person's groups may not call the route; None when the call may go on."""
    person = person_of(event)
    if person is None:
        return None
    name, groups = person
    method, resource = str(event.get("httpMethod", "")), str(event.get("resource", ""))
    allowed = ROUTE_GROUPS.get((method, resource))
    if allowed is None or groups & allowed:
        return None  # a route the topology does not list is answered by the resolver (404/405)
    return errors.error(
        403,
        "forbidden",
        f"{name} ({', '.join(sorted(groups)) or 'no group'}) may not {method} {resource}: "
        f"it is for {', '.join(sorted(allowed))}",
    )
