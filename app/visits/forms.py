"""Input of the visit forms: cancelling and reassigning one visit, and logging it."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timezone
from typing import Any, Optional
from zoneinfo import ZoneInfo

from app.careplans.forms import kind_labels
from app.i18n import _
from app.visits.rules import LOCATIONS, SECTIONS, SEVERITIES, severity_labels
from app.web.forms import Form, idempotency_key, iso_day, submitted_key, whole  # noqa: F401  (the log's forms use both)

TEXT_MAX = 2000
CANCEL_FIELDS = ("reason", "version")
REASSIGN_FIELDS = ("worker_id", "version", "double_booking_ok")


def form_version(form: Form) -> int:
    value = form.values.get("version", "")
    return whole(value) or 0


def cancel_form(data: object) -> tuple[Form, Optional[str]]:
    form = Form.from_data(data, CANCEL_FIELDS, {"reason": TEXT_MAX})
    reason = form.required("reason", _("Say why the visit is cancelled, e.g. “In hospital”."))
    return form, reason if form.ok else None


def reassign_form(data: object, *, worker_ids: set[int]) -> tuple[Form, Optional[int]]:
    form = Form.from_data(data, REASSIGN_FIELDS)
    worker_id = whole(form.values["worker_id"])
    if worker_id is None or worker_id not in worker_ids:
        form.error("worker_id", _("Choose one of the care workers."))
        return form, None
    return form, worker_id


MOVE_FIELDS = ("move_day", "move_time", "move_worker", "version", "move_double_booking_ok")
EXTRA_FIELDS = ("service_id", "extra_day", "extra_time", "extra_duration", "extra_worker", "extra_double_booking_ok")
DURATION_RANGE = (5, 12 * 60)


def _day_and_time(form: Form, day_field: str, time_field: str) -> tuple[Optional[date], Optional[time]]:
    """A local day and time of day as typed, each with its message when it is missing or not one."""
    day = iso_day(form.values[day_field]) if form.values[day_field].strip() else None
    if day is None:
        form.error(day_field, _("Enter the day, like 2026-06-04.") if form.values[day_field].strip()
                   else _("Say on which day."))
    moment = None
    raw = form.values[time_field].strip()
    if re.fullmatch(r"\d{1,2}:\d{2}", raw):
        try:
            moment = time.fromisoformat(raw.zfill(5))
        except ValueError:
            moment = None
    if moment is None:
        form.error(time_field, _("Enter the time, like 08:30.") if raw else _("Say at what time."))
    return day, moment


def _worker_choice(form: Form, name: str, worker_ids: set[int]) -> Optional[int]:
    """The care worker chosen, if the form offers the choice; an error when it is not one of them."""
    raw = form.values[name].strip()
    if not raw:
        return None
    worker_id = whole(raw)
    if worker_id is None or worker_id not in worker_ids:
        form.error(name, _("Choose one of the care workers."))
        return None
    return worker_id


def move_form(data: object, *, worker_ids: set[int]) -> tuple[Form, Optional[date], Optional[time], Optional[int]]:
    """Moving one visit: its new day and time (local) and, if it changes, its worker."""
    form = Form.from_data(data, MOVE_FIELDS)
    day, moment = _day_and_time(form, "move_day", "move_time")
    worker_id = _worker_choice(form, "move_worker", worker_ids)
    return form, day, moment, worker_id


def extra_form(data: object, *, service_ids: set[int], worker_ids: set[int]) -> tuple[Form, dict[str, Any]]:
    """An extra visit: for which service of the active plan, when (local), how long, and who goes."""
    form = Form.from_data(data, EXTRA_FIELDS)
    service_id = whole(form.values["service_id"])
    if service_id is None or service_id not in service_ids:
        form.error("service_id", _("Choose one of the services of the active plan."))
    day, moment = _day_and_time(form, "extra_day", "extra_time")
    # Left empty, the visit lasts as long as the service's visits do.
    duration = whole(form.values["extra_duration"], low=DURATION_RANGE[0], high=DURATION_RANGE[1])
    if duration is None and form.values["extra_duration"].strip():
        form.error("extra_duration", _("Enter the length in minutes, from {low} to {high}.").format(
            low=DURATION_RANGE[0], high=DURATION_RANGE[1]))
    worker_id = _worker_choice(form, "extra_worker", worker_ids)
    return form, {"service_id": service_id, "day": day, "time": moment, "duration": duration, "worker_id": worker_id}


def status_labels() -> dict[str, str]:
    return {"scheduled": _("Scheduled"), "in_progress": _("In progress"), "completed": _("Completed"),
            "missed": _("Missed"), "cancelled": _("Cancelled")}


# --- the visit log ----------------------------------------------------------------------------

LOG_TEXT_MAX = {"location_note": 200, "internal_note": 4000, "family_summary": 2000, "concern_text": 2000}
def _text(value: str) -> str:
    # Browsers send a textarea's line breaks as CRLF; the log stores them as they are shown.
    return value.replace("\r\n", "\n").replace("\r", "\n")


def log_section_form(section: str, data: object, *, task_list: list[str]) -> tuple[Form, dict[str, Any]]:
    """One section of the log as sent: the form (its messages) and the values, typed, even when refused."""
    names = tuple(name for name in SECTIONS[section] if name != "tasks_done")
    form = Form.from_data(data, names + ("overwrite",), LOG_TEXT_MAX)
    values: dict[str, Any] = {}
    for name in names:
        raw = form.values[name]
        if name in ("family_summary_shared", "concern"):
            values[name] = raw == "on"
        elif name in ("location", "concern_severity"):
            values[name] = raw
            if raw and raw not in (LOCATIONS if name == "location" else SEVERITIES):
                form.error(name, _("Choose one of the options."))
        else:
            values[name] = _text(raw)
    if section == "tasks":
        getall = getattr(data, "getall", None)
        ticked = {str(t) for t in (getall("task", []) if getall else [])}
        if ticked - set(task_list):
            form.error("tasks_done", _("Tick tasks from this visit's checklist."))
        values["tasks_done"] = [task for task in task_list if task in ticked]
    return form, values


def log_section_base(section: str, form: Form) -> dict[str, Any]:
    """What the person's screen showed of each field of the section (typed like the values); a field it did
    not carry is left out, and the merge then counts it as changed by both wherever it differs."""
    base: dict[str, Any] = {}
    for name in SECTIONS[section]:
        raw = form.base.get(name)
        if raw is None:
            continue
        if name == "tasks_done":
            try:
                tasks = json.loads(raw)
            except ValueError:
                continue
            if isinstance(tasks, list) and all(isinstance(task, str) for task in tasks):
                base[name] = tasks
        elif name in ("family_summary_shared", "concern"):
            base[name] = raw == "on"
        else:
            base[name] = _text(raw)
    return base


def check_out_problem_fields(problems: dict[str, str], log: dict[str, Any]) -> dict[str, str]:
    """The id of the field each check-out problem is put right in: where the error summary's links go."""
    concern = "concern_severity" if log["concern_severity"] not in SEVERITIES else "concern_text"
    ids = {"location": "location-" + LOCATIONS[0], "concern": concern}
    return {name: ids.get(name, "") for name in problems}


