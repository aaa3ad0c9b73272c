"""Headers on every response, and one structured log line per request."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import parse_qs

from litestar.datastructures import MutableScopeHeaders
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.web.templating import static_version

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
)

request_log = logging.getLogger("kinward.request")


async def security_headers(message: Message, scope: Scope) -> None:
    """before_send hook: applies to every response, including errors."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    path = scope.get("path", "")
    if not path.startswith("/static/"):
        # Care data must not linger in shared caches or the browser's disk cache; pages are
        # cheap to render, so every page (signed in or not) is no-store rather than guessing.
        headers["Cache-Control"] = "no-store"
    elif message["status"] == 200:
        headers["Cache-Control"] = static_cache_control(path.removeprefix("/static/"), scope.get("query_string", b""))
    log_request(message, scope)


STATIC_IMMUTABLE = "public, max-age=31536000, immutable"


def static_cache_control(path: str, query_string: bytes) -> str:
    """A year, never revalidated, for the address pages link to (its version is the content's hash);
    any other address of a static file is checked with the server each time."""
    version = parse_qs(query_string.decode("latin-1")).get("v", [""])[0]
    try:
        current = static_version(path)
    except (OSError, ValueError):
        return "no-cache"
    return STATIC_IMMUTABLE if version == current else "no-cache"


class RequestTimerMiddleware(ASGIMiddleware):
    """Marks when the request arrived, for the log line written when the response starts."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        scope["kinward_started"] = time.perf_counter()  # type: ignore[typeddict-unknown-key]
        await next_app(scope, receive, send)


def log_request(message: Message, scope: Scope) -> None:
    """One JSON line per request: method, route, status, duration, user id. Never bodies or query strings."""
    now = time.perf_counter()
    user = scope.get("user")
    request_log.info(json.dumps({
        "method": scope.get("method"),
        "route": scope.get("path_template") or "(unmatched)",
        "status": message["status"],
        "duration_ms": round((now - scope.get("kinward_started", now)) * 1000, 2),
        "user_id": getattr(user, "id", None),
    }))
