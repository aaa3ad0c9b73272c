"""The client's care plan: the active version, the draft being edited, activation and closing."""

from __future__ import annotations

from datetime import date
from typing import Any, Optional

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template

from app.careplans import forms, queries, services
from app.careplans.tables import PlanStatus
from app.clients import forms as client_forms
from app.clients import queries as clients
from app.i18n import _
from app.policy import ClientRelation, can_on
from app.web.auth import actor_of
from app.web.errors import RequestRefused
from app.web.forms import Form, keyed, save_merged, submitted_key
from app.clients.records import record_viewed, relation_for, today
from app.web.sessions import flash_push
from app.web.submissions import created_once


def display_value(name: str, value: Any) -> str:
    """A plan, goal or service value as a person reads it (for the changes shown before activation)."""
    if value is None or value == "" or value == ():
        return "—"
    if name in ("weekday_set", "weekdays"):
        names = dict(forms.weekday_labels())
        return ", ".join(names[str(d)] for d in sorted(value))
    if name == "task_list":
        return "; ".join(value) or "—"
    if name == "kind":
        return forms.kind_labels().get(value, value)
    if name == "status":
        return forms.goal_status_labels().get(value, value)
    if name == "duration_minutes":
        return _("{n} minutes").format(n=value)
    if isinstance(value, date):
        return value.strftime("%d %b %Y")
    return forms.as_text(value)


def readable_changes(changes: services.PlanChanges, workers: dict[int, str]) -> dict[str, Any]:
    """The changes between versions as plain rows for the template."""
    names = forms.field_labels()

    def value(name: str, raw: Any) -> str:
        if name == "worker_id":
            return workers.get(raw, "—") if raw else "—"
        return display_value(name, raw)

    def part(change: services.PartChange, title_of) -> dict[str, Any]:
        subject = change.new if change.new is not None else change.old
        return {"kind": change.kind, "title": title_of(subject),
                "fields": [{"label": names.get(n, n), "old": value(n, o), "new": value(n, v)} for n, o, v in change.fields]}

    def service_title(service: dict) -> str:
        return f"{forms.kind_labels().get(service['kind'], service['kind'])}, {service['start_time'].strftime('%H:%M')}"

    return {
        "plan_fields": [{"label": names.get(n, n), "old": value(n, o), "new": value(n, v)}
                        for n, o, v in changes.plan_fields],
        "goals": [part(c, lambda g: g["description"]) for c in changes.goals],
        "services": [part(c, service_title) for c in changes.services],
        "any": bool(changes),
    }


# The fields of each versioned part of a draft, merged field by field when two people edit it (app/web/forms.py).
PLAN_MERGE_FIELDS = ("summary", "starts_on", "review_due", "ends_on")
GOAL_MERGE_FIELDS = ("description", "target_date", "status")
SERVICE_MERGE_FIELDS = ("kind", "worker_id", "provider_name", "weekdays", "start_time", "duration_minutes",
                        "starts_on", "ends_on", "instructions", "tasks")


def past_start_warning(details: Any, day: date) -> str:
    """A service dated to start before today: visits are planned from now on only, so say so."""
    if details is None or details.starts_on >= day:
        return ""
    return " " + _("It starts on {day}, in the past: visits are planned from today on, none for the days before.").format(
        day=details.starts_on.strftime("%d %b %Y"))


