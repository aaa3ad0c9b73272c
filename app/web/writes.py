"""A request's deferrable writes (audit events of what it showed, the session's last-seen time)
are stored once, in a commit shared with other requests, before its answer is sent."""

from __future__ import annotations

import logging

from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app import db

log = logging.getLogger("kinward.writes")

NOT_STORED = b"<!doctype html><title>Not saved</title><p>Something went wrong and this page could not be recorded. Please retry.</p>"


class DeferredWritesMiddleware(ASGIMiddleware):
    """Holds the answer back until the request's writes are durable: an acknowledged page view is in
    the audit trail, even if the process dies the next instant. If they cannot be stored, the page
    is not shown (503) rather than shown unrecorded."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        token = db.deferred_begin()
        failed = False

        async def send_after_writes(message: Message) -> None:
            nonlocal failed
            if failed:
                return
            if message["type"] == "http.response.start":
                try:
                    await _store(db.deferred_take())
                except Exception:
                    log.exception("a request's writes could not be stored")
                    failed = True
                    await send({"type": "http.response.start", "status": 503,
                                "headers": [(b"content-type", b"text/html; charset=utf-8"),
                                            (b"cache-control", b"no-store")]})
                    await send({"type": "http.response.body", "body": NOT_STORED, "more_body": False})
                    return
            await send(message)

        try:
            await next_app(scope, receive, send_after_writes)
            # An answer that never started (a dropped connection): what the request did is still stored.
            await _store(db.deferred_take())
        finally:
            db.deferred_end(token)


async def _store(writes: list) -> None:
    if writes:
        await db.commit_shared(writes)
