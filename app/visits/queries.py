"""Reads about visits: week grids, a worker's day, the team's week, calendar feeds, and what other features show."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Optional
from zoneinfo import ZoneInfo

from piccolo.columns.combination import WhereRaw
from piccolo.querystring import QueryString

from app import db
from app.db import as_utc
from app.clients import queries as clients
from app.visits import rules
from app.careplans.schedule import DURATION_MAX, StoredVisit, double_booked
from app.policy import ClientRelation, Principal, can_on
from app.visits.tables import CalendarFeed, Visit, VisitStatus
from app.web.tokens import token_hash

# A worker may open the record of a client they visit from this many days before to this many after.
VISIT_WINDOW_DAYS = 1
# Visits that still need someone to turn up (the "next visit" of the caseload, clashes, the feed).
LIVE_STATUSES = (VisitStatus.scheduled.value, VisitStatus.in_progress.value)
# A visit with a concern, written as the partial index `visit_open_concern` says it: PostgreSQL's generic plan
# of a prepared statement cannot use that index for `concern = $1`, whatever value is bound.
CONCERN_RAISED = WhereRaw('"visit"."concern" = true')

_VISIT_COLUMNS = (
    Visit.id, Visit.client, Visit.scheduled_start, Visit.scheduled_end, Visit.status, Visit.reassigned,
    Visit.cancel_reason, Visit.version, Visit.check_in_at, Visit.check_out_at, Visit.moved_from, Visit.extra,
    Visit.worker.id.as_alias("worker_id"),
    Visit.worker.display_name.as_alias("worker_name"), Visit.service.id.as_alias("service_id"),
    Visit.service.kind.as_alias("kind"), Visit.service.provider_name.as_alias("provider_name"),
)


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """The UTC instants at which the facility's local `day` starts and the next one starts."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(timezone.utc)
    return start, end


def first_name_of(display_name: Optional[str]) -> str:
    return (display_name or "").split(" ")[0]


def _busy_query(workers: Any, start: Any, until: Any, since: Any) -> Any:
    # `since`: no visit lasts longer than a service may (DURATION_MAX), so one that ends after `start` began after
    # `start - DURATION_MAX`; saying so keeps the read to the window instead of the worker's whole history.
    return Visit.select(Visit.id, Visit.worker, Visit.scheduled_start, Visit.scheduled_end).where(
        workers & Visit.status.is_in(list(LIVE_STATUSES)) & (Visit.scheduled_start < until)
        & (Visit.scheduled_start > since) & (Visit.scheduled_end > start))


# One worker's (My day, a visit's own worker): the same select, built once.
_WORKER_BUSY = db.Prebuilt(lambda worker_id, start, until, since: _busy_query(
    Visit.worker == worker_id, start, until, since))


async def _with_flags(rows: list[dict], start: datetime, end: datetime) -> list[dict]:
    """Mark the visits whose worker is expected elsewhere at the same time (any client: one query)."""
    workers = sorted({r["worker_id"] for r in rows if r["worker_id"] is not None})
    busy = []
    until, since = end + timedelta(days=1), start - timedelta(minutes=DURATION_MAX)
    if len(workers) == 1:
        busy = await _WORKER_BUSY.rows(worker_id=workers[0], start=start, until=until, since=since)
    elif workers:
        busy = await _busy_query(Visit.worker.is_in(workers), start, until, since).run()
    clashes = double_booked((b["id"], b["worker"], b["scheduled_start"], b["scheduled_end"]) for b in busy)
    for row in rows:
        row["double_booked"] = row["id"] in clashes and row["status"] in LIVE_STATUSES
    return rows


def with_states(visits: list[dict], *, grace: timedelta, now: datetime) -> list[dict]:
    """Each visit's derived state at `now` (late, missed, in progress...), by the facility's grace time."""
    for visit in visits:
        visit["state"] = rules.visit_state(visit, now=now, grace=grace).value
    return visits


# --- what the schedule generator compares ---------------------------------------------------


