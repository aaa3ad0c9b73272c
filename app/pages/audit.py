"""The admin's view of the facility's audit trail, filtered and paged with htmx; each event about a
client names the client (a page above clients: the audit trail itself stores only the client's id)."""

from __future__ import annotations

from typing import Optional

from litestar import Controller, Request, get
from litestar.params import FromQuery
from litestar.response import Template

from app.accounts.queries import users_for
from app.clients.queries import client_names
from app.audit.queries import AuditFilter, audit_actions_for, audit_events_for
from app.audit.tables import AuditEvent
from app.i18n import _
from app.policy import can
from app.web.forms import Form, whole


class AuditController(Controller):
    path = "/admin/audit"
    opt = {"action": "audit.view"}

    @get("/")
    async def audit_page(self, request: Request, person: FromQuery[str] = "", action: FromQuery[str] = "",
                         day_from: FromQuery[str] = "", day_to: FromQuery[str] = "",
                         page: FromQuery[int] = 1) -> Template:
        user = request.user
        form = Form.from_data({"person": person, "action": action, "day_from": day_from, "day_to": day_to},
                              ("person", "action", "day_from", "day_to"), {"action": AuditEvent.action.length})
        start, end = form.optional_date("day_from"), form.optional_date("day_to")
        if start and end and end < start:
            form.error("day_to", _("The end date is before the start date."))
        actor_id: Optional[int] = whole(person)
        events, has_more = ([], False)
        if form.ok:
            events, has_more = await audit_events_for(
                facility_id=user.facility_id,
                filters=AuditFilter(actor_id=actor_id, action=action, day_from=start, day_to=end,
                                    timezone=user.timezone),
                page=max(page, 1),
            )
        if can(user, "client.list_all"):
            names = await client_names(facility_id=user.facility_id,
                                       client_ids=[e["client_id"] for e in events if e["client_id"] is not None])
            for event in events:
                event["client_name"] = names.get(event["client_id"], "")
        context = {"events": events, "has_more": has_more, "page": max(page, 1), "form": form,
                   "query": {k: v for k, v in form.values.items() if v}}
        status = 200 if form.ok else 422
        if request.headers.get("hx-request"):
            return Template("audit/_audit_rows.html", context=context, status_code=status)
        context["people"] = await users_for(facility_id=user.facility_id)
        context["actions"] = await audit_actions_for(facility_id=user.facility_id)
        return Template("audit/audit.html", context=context, status_code=status)


