"""Reads for the staff report and the dashboard: per-worker figures, the visits behind each figure,
supervision notes, and the dashboard's charts, each an aggregate in SQL (a fixed number of queries
whatever the history), shaped here as rows that the chart, its table and its CSV all show."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Optional
from zoneinfo import ZoneInfo

from piccolo.querystring import QueryString

from app.accounts.tables import Role, User
from app.clients.queries import review_due_counts, team_members_of_coordinator
from app.db import as_utc
from app.i18n import _
from app.liaison.queries import referral_counts_by_agency
from app.messages.queries import answer_overdue, unanswered_family_messages
from app.policy import WorkerRelation
from app.reports.tables import SupervisionNote
from app.visits import figures
from app.visits.tables import Visit

VISITS_LIST_LIMIT = 200
DASHBOARD_WEEKS = (4, 12, 26, 52)
DEFAULT_WEEKS = 12


# --- who stands how to a worker -----------------------------------------------------------------------


async def worker_relation(*, user: Any, worker_id: int, today: date) -> Optional[WorkerRelation]:
    """The policy's view of how `user` stands to a care worker of their facility; None when no such worker."""
    worker = await User.select(User.id, User.facility).where(
        (User.id == worker_id) & (User.facility == user.facility_id) & (User.role == Role.worker.value)
    ).first().run()
    if worker is None:
        return None
    coordinates = False
    if user.role == Role.coordinator.value:
        coordinates = await User.exists().where(
            (User.id == worker_id) & User.id.is_in(team_members_of_coordinator(user_id=user.id, today=today))).run()
    return WorkerRelation(worker_id=worker_id, facility_id=worker["facility"], self=worker_id == user.id,
                          coordinates=coordinates)


async def workers_for(*, user: Any, all_workers: bool, today: date) -> list[dict]:
    """The care workers whose figures the user may see: the facility's for an admin, their teams' for a coordinator."""
    query = User.select(User.id, User.display_name).where(
        (User.facility == user.facility_id) & (User.role == Role.worker.value) & (User.active == True))  # noqa: E712
    if not all_workers:
        query = query.where(User.id.is_in(team_members_of_coordinator(user_id=user.id, today=today)))
    return await query.order_by(User.display_name).order_by(User.id).run()


# --- staff figures --------------------------------------------------------------------------------------


def _scope_sql(client_ids: Optional[list[int]], facility_id: int) -> QueryString:
    """Visits of these clients (a coordinator's), or of every client of the facility (an admin's)."""
    if client_ids is None:
        return QueryString("v.client IN (SELECT id FROM client WHERE facility = {})", facility_id)
    if not client_ids:
        return QueryString("1 = 0")
    return QueryString("v.client IN (" + ", ".join("{}" for _ in client_ids) + ")", *client_ids)


async def staff_figures(*, facility_id: int, worker_ids: list[int], client_ids: Optional[list[int]],
                        start: datetime, end: datetime, now: datetime,
                        grace: timedelta) -> dict[int, dict[str, Any]]:
    """Per worker: the delivered-vs-planned figures of their visits in the period, and their median lateness."""
    if not worker_ids:
        return {}
    workers = QueryString("v.worker IN (" + ", ".join("{}" for _ in worker_ids) + ")", *worker_ids)
    rows = await Visit.raw(
        "SELECT v.worker AS worker, {} FROM visit v JOIN care_service s ON s.id = v.service "
        "WHERE {} AND {} AND v.scheduled_start >= {} AND v.scheduled_start < {} GROUP BY v.worker",
        figures.delivery_columns(now=now, grace=grace), workers, _scope_sql(client_ids, facility_id), start, end,
    ).run()
    # Early arrivals count as no lateness: the median says how late a typical visit began.
    lateness = await Visit.raw(
        f"SELECT v.worker AS worker, {figures.lateness_ms_sql()} AS ms FROM visit v "
        "WHERE {} AND {} AND v.scheduled_start >= {} AND v.scheduled_start < {} AND v.check_in_at IS NOT NULL",
        workers, _scope_sql(client_ids, facility_id), start, end,
    ).run()
    by_worker: dict[int, list[float]] = {}
    for row in lateness:
        by_worker.setdefault(row["worker"], []).append(max(0.0, float(row["ms"])))
    result = {}
    for worker_id in worker_ids:
        row = next((r for r in rows if r["worker"] == worker_id), None)
        result[worker_id] = {"figures": figures.delivery_figures(row),
                             "median_lateness": figures.median_minutes(by_worker.get(worker_id, []))}
    return result


