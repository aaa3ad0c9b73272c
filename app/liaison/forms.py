"""Input of the liaison forms: agencies, providers, referrals and their steps, summaries, share links."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Optional

from app.i18n import _
from app.clients.queries import search_key
from app.liaison.queries import DEFAULT_SECTIONS, SECTIONS
from app.liaison.rules import URGENCY_DAYS, ReferralStatus, expected_answer_default
from app.liaison.services import AgencyDetails, ReferralDetails, ShareDetails
from app.liaison.tables import Agency, AgencyKind, ShareLink
from app.web.forms import Form, optional_email, phone, whole
from app.web.forms import max_length as _max_length

SHORT_MAX = 200
TEXT_MAX = 4000
AGENCY_FIELDS = ("version", "name", "kind", "address", "phone", "email", "notes")
PROVIDER_FIELDS = ("agency_id", "role", "contact_name")
REFERRAL_FIELDS = ("agency_id", "reason", "request", "urgency", "consent_by", "consent_on", "expected_by",
                   "shareable", "send")
STEP_FIELDS = ("version", "to_status", "note", "outcome", "channel")
LINK_STEP_FIELDS = ("to_status", "note", "outcome")
SECTION_FIELDS = tuple(f"section_{s}" for s in SECTIONS)
DISCLOSE_FIELDS = SECTION_FIELDS + ("recipient", "reason")
SHARE_FIELDS = SECTION_FIELDS + ("agency_id", "recipient_name", "recipient_email", "reason", "expires", "allow_fhir")
# Field -> most characters: a Varchar column's own length, TEXT_MAX for Text columns; the rest FIELD_MAX.
LIMITS = {"address": TEXT_MAX, "notes": TEXT_MAX, "reason": TEXT_MAX, "request": TEXT_MAX, "note": TEXT_MAX,
          "outcome": TEXT_MAX, "phone": Agency.phone.length, "email": Agency.email.length,
          "recipient_email": ShareLink.recipient_email.length}
# How long a share link may work, as offered on the form (hours).
SHARE_EXPIRY_HOURS = (1, 4, 24, 72, 168, 336, 720)
URGENCIES = tuple(URGENCY_DAYS)


def kind_labels() -> dict[str, str]:
    return {
        "gp": _("GP practice"), "hospital": _("Hospital"), "community_nursing": _("Community nursing"),
        "pharmacy": _("Pharmacy"), "therapy": _("Therapy"), "day_centre": _("Day centre"), "meals": _("Meals"),
        "transport": _("Transport"), "housing": _("Housing"), "benefits_advice": _("Benefits advice"),
        "other": _("Other"),
    }


def status_labels() -> dict[str, str]:
    return {
        "draft": _("Draft"), "sent": _("Sent"), "received": _("Received"), "accepted": _("Accepted"),
        "declined": _("Declined"), "in_progress": _("In progress"), "completed": _("Completed"),
        "cancelled": _("Cancelled"),
    }


def urgency_labels() -> dict[str, str]:
    return {"urgent": _("Urgent (answer within 2 days)"), "soon": _("Soon (within a week)"),
            "routine": _("Routine (within two weeks)")}


def section_labels() -> dict[str, str]:
    return {
        "needs": _("Key needs, risks and allergies"), "plan": _("Current care plan: goals and services"),
        "team": _("Care team and providers"), "visits": _("Visits of the last 14 days"),
        "referrals": _("Active referrals"), "family_summaries": _("Visit summaries shared with the family"),
        "referral": _("The referral"),
    }


def channel_labels() -> dict[str, str]:
    return {"kinward": _("in Kinward"), "link": _("through the agency's link"), "phone": _("answer given by phone"),
            "email": _("by email")}


def labels() -> dict[str, dict[str, str]]:
    kinds = kind_labels()
    return {"kinds": kinds, "kind_options": list(kinds.items()), "statuses": status_labels(),
            "urgencies": urgency_labels(), "urgency_options": list(urgency_labels().items()),
            "sections": section_labels(), "channels": channel_labels(), "disclosures": disclosure_labels()}


def disclosure_labels() -> dict[str, str]:
    return {"print": _("Printed summary"), "fhir": _("FHIR export"), "share_created": _("Share link created"),
            "share_opened": _("Share link opened"), "share_fhir": _("FHIR downloaded through a share link"),
            "referral_sent": _("Referral sent"), "referral_answered": _("Referral answered through its link"),
            "subject_access": _("All records exported (subject access)")}


def agency_form(data: object) -> tuple[Form, Optional[AgencyDetails]]:
    form = Form.from_data(data, AGENCY_FIELDS, LIMITS)
    name = form.required("name", _("Enter the agency's name."))
    _max_length(form, "name", SHORT_MAX)
    if len(search_key(name)) > Agency.search_name.length:
        # Some letters spell out into several when folded for search; past the column it cannot be found.
        form.error("name", _("This name is too long to be searched for. Shorten it."))
    kind = form.choice("kind", tuple(k.value for k in AgencyKind))
    phone_number = phone(form, "phone")
    email = optional_email(form, "email")
    address = _max_length(form, "address", TEXT_MAX)
    notes = _max_length(form, "notes", TEXT_MAX)
    if not form.ok:
        return form, None
    return form, AgencyDetails(name=name, kind=kind, address=address, phone=phone_number, email=email, notes=notes)


def form_version(form: Form) -> int:
    value = form.values.get("version", "")
    return whole(value) or 0


def _agency_choice(form: Form, agency_ids: set[int], required: bool = True) -> Optional[int]:
    value = form.values.get("agency_id", "").strip()
    if not value and not required:
        return None
    agency_id = whole(value)
    if agency_id is None or agency_id not in agency_ids:
        form.error("agency_id", _("Choose an agency from the directory."))
        return None
    return agency_id


def provider_form(data: object, *, agency_ids: set[int]) -> tuple[Form, Optional[dict]]:
    form = Form.from_data(data, PROVIDER_FIELDS, LIMITS)
    agency_id = _agency_choice(form, agency_ids)
    role = form.choice("role", tuple(k.value for k in AgencyKind))
    contact = _max_length(form, "contact_name", SHORT_MAX)
    if not form.ok:
        return form, None
    return form, {"agency_id": agency_id, "role": role, "contact_name": contact}


def referral_defaults(*, today: date) -> dict[str, str]:
    return {"urgency": "routine", "consent_on": today.isoformat(), "send": "on"}


def referral_form(data: object, *, agency_ids: set[int], today: date) -> tuple[Form, Optional[ReferralDetails], bool]:
    """The referral typed, its expected answer date defaulting from the urgency; and whether to send it now."""
    form = Form.from_data(data, REFERRAL_FIELDS, LIMITS)
    agency_id = _agency_choice(form, agency_ids)
    reason = form.required("reason", _("Say why the client is referred."))
    _max_length(form, "reason", TEXT_MAX)
    request = _max_length(form, "request", TEXT_MAX)
    urgency = form.choice("urgency", URGENCIES)
    consent_by = form.required("consent_by", _("Record who gave consent to this referral."))
    _max_length(form, "consent_by", SHORT_MAX)
    consent_on = None
    if not form.values.get("consent_on", "").strip():
        form.error("consent_on", _("Enter the date consent was given."))
    else:
        consent_on = form.optional_date("consent_on")
        if consent_on is not None and consent_on > today:
            form.error("consent_on", _("Consent cannot be given in the future."))
    expected_by = form.optional_date("expected_by")
    if expected_by is None and "expected_by" not in form.errors and urgency in URGENCIES:
        expected_by = expected_answer_default(urgency=urgency, on=today)
    if expected_by is not None and expected_by < today:
        form.error("expected_by", _("The answer date cannot be in the past."))
    if not form.ok:
        return form, None, False
    details = ReferralDetails(agency_id=agency_id, reason=reason, request=request, urgency=urgency,
                              consent_by=consent_by, consent_on=consent_on, expected_by=expected_by,
                              shareable=form.values.get("shareable") == "on")
    return form, details, form.values.get("send") == "on"


def step_form(data: object) -> tuple[Form, Optional[dict]]:
    form = Form.from_data(data, STEP_FIELDS, LIMITS)
    to_status = form.choice("to_status", tuple(s.value for s in ReferralStatus))
    note = _max_length(form, "note", TEXT_MAX)
    outcome = _max_length(form, "outcome", TEXT_MAX)
    channel = "phone" if form.values.get("channel") == "phone" else "kinward"
    if not form.ok:
        return form, None
    return form, {"version": form_version(form), "to_status": to_status, "note": note, "outcome": outcome,
                  "channel": channel}


def link_step_form(data: object) -> tuple[Form, Optional[dict]]:
    form = Form.from_data(data, LINK_STEP_FIELDS, LIMITS)
    to_status = form.choice("to_status", ("received", "accepted", "declined", "in_progress", "completed"))
    note = _max_length(form, "note", TEXT_MAX)
    outcome = _max_length(form, "outcome", TEXT_MAX)
    if not form.ok:
        return form, None
    return form, {"to_status": to_status, "note": note, "outcome": outcome}


def sections_default() -> dict[str, str]:
    return {f"section_{s}": "on" for s in DEFAULT_SECTIONS}


def _sections(form: Form) -> tuple[str, ...]:
    chosen = tuple(s for s in SECTIONS if form.values.get(f"section_{s}") == "on")
    if not chosen:
        form.error("sections", _("Choose at least one part of the summary."))
    return chosen


def disclose_form(data: object) -> tuple[Form, Optional[dict]]:
    """Sections, recipient and reason for a print or an export (a disclosure is recorded)."""
    form = Form.from_data(data, DISCLOSE_FIELDS, LIMITS)
    sections = _sections(form)
    recipient = form.required("recipient", _("Say who the information is for."))
    _max_length(form, "recipient", SHORT_MAX)
    reason = form.required("reason", _("Say why this information is shared, for example: hospital appointment."))
    _max_length(form, "reason", TEXT_MAX)
    if not form.ok:
        return form, None
    return form, {"sections": sections, "recipient": recipient, "reason": reason}


def share_form(data: object, *, agencies: dict[int, dict]) -> tuple[Form, Optional[ShareDetails]]:
    """A share link's recipient (an agency of the directory, or a name and an email), sections and expiry."""
    form = Form.from_data(data, SHARE_FIELDS, LIMITS)
    sections = _sections(form)
    agency_id = _agency_choice(form, set(agencies), required=False)
    name = _max_length(form, "recipient_name", SHORT_MAX)
    email = optional_email(form, "recipient_email")
    if agency_id is not None:
        name = name or agencies[agency_id]["name"]
        email = email or agencies[agency_id]["email"]
    elif not name:
        form.error("recipient_name", _("Choose an agency, or enter the recipient's name."))
    reason = form.required("reason", _("Say why this information is shared, for example: hospital appointment."))
    _max_length(form, "reason", TEXT_MAX)
    hours = whole(form.values.get("expires", "")) or 0
    if hours not in SHARE_EXPIRY_HOURS:
        form.error("expires", _("Choose how long the link works: from one hour to 30 days."))
    if not form.ok:
        return form, None
    return form, ShareDetails(recipient_name=name, recipient_email=email, agency_id=agency_id, sections=sections,
                              allow_fhir=form.values.get("allow_fhir") == "on", reason=reason,
                              lifetime=timedelta(hours=hours))


def expiry_labels() -> list[tuple[str, str]]:
    return [("1", _("1 hour")), ("4", _("4 hours")), ("24", _("1 day")), ("72", _("3 days")),
            ("168", _("1 week")), ("336", _("2 weeks")), ("720", _("30 days"))]


def agency_filter_values(q: str, kind: str, archived: bool) -> dict[str, str]:
    return {k: v for k, v in {"q": q, "kind": kind, "archived": "1" if archived else ""}.items() if v}
