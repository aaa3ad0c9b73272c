"""Who is asking: the session middleware, and the guard that puts every route under the policy."""

from __future__ import annotations

import json
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.response import Redirect, Response
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.audit.services import Actor, audit_record
from app.i18n import _
from app.web.errors import RequestRefused
from app.policy import PUBLIC, known_action, route_allows
from app.web.sessions import (cookie_name, device_by_token, device_cookie_name, flash_clear, session_resolve,
                              session_revoke, tablet_sign_in_end)


class SessionMiddleware(ASGIMiddleware):
    """Resolves the session cookie to the signed-in user (scope["user"], None when anonymous)."""

    @staticmethod
    def should_bypass_for_scope(scope: Scope) -> bool:
        return scope["path"].startswith("/static/")

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        settings = scope["litestar_app"].state.settings
        scope["user"] = None
        raw_cookie = _cookie(scope, cookie_name(production=settings.is_production))
        if raw_cookie:
            user = await session_resolve(token=raw_cookie, idle_minutes=settings.session_idle_minutes,
                                         touch=not _is_background(scope))
            scope["user"] = user
            if user is not None and user.flash and _shows_flash(scope):
                scope["kinward_flash"] = json.loads(user.flash)  # type: ignore[typeddict-unknown-key]
                await flash_clear(session_id=user.session_id, shown=user.flash)
        user = scope["user"]
        if user is not None and user.lock_in_seconds is not None:
            # The tablet's page counts down from what the server says, not from its own guess.
            send = _answer_adding(send, [(b"kinward-lock-in", str(user.lock_in_seconds).encode())])
        elif user is None and _cookie(scope, device_cookie_name(production=settings.is_production)):
            # A registered tablet without a live session (expired, locked by the server, revoked, never
            # signed in): whatever the answer, the pages its browser keeps go, and a dead cookie with them.
            # The idle timer's lock arriving after the server's limit is answered the same as the Lock button.
            extra = [(b"clear-site-data", clear_site_data(keep_cookies=True).encode())]
            if raw_cookie:
                extra.append(_session_cookie(settings, "", max_age=0).to_encoded_header())
            send = _answer_adding(send, extra)
        await next_app(scope, receive, send)


