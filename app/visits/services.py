"""Writes and rules for visits: keeping the schedule in step with the plans, cancelling, reassigning, feeds."""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Optional
from zoneinfo import ZoneInfo

from app import clock, db
from app.accounts.queries import user_in_facility
from app.accounts.tables import Role
from app.audit.services import Actor, audit_record
from app.careplans import queries as plans
from app.i18n import _
from app.visits import queries
from app.visits.schedule import CHANGEABLE_STATUSES, PlannedVisit, ScheduleChanges, expand, schedule_changes
from app.visits.tables import CalendarFeed, Visit, VisitStatus
from app.web.tokens import token_hash, token_new

log = logging.getLogger("kinward.schedule")

DEFAULT_HORIZON_DAYS = 14
# How often a running app tops the horizon up; every process does it, the unique slot index makes that safe.
KEEPER_INTERVAL_SECONDS = 15 * 60
INSERT_CHUNK = 200
SYSTEM = "kinward schedule"


class VisitError(ValueError):
    """A rule refused the change; `field` names the form field the message belongs next to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class VisitVersionConflict(Exception):
    """Someone changed the visit since this page was shown; `stored` is the visit now."""

    def __init__(self, stored: dict) -> None:
        super().__init__("visit changed meanwhile")
        self.stored = stored


class VisitClash(Exception):
    """The new worker has other visits at that time (a double booking); `clashes` lists them."""

    def __init__(self, clashes: list[dict]) -> None:
        super().__init__("double booking")
        self.clashes = clashes


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
    planned = planned_visits(rows, now=now, horizon_days=horizon_days)
    stored = await queries.stored_visits_after(after=now, client_ids=client_ids)
    result = ScheduleResult()
    for client_id in sorted(set(planned) | set(stored)):
        if not schedule_changes(planned=planned.get(client_id, []), stored=stored.get(client_id, []), now=now):
            continue
        changes = await _client_schedule_apply(client_id=client_id, planned=planned.get(client_id, []), now=now,
                                               facility_id=facility_of.get(client_id), actor=actor)
        result.created += len(changes.insert)
        result.removed += len(changes.delete)
        result.updated += len(changes.update)
        if changes:
            result.clients.append(client_id)
    return result


async def _client_schedule_apply(*, client_id: int, planned: list[PlannedVisit], now: datetime,
                                 facility_id: Optional[int], actor: Optional[Actor]) -> ScheduleChanges:
    async with db.transaction():
        if db.is_postgres():
            # One process at a time changes one client's schedule; released at commit.
            await Visit.raw("SELECT pg_advisory_xact_lock(4243, {})", client_id).run()
        stored = (await queries.stored_visits_after(after=now, client_ids=[client_id])).get(client_id, [])
        changes = schedule_changes(planned=planned, stored=stored, now=now)
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
            rows = await Visit.insert(*[
                Visit(client=p.client_id, service=p.service_id, worker=p.worker_id, scheduled_start=p.start,
                      scheduled_end=p.end, status=VisitStatus.scheduled.value, created_at=stamp, updated_at=stamp)
                for p in chunk
            ]).on_conflict(action="DO NOTHING").returning(Visit.id).run()
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
    """Cancel one visit, with the reason; the schedule keeps it cancelled (it is not planned again)."""
    async with db.transaction():
        stored = await _visit_for_change(visit_id, version)
        if stored["status"] != VisitStatus.scheduled.value:
            raise VisitError("reason", _("Only a visit that has not begun can be cancelled."))
        now = clock.utcnow()
        updated = await Visit.update({
            Visit.status: VisitStatus.cancelled.value, Visit.cancel_reason: reason, Visit.cancelled_at: now,
            Visit.cancelled_by: actor.user_id, Visit.version: version + 1, Visit.updated_at: now,
        }).where((Visit.id == visit_id) & (Visit.version == version)).returning(Visit.id).run()
        if not updated:
            raise VisitVersionConflict(stored)
        await audit_record(actor=actor, action="visit.cancelled", facility_id=stored["facility_id"],
                           client_id=stored["client"], object_type="visit", object_id=visit_id,
                           detail={"reason": reason})


async def visit_restore(*, actor: Actor, visit_id: int, version: int) -> None:
    """Undo a cancellation of a visit still to come."""
    async with db.transaction():
        stored = await _visit_for_change(visit_id, version)
        if stored["status"] != VisitStatus.cancelled.value or stored["scheduled_start"] <= clock.utcnow():
            raise VisitError("visit", _("Only a cancelled visit that is still to come can be restored."))
        now = clock.utcnow()
        updated = await Visit.update({
            Visit.status: VisitStatus.scheduled.value, Visit.cancel_reason: "", Visit.cancelled_at: None,
            Visit.cancelled_by: None, Visit.version: version + 1, Visit.updated_at: now,
        }).where((Visit.id == visit_id) & (Visit.version == version)).returning(Visit.id).run()
        if not updated:
            raise VisitVersionConflict(stored)
        await audit_record(actor=actor, action="visit.restored", facility_id=stored["facility_id"],
                           client_id=stored["client"], object_type="visit", object_id=visit_id)


async def visit_reassign(*, actor: Actor, visit_id: int, version: int, worker_id: int,
                         double_booking_ok: bool = False) -> None:
    """Give one visit to another worker; a double booking is refused unless confirmed (VisitClash)."""
    async with db.transaction():
        stored = await _visit_for_change(visit_id, version)
        if stored["status"] != VisitStatus.scheduled.value:
            raise VisitError("worker_id", _("Only a visit that has not begun can be given to another worker."))
        person = await user_in_facility(facility_id=stored["facility_id"], user_id=worker_id)
        if person is None or not person["active"] or person["role"] != Role.worker.value:
            raise VisitError("worker_id", _("Choose one of the care workers."))
        if worker_id == stored["worker_id"]:
            return
        clashes = await queries.clashes_for(worker_id=worker_id, start=stored["scheduled_start"],
                                            end=stored["scheduled_end"], visit_id=visit_id)
        if clashes and not double_booking_ok:
            raise VisitClash(clashes)
        updated = await Visit.update({
            Visit.worker: worker_id, Visit.reassigned: True, Visit.version: version + 1,
            Visit.updated_at: clock.utcnow(),
        }).where((Visit.id == visit_id) & (Visit.version == version)).returning(Visit.id).run()
        if not updated:
            raise VisitVersionConflict(stored)
        await audit_record(actor=actor, action="visit.reassigned", facility_id=stored["facility_id"],
                           client_id=stored["client"], object_type="visit", object_id=visit_id,
                           detail={"from": stored["worker_id"], "to": worker_id, "double_booked": bool(clashes)})


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
