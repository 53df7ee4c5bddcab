"""The REST API: every ApiTrigger route of the topology, proxied to its function."""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
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
    ) -> None:
        super().__init__(scope, construct_id)
        access_logs = logs.LogGroup(
            self, ids.API_ACCESS_LOGS, retention=LOG_RETENTION, removal_policy=RemovalPolicy.RETAIN
        )
        self.rest_api = apigw.RestApi(
            self,
            ids.API_REST_API,
            rest_api_name=f"{service}-api",
            description=f"{service} REST API",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # Execution logging (below) needs the account-level API Gateway → CloudWatch Logs role.
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
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
        integrations: dict[str, apigw.LambdaIntegration] = {}
        for function, route in routes:
            if function.node.path not in integrations:
                # No console "test" permission: it would add a second Lambda permission for every method.
                integrations[function.node.path] = apigw.LambdaIntegration(
                    function, proxy=True, allow_test_invoke=False
                )
            integration = integrations[function.node.path]
            method = self.rest_api.root.resource_for_path(route.path).add_method(
                route.method,
                integration,
                # Callers are back-office services and tools that sign requests with their IAM identity
                # (SigV4).
                authorization_type=apigw.AuthorizationType.IAM,
                request_validator=validator,
                request_parameters={f"method.request.path.{name}": True for name in path_parameters(route.path)},
            )
            acknowledge(
                method,
                "AwsSolutions-COG4",
                "The method uses AWS_IAM authorization: callers are internal services and operators with IAM "
                "identities; there is no end-user sign-in and so no Cognito user pool.",
            )

        acknowledge(
            self.rest_api.deployment_stage,
            "AwsSolutions-APIG3",
            "No WAF web ACL: every method is IAM-authorised (unsigned requests are rejected before any "
            "integration runs) and stage throttling caps request rates; a web ACL can be associated outside "
            "this stack.",
        )
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
