"""Input of the care-plan forms: plan details, goals, services, activation and closing."""

from __future__ import annotations

from datetime import date, time
from typing import Any, Optional

from app.careplans.queries import weekdays_of
from app.careplans.schedule import DURATION_MAX
from app.careplans.services import GoalDetails, PlanDetails, ServiceDetails
from app.careplans.tables import GoalStatus, Service, ServiceKind
from app.i18n import _
from app.web.forms import Form, idempotency_key, submitted_key, whole

TEXT_MAX = 4000
SHORT_MAX = 200
TASKS_MAX = 20

PLAN_FIELDS = ("summary", "starts_on", "review_due", "ends_on", "revision")
GOAL_FIELDS = ("description", "target_date", "status", "version")
SERVICE_FIELDS = ("kind", "worker_id", "provider_name", "start_time", "duration_minutes", "starts_on", "ends_on",
                  "instructions", "tasks", "version")
CLOSE_FIELDS = ("reason",)
GOAL_NOTE_FIELDS = ("body", "version", "key")
# Field -> most characters (the columns of goals and services are Text but for the provider's name).
PLAN_LIMITS = {"summary": TEXT_MAX}
GOAL_LIMITS = {"description": TEXT_MAX}
SERVICE_LIMITS = {"provider_name": Service.provider_name.length, "instructions": TEXT_MAX,
                  "tasks": TASKS_MAX * (SHORT_MAX + 2)}
CLOSE_LIMITS = {"reason": TEXT_MAX}
GOAL_NOTE_LIMITS = {"body": TEXT_MAX}


def form_number(form: Form, name: str) -> int:
    value = form.values.get(name, "").strip()
    return whole(value) or 0


def plan_form(data: object) -> tuple[Form, Optional[PlanDetails]]:
    form = Form.from_data(data, PLAN_FIELDS, PLAN_LIMITS)
    summary = form.values["summary"].strip()
    starts_on = form.required_date("starts_on", _("Enter the day care under this plan starts."))
    review_due = form.optional_date("review_due")
    ends_on = form.optional_date("ends_on")
    if starts_on and ends_on and ends_on < starts_on:
        form.error("ends_on", _("The end date is before the start date."))
    if starts_on and review_due and review_due < starts_on:
        form.error("review_due", _("The review date is before the plan starts."))
    if not form.ok or starts_on is None:
        return form, None
    return form, PlanDetails(summary=summary, starts_on=starts_on, review_due=review_due, ends_on=ends_on)


def goal_form(data: object) -> tuple[Form, Optional[GoalDetails]]:
    form = Form.from_data(data, GOAL_FIELDS, GOAL_LIMITS)
    if not form.values["status"]:
        form.values["status"] = GoalStatus.not_started.value
    description = form.required("description", _("Describe the goal, e.g. “Walks to the shop with a frame”."))
    target_date = form.optional_date("target_date")
    status = form.choice("status", tuple(s.value for s in GoalStatus))
    if not form.ok:
        return form, None
    return form, GoalDetails(description=description, target_date=target_date, status=status)


def goal_note_form(data: object) -> tuple[Form, str]:
    """A note on a goal: its text (required), and the version it corrects or the new note's form key."""
    form = Form.from_data(data, GOAL_NOTE_FIELDS, GOAL_NOTE_LIMITS)
    form.values["key"] = submitted_key(data) or idempotency_key()
    body = form.required("body", _("Write the note: what happened towards this goal."))
    return form, body


def goal_note_blank() -> Form:
    return Form(values={"key": idempotency_key()})


def _time(form: Form, name: str) -> Optional[time]:
    value = form.values.get(name, "").strip()
    try:
        parsed = time.fromisoformat(value) if value else None
    except ValueError:
        parsed = None
    if parsed is None:
        form.error(name, _("Enter a time like 09:30."))
        return None
    return parsed.replace(second=0, microsecond=0)


def _weekdays(data: object) -> str:
    getall = getattr(data, "getall", None)
    chosen = getall("weekdays", []) if getall else []
    return ",".join(sorted({d for d in chosen if d in {"1", "2", "3", "4", "5", "6", "7"}}))


