"""Client records and their sub-pages (the caseload, which shows visits and messages too, is in app/pages): thin handlers over queries, services and the policy."""

from __future__ import annotations

from typing import Any, Awaitable, Optional

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app.accounts.services import one_time_link_user
from app.audit.services import audit_record
from app.clients import forms, queries, services
from app.clients.queries import EDITABLE_FIELDS
from app.i18n import _
from app.policy import ClientRelation, can_on
from app.web.auth import actor_of
from app.web.forms import Form, keyed, query_text, save_merged, submitted_key, whole
from app.web.links import absolute_link
from app.clients.records import record_viewed, relation_for, today, wants_fragment
from app.web.sessions import flash_push
from app.web.submissions import created_once, link_created_once

# Shown on the client page as links, each only when the policy allows it for this record.
PAGE_ACTIONS = ("client.edit", "client.team.manage", "client.family.manage", "client.access_log.view",
                "client.access_log.details", "client.view_confidential", "client.messages.view", "plan.view",
                "schedule.view", "client.referrals.manage", "client.referrals.details", "client.disclose",
                "client.providers.view", "client.disclosures.details", "client.export")


def allowed(request: Request, relation: ClientRelation) -> dict[str, bool]:
    return {action.removeprefix("client.").replace(".", "_"): can_on(request.user, action, relation)
            for action in PAGE_ACTIONS}


