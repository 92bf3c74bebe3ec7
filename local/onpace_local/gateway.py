"""A local stand-in for the template's HTTP API (API Gateway, payload format 2.0).

``serve_gateway(stack)`` starts a ``ThreadingHTTPServer`` in a thread that routes each request
the way API Gateway would: the routing table comes from the template's own ``HttpApi`` events
(``stack.functions`` → ``events`` → ``Path`` with ``{param}``/``{proxy+}`` segments, ``Method``),
each request becomes the v2 event API Gateway would send, the function's real handler runs
in-process through ``stack.invoke``, and its result is written back as the HTTP response.

**The JWT authorizer, as API Gateway runs it.** A route behind the template's ``DistrictAdmins``
authorizer reaches the function only with a valid ID token in ``Authorization`` (``Bearer ``
prefix optional): RS256 signature against the local identity provider's key
(``identity_provider.py``, served under ``/local-idp/`` on the same port), ``iss`` and ``aud``
as the template's ``jwtConfiguration`` resolves them, ``exp`` (and ``nbf``/``iat``) honoured.
The verified claims go to ``requestContext.authorizer.jwt.claims``; a missing or invalid token
is API Gateway's ``401 {"message": "Unauthorized"}`` without invoking the function. Routes with
``Auth: {Authorizer: NONE}`` (the webhooks, the console shell) never get claims. Sign in through
the provider (``handle.identity_provider.add_user`` then the code + PKCE exchange, or
``id_token(user)`` in tests); the gateway points the console's ``CONSOLE_AUTH_URL`` at it.

**Throttling as the template sets it.** The stage's ``DefaultRouteSettings``
(``ThrottlingRateLimit``, ``ThrottlingBurstLimit``) become one token bucket per route, as API
Gateway applies them to an HTTP API: a request finding its route's bucket empty gets API
Gateway's own ``429 {"message": "Too Many Requests"}`` without reaching the function.

Other differences from API Gateway: no payload or timeout limits, no CORS, one
invocation of a function at a time (one warm "container" per function, as Lambda would run it:
the handlers keep per-invocation state in module globals), and a ``GET /`` that redirects to
``/console`` when the template has no route for it.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

import jwt

from onpace_local.identity_provider import PREFIX as IDP_PREFIX
from onpace_local.identity_provider import LocalIdentityProvider
from onpace_local.template import FunctionSpec

log = logging.getLogger(__name__)

AUTHORIZER = "DistrictAdmins"
#: What the console function is told about its sign-in locally (same origin as the gateway).
CONSOLE_AUTH_ENV = "CONSOLE_AUTH_URL"
_ANY = "ANY"
_DEFAULT_API = "ServerlessHttpApi"  # what SAM names the implicit HTTP API
_TEXT_TYPES = re.compile(
    r"^(text/|application/(json|[\w.+-]*\+json|xml|[\w.+-]*\+xml|javascript|x-www-form-urlencoded|graphql))",
    re.IGNORECASE,
)
_MAX_BODY = 10 * 1024 * 1024  # API Gateway's own payload limit


class GatewayStack(Protocol):
    """What the gateway needs of ``LocalStack``."""

    @property
    def functions(self) -> list[FunctionSpec]: ...

    def invoke(self, logical_id: str, event: dict[str, Any], context: Any = None) -> Any: ...


# ---------------------------------------------------------------------------------------------
# Routing table.


@dataclass(frozen=True)
class Route:
    """One ``HttpApi`` event of the template: ``METHOD /path/{param}`` → function."""

    method: str  # upper case, or "ANY"
    path: str  # as in the template, e.g. "/webhooks/{source}"
    logical_id: str
    authorized: bool  # behind a JWT authorizer in the template
    pattern: re.Pattern[str] = field(repr=False, compare=False)
    literal_segments: int = field(repr=False, compare=False)
    greedy: bool = field(repr=False, compare=False)
    param_names: tuple[tuple[str, str], ...] = field(default=(), repr=False, compare=False)  # group, name
    api: str = field(default=_DEFAULT_API, repr=False, compare=False)  # the HttpApi's logical id

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in (_ANY, method):
            return None
        found = self.pattern.fullmatch(path)
        if found is None:
            return None
        names = dict(self.param_names)
        return {names.get(group, group): unquote(value) for group, value in found.groupdict().items()}


_PARAM = re.compile(r"^\{([A-Za-z0-9_.-]+)(\+?)\}$")


def _compile_path(path: str) -> tuple[re.Pattern[str], int, bool, tuple[tuple[str, str], ...]]:
    """A regex for a template path: ``{name}`` is one segment, ``{name+}`` the rest of the path."""
    parts: list[str] = []
    names: list[tuple[str, str]] = []
    literal = 0
    greedy = False
    for segment in path.strip("/").split("/") if path.strip("/") else []:
        param = _PARAM.match(segment)
        if param is None:
            parts.append(re.escape(segment))
            literal += 1
            continue
        group = f"p{len(names)}"  # parameter names may hold "-" or ".", group names may not
        names.append((group, param.group(1)))
        if param.group(2):
            parts.append(f"(?P<{group}>.+)")
            greedy = True
        else:
            parts.append(f"(?P<{group}>[^/]+)")
    return re.compile("/" + "/".join(parts)), literal, greedy, tuple(names)


def _api_logical_id(properties: Mapping[str, Any]) -> str:
    api = properties.get("ApiId")
    if isinstance(api, Mapping) and isinstance(api.get("Ref"), str):
        return str(api["Ref"])
    if isinstance(api, str):
        return api
    return _DEFAULT_API


def _openapi_security(template: Mapping[str, Any] | None, api: str, path: str, method: str) -> bool | None:
    """Whether the transformed template's OpenAPI body puts an authorizer on the route.

    SAM resolves ``DefaultAuthorizer`` and per-route ``Auth`` into ``security`` there, so this is
    what API Gateway will enforce; ``None`` when the template says nothing about the route.
    """
    if not template:
        return None
    resource = template.get("Resources", {}).get(api, {})
    body = resource.get("Properties", {}).get("Body")
    if not isinstance(body, Mapping):
        return None
    operations = body.get("paths", {}).get(path, {})
    operation = operations.get("x-amazon-apigateway-any-method" if method == _ANY else method.lower())
    if not isinstance(operation, Mapping):
        return None
    security = operation.get("security")
    if security is None:
        return bool(body.get("security"))
    return any(name != "NONE" for requirement in security for name in requirement)


def _event_authorized(properties: Mapping[str, Any]) -> bool:
    auth = properties.get("Auth")
    authorizer = auth.get("Authorizer") if isinstance(auth, Mapping) else None
    if authorizer is None:
        # No route-level setting: the API's DefaultAuthorizer applies. Treat the route as
        # authorized, as OnPace's API has a default authorizer (see the OpenAPI check above).
        return True
    return str(authorizer) != "NONE"


def build_routes(functions: Iterable[FunctionSpec], template: Mapping[str, Any] | None = None) -> list[Route]:
    """The routing table of every ``HttpApi`` event, most specific route first.

    ``template`` is the transformed (CloudFormation) template when available: its OpenAPI body
    decides which routes are authorized; otherwise the events' ``Auth`` does.
    """
    routes: list[Route] = []
    seen: dict[str, str] = {}
    for spec in functions:
        for name, event in spec.events.items():
            if not isinstance(event, Mapping) or event.get("Type") != "HttpApi":
                continue
            properties = event.get("Properties") or {}
            path = str(properties.get("Path", "$default"))
            method = str(properties.get("Method", _ANY)).upper()
            if method in ("*", "X-AMAZON-APIGATEWAY-ANY-METHOD"):
                method = _ANY
            if path == "$default":
                path, method = "/{proxy+}", _ANY
            key = f"{method} {path}"
            if key in seen:
                raise ValueError(f"route {key} is declared twice ({seen[key]} and {spec.logical_id}.{name})")
            seen[key] = f"{spec.logical_id}.{name}"
            authorized = _openapi_security(template, _api_logical_id(properties), path, method)
            if authorized is None:
                authorized = _event_authorized(properties)
            pattern, literal, greedy, names = _compile_path(path)
            api = _api_logical_id(properties)
            routes.append(
                Route(method, path, spec.logical_id, authorized, pattern, literal, greedy, names, api)
            )
    # API Gateway prefers the most specific match: more literal segments, then non-greedy,
    # then an exact method over ANY.
    routes.sort(key=lambda r: (-r.literal_segments, r.greedy, r.method == _ANY, r.path))
    return routes


def find_route(routes: Iterable[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in routes:
        params = route.match(method, path)
        if params is not None:
            return route, params
    return None


# ---------------------------------------------------------------------------------------------
# Throttling.


@dataclass
class TokenBucket:
    """API Gateway's throttle for one route: ``rate`` tokens a second, at most ``burst`` saved."""

    rate: float
    burst: int
    tokens: float = field(init=False)
    updated: float = field(init=False, default_factory=time.monotonic)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)

    def take(self, now: float | None = None) -> bool:
        """Whether a request may pass now (and spend its token)."""
        with self._lock:
            at = time.monotonic() if now is None else now
            self.tokens = min(float(self.burst), self.tokens + (at - self.updated) * self.rate)
            self.updated = at
            if self.tokens < 1:
                return False
            self.tokens -= 1
            return True


