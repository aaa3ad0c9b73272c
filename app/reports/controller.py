"""The staff report (per care worker, facts not scores), supervision notes, a worker's own figures,
and the dashboard with its charts and their CSV."""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace
from typing import Any, Optional

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app import clock, db
from app.audit.services import audit_record
from app.careplans import forms as plan_forms
from app.clients import queries as clients
from app.i18n import _
from app.policy import WorkerRelation, can, can_on
from app.reports import forms, queries, services
from app.reviews.queries import period_bounds
from app.web.auth import actor_of
from app.web.forms import Form, keyed, submitted_key
from app.clients.records import today, wants_fragment
from app.web.sessions import flash_push
from app.web.submissions import created_once


async def _worker(request: Request, worker_id: int, action: str) -> WorkerRelation:
    """The relation to the worker if the policy allows `action`; otherwise 404, never 403."""
    relation = await queries.worker_relation(user=request.user, worker_id=worker_id, today=today(request))
    if relation is None or not can_on(request.user, action, relation):
        raise NotFoundException()
    return relation


async def _client_scope(request: Request) -> Optional[list[int]]:
    """Whose visits count: a coordinator's clients; an admin's facility (None); a worker's own visits (None)."""
    if request.user.role == "coordinator":
        return await clients.coordinator_client_ids(user_id=request.user.id, today=today(request))
    return None


class StaffReportController(Controller):
    path = "/reports/staff"

    async def _figures(self, request: Request, worker_ids: list[int], period: forms.Period) -> dict[int, dict]:
        start, end = period_bounds(start=period.start, end=period.end, tz=request.user.timezone)
        client_ids, grace = await _client_scope(request), request.user.visit_grace
        with db.reads_aside():  # a period's figures for every worker: not on the event loop
            return await queries.staff_figures(facility_id=request.user.facility_id, worker_ids=worker_ids,
                                               client_ids=client_ids, start=start, end=end, now=clock.utcnow(),
                                               grace=grace)

    @get("/", opt={"action": "reports.staff"})
    async def staff_report(self, request: Request) -> Template:
        """Per care worker over a period: facts side by side, in name order (never a ranking)."""
        form, period = forms.period_form(request.query_params, today=today(request))
        workers = await queries.workers_for(user=request.user, all_workers=can(request.user, "client.list_all"),
                                            today=today(request))
        by_worker = await self._figures(request, [w["id"] for w in workers], period)
        rows = [{**worker, **by_worker[worker["id"]]} for worker in workers]
        return Template("reports/staff.html", status_code=200 if form.ok else 422, context={
            "rows": rows, "form": form, "period": period, "labels": forms.figure_labels()})

    @get("/me", opt={"action": "reports.staff.own"})
    async def own_figures(self, request: Request) -> Template:
        """A care worker's own figures: the same facts their coordinators see, and nobody else's."""
        form, period = forms.period_form(request.query_params, today=today(request))
        mine = (await self._figures(request, [request.user.id], period))[request.user.id]
        return Template("reports/worker.html", status_code=200 if form.ok else 422, context={
            "worker": {"id": request.user.id, "display_name": request.user.display_name}, "own": True,
            "row": mine, "form": form, "period": period, "labels": forms.figure_labels(), "notes": [],
            "note_form": Form(), "may_note": False})

    async def _worker_page(self, request: Request, worker_id: int, *, note_form: Optional[Form] = None,
                           status: int = 200) -> Template:
        relation = await _worker(request, worker_id, "reports.staff")
        form, period = forms.period_form(request.query_params, today=today(request))
        row = (await self._figures(request, [worker_id], period))[worker_id]
        workers = await queries.workers_for(user=request.user, all_workers=True, today=today(request))
        worker = next(w for w in workers if w["id"] == worker_id) if any(w["id"] == worker_id for w in workers) \
            else {"id": worker_id, "display_name": _("A former worker")}
        may_note = can_on(request.user, "supervision.edit", relation)
        notes = await queries.supervision_notes_of(worker_id=worker_id) if may_note else []
        note_form = note_form or keyed(Form(values={"body": notes[0]["body"] if notes else "",
                                                    "based_on": str(notes[0]["version"] if notes else 0)}))
        await audit_record(actor=actor_of(request), action="reports.staff_viewed", object_type="worker",
                           object_id=worker_id, detail={"period": [period.start.isoformat(), period.end.isoformat()]})
        return Template("reports/worker.html", status_code=status if form.ok else 422, context={
            "worker": worker, "own": False, "row": row, "form": form, "period": period, "labels": forms.figure_labels(),
            "notes": notes, "note_form": note_form, "may_note": may_note})

    @get("/{worker_id:int}", opt={"action": "reports.staff"})
    async def worker_report(self, request: Request, worker_id: FromPath[int]) -> Template:
        return await self._worker_page(request, worker_id)

    @post("/{worker_id:int}/note", opt={"action": "supervision.edit"})
    async def note_save(self, request: Request, worker_id: FromPath[int]) -> Template | Redirect:
        await _worker(request, worker_id, "supervision.edit")
        data = await request.form()
        form, based_on, body = forms.note_form(data)
        keyed(form, data)
        if not form.ok or based_on is None:
            return await self._worker_page(request, worker_id, note_form=form, status=422)
        actor = actor_of(request)
        try:
            # A repeat of this sending (a double click) is the same save, not a newer version to refuse.
            await created_once(user_id=actor.user_id, form="supervision_note", key=submitted_key(data), create=lambda: (
                services.supervision_note_save(actor=actor, facility_id=request.user.facility_id, worker_id=worker_id,
                                               based_on=based_on, body=body)))
        except services.SupervisionVersionConflict as conflict:
            form.values["based_on"] = str(conflict.stored["version"])
            form.error("body", _("Someone saved a newer version meanwhile: “{stored}”. Your text is kept here; "
                                 "save again to replace theirs.").format(stored=conflict.stored["body"]))
            return await self._worker_page(request, worker_id, note_form=form, status=409)
        except services.SupervisionError as error:
            form.error(error.field, error.message)
            return await self._worker_page(request, worker_id, note_form=form, status=422)
        await flash_push(session_id=request.user.session_id, message=_("The supervision note was saved."))
        return Redirect(path=f"/reports/staff/{worker_id}", status_code=303)

    @get("/{worker_id:int}/visits", opt={"action": "reports.staff.figures"})
    async def visits_behind(self, request: Request, worker_id: FromPath[int]) -> Template:
        """The visits one figure counts: each figure of the report links here."""
        await _worker(request, worker_id, "reports.staff.figures")
        form, period = forms.period_form(request.query_params, today=today(request))
        figure = form.values.get("figure") or "planned"
        if figure not in queries.FIGURES_BEHIND:
            raise NotFoundException()
        start, end = period_bounds(start=period.start, end=period.end, tz=request.user.timezone)
        visits = await queries.visits_behind(facility_id=request.user.facility_id, worker_id=worker_id,
                                             client_ids=await _client_scope(request), figure=figure, start=start,
                                             end=end, now=clock.utcnow(), grace=request.user.visit_grace)
        return Template("reports/visits.html", context={
            "visits": visits, "figure": figure, "labels": forms.figure_labels(), "period": period, "worker_id": worker_id,
            "kinds": plan_forms.kind_labels(), "limit": queries.VISITS_LIST_LIMIT,
            "back": "/reports/staff/me" if worker_id == request.user.id else f"/reports/staff/{worker_id}"})