async def stored_visits_after(*, after: datetime, client_ids: Optional[list[int]] = None) -> dict[int, list[StoredVisit]]:
    """Every visit starting (or moved from a time) after `after`, whatever its status, per client (for schedule_changes)."""
    query = Visit.select(Visit.id, Visit.client, Visit.service, Visit.service.lineage.as_alias("lineage"),
                         Visit.worker, Visit.scheduled_start, Visit.scheduled_end, Visit.status,
                         Visit.reassigned, Visit.moved_from, Visit.extra).where(
        (Visit.scheduled_start > after) | (Visit.moved_from > after))
    if client_ids is not None:
        if not client_ids:
            return {}
        query = query.where(Visit.client.is_in(client_ids))
    by_client: dict[int, list[StoredVisit]] = {}
    for row in await query.run():
        by_client.setdefault(row["client"], []).append(StoredVisit(
            id=row["id"], lineage=row["lineage"] or row["service"], service_id=row["service"],
            worker_id=row["worker"], start=row["scheduled_start"], end=row["scheduled_end"], status=row["status"],
            reassigned=row["reassigned"], moved_from=as_utc(row["moved_from"]), extra=bool(row["extra"])))
    return by_client


# --- pages ------------------------------------------------------------------------------------


_CLIENT_VISITS = db.Prebuilt(lambda client_id, start, end: Visit.select(
    *_VISIT_COLUMNS, Visit.service.instructions.as_alias("instructions"), Visit.service.tasks.as_alias("tasks"),
).where((Visit.client == client_id) & (Visit.scheduled_start >= start) & (Visit.scheduled_start < end)).order_by(
    Visit.scheduled_start))


async def visits_of_client(*, client_id: int, start: datetime, end: datetime) -> list[dict]:
    """The client's visits from `start` to `end` (UTC), with what each one is and who goes."""
    rows = await _CLIENT_VISITS.rows(client_id=client_id, start=start, end=end)
    for row in rows:
        row["task_list"] = json.loads(row.pop("tasks") or "[]")
    return await _with_flags(rows, start, end)


_WORKER_VISITS = db.Prebuilt(lambda worker_id, start, end: Visit.select(
    *_VISIT_COLUMNS, Visit.service.instructions.as_alias("instructions"), Visit.service.tasks.as_alias("tasks"),
    Visit.client.first_name.as_alias("client_first_name"), Visit.client.last_name.as_alias("client_last_name"),
    Visit.client.preferred_name.as_alias("client_preferred_name"),
).where((Visit.worker == worker_id) & (Visit.scheduled_start >= start) & (Visit.scheduled_start < end)).order_by(
    Visit.scheduled_start))


async def visits_of_worker(*, worker_id: int, start: datetime, end: datetime) -> list[dict]:
    """A worker's visits from `start` to `end`, in time order, with the client and the service's instructions."""
    rows = await _WORKER_VISITS.rows(worker_id=worker_id, start=start, end=end)
    for row in rows:
        row["task_list"] = json.loads(row.pop("tasks") or "[]")
    return await _with_flags(rows, start, end)


# --- what each viewer may see (privacy lives here, not in the pages) -----------------------------


# Without the service's instructions and checklist: the family's week never reads them.
_CLIENT_WEEK = db.Prebuilt(lambda client_id, start, end: Visit.select(*_VISIT_COLUMNS).where(
    (Visit.client == client_id) & (Visit.scheduled_start >= start) & (Visit.scheduled_start < end)).order_by(
    Visit.scheduled_start))

# What the family reads of a visit in their relative's week: when, what, who (a first name), what became of it.
FAMILY_WEEK_FIELDS = ("scheduled_start", "scheduled_end", "status", "state", "kind", "moved_from", "extra",
                      "worker_name", "provider_name", "may_open")


async def week_for(*, user: Principal, relation: ClientRelation, start: datetime, end: datetime,
                   now: datetime, grace: timedelta) -> list[dict]:
    """The client's visits from `start` to `end` as this viewer may see them, each with its state at `now`
    (by the facility's `grace`) and whether this viewer may open it.

    Those the schedule's details are for (the team, an admin) get everything; anyone else who may
    see the schedule (a family member whose link allows it) gets only FAMILY_WEEK_FIELDS: when, what,
    the worker's first name and the state; instructions and checklists are never read, and no
    worker id, check-in time, cancellation reason or double booking is returned. Nobody else gets anything.
    """
    if not can_on(user, "schedule.view", relation):
        return []
    details = can_on(user, "schedule.details", relation)
    if details:
        rows = await visits_of_client(client_id=relation.client_id, start=start, end=end)
    else:
        rows = await _CLIENT_WEEK.rows(client_id=relation.client_id, start=start, end=end)
    rows = with_states(rows, grace=grace, now=now)
    for row in rows:
        row["may_open"] = can_on(user, "visit.view", replace(relation, own_visit=row["worker_id"] == user.id))
    if details:
        return rows
    return [{k: row[k] for k in FAMILY_WEEK_FIELDS} | {"worker_name": first_name_of(row["worker_name"])}
            for row in rows]


