"""Visits: a client's week, a worker's day, the team's week, one visit, and the worker's calendar feed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any, Optional
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
from app.policy import ClientRelation, can
from app.visits import forms, queries, services
from app.visits.calendar import visits_calendar
from app.visits.schedule import week_start
from app.web.auth import actor_of
from app.web.forms import Form
from app.web.sessions import flash_push

FEED_PAST_DAYS = 7
FEED_FUTURE_DAYS = 42


def wants_fragment(request: Request) -> bool:
    """An htmx request for a part of the page (a history restore asks for the whole page)."""
    return bool(request.headers.get("hx-request")) and not request.headers.get("hx-history-restore-request")


def today(request: Request) -> date:
    return clock.today_in(request.user.timezone)


def day_param(value: str, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


async def relation_for(request: Request, client_id: int, action: str) -> ClientRelation:
    """The user's relation to the client if the policy allows `action` on it; otherwise 404, never 403."""
    relation = await clients.client_relation(user=request.user, client_id=client_id, today=today(request))
    if relation is None or not can(request.user, action, relation):
        raise NotFoundException()
    return relation


async def record_viewed(request: Request, relation: ClientRelation, page: str, **detail: Any) -> None:
    if relation.break_glass and relation.team_role is None:
        detail["break_glass"] = True
    await audit_record(actor=actor_of(request), action="client.viewed", client_id=relation.client_id,
                       object_type="client", object_id=relation.client_id, detail={"page": page, **detail})


def labels() -> dict[str, Any]:
    return {"kinds": kind_labels(), "statuses": forms.status_labels()}


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
        tz = request.user.timezone
        first = week_start(day_param(week, today(request)))
        start, _end = queries.day_bounds(first, tz)
        _start, end = queries.day_bounds(first + timedelta(days=6), tz)
        visits = await queries.visits_of_client(client_id=client_id, start=start, end=end)
        details = can(request.user, "schedule.details", relation)
        for visit in visits:
            visit["may_open"] = can(request.user, "visit.view",
                                    replace(relation, own_visit=visit["worker_id"] == request.user.id))
        if not details:
            for visit in visits:
                # The family's view: when, what, and who by first name; nothing the team keeps to itself.
                visit.update(instructions="", task_list=[], cancel_reason="", double_booked=False,
                             worker_name=queries.first_name_of(visit["worker_name"]))
        await record_viewed(request, relation, "visits", week=first.isoformat())
        context = {
            "client": await clients.client_name(client_id=client_id), "days": week_days(first, visits, tz),
            "week": first, "previous": first - timedelta(days=7), "next": first + timedelta(days=7),
            "this_week": week_start(today(request)), "today": today(request), "details": details,
            "may_manage": can(request.user, "visit.manage", relation), "may_plan": can(request.user, "plan.view", relation),
            "labels": labels(),
        }
        if wants_fragment(request):
            return Template("visits/_week_grid.html", context=context)
        return Template("visits/week.html", context=context)


# --- the worker's day -------------------------------------------------------------------------


@get("/my-day", opt={"action": "my_day.view"})
async def my_day_page(request: Request, day: FromQuery[str] = "") -> Template:
    user = request.user
    shown = day_param(day, today(request))
    start, end = queries.day_bounds(shown, user.timezone)
    visits = await queries.visits_of_worker(worker_id=user.id, start=start, end=end)
    needs: dict[int, Optional[dict]] = {}
    for client_id in dict.fromkeys(v["client"] for v in visits):
        relation = await clients.client_relation(user=user, client_id=client_id, today=today(request))
        if relation is not None and can(user, "client.view", relation):
            needs[client_id] = await clients.client_record(client_id=client_id, confidential=False)
            await record_viewed(request, relation, "my_day", day=shown.isoformat())
        else:
            needs[client_id] = None
    for visit in visits:
        visit["client"] = needs.get(visit["client"]) or {"id": visit["client"], "name": visit["client_first_name"]}
        if needs.get(visit["client"]["id"]) is None:
            visit.update(instructions="", task_list=[])
    context = {"visits": visits, "day": shown, "today": today(request), "previous": shown - timedelta(days=1),
               "next": shown + timedelta(days=1), "labels": labels()}
    if wants_fragment(request):
        return Template("visits/_my_day_visits.html", context=context)
    return Template("visits/my_day.html", context=context)


