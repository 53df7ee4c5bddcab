"""The actor of a change is read from the request context API Gateway fills in, in the audit trail's short form."""

import pytest
from receivables.api.caller import MAX_ACTOR, actor_of


@pytest.mark.parametrize(
    ("context", "actor"),
    [
        ({"identity": {"userArn": "arn:aws:iam::123456789012:user/ops.ayse"}}, "ops.ayse"),
        ({"identity": {"userArn": "arn:aws:iam::123456789012:user/division/team/ops.ayse"}}, "ops.ayse"),
        ({"identity": {"userArn": "arn:aws:sts::123456789012:assumed-role/Billing/job-7"}}, "Billing/job-7"),
        ({"identity": {"userArn": "arn:aws:iam::123456789012:root"}}, "root"),
        (  # a kind with no short form: the whole ARN
            {"identity": {"userArn": "arn:aws:sts::123456789012:federated-user/x"}},
            "arn:aws:sts::123456789012:federated-user/x",
        ),
        ({"authorizer": {"claims": {"cognito:username": "ece", "sub": "u-1"}}, "identity": {}}, "ece"),
        ({"identity": {"sourceIp": "203.0.113.10", "userArn": None}}, None),
        ({"identity": {"userArn": "   "}}, None),
        ({}, None),
        (None, None),
    ],
)
def test_the_actor_is_the_short_name_of_the_authenticated_caller(context, actor):
    assert actor_of(context) == actor


def test_token_claims_win_over_the_gateways_own_iam_identity():
    context = {"authorizer": {"claims": {"cognito:username": "ece"}}, "identity": {"userArn": "arn:aws:iam::1:user/x"}}
    assert actor_of(context) == "ece"


def test_an_overlong_name_is_cut_to_what_the_records_keep():
    name = "n" * 300
    actor = actor_of({"identity": {"userArn": f"arn:aws:iam::1:user/{name}"}})
    assert actor is not None and len(actor) == MAX_ACTOR and actor.endswith("…")