TIMES_FIELDS = ("actual_start", "actual_end", "actual_reason")


def local_input(value: Optional[datetime], tz: str) -> str:
    """A UTC time as a datetime-local input shows it, in the facility's timezone."""
    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M") if value else ""


def times_form(data: object, *, tz: str) -> tuple[Form, Optional[datetime], Optional[datetime], str]:
    """When the visit really began and ended (local times, as typed) and why that differs from the taps."""
    form = Form.from_data(data, TIMES_FIELDS)
    moments: dict[str, Optional[datetime]] = {}
    for name in ("actual_start", "actual_end"):
        raw = form.values[name].strip()
        moments[name] = None
        if raw:
            try:
                moments[name] = datetime.fromisoformat(raw).replace(tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)
            except ValueError:
                form.error(name, _("Enter a date and time, like 2026-06-01 09:05."))
    reason = _text(form.values["actual_reason"])
    if len(reason) > TEXT_MAX:
        form.error("actual_reason", _("Use at most {limit} characters.").format(limit=TEXT_MAX))
    return form, moments["actual_start"], moments["actual_end"], reason


def action_form(data: object) -> tuple[Form, Optional[str]]:
    """What a coordinator did about a concern, as typed; None when it is refused (too long, control characters)."""
    form = Form.from_data(data, ("action_note",), {"action_note": TEXT_MAX})
    return form, _text(form.values["action_note"]) if form.ok else None


def resolve_form(data: object) -> tuple[Form, Optional[str]]:
    form = Form.from_data(data, ("resolution",), {"resolution": TEXT_MAX})
    note = _text(form.values["resolution"]).strip()
    return form, note if form.ok else None


def log_labels() -> dict[str, dict[str, str]]:
    return {
        "locations": {"home": _("The client’s home"), "facility": _("The facility"), "other": _("Somewhere else")},
        "severities": severity_labels(),
        "attendance": {"upcoming": _("Not started"), "due": _("Due now"), "late": _("Late"), "missed": _("Missed"),
                       "in_progress": _("In progress"), "completed": _("Completed"), "cancelled": _("Cancelled"),
                       "not_logged": _("Outside provider")},
    }



def family_state_labels() -> dict[str, str]:
    """A visit's state in the family's words: what happened, not how the team logs it."""
    return {"upcoming": _("Planned"), "due": _("Due now"), "late": _("Running late"),
            "missed": _("Missed: nobody came"), "in_progress": _("Happening now"), "completed": _("Done"),
            "cancelled": _("Cancelled: this visit will not happen"), "not_logged": _("Planned")}


def labels() -> dict[str, Any]:
    """Every name the visit pages show for a stored value, for the templates."""
    return {"kinds": kind_labels(), "statuses": status_labels(), "states": log_labels()["attendance"]}