@get("/reports/agencies", opt={"action": "reports.agencies"})
async def agencies_report(request: Request) -> Template:
    """Per agency over a period: the referrals made and what came of them."""
    form, period = forms.period_form(request.query_params, today=today(request))
    start, end = period_bounds(start=period.start, end=period.end, tz=request.user.timezone)
    # A coordinator sees what the agencies did for their own clients; an admin, for the whole facility.
    client_ids = await _client_scope(request)
    with db.reads_aside():
        rows = await queries.agency_figures(facility_id=request.user.facility_id, client_ids=client_ids, since=start,
                                            until=end, today=today(request))
    return Template("reports/agencies.html", status_code=200 if form.ok else 422,
                    context={"rows": rows, "form": form, "period": period, "facility_wide": client_ids is None})


# --- the dashboard ----------------------------------------------------------------------------------------


class DashboardController(Controller):
    path = "/dashboard"
    opt = {"action": "dashboard.view"}

    async def _charts(self, request: Request) -> dict[str, Any]:
        user = request.user
        form, weeks, team = forms.dashboard_form(request.query_params)
        coordinators = await queries.coordinators_of(facility_id=user.facility_id) if can(
            user, "client.list_all") else []
        if user.role == "coordinator":
            scope = queries.DashboardScope(facility_id=user.facility_id, tz=user.timezone, reviews_user=user,
                                           client_ids=await clients.coordinator_client_ids(user_id=user.id,
                                                                                          today=today(request)),
                                           all_clients=False)
        elif team is not None and any(c["id"] == team for c in coordinators):
            scope = queries.DashboardScope(
                facility_id=user.facility_id, tz=user.timezone, all_clients=False,
                reviews_user=SimpleNamespace(id=team, facility_id=user.facility_id, role="coordinator"),
                client_ids=await clients.coordinator_client_ids(user_id=team, today=today(request)))
        else:
            if team is not None:
                form.error("team", _("Choose one of the teams."))
            form.values["team"] = ""
            scope = queries.DashboardScope(facility_id=user.facility_id, tz=user.timezone, client_ids=None,
                                           reviews_user=user, all_clients=True)
        grace = request.user.visit_grace
        # Up to a year of the facility's visits: tens of seconds at scale on SQLite, which would hold up
        # every other request if read on the event loop (benchmarks/loop_stall.py).
        with db.reads_aside():
            charts = await queries.dashboard_charts(scope=scope, today=today(request), weeks=weeks, now=clock.utcnow(),
                                                    grace=grace)
        query = {k: v for k, v in form.values.items() if v}
        return {"charts": [{"chart": c, "shape": queries.bar_shapes(c)} for c in charts], "form": form,
                "weeks_options": forms.weeks_options(), "team_options": forms.team_options(coordinators),
                "query": query}

    @get("/")
    async def dashboard(self, request: Request) -> Template:
        context = await self._charts(request)
        status = 200 if context["form"].ok else 422
        if wants_fragment(request):
            return Template("reports/_charts.html", context=context, status_code=status)
        return Template("reports/dashboard.html", context=context, status_code=status)

    @get("/csv/{chart_id:str}")
    async def chart_csv(self, request: Request, chart_id: FromPath[str]) -> Response:
        """One chart's data as CSV: the same rows the chart draws and its table lists."""
        context = await self._charts(request)
        chart = next((c["chart"] for c in context["charts"] if c["chart"].id == chart_id), None)
        if chart is None:
            raise NotFoundException()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(chart.columns)
        writer.writerows(chart.rows)
        return Response(content=buffer.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="kinward-{chart.id}.csv"'})
