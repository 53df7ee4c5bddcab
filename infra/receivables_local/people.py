"""People who sign in, locally: moto's Cognito user pool with the groups of the deployed one, its ID tokens, and the
check API Gateway's Cognito authorizer makes (signature, issuer, audience, expiry, token use) before a request
reaches a function.

moto signs every token with one key pair it ships; the public half (``jwks-public.json``) is what the pool's
``/.well-known/jwks.json`` serves, and what :meth:`LocalUserPool.verify` checks signatures with. The JWT work is
joserfc's (moto's own dependency)."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

from receivables.topology import EVERYONE

POOL_NAME = "receivables-local-people"
CLIENT_NAME = "receivables-local-console"
# Local only: every local person signs in with this password; nothing here protects real data.
LOCAL_PASSWORD = "Local-Password-1!"


class UnknownGroupError(ValueError):
    pass


def _public_key() -> Any:
    from joserfc.jwk import KeySet

    shipped = resources.files("moto.cognitoidp").joinpath("resources", "jwks-public.json.gz").read_bytes()
    return KeySet.import_key_set(json.loads(gzip.decompress(shipped)))


class LocalUserPool:
    def __init__(self, clients: Callable[[str], Any]) -> None:
        self._clients = clients
        self._lock = threading.Lock()
        self._ids: tuple[str, str] | None = None
        self._tokens: dict[tuple[str, str], tuple[float, str]] = {}
        self._keys: Any = None

    @property
    def _cognito(self) -> Any:
        return self._clients("cognito-idp")

    def ensure(self) -> tuple[str, str]:
        """The pool's id and its app client's id; created, with the four groups, on first use."""
        with self._lock:
            if self._ids is None:
                self._ids = self._find() or self._create()
            return self._ids

    def _find(self) -> tuple[str, str] | None:
        pools = self._cognito.list_user_pools(MaxResults=60)["UserPools"]
        pool = next((p["Id"] for p in pools if p["Name"] == POOL_NAME), None)
        if pool is None:
            return None
        clients = self._cognito.list_user_pool_clients(UserPoolId=pool, MaxResults=60)["UserPoolClients"]
        client = next((c["ClientId"] for c in clients if c["ClientName"] == CLIENT_NAME), None)
        return (pool, client) if client else None

    def _create(self) -> tuple[str, str]:
        pool = self._cognito.create_user_pool(PoolName=POOL_NAME)["UserPool"]["Id"]
        for group in EVERYONE:
            self._cognito.create_group(UserPoolId=pool, GroupName=group)
        client = self._cognito.create_user_pool_client(
            UserPoolId=pool,
            ClientName=CLIENT_NAME,
            ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        return pool, client

    def add_user(self, name: str, group: str) -> str:
        """The person (created if new) in ``group``, signed in: their ID token."""
        if group not in EVERYONE:
            raise UnknownGroupError(f"{group!r} is not a group: one of {', '.join(EVERYONE)}")
        cached = self._tokens.get((name, group))
        if cached and cached[0] > time.time() + 60:
            return cached[1]
        pool, client = self.ensure()
        cognito = self._cognito
        try:
            cognito.admin_get_user(UserPoolId=pool, Username=name)
        except cognito.exceptions.UserNotFoundException:
            cognito.admin_create_user(UserPoolId=pool, Username=name, MessageAction="SUPPRESS")
            cognito.admin_set_user_password(UserPoolId=pool, Username=name, Password=LOCAL_PASSWORD, Permanent=True)
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=name, GroupName=group)
        result = cognito.admin_initiate_auth(
            UserPoolId=pool,
            ClientId=client,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": name, "PASSWORD": LOCAL_PASSWORD},
        )["AuthenticationResult"]
        token = str(result["IdToken"])
        self._tokens[(name, group)] = (time.time() + int(result.get("ExpiresIn", 3600)), token)
        return token

    def verify(self, token: str) -> dict[str, Any] | None:
        """The token's claims as API Gateway's Cognito authorizer hands them to the function, or None when API
        Gateway would answer 401 (bad signature, another pool or client, expired, not an ID token)."""
        from joserfc import jwt
        from joserfc.errors import JoseError

        pool, client = self.ensure()
        if self._keys is None:
            self._keys = _public_key()
        try:
            claims = dict(jwt.decode(token, self._keys, algorithms=["RS256"]).claims)
        except (JoseError, ValueError):
            return None
        if (
            not str(claims.get("iss", "")).endswith(f"/{pool}")
            or claims.get("aud") != client
            or claims.get("token_use") != "id"
            or int(claims.get("exp", 0)) <= time.time()
        ):
            return None
        groups = claims.get("cognito:groups") or []
        # As API Gateway (REST) passes claims: strings; an array claim as its members joined by commas.
        return {k: str(v) for k, v in claims.items() if k != "cognito:groups"} | {"cognito:groups": ",".join(groups)}
