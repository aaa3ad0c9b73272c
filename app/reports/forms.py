"""Input of the report pages: the period looked at, the dashboard's filters, the supervision note."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Optional

from app.i18n import _, ngettext
from app.reports.queries import DASHBOARD_WEEKS, DEFAULT_WEEKS, FIGURES_BEHIND
from app.web.forms import Form, whole

DEFAULT_PERIOD_DAYS = 28
LONGEST_PERIOD_DAYS = 366 * 3


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive


def period_form(data: Any, *, today: date) -> tuple[Form, Period]:
    """The days a report looks at (both inclusive; by default the four weeks to yesterday); errors by field."""
    form = Form.from_data(data, ("start", "end", "figure"))
    default = Period(start=today - timedelta(days=DEFAULT_PERIOD_DAYS), end=today - timedelta(days=1))
    start = form.optional_date("start") or default.start
    end = form.optional_date("end") or default.end
    if form.ok and end < start:
        form.error("end", _("The end of the period is before its start."))
    elif form.ok and (end - start).days > LONGEST_PERIOD_DAYS:
        form.error("start", _("Choose a period of at most three years."))
    if form.values.get("figure") and form.values["figure"] not in FIGURES_BEHIND:
        form.error("figure", _("Choose one of the figures."))
    form.values.update({"start": form.values["start"] or start.isoformat(), "end": form.values["end"] or end.isoformat()})
    return form, (Period(start=start, end=end) if form.ok else default)


def dashboard_form(data: Any) -> tuple[Form, int, Optional[int]]:
    """The weeks shown and the team (a coordinator's clients; admins only), as typed and as read."""
    form = Form.from_data(data, ("weeks", "team"))
    weeks = DEFAULT_WEEKS
    if form.values["weeks"]:
        if whole(form.values["weeks"]) in DASHBOARD_WEEKS:
            weeks = whole(form.values["weeks"])
        else:
            form.error("weeks", _("Choose one of the periods."))
    team = whole(form.values["team"])
    form.values["weeks"] = str(weeks)
    return form, weeks, team


def weeks_options() -> list[tuple[int, str]]:
    return [(n, ngettext("%(num)d week", "%(num)d weeks", n) % {"num": n}) for n in DASHBOARD_WEEKS]


def team_options(coordinators: list[dict]) -> list[tuple[int, str]]:
    """The teams an admin may look at: each coordinator's clients."""
    return [(c["id"], _("Clients of %(name)s") % {"name": c["display_name"]}) for c in coordinators]


def note_form(data: Any) -> tuple[Form, Optional[int], str]:
    form = Form.from_data(data, ("body", "based_on"))
    body = form.required("body", _("Write the note."))
    based_on = whole(form.values["based_on"])
    if based_on is None:
        form.error("body", _("Reload the page and try again."))
    return form, based_on, body


def figure_labels() -> dict[str, str]:
    return {"planned": _("Planned"), "completed": _("Delivered"), "missed": _("Missed"), "cancelled": _("Cancelled"),
            "late": _("Late"), "concerns": _("Concerns raised"), "late_edits": _("Late edits"),
            "summaries": _("Family summaries shared")}
