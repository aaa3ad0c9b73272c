"""Client threads, unanswered messages and email preferences: thin handlers (the family home is in app/pages)."""

from __future__ import annotations

from typing import Optional

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from app import clock
from app.clients import queries as clients
from app.i18n import _
from app.messages import forms, queries, services
from app.messages.threads import VIEWS, thread_audit, thread_context
from app.policy import ClientRelation, can_on
from app.web.auth import actor_of
from app.web.forms import Form
from app.clients.records import relation_for, today, wants_fragment
from app.web.sessions import flash_push
from app.web.submissions import created_once

# Polled in the background: these requests do not count as the person being active (see SessionMiddleware).
BACKGROUND = True


class MessagesController(Controller):
    path = "/clients/{client_id:int}/messages"

    async def _page(self, request: Request, relation: ClientRelation, thread: dict, status: int = 200) -> Template:
        return Template("messages/thread.html", context={
            "client": await clients.client_name(client_id=relation.client_id), "thread": thread,
            "may_open_record": can_on(request.user, "client.view", relation),
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
        team = can_on(request.user, "client.messages.team_notes", relation)
        if since and since == await queries.thread_state(client_id=client_id, team=team):
            return Response(content=b"", status_code=204)
        thread = await thread_context(request, relation, view=view)
        await thread_audit(request, thread, page="update")
        return Template("messages/_thread_update.html", context={"thread": thread})

    @post("/", opt={"action": "client.messages.post"})
    async def message_post(self, request: Request, client_id: FromPath[int]) -> Response:
        relation = await relation_for(request, client_id, "client.messages.post")
        may_team_note = can_on(request.user, "client.messages.team_notes", relation)
        form, message = forms.message_form(await request.form(), may_team_note=may_team_note)
        view = form.values["return_to"]
        if message is not None:
            actor, key = actor_of(request), message.pop("key")
            try:
                # The same compose form sent again answers with the message it made, and no second email goes out.
                message_id = await created_once(user_id=actor.user_id, form="message", key=key, create=lambda: (
                    services.message_post(actor=actor, client_id=client_id, facility_id=relation.facility_id,
                                          **message)))
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


@get("/messages/unanswered", opt={"action": "messages.unanswered", "background": BACKGROUND})
async def unanswered_page(request: Request) -> Template:
    """Family messages no one on the team answered within the facility's limit, on the coordinator's clients."""
    user = request.user
    relations = await clients.client_relations_of(user=user, today=today(request))
    client_ids = [r.client_id for r in relations if can_on(user, "client.messages.post", r)]
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