class ClientController(Controller):
    path = "/clients"

    # --- intake -------------------------------------------------------------------------

    @get("/new", opt={"action": "client.create"})
    async def intake_page(self) -> Template:
        return Template("clients/intake.html", context={"form": keyed(Form()), "labels": forms.field_labels()})

    @post("/", opt={"action": "client.create"})
    async def intake(self, request: Request) -> Template | Redirect:
        user = request.user
        data = await request.form()
        form, details = forms.client_form(data, today=today(request))
        if details is None:
            return Template("clients/intake.html", context={"form": keyed(form, data), "labels": forms.field_labels()},
                            status_code=422)
        actor = actor_of(request)
        client_id = await created_once(user_id=actor.user_id, form="client", key=submitted_key(data), create=lambda: (
            services.client_create(actor=actor, facility_id=user.facility_id, details=details, today=today(request))))
        await flash_push(session_id=user.session_id, message=_("The client was added."))
        return Redirect(path=f"/clients/{client_id}", status_code=303)

    # --- the record -----------------------------------------------------------------------

    @get("/{client_id:int}", opt={"action": "client.view"})
    async def client_page(self, request: Request, client_id: FromPath[int]) -> Template:
        relation = await relation_for(request, client_id, "client.view")
        may = allowed(request, relation)
        confidential = may["view_confidential"]
        client = await queries.client_record(client_id=client_id, confidential=confidential)
        context = {
            "client": client, "may": may, "relation": relation,
            "contacts": await queries.contacts_for(client_id=client_id),
            "team": await queries.care_team_for(client_id=client_id, today=today(request)),
            "family_links": await queries.family_links_for(client_id=client_id) if confidential else [],
            "history": await queries.status_history_for(client_id=client_id) if confidential else [],
            "today": today(request),
        }
        await record_viewed(request, relation, "record", view="full" if confidential else "need_to_know")
        return Template("clients/client.html", context=context)

    @get("/{client_id:int}/edit", opt={"action": "client.edit"})
    async def edit_page(self, request: Request, client_id: FromPath[int]) -> Template:
        relation = await relation_for(request, client_id, "client.edit")
        record = await queries.client_for_edit(client_id=client_id)
        await record_viewed(request, relation, "edit", view="full")
        return self._edit(record, Form(values=forms.values_from_record(record)))

    def _edit(self, record: dict, form: Form, conflicts: Optional[list[dict]] = None, status: int = 200) -> Template:
        return Template("clients/edit.html", context={
            "client": {**record, "name": queries.display_name(record)}, "form": form,
            "labels": forms.field_labels(), "conflicts": conflicts or [], "merge_fields": EDITABLE_FIELDS,
        }, status_code=status)

    @post("/{client_id:int}/edit", opt={"action": "client.edit"})
    async def edit(self, request: Request, client_id: FromPath[int]) -> Template | Redirect:
        await relation_for(request, client_id, "client.edit")

        async def save(form: Form, details: Any) -> bool:
            return await services.client_update(actor=actor_of(request), client_id=client_id,
                                                version=forms.form_version(form), details=details)

        async def load() -> tuple[dict, dict[str, str]]:
            record = await queries.client_for_edit(client_id=client_id)
            return record, forms.values_from_record(record)

        saved = await save_merged(await request.form(), parse=lambda data: forms.client_form(data, today=today(request)),
                                  save=save, load=load, conflict=services.ClientVersionConflict,
                                  names=EDITABLE_FIELDS, labels=forms.field_labels(), normal=forms.normal_value)
        if saved.outcome == "invalid":
            return self._edit(await queries.client_for_edit(client_id=client_id), saved.form, status=422)
        if saved.outcome == "conflict":
            return self._edit(saved.stored, saved.form, conflicts=saved.conflicts, status=409)
        changed = saved.result
        message = _("Changes saved.") if changed else _("Nothing was changed.")
        await flash_push(session_id=request.user.session_id, message=message)
        return Redirect(path=f"/clients/{client_id}", status_code=303)

    # --- status -------------------------------------------------------------------------------

    async def _status(self, request: Request, client_id: int, form: Form, status: int = 200) -> Template:
        record = await queries.client_for_edit(client_id=client_id)
        choices = services.status_choices(record["status"])
        if not form.values.get("to_status") and choices:
            form.values["to_status"] = choices[0]
        form.values.setdefault("version", str(record["version"]))
        return Template("clients/status.html", context={
            "client": {**record, "name": queries.display_name(record)}, "form": form, "choices": choices,
            "history": await queries.status_history_for(client_id=client_id),
        }, status_code=status)

    @get("/{client_id:int}/status", opt={"action": "client.edit"})
    async def status_page(self, request: Request, client_id: FromPath[int]) -> Template:
        relation = await relation_for(request, client_id, "client.edit")
        await record_viewed(request, relation, "status", view="full")
        return await self._status(request, client_id, Form(values={"effective_on": today(request).isoformat()}))

    @post("/{client_id:int}/status", opt={"action": "client.edit"})
    async def status_change(self, request: Request, client_id: FromPath[int]) -> Template | Redirect:
        await relation_for(request, client_id, "client.edit")
        record = await queries.client_for_edit(client_id=client_id)
        form, change = forms.status_form(await request.form(), current=record["status"])
        status = 422
        if change is not None:
            try:
                schedule = await services.client_status_change(actor=actor_of(request), client_id=client_id,
                                                               today=today(request), **change)
            except services.ClientError as error:
                form.error(error.field, error.message)
            except services.ClientVersionConflict as conflict:
                form.error("to_status", _("Someone changed this client while you were on this page: the status is "
                                          "now “{status}”. Check it, then choose again.").format(
                    status=_(conflict.stored["status"])))
                form.values["version"] = str(conflict.stored["version"])
                status = 409
            else:
                message = _("The status was changed.")
                if schedule.created or schedule.removed:
                    message = _("The status was changed. The schedule was updated: {created} visits planned, "
                                "{removed} removed.").format(created=schedule.created, removed=schedule.removed)
                await flash_push(session_id=request.user.session_id, message=message)
                return Redirect(path=f"/clients/{client_id}", status_code=303)
        return await self._status(request, client_id, form, status=status)

    # --- contacts -----------------------------------------------------------------------------

    async def _contacts(self, request: Request, client_id: int, form: Form, status: int = 200,
                        stale: str = "") -> Template:
        return Template("clients/contacts.html", context={
            "client": await queries.client_name(client_id=client_id), "form": form,
            "contacts": await queries.contacts_for(client_id=client_id), "stale": stale,
        }, status_code=status)

    @get("/{client_id:int}/contacts", opt={"action": "client.edit"})
    async def contacts_page(self, request: Request, client_id: FromPath[int]) -> Template:
        relation = await relation_for(request, client_id, "client.edit")
        await record_viewed(request, relation, "contacts", view="full")
        return await self._contacts(request, client_id, keyed(Form()))

    @post("/{client_id:int}/contacts", opt={"action": "client.edit"})
    async def contact_add(self, request: Request, client_id: FromPath[int]) -> Template | Redirect:
        await relation_for(request, client_id, "client.edit")
        data = await request.form()
        form, contact = forms.contact_form(data)
        if contact is None:
            return await self._contacts(request, client_id, keyed(form, data), status=422)
        actor = actor_of(request)
        await created_once(user_id=actor.user_id, form="contact", key=submitted_key(data), create=lambda: (
            services.contact_add(actor=actor, client_id=client_id, **contact)))
        await flash_push(session_id=request.user.session_id, message=_("The contact was added."))
        return Redirect(path=f"/clients/{client_id}/contacts", status_code=303)

    @post("/{client_id:int}/contacts/{contact_id:int}/remove", opt={"action": "client.edit"})
    async def contact_remove(self, request: Request, client_id: FromPath[int],
                             contact_id: FromPath[int]) -> Template | Redirect:
        await relation_for(request, client_id, "client.edit")
        if await queries.contact_of(client_id=client_id, contact_id=contact_id) is None:
            raise NotFoundException()
        try:
            await services.contact_remove(actor=actor_of(request), client_id=client_id, contact_id=contact_id,
                                          version=forms.removal_form(await request.form()))
        except services.StaleRemoval:
            return await self._contacts(request, client_id, keyed(Form()), status=409, stale=_(
                "This contact was changed since your page showed it, so it was not removed. Check it below, "
                "then remove it again if you still mean to."))
        await flash_push(session_id=request.user.session_id, message=_("The contact was removed."))
        return Redirect(path=f"/clients/{client_id}/contacts", status_code=303)

    # --- care team ----------------------------------------------------------------------------

    async def _team(self, request: Request, client_id: int, form: Form, status: int = 200,
                    end_errors: Optional[dict[int, str]] = None, stale: str = "") -> Template:
        if not form.values.get("since"):
            form.values["since"] = today(request).isoformat()
        return Template("clients/team.html", context={
            "client": await queries.client_name(client_id=client_id), "form": form,
            "team": await queries.care_team_for(client_id=client_id, today=today(request)),
            "candidates": await queries.team_candidates(facility_id=request.user.facility_id),
            "today": today(request), "end_errors": end_errors or {}, "stale": stale,
        }, status_code=status)

    @get("/{client_id:int}/team", opt={"action": "client.team.manage"})
    async def team_page(self, request: Request, client_id: FromPath[int]) -> Template:
        relation = await relation_for(request, client_id, "client.team.manage")
        await record_viewed(request, relation, "team", view="full")
        return await self._team(request, client_id, keyed(Form()))

    @post("/{client_id:int}/team", opt={"action": "client.team.manage"})
    async def team_add(self, request: Request, client_id: FromPath[int]) -> Template | Redirect:
        await relation_for(request, client_id, "client.team.manage")
        candidates = await queries.team_candidates(facility_id=request.user.facility_id)
        data = await request.form()
        form, member = forms.team_form(data, candidate_ids={c["id"] for c in candidates})
        if member is not None:
            actor = actor_of(request)
            try:
                await created_once(user_id=actor.user_id, form="team_member", key=submitted_key(data), create=lambda: (
                    services.team_member_add(actor=actor, facility_id=request.user.facility_id, client_id=client_id,
                                             **member)))
            except services.ClientError as error:
                form.error(error.field, error.message)
        if not form.ok:
            return await self._team(request, client_id, keyed(form, data), status=422)
        await flash_push(session_id=request.user.session_id, message=_("The care team was updated."))
        return Redirect(path=f"/clients/{client_id}/team", status_code=303)

    @post("/{client_id:int}/team/{member_id:int}/end", opt={"action": "client.team.manage"})
    async def team_end(self, request: Request, client_id: FromPath[int], member_id: FromPath[int]) -> Template | Redirect:
        await relation_for(request, client_id, "client.team.manage")
        if await queries.team_member_of(client_id=client_id, member_id=member_id) is None:
            raise NotFoundException()
        form, end = forms.team_end_form(await request.form())
        if end is not None:
            try:
                await services.team_member_end(actor=actor_of(request), client_id=client_id, member_id=member_id,
                                               **end)
            except services.ClientError as error:
                form.error("until", error.message)
            except services.StaleRemoval:
                return await self._team(request, client_id, keyed(Form()), status=409, stale=_(
                    "This membership was changed since your page showed it, so its end was not set. Check it "
                    "below, then set the last day again if you still mean to."))
        if not form.ok:
            return await self._team(request, client_id, keyed(Form()), status=422,
                                    end_errors={member_id: form.errors["until"]})
        await flash_push(session_id=request.user.session_id, message=_("The care team was updated."))
        return Redirect(path=f"/clients/{client_id}/team", status_code=303)

    # --- family -------------------------------------------------------------------------------

    async def _family(self, request: Request, client_id: int, form: Form, status: int = 200,
                      link: Optional[dict] = None, stale: str = "") -> Template:
        return Template("clients/family.html", context={
            "client": await queries.client_name(client_id=client_id), "form": form,
            "links": await queries.family_links_for(client_id=client_id), "link": link, "stale": stale,
        }, status_code=status)

    @get("/{client_id:int}/family", opt={"action": "client.family.manage"})
    async def family_page(self, request: Request, client_id: FromPath[int]) -> Template:
        relation = await relation_for(request, client_id, "client.family.manage")
        await record_viewed(request, relation, "family", view="full")
        return await self._family(request, client_id, keyed(Form(values={"may_see_schedule": "on"})))

    @post("/{client_id:int}/family", opt={"action": "client.family.manage"})
    async def family_invite(self, request: Request, client_id: FromPath[int]) -> Template:
        await relation_for(request, client_id, "client.family.manage")
        data = await request.form()
        form, invite = forms.family_form(data)
        token = None
        if invite is not None:
            actor = actor_of(request)
            try:
                token = await link_created_once(
                    secret=request.app.state.settings.secret_key, user_id=actor.user_id, form="family_invite",
                    key=submitted_key(data), create=lambda token: _link_id(services.family_invite(
                        actor=actor, facility_id=request.user.facility_id, client_id=client_id, token=token, **invite)))
            except services.ClientError as error:
                form.error("email" if error.field not in forms.FAMILY_FIELDS else error.field, error.message)
        if token is None:
            return await self._family(request, client_id, keyed(form, data), status=422)
        # A new account's link is shown while it is unused; an existing account was only linked.
        link = {"email": invite["email"], "name": invite["display_name"],
                "url": absolute_link(f"/set-password/{token}") if await one_time_link_user(token=token) else ""}
        return await self._family(request, client_id, keyed(Form(values={"may_see_schedule": "on"})), status=201,
                                  link=link)

    @post("/{client_id:int}/family/{link_id:int}/end", opt={"action": "client.family.manage"})
    async def family_end(self, request: Request, client_id: FromPath[int],
                         link_id: FromPath[int]) -> Template | Redirect:
        await relation_for(request, client_id, "client.family.manage")
        if await queries.family_link_of(client_id=client_id, link_id=link_id) is None:
            raise NotFoundException()
        try:
            await services.family_link_end(actor=actor_of(request), client_id=client_id, link_id=link_id,
                                           version=forms.removal_form(await request.form()))
        except services.StaleRemoval:
            return await self._family(request, client_id, Form(values={"may_see_schedule": "on"}), status=409,
                                      stale=_("This family link was changed since your page showed it, so it was "
                                              "not ended. Check it below, then end it again if you still mean to."))
        await flash_push(session_id=request.user.session_id, message=_("The family link was ended."))
        return Redirect(path=f"/clients/{client_id}/family", status_code=303)

    # --- access log ---------------------------------------------------------------------------

    @get("/{client_id:int}/access-log", opt={"action": "client.access_log.view"})
    async def access_log(self, request: Request, client_id: FromPath[int], page: FromQuery[int] = 1,
                         before: FromQuery[str] = "") -> Template:
        relation = await relation_for(request, client_id, "client.access_log.view")
        page = max(page, 1)
        details = can_on(request.user, "client.access_log.details", relation)
        context: dict = {"details": details, "page": page, "entries": [], "events": [], "has_more": False}
        if details:  # the care team and admins read every event, with where it came from
            context["events"], context["has_more"] = await queries.access_log_for(
                facility_id=request.user.facility_id, client_id=client_id, page=page)
        else:  # the family: each person's reads of a part of the record once a day
            context["entries"], context["older"] = await queries.family_access_log_for(
                facility_id=request.user.facility_id, client_id=client_id, tz=request.user.timezone,
                before=whole(before, low=1))
        await audit_record(actor=actor_of(request), action="client.access_log_viewed", client_id=client_id,
                           object_type="client", object_id=client_id, detail={"page": page})
        context.update({"client": await queries.client_name(client_id=client_id),
                        "show_disclosures": can_on(request.user, "client.disclosures.view", relation),
                        "action_labels": forms.action_labels(), "access_labels": forms.access_labels()})
        if wants_fragment(request):
            return Template("clients/_access_log_rows.html", context=context)
        return Template("clients/access_log.html", context=context)

    # --- break-glass --------------------------------------------------------------------------

    @get("/find", opt={"action": "client.break_glass"})
    async def find_page(self, request: Request, q: FromQuery[str] = "") -> Template:
        q = query_text(q, 100)
        results = await queries.clients_find(facility_id=request.user.facility_id, q=q) if len(q) >= 2 else []
        context = {"q": q, "results": results, "searched": len(q) >= 2}
        if wants_fragment(request):
            return Template("clients/_find_results.html", context=context)
        return Template("clients/find.html", context=context)

    async def _break_glass_target(self, request: Request, client_id: int) -> Optional[ClientRelation]:
        """None when the client is already open to this user (nothing to break)."""
        user = request.user
        relation = await queries.client_relation(user=user, client_id=client_id, today=today(request))
        if relation is not None and can_on(user, "client.view", relation):
            return None
        if relation is None or not can_on(user, "client.break_glass", relation):
            raise NotFoundException()
        return relation

    @get("/{client_id:int}/break-glass", opt={"action": "client.break_glass"})
    async def break_glass_page(self, request: Request, client_id: FromPath[int]) -> Template | Redirect:
        if await self._break_glass_target(request, client_id) is None:
            return Redirect(path=f"/clients/{client_id}", status_code=303)
        return Template("clients/break_glass.html", context={
            "client": await queries.client_name(client_id=client_id), "form": keyed(Form())})

    @post("/{client_id:int}/break-glass", opt={"action": "client.break_glass"})
    async def break_glass(self, request: Request, client_id: FromPath[int]) -> Template | Redirect:
        if await self._break_glass_target(request, client_id) is None:
            return Redirect(path=f"/clients/{client_id}", status_code=303)
        data = await request.form()
        form, reason = forms.break_glass_form(data)
        if reason is None:
            return Template("clients/break_glass.html", context={
                "client": await queries.client_name(client_id=client_id), "form": keyed(form, data)},
                status_code=422)
        actor = actor_of(request)
        await created_once(user_id=actor.user_id, form="break_glass", key=submitted_key(data), create=lambda: (
            services.break_glass_open(actor=actor, client_id=client_id, session_id=request.user.session_id,
                                      reason=reason)))
        await flash_push(session_id=request.user.session_id, kind="error",
                         message=_("Emergency access granted until you sign out. Administrators are told."))
        return Redirect(path=f"/clients/{client_id}", status_code=303)


class BreakGlassReviewController(Controller):
    path = "/admin/break-glass"
    opt = {"action": "break_glass.review"}

    @get("/")
    async def grants_page(self, request: Request) -> Template:
        grants = await queries.break_glass_grants_for(facility_id=request.user.facility_id)
        return Template("clients/break_glass_review.html", context={"grants": grants})


async def _link_id(invited: Awaitable[services.FamilyInvitation]) -> int:
    return (await invited).link_id
