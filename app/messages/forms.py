"""Input of the message forms: a message (or team-only note), and one's email preference."""

from __future__ import annotations

from typing import Optional

from app.i18n import _
from app.messages.services import MESSAGE_MAX, message_body_clean, message_body_problem
from app.messages.tables import EmailMode
from app.web.forms import Form, idempotency_key, submitted_key

MESSAGE_FIELDS = ("body", "team_only", "return_to", "key")
PREFERENCE_FIELDS = ("email",)
RETURN_TO = ("thread", "family")


def message_form(data: object, *, may_team_note: bool) -> tuple[Form, Optional[dict]]:
    """The compose form; the message is None while something needs correcting (the text is kept)."""
    # The body keeps its own message (with the count) up to twice its limit; past that the form's.
    form = Form.from_data(data, MESSAGE_FIELDS, {"body": MESSAGE_MAX * 2})
    if form.values["return_to"] not in RETURN_TO:
        form.values["return_to"] = "thread"
    # A form re-rendered with a message keeps its key: sending it again is still the same message.
    form.values["key"] = submitted_key(data) or idempotency_key()
    body = message_body_clean(form.values["body"])
    problem = message_body_problem(body)
    if problem:
        form.error("body", problem)
    team_only = form.values["team_only"] in ("on", "1", "true", "yes")
    if team_only and not may_team_note:
        form.error("team_only", _("Only the care team can write team-only notes."))
    if not form.ok:
        return form, None
    return form, {"body": body, "team_only": team_only, "key": submitted_key(data)}


def compose_form(*, view: str) -> Form:
    """A fresh compose form, with the key that makes its submission happen once."""
    return Form(values={"return_to": view, "key": idempotency_key()})


def preference_form(data: object) -> tuple[Form, Optional[str]]:
    form = Form.from_data(data, PREFERENCE_FIELDS)
    mode = form.choice("email", tuple(mode.value for mode in EmailMode))
    return form, mode if form.ok else None


def email_mode_labels() -> list[tuple[str, str, str]]:
    """(value, label, hint) for each choice, in the order shown."""
    return [
        (EmailMode.each.value, _("An email for each new message"),
         _("Sent a few moments after someone writes. It says who wrote about whom, not what.")),
        (EmailMode.digest.value, _("One summary email a day"),
         _("Sent each morning when there are unread messages.")),
        (EmailMode.none.value, _("No emails about messages"),
         _("You will see new messages when you sign in.")),
    ]