def throttle_limits(template: Mapping[str, Any] | None, resolve: Any = None) -> dict[str, tuple[float, int]]:
    """``{api logical id: (rate, burst)}`` from the transformed template's stages.

    ``resolve`` evaluates ``Ref``s to parameters (``ProvisionedStack.resolve``); without it only
    literal numbers are read.
    """
    limits: dict[str, tuple[float, int]] = {}
    for resource in (template or {}).get("Resources", {}).values():
        if not isinstance(resource, Mapping) or resource.get("Type") != "AWS::ApiGatewayV2::Stage":
            continue
        properties = resource.get("Properties") or {}
        settings = properties.get("DefaultRouteSettings") or {}
        rate, burst = settings.get("ThrottlingRateLimit"), settings.get("ThrottlingBurstLimit")
        if resolve is not None:
            rate, burst = resolve(rate), resolve(burst)
        if rate is None or burst is None or isinstance(rate, Mapping) or isinstance(burst, Mapping):
            continue
        limits[_api_logical_id(properties)] = (float(rate), int(float(burst)))
    return limits


# ---------------------------------------------------------------------------------------------
# The JWT authorizer.


@dataclass(frozen=True)
class JwtAuthorizer:
    """API Gateway's JWT authorizer: ``issuer``, ``audience`` and the keys that sign tokens."""

    issuer: str
    audience: tuple[str, ...]
    jwks: Mapping[str, Any]

    def verify(self, authorization: str | None) -> dict[str, Any] | None:
        """The verified claims of the ``Authorization`` header's token, or ``None``."""
        if not authorization:
            return None
        token = authorization.strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        try:
            header = jwt.get_unverified_header(token)
            keys = {key.get("kid"): key for key in self.jwks.get("keys", [])}
            jwk = keys.get(header.get("kid"))
            if jwk is None or header.get("alg") != "RS256":
                return None
            key = jwt.PyJWK(dict(jwk)).key
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=list(self.audience),
                issuer=self.issuer,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError:
            return None
        return claims


