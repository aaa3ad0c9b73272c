"""What a thread shows the person reading it, for the thread page and the family home.

Showing messages is what marks them read, and every showing is a read of the record (audited).
"""

from __future__ import annotations

from typing import Any, Optional

from litestar import Request

from app.audit.services import audit_record
from app.messages import forms, queries, services
from app.policy import ClientRelation, can_on
from app.web.auth import actor_of
from app.web.forms import Form

# Polled in the background: these requests do not count as the person being active (see SessionMiddleware).
BACKGROUND = True
POLL_SECONDS = 3
VIEWS = {"thread": queries.THREAD_SIZE, "family": queries.FAMILY_HOME_THREAD_SIZE}


async def thread_context(request: Request, relation: ClientRelation, *, view: str = "thread",
                         before: Optional[int] = None, form: Optional[Form] = None) -> dict[str, Any]:
    """The thread as this person may see it; showing it to them is what marks it read."""
    user = request.user
    team = can_on(user, "client.messages.team_notes", relation)
    messages, earlier = await queries.thread_messages(client_id=relation.client_id, viewer_id=user.id, team=team,
                                                      before=before, limit=VIEWS[view])
    newly_read: list[int] = []
    # Showing marks read; a thread the viewer has read already is shown without a write.
    if any(not m.mine and not m.seen for m in messages):
        newly_read = await services.thread_mark_read(user_id=user.id, client_id=relation.client_id, team=team,
                                                     from_id=messages[0].id, to_id=messages[-1].id)
        for message in messages:
            message.new = message.id in newly_read
    may_post = can_on(user, "client.messages.post", relation)
    return {
        "client_id": relation.client_id, "messages": messages, "earlier": earlier, "newly_read": newly_read,
        "state": await queries.thread_state(client_id=relation.client_id, team=team),
        "view": view, "live": before is None, "poll_seconds": POLL_SECONDS, "team": team, "may_post": may_post,
        "may_team_note": may_post and team, "form": form or forms.compose_form(view=view),
        "body_max": services.MESSAGE_MAX,
    }


async def thread_audit(request: Request, thread: dict, *, page: str) -> None:
    """Opening a thread is a read of the record; a background update is audited when it shows new messages."""
    if page == "update" and not thread["newly_read"]:
        return
    await audit_record(actor=actor_of(request), action="client.messages_viewed", client_id=thread["client_id"],
                       object_type="client", object_id=thread["client_id"],
                       detail={"page": page, "newly_read": thread["newly_read"]})
