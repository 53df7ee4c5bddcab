"""People who sign in: the Cognito user pool with the groups every route names (collector, supervisor, finance,
admin), and the app client the back-office console signs in with. Accounts are made by an administrator (no
self sign-up); a second factor is required."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, NestedStack, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from receivables.topology import ApiRoute

from . import ids
from .api import Api
from .nag import acknowledge


class People(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, service: str, groups: Sequence[str]) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            ids.PEOPLE_USER_POOL,
            user_pool_name=f"{service}-people",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(username=True, email=True),
            password_policy=cognito.PasswordPolicy(
                min_length=12, require_digits=True, require_lowercase=True, require_uppercase=True, require_symbols=True
            ),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            removal_policy=RemovalPolicy.RETAIN,  # people and their groups outlive a stack replacement
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG8",
            "Threat protection and the Plus feature plan are paid Cognito tiers; sign-in is admin-created "
            "accounts with a required second factor. Enable them on the pool where the plan is bought.",
        )
        for group in groups:
            cognito.CfnUserPoolGroup(
                self,
                f"Group{group.title()}",
                user_pool_id=self.user_pool.user_pool_id,
                group_name=group,
                description=f"Receivables {group}s: the routes naming {group} in the topology",
            )
        self.client = self.user_pool.add_client(
            ids.PEOPLE_CLIENT,
            auth_flows=cognito.AuthFlow(user_srp=True),
            generate_secret=False,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.hours(12),
            prevent_user_existence_errors=True,
        )


class PeopleApiStack(NestedStack):
    """The people's API: the same routes and functions as the IAM one, behind the user pool's authorizer."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        routes: Sequence[tuple[lambda_.IFunction, ApiRoute]],
        service: str,
        user_pool: cognito.IUserPool,
    ) -> None:
        super().__init__(scope, construct_id, description=f"{service} REST API for people signed in")
        self.api = Api(self, ids.API, routes=routes, service=service, user_pool=user_pool)