def authorizer_config(
    template: Mapping[str, Any] | None, resolve: Any, name: str = AUTHORIZER
) -> tuple[str, tuple[str, ...]]:
    """``(issuer, audience)`` of the named JWT authorizer in the transformed template, resolved."""
    for resource in (template or {}).get("Resources", {}).values():
        body = resource.get("Properties", {}).get("Body") if isinstance(resource, Mapping) else None
        if not isinstance(body, Mapping):
            continue
        scheme = body.get("components", {}).get("securitySchemes", {}).get(name)
        if not isinstance(scheme, Mapping):
            continue
        config = scheme["x-amazon-apigateway-authorizer"]["jwtConfiguration"]
        issuer = resolve(config["issuer"]) if resolve else config["issuer"]
        audience = tuple(str(resolve(a) if resolve else a) for a in config.get("audience", []))
        return str(issuer), audience
    raise ValueError(f"the template has no JWT authorizer {name}")


# ---------------------------------------------------------------------------------------------
# Request → v2 event, v2 result → response.


def _joined(pairs: Iterable[tuple[str, str]], lower: bool = False) -> dict[str, str]:
    """Repeated names joined with commas, as API Gateway does for headers and query strings."""
    out: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower() if lower else name
        out[key] = f"{out[key]},{value}" if key in out else value
    return out


def _is_text(content_type: str | None, body: bytes) -> bool:
    if not body:
        return True
    if content_type and not _TEXT_TYPES.match(content_type.strip()):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def build_event(
    route: Route,
    path_parameters: Mapping[str, str],
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    source_ip: str,
    claims: Mapping[str, Any] | None,
    domain: str,
) -> dict[str, Any]:
    """The API Gateway HTTP API (payload 2.0) event for one request."""
    header_map = _joined(headers, lower=True)
    cookie_header = header_map.pop("cookie", None)
    cookies = [part.strip() for part in cookie_header.split(";") if part.strip()] if cookie_header else None
    query = _joined(parse_qsl(raw_query, keep_blank_values=True))
    text = _is_text(header_map.get("content-type"), body)
    now = datetime.now(UTC)
    request_context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "local",
        "domainName": domain,
        "domainPrefix": domain.split(".", 1)[0],
        "http": {
            "method": method,
            "path": raw_path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": header_map.get("user-agent", ""),
        },
        "requestId": uuid.uuid4().hex,
        "routeKey": route.route_key,
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if route.authorized and claims is not None:
        request_context["authorizer"] = {"jwt": {"claims": dict(claims), "scopes": None}}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": header_map,
        "requestContext": request_context,
        "isBase64Encoded": not text,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if body:
        event["body"] = body.decode("utf-8") if text else base64.b64encode(body).decode("ascii")
    return event


