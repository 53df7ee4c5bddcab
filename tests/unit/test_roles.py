"""Route groups, checked in the function before any route runs: people by their Cognito groups, systems by IAM."""

from __future__ import annotations

from receivables.api.roles import ROUTE_GROUPS, person_of, refused
from receivables.topology import TOPOLOGY, ApiTrigger


def event(method: str, resource: str, claims: dict | None = None, arn: str | None = None) -> dict:
    context: dict = {"identity": {"userArn": arn} if arn else {}}
    if claims is not None:
        context["authorizer"] = {"claims": claims}
    return {"httpMethod": method, "resource": resource, "requestContext": context}


def test_every_route_names_its_groups_and_admin_may_call_each():
    routes = [r for _f, t in TOPOLOGY.triggers_of_kind(ApiTrigger) for r in t.routes]
    assert len(ROUTE_GROUPS) == len(routes)
    assert all("admin" in groups for groups in ROUTE_GROUPS.values())
    assert ROUTE_GROUPS[("PUT", "/dunning/config")] == frozenset({"admin"})
    assert ROUTE_GROUPS[("POST", "/holds")] == frozenset({"supervisor", "admin"})


def test_a_person_outside_the_routes_groups_is_refused_a_system_is_not():
    collector = {"cognito:username": "ali", "cognito:groups": "collector"}
    response = refused(event("PUT", "/dunning/config", collector))
    assert response is not None and response.status_code == 403
    assert "ali (collector) may not PUT /dunning/config: it is for admin" in str(response.body)
    assert refused(event("POST", "/tasks/{task_id}/outcome", collector)) is None
    # API Gateway passes array claims as text; either way a member group is enough.
    assert (
        refused(event("POST", "/holds", {"cognito:username": "m", "cognito:groups": "[collector, supervisor]"})) is None
    )
    assert refused(event("POST", "/holds", {"cognito:username": "m", "cognito:groups": ["supervisor"]})) is None
    assert refused(event("PUT", "/dunning/config", arn="arn:aws:iam::1:user/deploy")) is None
    assert person_of(event("GET", "/health", arn="arn:aws:iam::1:user/deploy")) is None
    nobody = refused(event("GET", "/accounts/{account_id}", {"cognito:username": "new", "cognito:groups": ""}))
    assert nobody is not None and "new (no group)" in str(nobody.body)
