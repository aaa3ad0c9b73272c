"""Writes and rules for visits: keeping the schedule in step with the plans, cancelling, reassigning, logging, feeds."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Awaitable, Callable, Optional
from zoneinfo import ZoneInfo

from app import clock, db
from app.accounts.queries import user_in_facility, users_for
from app.accounts.tables import Role
from app.audit.services import Actor, audit_record
from app.careplans import queries as plans
from app.clients import queries as clients
from app.errors import FieldError, VersionConflict
from app.i18n import _
from app.mail.services import outbox_enqueue
from app.web.links import absolute_link
from app.visits import queries, rules
from app.careplans.schedule import (CHANGEABLE_STATUSES, PlannedVisit, ScheduleChanges, expand, schedule_changes,
                                   slot_on)
from app.visits.tables import CalendarFeed, Visit, VisitStatus
from app.web.forms import merge_three_way
from app.web.submissions import created_once
from app.web.tokens import token_hash, token_new

log = logging.getLogger("kinward.schedule")

DEFAULT_HORIZON_DAYS = 14
# How often a running app tops the horizon up; every process does it, the unique slot index makes that safe.
KEEPER_INTERVAL_SECONDS = 15 * 60
INSERT_CHUNK = 200
SYSTEM = "kinward schedule"


class VisitError(FieldError):
    """A rule refused the change; `field` names the form field the message belongs next to."""


class VisitVersionConflict(VersionConflict):
    """Someone changed the visit since this page was shown; `stored` is the visit now."""


class VisitClash(Exception):
    """The new worker has other visits at that time (a double booking); `clashes` lists them."""

    def __init__(self, clashes: list[dict], *, worker_id: int, start: datetime, end: datetime,
                 visit_id: Optional[int] = None) -> None:
        super().__init__("double booking")
        self.clashes = clashes
        # The booking asked for, so the answer can offer the worker's free times that day instead.
        self.worker_id, self.start, self.end, self.visit_id = worker_id, start, end, visit_id


# --- the schedule -----------------------------------------------------------------------------------


@dataclass
class ScheduleResult:
    created: int = 0
    removed: int = 0
    updated: int = 0
    clients: list[int] = field(default_factory=list)


def planned_visits(rows: list[dict], *, now: datetime, horizon_days: int) -> dict[int, list[PlannedVisit]]:
    """Per client, the visits the active services call for, from the facility's today over the horizon."""
    planned: dict[int, list[PlannedVisit]] = {}
    for row in rows:
        today = now.astimezone(ZoneInfo(row["timezone"])).date()
        rule = plans.effective_rule(row, plans.plan_dates(row))
        for slot in expand(rule, today, today + timedelta(days=horizon_days - 1), row["timezone"]):
            planned.setdefault(row["client_id"], []).append(PlannedVisit(
                lineage=row["lineage"], service_id=row["id"], client_id=row["client_id"],
                worker_id=row["worker_id"], start=slot.start, end=slot.end))
    return planned


async def schedule_sync(*, now: datetime, horizon_days: int = DEFAULT_HORIZON_DAYS,
                        client_ids: Optional[list[int]] = None, actor: Optional[Actor] = None) -> ScheduleResult:
    """Bring the visits after `now` in step with the active plans: idempotent, safe to run from many processes.

    Visits are planned from the facility's today to `horizon_days` ahead; visits that have begun,
    or start before `now`, are never changed. A first pass only reads; clients whose visits need
    a change are then changed one at a time, under a lock, re-reading what is stored.
    """
    rows = await plans.services_to_schedule(client_ids=client_ids)
    facility_of = {row["client_id"]: row["facility_id"] for row in rows}
    running: dict[int, set[int]] = {}
    for row in rows:
        running.setdefault(row["client_id"], set()).add(row["lineage"])
    planned = planned_visits(rows, now=now, horizon_days=horizon_days)
    stored = await queries.stored_visits_after(after=now, client_ids=client_ids)
    result = ScheduleResult()
    for client_id in sorted(set(planned) | set(stored)):
        if not schedule_changes(planned=planned.get(client_id, []), stored=stored.get(client_id, []), now=now,
                                running=running.get(client_id, set())):
            continue
        changes = await _client_schedule_apply(client_id=client_id, planned=planned.get(client_id, []), now=now,
                                               running=running.get(client_id, set()),
                                               facility_id=facility_of.get(client_id), actor=actor)
        result.created += len(changes.insert)
        result.removed += len(changes.delete)
        result.updated += len(changes.update)
        if changes:
            result.clients.append(client_id)
    return result