async def my_day_for(*, user: Principal, start: datetime, end: datetime,
                     today: date) -> tuple[list[dict], list[ClientRelation]]:
    """A worker's visits from `start` to `end`, each with what the worker may know of the client.

    A client the worker may open (on the team, or a visit in the window) comes with their
    need-to-know record and the visit's instructions and checklist; any other client is a first
    name, and the visit carries no instructions. Also returns the relations of the records shown,
    for the caller to audit each read.
    """
    visits = await visits_of_worker(worker_id=user.id, start=start, end=end)
    # A few queries for the whole list, however many clients are on it.
    relations = await clients.client_relations_for(user=user, client_ids=[v["client"] for v in visits], today=today)
    shown = [r for r in relations.values() if can_on(user, "client.view", r)]
    found = await clients.client_records(client_ids=[r.client_id for r in shown], confidential=False)
    records: dict[int, Optional[dict]] = {v["client"]: None for v in visits}
    for relation in shown:
        records[relation.client_id] = found[relation.client_id]
    for visit in visits:
        record = records[visit["client"]]
        visit["client"] = record or {"id": visit["client"], "name": visit["client_first_name"]}
        if record is None:
            visit.update(instructions="", task_list=[])
    return visits, shown


HANDOVER_CONCERNS = 10


_LAST_NOTE = db.Prebuilt(lambda client_id, visit_id, before: Visit.select(
    Visit.id, Visit.scheduled_start, Visit.internal_note, Visit.worker.display_name.as_alias("worker_name"),
    Visit.service.kind.as_alias("kind"),
).where((Visit.client == client_id) & (Visit.id != visit_id) & (Visit.scheduled_start < before)
        & Visit.check_in_at.is_not_null() & (Visit.internal_note != "")).order_by(
    Visit.scheduled_start, ascending=False).first())
_OPEN_CONCERNS = db.Prebuilt(lambda client_id: Visit.select(
    Visit.id, Visit.scheduled_start, Visit.concern_severity, Visit.concern_text, Visit.concern_acknowledged_at,
    Visit.concern_action_note, Visit.worker.display_name.as_alias("worker_name"),
).where((Visit.client == client_id) & CONCERN_RAISED
        & Visit.concern_resolved_at.is_null()).order_by(Visit.scheduled_start, ascending=False).limit(
    HANDOVER_CONCERNS))


async def handover_for(*, user: Principal, relation: ClientRelation, visit: dict) -> Optional[dict]:
    """What the person going to a visit should know first, as this viewer may know it; None if not for them.

    The client's need-to-know record (address, allergies, risks) under the same rule as My day's card
    (`client.view`: on the team, or a visit in the window; never the confidential fields), the note of the
    client's last logged visit before this one, and the client's open concerns. The team's notes are
    messages', composed above (app/pages/handover.py).
    """
    if not can_on(user, "visit.handover", relation):
        return None
    client_id = relation.client_id
    record = None
    if can_on(user, "client.view", relation):
        record = await clients.client_record(client_id=client_id, confidential=False)
    last = await _LAST_NOTE.first(client_id=client_id, visit_id=visit["id"], before=visit["scheduled_start"])
    concerns = await _OPEN_CONCERNS.rows(client_id=client_id)
    return {"record": record, "last_note": last, "concerns": concerns, "team_notes": None}


async def visits_of_team(*, facility_id: int, start: datetime, end: datetime,
                         client_ids: Optional[list[int]] = None) -> list[dict]:
    """Who visits whom when: the visits of the given clients (or of the whole facility) in the period."""
    query = Visit.select(
        *_VISIT_COLUMNS, Visit.client.first_name.as_alias("client_first_name"),
        Visit.client.last_name.as_alias("client_last_name"),
    ).where((Visit.client.facility == facility_id) & (Visit.scheduled_start >= start) & (Visit.scheduled_start < end))
    if client_ids is not None:
        if not client_ids:
            return []
        query = query.where(Visit.client.is_in(client_ids))
    return await _with_flags(await query.order_by(Visit.scheduled_start).run(), start, end)