FIGURES_BEHIND = ("planned", "completed", "missed", "cancelled", "late", "concerns", "late_edits", "summaries")


def _figure_sql(figure: str, *, now: datetime, grace: timedelta) -> QueryString:
    conditions: dict[str, Any] = {
        "planned": QueryString("1 = 1"), "completed": QueryString(figures.completed_sql()),
        "missed": figures.missed_sql(now), "cancelled": QueryString(figures.cancelled_sql()),
        "late": figures.late_sql(grace), "concerns": QueryString("v.concern"),
        "late_edits": QueryString("v.late_edit_at IS NOT NULL"),
        "summaries": QueryString(f"{figures.completed_sql()} AND v.family_summary_shared AND v.family_summary <> ''"),
    }
    return conditions[figure]


async def visits_behind(*, facility_id: int, worker_id: int, client_ids: Optional[list[int]], figure: str,
                        start: datetime, end: datetime, now: datetime, grace: timedelta) -> list[dict]:
    """The visits one figure of the staff report counts (the first VISITS_LIST_LIMIT, latest first)."""
    rows = await Visit.raw(
        "SELECT v.id, v.scheduled_start, v.status, v.check_in_at, s.kind AS kind, c.first_name AS client_first_name, "
        "c.last_name AS client_last_name FROM visit v JOIN care_service s ON s.id = v.service "
        "JOIN client c ON c.id = v.client "
        "WHERE v.worker = {} AND {} AND {} AND v.scheduled_start >= {} AND v.scheduled_start < {} "
        "ORDER BY v.scheduled_start DESC LIMIT {}",
        worker_id, _scope_sql(client_ids, facility_id), _figure_sql(figure, now=now, grace=grace), start, end,
        VISITS_LIST_LIMIT,
    ).run()
    for row in rows:
        row["scheduled_start"] = as_utc(row["scheduled_start"])
    return rows


# --- supervision notes ------------------------------------------------------------------------------------


async def supervision_notes_of(*, worker_id: int) -> list[dict]:
    """Every version of the worker's supervision note, newest first (the first is the note)."""
    return await SupervisionNote.select(
        SupervisionNote.id, SupervisionNote.version, SupervisionNote.body, SupervisionNote.created_at,
        SupervisionNote.author.display_name.as_alias("author_name"),
    ).where(SupervisionNote.worker == worker_id).order_by(SupervisionNote.version, ascending=False).run()


# --- the dashboard ------------------------------------------------------------------------------------------


def week_starts(*, today: date, weeks: int) -> list[date]:
    """The Mondays of the last `weeks` weeks, this week's last."""
    monday = today - timedelta(days=today.isoweekday() - 1)
    return [monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def local_midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)


def _week_index_sql(bounds: list[datetime]) -> QueryString:
    """Which week a visit falls in, by the UTC instants of local Monday midnights (right across clock changes)."""
    cases = " ".join("WHEN v.scheduled_start < {} THEN " + str(n) for n in range(len(bounds) - 1))
    return QueryString(f"CASE {cases} END", *bounds[1:])


@dataclass
class Chart:
    """One chart of the dashboard: its rows are what the SVG draws, the table lists and the CSV carries."""

    id: str
    title: str
    columns: list[str]  # the category's name, then one per series
    rows: list[list[Any]] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)  # one per series: how it is drawn without colour


async def weekly_visits(*, facility_id: int, client_ids: Optional[list[int]], tz: str, today: date, weeks: int,
                        now: datetime, grace: timedelta) -> list[dict]:
    """Per week: visits planned (not cancelled), delivered, missed and late; one query."""
    starts = week_starts(today=today, weeks=weeks)
    bounds = [local_midnight(day, tz) for day in starts] + [local_midnight(starts[-1] + timedelta(weeks=1), tz)]
    rows = await Visit.raw(
        "SELECT {} AS week, {} FROM visit v JOIN care_service s ON s.id = v.service "
        "WHERE {} AND v.worker IS NOT NULL AND v.scheduled_start >= {} AND v.scheduled_start < {} GROUP BY 1",
        _week_index_sql(bounds), figures.delivery_columns(now=now, grace=grace), _scope_sql(client_ids, facility_id),
        bounds[0], min(bounds[-1], now),
    ).run()
    by_week = {int(row["week"]): figures.delivery_figures(row) for row in rows if row["week"] is not None}
    result = []
    for n, start in enumerate(starts):
        f = by_week.get(n, figures.DeliveryFigures())
        result.append({"week": start, "planned": f.planned - f.cancelled, "delivered": f.completed,
                       "missed": f.missed, "late": f.late})
    return result