async def _client_schedule_apply(*, client_id: int, planned: list[PlannedVisit], now: datetime, running: set[int],
                                 facility_id: Optional[int], actor: Optional[Actor]) -> ScheduleChanges:
    async with db.transaction():
        await _schedule_lock(client_id)
        stored = (await queries.stored_visits_after(after=now, client_ids=[client_id])).get(client_id, [])
        changes = schedule_changes(planned=planned, stored=stored, now=now, running=running)
        if not changes:
            return changes
        stamp = clock.utcnow()
        if changes.delete:
            # Only visits nobody has begun: a check-in racing with this run keeps its visit.
            await Visit.delete().where(Visit.id.is_in(changes.delete) & Visit.status.is_in(list(CHANGEABLE_STATUSES))
                                       & (Visit.scheduled_start > now)).run()
        for visit_id, values in changes.update.items():
            columns = {Visit.version: Visit.version + 1, Visit.updated_at: stamp}
            if "service_id" in values:
                columns[Visit.service] = values["service_id"]
            if "end" in values:
                columns[Visit.scheduled_end] = values["end"]
            if "worker_id" in values:
                columns[Visit.worker] = values["worker_id"]
            await Visit.update(columns).where((Visit.id == visit_id)
                                              & Visit.status.is_in(list(CHANGEABLE_STATUSES))).run()
        inserted = 0
        for n in range(0, len(changes.insert), INSERT_CHUNK):
            chunk = changes.insert[n:n + INSERT_CHUNK]
            # Another process may have planned the same visit meanwhile: the unique (service, start)
            # index keeps one, and this insert skips it.
            rows = await db.insert_rows(Visit, [
                db.row_defaults(Visit, client=p.client_id, service=p.service_id, worker=p.worker_id,
                                scheduled_start=p.start, scheduled_end=p.end, status=VisitStatus.scheduled.value,
                                created_at=stamp, updated_at=stamp)
                for p in chunk
            ], tail=" ON CONFLICT DO NOTHING RETURNING id")
            inserted += len(rows)
        changes.insert = changes.insert[:inserted]
        if facility_id is None:
            row = await Visit.select(Visit.client.facility.as_alias("facility_id")).where(
                Visit.client == client_id).first().run()
            facility_id = row["facility_id"] if row else None
        await audit_record(actor=actor or Actor(label=SYSTEM, facility_id=facility_id), action="schedule.updated",
                           facility_id=facility_id, client_id=client_id, object_type="client", object_id=client_id,
                           detail={"created": inserted, "removed": len(changes.delete),
                                   "updated": len(changes.update)})
    return changes


async def _schedule_lock(client_id: int) -> None:
    """One change to a client's schedule at a time (the keeper, a move, an extra visit); released at commit."""
    await db.lock_until_commit(db.Lock.client_schedule, client_id)


async def schedule_keeper(*, interval_seconds: float = KEEPER_INTERVAL_SECONDS,
                          horizon_days: int = DEFAULT_HORIZON_DAYS) -> None:
    """Keep the horizon filled while the app runs (started by the app's lifespan, cancelled at shutdown)."""
    while True:
        try:
            result = await schedule_sync(now=clock.utcnow(), horizon_days=horizon_days)
            if result.clients:
                log.info("schedule: %d visits planned, %d removed, %d changed for %d clients", result.created,
                         result.removed, result.updated, len(result.clients))
        except asyncio.CancelledError:
            raise
        except Exception:  # the next round tries again; a bad row must not stop the keeper for good
            log.exception("schedule: keeping the horizon filled failed")
        # Jitter: several processes started together do not all run at the same moment.
        await asyncio.sleep(interval_seconds * random.uniform(0.9, 1.1))


# --- one visit ---------------------------------------------------------------------------------------


async def _visit_for_change(visit_id: int, version: int) -> dict:
    stored = await queries.visit_detail(visit_id=visit_id)
    if stored is None:
        raise VisitError("visit", _("This visit does not exist."))
    if stored["version"] != version:
        raise VisitVersionConflict(stored)
    return stored


async def visit_cancel(*, actor: Actor, visit_id: int, version: int, reason: str) -> None:
    """Cancel one visit, with the reason; the schedule keeps it cancelled (it is not planned again).

    The reason stays on the visit, not in the audit row: it is free text about the client.
    """
    async with db.transaction():
        stored = await _visit_for_change(visit_id, version)
        if stored["status"] != VisitStatus.scheduled.value:
            raise VisitError("reason", _("Only a visit that has not begun can be cancelled."))
        now = clock.utcnow()
        await db.update_versioned(Visit, {
            Visit.status: VisitStatus.cancelled.value, Visit.cancel_reason: reason, Visit.cancelled_at: now,
            Visit.cancelled_by: actor.user_id, Visit.updated_at: now,
        }, where=Visit.id == visit_id, version=version, conflict=VisitVersionConflict(stored))
        await audit_record(actor=actor, action="visit.cancelled", facility_id=stored["facility_id"],
                           client_id=stored["client"], object_type="visit", object_id=visit_id)


