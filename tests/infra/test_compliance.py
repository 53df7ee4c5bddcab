"""cdk-nag (AWS Solutions) and cfn-lint over the synthesized template."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cfnlint.api

from .conftest import Synthesis

# Regions the stack is linted for: where it is deployed and CloudFormation's reference region.
LINT_REGIONS = ["eu-central-1", "us-east-1"]
# W3005 "dependency already enforced by GetAtt": CDK adds an explicit DependsOn next to the GetAtt on purpose
# (role policies must exist before the function that uses them); it is redundant, not wrong.
LINT_IGNORED = {"W3005"}


def _describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(f"{v['ruleName']}: {[c['constructPath'] for c in v['violatingConstructs']]}" for v in violations)


def test_cdk_nag_reports_nothing_unacknowledged(synthesis: Synthesis) -> None:
    violations = synthesis.violations()
    assert not violations, "unacknowledged cdk-nag findings:\n" + _describe(violations)
    assert synthesis.error is None, synthesis.error


def _acknowledged_rules(template: dict[str, Any]) -> dict[str, str]:
    """Rule id → reason, from the audit trail cdk-nag writes into the template metadata."""
    acknowledged: dict[str, str] = {}
    for resource in template["Resources"].values():
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
            acknowledged[rule["id"]] = rule["reason"]
    return acknowledged


def test_every_acknowledgment_answers_a_real_finding(synthesis: Synthesis, unacknowledged_synthesis: Synthesis) -> None:
    # Without acknowledgments cdk-nag must fail the synth (proof that it runs at all)…
    assert unacknowledged_synthesis.error is not None
    findings = {v["ruleName"] for v in unacknowledged_synthesis.violations()}
    acknowledged = _acknowledged_rules(synthesis.template)
    # …and what it then reports is exactly what the real app acknowledges: no stale suppressions.
    assert set(acknowledged) == findings
    assert all(len(reason) >= 40 for reason in acknowledged.values())


def test_cfn_lint_finds_no_problems(synthesis: Synthesis, tmp_path: Path) -> None:
    template_file = tmp_path / "template.json"
    template_file.write_text(json.dumps(synthesis.template, indent=1))
    matches = cfnlint.api.lint(template_file.read_text(), regions=LINT_REGIONS)
    problems = [m for m in matches if m.rule.id not in LINT_IGNORED]
    assert not problems, "\n".join(f"{m.rule.id} {m.message} at {'/'.join(map(str, m.path))}" for m in problems)
