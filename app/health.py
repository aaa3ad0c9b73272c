"""/healthz: is the database reachable and fully migrated? For load balancers and monitors."""

from __future__ import annotations

from litestar import get
from litestar.response import Response

from app.migrations_state import pending_migrations
from app.policy import PUBLIC


@get("/healthz", opt={"action": PUBLIC})
async def healthz() -> Response:
    try:
        pending = await pending_migrations()
        database = True
    except Exception:  # any failure to reach the database is what this endpoint reports
        pending, database = [], False
    healthy = database and not pending
    return Response(
        content={"status": "ok" if healthy else "unavailable", "database": database,
                 "migrations_applied": database and not pending},
        status_code=200 if healthy else 503,
        headers={"Cache-Control": "no-store"},
    )
