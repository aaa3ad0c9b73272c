"""Delivered against planned: the visit rules of app.visits.rules as SQL aggregates, and the figures
derived from their sums.

Reviews, the staff report and the dashboard count thousands of visits; they ask the database for
sums grouped as they need (per service, per worker, per week), never loop over visit rows. The
conditions below are `rules.attendance` and `rules.checked_in_late` written in SQL, one for each
state, and a test holds them to the Python rules visit by visit, boundaries included:

- completed: checked out; late: checked in after start + grace (exactly at the grace is in time);
- missed: not cancelled, never checked in, a care worker's visit (outside providers do not log
  here) whose scheduled end is before `now`;
- cancelled: cancelled, whoever did it; not logged: an outside provider's visit.

Durations are measured between stored UTC instants, so a visit across midnight or across a clock
change lasts what it lasted, not what the wall clock says.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Optional
from zoneinfo import ZoneInfo

from piccolo.querystring import QueryString

from app.db import as_utc, elapsed_ms_sql, json_length_sql


def completed_sql(v: str = "v") -> str:
    return f"({v}.check_out_at IS NOT NULL)"


def cancelled_sql(v: str = "v") -> str:
    return f"({v}.status = 'cancelled')"


def not_logged_sql(v: str = "v") -> str:
    return f"({v}.status <> 'cancelled' AND {v}.worker IS NULL AND {v}.check_in_at IS NULL)"


def missed_sql(now: datetime, v: str = "v") -> QueryString:
    """rules.attendance == missed: its end passed (strictly) with nobody checked in."""
    return QueryString(f"({v}.status <> 'cancelled' AND {v}.check_in_at IS NULL AND {v}.worker IS NOT NULL "
                       f"AND {v}.scheduled_end < {{}})", now)


def late_sql(grace: timedelta, v: str = "v") -> QueryString:
    """rules.checked_in_late: checked in after start + grace; at the grace exactly is in time."""
    return QueryString(f"({v}.check_in_at IS NOT NULL AND "
                       f"{elapsed_ms_sql(f'{v}.scheduled_start', f'{v}.check_in_at')} > {{}})",
                       int(grace.total_seconds() * 1000))


def lateness_ms_sql(v: str = "v") -> str:
    return elapsed_ms_sql(f"{v}.scheduled_start", f"{v}.check_in_at")


def delivery_columns(*, now: datetime, grace: timedelta, v: str = "v", s: str = "s") -> QueryString:
    """The select list of a delivered-vs-planned aggregate over `visit {v} JOIN care_service {s}`.

    Every figure of `DeliveryFigures` is a sum here; group the query as the page needs.
    """
    done = completed_sql(v)
    return QueryString(
        "COUNT(*) AS planned, "
        f"SUM(CASE WHEN {done} THEN 1 ELSE 0 END) AS completed, "
        "SUM(CASE WHEN {} THEN 1 ELSE 0 END) AS missed, "
        f"SUM(CASE WHEN {cancelled_sql(v)} THEN 1 ELSE 0 END) AS cancelled, "
        f"SUM(CASE WHEN {not_logged_sql(v)} THEN 1 ELSE 0 END) AS not_logged, "
        f"SUM(CASE WHEN {v}.check_in_at IS NOT NULL THEN 1 ELSE 0 END) AS checked_in, "
        "SUM(CASE WHEN {} THEN 1 ELSE 0 END) AS late, "
        f"SUM(CASE WHEN {done} AND {v}.check_in_at IS NOT NULL "
        f"THEN {elapsed_ms_sql(f'{v}.check_in_at', f'{v}.check_out_at')} ELSE 0 END) AS actual_ms, "
        f"SUM(CASE WHEN {done} AND {v}.check_in_at IS NOT NULL "
        f"THEN {elapsed_ms_sql(f'{v}.scheduled_start', f'{v}.scheduled_end')} ELSE 0 END) AS planned_ms, "
        f"SUM(CASE WHEN {done} THEN {json_length_sql(f'{v}.tasks_done')} ELSE 0 END) AS tasks_done, "
        f"SUM(CASE WHEN {done} THEN {json_length_sql(f'{s}.tasks')} ELSE 0 END) AS tasks_planned, "
        f"COUNT(DISTINCT CASE WHEN {done} THEN {v}.worker END) AS workers, "
        f"SUM(CASE WHEN {done} AND {v}.family_summary_shared AND {v}.family_summary <> '' THEN 1 ELSE 0 END) "
        "AS summaries_shared, "
        f"SUM(CASE WHEN {v}.concern THEN 1 ELSE 0 END) AS concerns, "
        f"SUM(CASE WHEN {v}.late_edit_at IS NOT NULL THEN 1 ELSE 0 END) AS late_edits",
        missed_sql(now, v), late_sql(grace, v),
    )


def rate(part: Optional[int], whole: Optional[int]) -> Optional[float]:
    """part / whole, or None when there is nothing to divide (no "0 %" for no visits)."""
    if not whole:
        return None
    return (part or 0) / whole


@dataclass(frozen=True)
class DeliveryFigures:
    planned: int = 0
    completed: int = 0
    missed: int = 0
    cancelled: int = 0
    not_logged: int = 0
    checked_in: int = 0
    late: int = 0
    actual_minutes: Optional[float] = None  # average, completed visits
    planned_minutes: Optional[float] = None  # average planned length of those same visits
    tasks_done: int = 0
    tasks_planned: int = 0
    workers: int = 0
    summaries_shared: int = 0
    concerns: int = 0
    late_edits: int = 0

    @property
    def late_rate(self) -> Optional[float]:
        """Of the visits someone checked in, the share checked in late."""
        return rate(self.late, self.checked_in)

    @property
    def tasks_done_rate(self) -> Optional[float]:
        return rate(self.tasks_done, self.tasks_planned)

    @property
    def delivered_rate(self) -> Optional[float]:
        """Completed of those planned that were not cancelled."""
        return rate(self.completed, self.planned - self.cancelled)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def delivery_figures(row: Optional[dict]) -> DeliveryFigures:
    """The figures of one aggregate row of `delivery_columns` (None or empty: no visits)."""
    if not row:
        return DeliveryFigures()

    def whole(name: str) -> int:
        return int(row.get(name) or 0)

    completed_timed = whole("completed") and row.get("planned_ms") is not None
    return DeliveryFigures(
        planned=whole("planned"), completed=whole("completed"), missed=whole("missed"),
        cancelled=whole("cancelled"), not_logged=whole("not_logged"), checked_in=whole("checked_in"),
        late=whole("late"),
        actual_minutes=round(float(row["actual_ms"]) / 60000 / whole("completed"), 1) if completed_timed else None,
        planned_minutes=round(float(row["planned_ms"]) / 60000 / whole("completed"), 1) if completed_timed else None,
        tasks_done=whole("tasks_done"), tasks_planned=whole("tasks_planned"), workers=whole("workers"),
        summaries_shared=whole("summaries_shared"), concerns=whole("concerns"), late_edits=whole("late_edits"),
    )


def median_minutes(values_ms: Iterable[Any]) -> Optional[float]:
    values = [float(v) for v in values_ms if v is not None]
    if not values:
        return None
    return round(statistics.median(values) / 60000, 1)


@dataclass(frozen=True)
class Slot:
    """A weekly slot in the facility's local time: a weekday (1 = Monday) and a start time."""

    weekday: int
    start: str  # "HH:MM"
    late: int = 0
    missed: int = 0

    @property
    def total(self) -> int:
        return self.late + self.missed


