"""Input of the visit forms: cancelling and reassigning one visit."""

from __future__ import annotations

from typing import Optional

from app.i18n import _
from app.web.forms import Form

TEXT_MAX = 2000
CANCEL_FIELDS = ("reason", "version")
REASSIGN_FIELDS = ("worker_id", "version", "double_booking_ok")


def form_version(form: Form) -> int:
    value = form.values.get("version", "")
    return int(value) if value.isdigit() else 0


def cancel_form(data: object) -> tuple[Form, Optional[str]]:
    form = Form.from_data(data, CANCEL_FIELDS)
    reason = form.required("reason", _("Say why the visit is cancelled, e.g. “In hospital”."))
    if len(reason) > TEXT_MAX:
        form.error("reason", _("Use at most {limit} characters.").format(limit=TEXT_MAX))
    return form, reason if form.ok else None


def reassign_form(data: object, *, worker_ids: set[int]) -> tuple[Form, Optional[int]]:
    form = Form.from_data(data, REASSIGN_FIELDS)
    raw = form.values["worker_id"]
    if not raw.isdigit() or int(raw) not in worker_ids:
        form.error("worker_id", _("Choose one of the care workers."))
        return form, None
    return form, int(raw)


def status_labels() -> dict[str, str]:
    return {"scheduled": _("Scheduled"), "in_progress": _("In progress"), "completed": _("Completed"),
            "missed": _("Missed"), "cancelled": _("Cancelled")}
