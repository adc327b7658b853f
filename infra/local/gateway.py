"""API Gateway HTTP API, locally: the template's routes, payload format 2.0, in-process handlers.

Routing follows API Gateway's priority: a full match (static before templated) beats a greedy
`{proxy+}` route, which beats `$default`; a route's own method beats `ANY`. No match answers
404 `{"message":"Not Found"}`, a handler that raises answers 500, as API Gateway does.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from werkzeug.datastructures import Headers
from werkzeug.serving import WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from infra.local.runtime import FunctionHost, report_failure
from infra.template import Route

# Lambda's synchronous invocation payload limit; API Gateway answers 413 above it.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
# Bodies API Gateway passes as text; anything else reaches the function base64-encoded.
TEXT_TYPES = ("application/json", "application/javascript", "application/xml", "application/yaml")

LocalRoutes = Callable[[Request], Response | None]


class GatewayResponse(Response):
    # API Gateway adds no content type the function did not set.
    default_mimetype = None


def api_gateway_error(status: int, message: str) -> Response:
    return GatewayResponse(
        json.dumps({"message": message}), status=status, content_type="application/json"
    )


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    path_parameters: dict[str, str]


@dataclass(frozen=True)
class _Compiled:
    route: Route
    segments: tuple[str, ...]  # literal, "{name}" or "{name+}" (last only)

    @property
    def greedy(self) -> bool:
        return bool(self.segments) and self.segments[-1].endswith("+}")

    def match(self, parts: Sequence[str]) -> dict[str, str] | None:
        fixed = self.segments[:-1] if self.greedy else self.segments
        if len(parts) < len(fixed) or (not self.greedy and len(parts) != len(fixed)):
            return None
        params: dict[str, str] = {}
        for pattern, part in zip(fixed, parts, strict=False):
            if pattern.startswith("{"):
                if not part:
                    return None
                params[pattern[1:-1]] = unquote(part)
            elif pattern != unquote(part):
                return None
        if self.greedy:
            rest = parts[len(fixed) :]
            if not rest or not "/".join(rest):
                return None
            params[self.segments[-1][1:-2]] = unquote("/".join(rest))
        return params

    def rank(self) -> tuple[int, int, tuple[int, ...], int]:
        kind = 1 if self.greedy else 0
        literal = tuple(1 if s.startswith("{") else 0 for s in self.segments)
        any_method = 1 if self.route.method == "ANY" else 0
        # Longer greedy prefixes are more specific; full matches compare literal positions.
        return (kind, -len(self.segments), literal, any_method)


class Router:
    def __init__(self, routes: Iterable[Route]) -> None:
        compiled = []
        self._default: list[Route] = []
        for route in routes:
            if route.path == "$default":
                self._default.append(route)
            else:
                compiled.append(_Compiled(route, tuple(route.path.strip("/").split("/"))))
        self._routes = sorted(compiled, key=_Compiled.rank)

    def match(self, method: str, raw_path: str) -> RouteMatch | None:
        parts = raw_path.strip("/").split("/") if raw_path.strip("/") else []
        for candidate in self._routes:  # most specific first
            if candidate.route.method in {method, "ANY"}:
                params = candidate.match(parts)
                if params is not None:
                    return RouteMatch(candidate.route, params)
        return RouteMatch(self._default[0], {}) if self._default else None


def is_text(content_type: str | None) -> bool:
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    return (
        mime.startswith("text/")
        or mime in TEXT_TYPES
        or mime.endswith(("+json", "+xml"))
        or not mime  # no type: passed as sent
    )


def _joined(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Format 2.0 joins repeated headers and query parameters with commas."""
    joined: dict[str, str] = {}
    for key, value in pairs:
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    return joined


def request_id() -> str:
    return base64.b64encode(secrets.token_bytes(10)).decode()


def build_event(
    request: Request, match: RouteMatch, *, raw_path: str, request_id: str, account_id: str
) -> dict[str, Any]:
    """The payload format 2.0 event API Gateway would send for this request."""
    now = datetime.now(UTC)  # transport time: the wall clock, never the business clock
    host = request.host or "127.0.0.1"
    raw_query = request.query_string.decode("latin-1")
    source_ip = request.remote_addr or "127.0.0.1"
    user_agent = request.headers.get("User-Agent", "")
    headers = _joined((k.lower(), v) for k, v in request.headers.items() if k.lower() != "cookie")
    headers.setdefault("x-forwarded-for", source_ip)
    headers.setdefault("x-forwarded-proto", request.scheme)
    headers.setdefault("x-forwarded-port", str(request.environ.get("SERVER_PORT", "")))
    headers.setdefault(
        "x-amzn-trace-id", f"Root=1-{int(now.timestamp()):08x}-{secrets.token_hex(12)}"
    )
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": match.route.route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
    }
    cookies = [c.strip() for header in request.headers.getlist("Cookie") for c in header.split(";")]
    if any(cookies):
        event["cookies"] = [c for c in cookies if c]
    event["headers"] = headers
    if raw_query:
        event["queryStringParameters"] = _joined(parse_qsl(raw_query, keep_blank_values=True))
    event["requestContext"] = {
        "accountId": account_id,
        "apiId": "local",
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0],
        "http": {
            "method": request.method,
            "path": raw_path,
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "sourceIp": source_ip,
            "userAgent": user_agent,
        },
        "requestId": request_id,
        "routeKey": match.route.route_key,
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    body = request.get_data(cache=True)
    if body:
        if is_text(request.content_type):
            event["body"] = body.decode("utf-8", errors="replace")
            event["isBase64Encoded"] = False
        else:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
    else:
        event["isBase64Encoded"] = False
    if match.path_parameters:
        event["pathParameters"] = match.path_parameters
    return event