async def visit_restore(*, actor: Actor, visit_id: int, version: int) -> None:
    """Undo a cancellation of a visit still to come."""
    async with db.transaction():
        stored = await _visit_for_change(visit_id, version)
        if stored["status"] != VisitStatus.cancelled.value or stored["scheduled_start"] <= clock.utcnow():
            raise VisitError("visit", _("Only a cancelled visit that is still to come can be restored."))
        now = clock.utcnow()
        await db.update_versioned(Visit, {
            Visit.status: VisitStatus.scheduled.value, Visit.cancel_reason: "", Visit.cancelled_at: None,
            Visit.cancelled_by: None, Visit.updated_at: now,
        }, where=Visit.id == visit_id, version=version, conflict=VisitVersionConflict(stored))
        await audit_record(actor=actor, action="visit.restored", facility_id=stored["facility_id"],
                           client_id=stored["client"], object_type="visit", object_id=visit_id)


async def visit_reassign(*, actor: Actor, visit_id: int, version: int, worker_id: int,
                         double_booking_ok: bool = False) -> None:
    """Give one visit to another worker; a double booking is refused unless confirmed (VisitClash)."""
    async with db.transaction():
        stored = await _visit_for_change(visit_id, version)
        if stored["status"] != VisitStatus.scheduled.value:
            raise VisitError("worker_id", _("Only a visit that has not begun can be given to another worker."))
        await _care_worker(facility_id=stored["facility_id"], worker_id=worker_id, field="worker_id")
        if worker_id == stored["worker_id"]:
            return
        double_booked = await _busy_check(worker_id=worker_id, start=stored["scheduled_start"],
                                          end=stored["scheduled_end"], visit_id=visit_id,
                                          double_booking_ok=double_booking_ok)
        await db.update_versioned(Visit, {Visit.worker: worker_id, Visit.reassigned: True,
                                          Visit.updated_at: clock.utcnow()},
                                  where=Visit.id == visit_id, version=version, conflict=VisitVersionConflict(stored))
        await audit_record(actor=actor, action="visit.reassigned", facility_id=stored["facility_id"],
                           client_id=stored["client"], object_type="visit", object_id=visit_id,
                           detail={"from": stored["worker_id"], "to": worker_id, "double_booked": double_booked})


# --- one-off changes: a visit moved, an extra visit --------------------------------------------------


async def _care_worker(*, facility_id: int, worker_id: int, field: str) -> None:
    person = await user_in_facility(facility_id=facility_id, user_id=worker_id)
    if person is None or not person["active"] or person["role"] != Role.worker.value:
        raise VisitError(field, _("Choose one of the care workers."))


async def _busy_check(*, worker_id: Optional[int], start: datetime, end: datetime, visit_id: Optional[int],
                      double_booking_ok: bool) -> bool:
    """Whether the worker is busy then; a double booking is refused (VisitClash) unless confirmed."""
    if worker_id is None:
        return False
    clashes = await queries.clashes_for(worker_id=worker_id, start=start, end=end, visit_id=visit_id)
    if clashes and not double_booking_ok:
        raise VisitClash(clashes, worker_id=worker_id, start=start, end=end, visit_id=visit_id)
    return bool(clashes)


