"""Reads about care plans: versions, goals, services, and the services the schedule is made from."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any, Optional

from app import db
from app.accounts.tables import Role, User
from app.careplans.tables import CarePlan, Goal, GoalNote, PlanStatus, Service
from app.careplans.schedule import ServiceRule

PLAN_FIELDS = ("summary", "starts_on", "review_due", "ends_on")
GOAL_FIELDS = ("description", "target_date", "status")
SERVICE_FIELDS = ("kind", "worker_id", "provider_name", "weekdays", "start_time", "duration_minutes", "starts_on",
                  "ends_on", "instructions", "tasks")

_SERVICE_COLUMNS = (
    Service.id, Service.plan, Service.lineage, Service.kind, Service.provider_name, Service.weekdays,
    Service.start_time, Service.duration_minutes, Service.starts_on, Service.ends_on, Service.instructions,
    Service.tasks, Service.version, Service.worker.id.as_alias("worker_id"),
    Service.worker.display_name.as_alias("worker_name"),
)


def weekdays_of(text: str) -> frozenset[int]:
    return frozenset(int(part) for part in text.split(",") if part.strip().isdigit())


def weekdays_text(days: frozenset[int] | set[int]) -> str:
    return ",".join(str(d) for d in sorted(days))


def _service_row(row: dict) -> dict:
    row["weekday_set"] = weekdays_of(row["weekdays"])
    row["task_list"] = json.loads(row["tasks"] or "[]")
    row["lineage"] = row["lineage"] or row["id"]
    start = datetime.combine(date.min, row["start_time"])
    row["time_range"] = f"{start:%H:%M}–{start + timedelta(minutes=row['duration_minutes']):%H:%M}"
    return row


def effective_rule(service: dict, plan: dict) -> ServiceRule:
    """The service's rule within its plan's dates: a service never runs before the plan starts or after it ends."""
    starts_on = max(service["starts_on"], plan["starts_on"])
    ends = [d for d in (service["ends_on"], plan["ends_on"]) if d is not None]
    return ServiceRule(weekdays=weekdays_of(service["weekdays"]) if isinstance(service["weekdays"], str)
                       else frozenset(service["weekdays"]), start_time=service["start_time"],
                       duration_minutes=service["duration_minutes"], starts_on=starts_on,
                       ends_on=min(ends) if ends else None)


_PLAN = db.Prebuilt(lambda plan_id: CarePlan.select(
    *CarePlan.all_columns(exclude=[CarePlan.created_by, CarePlan.activated_by, CarePlan.closed_by]),
    CarePlan.created_by.display_name.as_alias("created_by_name"),
    CarePlan.activated_by.display_name.as_alias("activated_by_name"),
    CarePlan.closed_by.display_name.as_alias("closed_by_name"),
).where(CarePlan.id == plan_id).first())
_PLAN_IN_STATUS = db.Prebuilt(lambda client_id, status: CarePlan.select(CarePlan.id).where(
    (CarePlan.client == client_id) & (CarePlan.status == status)).first())


async def plan_by_id(*, plan_id: int) -> Optional[dict]:
    return await _PLAN.first(plan_id=plan_id)


async def plan_in_status(*, client_id: int, status: PlanStatus) -> Optional[dict]:
    row = await _PLAN_IN_STATUS.first(client_id=client_id, status=status.value)
    return await plan_by_id(plan_id=row["id"]) if row else None


async def active_plan_of(*, client_id: int) -> Optional[dict]:
    return await plan_in_status(client_id=client_id, status=PlanStatus.active)


async def latest_plan_of(*, client_id: int) -> Optional[dict]:
    """The plan a new version starts from: the active one, else the most recent version."""
    active = await plan_in_status(client_id=client_id, status=PlanStatus.active)
    if active is not None:
        return active
    row = await CarePlan.select(CarePlan.id).where(
        (CarePlan.client == client_id) & (CarePlan.status != PlanStatus.draft.value)
    ).order_by(CarePlan.version, ascending=False).first().run()
    return await plan_by_id(plan_id=row["id"]) if row else None


async def plan_versions_of(*, client_id: int) -> list[dict]:
    return await CarePlan.select(
        CarePlan.id, CarePlan.version, CarePlan.status, CarePlan.starts_on, CarePlan.review_due, CarePlan.ends_on,
        CarePlan.activated_at, CarePlan.closed_at, CarePlan.activated_by.display_name.as_alias("activated_by_name"),
    ).where(CarePlan.client == client_id).order_by(CarePlan.version, ascending=False).run()


async def plan_version_of(*, client_id: int, version: int) -> Optional[dict]:
    row = await CarePlan.select(CarePlan.id).where(
        (CarePlan.client == client_id) & (CarePlan.version == version)
    ).first().run()
    return await plan_by_id(plan_id=row["id"]) if row else None


async def goals_of(*, plan_id: int) -> list[dict]:
    rows = await Goal.select().where(Goal.plan == plan_id).order_by(Goal.id).run()
    for row in rows:
        row["lineage"] = row["lineage"] or row["id"]
    return rows


_SERVICES = db.Prebuilt(lambda plan_id: Service.select(*_SERVICE_COLUMNS).where(Service.plan == plan_id).order_by(
    Service.start_time).order_by(Service.id))


async def services_of(*, plan_id: int) -> list[dict]:
    rows = await _SERVICES.rows(plan_id=plan_id)
    return [_service_row(row) for row in rows]


async def plan_with_parts(*, plan_id: int) -> Optional[dict]:
    plan = await plan_by_id(plan_id=plan_id)
    if plan is None:
        return None
    plan["goals"] = await goals_of(plan_id=plan_id)
    plan["services"] = await services_of(plan_id=plan_id)
    return plan


async def goal_of(*, plan_id: int, goal_id: int) -> Optional[dict]:
    return await Goal.select().where((Goal.id == goal_id) & (Goal.plan == plan_id)).first().run()


async def goal_in_force(*, client_id: int, goal_id: int) -> Optional[dict]:
    """A goal of one of the client's activated plan versions (notes are written against those, never a draft's)."""
    row = await Goal.select(Goal.id, Goal.lineage, Goal.description, Goal.status, Goal.target_date,
                            Goal.plan.version.as_alias("plan_version")).where(
        (Goal.id == goal_id) & (Goal.plan.client == client_id) & (Goal.plan.status != PlanStatus.draft.value)
    ).first().run()
    if row is not None:
        row["lineage"] = row["lineage"] or row["id"]
    return row


_NOTE_COLUMNS = (GoalNote.id, GoalNote.goal_lineage, GoalNote.body, GoalNote.version, GoalNote.created_at,
                 GoalNote.corrected_at, GoalNote.author.id.as_alias("author_id"),
                 GoalNote.author.display_name.as_alias("author_name"))


async def goal_notes_of(*, client_id: int, lineage: int) -> list[dict]:
    """The notes written against a goal, in every plan version, newest first."""
    return await GoalNote.select(*_NOTE_COLUMNS).where(
        (GoalNote.client == client_id) & (GoalNote.goal_lineage == lineage)
    ).order_by(GoalNote.created_at, ascending=False).order_by(GoalNote.id, ascending=False).run()


async def goal_note_of(*, client_id: int, note_id: int) -> Optional[dict]:
    return await GoalNote.select(*_NOTE_COLUMNS).where(
        (GoalNote.id == note_id) & (GoalNote.client == client_id)).first().run()


async def goal_note_counts(*, client_id: int) -> dict[int, int]:
    """How many notes each of the client's goals (by lineage) has."""
    rows = await GoalNote.raw(
        "SELECT goal_lineage, COUNT(*) AS n FROM care_goal_note WHERE client = {} GROUP BY goal_lineage", client_id
    ).run()
    return {row["goal_lineage"]: int(row["n"]) for row in rows}