_DETAIL = db.Prebuilt(lambda visit_id: Visit.select(
    *_VISIT_COLUMNS, Visit.service.instructions.as_alias("instructions"), Visit.service.tasks.as_alias("tasks"),
    Visit.client.first_name.as_alias("client_first_name"), Visit.client.last_name.as_alias("client_last_name"),
    Visit.client.facility.as_alias("facility_id"), Visit.cancelled_at,
    Visit.cancelled_by.display_name.as_alias("cancelled_by_name"),
).where(Visit.id == visit_id).first())


async def visit_detail(*, visit_id: int) -> Optional[dict]:
    row = await _DETAIL.first(visit_id=visit_id)
    if row is not None:
        row["task_list"] = json.loads(row.pop("tasks") or "[]")
    return row


async def visit_at(*, service_id: int, start: datetime, visit_id: Optional[int] = None) -> bool:
    """Whether the service already has a visit starting at `start` (one visit per service and start)."""
    query = Visit.exists().where((Visit.service == service_id) & (Visit.scheduled_start == start))
    if visit_id is not None:
        query = query.where(Visit.id != visit_id)
    return await query.run()


_OWNER = db.Prebuilt(lambda visit_id: Visit.select(Visit.id, Visit.client, Visit.worker, Visit.check_out_at).where(
    Visit.id == visit_id).first())


async def visit_owner(*, visit_id: int) -> Optional[dict]:
    """The visit's client and worker, and when it was checked out, for the policy."""
    return await _OWNER.first(visit_id=visit_id)


async def clashes_for(*, worker_id: int, start: datetime, end: datetime, visit_id: Optional[int] = None) -> list[dict]:
    """When the worker is busy with other live visits that overlap `start`..`end` (a double booking if they took this one)."""
    # When only, never whom: the other visit may be of a client the person asking may not see.
    query = Visit.select(Visit.id, Visit.scheduled_start, Visit.scheduled_end).where((Visit.worker == worker_id) & Visit.status.is_in(list(LIVE_STATUSES))
            & (Visit.scheduled_start < end) & (Visit.scheduled_end > start))
    if visit_id is not None:
        query = query.where(Visit.id != visit_id)
    return await query.order_by(Visit.scheduled_start).run()


async def free_slots_for(*, worker_id: int, day: date, tz: str, minutes: int, now: datetime,
                         visit_id: Optional[int] = None) -> list[tuple[datetime, datetime]]:
    """When the worker is free for `minutes` on the facility's `day`, within rules.WORKING_HOURS and from `now`
    (to the next 5 minutes) on: times only, never whom they visit (offered when a booking clashes)."""
    zone = ZoneInfo(tz)
    soonest = now.replace(second=0, microsecond=0)
    soonest += timedelta(minutes=(1 if soonest < now else 0))
    soonest += timedelta(minutes=-soonest.minute % 5)
    opens = max(datetime.combine(day, rules.WORKING_HOURS[0], tzinfo=zone).astimezone(timezone.utc), soonest)
    closes = datetime.combine(day, rules.WORKING_HOURS[1], tzinfo=zone).astimezone(timezone.utc)
    busy = await clashes_for(worker_id=worker_id, start=opens, end=closes, visit_id=visit_id)
    return rules.free_slots(busy=[(as_utc(b["scheduled_start"]), as_utc(b["scheduled_end"])) for b in busy],
                            opens=opens, closes=closes, minutes=minutes)


# --- the visit log ------------------------------------------------------------------------------