async def visit_move(*, actor: Actor, visit_id: int, version: int, day: date, at: time, tz: str,
                     worker_id: Optional[int] = None, double_booking_ok: bool = False) -> None:
    """Move one visit to another time, and give it to another worker if `worker_id` says so; audited.

    The visit keeps its length. The schedule counts a moved visit as the one planned at its old time
    (`moved_from`), so it neither plans that one again nor moves this one back. Refused, by field, for a
    visit that has begun, a time past, no change at all, or a time the service already has a visit at;
    a double booking of the worker is refused unless confirmed (VisitClash).
    """
    async with db.transaction():
        stored = await _visit_for_change(visit_id, version)
        await _schedule_lock(stored["client"])
        if stored["status"] != VisitStatus.scheduled.value:
            raise VisitError("move_day", _("Only a visit that has not begun can be moved."))
        now = clock.utcnow()
        length = stored["scheduled_end"] - stored["scheduled_start"]
        start = slot_on(day, at, 0, tz).start
        if start <= now:
            raise VisitError("move_time", _("That time has passed: choose a time still to come."))
        end = start + length
        worker = stored["worker_id"] if worker_id is None else worker_id
        if worker != stored["worker_id"]:
            await _care_worker(facility_id=stored["facility_id"], worker_id=worker, field="move_worker")
        if start == stored["scheduled_start"] and worker == stored["worker_id"]:
            raise VisitError("move_day", _("That is when the visit is now: choose another day, time or worker."))
        if start != stored["scheduled_start"] and await queries.visit_at(service_id=stored["service_id"], start=start,
                                                                          visit_id=visit_id):
            raise VisitError("move_time", _("This service already has a visit at that time."))
        double_booked = await _busy_check(worker_id=worker, start=start, end=end, visit_id=visit_id,
                                          double_booking_ok=double_booking_ok)
        planned_at = stored["moved_from"] or stored["scheduled_start"]
        columns = {Visit.scheduled_start: start, Visit.scheduled_end: end, Visit.updated_at: now,
                   # Moved back to its planned time, it is the planned visit again.
                   Visit.moved_from: None if start == planned_at else planned_at}
        if worker != stored["worker_id"]:
            columns.update({Visit.worker: worker, Visit.reassigned: True})
        await db.update_versioned(Visit, columns, where=Visit.id == visit_id, version=version,
                                  conflict=VisitVersionConflict(stored))
        await audit_record(actor=actor, action="visit.moved", facility_id=stored["facility_id"],
                           client_id=stored["client"], object_type="visit", object_id=visit_id,
                           detail={"from": stored["scheduled_start"].isoformat(), "to": start.isoformat(),
                                   "worker_from": stored["worker_id"], "worker_to": worker,
                                   "double_booked": double_booked})


async def visit_add_extra(*, actor: Actor, client: dict, facility_id: int, plan: dict, service: dict, day: date,
                          at: time, duration_minutes: Optional[int], worker_id: Optional[int], tz: str, key: str = "",
                          double_booking_ok: bool = False) -> int:
    """Add one visit for a service of the client's active plan, beyond what its rule plans; audited.

    `plan` is the client's active plan and `service` one of its services (as careplans.queries gives them);
    the visit falls within the service's dates, is still to come, lasts the service's usual length unless
    `duration_minutes` says otherwise, and is kept by the schedule while the service runs. `key` is the
    form's idempotency key: the same form sent again adds nothing and answers with the same visit.
    """
    client_id = client["id"]
    if client["status"] != "active":
        raise VisitError("service_id", _("Visits are planned only while the client is active."))
    rule = plans.effective_rule(service, plan)
    if day < rule.starts_on or (rule.ends_on is not None and day > rule.ends_on):
        if rule.ends_on is None:
            raise VisitError("extra_day", _("The service runs from {first}: choose a day from then on.").format(
                first=rule.starts_on.isoformat()))
        raise VisitError("extra_day", _("The service runs from {first} to {last}: choose a day between.").format(
            first=rule.starts_on.isoformat(), last=rule.ends_on.isoformat()))
    duration_minutes = duration_minutes or service["duration_minutes"]
    start = slot_on(day, at, duration_minutes, tz).start
    now = clock.utcnow()
    if start <= now:
        raise VisitError("extra_time", _("That time has passed: choose a time still to come."))

    async def add() -> int:
        async with db.transaction():
            await _schedule_lock(client_id)
            worker = worker_id
            if service["worker_id"] is None:
                worker = None  # an outside provider's service: they make the visit
            elif worker is None:
                worker = service["worker_id"]
            elif worker != service["worker_id"]:
                await _care_worker(facility_id=facility_id, worker_id=worker, field="extra_worker")
            if await queries.visit_at(service_id=service["id"], start=start):
                raise VisitError("extra_time", _("This service already has a visit at that time."))
            end = start + timedelta(minutes=duration_minutes)
            double_booked = await _busy_check(worker_id=worker, start=start, end=end, visit_id=None,
                                              double_booking_ok=double_booking_ok)
            rows = await Visit.insert(Visit(
                client=client_id, service=service["id"], worker=worker, scheduled_start=start, scheduled_end=end,
                status=VisitStatus.scheduled.value, extra=True, reassigned=worker != service["worker_id"],
                created_at=now, updated_at=now,
            )).returning(Visit.id).run()
            visit_id = rows[0]["id"]
            await audit_record(actor=actor, action="visit.extra_added", facility_id=facility_id,
                               client_id=client_id, object_type="visit", object_id=visit_id,
                               detail={"service": service["id"], "start": start.isoformat(),
                                       "minutes": duration_minutes, "worker": worker, "double_booked": double_booked})
        return visit_id

    return await created_once(user_id=actor.user_id, form="visit_extra", key=key, create=add)


