"""Input of the client forms: intake and edit, status, contacts, care team, family, break-glass."""

from __future__ import annotations

from datetime import date
from typing import Optional

from app.clients.queries import EDITABLE_FIELDS, search_key
from app.clients.services import BREAK_GLASS_REASON_MIN, ClientDetails
from app.clients.tables import Client, ClientContact, ClientStatus, FamilyLink
from app.accounts.tables import User
from app.i18n import _
from app.web.forms import Form, whole
from app.web.forms import optional_email as _optional_email, phone as _phone

SHORT_MAX = 200
TEXT_MAX = 4000
EARLIEST_BIRTH = date(1900, 1, 1)

LONG_TEXT_FIELDS = ("address", "allergies", "mobility", "communication", "what_matters", "risks",
                    "care_instructions", "confidential_notes")

# Field -> most characters: a Varchar column's own length; the Text columns share TEXT_MAX.
CLIENT_LIMITS = {
    **{name: getattr(Client, name).length for name in ("first_name", "last_name", "preferred_name", "phone", "email",
                                                        "language", "flag")},
    **{name: TEXT_MAX for name in ("address", "allergies", "mobility", "communication", "what_matters", "risks",
                                   "care_instructions", "confidential_notes")},
}
CONTACT_LIMITS = {name: getattr(ClientContact, name).length for name in ("name", "relationship", "phone", "email")}
CONTACT_LIMITS["notes"] = TEXT_MAX
FAMILY_LIMITS = {"display_name": User.display_name.length, "email": User.email.length,
                 "relationship": FamilyLink.relationship.length}
REASON_LIMITS = {"reason": TEXT_MAX}

STATUS_FIELDS = ("version", "to_status", "effective_on", "reason")
CONTACT_FIELDS = ("name", "relationship", "phone", "email", "notes", "emergency")
TEAM_FIELDS = ("user_id", "since", "until")
TEAM_END_FIELDS = ("until", "version")
# A removal carries the version of the row the page showed: a stale or half-arrived form removes nothing.
REMOVAL_FIELDS = ("version",)
FAMILY_FIELDS = ("display_name", "email", "relationship", "may_see_schedule", "may_see_visit_summaries",
                 "may_message")
BREAK_GLASS_FIELDS = ("reason",)


def _checked(form: Form, name: str) -> bool:
    return form.values.get(name, "") in ("on", "true", "1", "yes")


def client_form(data: object, *, today: date) -> tuple[Form, Optional[ClientDetails]]:
    """The intake and edit form; details are None while anything needs correcting."""
    form = Form.from_data(data, EDITABLE_FIELDS + ("version",), CLIENT_LIMITS)
    first = form.required("first_name", _("Enter the client's first name."))
    last = form.required("last_name", _("Enter the client's last name."))
    birth = form.required_date("date_of_birth", _("Enter the date of birth."))
    if birth is not None and birth > today:
        form.error("date_of_birth", _("The date of birth cannot be in the future."))
    elif birth is not None and birth < EARLIEST_BIRTH:
        form.error("date_of_birth", _("Enter a date of birth after 1900."))
    phone = _phone(form, "phone")
    email = _optional_email(form, "email")
    if form.ok and len(search_key(first, last, form.values["preferred_name"])) > Client.search_name.length:
        # Some letters spell out into several when folded for search; past the column it cannot be found.
        form.error("first_name", _("These names are too long to be searched for. Shorten them."))
    review_due = form.optional_date("review_due")
    if not form.ok:
        return form, None
    text = {name: form.values.get(name, "").strip() for name in LONG_TEXT_FIELDS + ("preferred_name", "language", "flag")}
    return form, ClientDetails(first_name=first, last_name=last, date_of_birth=birth, phone=phone, email=email,
                               review_due=review_due, **text)


def form_version(form: Form) -> int:
    value = form.values.get("version", "")
    return whole(value) or 0


def status_form(data: object, *, current: str) -> tuple[Form, Optional[dict]]:
    form = Form.from_data(data, STATUS_FIELDS, REASON_LIMITS)
    form.choice("to_status", tuple(s.value for s in ClientStatus if s.value != current))
    effective_on = form.required_date("effective_on", _("Enter the date of the change."))
    reason = form.required("reason", _("Give the reason for the change."))
    if not form.ok:
        return form, None
    return form, {"to_status": form.values["to_status"], "effective_on": effective_on, "reason": reason,
                  "version": form_version(form)}


def contact_form(data: object) -> tuple[Form, Optional[dict]]:
    form = Form.from_data(data, CONTACT_FIELDS, CONTACT_LIMITS)
    name = form.required("name", _("Enter the contact's name."))
    phone = _phone(form, "phone")
    email = _optional_email(form, "email")
    if not form.values["phone"].strip() and not form.values["email"].strip():
        form.error("phone", _("Give a phone number or an email address."))
    if not form.ok:
        return form, None
    return form, {"name": name, "relationship": form.values["relationship"].strip(), "phone": phone, "email": email,
                  "notes": form.values["notes"].strip(), "emergency": _checked(form, "emergency")}


