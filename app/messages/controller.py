"""Client threads, the family home, unanswered messages and email preferences: thin handlers."""

from __future__ import annotations

from typing import Any, Optional

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from app import clock
from app.audit.services import audit_record
from app.careplans.forms import kind_labels
from app.clients import queries as clients
from app.i18n import _
from app.messages import forms, queries, services
from app.policy import ClientRelation, can
from app.visits import queries as visits
from app.web.auth import actor_of
from app.web.forms import Form
from app.clients.records import relation_for, today, wants_fragment
from app.web.sessions import flash_push

# Polled in the background: these requests do not count as the person being active (see SessionMiddleware).
BACKGROUND = True
POLL_SECONDS = 3
VIEWS = {"thread": queries.THREAD_SIZE, "family": queries.FAMILY_HOME_THREAD_SIZE}
FAMILY_HOME_ACCESS_LOG = 5


async def thread_context(request: Request, relation: ClientRelation, *, view: str = "thread",
                         before: Optional[int] = None, form: Optional[Form] = None) -> dict[str, Any]:
    """The thread as this person may see it; showing it to them is what marks it read."""
    user = request.user
    team = can(user, "client.messages.team_notes", relation)
    messages, earlier = await queries.thread_messages(client_id=relation.client_id, viewer_id=user.id, team=team,
                                                      before=before, limit=VIEWS[view])
    newly_read: list[int] = []
    if messages:
        newly_read = await services.thread_mark_read(user_id=user.id, client_id=relation.client_id, team=team,
                                                     from_id=messages[0].id, to_id=messages[-1].id)
        for message in messages:
            message.new = message.id in newly_read
    may_post = can(user, "client.messages.post", relation)
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