# --- logging a visit ---------------------------------------------------------------------------------

class VisitLogConflict(Exception):
    """Someone changed fields of this part of the log that the author changed too; `stored` is what is saved now."""

    def __init__(self, stored: dict, version: int, fields: tuple[str, ...] = ()) -> None:
        super().__init__("visit log changed meanwhile")
        self.stored = stored
        self.version = version
        self.fields = fields


class VisitLogIncomplete(Exception):
    """Check-out refused; `problems` says what to put right, by the field each message belongs next to."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("visit log incomplete")
        self.problems = problems


@dataclass(frozen=True)
class LogSaved:
    result: str  # "saved", or "unchanged" when the section already held these values
    version: int
    values: dict
    late_edit: bool = False


async def _visit_to_log(visit_id: int) -> dict:
    """The visit's log, read inside the caller's transaction; one change to a visit's log at a time."""
    await db.lock_until_commit(db.Lock.visit_log, visit_id)
    row = await queries.visit_log_of(visit_id=visit_id)
    if row is None:
        raise VisitError("visit", _("This visit does not exist."))
    return row


def _on_behalf(actor: Actor, row: dict) -> dict:
    """A coordinator logging a worker's visit is recorded as doing so for that worker."""
    return {"on_behalf_of": row["worker_id"]} if actor.user_id != row["worker_id"] else {}


async def visit_check_in(*, actor: Actor, visit_id: int, key: str = "") -> str:
    """Check the visit in at the server's time, by the worker or a coordinator on their behalf.

    `key` is the form's idempotency key: sending the same form again changes nothing and answers the same.
    """
    async def check_in() -> int:
        async with db.transaction():
            row = await _visit_to_log(visit_id)
            now = clock.utcnow()
            problem = rules.check_in_problem(status=row["status"], staffed=row["worker_id"] is not None,
                                             check_in_at=row["check_in_at"], scheduled_start=row["scheduled_start"],
                                             scheduled_end=row["scheduled_end"], now=now, tz=row["timezone"])
            if problem:
                raise VisitError("check_in", problem)
            await Visit.update({
                Visit.status: VisitStatus.in_progress.value, Visit.check_in_at: now, Visit.check_in_by: actor.user_id,
                Visit.version: row["version"] + 1, Visit.updated_at: now,
            }).where((Visit.id == visit_id) & Visit.check_in_at.is_null()).run()
            late = rules.checked_in_late(scheduled_start=row["scheduled_start"], check_in_at=now,
                                         grace=timedelta(minutes=row["grace_minutes"]))
            await audit_record(actor=actor, action="visit.checked_in", facility_id=row["facility_id"],
                               client_id=row["client"], object_type="visit", object_id=visit_id,
                               detail={"late": late, **_on_behalf(actor, row)})
        return visit_id

    # The form is this visit's: the same key sent for another visit is not a repeat.
    await created_once(user_id=actor.user_id, form=f"visit_check_in:{visit_id}", key=key, create=check_in)
    return "checked_in"


async def visit_check_out(*, actor: Actor, visit_id: int, key: str = "") -> str:
    """Check the visit out at the server's time: only once, only after check-in, only with the log complete."""
    async def check_out() -> int:
        async with db.transaction():
            row = await _visit_to_log(visit_id)
            problems = rules.check_out_problems(row)
            if problems:
                raise VisitLogIncomplete(problems)
            now = clock.utcnow()
            await Visit.update({
                Visit.status: VisitStatus.completed.value, Visit.check_out_at: now, Visit.check_out_by: actor.user_id,
                Visit.version: row["version"] + 1, Visit.updated_at: now,
            }).where((Visit.id == visit_id) & Visit.check_out_at.is_null()).run()
            await audit_record(actor=actor, action="visit.checked_out", facility_id=row["facility_id"],
                               client_id=row["client"], object_type="visit", object_id=visit_id,
                               detail=_on_behalf(actor, row) or None)
        return visit_id

    await created_once(user_id=actor.user_id, form=f"visit_check_out:{visit_id}", key=key, create=check_out)
    return "checked_out"


def _same(name: str, value: object) -> str:
    # Values of every type compared as one canonical text: lists of tasks, flags, notes.
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


