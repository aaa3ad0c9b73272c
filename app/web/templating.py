"""The Jinja environment: gettext, formatting filters and navigation, registered in one place."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Optional
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, pass_context, pass_eval_context, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine
from markupsafe import Markup
from litestar.template.config import TemplateConfig

from app import clock
from app.i18n import _, translations
from app.policy import route_allows

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"
STATIC = TEMPLATES.parent / "static"
HTMX_VERSION = "4.0.1"

# (label, href, action): a link is shown only to those the policy lets perform the action.
NAVIGATION = (
    ("Caseload", "/caseload", "caseload.view"),
    ("Team schedule", "/schedule", "schedule.team_week"),
    ("Reviews", "/reviews", "reviews.list"),
    ("Dashboard", "/dashboard", "dashboard.view"),
    ("Staff", "/reports/staff", "reports.staff"),
    ("Agency figures", "/reports/agencies", "reports.agencies"),
    ("My day", "/my-day", "my_day.view"),
    ("My figures", "/reports/staff/me", "reports.staff.own"),
    ("My family", "/family", "family.home"),
    ("Agencies", "/agencies", "agencies.view"),
    ("Referrals", "/referrals", "referrals.list"),
    ("Email settings", "/account/notifications", "account.notifications"),
    ("Users", "/admin/users", "users.manage"),
    ("Audit trail", "/admin/audit", "audit.view"),
    ("Tablets", "/admin/devices", "devices.manage"),
    ("Emergency access", "/admin/break-glass", "break_glass.review"),
    ("Backups and retention", "/admin/records", "records.manage"),
    ("Account", "/account/password", "account.change_password"),
)


def nav_items(user: Any) -> tuple[dict, ...]:
    return _nav_for_role(user.role) if user is not None else _nav_for(None)


@lru_cache(maxsize=None)
def _nav_for_role(role: str) -> tuple[dict, ...]:
    """The links depend on the role alone (the policy's role rules), so each role's list is built once."""
    return _nav_for(SimpleNamespace(role=role))


def _nav_for(user: Any) -> tuple[dict, ...]:
    return tuple({"label": _(label), "href": href} for label, href, action in NAVIGATION if route_allows(user, action))


@pass_context
def client_names_in_titles(context: Any) -> bool:
    """Whether page titles may name a client: not on a session from a registered tablet, whose tab
    list, history and browser profile every later user of the tablet sees."""
    request = context.get("request")
    user = request.scope.get("user") if request is not None else None
    return user is None or user.device_id is None


def local_datetime(value: Optional[datetime], tz: str = "UTC", fmt: str = "%d %b %Y, %H:%M") -> str:
    """A stored UTC time shown in the facility's timezone."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(tz)).strftime(fmt)


def local_moment(value: Optional[datetime], tz: str = "UTC") -> str:
    """A recent moment, short: "14:02" today, "12 Mar, 14:02" before (messages, read receipts)."""
    if value is None:
        return ""
    zone = ZoneInfo(tz)
    local = value.astimezone(zone)
    if local.date() == clock.utcnow().astimezone(zone).date():
        return local.strftime("%H:%M")
    return local.strftime("%d %b, %H:%M")


def datetime_attribute(value: Optional[datetime]) -> str:
    """A moment for `<time datetime>`: UTC to the second, as the HTML standard allows (no microseconds)."""
    if value is None:
        return ""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_day(value: Optional[date], fmt: str = "%d %b %Y") -> str:
    """A calendar date (date of birth, review due, team dates): no timezone to convert."""
    if value is None:
        return ""
    return value.strftime(fmt)


def percent(value: Optional[float]) -> str:
    """A share as a whole percentage; a dash when there was nothing to count."""
    if value is None:
        return "—"
    return f"{round(value * 100)} %"


def choices(rows: Any, value: str = "id", text: str = "display_name") -> list[tuple[Any, Any]]:
    """Rows as the (value, text) options of a select: `workers|choices`."""
    return [(row[value], row[text]) for row in rows]


@lru_cache(maxsize=None)
def static_version(path: str) -> str:
    """The first hex digits of the file's SHA-256: changes exactly when its content does."""
    return hashlib.sha256((STATIC / path).read_bytes()).hexdigest()[:12]


_reload = {"static": False}


def static_url(path: str) -> str:
    """A versioned address for a static file: browsers may keep it a year (see app.web.security)."""
    if _reload["static"]:  # development: an edited file gets its new address at once
        static_version.cache_clear()
    return f"/static/{path}?v={static_version(path)}"


def template_gettext(translations: Any) -> tuple[Any, Any]:
    """gettext and ngettext for templates, as Jinja's newstyle i18n behaves, at a fraction of its cost.

    Jinja's `_` resolves `gettext` and calls through the context three times over for every label;
    a caseload row has eight of them and the profile had them at a quarter of the page's time. A
    label without variables is translated once per process (the translations do not change while
    it runs) and kept, escaped as the template's autoescaping asks.
    """
    constants: dict[tuple[str, bool], str] = {}

    @pass_eval_context
    def gettext(eval_ctx: Any, message: str, **variables: Any) -> str:
        if not variables:
            known = constants.get((message, eval_ctx.autoescape))
            if known is not None:
                return known
        text = translations.gettext(message)
        if eval_ctx.autoescape:
            text = Markup(text)
        # Always a format string, as in Jinja's newstyle gettext ("%%" is a percent sign).
        result = text % variables
        if not variables:
            constants[(message, eval_ctx.autoescape)] = result
        return result

    @pass_eval_context
    def ngettext(eval_ctx: Any, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        text = translations.ngettext(singular, plural, num)
        if eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    return gettext, ngettext


def build_environment(*, development: bool = False) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        # Outside development templates are compiled once: no file-system check on every render.
        auto_reload=development,
        cache_size=-1,
    )
    env.install_gettext_translations(translations(), newstyle=True)  # type: ignore[attr-defined]
    gettext, ngettext = template_gettext(translations())
    env.globals.update(_=gettext, gettext=gettext, ngettext=ngettext)
    env.filters["localtime"] = local_datetime
    env.filters["day"] = format_day
    env.filters["moment"] = local_moment
    env.filters["datetime_attribute"] = datetime_attribute
    env.filters["percent"] = percent
    env.filters["choices"] = choices
    env.globals["nav_items"] = nav_items
    env.globals["client_names_in_titles"] = client_names_in_titles
    env.globals["htmx_version"] = HTMX_VERSION
    env.globals["static"] = static_url
    return env


def template_config(*, development: bool = False) -> TemplateConfig:
    _reload["static"] = development
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(build_environment(development=development)))
