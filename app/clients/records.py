"""What every page about one client shares: the facility's today, htmx fragments, the policy's
relation check (404, never 403) and the audit entry for reading the record."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request
from litestar.exceptions import NotFoundException

from app import clock
from app.audit.services import audit_record
from app.clients import queries as clients
from app.policy import ClientRelation, can_on
from app.web.auth import actor_of


def wants_fragment(request: Request) -> bool:
    """An htmx request for a part of the page (a history restore asks for the whole page)."""
    return bool(request.headers.get("hx-request")) and not request.headers.get("hx-history-restore-request")


def today(request: Request) -> date:
    """Today where the facility is: care days start at local midnight, not UTC midnight."""
    return clock.today_in(request.user.timezone)


async def relation_for(request: Request, client_id: int, action: str) -> ClientRelation:
    """The user's relation to the client if the policy allows `action` on it; otherwise 404, never 403."""
    relation = await clients.client_relation(user=request.user, client_id=client_id, today=today(request))
    if relation is None or not can_on(request.user, action, relation):
        raise NotFoundException()
    return relation


async def record_viewed(request: Request, relation: ClientRelation, page: str, **detail: Any) -> None:
    """Every read of a client's record goes into the audit trail, break-glass reads marked as such."""
    if relation.break_glass and relation.team_role is None:
        detail["break_glass"] = True
    await audit_record(actor=actor_of(request), action="client.viewed", client_id=relation.client_id,
                       object_type="client", object_id=relation.client_id, detail={"page": page, **detail})