async def visit_log_save(*, actor: Actor, visit_id: int, section: str, values: dict, base: dict,
                         overwrite: bool = False) -> LogSaved:
    """Save one section of the log as it was entered; after check-out the change is a late edit.

    `base` is what the author's screen showed of each field. Field by field (the one three-way merge of
    app/web/forms.py): a field the author left as shown keeps what is stored now, so nobody's change
    made meanwhile is reverted; a field only the author changed takes theirs; a field both changed,
    differently, is refused (VisitLogConflict) unless `overwrite` says the author saw both and keeps theirs.
    """
    async with db.transaction():
        row = await _visit_to_log(visit_id)
        if row["check_in_at"] is None:
            raise VisitError(section, _("Check in first: the log opens when the visit begins."))
        stored = rules.section_values(row, section)
        merge = merge_three_way(base=base, mine=values, stored=stored, names=rules.SECTIONS[section], normal=_same)
        if merge.conflicts and not overwrite:
            raise VisitLogConflict(stored=stored, version=row["version"], fields=merge.conflicts)
        merged = merge.values
        if _same("", merged) == _same("", stored):
            return LogSaved(result="unchanged", version=row["version"], values=stored)
        now = clock.utcnow()
        late = row["check_out_at"] is not None
        columns: dict = {getattr(Visit, column): json.dumps(value) if column == "tasks_done" else value
                         for column, value in merged.items()}
        columns.update({Visit.version: row["version"] + 1, Visit.updated_at: now})
        if late:
            columns.update({Visit.late_edit_at: now, Visit.late_edit_by: actor.user_id})
        if section == "concern":
            columns.update(await _concern_raised(row=row, values=merged, now=now))
        await Visit.update(columns).where(Visit.id == visit_id).run()
        await audit_record(actor=actor, action="visit.log_changed", facility_id=row["facility_id"],
                           client_id=row["client"], object_type="visit", object_id=visit_id,
                           detail={"section": section, "fields": sorted(c for c in merged if merged[c] != stored[c]),
                                   "late_edit": late, **_on_behalf(actor, row)})
    return LogSaved(result="saved", version=row["version"] + 1, values=merged, late_edit=late)


async def visit_times_record(*, actor: Actor, visit_id: int, start: Optional[datetime], end: Optional[datetime],
                             reason: str) -> str:
    """Say when the visit really began (and ended), where that differs from the taps; flagged and audited.

    The worker who could tap Check in only hours later, or a coordinator correcting, records the real
    times with a reason; after check-out this is a late edit. Refused (VisitLogIncomplete) outside the
    bounds of rules.actual_times_problems, or without a reason.
    """
    async with db.transaction():
        row = await _visit_to_log(visit_id)
        if row["check_in_at"] is None:
            raise VisitError("actual_start", _("Check in first: the real times are recorded once the visit is logged."))
        now = clock.utcnow()
        problems = rules.actual_times_problems(start=start, end=end, scheduled_start=row["scheduled_start"],
                                               checked_out=row["check_out_at"] is not None, now=now,
                                               tz=row["timezone"])
        if not reason.strip():
            problems["actual_reason"] = _("Say why the times differ from when you tapped, e.g. “No signal at the house”.")
        if problems:
            raise VisitLogIncomplete(problems)
        late = row["check_out_at"] is not None
        columns = {Visit.actual_start: start, Visit.actual_end: end, Visit.actual_reason: reason.strip(),
                   Visit.actual_by: actor.user_id, Visit.actual_recorded_at: now, Visit.version: row["version"] + 1,
                   Visit.updated_at: now}
        if late:
            columns.update({Visit.late_edit_at: now, Visit.late_edit_by: actor.user_id})
        await Visit.update(columns).where(Visit.id == visit_id).run()
        await audit_record(actor=actor, action="visit.times_recorded", facility_id=row["facility_id"],
                           client_id=row["client"], object_type="visit", object_id=visit_id,
                           detail={"actual_start": start.isoformat() if start else None,
                                   "actual_end": end.isoformat() if end else None,
                                   "tapped_in": row["check_in_at"].isoformat(),
                                   "tapped_out": row["check_out_at"].isoformat() if row["check_out_at"] else None,
                                   "late_edit": late, **_on_behalf(actor, row)})
    return "recorded"


# --- a concern's flow: raised, seen at once, acknowledged, actioned, resolved; escalated if nobody looks ----


def _concern_complete(values: dict) -> bool:
    return bool(values.get("concern")) and values.get("concern_severity") in rules.SEVERITIES \
        and bool(str(values.get("concern_text", "")).strip())


# How each coordinator wants to hear by email ("each", "digest" or "none") is kept by messages, above
# visits: the app registers the lookup when it is wired (app/wiring.py). Unregistered, low and medium
# concerns are emailed to nobody (they still show on the caseload at once); high ones always are.
EmailModes = Callable[..., Awaitable[dict[int, str]]]  # (user_ids) -> user id -> mode
_email_modes: list[EmailModes] = []