class MalformedResponseError(ValueError):
    """The function's answer is not a valid HTTP API response."""


def to_response(result: Any, gateway_request_id: str) -> Response:
    """Map the function's result as API Gateway maps a format 2.0 response."""
    if isinstance(result, dict) and "statusCode" in result:
        status = result["statusCode"]
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise MalformedResponseError(f"statusCode {status!r}")
        headers = Headers()
        for name, value in (result.get("headers") or {}).items():
            headers.add(
                str(name), str(value) if not isinstance(value, bool) else str(value).lower()
            )
        for cookie in result.get("cookies") or []:
            headers.add("Set-Cookie", str(cookie))
        body = result.get("body")
        if body is not None and not isinstance(body, str):
            raise MalformedResponseError("body must be a string")
        data = (
            base64.b64decode(body or "") if result.get("isBase64Encoded") else (body or "").encode()
        )
        response: Response = GatewayResponse(data, status=status, headers=headers)
    else:
        # Any other JSON value: 200, application/json, the value as the body.
        response = GatewayResponse(json.dumps(result), status=200, content_type="application/json")
    response.headers["apigw-requestid"] = gateway_request_id
    return response


WEBHOOK_PATH = "/v1/webhooks/"


class Traffic:
    """The webhook requests the gateway is serving, so that background work (the queue
    consumers) gives way to them: a DMS waits on its webhook's answer, which must come within
    the function's timeout, while applying a backlog can wait a moment. Handlers, the emulator
    and the consumers share one interpreter here, unlike on AWS. (API reads do not count: a
    client polling the API must not hold the consumers back.)"""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight = 0
        self._last_end = 0.0

    def begin(self) -> None:
        with self._lock:
            self._in_flight += 1

    def end(self) -> None:
        with self._lock:
            self._in_flight -= 1
            self._last_end = time.monotonic()

    def busy(self, quiet_seconds: float = 1.0) -> bool:
        """A request is being served, or one ended less than `quiet_seconds` ago (a client
        sending batches back to back leaves short gaps)."""
        with self._lock:
            return self._in_flight > 0 or time.monotonic() - self._last_end < quiet_seconds


class Gateway:
    """The WSGI app: `/_local/*` to the stack's own endpoints, everything else by the template."""

    def __init__(
        self,
        routes: Iterable[Route],
        host: FunctionHost,
        *,
        account_id: str,
        local_routes: LocalRoutes | None = None,
    ) -> None:
        self.router = Router(routes)
        self.host = host
        self.account_id = account_id
        self.local_routes = local_routes
        self.traffic = Traffic()
        # Told of each webhook's answer (the terminal's line per batch).
        self.on_webhook: Callable[[Any, float], None] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        raw_path = _raw_path(request)
        if raw_path.startswith("/_local/") and self.local_routes is not None:
            local = self.local_routes(request)
            return local if local is not None else api_gateway_error(404, "Not Found")
        match = self.router.match(request.method, raw_path)
        if match is None:
            return api_gateway_error(404, "Not Found")
        if (request.content_length or 0) > MAX_PAYLOAD_BYTES:
            return api_gateway_error(413, "Request Entity Too Large")
        gateway_id = request_id()
        event = build_event(
            request, match, raw_path=raw_path, request_id=gateway_id, account_id=self.account_id
        )
        webhook = WEBHOOK_PATH in match.route.path
        if webhook:
            self.traffic.begin()
        started = time.monotonic()
        try:
            result = self.host.invoke(match.route.function, event)
            if webhook and self.on_webhook is not None:
                self.on_webhook(result, time.monotonic() - started)
            return to_response(result, gateway_id)
        except Exception:  # any failure of the function is API Gateway's 500
            report_failure(f"{match.route.function} failed on {match.route.route_key}")
            return api_gateway_error(500, "Internal Server Error")
        finally:
            if webhook:
                self.traffic.end()


def _raw_path(request: Request) -> str:
    """The path as the client sent it (still percent-encoded), without the query."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        return str(raw).split("?", 1)[0] or "/"
    return request.path


class AccessLog(WSGIRequestHandler):
    """One short line per request on stderr (moto's own request lines stay silent)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if os.environ.get("TRIGLY_LOCAL_ACCESS_LOG", "1") == "0":
            return
        elapsed = (time.monotonic() - getattr(self, "_started", time.monotonic())) * 1000
        print(f"    {self.command} {self.path} -> {code} ({elapsed:.0f} ms)", file=sys.stderr)

    def handle_one_request(self) -> None:
        self._started = time.monotonic()
        super().handle_one_request()