_LOG = db.Prebuilt(lambda visit_id: Visit.select(
    Visit.id, Visit.client, Visit.status, Visit.scheduled_start, Visit.scheduled_end, Visit.version,
    Visit.worker.id.as_alias("worker_id"), Visit.worker.display_name.as_alias("worker_name"),
    Visit.service.tasks.as_alias("tasks"), Visit.client.facility.as_alias("facility_id"),
    Visit.client.facility.timezone.as_alias("timezone"),
    Visit.client.facility.visit_grace_minutes.as_alias("grace_minutes"),
    Visit.check_in_at, Visit.check_in_by.id.as_alias("check_in_by"),
    Visit.check_in_by.display_name.as_alias("check_in_by_name"), Visit.check_out_at,
    Visit.check_out_by.id.as_alias("check_out_by"), Visit.check_out_by.display_name.as_alias("check_out_by_name"),
    Visit.location, Visit.location_note, Visit.tasks_done, Visit.internal_note, Visit.family_summary,
    Visit.family_summary_shared, Visit.concern, Visit.concern_severity, Visit.concern_text,
    Visit.concern_resolved_at, Visit.concern_resolved_by.display_name.as_alias("concern_resolved_by_name"),
    Visit.concern_resolution, Visit.late_edit_at, Visit.late_edit_by.display_name.as_alias("late_edit_by_name"),
    Visit.actual_start, Visit.actual_end, Visit.actual_reason, Visit.actual_recorded_at,
    Visit.actual_by.display_name.as_alias("actual_by_name"),
    Visit.client.first_name.as_alias("client_first_name"), Visit.concern_raised_at, Visit.concern_emailed_at,
    Visit.concern_acknowledged_at, Visit.concern_acknowledged_by.display_name.as_alias("concern_acknowledged_by_name"),
    Visit.concern_action_note, Visit.concern_actioned_at,
    Visit.concern_actioned_by.display_name.as_alias("concern_actioned_by_name"), Visit.concern_escalated_at,
).where(Visit.id == visit_id).first())


async def visit_log_of(*, visit_id: int) -> Optional[dict]:
    """Everything logged about one visit, with who did what, the checklist, and the facility's rules of time."""
    row = await _LOG.first(visit_id=visit_id)
    if row is not None:
        row["task_list"] = json.loads(row.pop("tasks") or "[]")
        row["tasks_done"] = json.loads(row["tasks_done"] or "[]")
        row["family_summary_shared"] = bool(row["family_summary_shared"])
        row["concern"] = bool(row["concern"])
    return row


async def visits_awaiting_check_in(*, client_ids: list[int], start: datetime, end: datetime) -> list[dict]:
    """The care workers' visits to these clients from `start` to `end` that nobody has checked in."""
    if not client_ids:
        return []
    return await Visit.select(
        Visit.id, Visit.client, Visit.status, Visit.scheduled_start, Visit.scheduled_end, Visit.check_in_at,
        Visit.check_out_at, Visit.worker.display_name.as_alias("worker_name"), Visit.service.kind.as_alias("kind"),
        Visit.client.first_name.as_alias("client_first_name"), Visit.client.last_name.as_alias("client_last_name"),
        Visit.client.preferred_name.as_alias("client_preferred_name"),
    ).where(Visit.client.is_in(client_ids) & (Visit.scheduled_start >= start) & (Visit.scheduled_start < end)
            & (Visit.status == VisitStatus.scheduled.value) & Visit.worker.is_not_null()
            & Visit.check_in_at.is_null()).order_by(Visit.scheduled_start).run()


async def late_and_missed_visits(*, client_ids: list[int], start: datetime, end: datetime, now: datetime,
                                 grace: timedelta) -> dict[str, list[dict]]:
    """Of the care workers' visits to these clients from `start` to `end`, the late and the missed ones at `now`."""
    found: dict[str, list[dict]] = {rules.Attendance.late.value: [], rules.Attendance.missed.value: []}
    for visit in await visits_awaiting_check_in(client_ids=client_ids, start=start, end=end):
        state = rules.attendance(status=visit["status"], staffed=True, scheduled_start=visit["scheduled_start"],
                                 scheduled_end=visit["scheduled_end"], check_in_at=None, check_out_at=None, now=now,
                                 grace=grace)
        if state.value in found:
            found[state.value].append(visit)
    return found


async def open_concerns_for(*, client_ids: list[int]) -> list[dict]:
    """Concerns flagged at visits to these clients that no coordinator has resolved yet, most serious first."""
    if not client_ids:
        return []
    rows = await Visit.select(
        Visit.id, Visit.client, Visit.scheduled_start, Visit.concern_severity, Visit.concern_acknowledged_at,
        Visit.worker.display_name.as_alias("worker_name"), Visit.service.kind.as_alias("kind"),
        Visit.client.first_name.as_alias("client_first_name"), Visit.client.last_name.as_alias("client_last_name"),
        Visit.client.preferred_name.as_alias("client_preferred_name"),
    ).where(Visit.client.is_in(client_ids) & CONCERN_RAISED
            & Visit.concern_resolved_at.is_null()).order_by(Visit.scheduled_start, ascending=False).run()
    most_serious_first = {severity: n for n, severity in enumerate(reversed(rules.SEVERITIES))}
    return sorted(rows, key=lambda row: most_serious_first.get(row["concern_severity"], len(rules.SEVERITIES)))