@dataclass(frozen=True)
class HttpResult:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def result_to_response(result: Any) -> HttpResult:
    """A payload-2.0 Lambda result as API Gateway turns it into HTTP.

    A dict with ``statusCode`` is used as is; anything else is, like API Gateway, taken to be a
    JSON body with status 200.
    """
    if not isinstance(result, Mapping) or "statusCode" not in result:
        payload = result if isinstance(result, str) else json.dumps(result)
        return HttpResult(200, [("Content-Type", "application/json")], payload.encode("utf-8"))
    headers: list[tuple[str, str]] = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(value)) for value in values)
    headers.extend(("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or [])
    raw = result.get("body")
    if raw is None:
        body = b""
    elif result.get("isBase64Encoded"):
        body = base64.b64decode(raw)
    else:
        body = str(raw).encode("utf-8")
    if not any(name.lower() == "content-type" for name, _ in headers) and body:
        headers.append(("Content-Type", "application/json"))
    return HttpResult(int(result["statusCode"]), headers, body)


def _json_result(status: HTTPStatus, message: str) -> HttpResult:
    return HttpResult(
        int(status), [("Content-Type", "application/json")], json.dumps({"message": message}).encode()
    )


# ---------------------------------------------------------------------------------------------
# The server.


class _Gateway:
    def __init__(
        self,
        stack: GatewayStack,
        routes: list[Route],
        identity_provider: LocalIdentityProvider | None,
        limits: Mapping[str, tuple[float, int]] | None = None,
    ) -> None:
        self.stack = stack
        self.routes = routes
        limits = limits or {}
        self.buckets: dict[str, TokenBucket] = {
            route.route_key: TokenBucket(*limits[route.api]) for route in routes if route.api in limits
        }
        self.identity_provider = identity_provider
        self.authorizer = (
            JwtAuthorizer(identity_provider.issuer, (identity_provider.client_id,), identity_provider.jwks())
            if identity_provider is not None
            else None
        )
        self._locks: dict[str, threading.Lock] = {route.logical_id: threading.Lock() for route in routes}

    def handle(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes,
        source_ip: str,
        domain: str,
    ) -> HttpResult:
        split = urlsplit(target)
        raw_path = split.path or "/"
        if self.identity_provider is not None and raw_path.startswith(IDP_PREFIX + "/"):
            answer = self.identity_provider.handle(method, target, _joined(headers, lower=True), body)
            return HttpResult(answer.status, answer.headers, answer.body)
        found = find_route(self.routes, method, raw_path)
        if found is None:
            if method in ("GET", "HEAD") and raw_path == "/":
                return HttpResult(int(HTTPStatus.FOUND), [("Location", "/console")], b"")
            return _json_result(HTTPStatus.NOT_FOUND, "Not Found")
        route, params = found
        bucket = self.buckets.get(route.route_key)
        if bucket is not None and not bucket.take():
            return _json_result(HTTPStatus.TOO_MANY_REQUESTS, "Too Many Requests")
        claims: dict[str, Any] | None = None
        if route.authorized:
            authorization = _joined(headers, lower=True).get("authorization")
            claims = self.authorizer.verify(authorization) if self.authorizer is not None else None
            if claims is None:
                return _json_result(HTTPStatus.UNAUTHORIZED, "Unauthorized")
        event = build_event(
            route,
            params,
            method=method,
            raw_path=raw_path,
            raw_query=split.query,
            headers=headers,
            body=body,
            source_ip=source_ip,
            claims=claims,
            domain=domain,
        )
        started = time.monotonic()
        try:
            with self._locks[route.logical_id]:
                result = self.stack.invoke(route.logical_id, event)
        except Exception:
            # API Gateway answers a function error with a bare 500; the traceback stays local.
            log.exception("%s failed on %s", route.logical_id, route.route_key)
            return _json_result(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal Server Error")
        response = result_to_response(result)
        log.debug(
            "%s -> %s %s in %.0f ms",
            route.route_key,
            route.logical_id,
            response.status,
            (time.monotonic() - started) * 1000,
        )
        return response


def _request_handler(gateway: _Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "OnPaceLocalGateway/1.0"
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > _MAX_BODY:
                self._write(_json_result(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "Request Entity Too Large"))
                return
            body = self.rfile.read(length) if length else b""
            host = self.headers.get("Host") or "localhost"
            result = gateway.handle(
                self.command, self.path, list(self.headers.items()), body, self.client_address[0], host
            )
            self._write(result)

        def _write(self, result: HttpResult) -> None:
            try:
                self.send_response(result.status)
                for name, value in result.headers:
                    if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(result.body)))
                self.end_headers()
                if self.command != "HEAD" and result.body:
                    self.wfile.write(result.body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

        def log_message(self, format: str, *args: Any) -> None:
            # The request line may carry query strings with student ids: keep it out of stderr.
            log.debug("%s %s", self.command, urlsplit(self.path).path)

    return Handler


@dataclass
class GatewayHandle:
    """A running local gateway: its base URL (no trailing slash), and how to stop it."""

    url: str
    routes: list[Route]
    server: ThreadingHTTPServer = field(repr=False)
    thread: threading.Thread = field(repr=False)
    identity_provider: LocalIdentityProvider | None = None
    _stopped: bool = field(default=False, repr=False)
    _saved_env: str | None = field(default=None, repr=False)

    @property
    def console_url(self) -> str:
        return f"{self.url}/console"

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._saved_env is None:
            os.environ.pop(CONSOLE_AUTH_ENV, None)
        else:
            os.environ[CONSOLE_AUTH_ENV] = self._saved_env
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def __enter__(self) -> GatewayHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def local_identity_provider(stack: GatewayStack) -> LocalIdentityProvider:
    """A local identity provider issuing what the template's ``DistrictAdmins`` authorizer accepts."""
    provisioned = getattr(stack, "stack", None)
    template = getattr(provisioned, "template", None)
    issuer, audience = authorizer_config(
        template if isinstance(template, Mapping) else None, getattr(provisioned, "resolve", None)
    )
    return LocalIdentityProvider(issuer=issuer, client_id=audience[0])


def bind_gateway(host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """The gateway's listening socket (``OSError`` if the port is taken), not serving yet."""
    return ThreadingHTTPServer((host, port), BaseHTTPRequestHandler, bind_and_activate=True)


def serve_gateway(
    stack: GatewayStack,
    host: str = "127.0.0.1",
    port: int = 0,
    throttle: bool = True,
    identity_provider: LocalIdentityProvider | None = None,
    server: ThreadingHTTPServer | None = None,
) -> GatewayHandle:
    """Serve the template's HTTP API on ``host:port`` (port 0: a free one) in a daemon thread.

    Routes behind the JWT authorizer need an ID token of ``identity_provider`` (made from the
    template's authorizer when not given; ``handle.identity_provider``), which the gateway also
    serves under ``/local-idp/``. ``throttle``: apply the stage's route throttling (429 above
    it), as API Gateway does. ``server``: a socket already bound by ``bind_gateway``. Returns
    once the socket listens.
    """
    provisioned = getattr(stack, "stack", None)
    template = getattr(provisioned, "template", None)
    routes = build_routes(stack.functions, template if isinstance(template, Mapping) else None)
    limits = None
    if throttle and isinstance(template, Mapping):
        limits = throttle_limits(template, getattr(provisioned, "resolve", None))
    if identity_provider is None and isinstance(template, Mapping):
        identity_provider = local_identity_provider(stack)
    gateway = _Gateway(stack, routes, identity_provider, limits)
    if server is None:
        server = ThreadingHTTPServer((host, port), _request_handler(gateway))
    else:
        server.RequestHandlerClass = _request_handler(gateway)
    server.daemon_threads = True
    bound_host, bound_port = str(server.server_address[0]), int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, name=f"onpace-gateway-{bound_port}", daemon=True)
    # The console shell signs in at this gateway's /local-idp (relative: the shell's own origin).
    saved = os.environ.get(CONSOLE_AUTH_ENV)
    os.environ[CONSOLE_AUTH_ENV] = IDP_PREFIX
    thread.start()
    shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
    return GatewayHandle(
        url=f"http://{shown_host}:{bound_port}",
        routes=routes,
        server=server,
        thread=thread,
        identity_provider=identity_provider,
        _saved_env=saved,
    )