CONCERN_AGES = ("under_1_day", "1_to_7_days", "7_to_30_days", "over_30_days")


async def open_concerns_by_age(*, facility_id: int, client_ids: Optional[list[int]], now: datetime) -> dict[str, int]:
    raised = "COALESCE(v.check_out_at, v.check_in_at, v.scheduled_start)"
    rows = await Visit.raw(
        f"SELECT CASE WHEN {raised} >= {{}} THEN 'under_1_day' WHEN {raised} >= {{}} THEN '1_to_7_days' "
        f"WHEN {raised} >= {{}} THEN '7_to_30_days' ELSE 'over_30_days' END AS age, COUNT(*) AS count "
        "FROM visit v WHERE {} AND v.concern AND v.concern_resolved_at IS NULL GROUP BY 1",
        now - timedelta(days=1), now - timedelta(days=7), now - timedelta(days=30),
        _scope_sql(client_ids, facility_id),
    ).run()
    counts = {age: 0 for age in CONCERN_AGES}
    for row in rows:
        counts[row["age"]] = int(row["count"])
    return counts


async def unanswered_by_state(*, facility_id: int, client_ids: Optional[list[int]], now: datetime) -> dict[str, int]:
    """Family messages no one has answered: within the facility's limit, and past it."""
    rows = await unanswered_family_messages(client_ids=client_ids)
    counts = {"waiting": 0, "overdue": 0}
    for row in rows:
        if row["facility_id"] != facility_id:
            continue
        late = answer_overdue(asked_at=as_utc(row["created_at"]), now=now, limit_hours=row["limit_hours"])
        counts["overdue" if late else "waiting"] += 1
    return counts


async def overdue_referrals_by_agency(*, facility_id: int, client_ids: Optional[list[int]],
                                      today: date) -> list[tuple[str, int]]:
    """Referrals past their expected answer date with no answer, per agency (one query)."""
    rows = await referral_counts_by_agency(facility_id=facility_id, today=today, client_ids=client_ids)
    return [(r["agency_name"], r["overdue"]) for r in rows if r["overdue"]]


async def agency_figures(*, facility_id: int, client_ids: Optional[list[int]], since: datetime, until: datetime,
                        today: date) -> list[dict]:
    """Per agency, the referrals made in the period for these clients (a coordinator's; None: the facility's):
    sent, answered, median days to answer, accepted, declined, completed, overdue. Facts, in name order."""
    rows = await referral_counts_by_agency(facility_id=facility_id, since=since, until=until, today=today,
                                           client_ids=client_ids)
    for row in rows:
        by = row["by_status"]
        row["sent"] = row["total"] - by.get("draft", 0)
        row["answered"] = len(row["answer_days"])
        row["median_answer_days"] = round(statistics.median(row["answer_days"]), 1) if row["answer_days"] else None
        row["accepted"] = sum(by.get(s, 0) for s in ("accepted", "in_progress", "completed"))
        row["declined"] = by.get("declined", 0)
        row["completed"] = by.get("completed", 0)
    return rows


async def reviews_by_state(*, user: Any, all_clients: bool, today: date, soon: date) -> dict[str, int]:
    return await review_due_counts(user=user, all_clients=all_clients, today=today, soon=soon)


async def coordinators_of(*, facility_id: int) -> list[dict]:
    return await User.select(User.id, User.display_name).where(
        (User.facility == facility_id) & (User.role == Role.coordinator.value) & (User.active == True)  # noqa: E712
    ).order_by(User.display_name).run()


# --- chart shapes: pure, from a chart's rows -----------------------------------------------------------------

SVG_WIDTH = 720
SVG_HEIGHT = 260
PLOT_TOP = 24
PLOT_BOTTOM = 40  # room for the category labels
PLOT_LEFT = 40