def _answer_adding(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    """`send`, with headers added to the answer that it does not set itself (a cookie: by its name)."""

    def sets(headers: list[tuple[bytes, bytes]], name: bytes, value: bytes) -> bool:
        if name == b"set-cookie":
            cookie = value.partition(b"=")[0] + b"="
            return any(k.lower() == name and v.startswith(cookie) for k, v in headers)
        return any(k.lower() == name for k, _ in headers)

    async def adding(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            message = {**message, "headers": headers + [h for h in extra if not sets(headers, *h)]}  # type: ignore[assignment]
        await send(message)

    return adding


def _is_background(scope: Scope) -> bool:
    """A page polling for updates on its own is not the person being active: it must not keep the session alive."""
    handler = scope.get("route_handler")
    return bool(handler is not None and handler.opt.get("background"))


def _shows_flash(scope: Scope) -> bool:
    """Flash messages are shown by the next full page, not by htmx partials or redirects' targets' assets."""
    if scope.get("method") != "GET":
        return False
    return not any(key == b"hx-request" for key, _ in scope.get("headers", ()))


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name and v:
                    return v
    return None


def device_token(connection: ASGIConnection) -> str | None:
    settings = connection.app.state.settings
    return _cookie(connection.scope, device_cookie_name(production=settings.is_production))


async def device_of(connection: ASGIConnection) -> dict | None:
    """The registered shared tablet this browser is, if any."""
    token = device_token(connection)
    return await device_by_token(token=token) if token else None


def session_token(connection: ASGIConnection) -> str | None:
    settings = connection.app.state.settings
    return _cookie(connection.scope, cookie_name(production=settings.is_production))


async def policy_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Every route declares its action; anonymous users are sent to sign in, forbidden ones get 404.

    A coroutine although it awaits nothing: Litestar runs a plain function guard in a worker thread,
    a hand-off to another thread and back on every request.
    """
    action: Any = handler.opt.get("action")
    if not isinstance(action, str) or not known_action(action):
        # The route-rule test keeps this from ever shipping; refuse rather than serve unprotected.
        raise NotFoundException()
    if action == PUBLIC:
        bounded_numbers(connection, handler)
        return
    user = connection.scope.get("user")
    if user is None:
        raise NotAuthorizedException()
    if not route_allows(user, action):
        raise NotFoundException()
    bounded_numbers(connection, handler)


def bounded_numbers(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Ids in paths and numbers in queries fit a database integer, before any query sees them.

    An id past the largest a table can hold names no record (404); a page number past it is a
    request nobody's browser makes (400).
    """
    from app.web.forms import CONTROL_RE, INT_MAX

    for value in connection.path_params.values():
        if isinstance(value, int) and not 0 <= value <= INT_MAX:
            raise NotFoundException()
    parameters = handler.parsed_fn_signature.parameters
    for name, value in connection.query_params.items():
        if CONTROL_RE.search(value):
            # No form puts a control character in an address; PostgreSQL cannot even compare NUL.
            raise RequestRefused(_("That address contains characters that cannot be searched for."))
        parameter = parameters.get(name)
        if parameter is None or int not in (parameter.annotation, *getattr(parameter.annotation, "__args__", ())):
            continue
        text = value.strip().removeprefix("-")
        if text.isascii() and text.isdigit() and int(text) > INT_MAX:
            raise RequestRefused(_("That page number is out of range."))


def client_address(connection: ASGIConnection) -> str:
    return connection.client.host if connection.client else ""


def actor_of(connection: ASGIConnection) -> Actor:
    """The signed-in person behind this request, as the audit trail records them."""
    user = connection.scope.get("user")
    if user is None:
        return Actor(address=client_address(connection))
    return Actor(user_id=user.id, label=user.email, role=user.role, facility_id=user.facility_id,
                 device_id=user.device_id, address=client_address(connection))


def undeclared_routes(app: Any) -> list[str]:
    """Routes whose handler declares no action the policy knows: each one would be unprotected."""
    missing = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if set(getattr(handler, "http_methods", ())) == {"OPTIONS"}:
                continue  # Litestar's automatic OPTIONS answers; the guard refuses them (no CORS here)
            action = handler.opt.get("action")
            if not isinstance(action, str) or not known_action(action):
                methods = ",".join(sorted(getattr(handler, "http_methods", ()) or ["*"]))
                missing.append(f"{methods} {route.path}")
    return missing


def session_cookie(request: Request, token: str, *, max_age: int | None = None) -> Cookie:
    return _session_cookie(request.app.state.settings, token, max_age=max_age)


def _session_cookie(settings: Any, token: str, *, max_age: int | None = None) -> Cookie:
    return Cookie(
        key=cookie_name(production=settings.is_production),
        value=token,
        path="/",
        httponly=True,
        secure=settings.is_production,
        samesite="lax",
        max_age=max_age,
    )


def clear_site_data(*, keep_cookies: bool) -> str:
    """Drop cached pages (which Chrome could restore from its back/forward cache) and storage.

    A shared tablet keeps its cookies: clearing them would unregister the device; the session
    cookie is overwritten instead.
    """
    return '"cache", "storage"' if keep_cookies else '"cache", "cookies", "storage"'


async def session_end(request: Request, *, action: str, elsewhere: str, signs_out: bool = False) -> Response:
    """Sign out or lock: the session dies on the server, its cookie is overwritten, the browser's
    cache and storage are cleared. A registered tablet returns to its lock screen.

    Signing out on a tablet also ends the person's sign-in there for the shift: Lock keeps the PIN
    working, Sign out does not.
    """
    token = session_token(request)
    device = await device_of(request)
    on_tablet = device is not None
    actor = actor_of(request)
    if token:
        await session_revoke(token=token)
    if token and signs_out and device is not None:
        ended = await tablet_sign_in_end(token=token, device_id=device["id"])
        if actor.user_id is None and ended is not None:
            # The server had already ended the session (idle): the sign-out is still theirs.
            actor = Actor(user_id=ended, facility_id=device["facility"], device_id=device["id"],
                          address=actor.address)
    if actor.user_id is not None:
        await audit_record(actor=actor, action=action)
    return Redirect(
        path="/tablet" if on_tablet else elsewhere,
        status_code=303,
        cookies=[session_cookie(request, "", max_age=0)],
        headers={"Clear-Site-Data": clear_site_data(keep_cookies=on_tablet)},
    )


def csrf_cookie_name(*, production: bool) -> str:
    return "__Host-csrftoken" if production else "csrftoken"


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def submitted_form_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """A change is made only from a form that arrived whole: its own CSRF field is in the body.

    The CSRF header alone proves the page, not the form: a request whose body was lost or garbled on
    the way would otherwise act on the path alone (end a family link, remove a contact).
    """
    # Ending one's own session is the safe direction: it is never held back for a lost body.
    if connection.scope.get("method") not in UNSAFE_METHODS or handler.opt.get("without_form"):
        return
    from hmac import compare_digest

    from litestar import Request

    settings = connection.app.state.settings
    cookie = _cookie(connection.scope, csrf_cookie_name(production=settings.is_production)) or ""
    form = await Request(connection.scope, connection.receive).form()
    sent = form.get("_csrf_token", "")
    if not (isinstance(sent, str) and sent and cookie and compare_digest(sent.encode(), cookie.encode())):
        raise RequestRefused(_("The form did not arrive whole. Reload the page and try again."))
