"""The REST API: every ApiTrigger route of the topology, proxied to its function."""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from receivables.topology import ApiRoute

from . import ids
from .compute import LOG_RETENTION
from .nag import acknowledge

STAGE = "v1"
# Steady-state and burst requests per second for the whole stage. The API serves back-office screens and
# integrations, not the public; these caps protect the table and the functions from a runaway client.
THROTTLING_RATE_LIMIT = 50
THROTTLING_BURST_LIMIT = 100

_PATH_PARAMETER = re.compile(r"{(\w+)\+?}")


def path_parameters(path: str) -> list[str]:
    """``/customers/{customer_id}`` → ``["customer_id"]``."""
    return _PATH_PARAMETER.findall(path)


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        routes: Sequence[tuple[lambda_.IFunction, ApiRoute]],
        service: str,
        user_pool: cognito.IUserPool | None = None,
    ) -> None:
        """IAM-authorised (systems, SigV4) or, with ``user_pool``, the same routes for people signed in to it: the
        Cognito authorizer verifies their ID token and hands its claims to the function, which checks the route's
        groups (receivables.api.roles)."""
        super().__init__(scope, construct_id)
        name = f"{service}-people-api" if user_pool else f"{service}-api"
        access_logs = logs.LogGroup(
            self, ids.API_ACCESS_LOGS, retention=LOG_RETENTION, removal_policy=RemovalPolicy.RETAIN
        )
        self.rest_api = apigw.RestApi(
            self,
            ids.API_REST_API,
            rest_api_name=name,
            description=f"{service} REST API" + (" for people signed in to the user pool" if user_pool else ""),
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # Execution logging (below) needs the account-level API Gateway → CloudWatch Logs role.
            # One account-level logging role serves every API of the account: the IAM API's sets it up.
            cloud_watch_role=user_pool is None,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN if user_pool is None else None,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE,
                tracing_enabled=True,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                # Errors only and never request/response bodies: those carry customer personal data.
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
                throttling_rate_limit=THROTTLING_RATE_LIMIT,
                throttling_burst_limit=THROTTLING_BURST_LIMIT,
            ),
        )
        validator = self.rest_api.add_request_validator(
            ids.API_REQUEST_VALIDATOR, validate_request_parameters=True, validate_request_body=True
        )
        authorizer = (
            apigw.CognitoUserPoolsAuthorizer(self, ids.API_AUTHORIZER, cognito_user_pools=[user_pool])
            if user_pool
            else None
        )
        integrations: dict[str, apigw.LambdaIntegration] = {}
        for function, route in routes:
            if function.node.path not in integrations:
                # No console "test" permission: it would add a second Lambda permission for every method.
                integrations[function.node.path] = (
                    apigw.LambdaIntegration(function, proxy=True, allow_test_invoke=False)
                    if user_pool is None
                    # The people's API: one permission per function for the whole API, not one per method.
                    else apigw.LambdaIntegration(function, proxy=True, scope_permission_to_method=False)
                )
            integration = integrations[function.node.path]
            method = self.rest_api.root.resource_for_path(route.path).add_method(
                route.method,
                integration,
                # Systems sign their requests with their IAM identity (SigV4); people present the user pool's ID
                # token, which the authorizer verifies.
                authorization_type=apigw.AuthorizationType.COGNITO if authorizer else apigw.AuthorizationType.IAM,
                authorizer=authorizer,
                request_validator=validator,
                request_parameters={f"method.request.path.{name}": True for name in path_parameters(route.path)},
            )
            if authorizer is None:
                acknowledge(
                    method,
                    "AwsSolutions-COG4",
                    "The method uses AWS_IAM authorization: its callers are systems with IAM identities; people "
                    "call the same routes through the people API, behind the Cognito user pool authorizer.",
                )

        acknowledge(
            self.rest_api.deployment_stage,
            "AwsSolutions-APIG3",
            "No WAF web ACL: every method is IAM- or Cognito-authorised (unauthenticated requests are rejected "
            "before any integration runs) and stage throttling caps request rates; a web ACL can be associated outside "
            "this stack.",
        )
        if user_pool is not None:
            return
        cloud_watch_role = self.rest_api.node.find_child("CloudWatchRole")
        acknowledge(
            cloud_watch_role,
            "AwsSolutions-IAM4",
            "The account-level API Gateway logging role uses the AWS-managed "
            "AmazonAPIGatewayPushToCloudWatchLogs policy, which is the documented policy for that role.",
            findings=(
                "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
            ),
        )

    @property
    def url(self) -> str:
        return self.rest_api.url