def nice_ceiling(value: float) -> int:
    """The top of the value axis: the data's maximum rounded up to 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return 1
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale >= value:
                return step * scale
        scale *= 10


def bar_shapes(chart: Chart) -> dict[str, Any]:
    """Grouped bars for a chart's rows: where each bar goes, its value and its series' pattern.

    Every bar carries its value as text, so the chart reads without colour and without the patterns.
    """
    series = len(chart.columns) - 1
    rows = chart.rows or []
    top = nice_ceiling(max((float(v) for row in rows for v in row[1:]), default=0))
    plot_height = SVG_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    group_width = (SVG_WIDTH - PLOT_LEFT) / max(1, len(rows))
    bar_width = max(4.0, min(28.0, (group_width - 8) / max(1, series)))
    bars, labels = [], []
    for n, row in enumerate(rows):
        left = PLOT_LEFT + n * group_width + (group_width - bar_width * series) / 2
        for s, value in enumerate(row[1:]):
            height = plot_height * float(value) / top
            bars.append({"x": round(left + s * bar_width, 1), "y": round(PLOT_TOP + plot_height - height, 1),
                         "width": round(bar_width - 2, 1), "height": round(height, 1), "value": value,
                         "pattern": chart.patterns[s], "series": chart.columns[s + 1], "category": str(row[0])})
        labels.append({"x": round(PLOT_LEFT + n * group_width + group_width / 2, 1), "text": str(row[0])})
    ticks = [{"y": round(PLOT_TOP + plot_height - plot_height * t / 4, 1), "value": round(top * t / 4, 1)}
             for t in range(5)]
    return {"width": SVG_WIDTH, "height": SVG_HEIGHT, "bars": bars, "labels": labels, "ticks": ticks,
            "baseline": PLOT_TOP + plot_height, "left": PLOT_LEFT, "label_y": SVG_HEIGHT - PLOT_BOTTOM + 18}


@dataclass(frozen=True)
class DashboardScope:
    facility_id: int
    tz: str
    client_ids: Optional[list[int]]  # None: every client of the facility
    reviews_user: Any  # whose clients' review dates are counted (the coordinator, or the admin for all)
    all_clients: bool


async def dashboard_charts(*, scope: DashboardScope, today: date, weeks: int, now: datetime,
                           grace: timedelta) -> list[Chart]:
    """Every chart of the dashboard, in a fixed number of queries (one per chart) whatever the history."""
    weekly = await weekly_visits(facility_id=scope.facility_id, client_ids=scope.client_ids, tz=scope.tz,
                                 today=today, weeks=weeks, now=now, grace=grace)
    week_label = [w["week"].strftime("%d %b") for w in weekly]
    delivered = Chart(id="delivered", title=_("Visits delivered and planned, per week"),
                      columns=[_("Week of"), _("Planned"), _("Delivered")], patterns=["hatch", "solid"],
                      rows=[[label, w["planned"], w["delivered"]] for label, w in zip(week_label, weekly)])
    missed = Chart(id="missed-late", title=_("Visits missed and late, per week"),
                   columns=[_("Week of"), _("Missed"), _("Late")], patterns=["solid", "dots"],
                   rows=[[label, w["missed"], w["late"]] for label, w in zip(week_label, weekly)])
    reviews = await reviews_by_state(user=scope.reviews_user, all_clients=scope.all_clients, today=today,
                                     soon=today + timedelta(days=14))
    review_chart = Chart(id="reviews", title=_("Care reviews"), columns=[_("Review"), _("Clients")],
                         patterns=["solid"], rows=[[_("Overdue"), reviews["overdue"]],
                                                   [_("Due within two weeks"), reviews["due"]],
                                                   [_("Later"), reviews["later"]], [_("No date"), reviews["none"]]])
    unanswered = await unanswered_by_state(facility_id=scope.facility_id, client_ids=scope.client_ids, now=now)
    message_chart = Chart(id="messages", title=_("Family messages waiting for an answer"),
                          columns=[_("Waiting"), _("Messages")], patterns=["solid"],
                          rows=[[_("Within the answer time"), unanswered["waiting"]],
                                [_("Past the answer time"), unanswered["overdue"]]])
    concerns = await open_concerns_by_age(facility_id=scope.facility_id, client_ids=scope.client_ids, now=now)
    age_labels = {"under_1_day": _("Under a day"), "1_to_7_days": _("1 to 7 days"),
                  "7_to_30_days": _("7 to 30 days"), "over_30_days": _("Over 30 days")}
    concern_chart = Chart(id="concerns", title=_("Open concerns by age"), columns=[_("Open for"), _("Concerns")],
                          patterns=["solid"], rows=[[age_labels[age], concerns[age]] for age in CONCERN_AGES])
    referrals = await overdue_referrals_by_agency(facility_id=scope.facility_id, client_ids=scope.client_ids,
                                                 today=today)
    referral_chart = Chart(id="referrals", title=_("Referrals past their answer date, per agency"),
                           columns=[_("Agency"), _("Referrals")], patterns=["solid"],
                           rows=[[name, count] for name, count in referrals] or [[_("None"), 0]])
    return [delivered, missed, review_chart, message_chart, concern_chart, referral_chart]