async def goal_notes_written(*, client_id: int, start: datetime, end: datetime) -> dict[int, list[dict]]:
    """The notes written in [start, end), oldest first, by goal lineage (a review's period)."""
    rows = await GoalNote.select(*_NOTE_COLUMNS).where(
        (GoalNote.client == client_id) & (GoalNote.created_at >= start) & (GoalNote.created_at < end)
    ).order_by(GoalNote.created_at).order_by(GoalNote.id).run()
    by_lineage: dict[int, list[dict]] = {}
    for row in rows:
        by_lineage.setdefault(row["goal_lineage"], []).append(row)
    return by_lineage


async def service_of(*, plan_id: int, service_id: int) -> Optional[dict]:
    row = await Service.select(*_SERVICE_COLUMNS).where(
        (Service.id == service_id) & (Service.plan == plan_id)
    ).first().run()
    return _service_row(row) if row else None


async def workers_of(*, facility_id: int) -> list[dict]:
    """The care workers of the facility who can provide a service."""
    return await User.select(User.id, User.display_name).where(
        (User.facility == facility_id) & (User.active == True)  # noqa: E712 (Piccolo builds SQL from ==)
        & (User.role == Role.worker.value)
    ).order_by(User.display_name).run()


async def worker_services_elsewhere(*, worker_id: int, client_id: int) -> list[dict]:
    """The worker's services in the active plans of other clients, with their plan's dates (to find clashes)."""
    rows = await Service.select(
        *_SERVICE_COLUMNS, Service.plan.starts_on.as_alias("plan_starts_on"),
        Service.plan.ends_on.as_alias("plan_ends_on"), Service.plan.client.id.as_alias("client_id"),
        Service.plan.client.first_name.as_alias("client_first_name"),
        Service.plan.client.last_name.as_alias("client_last_name"),
    ).where(
        (Service.worker == worker_id) & (Service.plan.status == PlanStatus.active.value)
        & (Service.plan.client != client_id)
    ).run()
    return [_service_row(row) for row in rows]


async def services_to_schedule(*, client_ids: Optional[list[int]] = None) -> list[dict]:
    """The services of every active plan of an active client, with what the schedule needs to expand them."""
    query = Service.select(
        *_SERVICE_COLUMNS, Service.plan.starts_on.as_alias("plan_starts_on"),
        Service.plan.ends_on.as_alias("plan_ends_on"), Service.plan.client.id.as_alias("client_id"),
        Service.plan.client.facility.id.as_alias("facility_id"),
        Service.plan.client.facility.timezone.as_alias("timezone"),
    ).where(
        (Service.plan.status == PlanStatus.active.value) & (Service.plan.client.status == "active")
    )
    if client_ids is not None:
        if not client_ids:
            return []
        query = query.where(Service.plan.client.is_in(client_ids))
    return [_service_row(row) for row in await query.run()]


def plan_dates(row: dict) -> dict[str, Any]:
    """A service row's plan dates, in the shape effective_rule() takes."""
    return {"starts_on": row["plan_starts_on"], "ends_on": row["plan_ends_on"]}


def review_state(review_due: Optional[date], today: date, soon_days: int = 14) -> str:
    """"overdue", "due" (within `soon_days`), or "" for a plan's review date."""
    if review_due is None:
        return ""
    if review_due < today:
        return "overdue"
    return "due" if (review_due - today).days <= soon_days else ""
