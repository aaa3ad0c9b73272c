"""Input of the visit forms: cancelling and reassigning one visit, and logging it."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Optional
from zoneinfo import ZoneInfo

from app.i18n import _
from app.visits.rules import LOCATIONS, SECTIONS, SEVERITIES
from app.web.forms import Form, idempotency_key, submitted_key, whole  # noqa: F401  (the log's forms use both)

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
    form = Form.from_data(data, names + ("version", "basis", "overwrite"), LOG_TEXT_MAX)
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


def resolve_form(data: object) -> tuple[Form, Optional[str]]:
    form = Form.from_data(data, ("resolution",), {"resolution": TEXT_MAX})
    note = _text(form.values["resolution"]).strip()
    return form, note if form.ok else None


def log_labels() -> dict[str, dict[str, str]]:
    return {
        "locations": {"home": _("The client’s home"), "facility": _("The facility"), "other": _("Somewhere else")},
        "severities": {"low": _("Low: worth knowing"), "medium": _("Medium: needs a look soon"),
                       "high": _("High: needs action today")},
        "attendance": {"upcoming": _("Not started"), "due": _("Due now"), "late": _("Late"), "missed": _("Missed"),
                       "in_progress": _("In progress"), "completed": _("Completed"), "cancelled": _("Cancelled"),
                       "not_logged": _("Outside provider")},
    }



def family_state_labels() -> dict[str, str]:
    """A visit's state in the family's words: what happened, not how the team logs it."""
    return {"upcoming": _("Planned"), "due": _("Due now"), "late": _("Running late"),
            "missed": _("Missed: nobody came"), "in_progress": _("Happening now"), "completed": _("Done"),
            "cancelled": _("Cancelled: this visit will not happen"), "not_logged": _("Planned")}
