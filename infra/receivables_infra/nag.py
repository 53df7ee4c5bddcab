"""cdk-nag wiring and the one way to suppress a finding.

cdk-nag 3 is a CDK policy-validation plugin (``Validations.of(app).add_plugins(...)``, not an Aspect): at
synthesis every unacknowledged finding, error or warning, interrupts the synth and is written to
``validation-report.json`` in the cloud assembly. Suppression is CDK's native
``Validations.of(construct).acknowledge(...)`` (cdk-nag 3 dropped ``NagSuppressions``); it covers the
construct and its children. Findings that carry detail (IAM wildcards) are acknowledged one by one as
``Rule[finding]``.

Suppressions live next to the resource they concern, so the reason sits beside the design decision; all of
them go through :func:`acknowledge`, which refuses a missing reason.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnResource, Stack, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

# Context flag: when "false", acknowledge() records nothing, so the synth reports every finding. The test
# suite uses it to prove that each acknowledgment still answers a real finding (no stale suppressions).
ACKNOWLEDGMENTS_CONTEXT_KEY = "receivables:nag-acknowledgments"


def apply_checks(app: IConstruct) -> None:
    """Run the AWS Solutions pack on every stack of ``app`` at synthesis."""
    # write_suppressions_to_cloud_formation keeps an audit trail of the acknowledgments (with reasons) in the
    # template metadata, where reviewers of a change set can see them.
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))


def acknowledge(scope: IConstruct, rule: str, reason: str, *, findings: tuple[str, ...] = ()) -> None:
    """Suppress ``rule`` (e.g. ``AwsSolutions-IAM5``) on ``scope`` and its children, for ``reason``.

    ``findings`` narrows it to specific findings (``Resource::*``); without them the whole rule is
    acknowledged, which is right only for rules that report a single finding per resource.
    """
    if len(reason.strip()) < 20:
        raise ValueError(f"suppressing {rule} needs a real reason, got {reason!r}")
    if str(scope.node.try_get_context(ACKNOWLEDGMENTS_CONTEXT_KEY)).lower() == "false":
        return
    ids = [f"{rule}[{finding}]" for finding in findings] if findings else [rule]
    Validations.of(scope).acknowledge(*(Acknowledgment(id=rule_id, reason=reason) for rule_id in ids))


def arn_finding(resource: IConstruct, suffix: str = "") -> str:
    """The IAM5 finding for ``<ARN of resource><suffix>`` as cdk-nag spells it: ``Resource::<Id.Arn>/*``."""
    cfn = resource if isinstance(resource, CfnResource) else resource.node.default_child
    stack = Stack.of(resource)
    logical_id = stack.resolve(stack.get_logical_id(cfn))  # type: ignore[arg-type]
    return f"Resource::<{logical_id}.Arn>{suffix}"
