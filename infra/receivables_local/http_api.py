"""The REST API on localhost: each HTTP request becomes an API Gateway REST (v1) proxy event for the API
function.

Routes come from the topology's ApiTriggers. A request that matches one gets the route's ``resource`` template
and its ``pathParameters``, as API Gateway would send; anything else is still passed to the (single) API
function, whose resolver answers it (404, 405…) — locally that shows the handler's own error shapes instead of
API Gateway's.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from receivables.topology import ApiTrigger, Topology

from receivables_local.embedded import ACCOUNT_ID
from receivables_local.environment import RUNTIME_LOGGER
from receivables_local.people import LocalUserPool
from receivables_local.runtime import Invocation, Invoker

log = logging.getLogger(RUNTIME_LOGGER)

STAGE = "local"
# Who a local request is from. API Gateway authenticates the SigV4 signature and names the IAM caller in the request
# context; locally nothing is verified: the caller is named by this header (or simulate's "as"), else LOCAL_CALLER.
CALLER_HEADER = "x-local-caller"
LOCAL_CALLER = "local"
_TEXT_TYPES = ("text/", "application/json", "application/x-www-form-urlencoded", "application/xml")


@dataclass(frozen=True, slots=True)
class Route:
    function: str
    method: str
    resource: str  # the template, e.g. /accounts/{account_id}
    pattern: re.Pattern[str]


def _compile(resource: str) -> re.Pattern[str]:
    """``/a/{id}`` → one segment per parameter; ``{proxy+}`` (greedy) → the rest of the path."""
    regex = ""
    for literal, name, greedy in re.findall(r"([^{]*)(?:\{(\w+)(\+)?\})?", resource):
        regex += re.escape(literal)
        if name:
            regex += f"(?P<{name}>.+)" if greedy else f"(?P<{name}>[^/]+)"
    return re.compile(f"^{regex}$")


def routes_of(topology: Topology) -> list[Route]:
    return [
        Route(function.name, route.method, route.path, _compile(route.path))
        for function, trigger in topology.triggers_of_kind(ApiTrigger)
        for route in trigger.routes
    ]


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    target: str  # path and query as sent
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str = "127.0.0.1"
    caller: str | None = None  # an IAM user's name; None: the CALLER_HEADER, else LOCAL_CALLER

    def caller_name(self) -> str:
        named = next((v for k, v in self.headers if k.lower() == CALLER_HEADER), None)
        return (self.caller or named or LOCAL_CALLER).strip() or LOCAL_CALLER

    def bearer_token(self) -> str | None:
        value = next((v for k, v in self.headers if k.lower() == "authorization"), None)
        if value is None:
            return None
        return value.removeprefix("Bearer ").strip() or None

    def person(self) -> tuple[str, str] | None:
        """``"<name>@<group>"`` (simulate's "as" for a person signed in to that group) as (name, group)."""
        caller = self.caller or ""
        name, at, group = caller.rpartition("@")
        return (name, group) if at and name and group else None


def iam_identity(request: Request, user_agent: str | None) -> dict[str, Any]:
    """``requestContext.identity`` as API Gateway fills it for a SigV4-signed call by the IAM user named."""
    name = request.caller_name()
    user_id = "AIDA" + hashlib.sha256(name.encode()).hexdigest()[:16].upper()  # stable per name, like IAM's
    return {
        "sourceIp": request.source_ip,
        "userAgent": user_agent,
        "accountId": ACCOUNT_ID,
        "caller": user_id,
        "user": user_id,
        "userArn": f"arn:aws:iam::{ACCOUNT_ID}:user/{name}",
        "accessKey": "AKIA" + user_id[4:],
    }


def _is_text(headers: list[tuple[str, str]]) -> bool:
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    return not content_type or content_type.lower().startswith(_TEXT_TYPES)


def proxy_event(
    request: Request,
    route: Route | None,
    path_parameters: dict[str, str] | None,
    claims: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The API Gateway REST proxy integration event (payload format 1.0); ``claims``: a signed-in person's, as the
    Cognito authorizer verified them (no IAM identity then), else the IAM caller's identity."""
    url = urlsplit(request.target)
    path = url.path or "/"  # as API Gateway (REST) sends it: still percent-encoded
    query = parse_qsl(url.query, keep_blank_values=True)
    multi_query: dict[str, list[str]] = {}
    for name, value in query:
        multi_query.setdefault(name, []).append(value)
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        multi_headers.setdefault(name, []).append(value)
    if request.body and _is_text(request.headers):
        try:
            body, encoded = request.body.decode("utf-8"), False
        except UnicodeDecodeError:
            body, encoded = base64.b64encode(request.body).decode(), True
    elif request.body:
        body, encoded = base64.b64encode(request.body).decode(), True
    else:
        body, encoded = None, False
    resource = route.resource if route else path
    now = datetime.now(UTC)
    request_id = str(uuid.uuid4())
    user_agent = next((v for k, v in request.headers if k.lower() == "user-agent"), None)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": request.method,
        "headers": {name: values[-1] for name, values in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "resourceId": "local",
            "resourcePath": resource,
            "httpMethod": request.method,
            "path": f"/{STAGE}{path}",
            "stage": STAGE,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "protocol": "HTTP/1.1",
            "domainName": "localhost",
            "domainPrefix": "localhost",
            "identity": iam_identity(request, user_agent)
            if claims is None
            else {"sourceIp": request.source_ip, "userAgent": user_agent},
            **({"authorizer": {"claims": claims}} if claims is not None else {}),
        },
        "body": body,
        "isBase64Encoded": encoded,
    }


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _gateway_error(status: int, message: str) -> Response:
    body = json.dumps({"message": message}).encode()
    return Response(status, [("Content-Type", "application/json")], body)


def to_response(result: Any) -> Response:
    """A Lambda proxy result → HTTP; a malformed one is a 502, as API Gateway answers."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        log.error("malformed Lambda proxy response", extra={"fields": {"response": repr(result)[:500]}})
        return _gateway_error(502, "Internal server error")
    headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((name, str(v)) for v in values if (name, str(v)) not in headers)
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode("utf-8")
    return Response(result["statusCode"], headers, body)


class ApiGateway:
    """Routes requests to API functions through the invoker; usable without HTTP (tests call
    :meth:`handle`)."""

    def __init__(self, topology: Topology, invoker: Invoker, people: LocalUserPool | None = None) -> None:
        self.invoker = invoker
        self.people = people
        self.routes = routes_of(topology)
        functions = sorted({r.function for r in self.routes})
        self._fallback = functions[0] if len(functions) == 1 else None

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str] | None]:
        """Matches the percent-encoded path, as API Gateway does: ``/items/INV%2F1`` is one segment, the item
        ``INV/1``, and its parameter is handed over decoded."""
        for route in self.routes:
            found = route.pattern.match(path)
            if found and route.method == method:
                return route, {name: unquote(value) for name, value in found.groupdict().items()}
        return None, None

    def handle(self, request: Request) -> Response:
        route, parameters = self.match(request.method, urlsplit(request.target).path or "/")
        function = route.function if route else self._fallback
        if function is None:
            # API Gateway's own answer for a path no resource matches.
            return _gateway_error(403, "Missing Authentication Token")
        claims = None
        token = request.bearer_token()
        person = request.person()
        if self.people is not None and person is not None and token is None:
            token = self.people.add_user(*person)  # simulate's "name@group": that person, signed in
        if token is not None:
            claims = self.people.verify(token) if self.people is not None else None
            if claims is None:
                return _gateway_error(401, "Unauthorized")  # what the Cognito authorizer answers
        event = proxy_event(request, route, parameters, claims)
        started = time.perf_counter()
        try:
            result = self.invoker.invoke(function, event)
        except Exception as exc:
            log.exception("API handler raised", extra={"fields": {"path": event["path"]}})
            self.invoker.record(
                Invocation(function, "api", 1, 1, f"{type(exc).__name__}: {exc}", time.perf_counter() - started)
            )
            return _gateway_error(502, "Internal server error")
        self.invoker.record(Invocation(function, "api", 1, 0, None, time.perf_counter() - started))
        return to_response(result)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, self.path, _header_items(self.headers), body, self.client_address[0])
        response = self.server.gateway.handle(request)
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, QUERY, made-up ones) reaches the gateway too, which answers it as API Gateway
        # does (403 where no route has it) instead of http.server's 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        log.info("http " + format % args)


def _header_items(headers: Message) -> list[tuple[str, str]]:
    return [(name, str(value)) for name, value in headers.items()]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    gateway: ApiGateway


class HttpApi:
    """``ApiGateway`` behind a ThreadingHTTPServer on 127.0.0.1, served from a background thread."""

    def __init__(self, gateway: ApiGateway, port: int = 0, host: str = "127.0.0.1") -> None:
        self._server = _Server((host, port), _RequestHandler)
        self._server.gateway = gateway
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> str:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="local-http-api",
            daemon=True,
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> HttpApi:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
