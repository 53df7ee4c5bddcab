"""Every alarm the stack defines has its runbook in docs/operations.md, and the runbook names no alarm that is gone;
the business alarms are judged on the days they describe, and the dashboard shows the business."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from aws_cdk import Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from receivables_infra import ids

from .cfn import props, resources
from .conftest import Synthesis

RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def alarms_by_purpose(synthesis: Synthesis) -> dict[str, cloudwatch.CfnAlarm]:
    """Every alarm of the app, nested stacks included: by its AlarmName where one is set, else by the construct id
    of the alarm (the ``<Id>`` CloudFormation puts in the generated name)."""
    found: dict[str, cloudwatch.CfnAlarm] = {}
    for construct in synthesis.stack.node.find_all():
        if not isinstance(construct, cloudwatch.CfnAlarm):
            continue
        name = construct.alarm_name
        if name and not Token.is_unresolved(name):
            purpose = name
        else:  # an L2 Alarm's resource is its child "Resource"
            node = construct.node
            purpose = node.scope.node.id if node.id == "Resource" and node.scope else node.id
        assert purpose not in found, f"two alarms answer to {purpose!r}: give one a name of its own"
        found[purpose] = construct
    return found


def runbook_sections() -> set[str]:
    """The alarm names in the headings of the runbook's "## Alarms" part: ``#### `Name`, `Other` ``."""
    text = RUNBOOK.read_text(encoding="utf-8")
    alarms = text.split("\n## Alarms\n", 1)[1].split("\n## ", 1)[0]
    return {
        name
        for heading in re.findall(r"^#{3,6} (.+)$", alarms, re.MULTILINE)
        for name in re.findall(r"`([A-Za-z0-9]+)`", heading)
    }


def test_the_alarms_found_are_every_alarm_of_the_template(synthesis: Synthesis, template: dict[str, Any]) -> None:
    in_main_stack = [a for a in alarms_by_purpose(synthesis).values() if Stack.of(a) is synthesis.stack]
    assert {synthesis.logical_id(a) for a in in_main_stack} == set(resources(template, "AWS::CloudWatch::Alarm"))


def test_every_alarm_has_a_runbook_section(synthesis: Synthesis) -> None:
    missing = sorted(set(alarms_by_purpose(synthesis)) - runbook_sections())
    assert not missing, (
        f"alarms without a runbook in {RUNBOOK.name}: {missing}; add a section '#### `<Id>`' under '## Alarms' "
        "saying what it means, where to look and what to do"
    )


def test_the_runbook_describes_no_alarm_that_is_gone(synthesis: Synthesis) -> None:
    stale = sorted(runbook_sections() - set(alarms_by_purpose(synthesis)))
    assert not stale, f"{RUNBOOK.name} has sections for alarms the stack no longer defines: {stale}"


def _alarm(template: dict[str, Any], construct_id: str) -> dict[str, Any]:
    (alarm,) = [
        props(a)
        for logical_id, a in resources(template, "AWS::CloudWatch::Alarm").items()
        if re.fullmatch(rf"{ids.MONITORING}{construct_id}[0-9A-F]{{8}}", logical_id)
    ]
    return alarm


def test_the_daily_run_alarm_looks_at_the_day_ending_at_ten_in_istanbul(template: dict[str, Any]) -> None:
    alarm = _alarm(template, "DailyRunNotCompleted")
    # The planner's heartbeat is always 0: only a day without one breaches.
    assert (alarm["MetricName"], alarm["Statistic"], alarm["Period"]) == ("DailyRunsMissed", "Maximum", 86_400)
    assert alarm["TreatMissingData"] == "breaching"
    # Midnight in UTC-7 is 07:00 UTC, 10:00 in Istanbul (UTC+3 all year).
    assert alarm["EvaluationWindow"] == {"WallClockWindow": {"Timezone": "UTC-07:00"}}
    planner = Path(__file__).resolve().parents[2] / "functions" / "plan_daily_run" / "handler.py"
    assert 'count("DailyRunsMissed", 0)' in planner.read_text() and "@metrics.log_metrics" in planner.read_text()


def test_suspense_alarms_after_three_business_days_in_a_row(template: dict[str, Any]) -> None:
    alarm = _alarm(template, "SuspenseGrowing")
    assert (alarm["MetricName"], alarm["Statistic"], alarm["Period"]) == ("PaymentsUnmatched", "Sum", 86_400)
    assert alarm["EvaluationPeriods"] == alarm["DatapointsToAlarm"] == 3
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["EvaluationWindow"] == {"WallClockWindow": {"Timezone": "Europe/Istanbul"}}


def test_the_dashboard_shows_the_business_beside_the_functions(template: dict[str, Any]) -> None:
    (dashboard,) = [props(d) for d in resources(template, "AWS::CloudWatch::Dashboard").values()]
    body = json.dumps(dashboard["DashboardBody"])
    for metric in (
        "FilesLoaded",
        "FilesRejected",
        "ChunksLoaded",
        "PaymentsApplied",
        "PaymentsUnmatched",
        "NoticesEmail",
        "NoticesSms",
        "NoticesLetter",
        "NoticesCallTask",
        "ActionsSuspend",
        "DailyRunsMissed",
    ):
        assert f'\\"{metric}\\"' in body, metric
    assert "deferred SMS sent" in body and "daily run planned" in body  # Logs Insights over their log groups
    assert "Invocations" in body and "Dead-letter depth" in body
