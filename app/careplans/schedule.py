"""Schedule rules as pure functions: a service's rule -> visit times, and what a schedule must change.

No I/O here: the services module reads the plans and visits, these functions decide, and the
services module writes. Times of day are the facility's local time; visit times are UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable, Optional
from zoneinfo import ZoneInfo

WEEK_MINUTES = 7 * 24 * 60
# The longest a visit may last, in minutes (a service's duration; an extra visit's is shorter).
DURATION_MAX = 24 * 60
# Visits that have begun (or been logged) are history: the schedule never touches them.
CHANGEABLE_STATUSES = frozenset({"scheduled", "cancelled"})


@dataclass(frozen=True)
class ServiceRule:
    """When a service happens: on which ISO weekdays (1 = Monday), at what local time, for how long, from/until."""

    weekdays: frozenset[int]
    start_time: time
    duration_minutes: int
    starts_on: date
    ends_on: Optional[date] = None


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime  # UTC
    end: datetime  # UTC
    local_start: datetime  # the same instant in the facility's timezone


def slot_on(day: date, start_time: time, duration_minutes: int, tz: str) -> Slot:
    """The visit on `day` at local `start_time`.

    Daylight saving: a 09:00 visit is at 09:00 local time on both sides of a change. A time that
    does not exist that day (clocks go forward through it) moves forward by the gap; a time that
    happens twice (clocks go back) is the first of the two.
    """
    zone = ZoneInfo(tz)
    local = datetime.combine(day, start_time, tzinfo=zone)
    start = local.astimezone(timezone.utc)
    return Slot(start=start, end=start + timedelta(minutes=duration_minutes), local_start=start.astimezone(zone))


def expand(rule: ServiceRule, first_day: date, last_day: date, tz: str) -> list[Slot]:
    """Every visit of `rule` on the days from `first_day` to `last_day` (both included), in time order."""
    day = max(first_day, rule.starts_on)
    last = last_day if rule.ends_on is None else min(last_day, rule.ends_on)
    slots = []
    while day <= last:
        if day.isoweekday() in rule.weekdays:
            slots.append(slot_on(day, rule.start_time, rule.duration_minutes, tz))
        day += timedelta(days=1)
    return slots


def rules_overlap(a: ServiceRule, b: ServiceRule) -> bool:
    """Would one person be asked to be in two places at once by these two rules (same timezone)?"""
    first = max(a.starts_on, b.starts_on)
    last = min(a.ends_on or date.max, b.ends_on or date.max)
    if first > last:
        return False
    if (last - first).days >= 8:
        # Every weekday of both rules happens within the common period: compare weekly patterns.
        return _intervals_meet(_week_intervals(a), _week_intervals(b))
    # A short common period: compare the actual visits (naive local times, a day either side
    # for visits that run past midnight).
    visits_a = _naive_visits(a, first - timedelta(days=1), last)
    visits_b = _naive_visits(b, first - timedelta(days=1), last)
    return any(sa < eb and sb < ea for sa, ea in visits_a for sb, eb in visits_b)


def _naive_visits(rule: ServiceRule, first: date, last: date) -> list[tuple[datetime, datetime]]:
    day = max(first, rule.starts_on)
    end = min(last, rule.ends_on or date.max)
    visits = []
    while day <= end:
        if day.isoweekday() in rule.weekdays:
            start = datetime.combine(day, rule.start_time)
            visits.append((start, start + timedelta(minutes=rule.duration_minutes)))
        day += timedelta(days=1)
    return visits


def _week_intervals(rule: ServiceRule) -> list[tuple[int, int]]:
    """Minutes since Monday 00:00 that the rule occupies, split where a visit wraps past Sunday midnight."""
    intervals = []
    offset = rule.start_time.hour * 60 + rule.start_time.minute
    for weekday in rule.weekdays:
        start = (weekday - 1) * 24 * 60 + offset
        end = start + min(rule.duration_minutes, WEEK_MINUTES)
        if end <= WEEK_MINUTES:
            intervals.append((start, end))
        else:
            intervals.extend([(start, WEEK_MINUTES), (0, end - WEEK_MINUTES)])
    return intervals


def _intervals_meet(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> bool:
    return any(sa < eb and sb < ea for sa, ea in a for sb, eb in b)


# --- keeping the visits in step with the services -------------------------------------------


@dataclass(frozen=True)
class PlannedVisit:
    """A visit the active services call for. `lineage` identifies the service across plan versions."""

    lineage: int
    service_id: int
    client_id: int
    worker_id: Optional[int]
    start: datetime
    end: datetime

    @property
    def key(self) -> tuple[int, datetime]:
        return (self.lineage, self.start)


@dataclass(frozen=True)
class StoredVisit:
    id: int
    lineage: int
    service_id: int
    worker_id: Optional[int]
    start: datetime
    end: datetime
    status: str
    reassigned: bool = False
    moved_from: Optional[datetime] = None  # a coordinator moved it from this planned time
    extra: bool = False  # a coordinator added it for the service; no rule calls for it

    @property
    def key(self) -> tuple[int, datetime]:
        return (self.lineage, self.start)

    @property
    def planned_key(self) -> tuple[int, datetime]:
        """The planned visit this one stands for: a moved visit is still the one planned at its old time."""
        return (self.lineage, self.moved_from or self.start)


@dataclass
class ScheduleChanges:
    insert: list[PlannedVisit] = field(default_factory=list)
    delete: list[int] = field(default_factory=list)  # visit ids
    update: dict[int, dict[str, object]] = field(default_factory=dict)  # visit id -> "service_id"/"end"/"worker_id"

    def __bool__(self) -> bool:
        return bool(self.insert or self.delete or self.update)


def schedule_changes(*, planned: Iterable[PlannedVisit], stored: Iterable[StoredVisit], now: datetime,
                     running: Optional[set[int]] = None) -> ScheduleChanges:
    """What to insert, delete and update so the stored visits after `now` are exactly the planned ones.

    Only visits that start after `now` and have not begun (scheduled, or cancelled one by one)
    change; a cancelled visit that is still planned stays cancelled (with its worker), and a
    visit given to another worker keeps that worker. One-off changes stay: a moved visit counts as
    the visit planned at its old time (neither planned again nor moved back, its times its own), and
    an extra visit is kept while its service runs (`running`: the lineages of the services still
    running, by default those with a planned visit). Nothing is planned where a one-off visit of the
    same service already is (the unique slot index would refuse it). `stored` must hold every stored
    visit after `now` (or moved from after `now`) for the services (lineages) concerned, whatever its status.
    """
    planned = list(planned)
    wanted = {p.key: p for p in planned if p.start > now}
    running = {p.lineage for p in planned} if running is None else running
    changes = ScheduleChanges()
    taken: set[tuple[int, datetime]] = set()
    occupied: set[tuple[int, datetime]] = set()
    # Visits that have begun claim their slot first; of two changeable ones, the older stays.
    for visit in sorted(stored, key=lambda v: (v.status in CHANGEABLE_STATUSES, v.id)):
        if visit.extra or visit.moved_from is not None:
            occupied.add(visit.key)
        begun = visit.start <= now or visit.status not in CHANGEABLE_STATUSES
        if visit.extra:
            if not begun and visit.lineage not in running:
                changes.delete.append(visit.id)
            continue
        key = visit.planned_key
        if begun:
            taken.add(key)
            continue
        plan = wanted.get(key)
        # A visit moved from a time now past no longer matches a planned one: it stays while its service runs.
        moved_from_past = visit.moved_from is not None and visit.moved_from <= now and visit.lineage in running
        if key in taken or (plan is None and not moved_from_past):
            changes.delete.append(visit.id)
            continue
        taken.add(key)
        if plan is None:
            continue
        values: dict[str, object] = {}
        if visit.service_id != plan.service_id:
            values["service_id"] = plan.service_id
        if visit.moved_from is None and visit.end != plan.end:
            values["end"] = plan.end
        if visit.status == "scheduled" and not visit.reassigned and visit.worker_id != plan.worker_id:
            values["worker_id"] = plan.worker_id
        if values:
            changes.update[visit.id] = values
    changes.insert = sorted((p for key, p in wanted.items() if key not in taken and key not in occupied),
                            key=lambda p: (p.start, p.lineage))
    changes.delete.sort()
    return changes


def double_booked(visits: Iterable[tuple[int, Optional[int], datetime, datetime]]) -> set[int]:
    """Ids of visits whose worker has another visit at the same time: (id, worker id, start, end) each."""
    by_worker: dict[int, list[tuple[datetime, datetime, int]]] = {}
    for visit_id, worker_id, start, end in visits:
        if worker_id is not None:
            by_worker.setdefault(worker_id, []).append((start, end, visit_id))
    clashes: set[int] = set()
    for items in by_worker.values():
        items.sort()
        latest_end: Optional[datetime] = None
        latest_id: Optional[int] = None
        for start, end, visit_id in items:
            if latest_end is not None and start < latest_end:
                clashes.update({visit_id, latest_id})  # type: ignore[arg-type]
            if latest_end is None or end > latest_end:
                latest_end, latest_id = end, visit_id
    return clashes


def week_start(day: date) -> date:
    """The Monday of the week that holds `day`."""
    return day - timedelta(days=day.weekday())