async def unacknowledged_high_concerns() -> list[dict]:
    """High concerns raised, still open, that no coordinator acknowledged and nobody escalated yet (any facility)."""
    return await Visit.select(
        Visit.id, Visit.client, Visit.concern_raised_at, Visit.client.facility.id.as_alias("facility_id"),
        Visit.client.facility.concern_escalation_minutes.as_alias("escalation_minutes"),
        Visit.client.first_name.as_alias("client_first_name"),
    ).where(CONCERN_RAISED & (Visit.concern_severity == "high")
            & Visit.concern_raised_at.is_not_null() & Visit.concern_acknowledged_at.is_null()
            & Visit.concern_resolved_at.is_null() & Visit.concern_escalated_at.is_null()).run()


# --- for other features -------------------------------------------------------------------------


def next_visit_sql(*, after: datetime) -> QueryString:
    """A column for a select over `client`: the start of each client's next visit still to come.

    The caseload adds it to its page query, so the next visit costs no query of its own.
    """
    return QueryString(
        "(SELECT MIN(upcoming.scheduled_start) FROM visit upcoming WHERE upcoming.client = client.id "
        "AND upcoming.status = 'scheduled' AND upcoming.scheduled_start > {})", after,
    )


def open_concerns_count_sql() -> QueryString:
    """A column for a select over `client`: how many concerns raised at its visits nobody has resolved yet."""
    return QueryString(
        "(SELECT COUNT(*) FROM visit concerned WHERE concerned.client = client.id AND concerned.concern = {} "
        "AND concerned.concern_resolved_at IS NULL)", True,
    )


def missed_count_sql(*, start: datetime, end: datetime, now: datetime) -> QueryString:
    """A column for a select over `client`: its care workers' visits starting from `start` to `end` that are
    missed at `now` (rules.attendance: staffed, not cancelled, nobody checked in, and the visit's end passed)."""
    return QueryString(
        "(SELECT COUNT(*) FROM visit unattended WHERE unattended.client = client.id "
        "AND unattended.status = 'scheduled' AND unattended.worker IS NOT NULL "
        "AND unattended.check_in_at IS NULL AND unattended.check_out_at IS NULL "
        "AND unattended.scheduled_start >= {} AND unattended.scheduled_start < {} AND unattended.scheduled_end < {})",
        start, end, now,
    )


async def worker_visits_clients(*, worker_id: int, client_ids: list[int], today: date, tz: str) -> set[int]:
    """Which of the clients the worker has a visit with within the visit window around today (one query)."""
    if not client_ids:
        return set()
    start, _end = day_bounds(today - timedelta(days=VISIT_WINDOW_DAYS), tz)
    _start, end = day_bounds(today + timedelta(days=VISIT_WINDOW_DAYS), tz)
    rows = await Visit.select(Visit.client).where(
        (Visit.worker == worker_id) & Visit.client.is_in(client_ids) & (Visit.scheduled_start >= start)
        & (Visit.scheduled_start < end) & (Visit.status != VisitStatus.cancelled.value)
    ).distinct().run()
    return {r["client"] for r in rows}


SHARED_SUMMARIES = 10
_SHARED_SUMMARIES = db.Prebuilt(lambda client_id: Visit.select(
    Visit.scheduled_start, Visit.check_in_at, Visit.check_out_at, Visit.actual_start, Visit.actual_end,
    Visit.family_summary, Visit.service.kind.as_alias("kind"), Visit.worker.display_name.as_alias("worker_name"),
).where((Visit.client == client_id) & (Visit.family_summary_shared == True)  # noqa: E712
        & (Visit.status == VisitStatus.completed.value) & (Visit.family_summary != "")).order_by(
    Visit.scheduled_start, ascending=False).limit(SHARED_SUMMARIES))


