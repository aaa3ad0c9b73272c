"""Visits: a client's week, a worker's day, the team's week, one visit and its log, and the worker's calendar feed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any, Awaitable, Callable, Optional
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app import clock
from app.audit.services import audit_record
from app.careplans import queries as plans
from app.careplans.forms import kind_labels
from app.clients import queries as clients
from app.i18n import _
from app.policy import VISIT_CORRECTION_WINDOW, ClientRelation, Person, can, can_on
from app.visits import forms, queries, rules, services
from app.visits.calendar import visits_calendar
from app.careplans.schedule import week_start
from app.web.auth import actor_of
from app.web.forms import Form, iso_day
from app.web.links import absolute_link, links_host
from app.clients.records import record_viewed, relation_for, today, wants_fragment
from app.web.sessions import flash_push

FEED_PAST_DAYS = 7
FEED_FUTURE_DAYS = 42

# The visit page's handover also shows the team's notes, which messages keep (above visits): the assembly
# registers the page part that composes both (app/pages/handover.py). Unregistered, the handover is the
# visits feature's own part, without the notes.
Handover = Callable[..., Awaitable[Optional[dict]]]  # (user, relation, visit) -> the handover, or None
_handover: list[Handover] = [queries.handover_for]


def handover_register(compose: Handover) -> None:
    _handover[:] = [compose]


def day_param(value: str, default: date) -> date:
    return iso_day(value) or default


def with_states(request: Request, visits: list[dict]) -> list[dict]:
    """Each visit's derived state at this moment (late, missed, in progress...), by the facility's grace time."""
    return queries.with_states(visits, grace=request.user.visit_grace, now=clock.utcnow())


def week_days(first: date, visits: list[dict], tz: str) -> list[dict]:
    days = [{"date": first + timedelta(days=n), "visits": []} for n in range(7)]
    zone = ZoneInfo(tz)
    for visit in visits:
        index = (visit["scheduled_start"].astimezone(zone).date() - first).days
        if 0 <= index < 7:
            days[index]["visits"].append(visit)
    return days


# --- a client's week --------------------------------------------------------------------------


class ClientVisitsController(Controller):
    path = "/clients/{client_id:int}/visits"

    @get("/", opt={"action": "schedule.view"})
    async def week_page(self, request: Request, client_id: FromPath[int], week: FromQuery[str] = "") -> Template:
        relation = await relation_for(request, client_id, "schedule.view")
        return await self._week(request, relation, week_start(day_param(week, today(request))))

    async def _week(self, request: Request, relation: ClientRelation, first: date, *, status: int = 200,
                    extra_form: Optional[Form] = None, clashes: Optional[list[dict]] = None,
                    free_slots: Optional[list] = None) -> Template:
        client_id = relation.client_id
        tz = request.user.timezone
        start, _end = queries.day_bounds(first, tz)
        _start, end = queries.day_bounds(first + timedelta(days=6), tz)
        visits = await queries.week_for(user=request.user, relation=relation, start=start, end=end,
                                        now=clock.utcnow(), grace=request.user.visit_grace)
        details = can_on(request.user, "schedule.details", relation)
        await record_viewed(request, relation, "visits", week=first.isoformat())
        may_manage = can_on(request.user, "visit.manage", relation)
        context = {
            "client": await clients.client_name(client_id=client_id), "days": week_days(first, visits, tz),
            "week": first, "previous": first - timedelta(days=7), "next": first + timedelta(days=7),
            "this_week": week_start(today(request)), "today": today(request), "details": details,
            "may_manage": may_manage, "may_plan": can_on(request.user, "plan.view", relation),
            # Those the details are not for (the family) read the visits' states in plain words.
            "labels": forms.labels() if details else {**forms.labels(), "states": forms.family_state_labels()},
            "extra_form": extra_form or Form(values={"key": forms.idempotency_key()}), "clashes": clashes or [],
            "free_slots": free_slots or [],
        }
        if may_manage:
            plan, services_list = await _active_services(client_id)
            workers = await plans.workers_of(facility_id=relation.facility_id)
            context.update(services=services_list, worker_options=[(w["id"], w["display_name"]) for w in workers],
                           service_options=[(s["id"], f'{forms.labels()["kinds"][s["kind"]]}, {s["time_range"]}'
                                             f' ({s["worker_name"] or s["provider_name"]})') for s in services_list])
        if wants_fragment(request):
            return Template("visits/_week_grid.html", context=context)
        return Template("visits/week.html", context=context, status_code=status)

    @post("/extra", opt={"action": "visit.manage"})
    async def extra_add(self, request: Request, client_id: FromPath[int]) -> Response:
        """One visit more for a service of the active plan (a hospital discharge, a family event), audited."""
        relation = await relation_for(request, client_id, "visit.manage")
        plan, services_list = await _active_services(client_id)
        workers = await plans.workers_of(facility_id=relation.facility_id)
        data = await request.form()
        form, values = forms.extra_form(data, service_ids={s["id"] for s in services_list},
                                        worker_ids={w["id"] for w in workers})
        form.values["key"] = forms.submitted_key(data) or forms.idempotency_key()
        first = week_start(values["day"] or today(request))
        if form.ok:
            try:
                visit_id = await services.visit_add_extra(
                    actor=actor_of(request), client=await clients.client_name(client_id=client_id),
                    facility_id=relation.facility_id, plan=plan,
                    service=next(s for s in services_list if s["id"] == values["service_id"]), day=values["day"],
                    at=values["time"], duration_minutes=values["duration"], worker_id=values["worker_id"],
                    tz=request.user.timezone, key=forms.submitted_key(data),
                    double_booking_ok=form.values["extra_double_booking_ok"] == "yes")
            except services.VisitError as error:
                form.error(error.field, error.message)
            except services.VisitClash as clash:
                form.error("extra_time", _("The care worker is busy then. Choose another time or worker, or "
                                           "confirm the double booking below."))
                return await self._week(request, relation, first, status=409, extra_form=form, clashes=clash.clashes,
                                        free_slots=await _free_slots(request, clash))
        if not form.ok:
            return await self._week(request, relation, first, status=422, extra_form=form)
        await flash_push(session_id=request.user.session_id, message=_("The extra visit is planned."))
        return Redirect(path=f"/visits/{visit_id}", status_code=303)


async def _free_slots(request: Request, clash: services.VisitClash) -> list:
    """The worker's free times on the day of a refused booking, long enough for it: what to offer instead."""
    tz = request.user.timezone
    return await queries.free_slots_for(
        worker_id=clash.worker_id, day=clash.start.astimezone(ZoneInfo(tz)).date(), tz=tz,
        minutes=int((clash.end - clash.start).total_seconds() // 60), now=clock.utcnow(), visit_id=clash.visit_id)


async def _active_services(client_id: int) -> tuple[Optional[dict], list[dict]]:
    """The client's active plan and its services: what an extra visit may be for."""
    plan = await plans.active_plan_of(client_id=client_id)
    return plan, (await plans.services_of(plan_id=plan["id"]) if plan else [])


# --- the worker's day -------------------------------------------------------------------------


@get("/my-day", opt={"action": "my_day.view"})
async def my_day_page(request: Request, day: FromQuery[str] = "") -> Template:
    user = request.user
    shown = day_param(day, today(request))
    start, end = queries.day_bounds(shown, user.timezone)
    visits, records_shown = await queries.my_day_for(user=user, start=start, end=end, today=today(request))
    for relation in records_shown:
        await record_viewed(request, relation, "my_day", day=shown.isoformat())
    visits = with_states(request, visits)
    # The day opens at the visit the worker is at or going to next; the visits that are over fold to a line.
    current = rules.current_visit([(v["id"], rules.Attendance(v["state"]), v["scheduled_end"]) for v in visits],
                                  now=clock.utcnow()) if shown == today(request) else None
    for visit in visits:
        visit["current"] = visit["id"] == current
        visit["folded"] = rules.Attendance(visit["state"]) in rules.FINISHED
    context = {"visits": visits, "current": next((v for v in visits if v["current"]), None),
               "day": shown, "today": today(request), "previous": shown - timedelta(days=1),
               "next": shown + timedelta(days=1), "labels": forms.labels(),
               "show_own_figures": can(user, "reports.staff.own")}
    if wants_fragment(request):
        return Template("visits/_my_day_visits.html", context=context)
    return Template("visits/my_day.html", context=context)


# --- the team's week --------------------------------------------------------------------------


def team_week_rows(visits: list[dict], *, first: date, tz: str) -> list[dict]:
    """One row per care worker, then one per outside provider (the agency named, as the service names it), each
    with its days and the week's load: the visits still planned or made (not cancelled) and their planned time."""
    rows: dict[tuple, dict] = {}
    for visit in visits:
        agency = visit["worker_id"] is None
        key = ("agency", visit["provider_name"]) if agency else ("worker", visit["worker_id"])
        name = (visit["provider_name"] or _("Outside provider")) if agency else visit["worker_name"]
        row = rows.setdefault(key, {"name": name, "agency": agency, "visits": []})
        row["visits"].append(visit)
    workers = sorted(rows.values(), key=lambda r: (r["agency"], r["name"]))
    for row in workers:
        counted = [v for v in row["visits"] if v["status"] != "cancelled"]
        row["total_visits"] = len(counted)
        row["total_minutes"] = sum(int((v["scheduled_end"] - v["scheduled_start"]).total_seconds() // 60)
                                   for v in counted)
        row["days"] = week_days(first, row.pop("visits"), tz)
    return workers


@get("/schedule", opt={"action": "schedule.team_week"})
async def team_week_page(request: Request, week: FromQuery[str] = "") -> Template:
    user = request.user
    tz = user.timezone
    first = week_start(day_param(week, today(request)))
    start, _end = queries.day_bounds(first, tz)
    _start, end = queries.day_bounds(first + timedelta(days=6), tz)
    client_ids = None
    if not can(user, "client.list_all"):
        client_ids = [c["id"] for c in await clients.clients_for_worker(user=user, today=today(request))]
    visits = with_states(request, await queries.visits_of_team(
        facility_id=user.facility_id, start=start, end=end, client_ids=client_ids))
    workers = team_week_rows(visits, first=first, tz=tz)
    shown = sorted({v["client"] for v in visits})
    actor = actor_of(request)
    await audit_record(actor=actor, action="schedule.team_viewed", object_type="schedule",
                       object_id=first.isoformat(), detail={"clients": shown})
    # Each client's own access log shows that the team week showed them (one shared insert, not N).
    for client_id in shown:
        await audit_record(actor=actor, action="client.viewed", client_id=client_id, object_type="client",
                           object_id=client_id, detail={"page": "team_week", "week": first.isoformat()})
    context = {"workers": workers, "week": first, "days": [first + timedelta(days=n) for n in range(7)],
               "previous": first - timedelta(days=7), "next": first + timedelta(days=7),
               "this_week": week_start(today(request)), "today": today(request), "labels": forms.labels(),
               "clashes": sum(1 for v in visits if v["double_booked"])}
    if wants_fragment(request):
        return Template("visits/_team_week_grid.html", context=context)
    return Template("visits/team_week.html", context=context)


# --- one visit --------------------------------------------------------------------------------


class VisitController(Controller):
    path = "/visits"

    async def _visit(self, request: Request, visit_id: int, action: str) -> tuple[dict, ClientRelation]:
        owner = await queries.visit_owner(visit_id=visit_id)
        if owner is None:
            raise NotFoundException()
        relation = await clients.client_relation(user=request.user, client_id=owner["client"], today=today(request))
        if relation is None:
            raise NotFoundException()
        relation = replace(relation, own_visit=owner["worker"] == request.user.id,
                           visit_checked_out_at=owner["check_out_at"], now=clock.utcnow())
        if not can_on(request.user, action, relation):
            raise NotFoundException()
        visit = await queries.visit_detail(visit_id=visit_id)
        return visit, relation

    async def _page(self, request: Request, visit: dict, relation: ClientRelation, *, status: int = 200,
                    cancel_form: Optional[Form] = None, reassign_form: Optional[Form] = None,
                    move_form: Optional[Form] = None, move_clashes: Optional[list[dict]] = None,
                    reassign_clashes: Optional[list[dict]] = None, free_slots: Optional[list] = None,
                    error: str = "",
                    log: Optional[dict] = None) -> Template:
        may_manage = can_on(request.user, "visit.manage", relation)
        if log is None:
            log = await visit_log_context(request, relation, visit["id"])
        handover = await _handover[0](user=request.user, relation=relation, visit=visit)
        workers = await plans.workers_of(facility_id=request.user.facility_id) if may_manage else []
        # Showing the page is a read of the record; the handover's parts are named in the audit entry.
        await record_viewed(request, relation, "visit", visit=visit["id"], **({"handover": {
            "record": handover["record"] is not None, "team_notes": len(handover["team_notes"] or []),
            "concerns": len(handover["concerns"]), "last_note": handover["last_note"] is not None}} if handover else {}))
        return Template("visits/visit.html", context={
            "visit": with_states(request, [visit])[0], "client": await clients.client_name(client_id=visit["client"]),
            "may_manage": may_manage, "labels": forms.labels(), "error": error,
            "may_restore": visit["status"] == "cancelled" and visit["scheduled_start"] > clock.utcnow(),
            "workers": workers, "worker_options": [(w["id"], w["display_name"]) for w in workers],
            "cancel_form": cancel_form or Form(values={"version": str(visit["version"])}),
            "reassign_form": reassign_form or Form(values={"version": str(visit["version"]),
                                                           "worker_id": str(visit["worker_id"] or "")}),
            "move_form": move_form or Form(values={
                "version": str(visit["version"]), "move_worker": str(visit["worker_id"] or ""),
                "move_day": forms.local_input(visit["scheduled_start"], request.user.timezone)[:10],
                "move_time": forms.local_input(visit["scheduled_start"], request.user.timezone)[11:]}),
            "move_clashes": move_clashes or [],
            "clashes": reassign_clashes or [], "free_slots": free_slots or [], "log": log, "handover": handover, "log_labels": forms.log_labels(),
            "may_see_concerns": can_on(request.user, "visit.concern.view", relation),
        }, status_code=status)

    @get("/{visit_id:int}", opt={"action": "visit.view"})
    async def visit_page(self, request: Request, visit_id: FromPath[int]) -> Template:
        visit, relation = await self._visit(request, visit_id, "visit.view")
        return await self._page(request, visit, relation)

    async def _conflict(self, request: Request, visit_id: int, relation: ClientRelation) -> Template:
        visit = await queries.visit_detail(visit_id=visit_id)
        return await self._page(request, visit, relation, status=409, error=_(
            "Someone changed this visit while you were on this page: it is now as shown. Check it, then try again."))

    @post("/{visit_id:int}/cancel", opt={"action": "visit.manage"})
    async def cancel(self, request: Request, visit_id: FromPath[int]) -> Response:
        visit, relation = await self._visit(request, visit_id, "visit.manage")
        form, reason = forms.cancel_form(await request.form())
        if reason is not None:
            try:
                await services.visit_cancel(actor=actor_of(request), visit_id=visit_id,
                                            version=forms.form_version(form), reason=reason)
            except services.VisitVersionConflict:
                return await self._conflict(request, visit_id, relation)
            except services.VisitError as error:
                form.error("reason", error.message)
        if not form.ok:
            return await self._page(request, visit, relation, cancel_form=form, status=422)
        await flash_push(session_id=request.user.session_id, message=_("The visit was cancelled."))
        return Redirect(path=f"/visits/{visit_id}", status_code=303)

    @post("/{visit_id:int}/restore", opt={"action": "visit.manage"})
    async def restore(self, request: Request, visit_id: FromPath[int]) -> Response:
        visit, relation = await self._visit(request, visit_id, "visit.manage")
        form = Form.from_data(await request.form(), ("version",))
        try:
            await services.visit_restore(actor=actor_of(request), visit_id=visit_id, version=forms.form_version(form))
        except services.VisitVersionConflict:
            return await self._conflict(request, visit_id, relation)
        except services.VisitError as error:
            return await self._page(request, visit, relation, status=422, error=error.message)
        await flash_push(session_id=request.user.session_id, message=_("The visit is planned again."))
        return Redirect(path=f"/visits/{visit_id}", status_code=303)

    @post("/{visit_id:int}/reassign", opt={"action": "visit.manage"})
    async def reassign(self, request: Request, visit_id: FromPath[int]) -> Response:
        visit, relation = await self._visit(request, visit_id, "visit.manage")
        workers = await plans.workers_of(facility_id=request.user.facility_id)
        form, worker_id = forms.reassign_form(await request.form(), worker_ids={w["id"] for w in workers})
        return await self._change(
            request, visit, relation, form, ready=worker_id is not None, form_name="reassign", field="worker_id",
            busy=_("This worker has another visit at this time. Choose someone else, or confirm the double booking "
                   "below."), done=_("The visit was given to another worker."),
            change=lambda: services.visit_reassign(
                actor=actor_of(request), visit_id=visit_id, version=forms.form_version(form), worker_id=worker_id,
                double_booking_ok=form.values["double_booking_ok"] == "yes"))

    @post("/{visit_id:int}/move", opt={"action": "visit.manage"})
    async def move(self, request: Request, visit_id: FromPath[int]) -> Response:
        """Move this one visit to another time, and to another worker if chosen; the plan is unchanged."""
        visit, relation = await self._visit(request, visit_id, "visit.manage")
        workers = await plans.workers_of(facility_id=request.user.facility_id)
        form, day, at, worker_id = forms.move_form(await request.form(), worker_ids={w["id"] for w in workers})
        # Busy, and when: never whom they visit then (another team's client, maybe).
        return await self._change(
            request, visit, relation, form, ready=form.ok, form_name="move", field="move_time",
            busy=_("The care worker is busy then. Choose another time or worker, or confirm the double booking below."),
            done=_("The visit is moved. The family sees the new time if their link shows the schedule."),
            change=lambda: services.visit_move(
                actor=actor_of(request), visit_id=visit_id, version=forms.form_version(form), day=day, at=at,
                tz=request.user.timezone, worker_id=worker_id,
                double_booking_ok=form.values["move_double_booking_ok"] == "yes"))

    async def _change(self, request: Request, visit: dict, relation: ClientRelation, form: Form, *, ready: bool,
                      form_name: str, field: str, busy: str, done: str,
                      change: Callable[[], Awaitable[None]]) -> Response:
        """A coordinator's change to one visit: the form again with its messages (a clash: when the worker is
        busy, to confirm), the visit as it now is after someone else's change, or back to the visit."""
        if ready:
            try:
                await change()
            except services.VisitVersionConflict:
                return await self._conflict(request, visit["id"], relation)
            except services.VisitError as error:
                form.error(error.field if error.field in form.values else field, error.message)
            except services.VisitClash as clash:
                form.error(field, busy)
                return await self._page(request, visit, relation, status=409, **{
                    f"{form_name}_form": form, f"{form_name}_clashes": clash.clashes,
                    "free_slots": await _free_slots(request, clash)})
        if not form.ok:
            return await self._page(request, visit, relation, status=422, **{f"{form_name}_form": form})
        await flash_push(session_id=request.user.session_id, message=done)
        return Redirect(path=f"/visits/{visit['id']}", status_code=303)

    # --- logging the visit ---------------------------------------------------------------------

    async def _log_answer(self, request: Request, visit: dict, relation: ClientRelation, *, status: int = 200,
                          fragment: str = "visits/_visit_log.html", **log_state: Any) -> Response:
        """The log again: its `fragment` in place for htmx, otherwise the page (or back to it when all went well)."""
        log = await visit_log_context(request, relation, visit["id"], **log_state)
        if wants_fragment(request):
            # The page's header shows the visit's state too: the answer updates it alongside the log.
            return Template(fragment, context={"log": log, "visit": visit, "oob_state": True}, status_code=status)
        if status < 400:
            return Redirect(path=f"/visits/{visit['id']}#visit-log", status_code=303)
        return await self._page(request, visit, relation, status=status, log=log)

    @post("/{visit_id:int}/check-in", opt={"action": "visit.log"})
    async def check_in(self, request: Request, visit_id: FromPath[int]) -> Response:
        visit, relation = await self._visit(request, visit_id, "visit.log")
        try:
            await services.visit_check_in(actor=actor_of(request), visit_id=visit_id,
                                          key=forms.submitted_key(await request.form()))
        except services.VisitError as error:
            return await self._log_answer(request, visit, relation, status=409, check_in_error=error.message)
        return await self._log_answer(request, visit, relation)

    @post("/{visit_id:int}/check-out", opt={"action": "visit.log"})
    async def check_out(self, request: Request, visit_id: FromPath[int]) -> Response:
        visit, relation = await self._visit(request, visit_id, "visit.log")
        try:
            await services.visit_check_out(actor=actor_of(request), visit_id=visit_id,
                                           key=forms.submitted_key(await request.form()))
        except services.VisitLogIncomplete as incomplete:
            status = 409 if "check_out" in incomplete.problems else 422
            return await self._log_answer(request, visit, relation, status=status, problems=incomplete.problems,
                                          fragment="visits/_log_checked_out.html")
        return await self._log_answer(request, visit, relation, fragment="visits/_log_checked_out.html")

    @post("/{visit_id:int}/log/{section:str}", opt={"action": "visit.log"})
    async def log_save(self, request: Request, visit_id: FromPath[int], section: FromPath[str]) -> Response:
        """One section of the log, saved as it is entered; htmx gets the section's status (and what it now shows)."""
        if section not in rules.SECTIONS:
            raise NotFoundException()
        visit, relation = await self._visit(request, visit_id, "visit.log")
        form, values = forms.log_section_form(section, await request.form(), task_list=visit["task_list"])
        # What the screen shows: as typed. After a save that kept someone else's change of a field this person
        # did not touch, their screen still shows the older value; the next save compares with that, so a later
        # edit of that field meets the other change as a conflict instead of silently reverting it.
        view: dict[str, Any] = {"values": values, "errors": form.errors, "base": form.base}
        status = 422
        if form.ok:
            try:
                saved = await services.visit_log_save(
                    actor=actor_of(request), visit_id=visit_id, section=section, values=values,
                    base=forms.log_section_base(section, form), overwrite=form.values["overwrite"] == "yes")
            except services.VisitLogConflict as conflict:
                status, view["conflict"] = 409, conflict.stored
            except services.VisitError as error:
                status, view["errors"] = 409, {section: error.message}
            else:
                status = 200
                view.update(values=saved.values, base=rules.section_form_base(values), saved_at=clock.utcnow(),
                            late_edit=saved.late_edit)
        if wants_fragment(request):
            return Template("visits/_log_saved.html", status_code=status, context={
                "visit": visit, "section": {"name": section, **view}, "labels": forms.log_labels(),
                "tz": request.user.timezone})
        if status < 400:
            return Redirect(path=f"/visits/{visit_id}#log-{section}", status_code=303)
        log = await visit_log_context(request, relation, visit_id, sections={section: view})
        return await self._page(request, visit, relation, status=status, log=log)

    @post("/{visit_id:int}/times", opt={"action": "visit.log"})
    async def times_record(self, request: Request, visit_id: FromPath[int]) -> Response:
        """When the visit really began and ended, where that differs from the taps, with the reason."""
        visit, relation = await self._visit(request, visit_id, "visit.log")
        form, start, end, reason = forms.times_form(await request.form(), tz=request.user.timezone)
        if form.ok:
            try:
                await services.visit_times_record(actor=actor_of(request), visit_id=visit_id, start=start, end=end,
                                                  reason=reason)
            except services.VisitLogIncomplete as refused:
                for name, message in refused.problems.items():
                    form.error(name, message)
            except services.VisitError as error:
                form.error(error.field, error.message)
        if not form.ok:
            log = await visit_log_context(request, relation, visit_id, times_form=form)
            return await self._page(request, visit, relation, status=422, log=log)
        await flash_push(session_id=request.user.session_id,
                         message=_("The real times are recorded; the coordinator sees that they were given later."))
        return Redirect(path=f"/visits/{visit_id}#visit-times", status_code=303)

    async def _concern_page(self, request: Request, visit: dict, relation: ClientRelation, *, status: int = 200,
                            action_form: Optional[Form] = None, resolve_form: Optional[Form] = None,
                            error: str = "") -> Template:
        row = await queries.visit_log_of(visit_id=visit["id"])
        return Template("visits/concern.html", context={
            "visit": visit, "row": row, "client": await clients.client_name(client_id=visit["client"]),
            "labels": {**forms.labels(), **forms.log_labels()}, "tz": request.user.timezone, "error": error,
            "may_act": can_on(request.user, "visit.concern.resolve", relation),
            "action_form": action_form or Form(), "resolve_form": resolve_form or Form(),
            "form_keys": {"resolve": forms.idempotency_key()},
        }, status_code=status)

    @get("/{visit_id:int}/concern", opt={"action": "visit.concern.view"})
    async def concern_page(self, request: Request, visit_id: FromPath[int]) -> Template:
        """The concern itself and its flow: what the worker raised, who acknowledged it, what was done."""
        visit, relation = await self._visit(request, visit_id, "visit.concern.view")
        if not (await queries.visit_log_of(visit_id=visit_id))["concern"]:
            raise NotFoundException()
        await record_viewed(request, relation, "visit", visit=visit_id)
        return await self._concern_page(request, visit, relation)

    @post("/{visit_id:int}/concern/acknowledge", opt={"action": "visit.concern.resolve"})
    async def concern_acknowledge(self, request: Request, visit_id: FromPath[int]) -> Response:
        visit, relation = await self._visit(request, visit_id, "visit.concern.resolve")
        try:
            await services.visit_concern_acknowledge(actor=actor_of(request), visit_id=visit_id)
        except services.VisitError as error:
            return await self._concern_page(request, visit, relation, status=409, error=error.message)
        await flash_push(session_id=request.user.session_id,
                         message=_("You have acknowledged the concern; the team sees that you have it in hand."))
        return Redirect(path=f"/visits/{visit_id}/concern", status_code=303)

    @post("/{visit_id:int}/concern/action", opt={"action": "visit.concern.resolve"})
    async def concern_action(self, request: Request, visit_id: FromPath[int]) -> Response:
        visit, relation = await self._visit(request, visit_id, "visit.concern.resolve")
        form, note = forms.action_form(await request.form())
        if note is not None:
            try:
                await services.visit_concern_action(actor=actor_of(request), visit_id=visit_id, note=note)
            except services.VisitError as error:
                form.error("action_note", error.message)
        if not form.ok:
            return await self._concern_page(request, visit, relation, status=422, action_form=form)
        await flash_push(session_id=request.user.session_id, message=_("What was done is recorded."))
        return Redirect(path=f"/visits/{visit_id}/concern", status_code=303)

    @post("/{visit_id:int}/concern/resolve", opt={"action": "visit.concern.resolve"})
    async def concern_resolve(self, request: Request, visit_id: FromPath[int]) -> Response:
        visit, relation = await self._visit(request, visit_id, "visit.concern.resolve")
        data = await request.form()
        form, note = forms.resolve_form(data)
        if note is not None:
            try:
                await services.visit_concern_resolve(actor=actor_of(request), visit_id=visit_id,
                                                     key=forms.submitted_key(data), note=note)
            except services.VisitError as error:
                form.error("resolution", error.message)
        if not form.ok:
            return await self._concern_page(request, visit, relation, status=422, resolve_form=form)
        await flash_push(session_id=request.user.session_id, message=_("The concern is marked resolved."))
        return Redirect(path=f"/visits/{visit_id}/concern", status_code=303)


async def visit_log_context(request: Request, relation: ClientRelation, visit_id: int, *,
                            sections: Optional[dict[str, dict]] = None, problems: Optional[dict[str, str]] = None,
                            check_in_error: str = "", resolve_form: Optional[Form] = None,
                            times_form: Optional[Form] = None) -> Optional[dict]:
    """What the visit page shows of the log, and which of its forms this person may use; None if they may not see it.

    `sections` overrides what a section shows (values as sent, a message or a conflict) when a save was refused.
    """
    user = request.user
    if not can_on(user, "visit.log.view", relation):
        return None
    row = await queries.visit_log_of(visit_id=visit_id)
    now = clock.utcnow()
    grace = timedelta(minutes=row["grace_minutes"])
    staffed = row["worker_id"] is not None
    views: dict[str, dict] = {}
    for name in rules.SECTIONS:
        stored = rules.section_values(row, name)
        views[name] = {"name": name, "values": stored, "base": rules.section_form_base(stored),
                       "errors": {}, **(sections or {}).get(name, {})}
    problems = dict(problems or {})
    refusal = {name: problems[name] for name in ("location", "concern") if name in problems}
    for name in ("location", "concern"):
        if name in problems:
            views[name]["errors"] = {name: problems.pop(name)}
    is_worker = user.id == row["worker_id"]
    return {
        "row": row, "sections": views, "labels": forms.log_labels(), "tz": user.timezone,
        "attendance": rules.attendance(status=row["status"], staffed=staffed, scheduled_start=row["scheduled_start"],
                                       scheduled_end=row["scheduled_end"], check_in_at=row["check_in_at"],
                                       check_out_at=row["check_out_at"], now=now, grace=grace).value,
        "late_after": row["scheduled_start"] + grace,
        "checked_in_late": rules.checked_in_late(scheduled_start=row["scheduled_start"],
                                                 check_in_at=row["check_in_at"], grace=grace),
        "may_log": staffed and can_on(user, "visit.log", relation),
        "may_resolve": can_on(user, "visit.concern.resolve", relation),
        "on_behalf": not is_worker,
        "check_in_problem": rules.check_in_problem(
            status=row["status"], staffed=staffed, check_in_at=row["check_in_at"],
            scheduled_start=row["scheduled_start"], scheduled_end=row["scheduled_end"], now=now, tz=row["timezone"]),
        "check_in_error": check_in_error, "check_out_error": problems.get("check_out", ""),
        # What stops the check-out, summarised beside the button that was pressed, each linked to its field.
        "check_out_refusal": refusal, "check_out_refusal_ids": forms.check_out_problem_fields(refusal, row),
        "correctable_until": row["check_out_at"] + VISIT_CORRECTION_WINDOW if row["check_out_at"] and is_worker else None,
        "form_keys": {name: forms.idempotency_key() for name in ("check_in", "check_out", "resolve")},
        "resolve_form": resolve_form or Form(),
        # The real times, as recorded or as tapped, for the form that corrects them.
        "times_form": times_form or Form(values={
            "actual_start": forms.local_input(row["actual_start"] or row["check_in_at"], user.timezone),
            "actual_end": forms.local_input(row["actual_end"] or row["check_out_at"], user.timezone),
            "actual_reason": row["actual_reason"]}),
    }


# --- the coordinator's home: visits needing attention ------------------------------------------


@get("/caseload/visits", opt={"action": "caseload.visit_alerts", "background": True})
async def caseload_visits(request: Request) -> Template:
    """Today's late and missed visits and the open concerns of the coordinator's clients; the caseload polls it."""
    user = request.user
    relations = await clients.client_relations_of(user=user, today=today(request))
    client_ids = [r.client_id for r in relations if can_on(user, "visit.log.view", r)]
    start, end = queries.day_bounds(today(request), user.timezone)
    found = await queries.late_and_missed_visits(client_ids=client_ids, start=start, end=end, now=clock.utcnow(),
                                                 grace=user.visit_grace)
    late, missed = found["late"], found["missed"]
    concerns = await queries.open_concerns_for(client_ids=client_ids)
    later = await queries.times_recorded_later_for(client_ids=client_ids, start=start, end=end)
    for visit in late + missed + concerns + later:
        visit["client_name"] = _client_name(visit)
    context = {"late": late, "missed": missed, "concerns": concerns, "times_given_later": later, "labels": {**forms.labels(), **forms.log_labels()},
               "grace_minutes": user.visit_grace_minutes}
    if wants_fragment(request):
        return Template("visits/_caseload_alerts.html", context=context)
    return Template("visits/caseload_alerts.html", context=context)


def _client_name(row: dict) -> str:
    return clients.display_name({"first_name": row["client_first_name"], "last_name": row["client_last_name"],
                                 "preferred_name": row["client_preferred_name"]})


# --- the worker's calendar feed ---------------------------------------------------------------


class CalendarController(Controller):
    path = "/my-day/calendar"
    opt = {"action": "calendar.manage"}

    async def _page(self, request: Request, token: str = "") -> Template:
        feed = await queries.calendar_feed_of(user_id=request.user.id)
        url = absolute_link(f"/calendar/{token}.ics") if token else ""
        return Template("visits/calendar.html", context={"feed": feed, "url": url})

    @get("/")
    async def calendar_page(self, request: Request) -> Template:
        return await self._page(request)

    @post("/", status_code=200)
    async def calendar_create(self, request: Request) -> Template:
        token = await services.calendar_feed_create(actor=actor_of(request), user_id=request.user.id)
        return await self._page(request, token)

    @post("/revoke")
    async def calendar_revoke(self, request: Request) -> Redirect:
        await services.calendar_feed_revoke(actor=actor_of(request), user_id=request.user.id)
        await flash_push(session_id=request.user.session_id,
                         message=_("The calendar link was turned off. Calendars using it stop updating."))
        return Redirect(path="/my-day/calendar", status_code=303)


@get("/calendar/{token:str}", opt={"action": "public"})
async def calendar_feed(token: FromPath[str]) -> Response:
    """The feed itself: no session (calendar apps have none); the secret token in the URL is the key."""
    feed = await queries.calendar_feed_owner(token=token.removesuffix(".ics"))
    owner = feed and Person(id=feed["user_id"], facility_id=feed["facility_id"], role=feed["role"])
    if feed is None or not feed["active"] or not can(owner, "calendar.manage"):
        raise NotFoundException()
    now = clock.utcnow()
    visits = await queries.visits_for_feed(worker_id=feed["user_id"], start=now - timedelta(days=FEED_PAST_DAYS),
                                           end=now + timedelta(days=FEED_FUTURE_DAYS))
    await services.calendar_feed_read(feed=feed, client_ids=sorted({v["client_id"] for v in visits}))
    body = visits_calendar(visits=visits, kind_labels=kind_labels(), name=_("Kinward visits"), now=now,
                           installation=links_host())
    # Litestar adds "; charset=utf-8" to a text/* type itself.
    return Response(content=body, media_type="text/calendar",
                    headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
