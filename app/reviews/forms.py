"""Input of the review forms: the coordinator's judgement, an addendum, the family's answers."""

from __future__ import annotations

from datetime import date
from typing import Any, Optional

from app.careplans import forms as plan_forms
from app.i18n import _
from app.reviews.services import SERVICE_CHANGES, FamilyAnswers, Judgement
from app.web.forms import Form, whole

TEXT_LIMIT = 4000
ACTION_ROWS_SPARE = 2

JUDGEMENT_FIELDS = ("appropriate", "reasons", "care_needed", "care_until", "days_times", "treatment_add",
                    "treatment_stop", "next_review_due", "change_plan", "family_summary", "summary_shared", "version")
FAMILY_FIELDS = ("going_well", "worries", "change")


def appropriate_labels() -> dict[str, str]:
    return {"yes": _("Yes, the care is appropriate"), "change": _("Appropriate, with changes"),
            "no": _("No, the care is not appropriate")}


def service_change_labels() -> dict[str, str]:
    return {"": _("Keep as it is"), "stop": _("Stop"), "retime": _("Change days or times")}


def action_rows(count: int) -> list[int]:
    return list(range(1, count + ACTION_ROWS_SPARE + 1))


def _text(form: Form, name: str) -> str:
    value = form.values.get(name, "").strip()
    if len(value) > TEXT_LIMIT:
        form.error(name, _("Keep this under %(n)d characters.") % {"n": TEXT_LIMIT})
    return value


def judgement_form(data: Any, *, lineages: list[int], action_count: int) -> tuple[Form, Judgement]:
    """The judgement as typed (kept whatever happens) and as read; save it only when the form is ok."""
    service_fields = tuple(f"service_{n}" for n in lineages) + tuple(f"service_{n}_note" for n in lineages)
    action_fields = tuple(f"action_{part}_{i}" for i in action_rows(action_count) for part in ("what", "owner", "due"))
    form = Form.from_data(data, JUDGEMENT_FIELDS + service_fields + action_fields)
    appropriate = form.values.get("appropriate", "")
    if appropriate and appropriate not in appropriate_labels():
        form.error("appropriate", _("Choose one of the options."))
    ongoing = form.values.get("care_needed", "ongoing") != "until"
    care_until = form.optional_date("care_until")
    next_review_due = form.optional_date("next_review_due")
    changes = []
    for lineage in lineages:
        change = form.values.get(f"service_{lineage}", "")
        if change and change not in SERVICE_CHANGES:
            form.error(f"service_{lineage}", _("Choose one of the options."))
        elif change:
            changes.append({"lineage": lineage, "change": change, "note": _text(form, f"service_{lineage}_note")})
    actions = []
    for i in action_rows(action_count):
        what, owner = _text(form, f"action_what_{i}"), _text(form, f"action_owner_{i}")
        due = form.optional_date(f"action_due_{i}")
        if not (what or owner or form.values.get(f"action_due_{i}", "").strip()):
            continue
        if not what:
            form.error(f"action_what_{i}", _("Say what is to be done."))
        if not owner:
            form.error(f"action_owner_{i}", _("Say who will do it."))
        if due is None and f"action_due_{i}" not in form.errors:
            form.error(f"action_due_{i}", _("Give the date it is due."))
        actions.append({"what": what, "owner": owner, "due": due.isoformat() if due else ""})
    judgement = Judgement(
        appropriate=appropriate, reasons=_text(form, "reasons"), care_until=care_until, ongoing=ongoing,
        days_times=_text(form, "days_times"), treatment_add=_text(form, "treatment_add"),
        treatment_stop=_text(form, "treatment_stop"), service_changes=tuple(changes), actions=tuple(actions),
        next_review_due=next_review_due, change_plan=form.values.get("change_plan") == "on",
        family_summary=_text(form, "family_summary"), summary_shared=form.values.get("summary_shared") == "on",
    )
    return form, judgement


def review_values(review: dict, *, suggested_next: Optional[date] = None) -> dict[str, str]:
    """A stored review as the form's values (the next review date suggested when none is set yet)."""
    values = {
        "appropriate": review["appropriate"], "reasons": review["reasons"],
        "care_needed": "ongoing" if review["ongoing"] else "until",
        "care_until": review["care_until"].isoformat() if review["care_until"] else "",
        "days_times": review["days_times"], "treatment_add": review["treatment_add"],
        "treatment_stop": review["treatment_stop"],
        "next_review_due": (review["next_review_due"] or suggested_next).isoformat()
        if (review["next_review_due"] or suggested_next) else "",
        "change_plan": "on" if review["change_plan"] else "", "family_summary": review["family_summary"],
        "summary_shared": "on" if review["summary_shared"] else "", "version": str(review["version"]),
    }
    for change in review["service_changes"]:
        values[f"service_{change['lineage']}"] = change["change"]
        values[f"service_{change['lineage']}_note"] = change.get("note", "")
    for i, action in enumerate(review["actions"], start=1):
        values.update({f"action_what_{i}": action["what"], f"action_owner_{i}": action["owner"],
                       f"action_due_{i}": action["due"]})
    return values


def version_of(form: Form) -> Optional[int]:
    return whole(form.values.get("version", ""))


def addendum_form(data: Any) -> tuple[Form, Optional[str]]:
    form = Form.from_data(data, ("body",))
    body = form.required("body", _("Write the correction or addition."))
    if len(body) > TEXT_LIMIT:
        form.error("body", _("Keep this under %(n)d characters.") % {"n": TEXT_LIMIT})
    return form, body if form.ok else None


def family_form(data: Any) -> tuple[Form, Optional[FamilyAnswers]]:
    form = Form.from_data(data, FAMILY_FIELDS)
    answers = FamilyAnswers(**{name: _text(form, name) for name in FAMILY_FIELDS})
    if form.ok and not any(getattr(answers, name) for name in FAMILY_FIELDS):
        form.error("going_well", _("Write something in at least one of the boxes, or leave the form for now."))
    return form, answers if form.ok else None


def labels() -> dict[str, Any]:
    """Every name a review's pages show for a stored value, for the templates."""
    return {"kinds": plan_forms.kind_labels(), "goal_statuses": plan_forms.goal_status_labels(),
            "weekdays": dict(plan_forms.weekday_labels()), "appropriate": appropriate_labels(),
            "service_changes": service_change_labels(),
            "severities": {"high": _("High"), "medium": _("Medium"), "low": _("Low")},
            "roles": {"admin": _("admin"), "coordinator": _("coordinator"), "worker": _("worker"), "": _("unknown")}}
