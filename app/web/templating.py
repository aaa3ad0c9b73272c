"""The Jinja environment: gettext, formatting filters and navigation, registered in one place."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any, Optional
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from app import clock
from app.i18n import _, translations
from app.policy import can

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"
HTMX_VERSION = "4.0.1"

# (label, href, action): a link is shown only to those the policy lets perform the action.
NAVIGATION = (
    ("Caseload", "/caseload", "caseload.view"),
    ("Team schedule", "/schedule", "schedule.team_week"),
    ("My day", "/my-day", "my_day.view"),
    ("My family", "/family", "family.home"),
    ("Agencies", "/agencies", "agencies.view"),
    ("Referrals", "/referrals", "referrals.list"),
    ("Email settings", "/account/notifications", "account.notifications"),
    ("Users", "/admin/users", "users.manage"),
    ("Audit trail", "/admin/audit", "audit.view"),
    ("Tablets", "/admin/devices", "devices.manage"),
    ("Emergency access", "/admin/break-glass", "break_glass.review"),
    ("Account", "/account/password", "account.change_password"),
)


def nav_items(user: Any) -> list[dict]:
    return [{"label": _(label), "href": href} for label, href, action in NAVIGATION if can(user, action)]


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


def format_day(value: Optional[date], fmt: str = "%d %b %Y") -> str:
    """A calendar date (date of birth, review due, team dates): no timezone to convert."""
    if value is None:
        return ""
    return value.strftime(fmt)


def build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(), newstyle=True)  # type: ignore[attr-defined]
    env.filters["localtime"] = local_datetime
    env.filters["day"] = format_day
    env.filters["moment"] = local_moment
    env.globals["nav_items"] = nav_items
    env.globals["can"] = can
    env.globals["htmx_version"] = HTMX_VERSION
    return env


def template_config() -> TemplateConfig:
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(build_environment()))