def team_form(data: object, *, candidate_ids: set[int]) -> tuple[Form, Optional[dict]]:
    form = Form.from_data(data, TEAM_FIELDS)
    user_id = whole(form.values["user_id"])
    if user_id not in candidate_ids:
        form.error("user_id", _("Choose a coordinator or care worker."))
    since = form.required_date("since", _("Enter the first day on the team."))
    until = form.optional_date("until")
    if since and until and until < since:
        form.error("until", _("The end date is before the start date."))
    if not form.ok:
        return form, None
    return form, {"user_id": user_id, "since": since, "until": until}


def team_end_form(data: object) -> tuple[Form, Optional[dict]]:
    form = Form.from_data(data, TEAM_END_FIELDS)
    until = form.required_date("until", _("Enter the last day on the team."))
    return form, {"until": until, "version": form_version(form)} if form.ok else None


def removal_form(data: object) -> int:
    """The version of the contact or family link the page showed (0, which no row has, when missing)."""
    return form_version(Form.from_data(data, REMOVAL_FIELDS))


def family_form(data: object) -> tuple[Form, Optional[dict]]:
    form = Form.from_data(data, FAMILY_FIELDS, FAMILY_LIMITS)
    name = form.required("display_name", _("Enter the family member's name."))
    email = form.email("email")
    relationship = form.required("relationship", _("Say how they are related to the client, e.g. daughter."))
    if not form.ok:
        return form, None
    return form, {"display_name": name, "email": email, "relationship": relationship,
                  "may_see_schedule": _checked(form, "may_see_schedule"),
                  "may_see_visit_summaries": _checked(form, "may_see_visit_summaries"),
                  "may_message": _checked(form, "may_message")}


def break_glass_form(data: object) -> tuple[Form, Optional[str]]:
    form = Form.from_data(data, BREAK_GLASS_FIELDS, REASON_LIMITS)
    reason = form.required("reason", _("Explain in a sentence why you need to open this record now."))
    if reason and len(reason) < BREAK_GLASS_REASON_MIN:
        form.error("reason", _("Explain in a sentence why you need to open this record now."))
    return form, reason if form.ok else None


def values_from_record(record: dict) -> dict[str, str]:
    """A stored client as form values (the strings a person would have typed)."""
    values = {}
    for name in EDITABLE_FIELDS:
        value = record.get(name)
        values[name] = "" if value is None else (value.isoformat() if isinstance(value, date) else str(value))
    values["version"] = str(record.get("version", ""))
    return values


def normal_value(name: str, value: str) -> str:
    """A field as compared between two edits: emails are the same in any case."""
    return value.strip().lower() if name == "email" else value.strip()


def field_labels() -> dict[str, str]:
    return {
        "first_name": _("First name"),
        "last_name": _("Last name"),
        "preferred_name": _("Preferred name"),
        "date_of_birth": _("Date of birth"),
        "address": _("Address"),
        "phone": _("Phone"),
        "email": _("Email"),
        "language": _("Preferred language"),
        "allergies": _("Allergies"),
        "mobility": _("Mobility"),
        "communication": _("Communication"),
        "what_matters": _("What matters to the person"),
        "risks": _("Other risks"),
        "care_instructions": _("Care instructions"),
        "flag": _("Flag for the team"),
        "review_due": _("Care review due"),
        "confidential_notes": _("Confidential notes"),
    }


def status_labels() -> dict[str, str]:
    return {"referral": _("Referral"), "active": _("Active"), "paused": _("Paused"), "discharged": _("Discharged")}


def action_labels() -> dict[str, str]:
    """How the access log names each kind of event."""
    return {
        "client.created": _("Created the record"),
        "client.viewed": _("Opened the record"),
        "client.updated": _("Changed details"),
        "client.status_changed": _("Changed the status"),
        "client.contact_added": _("Added a contact"),
        "client.contact_removed": _("Removed a contact"),
        "client.team_member_added": _("Added to the care team"),
        "client.team_member_ended": _("Ended a care-team membership"),
        "client.family_invited": _("Linked a family member"),
        "client.family_link_ended": _("Ended a family link"),
        "client.break_glass": _("Emergency access"),
        "client.exported": _("Exported the records (subject access)"),
    }


def access_labels() -> dict[tuple[str, str], str]:
    """How the family's access log says what a person did: viewed or changed, and which part of the record."""
    return {
        ("viewed", "record"): _("Viewed the record"), ("changed", "record"): _("Changed the record"),
        ("viewed", "plan"): _("Viewed the care plan"), ("changed", "plan"): _("Changed the care plan"),
        ("viewed", "visit"): _("Viewed visits"), ("changed", "visit"): _("Changed a visit"),
        ("viewed", "messages"): _("Read messages"), ("changed", "messages"): _("Wrote a message"),
    }
