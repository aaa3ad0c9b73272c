"""Input of the account forms: sign-in, new user, password changes."""

from __future__ import annotations

from app.accounts.passwords import MAX_LENGTH, password_problem
from app.accounts.tables import Role, User
from app.i18n import _
from app.web.forms import Form

LOGIN_FIELDS = ("email", "password", "next")
USER_FIELDS = ("email", "display_name", "role")
PASSWORD_CHANGE_FIELDS = ("current_password", "new_password", "confirm_password")
PASSWORD_SET_FIELDS = ("new_password", "confirm_password")
# A password longer than any Kinward accepts cannot match; a little room keeps the message about length.
PASSWORD_LIMITS = {name: MAX_LENGTH * 4 for name in ("password", "current_password", "new_password",
                                                     "confirm_password")}
LOGIN_LIMITS = {"email": User.email.length, "next": 2000, **PASSWORD_LIMITS}
USER_LIMITS = {"email": User.email.length, "display_name": User.display_name.length}


def login_form(data: object) -> Form:
    form = Form.from_data(data, LOGIN_FIELDS, LOGIN_LIMITS)
    form.required("email", _("Enter your email address."))
    if not form.values["password"]:
        form.error("password", _("Enter your password."))
    return form


def user_form(data: object) -> Form:
    form = Form.from_data(data, USER_FIELDS, USER_LIMITS)
    form.email("email")
    form.required("display_name", _("Enter the person's name."))
    form.choice("role", tuple(r.value for r in Role))
    return form


def new_password_checked(form: Form, *, email: str = "") -> None:
    new = form.values["new_password"]
    problem = password_problem(new, email=email)
    if problem:
        form.error("new_password", problem)
    elif new != form.values["confirm_password"]:
        form.error("confirm_password", _("The two passwords are not the same."))


def password_change_form(data: object, *, email: str) -> Form:
    form = Form.from_data(data, PASSWORD_CHANGE_FIELDS, PASSWORD_LIMITS)
    if not form.values["current_password"]:
        form.error("current_password", _("Enter your current password."))
    new_password_checked(form, email=email)
    return form


def password_set_form(data: object, *, email: str) -> Form:
    form = Form.from_data(data, PASSWORD_SET_FIELDS, PASSWORD_LIMITS)
    new_password_checked(form, email=email)
    return form
