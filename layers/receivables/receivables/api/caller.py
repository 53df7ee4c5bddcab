"""Who is calling: the actor every change records comes from the request context API Gateway fills in after it has
authenticated the caller — never from a body field or a query parameter, which anyone could set to any name.

Systems sign their requests with IAM (SigV4): API Gateway puts the caller's ARN in ``requestContext.identity``.
People signed in through a Cognito user pool arrive with the authorizer's verified claims in
``requestContext.authorizer.claims``. The actor is the short, readable name an audit trail shows:

- ``arn:aws:iam::123456789012:user/ops/ayse`` → ``ayse`` (an IAM user: its name, without the path)
- ``arn:aws:sts::123456789012:assumed-role/Billing/session-7`` → ``Billing/session-7`` (a role and its session)
- a Cognito user → its ``cognito:username``
- anything else with an ARN → the ARN itself
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

MAX_ACTOR = 128  # the longest "who" the dunning records and journal causes keep


class NoCallerIdentityError(Exception):
    """The request carries no authenticated identity: behind API Gateway's IAM or Cognito authorizer this cannot
    happen, so it is a misconfigured route or a hand-made event, refused (403) rather than recorded as nobody."""


def actor_of(request_context: Mapping[str, Any] | None) -> str | None:
    """The caller's name from an API Gateway (REST, payload 1.0) request context, or None when it names no one."""
    if not request_context:
        return None
    claims = (request_context.get("authorizer") or {}).get("claims") or {}
    for claim in ("cognito:username", "username"):
        if isinstance(claims.get(claim), str) and claims[claim].strip():
            return _bounded(claims[claim].strip())
    identity = request_context.get("identity") or {}
    arn = identity.get("userArn")
    if isinstance(arn, str) and arn.strip():
        return _bounded(_name_in(arn.strip()))
    return None


def _name_in(arn: str) -> str:
    resource = arn.split(":", 5)[5] if arn.count(":") >= 5 else ""
    kind, _, path = resource.partition("/")
    if kind == "user" and path:
        return path.rsplit("/", 1)[-1]
    if kind == "assumed-role" and path:
        return path
    if resource == "root":
        return "root"
    return arn


def _bounded(name: str) -> str:
    return name if len(name) <= MAX_ACTOR else name[: MAX_ACTOR - 1] + "…"


def current_actor(router: Router) -> str:
    """The actor of the request ``router`` is serving; :class:`NoCallerIdentityError` when there is none."""
    context = router.current_event.raw_event.get("requestContext")
    actor = actor_of(context if isinstance(context, Mapping) else None)
    if actor is None:
        raise NoCallerIdentityError("the request carries no caller identity (sign it with IAM, or sign in)")
    return actor
