"""The family home: for each relative a family member follows, what their link lets them see of
four features (the visits, the shared summaries, the thread and the access log)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Request, get
from litestar.response import Template

from app import clock
from app.audit.services import audit_record
from app.careplans.forms import kind_labels
from app.clients import queries as clients
from app.clients.forms import access_labels
from app.clients.records import today
from app.messages.threads import thread_audit, thread_context
from app.policy import can_on
from app.visits import queries as visits
from app.visits.forms import family_state_labels
from app.web.auth import actor_of

FAMILY_HOME_ACCESS_LOG = 5
# The family home shows today's visits, whatever became of them, and those of the coming days.
FAMILY_HOME_DAYS = 7
FAMILY_HOME_VISITS = 15


@get("/family", opt={"action": "family.home"})
async def family_home(request: Request) -> Template:
    """For each linked client, what the link allows: visits, shared summaries, the thread, and the access log."""
    user = request.user
    names = {c["id"]: c for c in await clients.clients_for_family(user=user)}
    sections = []
    for relation in await clients.client_relations_of(user=user, today=today(request)):
        client = names.get(relation.client_id)
        if client is None:
            continue
        section: dict[str, Any] = {"client": client, "thread": None, "unread": 0,
                                   "may_see_schedule": can_on(user, "schedule.view", relation),
                                   "may_see_summaries": can_on(user, "visit.summaries.shared", relation)}
        if section["may_see_schedule"]:
            # The selector decides what the family sees (when, what, the worker's first name; a cancelled
            # visit as cancelled, never why); today's missed visit shows as missed.
            first = today(request)
            start, _end = visits.day_bounds(first, user.timezone)
            _start, end = visits.day_bounds(first + timedelta(days=FAMILY_HOME_DAYS - 1), user.timezone)
            shown = await visits.week_for(user=user, relation=relation, start=start, end=end, now=clock.utcnow(),
                                          grace=user.visit_grace)
            section["visits"] = shown[:FAMILY_HOME_VISITS]
        if section["may_see_summaries"]:
            section["summaries"] = await visits.shared_summaries_for(user=user, relation=relation)
        if section["may_see_schedule"] or section["may_see_summaries"]:
            await audit_record(actor=actor_of(request), action="client.visits_viewed", client_id=relation.client_id,
                               object_type="client", object_id=relation.client_id,
                               detail={"page": "family", "schedule": section["may_see_schedule"],
                                       "summaries": section["may_see_summaries"]})
        if can_on(user, "client.messages.view", relation):
            section["thread"] = await thread_context(request, relation, view="family")
            section["unread"] = len(section["thread"]["newly_read"])
            await thread_audit(request, section["thread"], page="family")
        if can_on(user, "client.access_log.view", relation):
            entries, older = await clients.family_access_log_for(
                facility_id=user.facility_id, client_id=relation.client_id, tz=user.timezone,
                entries=FAMILY_HOME_ACCESS_LOG)
            section["access_log"] = entries[:FAMILY_HOME_ACCESS_LOG]
            section["access_log_more"] = older is not None or len(entries) > FAMILY_HOME_ACCESS_LOG
            await audit_record(actor=actor_of(request), action="client.access_log_viewed",
                               client_id=relation.client_id, object_type="client", object_id=relation.client_id,
                               detail={"page": "family"})
        sections.append(section)
    return Template("messages/family.html", context={"sections": sections, "kinds": kind_labels(),
                                                     "states": family_state_labels(),
                                                     "access_labels": access_labels()})
