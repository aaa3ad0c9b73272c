"""Friendly error pages; no stack trace leaves the server outside development.

An htmx request gets the same message as a small fragment (`errors/_error.html`), never a page:
htmx swaps error answers into its target, and a whole page pasted over a form or a thread would
hide what the person typed. static/js/kinward.js keeps the target and shows the fragment as a
"not sent — retry" status instead; the fragment's `data-error` marks it for that.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import (ClientException, HTTPException, NotAuthorizedException, NotFoundException,
                                 PermissionDeniedException)
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_500_INTERNAL_SERVER_ERROR

from app.i18n import _

log = logging.getLogger("kinward.errors")

MESSAGES = {
    400: (lambda: _("Something in that request was not right"), lambda: _("Please go back and try again.")),
    403: (lambda: _("That action was refused"),
          lambda: _("Your form may have expired. Go back, reload the page and try again.")),
    404: (lambda: _("Page not found"),
          lambda: _("There is nothing here, or you do not have access to it.")),
    405: (lambda: _("That action is not available here"), lambda: _("Please go back and try again.")),
    409: (lambda: _("That was already done"), lambda: _("Reload the page to see how things stand now.")),
    413: (lambda: _("That was too much to send at once"),
          lambda: _("Shorten what you typed and try again.")),
    429: (lambda: _("Too many attempts"), lambda: _("Please wait a moment and try again.")),
    500: (lambda: _("Something went wrong on our side"),
          lambda: _("Nothing you saved before this was lost. Please try again in a moment.")),
}


class RequestRefused(ClientException):
    """A request refused before it acts, with a message for the person (400 unless given)."""

    status_code = HTTP_400_BAD_REQUEST


def error_page(request: Request, status: int, text: str = "") -> Template:
    title, default_text = MESSAGES.get(status, MESSAGES[400] if status < 500 else MESSAGES[500])
    context = {"title": title(), "text": text or default_text(), "status": status}
    if request.headers.get("hx-request"):
        return Template(template_name="errors/_error.html", context=context, status_code=status)
    return Template(template_name="errors/error.html", context=context, status_code=status)


def not_signed_in(request: Request, exc: NotAuthorizedException) -> Response:
    from app.web.auth import device_token

    # A shared tablet goes back to its lock screen; elsewhere to sign in, then back here.
    target = "/tablet" if device_token(request) else "/login?next=" + quote(request.url.path, safe="/")
    if request.headers.get("hx-request"):
        return Response(content="", status_code=401, headers={"HX-Redirect": target})
    return Redirect(path=target, status_code=303)


def http_error(request: Request, exc: HTTPException) -> Response:
    return error_page(request, exc.status_code, exc.detail if isinstance(exc, RequestRefused) else "")


def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.scope.get("path_template"))
    return error_page(request, HTTP_500_INTERNAL_SERVER_ERROR)


EXCEPTION_HANDLERS = {
    NotAuthorizedException: not_signed_in,
    NotFoundException: http_error,
    PermissionDeniedException: http_error,
    HTTPException: http_error,
    Exception: server_error,
}
