"""Input of the tablet forms: PIN, device name, and the facility settings beside them."""

from __future__ import annotations

from typing import Optional

from app.accounts.forms import PASSWORD_LIMITS
from app.accounts.tables import Device
from app.i18n import _
from app.tablets.services import ANSWER_HOURS_RANGE, IDLE_LOCK_RANGE, pin_problem
from app.visits.rules import CONCERN_ESCALATION_RANGE, GRACE_RANGE
from app.web.forms import Form


def pin_set_form(data: object) -> Form:
    form = Form.from_data(data, ("current_password", "pin", "confirm_pin"), PASSWORD_LIMITS)
    if not form.values["current_password"]:
        form.error("current_password", _("Enter your current password."))
    problem = pin_problem(form.values["pin"].strip())
    if problem:
        form.error("pin", problem)
    elif form.values["pin"].strip() != form.values["confirm_pin"].strip():
        form.error("confirm_pin", _("The two PINs are not the same."))
    return form


def unlock_form(data: object) -> Form:
    form = Form.from_data(data, ("pin",))
    if not form.values["pin"].strip():
        form.error("pin", _("Enter your PIN."))
    return form


def device_form(data: object) -> Form:
    form = Form.from_data(data, ("name",), {"name": Device.name.length})
    form.required("name", _("Give the tablet a name people will recognise, like \u201cLounge tablet\u201d."))
    return form


# Facility column -> (lowest, highest): the settings an admin changes beside the tablets.
FACILITY_SETTINGS = {
    "idle_lock_minutes": IDLE_LOCK_RANGE,
    "visit_grace_minutes": GRACE_RANGE,
    "message_answer_hours": ANSWER_HOURS_RANGE,
    "concern_escalation_minutes": CONCERN_ESCALATION_RANGE,
}


def facility_settings_form(data: object) -> tuple[Form, Optional[dict[str, int]]]:
    form = Form.from_data(data, tuple(FACILITY_SETTINGS))
    values = {name: form.whole_number(name, low, high) for name, (low, high) in FACILITY_SETTINGS.items()}
    return (form, values) if form.ok else (form, None)
