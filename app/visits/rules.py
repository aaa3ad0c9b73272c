"""Rules of logging a visit, as pure functions: late and missed, when a visit can be checked in or
out, and what a section's form carries back of what it showed (for the field-wise merge of saves).

No I/O here: the services module reads the visit, these functions decide, the services module
writes. Times are UTC; the facility's timezone only says where its days begin.

"Late" and "missed" are derived, never stored: a visit nobody has checked in stays `scheduled`,
and whether it is late or missed depends on the moment of asking and the facility's grace time.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from enum import Enum
from typing import Any, Mapping, Optional
from zoneinfo import ZoneInfo

from app.i18n import _

GRACE_RANGE = (0, 240)
# A high concern nobody acknowledged goes to the admins after this many minutes: at least a quarter of an
# hour for a coordinator to see it, at most a day (it needs action today).
CONCERN_ESCALATION_RANGE = (15, 24 * 60)
# A worker who arrives early may check in this long before the start, even before the visit's day.
CHECK_IN_EARLY = timedelta(hours=2)

LOCATIONS = ("home", "facility", "other")
SEVERITIES = ("low", "medium", "high")


def severity_labels() -> dict[str, str]:
    """How serious a concern is, in the words the worker chose it by (and the coordinators' email repeats)."""
    return {"low": _("Low: worth knowing"), "medium": _("Medium: needs a look soon"),
            "high": _("High: needs action today")}

# The parts of the log, each saved on its own as it is entered, and the columns each one holds.
SECTIONS: dict[str, tuple[str, ...]] = {
    "location": ("location", "location_note"),
    "tasks": ("tasks_done",),
    "note": ("internal_note",),
    "summary": ("family_summary", "family_summary_shared"),
    "concern": ("concern", "concern_severity", "concern_text"),
}


class Attendance(str, Enum):
    upcoming = "upcoming"  # its start is still to come
    due = "due"  # it has started, and is within the grace time
    late = "late"  # not checked in by start + grace
    missed = "missed"  # its scheduled end passed without a check-in
    in_progress = "in_progress"
    completed = "completed"
    cancelled = "cancelled"
    # An outside provider's visit (meals, district nurses): they do not log their visits here.
    not_logged = "not_logged"


def attendance(*, status: str, staffed: bool, scheduled_start: datetime, scheduled_end: datetime,
               check_in_at: Optional[datetime], check_out_at: Optional[datetime], now: datetime,
               grace: timedelta) -> Attendance:
    """Where the visit stands at `now`. A check-in at start + grace exactly is in time; one moment later is late."""
    if status == "cancelled":
        return Attendance.cancelled
    if check_out_at is not None:
        return Attendance.completed
    if check_in_at is not None:
        return Attendance.in_progress
    if not staffed:
        return Attendance.not_logged
    if now > scheduled_end:
        return Attendance.missed
    if now > scheduled_start + grace:
        return Attendance.late
    if now >= scheduled_start:
        return Attendance.due
    return Attendance.upcoming


def visit_state(visit: Mapping[str, Any], *, now: datetime, grace: timedelta) -> Attendance:
    """The derived state of a visit row (as the visit queries return it): what every page shows of it."""
    return attendance(status=visit["status"], staffed=visit["worker_id"] is not None,
                      scheduled_start=visit["scheduled_start"], scheduled_end=visit["scheduled_end"],
                      check_in_at=visit["check_in_at"], check_out_at=visit["check_out_at"], now=now, grace=grace)


# Visits that are over, whichever way: a day's list folds them to one line each.
FINISHED = (Attendance.completed, Attendance.cancelled, Attendance.missed)


def current_visit(states: list[tuple[int, Attendance, datetime]], *, now: datetime) -> Optional[int]:
    """Of a day's visits (id, state, scheduled end) in time order, the one a worker is at or going to next."""
    for visit_id, state, _end in states:
        if state in (Attendance.in_progress, Attendance.due, Attendance.late):
            return visit_id
    for visit_id, state, end in states:
        if state in (Attendance.upcoming, Attendance.not_logged) and end > now:
            return visit_id
    return None


def checked_in_late(*, scheduled_start: datetime, check_in_at: Optional[datetime], grace: timedelta) -> bool:
    return check_in_at is not None and check_in_at > scheduled_start + grace


def _day_start(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)


def check_in_window(*, scheduled_start: datetime, scheduled_end: datetime, tz: str) -> tuple[datetime, datetime]:
    """From the start of the visit's day (or two hours before it starts, if earlier) to the end of the day it ends.

    After that a visit nobody checked in stays missed: it cannot be logged as if it had happened.
    """
    zone = ZoneInfo(tz)
    opens = min(_day_start(scheduled_start.astimezone(zone).date(), tz), scheduled_start - CHECK_IN_EARLY)
    closes = _day_start(scheduled_end.astimezone(zone).date() + timedelta(days=1), tz)
    return opens, closes


def check_in_problem(*, status: str, staffed: bool, check_in_at: Optional[datetime], scheduled_start: datetime,
                     scheduled_end: datetime, now: datetime, tz: str) -> Optional[str]:
    """Why the visit cannot be checked in now, or None when it can."""
    if status == "cancelled":
        return _("This visit was cancelled.")
    if not staffed:
        return _("An outside provider makes this visit; it is not logged in Kinward.")
    if check_in_at is not None:
        return _("This visit is already checked in.")
    opens, closes = check_in_window(scheduled_start=scheduled_start, scheduled_end=scheduled_end, tz=tz)
    if now < opens:
        return _("Check-in opens on the day of the visit.")
    if now >= closes:
        return _("This visit can no longer be checked in: its day is over.")
    return None


def actual_times_problems(*, start: Optional[datetime], end: Optional[datetime], scheduled_start: datetime,
                          checked_out: bool, now: datetime, tz: str) -> dict[str, str]:
    """What is wrong with the times a person says the visit really began and ended, by field.

    Bounded: not in the future (nobody records a visit before it happens), not before the start of the
    visit's day (a visit is not moved to another day this way), the end after the start, and an end only
    once the visit is checked out.
    """
    problems: dict[str, str] = {}
    day_opens = _day_start(scheduled_start.astimezone(ZoneInfo(tz)).date(), tz)
    if start is None:
        problems["actual_start"] = _("Say when the visit really began.")
    for name, value in (("actual_start", start), ("actual_end", end)):
        if value is None or name in problems:
            continue
        if value > now:
            problems[name] = _("That time is still to come: enter when it really happened.")
        elif value < day_opens:
            problems[name] = _("That is before the day of the visit.")
    if end is not None and not checked_out and "actual_end" not in problems:
        problems["actual_end"] = _("Check out first, then say when the visit really ended.")
    if start is not None and end is not None and end <= start and not problems:
        problems["actual_end"] = _("The end must be after the beginning.")
    return problems


def check_out_problems(log: dict[str, Any]) -> dict[str, str]:
    """What must be put right before check-out, by the form field the message belongs next to."""
    if log["check_in_at"] is None:
        return {"check_out": _("Check in first: a visit cannot be checked out before it is checked in.")}
    if log["check_out_at"] is not None:
        return {"check_out": _("This visit is already checked out.")}
    problems = {}
    if log["location"] not in LOCATIONS:
        problems["location"] = _("Say where the visit took place.")
    elif log["location"] == "other" and not log["location_note"].strip():
        problems["location"] = _("Say where the visit took place, e.g. “Day centre”.")
    if log["concern"]:
        if log["concern_severity"] not in SEVERITIES:
            problems["concern"] = _("Say how serious the concern is.")
        elif not log["concern_text"].strip():
            problems["concern"] = _("Describe the concern for the coordinator.")
    return problems


def section_values(log: dict[str, Any], section: str) -> dict[str, Any]:
    """One section's values as stored (the tasks as a list, flags as booleans)."""
    values = {}
    for column in SECTIONS[section]:
        value = log[column]
        if column == "tasks_done" and isinstance(value, str):
            value = json.loads(value or "[]")
        elif column in ("family_summary_shared", "concern"):
            value = bool(value)
        values[column] = value
    return values


def section_form_base(values: dict[str, Any]) -> dict[str, str]:
    """A section's values as its form carries them back (`base.<column>`): what the screen showed when drawn."""
    base = {}
    for column, value in values.items():
        if column == "tasks_done":
            base[column] = json.dumps(list(value), ensure_ascii=False)
        elif isinstance(value, bool):
            base[column] = "on" if value else ""
        else:
            base[column] = str(value)
    return base


# The hours of a day in which a care worker's free time is offered when a booking clashes.
WORKING_HOURS = (time(7), time(22))


def free_slots(*, busy: list[tuple[datetime, datetime]], opens: datetime, closes: datetime,
               minutes: int) -> list[tuple[datetime, datetime]]:
    """The gaps of at least `minutes` from `opens` to `closes` that none of the `busy` intervals covers."""
    gaps: list[tuple[datetime, datetime]] = []
    cursor = opens
    for start, end in sorted(busy):
        if start > cursor and start - cursor >= timedelta(minutes=minutes):
            gaps.append((cursor, min(start, closes)))
        cursor = max(cursor, end)
        if cursor >= closes:
            break
    if closes - cursor >= timedelta(minutes=minutes):
        gaps.append((cursor, closes))
    return [(start, end) for start, end in gaps if end - start >= timedelta(minutes=minutes)]