def email_modes_register(lookup: EmailModes) -> None:
    _email_modes[:] = [lookup]


async def _concern_raised(*, row: dict, values: dict, now: datetime) -> dict:
    """The columns a concern section's save adds: when the concern was raised, and the emails it sends.

    The care team's coordinators hear of it through the outbox in this same transaction (so an email goes
    out if and only if the concern is saved): a high one at once, whatever their email preference (it needs
    action today); a low or medium one at once to those who chose an email for each message (a daily
    digest lists it for those who chose one). Once each, and again only when it is raised to high. The
    email names the client, never the concern.
    """
    if not _concern_complete(values):
        return {}
    columns: dict = {}
    if row["concern_raised_at"] is None:
        columns[Visit.concern_raised_at] = now
    high = values["concern_severity"] == "high"
    raised_to_high = high and row["concern_severity"] != "high"
    if row["concern_emailed_at"] is not None and not raised_to_high:
        return columns
    coordinators = await _coordinators_of(client_id=row["client"], tz=row["timezone"])
    if not high:
        modes = await _email_modes[0](user_ids=[p["user_id"] for p in coordinators]) if _email_modes else {}
        coordinators = [p for p in coordinators if modes.get(p["user_id"]) == "each"]
    severity = rules.severity_labels()[values["concern_severity"]]
    for person in coordinators:
        await outbox_enqueue(
            kind="concern", to_address=person["email"],
            subject=(_("A high concern about {client} needs action today") if high
                     else _("A concern about {client} was raised")).format(client=row["client_first_name"]),
            body=_("Hello {name},\n\n{worker} flagged a concern about {client} at a visit, marked “{severity}”."
                   "\n\nOpen it in Kinward and acknowledge it:\n{link}\n").format(
                name=person["display_name"], worker=row["worker_name"] or "", client=row["client_first_name"],
                severity=severity, link=absolute_link(f"/visits/{row['id']}/concern")))
    columns[Visit.concern_emailed_at] = now
    return columns


async def _coordinators_of(*, client_id: int, tz: str) -> list[dict]:
    team = await clients.care_team_for(client_id=client_id, today=clock.today_in(tz))
    return [m for m in team["current"] if m["role"] == Role.coordinator.value]


async def _open_concern(visit_id: int) -> dict:
    row = await _visit_to_log(visit_id)
    if not row["concern"] or row["concern_resolved_at"] is not None:
        raise VisitError("concern", _("There is no open concern on this visit."))
    return row


async def visit_concern_acknowledge(*, actor: Actor, visit_id: int) -> bool:
    """A coordinator says they have seen the concern and own it now; the first acknowledgement counts."""
    async with db.transaction():
        row = await _open_concern(visit_id)
        if row["concern_acknowledged_at"] is not None:
            return False
        now = clock.utcnow()
        await Visit.update({Visit.concern_acknowledged_at: now, Visit.concern_acknowledged_by: actor.user_id,
                            Visit.version: row["version"] + 1, Visit.updated_at: now}).where(Visit.id == visit_id).run()
        await audit_record(actor=actor, action="visit.concern_acknowledged", facility_id=row["facility_id"],
                           client_id=row["client"], object_type="visit", object_id=visit_id,
                           detail={"severity": row["concern_severity"]})
    return True


async def visit_concern_action(*, actor: Actor, visit_id: int, note: str) -> None:
    """What the coordinator did about the concern (a call to the GP, a visit added); acknowledges it too."""
    if not note.strip():
        raise VisitError("action_note", _("Say what was done, e.g. “Asked the GP to visit tomorrow”."))
    async with db.transaction():
        row = await _open_concern(visit_id)
        now = clock.utcnow()
        columns = {Visit.concern_action_note: note.strip(), Visit.concern_actioned_at: now,
                   Visit.concern_actioned_by: actor.user_id, Visit.version: row["version"] + 1, Visit.updated_at: now}
        if row["concern_acknowledged_at"] is None:
            columns.update({Visit.concern_acknowledged_at: now, Visit.concern_acknowledged_by: actor.user_id})
        await Visit.update(columns).where(Visit.id == visit_id).run()
        await audit_record(actor=actor, action="visit.concern_actioned", facility_id=row["facility_id"],
                           client_id=row["client"], object_type="visit", object_id=visit_id,
                           detail={"severity": row["concern_severity"]})