class PlanController(Controller):
    path = "/clients/{client_id:int}/plan"

    async def _draft(self, client_id: int) -> dict:
        draft = await queries.plan_in_status(client_id=client_id, status=PlanStatus.draft)
        if draft is None:
            raise NotFoundException()
        return draft

    async def _page(self, request: Request, relation: ClientRelation, *, status: int = 200,
                    details_form: Optional[Form] = None, goal_form: Optional[Form] = None,
                    conflicts: Optional[list[dict]] = None) -> Template:
        client_id = relation.client_id
        may_edit = can_on(request.user, "plan.edit", relation)
        active = await queries.plan_in_status(client_id=client_id, status=PlanStatus.active)
        active = await queries.plan_with_parts(plan_id=active["id"]) if active else None
        draft = None
        if may_edit:
            draft_row = await queries.plan_in_status(client_id=client_id, status=PlanStatus.draft)
            draft = await queries.plan_with_parts(plan_id=draft_row["id"]) if draft_row else None
        if draft is not None and details_form is None:
            details_form = Form(values=forms.plan_values(draft))
        versions = await queries.plan_versions_of(client_id=client_id) if may_edit else []
        client = await clients.client_name(client_id=client_id)
        return Template("careplans/plan.html", context={
            "client": client, "active": active, "draft": draft, "versions": versions,
            "may_edit": may_edit, "may_see_schedule": can_on(request.user, "schedule.view", relation),
            "details_form": details_form or Form(), "goal_form": goal_form or keyed(Form(values={"status": "not_started"})),
            "conflicts": conflicts or [], "labels": forms.labels(), "today": today(request), "merge_fields": PLAN_MERGE_FIELDS,
            "review": queries.review_state(active["review_due"], today(request)) if active else "",
            "note_counts": await queries.goal_note_counts(client_id=client_id) if may_edit and active else {},
        }, status_code=status)

    @get("/", opt={"action": "plan.view"})
    async def plan_page(self, request: Request, client_id: FromPath[int]) -> Template:
        relation = await relation_for(request, client_id, "plan.view")
        await record_viewed(request, relation, "plan")
        return await self._page(request, relation)

    @post("/", opt={"action": "plan.edit"})
    async def draft_start(self, request: Request, client_id: FromPath[int]) -> Redirect:
        await relation_for(request, client_id, "plan.edit")
        await services.plan_draft_start(actor=actor_of(request), client_id=client_id, today=today(request))
        await flash_push(session_id=request.user.session_id,
                         message=_("A new draft version is ready. Nothing changes for visits until you activate it."))
        return Redirect(path=f"/clients/{client_id}/plan#draft", status_code=303)

    @post("/details", opt={"action": "plan.edit"})
    async def details_update(self, request: Request, client_id: FromPath[int]) -> Response:
        relation = await relation_for(request, client_id, "plan.edit")
        draft = await self._draft(client_id)

        async def save(form: Form, details: Any) -> bool:
            return await services.plan_details_update(actor=actor_of(request), plan_id=draft["id"],
                                                      revision=forms.form_number(form, "revision"), details=details)

        async def load() -> tuple[dict, dict[str, str]]:
            stored = await queries.plan_by_id(plan_id=draft["id"])
            return stored, forms.plan_values(stored)

        saved = await save_merged(await request.form(), parse=forms.plan_form, save=save, load=load,
                                  conflict=services.PlanVersionConflict, names=PLAN_MERGE_FIELDS,
                                  labels=forms.field_labels(), version_field="revision")
        if saved.outcome != "saved":
            return await self._page(request, relation, details_form=saved.form, conflicts=saved.conflicts,
                                    status=422 if saved.outcome == "invalid" else 409)
        changed = saved.result
        await flash_push(session_id=request.user.session_id,
                         message=_("The draft was saved.") if changed else _("Nothing was changed."))
        return Redirect(path=f"/clients/{client_id}/plan#draft", status_code=303)

    @get("/discard", opt={"action": "plan.edit"})
    async def discard_page(self, request: Request, client_id: FromPath[int]) -> Template:
        """Are you sure? The draft's changes are lost once it is discarded."""
        await relation_for(request, client_id, "plan.edit")
        draft = await self._draft(client_id)
        return Template("careplans/discard.html", context={
            "client": await clients.client_name(client_id=client_id), "draft": draft})

    @post("/discard", opt={"action": "plan.edit"})
    async def draft_discard(self, request: Request, client_id: FromPath[int]) -> Redirect:
        await relation_for(request, client_id, "plan.edit")
        gone = RequestRefused(detail=_("This draft was already discarded or activated."), status_code=409)
        draft = await queries.plan_in_status(client_id=client_id, status=PlanStatus.draft)
        if draft is None:
            raise gone
        try:
            await services.plan_draft_discard(actor=actor_of(request), plan_id=draft["id"])
        except services.PlanError:
            raise gone from None
        await flash_push(session_id=request.user.session_id, message=_("The draft was discarded."))
        return Redirect(path=f"/clients/{client_id}/plan", status_code=303)

    # --- goals ------------------------------------------------------------------------------

    @post("/goals", opt={"action": "plan.edit"})
    async def goal_add(self, request: Request, client_id: FromPath[int]) -> Response:
        relation = await relation_for(request, client_id, "plan.edit")
        draft = await self._draft(client_id)
        data = await request.form()
        form, details = forms.goal_form(data)
        if details is None:
            return await self._page(request, relation, goal_form=keyed(form, data), status=422)
        actor = actor_of(request)
        await created_once(user_id=actor.user_id, form="goal", key=submitted_key(data), create=lambda: (
            services.goal_add(actor=actor, plan_id=draft["id"], details=details)))
        await flash_push(session_id=request.user.session_id, message=_("The goal was added to the draft."))
        return Redirect(path=f"/clients/{client_id}/plan#goals", status_code=303)

    async def _goal_page(self, request: Request, client_id: int, goal: dict, form: Form, status: int = 200,
                         conflicts: Optional[list[dict]] = None) -> Template:
        return Template("careplans/goal.html", context={
            "client": await clients.client_name(client_id=client_id), "goal": goal, "form": form,
            "labels": forms.labels(), "conflicts": conflicts or [], "merge_fields": GOAL_MERGE_FIELDS}, status_code=status)

    async def _goal(self, client_id: int, goal_id: int) -> tuple[dict, dict]:
        draft = await self._draft(client_id)
        goal = await queries.goal_of(plan_id=draft["id"], goal_id=goal_id)
        if goal is None:
            raise NotFoundException()
        return draft, goal

    @get("/goals/{goal_id:int}", opt={"action": "plan.edit"})
    async def goal_page(self, request: Request, client_id: FromPath[int], goal_id: FromPath[int]) -> Template:
        relation = await relation_for(request, client_id, "plan.edit")
        _draft, goal = await self._goal(client_id, goal_id)
        await record_viewed(request, relation, "plan")
        return await self._goal_page(request, client_id, goal, Form(values=forms.goal_values(goal)))

    @post("/goals/{goal_id:int}", opt={"action": "plan.edit"})
    async def goal_update(self, request: Request, client_id: FromPath[int], goal_id: FromPath[int]) -> Response:
        await relation_for(request, client_id, "plan.edit")
        draft, goal = await self._goal(client_id, goal_id)

        async def save(form: Form, details: Any) -> None:
            await services.goal_update(actor=actor_of(request), plan_id=draft["id"], goal_id=goal_id,
                                       version=forms.form_number(form, "version"), details=details)

        async def load() -> tuple[dict, dict[str, str]]:
            stored = await queries.goal_of(plan_id=draft["id"], goal_id=goal_id)
            return stored, forms.goal_values(stored)

        saved = await save_merged(await request.form(), parse=forms.goal_form, save=save, load=load,
                                  conflict=services.PlanVersionConflict, names=GOAL_MERGE_FIELDS,
                                  labels=forms.field_labels())
        if saved.outcome != "saved":
            return await self._goal_page(request, client_id, saved.stored or goal, saved.form,
                                         status=422 if saved.outcome == "invalid" else 409, conflicts=saved.conflicts)
        await flash_push(session_id=request.user.session_id, message=_("The goal was saved."))
        return Redirect(path=f"/clients/{client_id}/plan#goals", status_code=303)

    @post("/goals/{goal_id:int}/remove", opt={"action": "plan.edit"})
    async def goal_remove(self, request: Request, client_id: FromPath[int], goal_id: FromPath[int]) -> Redirect:
        await relation_for(request, client_id, "plan.edit")
        draft, _goal = await self._goal(client_id, goal_id)
        await services.goal_remove(actor=actor_of(request), plan_id=draft["id"], goal_id=goal_id)
        await flash_push(session_id=request.user.session_id, message=_("The goal was removed from the draft."))
        return Redirect(path=f"/clients/{client_id}/plan#goals", status_code=303)

    # --- goal notes -------------------------------------------------------------------------
    # Notes are written against a goal of an activated plan (by its lineage, so they follow the goal into
    # later versions) by the team that edits the plan; a review shows those of its period.

    async def _goal_in_force(self, client_id: int, goal_id: int) -> dict:
        goal = await queries.goal_in_force(client_id=client_id, goal_id=goal_id)
        if goal is None:
            raise NotFoundException()
        return goal

    async def _notes_page(self, request: Request, client_id: int, goal: dict, form: Optional[Form] = None,
                          status: int = 200) -> Template:
        return Template("careplans/goal_notes.html", context={
            "client": await clients.client_name(client_id=client_id), "goal": goal, "labels": forms.labels(),
            "notes": await queries.goal_notes_of(client_id=client_id, lineage=goal["lineage"]),
            "form": form or forms.goal_note_blank(), "user_id": request.user.id,
        }, status_code=status)

    @get("/goals/{goal_id:int}/notes", opt={"action": "plan.edit"})
    async def goal_notes_page(self, request: Request, client_id: FromPath[int], goal_id: FromPath[int]) -> Template:
        relation = await relation_for(request, client_id, "plan.edit")
        goal = await self._goal_in_force(client_id, goal_id)
        await record_viewed(request, relation, "goal_notes", goal=goal["lineage"])
        return await self._notes_page(request, client_id, goal)

    @post("/goals/{goal_id:int}/notes", opt={"action": "plan.edit"})
    async def goal_note_add(self, request: Request, client_id: FromPath[int], goal_id: FromPath[int]) -> Response:
        relation = await relation_for(request, client_id, "plan.edit")
        goal = await self._goal_in_force(client_id, goal_id)
        form, body = forms.goal_note_form(await request.form())
        if not form.ok:
            return await self._notes_page(request, client_id, goal, form, status=422)
        actor = actor_of(request)
        await created_once(user_id=actor.user_id, form="goal_note", key=form.values["key"], create=lambda: (
            services.goal_note_add(actor=actor, facility_id=relation.facility_id, client_id=client_id, goal=goal,
                                   body=body)))
        await flash_push(session_id=request.user.session_id, message=_("The note was added to the goal."))
        return Redirect(path=f"/clients/{client_id}/plan/goals/{goal_id}/notes", status_code=303)

    async def _own_note(self, request: Request, client_id: int, note_id: int) -> dict:
        note = await queries.goal_note_of(client_id=client_id, note_id=note_id)
        if note is None or note["author_id"] != request.user.id:
            raise NotFoundException()
        return note

    async def _note_page(self, request: Request, client_id: int, goal: dict, note: dict, form: Form,
                         status: int = 200, stored: Optional[dict] = None) -> Template:
        return Template("careplans/goal_note.html", context={
            "client": await clients.client_name(client_id=client_id), "goal": goal, "note": note, "form": form,
            "stored": stored}, status_code=status)

    @get("/goals/{goal_id:int}/notes/{note_id:int}", opt={"action": "plan.edit"})
    async def goal_note_page(self, request: Request, client_id: FromPath[int], goal_id: FromPath[int],
                             note_id: FromPath[int]) -> Template:
        """The author's correction of their note."""
        relation = await relation_for(request, client_id, "plan.edit")
        goal = await self._goal_in_force(client_id, goal_id)
        note = await self._own_note(request, client_id, note_id)
        await record_viewed(request, relation, "goal_notes", goal=goal["lineage"])
        return await self._note_page(request, client_id, goal, note,
                                     Form(values={"body": note["body"], "version": str(note["version"])}))

    @post("/goals/{goal_id:int}/notes/{note_id:int}", opt={"action": "plan.edit"})
    async def goal_note_correct(self, request: Request, client_id: FromPath[int], goal_id: FromPath[int],
                                note_id: FromPath[int]) -> Response:
        relation = await relation_for(request, client_id, "plan.edit")
        goal = await self._goal_in_force(client_id, goal_id)
        note = await self._own_note(request, client_id, note_id)
        form, body = forms.goal_note_form(await request.form())
        if not form.ok:
            return await self._note_page(request, client_id, goal, note, form, status=422)
        try:
            changed = await services.goal_note_correct(
                actor=actor_of(request), facility_id=relation.facility_id, client_id=client_id, note_id=note_id,
                version=forms.form_number(form, "version"), body=body)
        except services.GoalNoteVersionConflict as conflict:
            # Both texts are shown: the stored one, and what this person typed, kept in the form.
            form.values["version"] = str(conflict.stored["version"])
            form.error("body", _("This note was corrected meanwhile. Its text now is shown above; "
                                 "save again to replace it with yours."))
            return await self._note_page(request, client_id, goal, note, form, status=409, stored=conflict.stored)
        await flash_push(session_id=request.user.session_id,
                         message=_("The note was corrected.") if changed else _("Nothing was changed."))
        return Redirect(path=f"/clients/{client_id}/plan/goals/{goal_id}/notes", status_code=303)

    # --- services ---------------------------------------------------------------------------

    async def _service_page(self, request: Request, client_id: int, form: Form, *, service: Optional[dict] = None,
                            status: int = 200, conflicts: Optional[list[dict]] = None) -> Template:
        return Template("careplans/service.html", context={
            "client": await clients.client_name(client_id=client_id), "service": service, "form": form,
            "workers": await queries.workers_of(facility_id=request.user.facility_id), "labels": forms.labels(),
            "conflicts": conflicts or [], "timezone": request.user.timezone, "merge_fields": SERVICE_MERGE_FIELDS},
            status_code=status)

    async def _service(self, client_id: int, service_id: int) -> tuple[dict, dict]:
        draft = await self._draft(client_id)
        service = await queries.service_of(plan_id=draft["id"], service_id=service_id)
        if service is None:
            raise NotFoundException()
        return draft, service

    async def _worker_ids(self, request: Request) -> set[int]:
        return {w["id"] for w in await queries.workers_of(facility_id=request.user.facility_id)}

    @get("/services/new", opt={"action": "plan.edit"})
    async def service_new(self, request: Request, client_id: FromPath[int]) -> Template:
        relation = await relation_for(request, client_id, "plan.edit")
        await record_viewed(request, relation, "plan")
        draft = await self._draft(client_id)
        start = max(draft["starts_on"], today(request))
        return await self._service_page(request, client_id, keyed(Form(values={
            "kind": "personal_care", "starts_on": start.isoformat(), "duration_minutes": "30", "weekdays": ""})))

    @post("/services", opt={"action": "plan.edit"})
    async def service_add(self, request: Request, client_id: FromPath[int]) -> Response:
        await relation_for(request, client_id, "plan.edit")
        draft = await self._draft(client_id)
        data = await request.form()
        form, details = forms.service_form(data, worker_ids=await self._worker_ids(request))
        if details is not None:
            actor = actor_of(request)
            try:
                await created_once(user_id=actor.user_id, form="service", key=submitted_key(data), create=lambda: (
                    services.service_add(actor=actor, plan_id=draft["id"], details=details)))
            except services.PlanError as error:
                form.error(error.field, error.message)
        if not form.ok:
            return await self._service_page(request, client_id, keyed(form, data), status=422)
        await flash_push(session_id=request.user.session_id,
                         message=_("The service was added to the draft.") + past_start_warning(details, today(request)))
        return Redirect(path=f"/clients/{client_id}/plan#services", status_code=303)

    @get("/services/{service_id:int}", opt={"action": "plan.edit"})
    async def service_page(self, request: Request, client_id: FromPath[int], service_id: FromPath[int]) -> Template:
        relation = await relation_for(request, client_id, "plan.edit")
        _draft, service = await self._service(client_id, service_id)
        await record_viewed(request, relation, "plan")
        return await self._service_page(request, client_id, Form(values=forms.service_values(service)),
                                        service=service)

    @post("/services/{service_id:int}", opt={"action": "plan.edit"})
    async def service_update(self, request: Request, client_id: FromPath[int], service_id: FromPath[int]) -> Response:
        await relation_for(request, client_id, "plan.edit")
        draft, service = await self._service(client_id, service_id)
        worker_ids = await self._worker_ids(request)

        async def save(form: Form, details: Any) -> bool:
            try:
                await services.service_update(actor=actor_of(request), plan_id=draft["id"], service_id=service_id,
                                              version=forms.form_number(form, "version"), details=details)
            except services.PlanError as error:
                form.error(error.field, error.message)
                return False
            return True

        async def load() -> tuple[dict, dict[str, str]]:
            stored = await queries.service_of(plan_id=draft["id"], service_id=service_id)
            return stored, forms.service_values(stored)

        saved = await save_merged(await request.form(), parse=lambda data: forms.service_form(data, worker_ids=worker_ids),
                                  save=save, load=load, conflict=services.PlanVersionConflict,
                                  names=SERVICE_MERGE_FIELDS, labels=forms.field_labels())
        if saved.outcome == "conflict":
            return await self._service_page(request, client_id, saved.form, service=saved.stored, status=409,
                                            conflicts=saved.conflicts)
        if saved.outcome == "invalid" or not saved.result:
            return await self._service_page(request, client_id, saved.form, service=service, status=422)
        await flash_push(session_id=request.user.session_id,
                         message=_("The service was saved.") + past_start_warning(saved.details, today(request)))
        return Redirect(path=f"/clients/{client_id}/plan#services", status_code=303)

    @post("/services/{service_id:int}/remove", opt={"action": "plan.edit"})
    async def service_remove(self, request: Request, client_id: FromPath[int], service_id: FromPath[int]) -> Redirect:
        await relation_for(request, client_id, "plan.edit")
        draft, _service = await self._service(client_id, service_id)
        await services.service_remove(actor=actor_of(request), plan_id=draft["id"], service_id=service_id)
        await flash_push(session_id=request.user.session_id, message=_("The service was removed from the draft."))
        return Redirect(path=f"/clients/{client_id}/plan#services", status_code=303)

    # --- activation -------------------------------------------------------------------------

    async def _activation_page(self, request: Request, client_id: int, *, status: int = 200,
                               error: str = "") -> Template:
        draft = await self._draft(client_id)
        draft = await queries.plan_with_parts(plan_id=draft["id"])
        previous = await queries.plan_in_status(client_id=client_id, status=PlanStatus.active)
        previous = await queries.plan_with_parts(plan_id=previous["id"]) if previous else None
        workers = {s["worker_id"]: s["worker_name"] for plan in (draft, previous) if plan
                   for s in plan["services"] if s["worker_id"]}
        changes = readable_changes(services.plan_changes(previous, draft), workers)
        problems = await services.activation_problems(plan=draft)
        return Template("careplans/activate.html", context={
            "client": await clients.client_name(client_id=client_id), "draft": draft, "previous": previous,
            "changes": changes, "problems": problems, "error": error, "labels": forms.labels(),
        }, status_code=status)

    @get("/activate", opt={"action": "plan.edit"})
    async def activation_page(self, request: Request, client_id: FromPath[int]) -> Template:
        relation = await relation_for(request, client_id, "plan.edit")
        await record_viewed(request, relation, "plan")
        return await self._activation_page(request, client_id)

    @post("/activate", opt={"action": "plan.edit"})
    async def activate(self, request: Request, client_id: FromPath[int]) -> Response:
        await relation_for(request, client_id, "plan.edit")
        draft = await self._draft(client_id)
        form = Form.from_data(await request.form(), ("revision",))
        try:
            activated = await services.plan_activate(actor=actor_of(request), plan_id=draft["id"],
                                                     revision=forms.form_number(form, "revision"))
        except services.PlanVersionConflict:
            return await self._activation_page(request, client_id, status=409, error=_(
                "Someone changed the draft while you were reading it. Check the changes below again, then activate."))
        except services.PlanError as error:
            return await self._activation_page(request, client_id, status=422, error=error.message)
        status = (await clients.client_name(client_id=client_id))["status"]
        if status != "active":
            message = _("The plan is active. No visits are planned while the client's status is “{status}”: "
                        "they are planned once it is Active.").format(status=client_forms.status_labels()[status])
        else:
            message = _("The plan is active. The schedule was updated: {created} visits planned, {removed} removed."
                        ).format(created=activated["schedule"].created, removed=activated["schedule"].removed)
        await flash_push(session_id=request.user.session_id, message=message)
        return Redirect(path=f"/clients/{client_id}/plan", status_code=303)

    # --- closing ----------------------------------------------------------------------------

    async def _close_page(self, request: Request, client_id: int, form: Form, status: int = 200) -> Template:
        active = await queries.plan_in_status(client_id=client_id, status=PlanStatus.active)
        if active is None:
            raise NotFoundException()
        return Template("careplans/close.html", context={
            "client": await clients.client_name(client_id=client_id), "plan": active, "form": form},
            status_code=status)

    @get("/close", opt={"action": "plan.edit"})
    async def close_page(self, request: Request, client_id: FromPath[int]) -> Template:
        relation = await relation_for(request, client_id, "plan.edit")
        await record_viewed(request, relation, "plan")
        return await self._close_page(request, client_id, Form())

    @post("/close", opt={"action": "plan.edit"})
    async def close(self, request: Request, client_id: FromPath[int]) -> Response:
        await relation_for(request, client_id, "plan.edit")
        form, reason = forms.close_form(await request.form())
        if reason is None:
            return await self._close_page(request, client_id, form, status=422)
        closed = RequestRefused(detail=_("This plan was already closed."), status_code=409)
        active = await queries.plan_in_status(client_id=client_id, status=PlanStatus.active)
        if active is None:
            raise closed
        try:
            result = await services.plan_close(actor=actor_of(request), plan_id=active["id"], reason=reason)
        except services.PlanError:
            raise closed from None
        await flash_push(session_id=request.user.session_id, message=_(
            "The plan is closed. {removed} planned visits were removed.").format(removed=result.removed))
        return Redirect(path=f"/clients/{client_id}/plan", status_code=303)

    # --- earlier versions -------------------------------------------------------------------

    @get("/versions/{version:int}", opt={"action": "plan.edit"})
    async def version_page(self, request: Request, client_id: FromPath[int], version: FromPath[int]) -> Template:
        relation = await relation_for(request, client_id, "plan.edit")
        plan = await queries.plan_version_of(client_id=client_id, version=version)
        if plan is None:
            raise NotFoundException()
        plan = await queries.plan_with_parts(plan_id=plan["id"])
        await record_viewed(request, relation, "plan")
        return Template("careplans/version.html", context={
            "client": await clients.client_name(client_id=client_id), "plan": plan, "labels": forms.labels()})
