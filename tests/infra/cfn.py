"""Small readers over a synthesized CloudFormation template (a dict), for the infra tests."""

from __future__ import annotations

from typing import Any

Resource = dict[str, Any]


def resources(template: dict[str, Any], type_: str) -> dict[str, Resource]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == type_}


def props(resource: Resource) -> dict[str, Any]:
    return resource.get("Properties", {})


def ref(value: Any) -> str | None:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` points at."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
    return None


def lambda_functions(template: dict[str, Any]) -> dict[str, Resource]:
    """The topology's functions, keyed by description (CDK's own custom-resource handlers excluded)."""
    return {
        props(r)["Description"]: r
        for r in resources(template, "AWS::Lambda::Function").values()
        if props(r).get("Handler") == "handler.lambda_handler"
    }


def logical_id_of(template: dict[str, Any], resource: Resource) -> str:
    return next(k for k, r in template["Resources"].items() if r is resource)


def role_statements(template: dict[str, Any], function: Resource) -> list[dict[str, Any]]:
    """Every statement of every policy attached to the function's execution role."""
    role_id = ref(props(function)["Role"])
    role = template["Resources"][role_id]
    statements = [s for p in props(role).get("Policies", []) for s in p["PolicyDocument"]["Statement"]]
    for policy in resources(template, "AWS::IAM::Policy").values():
        if any(ref(r) == role_id for r in props(policy)["Roles"]):
            statements += policy_statements(policy)
    assert not props(role).get("ManagedPolicyArns"), "function roles must not carry managed policies"
    return statements


def policy_statements(policy: Resource) -> list[dict[str, Any]]:
    return list(props(policy)["PolicyDocument"]["Statement"])


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def actions(statements: list[dict[str, Any]]) -> set[str]:
    return {a for s in statements if s["Effect"] == "Allow" for a in as_list(s["Action"])}


def api_resource_paths(template: dict[str, Any]) -> dict[str, str]:
    """Logical id of each ``AWS::ApiGateway::Resource`` → its full path (``/customers/{customer_id}``)."""
    nodes = resources(template, "AWS::ApiGateway::Resource")
    paths: dict[str, str] = {}

    def path_of(logical_id: str) -> str:
        if logical_id not in paths:
            node = props(nodes[logical_id])
            parent = ref(node["ParentId"])
            prefix = path_of(parent) if parent in nodes else ""
            paths[logical_id] = f"{prefix}/{node['PathPart']}"
        return paths[logical_id]

    for logical_id in nodes:
        path_of(logical_id)
    return paths