# --- the team's week --------------------------------------------------------------------------


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
    visits = await queries.visits_of_team(facility_id=user.facility_id, start=start, end=end, client_ids=client_ids)
    rows: dict[Optional[int], dict] = {}
    for visit in visits:
        row = rows.setdefault(visit["worker_id"], {
            "name": visit["worker_name"] or _("No care worker (other provider)"), "visits": []})
        row["visits"].append(visit)
    workers = sorted(rows.values(), key=lambda r: (r["name"] == _("No care worker (other provider)"), r["name"]))
    for row in workers:
        row["days"] = week_days(first, row.pop("visits"), tz)
    await audit_record(actor=actor_of(request), action="schedule.team_viewed", object_type="schedule",
                       object_id=first.isoformat(), detail={"clients": sorted({v["client"] for v in visits})})
    context = {"workers": workers, "week": first, "days": [first + timedelta(days=n) for n in range(7)],
               "previous": first - timedelta(days=7), "next": first + timedelta(days=7),
               "this_week": week_start(today(request)), "today": today(request), "labels": labels(),
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
        relation = replace(relation, own_visit=owner["worker"] == request.user.id)
        if not can(request.user, action, relation):
            raise NotFoundException()
        visit = await queries.visit_detail(visit_id=visit_id)
        return visit, relation

    async def _page(self, request: Request, visit: dict, relation: ClientRelation, *, status: int = 200,
                    cancel_form: Optional[Form] = None, reassign_form: Optional[Form] = None,
                    clashes: Optional[list[dict]] = None, error: str = "") -> Template:
        may_manage = can(request.user, "visit.manage", relation)
        return Template("visits/visit.html", context={
            "visit": visit, "client": await clients.client_name(client_id=visit["client"]),
            "may_manage": may_manage, "labels": labels(), "error": error,
            "may_restore": visit["status"] == "cancelled" and visit["scheduled_start"] > clock.utcnow(),
            "workers": await plans.workers_of(facility_id=request.user.facility_id) if may_manage else [],
            "cancel_form": cancel_form or Form(values={"version": str(visit["version"])}),
            "reassign_form": reassign_form or Form(values={"version": str(visit["version"]),
                                                           "worker_id": str(visit["worker_id"] or "")}),
            "clashes": clashes or [],
        }, status_code=status)

    @get("/{visit_id:int}", opt={"action": "visit.view"})
    async def visit_page(self, request: Request, visit_id: FromPath[int]) -> Template:
        visit, relation = await self._visit(request, visit_id, "visit.view")
        await record_viewed(request, relation, "visit", visit=visit_id)
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
        if worker_id is not None:
            try:
                await services.visit_reassign(actor=actor_of(request), visit_id=visit_id,
                                              version=forms.form_version(form), worker_id=worker_id,
                                              double_booking_ok=form.values["double_booking_ok"] == "yes")
            except services.VisitVersionConflict:
                return await self._conflict(request, visit_id, relation)
            except services.VisitError as error:
                form.error("worker_id", error.message)
            except services.VisitClash as clash:
                form.error("worker_id", _("This worker has another visit at this time. Choose someone else, or "
                                          "confirm the double booking below."))
                return await self._page(request, visit, relation, reassign_form=form, clashes=clash.clashes,
                                        status=409)
        if not form.ok:
            return await self._page(request, visit, relation, reassign_form=form, status=422)
        await flash_push(session_id=request.user.session_id, message=_("The visit was given to another worker."))
        return Redirect(path=f"/visits/{visit_id}", status_code=303)


# --- the worker's calendar feed ---------------------------------------------------------------


class CalendarController(Controller):
    path = "/my-day/calendar"
    opt = {"action": "calendar.manage"}

    async def _page(self, request: Request, token: str = "") -> Template:
        feed = await queries.calendar_feed_of(user_id=request.user.id)
        url = f"{str(request.base_url).rstrip('/')}/calendar/{token}.ics" if token else ""
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
    if feed is None or not feed["active"] or feed["role"] != "worker":
        raise NotFoundException()
    now = clock.utcnow()
    visits = await queries.visits_for_feed(worker_id=feed["user_id"], start=now - timedelta(days=FEED_PAST_DAYS),
                                           end=now + timedelta(days=FEED_FUTURE_DAYS))
    await services.calendar_feed_read(feed=feed, client_ids=sorted({v["client_id"] for v in visits}))
    body = visits_calendar(visits=visits, kind_labels=kind_labels(), name=_("Kinward visits"), now=now)
    return Response(content=body, media_type="text/calendar; charset=utf-8",
                    headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