async def shared_summaries_for(*, user: Principal, relation: ClientRelation) -> list[dict]:
    """The latest SHARED_SUMMARIES completed visits whose summary the team marked as shared with the family, for a
    family member whose link shows them (the worker by first name); nothing for anyone else."""
    if not can_on(user, "visit.summaries.shared", relation):
        return []
    rows = await _SHARED_SUMMARIES.rows(client_id=relation.client_id)
    # When the visit really happened: the times the worker recorded, else the taps on Check in and out.
    return [{"began_at": row["actual_start"] or row["check_in_at"] or row["scheduled_start"],
             "ended_at": row["actual_end"] or row["check_out_at"], "kind": row["kind"],
             "worker_first_name": first_name_of(row["worker_name"]), "family_summary": row["family_summary"]}
            for row in rows]


async def times_recorded_later_for(*, client_ids: list[int], start: datetime, end: datetime) -> list[dict]:
    """Visits from `start` to `end` whose real times were recorded apart from the taps: for the coordinator to check."""
    if not client_ids:
        return []
    return await Visit.select(
        Visit.id, Visit.client, Visit.scheduled_start, Visit.actual_start, Visit.actual_end, Visit.actual_reason,
        Visit.actual_by.display_name.as_alias("actual_by_name"), Visit.service.kind.as_alias("kind"),
        Visit.client.first_name.as_alias("client_first_name"), Visit.client.last_name.as_alias("client_last_name"),
        Visit.client.preferred_name.as_alias("client_preferred_name"),
    ).where(Visit.client.is_in(client_ids) & Visit.actual_recorded_at.is_not_null()
            & (Visit.scheduled_start >= start) & (Visit.scheduled_start < end)).order_by(Visit.scheduled_start).run()


# --- calendar feeds -----------------------------------------------------------------------------


async def calendar_feed_of(*, user_id: int) -> Optional[dict]:
    return await CalendarFeed.select(CalendarFeed.id, CalendarFeed.created_at, CalendarFeed.last_used_at).where(
        (CalendarFeed.user == user_id) & CalendarFeed.revoked_at.is_null()).first().run()


async def calendar_feed_owner(*, token: str) -> Optional[dict]:
    """The worker behind a live feed token (an active worker account), or None."""
    return await CalendarFeed.select(
        CalendarFeed.id, CalendarFeed.user.id.as_alias("user_id"), CalendarFeed.user.role.as_alias("role"),
        CalendarFeed.user.active.as_alias("active"), CalendarFeed.user.facility.id.as_alias("facility_id"),
        CalendarFeed.user.facility.timezone.as_alias("timezone"), CalendarFeed.user.email.as_alias("email"),
    ).where((CalendarFeed.token_hash == token_hash(token)) & CalendarFeed.revoked_at.is_null()).first().run()


async def visits_for_feed(*, worker_id: int, start: datetime, end: datetime) -> list[dict]:
    """What a calendar feed may carry: times, service kind and the client's first name, nothing else."""
    return await Visit.select(
        Visit.id, Visit.scheduled_start, Visit.scheduled_end, Visit.status, Visit.client.id.as_alias("client_id"),
        Visit.client.first_name.as_alias("client_first_name"), Visit.service.kind.as_alias("kind"),
        Visit.updated_at, Visit.version,
    ).where((Visit.worker == worker_id) & (Visit.scheduled_start >= start) & (Visit.scheduled_start < end)).order_by(
        Visit.scheduled_start).run()


# --- what liaison shares with providers -------------------------------------------------------


async def visits_with_outcomes(*, client_id: int, start: datetime, end: datetime) -> list[dict]:
    """The client's visits planned from `start` to `end` (UTC) with what happened: for summaries and exports."""
    return await Visit.select(
        Visit.id, Visit.scheduled_start, Visit.scheduled_end, Visit.status, Visit.check_in_at, Visit.check_out_at,
        Visit.location, Visit.location_note, Visit.concern, Visit.concern_severity, Visit.concern_text,
        Visit.family_summary, Visit.family_summary_shared, Visit.service.kind.as_alias("kind"),
        Visit.worker.id.as_alias("worker_id"), Visit.worker.display_name.as_alias("worker_name"),
    ).where((Visit.client == client_id) & (Visit.scheduled_start >= start) & (Visit.scheduled_start < end)
            & (Visit.status != VisitStatus.cancelled.value)).order_by(Visit.scheduled_start).run()
