"""Every function starts in AWS with only the environment its CDK definition gives it.

For each function, ``os.environ`` holds nothing but the Lambda Environment Variables of the synthesized template
(tokens replaced by placeholders) and what the Lambda runtime itself adds; then its settings
(``FUNCTION_SETTINGS``), its cold start (its handler module imported) and every composition root it builds
(``COMPOSITION_ROOTS``) must succeed, with sockets disabled: clients are built, nothing is called.
"""

from __future__ import annotations

import os
from typing import Any

import aws_xray_sdk.core  # noqa: F401  (opens X-Ray's UDP socket at import: before sockets are disabled)
import pytest
from receivables import bootstrap
from receivables.settings import FUNCTION_SETTINGS
from receivables.topology import TOPOLOGY
from receivables_local.handlers import load_handler

from .cfn import lambda_functions, props, ref

# What the Lambda runtime adds to a function's own variables (credentials come from its role).
LAMBDA_RUNTIME = {
    "AWS_REGION": "eu-central-1",
    "AWS_DEFAULT_REGION": "eu-central-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # nowhere: a cold start must not call AWS
}
# Not the function's environment, but what the interpreter and the test runner need to keep working.
KEPT = ("PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "PYTEST_CURRENT_TEST", "PYTEST_XDIST_WORKER", "COV_CORE_SOURCE")


def placeholder(value: Any) -> str:
    """A CloudFormation token (``Ref``, ``Fn::GetAtt``) as the string Lambda would see, naming what it refers to."""
    return value if isinstance(value, str) else f"resolved-{ref(value) or 'token'}"


def synthesized_environment(template: dict[str, Any], name: str) -> dict[str, str]:
    function = lambda_functions(template)[TOPOLOGY.function(name).description]
    variables = props(function).get("Environment", {}).get("Variables", {})
    return {key: placeholder(value) for key, value in variables.items()}


@pytest.fixture
def only_environment(monkeypatch: pytest.MonkeyPatch):
    def apply(env: dict[str, str]) -> None:
        for key in list(os.environ):
            if key not in KEPT and not key.startswith("COV_"):
                monkeypatch.delenv(key)
        for key, value in {**LAMBDA_RUNTIME, **env}.items():
            monkeypatch.setenv(key, value)
        bootstrap.reset()

    yield apply
    bootstrap.reset()


@pytest.mark.parametrize("name", [f.name for f in TOPOLOGY.functions])
def test_each_function_cold_starts_with_only_its_synthesized_environment(
    template: dict[str, Any], only_environment: Any, socket_disabled: Any, name: str
) -> None:
    only_environment(synthesized_environment(template, name))

    FUNCTION_SETTINGS[name].from_environment()
    load_handler(name)
    for factory in bootstrap.COMPOSITION_ROOTS[name]:
        factory()
