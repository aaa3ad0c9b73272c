"""A visit's handover: what the visits feature knows (the need-to-know record, the last visit's note, open
concerns) and the team's notes, which messages keep. Visits stand below messages, so the two meet here; the
assembly hands this to the visit page (app/main.py)."""

from __future__ import annotations

from typing import Any, Optional

from app.messages.queries import team_notes_for
from app.policy import ClientRelation, Principal, can_on
from app.visits.queries import handover_for


async def visit_handover(*, user: Principal, relation: ClientRelation, visit: dict) -> Optional[dict[str, Any]]:
    """The handover as this person may see it, or None when it is not for them."""
    handover = await handover_for(user=user, relation=relation, visit=visit)
    if handover is not None and can_on(user, "client.messages.team_notes", relation):
        handover["team_notes"] = await team_notes_for(client_id=relation.client_id)
    return handover