def service_form(data: object, *, worker_ids: set[int]) -> tuple[Form, Optional[ServiceDetails]]:
    """The service form; details are None while anything needs correcting."""
    form = Form.from_data(data, SERVICE_FIELDS, SERVICE_LIMITS)
    form.values["weekdays"] = _weekdays(data)
    kind = form.choice("kind", tuple(k.value for k in ServiceKind))
    raw_worker = form.values["worker_id"]
    provider = form.values["provider_name"].strip()
    worker_id: Optional[int] = None
    if raw_worker:
        if whole(raw_worker) not in worker_ids:
            form.error("worker_id", _("Choose one of the care workers."))
        else:
            worker_id = whole(raw_worker)
            if provider:
                form.error("provider_name", _("Choose a care worker or name another provider, not both."))
    elif not provider:
        form.error("worker_id", _("Choose a care worker, or name the provider below."))
    weekdays = weekdays_of(form.values["weekdays"])
    if not weekdays:
        form.error("weekdays", _("Choose at least one day of the week."))
    start_time = _time(form, "start_time")
    duration_text = form.values["duration_minutes"].strip()
    duration = 0
    if whole(duration_text.removeprefix("-")) is None:
        form.error("duration_minutes", _("Enter the duration in minutes, like 30."))
    else:
        duration = int(duration_text)
        if duration <= 0:
            form.error("duration_minutes", _("The duration must be at least one minute."))
        elif duration > DURATION_MAX:
            form.error("duration_minutes", _("A visit can last at most 24 hours (1440 minutes)."))
    starts_on = form.required_date("starts_on", _("Enter the first day of the service."))
    ends_on = form.optional_date("ends_on")
    if starts_on and ends_on and ends_on < starts_on:
        form.error("ends_on", _("The end date is before the start date."))
    instructions = form.values["instructions"].strip()
    tasks = tuple(line.strip() for line in form.values["tasks"].splitlines() if line.strip())
    if len(tasks) > TASKS_MAX:
        form.error("tasks", _("List at most {n} tasks, one per line.").format(n=TASKS_MAX))
    elif any(len(task) > SHORT_MAX for task in tasks):
        form.error("tasks", _("Keep each task under {limit} characters.").format(limit=SHORT_MAX))
    if not form.ok or start_time is None or starts_on is None:
        return form, None
    return form, ServiceDetails(kind=kind, worker_id=worker_id, provider_name="" if worker_id else provider,
                                weekdays=weekdays, start_time=start_time, duration_minutes=duration,
                                starts_on=starts_on, ends_on=ends_on, instructions=instructions, tasks=tasks)


def close_form(data: object) -> tuple[Form, Optional[str]]:
    form = Form.from_data(data, CLOSE_FIELDS, CLOSE_LIMITS)
    reason = form.required("reason", _("Say why care under this plan ends, e.g. “Moved to residential care”."))
    return form, reason if form.ok else None


def as_text(value: object) -> str:
    """A stored value as the text a person would type into the form."""
    if value is None:
        return ""
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def plan_values(plan: dict) -> dict[str, str]:
    return {name: as_text(plan.get(name)) for name in PLAN_FIELDS}


def goal_values(goal: dict) -> dict[str, str]:
    return {name: as_text(goal.get(name)) for name in GOAL_FIELDS}


def service_values(service: dict) -> dict[str, str]:
    values = {name: as_text(service.get(name)) for name in SERVICE_FIELDS}
    values["weekdays"] = service["weekdays"]
    values["tasks"] = "\n".join(service["task_list"])
    return values


def kind_labels() -> dict[str, str]:
    return {
        "personal_care": _("Personal care"),
        "meals": _("Meals"),
        "medication_prompt": _("Medication prompt"),
        "nursing": _("Nursing"),
        "therapy": _("Therapy"),
        "transport": _("Transport"),
        "social_contact": _("Social contact"),
        "other": _("Other"),
    }


def goal_status_labels() -> dict[str, str]:
    return {
        "not_started": _("Not started"),
        "in_progress": _("In progress"),
        "achieved": _("Achieved"),
        "discontinued": _("Discontinued"),
    }


def plan_status_labels() -> dict[str, str]:
    return {"draft": _("Draft"), "active": _("Active"), "superseded": _("Superseded"), "closed": _("Closed")}


def weekday_labels() -> list[tuple[str, str]]:
    return [("1", _("Monday")), ("2", _("Tuesday")), ("3", _("Wednesday")), ("4", _("Thursday")),
            ("5", _("Friday")), ("6", _("Saturday")), ("7", _("Sunday"))]


def field_labels() -> dict[str, str]:
    return {
        "summary": _("Summary"), "starts_on": _("Starts on"), "review_due": _("Review due"),
        "ends_on": _("Planned end"), "description": _("Goal"), "target_date": _("Target date"),
        "status": _("Status"), "kind": _("Kind of service"), "worker_id": _("Care worker"),
        "provider_name": _("Other provider"), "weekday_set": _("Days"), "weekdays": _("Days"),
        "start_time": _("Start time"), "duration_minutes": _("Duration (minutes)"),
        "instructions": _("Instructions"), "task_list": _("Task checklist"), "tasks": _("Task checklist"),
    }


def labels() -> dict[str, Any]:
    """Every name a care plan's pages show for a stored value, for the templates."""
    return {"kinds": kind_labels(), "goal_statuses": goal_status_labels(), "plan_statuses": plan_status_labels(),
            "weekdays": weekday_labels(), "fields": field_labels()}
