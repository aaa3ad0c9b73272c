"""Every route of the app, with a person allowed to use it and records for its path: for tests that walk them all.

Routes are discovered from the app's route table (as tests/test_policy_routes.py does), so a new route
is walked without anyone listing it; its person is the first role the policy lets perform its action.
"""

from __future__ import annotations

import functools
import re
import secrets
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from html.parser import HTMLParser
from typing import Any, AsyncIterator

import httpx

from app import clock, db
from app.accounts.tables import Device, Role
from app.liaison.tables import ShareLink
from app.piccolo_app import APP_CONFIG
from app.policy import PUBLIC, ROLE_RULES
from app.visits.services import schedule_sync
from app.visits.tables import Visit
from tests.careplans.factories import add_service, make_plan
from tests.clients.factories import add_contact, add_team_member, make_world
from tests.conftest import app_for, csrf_token, login, make_user
from tests.liaison.factories import make_agency, make_provider, make_referral

ROLE_ORDER = (Role.coordinator, Role.admin, Role.worker, Role.family)
# A coordinator asks for emergency access to a client whose team they are not on.
ACTION_PERSON = {"client.break_glass": "coordinator2"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Rows that a refused request may still touch: the audit trail (refusals are audited), sessions
# (last seen), sign-in throttling, and counters of failed attempts.
VOLATILE_TABLES = {"audit_event", "kinward_session", "login_throttle"}
VOLATILE_COLUMNS = re.compile(r"failed|last_seen|last_login|last_used|updated_at")
# Destructive routes go last, so the records the others need still exist when they are walked.
# (path segment, parameter) -> the record it names there, where the parameter's name alone is ambiguous.
PATH_IDS = {("share", "link_id"): "share_link_id", ("notes", "goal_id"): "active_goal_id"}
DESTRUCTIVE = re.compile(r"/(remove|end|discard|close|deactivate|revoke|reset-link|archive)$")


@dataclass(frozen=True)
class RouteCase:
    method: str
    path: str  # Litestar's template, e.g. /clients/{client_id:int}/contacts
    handler: Any
    action: str

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def query_names(self) -> list[str]:
        """The query parameters the handler reads (everything it declares that is not a path parameter)."""
        path_names = set(re.findall(r"{(\w+)", self.path))
        return [name for name in self.handler.parsed_fn_signature.parameters
                if name not in path_names and name not in ("request", "data", "self")]


def route_cases(app: Any) -> list[RouteCase]:
    cases = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if route.path.startswith("/static"):
                continue
            for method in sorted(set(handler.http_methods) - {"OPTIONS", "HEAD"}):
                cases.append(RouteCase(method=method, path=route.path, handler=handler,
                                       action=handler.opt["action"]))
    return sorted(cases, key=lambda c: (bool(DESTRUCTIVE.search(c.path)), c.path, c.method))


def person_for(action: str) -> str:
    """Who sends the request: anonymous for public routes, else the first role the policy allows."""
    if action == PUBLIC:
        return "anonymous"
    if action in ACTION_PERSON:
        return ACTION_PERSON[action]
    roles = ROLE_RULES[action]
    return next(role.value for role in ROLE_ORDER if role in roles)


@dataclass
class RouteWorld:
    """A facility where each role can act: Olive's record with a contact, family, team, plans and a visit."""

    people: dict[str, dict]
    ids: dict[str, int | str]
    browsers: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    forms: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def path_for(self, case: RouteCase) -> str:
        def value(match: re.Match) -> str:
            # A name used by two kinds of record (a family link, a share link) is told apart by the path.
            for (segment, name), record in PATH_IDS.items():
                if name == match.group(1) and f"/{segment}/" in case.path:
                    return str(self.ids[record])
            return str(self.ids[match.group(1)])

        return re.sub(r"{(\w+):\w+}", value, case.path)

    def browser(self, case: RouteCase) -> httpx.AsyncClient:
        return self.browsers[person_for(case.action)]


async def _route_records() -> tuple[dict[str, dict], dict[str, int | str]]:
    world = await make_world()
    people = {name: getattr(world, name) for name in ("admin", "coordinator", "coordinator2", "worker", "worker2",
                                                      "family")}
    people["spare"] = await make_user(facility_id=world.facility, role=Role.worker)
    client_id = world.own["id"]
    active = await make_plan(client_id=client_id, status="active", starts_on=date(2020, 1, 1))
    await add_service(plan_id=active, worker=world.worker, start_time=time(9))
    draft = await make_plan(client_id=client_id, status="draft", version=2, starts_on=date(2020, 1, 1))
    service_id = await add_service(plan_id=draft, worker=world.worker, start_time=time(9))
    await schedule_sync(now=clock.utcnow(), horizon_days=2)
    visit = await Visit.select(Visit.id).where(Visit.client == client_id).first().run()
    from app.careplans.tables import Goal
    from app.clients.tables import CareTeamMember, FamilyLink

    goal = await Goal.select(Goal.id).where(Goal.plan == draft).first().run()
    # Notes are written against a goal of the active plan; only their author corrects them.
    active_goal = await Goal.select(Goal.id, Goal.lineage).where(Goal.plan == active).first().run()
    from app.careplans.tables import GoalNote

    note = await GoalNote.insert(GoalNote(client=client_id, goal_lineage=active_goal["lineage"] or active_goal["id"],
                                          author=people[person_for("plan.edit")]["id"], body="Walked to the gate.")).run()
    link = await FamilyLink.select(FamilyLink.id).where(FamilyLink.client == client_id).first().run()
    member_id = await add_team_member(client_id=client_id, user=people["spare"])
    assert await CareTeamMember.exists().where(CareTeamMember.id == member_id).run()
    device = await Device.insert(Device(facility=world.facility, name="Lounge tablet",
                                        token_hash=secrets.token_hex(32))).run()
    agency = await make_agency(facility_id=world.facility)
    referral = await make_referral(client_id=client_id, agency=agency)
    share = await ShareLink.insert(ShareLink(
        client=client_id, agency=agency["id"], recipient_name="Dr Patel", reason="Hospital admission",
        token_hash=secrets.token_hex(32), expires_at=clock.utcnow() + timedelta(days=7))).run()
    from app.audit.services import Actor
    from app.reviews.services import review_start
    from app.reviews.tables import Review

    coordinator = people["coordinator"]
    review_id = await review_start(actor=Actor(user_id=coordinator["id"], role="coordinator",
                                               facility_id=world.facility), client_id=client_id,
                                   today=date.today(), tz="Europe/London", grace=timedelta(minutes=30))
    review = await Review.select(Review.number).where(Review.id == review_id).first().run()
    ids: dict[str, int | str] = {
        "number": review["number"], "worker_id": people["worker"]["id"], "chart_id": "delivered",
        "agency_id": agency["id"], "referral_id": referral["id"], "share_link_id": share[0]["id"],
        "provider_id": await make_provider(client_id=client_id, agency=agency),
        "client_id": client_id, "contact_id": await add_contact(client_id=client_id), "link_id": link["id"],
        "member_id": member_id, "goal_id": goal["id"], "service_id": service_id,
        "active_goal_id": active_goal["id"], "note_id": note[0]["id"],
        "visit_id": visit["id"] if visit else 1, "user_id": people["spare"]["id"], "device_id": device[0]["id"],
        "token": secrets.token_urlsafe(16), "section": "location", "version": 1,
    }
    return people, ids


class _Forms(HTMLParser):
    """The POST forms of a page: action -> field -> the values the page would send."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, list[str]]] = {}
        self._current: dict[str, list[str]] | None = None
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            self._current = self.forms.setdefault(a.get("action", ""), {})
        elif self._current is None or not a.get("name"):
            return
        elif tag == "input":
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                self._current.setdefault(a["name"], [])
            elif kind not in ("submit", "button"):
                self._current.setdefault(a["name"], []).append(a.get("value", "on" if kind == "checkbox" else ""))
        elif tag == "textarea":
            self._textarea = a["name"]
            self._current.setdefault(a["name"], [""])
        elif tag == "select":
            self._select = a["name"]
            self._current.setdefault(a["name"], [])
        elif tag == "option" and self._select and (not self._current[self._select] or "selected" in a):
            self._current[self._select] = [a.get("value", "")]

    def handle_data(self, data: str) -> None:
        if self._current is not None and self._textarea:
            self._current[self._textarea] = [self._current[self._textarea][0] + data]

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


async def scrape_forms(world: RouteWorld, cases: list[RouteCase]) -> None:
    """Open every page each person can open and remember its forms, as a browser would fill them."""
    for case in cases:
        if case.method != "GET":
            continue
        page = await world.browser(case).get(world.path_for(case))
        if page.status_code == 200 and "text/html" in page.headers.get("content-type", ""):
            parser = _Forms()
            parser.feed(page.text)
            for action, fields in parser.forms.items():
                world.forms.setdefault(action, fields)


@asynccontextmanager
async def route_world(settings: Any) -> AsyncIterator[RouteWorld]:
    """The served app, its records, and a signed-in browser per person (one anonymous)."""
    app = app_for(settings)
    await db.start()
    try:
        people, ids = await _route_records()
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        world = RouteWorld(people=people, ids=ids)
        for name in ("anonymous", "admin", "coordinator", "coordinator2", "worker", "family"):
            browser = httpx.AsyncClient(transport=transport, base_url="http://testserver.local",
                                        follow_redirects=False)
            if name == "anonymous":
                await csrf_token(browser)
            else:
                await login(browser, people[name])
            world.browsers[name] = browser
        world.cases = route_cases(app)  # type: ignore[attr-defined]
        await scrape_forms(world, world.cases)  # type: ignore[attr-defined]
        try:
            yield world
        finally:
            for browser in world.browsers.values():
                await browser.aclose()
    finally:
        await db.stop()


@functools.cache
def _state_queries() -> list[tuple[str, db.Prebuilt]]:
    """Per table that is not volatile, its rows without the volatile columns, built once."""
    def rows_of(table: Any) -> db.Prebuilt:
        columns = [c for c in table._meta.columns if not VOLATILE_COLUMNS.search(c._meta.name)]
        return db.Prebuilt(lambda: table.select(*columns).order_by(table._meta.primary_key))

    return [(table._meta.tablename, rows_of(table)) for table in APP_CONFIG.table_classes
            if table._meta.tablename not in VOLATILE_TABLES]


async def stored_state() -> dict[str, list[dict]]:
    """Every stored row but the volatile ones, comparable before and after a request."""
    return {name: await query.rows() for name, query in _state_queries()}
