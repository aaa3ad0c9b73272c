"""/healthz: is the database reachable and fully migrated? For load balancers and monitors.

The detail also says how old the last good backup is and whether the latest one failed, for
monitoring to alert on; a missing backup does not make the app unavailable.
"""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Response

from app import clock
from app.migrations_state import pending_migrations
from app.policy import PUBLIC
from app.records.queries import backup_health


@get("/healthz", opt={"action": PUBLIC})
async def healthz(request: Request) -> Response:
    try:
        pending = await pending_migrations()
        database = True
    except Exception:  # any failure to reach the database is what this endpoint reports
        pending, database = [], False
    healthy = database and not pending
    content = {"status": "ok" if healthy else "unavailable", "database": database,
               "migrations_applied": database and not pending}
    if healthy:
        status = await backup_health(now=clock.utcnow())
        content["backup"] = {"scheduled": bool(request.app.state.settings.backup_dir),
                             "last_good_age_seconds": status.last_good_age_seconds,
                             "last_failed": status.last_failed}
    return Response(content=content, status_code=200 if healthy else 503, headers={"Cache-Control": "no-store"})
