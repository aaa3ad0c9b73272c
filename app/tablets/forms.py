"""Input of the tablet forms: PIN, device name, idle-lock minutes, and the grace time of late visits."""

from __future__ import annotations

from typing import Optional

from app.i18n import _
from app.tablets.services import IDLE_LOCK_RANGE, pin_problem
from app.visits.rules import GRACE_RANGE
from app.web.forms import Form


def pin_set_form(data: object) -> Form:
    form = Form.from_data(data, ("current_password", "pin", "confirm_pin"))
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
    form = Form.from_data(data, ("name",))
    name = form.required("name", _("Give the tablet a name people will recognise, like \u201cLounge tablet\u201d."))
    if len(name) > 100:
        form.error("name", _("Use at most 100 characters."))
    return form


def idle_lock_form(data: object) -> tuple[Form, Optional[int]]:
    form = Form.from_data(data, ("minutes",))
    low, high = IDLE_LOCK_RANGE
    raw = form.values["minutes"].strip()
    if not raw.isdigit() or not low <= int(raw) <= high:
        form.error("minutes", _("Enter a whole number of minutes from 1 to 60."))
        return form, None
    return form, int(raw)


def visit_grace_form(data: object) -> tuple[Form, Optional[int]]:
    form = Form.from_data(data, ("grace",))
    low, high = GRACE_RANGE
    raw = form.values["grace"].strip()
    if not raw.isdigit() or not low <= int(raw) <= high:
        form.error("grace", _("Enter a whole number of minutes from %(low)d to %(high)d.") % {"low": low, "high": high})
        return form, None
    return form, int(raw)