class MessagesController(Controller):
    path = "/clients/{client_id:int}/messages"

    async def _page(self, request: Request, relation: ClientRelation, thread: dict, status: int = 200) -> Template:
        return Template("messages/thread.html", context={
            "client": await clients.client_name(client_id=relation.client_id), "thread": thread,
            "may_open_record": can(request.user, "client.view", relation),
        }, status_code=status)

    @get("/", opt={"action": "client.messages.view"})
    async def thread_page(self, request: Request, client_id: FromPath[int],
                          before: FromQuery[Optional[int]] = None) -> Template:
        relation = await relation_for(request, client_id, "client.messages.view")
        thread = await thread_context(request, relation, before=before)
        await thread_audit(request, thread, page="thread")
        return await self._page(request, relation, thread)

    @get("/updates", opt={"action": "client.messages.view", "background": BACKGROUND})
    async def thread_updates(self, request: Request, client_id: FromPath[int], since: FromQuery[str] = "",
                             view: FromQuery[str] = "thread") -> Response:
        """What changed since the state `since`: nothing (204), or the thread's messages and receipts again."""
        relation = await relation_for(request, client_id, "client.messages.view")
        view = view if view in VIEWS else "thread"
        team = can(request.user, "client.messages.team_notes", relation)
        if since and since == await queries.thread_state(client_id=client_id, team=team):
            return Response(content=b"", status_code=204)
        thread = await thread_context(request, relation, view=view)
        await thread_audit(request, thread, page="update")
        return Template("messages/_thread_update.html", context={"thread": thread})

    @post("/", opt={"action": "client.messages.post"})
    async def message_post(self, request: Request, client_id: FromPath[int]) -> Response:
        relation = await relation_for(request, client_id, "client.messages.post")
        may_team_note = can(request.user, "client.messages.team_notes", relation)
        form, message = forms.message_form(await request.form(), may_team_note=may_team_note)
        view = form.values["return_to"]
        if message is not None:
            try:
                message_id = await services.message_post(actor=actor_of(request), client_id=client_id,
                                                         facility_id=relation.facility_id, **message)
            except services.MessageError as error:
                form.error(error.field, error.message)
        if not form.ok:
            thread = await thread_context(request, relation, view=view, form=form)
            if wants_fragment(request):
                return Template("messages/_compose_response.html", context={"thread": thread}, status_code=422)
            return await self._page(request, relation, thread, status=422)
        if wants_fragment(request):
            thread = await thread_context(request, relation, view=view)
            return Template("messages/_compose_response.html", context={"thread": thread}, status_code=201)
        target = "/family" if view == "family" else f"/clients/{client_id}/messages"
        return Redirect(path=f"{target}#message-{message_id}", status_code=303)


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
        section: dict[str, Any] = {"client": client, "relation": relation, "thread": None, "unread": 0,
                                   "may_see_schedule": can(user, "schedule.view", relation),
                                   "may_see_summaries": can(user, "visit.summaries.shared", relation)}
        if section["may_see_schedule"]:
            section["visits"] = await visits.upcoming_visits_for_family(client_id=relation.client_id,
                                                                        now=clock.utcnow())
        if section["may_see_summaries"]:
            section["summaries"] = await visits.shared_visit_summaries_for_family(client_id=relation.client_id)
        if section["may_see_schedule"] or section["may_see_summaries"]:
            await audit_record(actor=actor_of(request), action="client.visits_viewed", client_id=relation.client_id,
                               object_type="client", object_id=relation.client_id,
                               detail={"page": "family", "schedule": section["may_see_schedule"],
                                       "summaries": section["may_see_summaries"]})
        if can(user, "client.messages.view", relation):
            section["thread"] = await thread_context(request, relation, view="family")
            section["unread"] = len(section["thread"]["newly_read"])
            await thread_audit(request, section["thread"], page="family")
        if can(user, "client.access_log.view", relation):
            events, more = await clients.access_log_for(facility_id=user.facility_id, client_id=relation.client_id,
                                                        page=1)
            section["access_log"] = events[:FAMILY_HOME_ACCESS_LOG]
            section["access_log_more"] = more or len(events) > FAMILY_HOME_ACCESS_LOG
            await audit_record(actor=actor_of(request), action="client.access_log_viewed",
                               client_id=relation.client_id, object_type="client", object_id=relation.client_id,
                               detail={"page": "family"})
        sections.append(section)
    return Template("messages/family.html", context={"sections": sections, "kinds": kind_labels()})


@get("/messages/unanswered", opt={"action": "messages.unanswered", "background": BACKGROUND})
async def unanswered_page(request: Request) -> Template:
    """Family messages no one on the team answered within the facility's limit, on the coordinator's clients."""
    user = request.user
    relations = await clients.client_relations_of(user=user, today=today(request))
    client_ids = [r.client_id for r in relations if can(user, "client.messages.post", r)]
    overdue = await queries.overdue_for(client_ids=client_ids, now=clock.utcnow())
    for message in overdue:
        message["name"] = clients.display_name(message)
    context = {"overdue": overdue}
    if wants_fragment(request):
        return Template("messages/_unanswered.html", context=context)
    return Template("messages/unanswered.html", context=context)


class NotificationsController(Controller):
    path = "/account/notifications"
    opt = {"action": "account.notifications"}

    def _page(self, form: Form, status: int = 200) -> Template:
        return Template("messages/notifications.html", context={
            "form": form, "choices": forms.email_mode_labels()}, status_code=status)

    @get("/")
    async def preferences_page(self, request: Request) -> Template:
        mode = await queries.email_mode_of(user_id=request.user.id)
        return self._page(Form(values={"email": mode}))

    @post("/")
    async def preferences_save(self, request: Request) -> Response:
        form, mode = forms.preference_form(await request.form())
        if mode is None:
            return self._page(form, status=422)
        await services.email_mode_set(actor=actor_of(request), user_id=request.user.id, mode=mode)
        await flash_push(session_id=request.user.session_id, message=_("Your email choice was saved."))
        return Redirect(path="/account/notifications", status_code=303)