async def concern_escalations_enqueue(*, now: Optional[datetime] = None) -> int:
    """Email the facility's admins about high concerns no coordinator acknowledged in time (once each).

    Run by the mail worker in every process, like the escalation of unanswered family messages; the
    claim on `concern_escalated_at` makes one process, and only one, send each.
    """
    now = now or clock.utcnow()
    sent = 0
    for concern in await queries.unacknowledged_high_concerns():
        if concern["concern_raised_at"] + timedelta(minutes=concern["escalation_minutes"]) > now:
            continue
        async with db.transaction():
            claimed = await Visit.update({Visit.concern_escalated_at: now}).where(
                (Visit.id == concern["id"]) & Visit.concern_escalated_at.is_null()
                & Visit.concern_acknowledged_at.is_null()).returning(Visit.id).run()
            if not claimed:
                continue
            admins = [u for u in await users_for(facility_id=concern["facility_id"])
                      if u["role"] == Role.admin.value and u["active"]]
            for admin in admins:
                await outbox_enqueue(
                    kind="concern_escalation", to_address=admin["email"],
                    subject=_("A high concern about {client} is not acknowledged").format(
                        client=concern["client_first_name"]),
                    body=_("Hello {name},\n\nA concern marked “needs action today” about {client} was raised "
                           "{minutes} minutes or more ago and no coordinator has acknowledged it yet.\n\n"
                           "Open it in Kinward:\n{link}\n").format(
                        name=admin["display_name"], client=concern["client_first_name"],
                        minutes=concern["escalation_minutes"], link=absolute_link(f"/visits/{concern['id']}/concern")))
            await audit_record(actor=Actor(label="kinward mail", facility_id=concern["facility_id"]),
                               action="visit.concern_escalated", facility_id=concern["facility_id"],
                               client_id=concern["client"], object_type="visit", object_id=concern["id"],
                               detail={"admins": len(admins)})
        sent += 1
    return sent


async def visit_concern_resolve(*, actor: Actor, visit_id: int, key: str = "", note: str = "") -> str:
    """A coordinator marks the concern raised at a visit as dealt with, saying how if they wish."""
    async def resolve() -> int:
        async with db.transaction():
            row = await _visit_to_log(visit_id)
            if not row["concern"] or row["concern_resolved_at"] is not None:
                raise VisitError("resolution", _("There is no open concern on this visit."))
            now = clock.utcnow()
            await Visit.update({
                Visit.concern_resolved_at: now, Visit.concern_resolved_by: actor.user_id, Visit.concern_resolution: note,
                Visit.version: row["version"] + 1, Visit.updated_at: now,
            }).where(Visit.id == visit_id).run()
            await audit_record(actor=actor, action="visit.concern_resolved", facility_id=row["facility_id"],
                               client_id=row["client"], object_type="visit", object_id=visit_id,
                               detail={"severity": row["concern_severity"]})
        return visit_id

    await created_once(user_id=actor.user_id, form=f"visit_resolve:{visit_id}", key=key, create=resolve)
    return "resolved"


# --- calendar feeds ----------------------------------------------------------------------------------


async def calendar_feed_create(*, actor: Actor, user_id: int) -> str:
    """A new secret feed URL token for the worker; any earlier one stops working."""
    token = token_new()
    async with db.transaction():
        now = clock.utcnow()
        await CalendarFeed.update({CalendarFeed.revoked_at: now}).where(
            (CalendarFeed.user == user_id) & CalendarFeed.revoked_at.is_null()).run()
        rows = await CalendarFeed.insert(CalendarFeed(user=user_id, token_hash=token_hash(token), created_at=now)).run()
        await audit_record(actor=actor, action="calendar.feed_created", object_type="calendar_feed",
                           object_id=rows[0]["id"])
    return token


async def calendar_feed_revoke(*, actor: Actor, user_id: int) -> None:
    async with db.transaction():
        await CalendarFeed.update({CalendarFeed.revoked_at: clock.utcnow()}).where(
            (CalendarFeed.user == user_id) & CalendarFeed.revoked_at.is_null()).run()
        await audit_record(actor=actor, action="calendar.feed_revoked", object_type="calendar_feed",
                           object_id=user_id)


async def calendar_feed_read(*, feed: dict, client_ids: list[int]) -> None:
    """Record that the feed was fetched: its last use, and an audit event naming the clients it showed."""
    async with db.transaction():
        await CalendarFeed.update({CalendarFeed.last_used_at: clock.utcnow()}).where(
            CalendarFeed.id == feed["id"]).run()
        await audit_record(actor=Actor(user_id=feed["user_id"], label=feed["email"], role=feed["role"],
                                       facility_id=feed["facility_id"]),
                           action="calendar.feed_read", object_type="calendar_feed", object_id=feed["id"],
                           detail={"clients": client_ids})