def slot_of(scheduled_start: Any, tz: str) -> tuple[int, str]:
    """The local weekday and time a visit was planned for: 09:00 stays 09:00 across a clock change."""
    local = as_utc(scheduled_start).astimezone(ZoneInfo(tz))
    return local.isoweekday(), local.strftime("%H:%M")


def slots_late_or_missed(rows: Iterable[dict], tz: str, limit: int = 5) -> list[Slot]:
    """The slots most often late or missed, most first; rows carry scheduled_start and state ("late"/"missed")."""
    counts: dict[tuple[int, str], dict[str, int]] = {}
    for row in rows:
        key = slot_of(row["scheduled_start"], tz)
        bucket = counts.setdefault(key, {"late": 0, "missed": 0})
        bucket[row["state"]] += 1
    slots = [Slot(weekday=k[0], start=k[1], **v) for k, v in counts.items()]
    slots.sort(key=lambda slot: (-slot.total, slot.weekday, slot.start))
    return slots[:limit]


def late_or_missed_sql(*, now: datetime, grace: timedelta, v: str = "v") -> QueryString:
    """A column naming the visit's state for the slot count: 'missed', 'late' or NULL."""
    return QueryString("CASE WHEN {} THEN 'missed' WHEN {} THEN 'late' END", missed_sql(now, v), late_sql(grace, v))
