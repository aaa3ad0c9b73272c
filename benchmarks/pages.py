"""Kinward's main pages against a floor that renders the same template, measured in one run.

    python benchmarks/pages.py [--seconds 2] [--scale 1] [--postgres postgresql://user@host:5432/prefix]

For each page below, on SQLite (and on PostgreSQL when --postgres or KINWARD_BENCH_POSTGRES names a
server; databases <prefix>_demo and <prefix>_scale are created there), at the demo's size and
after `kinward demo --scale N`: one `uvicorn` worker per size serves both Kinward and the floor (both
sizes are served at once); 16 keep-alive connections ask for the page for a few seconds, real and
floor in alternating rounds, demo size and scale in turn.
Prints req/s, p50 and p99, the page/floor ratio, and p50 at scale over p50 at demo size.

The floor is the least a page can cost: the page's data read with prebuilt raw SQL straight to the
driver and shaped into the context of the SAME template (rendered and gzipped the same way), with
no session, authentication, policy, audit or other middleware. Only what the page does not read
from the database (labels, empty forms, permission booleans) is taken from the real page's
context. The dashboard, whose context is built by long pure-Python code (six charts), has a replay
floor: the SELECTs the real page ran, captured once, replayed raw on the driver, then the template
rendered with the context the page built from them. The table shows the floor's HTML size next to
the page's, so a floor that renders less shows. To add a page, add a Page(...) to PAGES: who views
it, its address and its floor. Prints only; asserts nothing.
"""



import argparse
import asyncio
import contextlib
import contextvars
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.processes import free_port, process_stop, until_healthy  # noqa: E402
VAR = ROOT / "var" / "bench"
CONNECTIONS = 16
TARGET_FLOOR_RATIO = 0.5
TARGET_SCALE_RATIO = 1.2


REPLAY = None  # the floor replays the page's own SELECTs raw (see the docstring)


@dataclass(frozen=True)
class Page:
    name: str
    who: str  # the demo account that views it
    path: str  # with {client}, {visit}, {review} filled from ids_for_production()
    floor: Any  # async (q, ids, context) -> context, or REPLAY


# --- the floors: each page's data read with raw SQL and shaped for the same template --------------
#
# A floor gets `q(sql, *args)` (prebuilt SQL straight to the driver, rows as dicts; "?" placeholders,
# "name [TYPE]" aliases typed by the SQLite driver's converters), the ids the driver found, and the real
# page's context. Everything the page shows from the database is read here; only what is not read
# from the database (labels, empty forms, permission booleans, filters) is taken from the real page.

VISIT_ROW = ("SELECT v.id, v.client, v.scheduled_start, v.scheduled_end, v.status, v.reassigned, v.cancel_reason, "
             "v.version, v.check_in_at, v.check_out_at, v.worker AS worker_id, u.display_name AS worker_name, "
             "s.id AS service_id, s.kind, s.provider_name, s.instructions, s.tasks, c.first_name AS client_first_name, "
             "c.last_name AS client_last_name, c.preferred_name AS client_preferred_name "
             "FROM visit v JOIN care_service s ON s.id = v.service JOIN client c ON c.id = v.client "
             "LEFT JOIN kinward_user u ON u.id = v.worker ")
GRACE = timedelta(minutes=15)


def _named(row: dict, prefix: str = "") -> str:
    from app.clients.queries import display_name

    return display_name({k.removeprefix(prefix): v for k, v in row.items()} if prefix else row)


def _with_states(visits: list[dict]) -> list[dict]:
    from app import clock
    from app.visits import rules

    now = clock.utcnow()
    for visit in visits:
        visit["state"] = rules.visit_state(visit, now=now, grace=GRACE).value
        visit["task_list"] = [t for t in (visit.get("tasks") or "").splitlines() if t.strip()]
        visit.setdefault("double_booked", False)
    return visits


async def floor_caseload(q, ids, ctx):
    rows = await q(
        "SELECT c.id, c.first_name, c.last_name, c.preferred_name, c.status, c.review_due, c.flag, "
        "(SELECT MIN(v.scheduled_start) FROM visit v WHERE v.client = c.id AND v.status = 'scheduled' "
        " AND v.scheduled_start > ?) AS \"next_visit [TIMESTAMPTZ]\", "
        "(SELECT COUNT(*) FROM message m WHERE m.client = c.id AND m.author <> ? AND NOT EXISTS "
        " (SELECT 1 FROM message_read r WHERE r.message = m.id AND r.\"user\" = ?)) AS unread, "
        "(SELECT COUNT(*) FROM visit v WHERE v.client = c.id AND v.concern AND v.concern_resolved_at IS NULL) "
        " AS concerns, "
        "(SELECT COUNT(*) FROM visit v WHERE v.client = c.id AND v.status = 'scheduled' AND v.worker IS NOT NULL "
        " AND v.check_in_at IS NULL AND v.check_out_at IS NULL AND v.scheduled_start >= ? AND v.scheduled_start < ? "
        " AND v.scheduled_end < ?) AS missed, "
        "(SELECT COUNT(*) FROM referral r WHERE r.client = c.id AND r.status IN ('received', 'sent') "
        " AND r.expected_by < ?) AS referrals "
        "FROM client c JOIN care_team_member t ON t.client = c.id "
        "WHERE t.\"user\" = ? AND t.until IS NULL AND c.status <> 'discharged' "
        "ORDER BY c.last_name, c.first_name, c.id LIMIT 50", ids["now"], ids["user"], ids["user"],
        ids["day_start"], ids["day_end"], ids["now"], ids["now"].date(), ids["user"])
    today = ids["now"].date()
    soon = today + timedelta(days=14)
    counts = ("unread", "concerns", "missed", "referrals")
    for row in rows:
        row.update(name=_named(row), review_overdue=row["review_due"] is not None and row["review_due"] < today,
                   counts={name: row.pop(name) for name in counts}, coordinators=[])
    tallies = {name: sum(1 for row in rows if row["counts"][name]) for name in counts}
    tallies.update(review=sum(1 for row in rows if row["review_due"] is not None and row["review_due"] <= soon),
                   overdue=sum(1 for row in rows if row["review_overdue"]),
                   flagged=sum(1 for row in rows if row["flag"]))
    return {**ctx, "caseload": {"rows": rows, "total": len(rows), "page": 1, "pages": 1, "tallies": tallies}}


async def floor_client_record(q, ids, ctx):
    client = (await q("SELECT * FROM client WHERE id = ?", ids["client"]))[0]
    client["name"] = _named(client)
    team = await q("SELECT t.id, t.role, t.since, t.until, u.id AS user_id, u.display_name, u.email "
                   "FROM care_team_member t JOIN kinward_user u ON u.id = t.\"user\" "
                   "WHERE t.client = ? AND t.until IS NULL ORDER BY t.since", ids["client"])
    return {**ctx, "client": client,
            "contacts": await q("SELECT * FROM client_contact WHERE client = ? AND removed_at IS NULL ORDER BY name",
                                ids["client"]),
            "team": {"current": team, "future": [], "past": []},
            "family_links": await q(
                "SELECT f.id, f.relationship, f.may_see_schedule, f.may_see_visit_summaries, f.may_message, "
                "f.created_at, u.display_name, u.email, u.active, u.id AS user_id, a.display_name AS approved_by_name "
                "FROM family_link f JOIN kinward_user u ON u.id = f.\"user\" "
                "LEFT JOIN kinward_user a ON a.id = f.approved_by WHERE f.client = ? AND f.ended_at IS NULL",
                ids["client"]),
            "history": await q(
                "SELECT h.from_status, h.to_status, h.effective_on, h.reason, h.changed_at, "
                "u.display_name AS changed_by_name FROM client_status_change h "
                "LEFT JOIN kinward_user u ON u.id = h.changed_by WHERE h.client = ? ORDER BY h.changed_at DESC",
                ids["client"])}


THREAD_SQL = ("SELECT m.id, m.author AS author_id, u.display_name AS author_name, m.author_role, "
              "m.visibility = 'team' AS \"team_only [BOOLEAN]\", m.body, m.created_at "
              "FROM message m JOIN kinward_user u ON u.id = m.author WHERE m.client = ? {} "
              "ORDER BY m.id DESC LIMIT 50")


def _thread(rows: list[dict], viewer: int, recorded: dict) -> dict:
    for row in rows:
        row.update(mine=row["author_id"] == viewer, new=False, receipts=[])
    return {**recorded, "messages": rows[::-1], "earlier": None, "newly_read": []}


async def _receipts(q, client: int, thread: dict) -> dict:
    """Who read each message shown ("Seen by"), and the thread's state for its live updates, as the page reads them."""
    messages = thread["messages"]
    if messages:
        by_id = {m["id"]: m for m in messages}
        for read in await q("SELECT r.message, r.read_at, u.id AS user_id, u.display_name AS name, u.role "
                            "FROM message_read r JOIN message m ON m.id = r.message JOIN kinward_user u ON u.id = r.\"user\" "
                            "WHERE m.client = ? AND r.message BETWEEN ? AND ? ORDER BY r.id",
                            client, messages[0]["id"], messages[-1]["id"]):
            message = by_id.get(read["message"])  # None: a message in the range this viewer is not shown
            if message is not None and read["user_id"] != message["author_id"]:
                message["receipts"].append(read)
    state = (await q("SELECT (SELECT MAX(id) FROM message WHERE client = ?) AS last_message, (SELECT MAX(r.id) "
                     "FROM message_read r JOIN message m ON m.id = r.message WHERE m.client = ?) AS last_read",
                     client, client))[0]
    return {**thread, "state": f"{state['last_message'] or 0}.{state['last_read'] or 0}"}


async def floor_client_thread(q, ids, ctx):
    client = (await q("SELECT id, first_name, last_name, preferred_name, status FROM client WHERE id = ?",
                      ids["client"]))[0]
    client["name"] = _named(client)
    rows = await q(THREAD_SQL.format(""), ids["client"])
    thread = _thread(rows, ids["user"], ctx["thread"])
    return {**ctx, "client": client, "thread": await _receipts(q, ids["client"], thread)}


async def floor_my_day(q, ids, ctx):
    visits = _with_states(await q(VISIT_ROW + "WHERE v.worker = ? AND v.scheduled_start >= ? AND v.scheduled_start < ? "
                                  "ORDER BY v.scheduled_start", ids["user"], ids["day_start"], ids["day_end"]))
    # The double-booked badge: the worker's live visits from the day before to the day after, as the page reads them.
    from app.careplans.schedule import double_booked

    busy = await q("SELECT id, worker, scheduled_start, scheduled_end FROM visit WHERE worker = ? "
                   "AND status IN ('scheduled', 'in_progress') AND scheduled_start < ? AND scheduled_start > ? "
                   "AND scheduled_end > ?", ids["user"], ids["day_after"], ids["day_before"], ids["day_start"])
    clashes = double_booked((b["id"], b["worker"], b["scheduled_start"], b["scheduled_end"]) for b in busy)
    for visit in visits:
        visit["double_booked"] = visit["id"] in clashes
    records = {r["id"]: r for r in await q(
        "SELECT c.id, c.first_name, c.last_name, c.preferred_name, c.address, c.phone, c.language, c.status, "
        "c.status_since, c.allergies, c.mobility, c.communication, c.what_matters, c.risks, c.care_instructions, "
        "c.flag FROM client c JOIN care_team_member t ON t.client = c.id WHERE t.\"user\" = ? AND t.until IS NULL",
        ids["user"])}
    for visit in visits:
        record = records.get(visit["client"]) or {"id": visit["client"], "first_name": visit["client_first_name"],
                                                   "last_name": visit["client_last_name"], "preferred_name": ""}
        record["name"] = _named(record)
        visit.update(client=record, current=False, folded=visit["state"] in ("completed", "cancelled", "missed"))
    current = next((v for v in visits if not v["folded"]), None)
    if current:
        current["current"] = True
    return {**ctx, "visits": visits, "current": current}


async def _family_log(q, client: int, lines: int = 5) -> tuple[list, bool]:
    """The family home's access log: the latest 2,000 events grouped by person, what and quarter hour, folded
    into one line per person, day, verb and part of the record, until `lines` lines and their last day."""
    from zoneinfo import ZoneInfo

    from app import db
    from app.clients.queries import FAMILY_ACCESS_LOG_ACTIONS, AccessEntry, access_kind

    zone = ZoneInfo("Europe/London")
    actions = ", ".join(f"'{a}'" for a in FAMILY_ACCESS_LOG_ACTIONS)
    groups = await q(
        "SELECT g.*, u.display_name FROM (SELECT actor_id, actor_label, role, action, detail, MIN(at) AS first_at, "
        "MAX(at) AS last_at, MAX(id) AS last_id FROM (SELECT id, at, actor_id, actor_label, role, action, "
        "CASE WHEN action IN ('client.viewed', 'client.break_glass', 'client.exported') THEN detail ELSE '' END "
        f"AS detail, {db.quarter_hour_sql('at')} AS quarter FROM audit_event WHERE client_id = ? AND action IN "
        f"({actions}) ORDER BY id DESC LIMIT 2000) latest GROUP BY actor_id, actor_label, role, action, detail, "
        "quarter) g LEFT JOIN kinward_user u ON u.id = g.actor_id ORDER BY g.last_id DESC", client)
    found: dict = {}
    for group in groups:
        first_at, last_at = db.as_utc(group["first_at"]), db.as_utc(group["last_at"])
        day = last_at.astimezone(zone).date()
        if len(found) >= lines and day != next(reversed(found.values())).day:
            return list(found.values())[:lines], True
        verb, what = access_kind(group["action"], json.loads(group["detail"]) if group["detail"] else {})
        key = (group["actor_id"] or group["actor_label"], day, verb, what)
        if key in found:
            found[key].first_at = min(found[key].first_at, first_at)
        else:
            found[key] = AccessEntry(day=day, first_at=first_at, last_at=last_at, role=group["role"], verb=verb,
                                     what=what, actor_name=group["display_name"] or group["actor_label"])
    return list(found.values())[:lines], len(found) > lines


async def floor_family_home(q, ids, ctx):
    sections = []
    for link in await q("SELECT c.id, c.first_name, c.last_name, c.preferred_name, f.relationship, "
                        "f.may_see_schedule, f.may_see_visit_summaries FROM family_link f JOIN client c ON c.id = f.client "
                        "WHERE f.\"user\" = ? AND f.ended_at IS NULL", ids["user"]):
        link["name"] = _named(link)
        recorded = next((s for s in ctx["sections"] if s["client"]["id"] == link["id"]), ctx["sections"][0])
        visits = _with_states(await q(VISIT_ROW + "WHERE v.client = ? AND v.scheduled_start >= ? AND v.scheduled_start < ? "
                                      "ORDER BY v.scheduled_start", link["id"], ids["day_start"], ids["week_end"]))
        for visit in visits:
            visit.update(instructions="", task_list=[], cancel_reason="")
        summaries = await q(
            "SELECT v.id, v.check_in_at AS began_at, v.check_out_at AS ended_at, v.family_summary, s.kind, "
            "u.display_name AS worker_first_name FROM visit v JOIN care_service s ON s.id = v.service "
            "LEFT JOIN kinward_user u ON u.id = v.worker WHERE v.client = ? AND v.family_summary_shared "
            "ORDER BY v.check_out_at DESC LIMIT 10", link["id"])
        log, more = await _family_log(q, link["id"])
        thread = await q(THREAD_SQL.format("AND m.visibility <> 'team'"), link["id"])
        sections.append({**recorded, "client": link, "may_see_schedule": link["may_see_schedule"],
                         "may_see_summaries": link["may_see_visit_summaries"], "visits": visits,
                         "summaries": summaries, "access_log": log, "access_log_more": more, "unread": 0,
                         "thread": await _receipts(q, link["id"], _thread(thread, ids["user"], recorded["thread"]))})
    return {**ctx, "sections": sections}


async def floor_team_week(q, ids, ctx):
    from app.visits.controller import team_week_rows

    visits = _with_states(await q(
        VISIT_ROW + "WHERE v.client IN (SELECT t.client FROM care_team_member t WHERE t.\"user\" = ? AND t.until IS NULL) "
        "AND v.scheduled_start >= ? AND v.scheduled_start < ? ORDER BY v.scheduled_start",
        ids["user"], ids["week_start"], ids["week_end"]))
    return {**ctx, "workers": team_week_rows(visits, first=ctx["week"], tz="Europe/London"), "clashes": 0}


async def floor_visit_page(q, ids, ctx):
    visit = _with_states(await q(VISIT_ROW + "WHERE v.id = ?", ids["visit"]))[0]
    client = (await q("SELECT * FROM client WHERE id = ?", visit["client"]))[0]
    client["name"] = _named(client)
    log = (await q("SELECT * FROM visit WHERE id = ?", ids["visit"]))[0]
    last_note = await q("SELECT v.id, v.scheduled_start, v.internal_note, u.display_name AS worker_name, s.kind "
                        "FROM visit v JOIN care_service s ON s.id = v.service LEFT JOIN kinward_user u ON u.id = v.worker "
                        "WHERE v.client = ? AND v.check_out_at IS NOT NULL AND v.id <> ? "
                        "ORDER BY v.check_out_at DESC LIMIT 1", visit["client"], ids["visit"])
    notes = await q("SELECT m.id, m.body, m.created_at, u.display_name AS author_name FROM message m "
                    "JOIN kinward_user u ON u.id = m.author WHERE m.client = ? AND m.visibility = 'team' "
                    "ORDER BY m.id DESC LIMIT 5", visit["client"])
    return {**ctx, "visit": visit, "client": client,
            "log": {**ctx["log"], "row": {**ctx["log"]["row"], **{k: log[k] for k in ctx["log"]["row"] if k in log}}},
            "handover": {**ctx["handover"], "record": client, "last_note": last_note[0] if last_note else None,
                         "team_notes": notes}}


async def floor_referrals(q, ids, ctx):
    rows = await q("SELECT r.*, a.id AS agency_id, a.name AS agency_name, a.kind AS agency_kind, "
                   "a.email AS agency_email, c.first_name, c.last_name, c.preferred_name FROM referral r "
                   "JOIN agency a ON a.id = r.agency JOIN client c ON c.id = r.client "
                   "JOIN care_team_member t ON t.client = r.client WHERE t.\"user\" = ? AND t.until IS NULL "
                   "ORDER BY r.created_at DESC LIMIT 50", ids["user"])
    today = ids["now"].date()
    for row in rows:
        row.update(client_name=_named(row), overdue=row["expected_by"] is not None and row["expected_by"] < today
                   and row["status"] in ("sent", "received"))
    return {**ctx, "referrals": rows, "agencies": await q(
        "SELECT * FROM agency WHERE facility = ? AND archived_at IS NULL ORDER BY name", ids["facility"])}


async def floor_review(q, ids, ctx):
    review = (await q("SELECT r.*, s.display_name AS signed_by_name, c.display_name AS created_by_name "
                      "FROM care_review r LEFT JOIN kinward_user s ON s.id = r.signed_by "
                      "LEFT JOIN kinward_user c ON c.id = r.created_by WHERE r.client = ? AND r.number = ?",
                      ids["client"], ids["review"]))[0]
    for name in ("figures", "service_changes", "actions"):
        review[name] = json.loads(review[name] or ("{}" if name == "figures" else "[]"))
    for flag in ("ongoing", "change_plan", "summary_shared"):
        review[flag] = bool(review[flag])
    client = (await q("SELECT id, first_name, last_name, preferred_name, status FROM client WHERE id = ?",
                      ids["client"]))[0]
    client["name"] = _named(client)
    plans = await q("SELECT p.*, a.display_name AS created_by_name, b.display_name AS activated_by_name, "
                    "d.display_name AS closed_by_name FROM care_plan p LEFT JOIN kinward_user a ON a.id = p.created_by "
                    "LEFT JOIN kinward_user b ON b.id = p.activated_by LEFT JOIN kinward_user d ON d.id = p.closed_by "
                    "WHERE p.client = ? AND p.status = 'active'", ids["client"])
    plan = plans[0] if plans else None
    services = await q("SELECT s.*, u.id AS worker_id, u.display_name AS worker_name FROM care_service s "
                       "LEFT JOIN kinward_user u ON u.id = s.worker WHERE s.plan = ? ORDER BY s.start_time, s.id",
                       plan["id"] if plan else 0)
    kinds = ctx["labels"]["kinds"]
    for service in services:
        start = datetime.combine(datetime.min.date(), service["start_time"])
        service["lineage"] = service["lineage"] or service["id"]
        service["time_range"] = f"{start:%H:%M}–{start + timedelta(minutes=service['duration_minutes']):%H:%M}"
    inputs = await q("SELECT f.id, f.going_well, f.worries, f.change, f.updated_at, u.display_name AS name "
                     "FROM family_review_input f JOIN kinward_user u ON u.id = f.\"user\" WHERE f.client = ? AND "
                     "(f.review = ? OR (f.due_on = ? AND f.review IS NULL)) AND "
                     "(f.going_well <> '' OR f.worries <> '' OR f.change <> '') ORDER BY f.id",
                     ids["client"], review["id"], review["due_on"])
    addenda = await q("SELECT a.number, a.body, a.created_at, u.display_name AS author_name FROM care_review_addendum a "
                      "LEFT JOIN kinward_user u ON u.id = a.author WHERE a.review = ? ORDER BY a.number", review["id"])
    return {**ctx, "client": client, "review": review, "facts": review["figures"], "plan": plan,
            "services_now": services, "family_inputs": inputs, "addenda": addenda,
            "services_by_lineage": {s["lineage"]: f"{kinds.get(s['kind'], s['kind'])} {s['time_range']}"
                                    for s in services}}


async def floor_agencies(q, ids, ctx):
    return {**ctx, "agencies": await q("SELECT * FROM agency WHERE facility = ? AND archived_at IS NULL ORDER BY name",
                                       ids["facility"])}


PAGES = (
    Page("caseload", "coordinator@kinward.example", "/caseload", floor_caseload),
    Page("client record", "coordinator@kinward.example", "/clients/{client}", floor_client_record),
    Page("client thread", "coordinator@kinward.example", "/clients/{client}/messages", floor_client_thread),
    Page("my day", "worker@kinward.example", "/my-day", floor_my_day),
    Page("family home", "family@kinward.example", "/family", floor_family_home),
    Page("team week", "coordinator@kinward.example", "/schedule", floor_team_week),
    Page("visit page", "worker@kinward.example", "/visits/{visit}", floor_visit_page),
    Page("referrals", "coordinator@kinward.example", "/referrals", floor_referrals),
    Page("agencies", "coordinator@kinward.example", "/agencies", floor_agencies),
    Page("review", "coordinator@kinward.example", "/clients/{client}/reviews/{review}", floor_review),
    Page("dashboard", "coordinator@kinward.example", "/dashboard", REPLAY),
)
PAGES_BY_NAME = {page.name: page for page in PAGES}


def demo_password(email: str) -> str:
    from app.demo import demo_password as password

    return password(email)


# --- the server: Kinward and the floor in one process -----------------------------------------

_recording: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar("bench_recording", default=None)


@dataclass
class Recorded:
    template: str = ""
    context: dict = None  # type: ignore[assignment]
    user: Any = None
    selects: list = None  # type: ignore[assignment]  # (sql, args) of the page's reads, for a replay floor


_recorded: dict[str, Recorded] = {}
_ids: dict[str, Any] = {}


def serve(url: str, port: int) -> None:
    """One uvicorn worker: /__floor/<page> is the floor, everything else is Kinward."""
    import uvicorn
    from litestar import Litestar, Request, get
    from litestar.response import Template
    from litestar.response import template as template_module

    from app import db
    from app.main import compression, create_app
    from app.settings import Settings
    from app.web.templating import template_config

    os.environ["KINWARD_DATABASE_URL"] = url
    kinward = create_app(Settings.from_env())
    original_init = template_module.Template.__init__

    def recording_init(self, template_name=None, *args, **kwargs):
        name = _recording.get()
        if name is not None:
            entry = _recorded.setdefault(name, Recorded(selects=[]))
            entry.template, entry.context = template_name, kwargs.get("context") or {}
        original_init(self, template_name, *args, **kwargs)

    template_module.Template.__init__ = recording_init  # type: ignore[method-assign]
    engine = db.engine()
    original_run = engine.run_querystring

    async def recording_run(querystring, *args, **kwargs):
        name = _recording.get()
        if name is not None and querystring.template.lstrip().upper().startswith("SELECT"):
            sql, values = querystring.compile_string(engine_type=engine.engine_type)
            _recorded.setdefault(name, Recorded(selects=[])).selects.append((sql, list(values)))
        return await original_run(querystring, *args, **kwargs)

    engine.run_querystring = recording_run  # type: ignore[method-assign]
    q, replay = _raw_reader(url)

    @get("/__floor/{name:str}")
    async def floor(request: Request, name: str) -> Template:
        entry = _recorded[name]
        request.scope["user"] = entry.user  # base.html's navigation is the viewer's
        page = PAGES_BY_NAME[name]
        if page.floor is REPLAY:
            for sql, values in entry.selects:
                await replay(sql, values)
            return Template(entry.template, context=entry.context)
        return Template(entry.template, context=await page.floor(q, _ids, entry.context))

    floor_app = Litestar(route_handlers=[floor], template_config=template_config(),
                         compression_config=compression(),
                         openapi_config=None, debug=True)

    async def app(scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith("/__floor/"):
            if scope["path"].removeprefix("/__floor/").replace("%20", " ") not in _recorded:
                await send({"type": "http.response.start", "status": 404, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
            return await floor_app(scope, receive, send)
        if scope["type"] == "http":
            headers = dict(scope.get("headers", ()))
            if b"x-bench-record" in headers:
                name = headers[b"x-bench-record"].decode()
                _ids.update(_parsed_ids(json.loads(headers[b"x-bench-ids"])))
                _recorded[name] = Recorded(selects=[])
                token = _recording.set(name)
                try:
                    async def capture_user(message, _send=send, _scope=scope):
                        if message["type"] == "http.response.start":
                            _recorded[name].user = _scope.get("user")
                        await _send(message)

                    return await kinward(scope, receive, capture_user)
                finally:
                    _recording.reset(token)
        return await kinward(scope, receive, send)

    uvicorn.run(app, host="127.0.0.1", port=port, workers=1, log_level="warning", access_log=False, lifespan="on")


def _parsed_ids(ids: dict) -> dict:
    return {k: datetime.fromisoformat(v) if isinstance(v, str) and "T" in v else v for k, v in ids.items()}


def _raw_reader(url: str):
    """The floor's reads: prebuilt SQL with bound values, straight to the driver, rows as dicts.

    Returns (q, replay): q takes "?" placeholders (and "name [TYPE]" aliases, typed by the SQLite
    driver's converters, plain names on PostgreSQL); replay takes SQL as the page's engine compiled it.
    """
    if url.startswith("sqlite:///"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"), check_same_thread=False,
                                     detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES)

        def rows(cursor) -> list[dict]:
            names = [c[0] for c in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

        async def q_sqlite(sql: str, *args) -> list[dict]:
            return rows(connection.execute(sql, args))

        async def replay_sqlite(sql: str, args: list) -> list[dict]:
            return rows(connection.execute(sql, args))

        return q_sqlite, replay_sqlite
    import asyncpg

    pool: dict[str, Any] = {}
    statements: dict[str, str] = {}

    async def replay_postgres(sql: str, args: list) -> list[dict]:
        if "pool" not in pool:
            pool["pool"] = await asyncpg.create_pool(url, min_size=1, max_size=4)
        return [dict(r) for r in await pool["pool"].fetch(sql, *args)]

    async def q_postgres(sql: str, *args) -> list[dict]:
        statement = statements.get(sql)
        if statement is None:
            n = iter(range(1, 100))
            statement = re.sub(r"\?", lambda _m: f"${next(n)}", re.sub(r'"(\w+) \[\w+\]"', r"\1", sql))
            statements[sql] = statement
        return await replay_postgres(statement, list(args))

    return q_postgres, replay_postgres


# --- the driver -----------------------------------------------------------------------------


def run_cli(url: str, *args: str) -> str:
    env = {**os.environ, "KINWARD_DATABASE_URL": url, "KINWARD_ENV": "production",
           "KINWARD_SECRET_KEY": "benchmark-secret-" + "x" * 32}
    done = subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"kinward {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def settle(url: str) -> None:
    """The database as a server that has run a while has it, not as a bulk load just left it.

    PostgreSQL: VACUUM ANALYZE, what autovacuum does a while after a bulk load (planner statistics, the
    visibility map); measured without it, the first pages ran while autovacuum worked through a million
    new visits, at a tenth of their speed; then a checkpoint, so the pages the vacuum wrote are not flushed
    during the rounds. SQLite: the write-ahead log folded into the file and the file read once, as the pages
    a running server reads are in memory. (The first runs after a build printed most pages at scale at 0.1x
    to 0.4x, later runs 0.5x to 0.8x: the build's three years of weekly family messages were unanswered, and
    the first servers escalated each one, a transaction and an email apiece, while they measured. The build
    answers them now, as a team does.) Kinward never runs ANALYZE on SQLite, so its plans there have no
    statistics.

    Before either, every audit event the build wrote is sealed (`kinward audit checkpoint` seals first) and
    the visit horizon is filled (`kinward schedule`): the scale data's quarter of a million events were
    otherwise sealed by the servers of the first runs, in their rounds' time (a round of the dashboard at scale
    on PostgreSQL took 7 s of sealing, and the first runs printed 11 to 26 pages a second against 92 once sealed).
    """
    run_cli(url, "audit", "checkpoint")
    run_cli(url, "schedule")  # the visit horizon filled, as the servers' keeper would at their start
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        with sqlite3.connect(path) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        with path.open("rb") as database:
            while database.read(1 << 22):
                pass
        return
    import asyncpg

    async def run() -> None:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute("VACUUM ANALYZE")
            # What the vacuum wrote goes to disk now, not during the first pages' rounds.
            with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
                await connection.execute("CHECKPOINT")
        finally:
            await connection.close()

    asyncio.run(run())


def prepare(url: str, scale: int) -> None:
    """A database with the demo (and the scale data): built once, reused by later runs."""
    try:
        _prepare(url, scale)
    finally:
        settle(url)


def _prepare(url: str, scale: int) -> None:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if path.exists():
            run_cli(url, "migrate")  # built by an earlier run: brought up to date
            return
        path.parent.mkdir(parents=True, exist_ok=True)
    else:
        import asyncpg

        async def create() -> bool:
            name = url.rsplit("/", 1)[1]
            admin = await asyncpg.connect(url.rsplit("/", 1)[0] + "/postgres")
            try:
                if await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                    return False
                await admin.execute(f'CREATE DATABASE "{name}"')
                return True
            finally:
                await admin.close()

        if not asyncio.run(create()):
            run_cli(url, "migrate")
            return
    started = time.monotonic()
    run_cli(url, "migrate")
    run_cli(url, "demo")
    if scale:
        print(run_cli(url, "demo", "--scale", str(scale)).strip().splitlines()[-1])
    print(f"  prepared {url} in {time.monotonic() - started:.0f} s")


async def load(port: int, path: str, headers: dict[str, str], seconds: float) -> tuple[list[float], float]:
    """16 keep-alive connections asking for `path` for `seconds`; the latency of every answer."""
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip\r\n"
               + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    failures = {"n": 0}

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = re.search(rb"(?i)content-length: *(\d+)", head)
                if length:
                    await reader.readexactly(int(length.group(1)))
                else:  # chunked
                    while True:
                        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                        await reader.readexactly(size + 2)
                        if size == 0:
                            break
                if status != 200:
                    failures["n"] += 1
                latencies.append(time.perf_counter() - began)
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(CONNECTIONS)))
    if failures["n"]:
        print(f"    ! {failures['n']} answers other than 200 for {path}")
    return latencies, time.perf_counter() - began


def summary(latencies: list[float], seconds: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {"rps": len(ordered) / seconds, "p50": statistics.median(ordered) * 1000,
            "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000}


@dataclass
class Served:
    """One database served by its own uvicorn worker, with the benchmark's signed-in cookies and ids."""
    url: str
    port: int
    server: subprocess.Popen
    cookies: dict
    ids: dict

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def serve_for_measuring(url: str, pages: tuple) -> Served:
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", url, str(port)], cwd=ROOT,
                              env={**os.environ, "KINWARD_DATABASE_URL": url, "KINWARD_ENV": "production",
                                   "KINWARD_SECRET_KEY": "benchmark-secret-" + "x" * 32,
                                   "FORWARDED_ALLOW_IPS": "127.0.0.1"},
                              stdout=subprocess.DEVNULL,
                              stderr=(VAR / f"server-{url.rsplit('/', 1)[1]}.log").open("w"))
    base = f"http://127.0.0.1:{port}"
    from app import db

    db.configure(url)
    try:
        if not until_healthy(base, server, seconds=120):
            sys.exit("the benchmark server did not start")
        # Production cookies are Secure __Host- ones; the benchmark speaks plain HTTP, so it reads them itself.
        cookies = {email: await sign_in_cookie(base, email) for email in {p.who for p in pages}
                   | {"family@kinward.example", "worker@kinward.example"}}
        return Served(url=url, port=port, server=server, cookies=cookies, ids=await ids_for_production(base, cookies))
    except BaseException:
        stop_serving(server)
        raise


def stop_serving(server: subprocess.Popen) -> None:
    process_stop(server, timeout=20)


@dataclass
class Measuring:
    """One page at one size: where to ask, and what its rounds and its floor's rounds took so far."""
    target: Served
    path: str
    headers: dict
    floor_path: str
    bytes: dict
    real: list = field(default_factory=list)
    floor: list = field(default_factory=list)
    real_time: float = 0.0
    floor_time: float = 0.0


async def measure(urls: dict[str, str], seconds: float, rounds: int, pages: tuple = PAGES, *,
                  show_rounds: bool = False) -> dict:
    """Each page at each size (`urls`: size -> database), every size served at once by a worker of its own; a
    page's rounds alternate page and floor, and size after size, so that a machine that slows down or speeds
    up during the run moves both sides of each ratio (page/floor, and p50 at scale over p50 at demo size)."""
    import httpx

    served: dict[str, Served] = {}
    try:
        for size, url in urls.items():
            served[size] = await serve_for_measuring(url, pages)
        results: dict[str, dict[str, dict]] = {size: {} for size in served}
        for page in pages:
            measuring: dict[str, Measuring] = {}
            for size, target in served.items():
                ids = target.ids
                path = page.path.format(**ids)
                headers = {"Cookie": target.cookies[page.who]}
                floor_path = f"/__floor/{page.name.replace(' ', '%20')}"
                page_ids = {**{k: v for k, v in ids.items() if k != "users"}, "user": ids["users"][page.who]}
                async with httpx.AsyncClient(base_url=target.base) as c:
                    warm = await c.get(path, headers={**headers, "x-bench-record": page.name,
                                                      "x-bench-ids": json.dumps(page_ids)})
                    if warm.status_code != 200:
                        print(f"    ! {page.name} ({size}): {warm.status_code}")
                        continue
                    floor_page = await c.get(floor_path)
                    if floor_page.status_code != 200:
                        print(f"    ! {page.name} floor ({size}): {floor_page.status_code}",
                              floor_page.text[-1500:])
                        continue
                measuring[size] = Measuring(target, path, headers, floor_path,
                                            {"page": len(warm.content), "floor": len(floor_page.content)})
                await until_sealed(target.url)  # what earlier pages wrote is sealed before this one starts
            for _ in range(rounds):
                for size, m in measuring.items():
                    latencies, elapsed = await load(m.target.port, m.path, m.headers, seconds)
                    # Sealing the audit events the page views wrote is their work too: the round lasts until it is
                    # done (not while the floor runs next, which would slow the floor instead).
                    sealing = await until_sealed(m.target.url)
                    if show_rounds:
                        print(f"    {page.name} ({size}): {len(latencies)} in {elapsed:.2f} s "
                              f"+ sealing {sealing:.2f} s")
                    m.real += latencies
                    m.real_time += elapsed + sealing
                    latencies, elapsed = await load(m.target.port, m.floor_path, {}, seconds)
                    m.floor += latencies
                    m.floor_time += elapsed
            for size, m in measuring.items():
                results[size][page.name] = {"page": summary(m.real, m.real_time),
                                            "floor": summary(m.floor, m.floor_time), "bytes": m.bytes}
        return results
    finally:
        for target in served.values():
            stop_serving(target.server)


async def until_sealed(url: str, limit: float = 120.0) -> float:
    """Wait until the server's audit sealer has chained every event written so far; how long that took (s)."""
    began = time.perf_counter()
    query = "SELECT COUNT(*) FROM audit_event WHERE seq IS NULL"
    if url.startswith("sqlite:///"):
        def unsealed() -> int:
            with sqlite3.connect(f"file:{url.removeprefix('sqlite:///')}?mode=ro", uri=True) as connection:
                return connection.execute(query).fetchone()[0]
    else:
        import asyncpg

        connection = await asyncpg.connect(url)

        async def unsealed() -> int:  # type: ignore[misc]
            return await connection.fetchval(query)
    try:
        while time.perf_counter() - began < limit:
            left = unsealed() if url.startswith("sqlite:///") else await unsealed()
            if not left:
                break
            await asyncio.sleep(0.02)
        else:
            print(f"    ! audit events still unsealed after {limit:.0f} s")
    finally:
        if not url.startswith("sqlite:///"):
            await connection.close()
    return time.perf_counter() - began


async def sign_in_cookie(base: str, email: str) -> str:
    """Sign in over plain HTTP against a production-mode server (its cookies say Secure); the Cookie header a
    browser would send afterwards: the session and the CSRF cookie (without it, every answer sets a new one)."""
    import httpx

    async with httpx.AsyncClient(base_url=base) as browser:
        login = await browser.get("/login")
        csrf = re.search(r"__Host-csrftoken=([^;]+)", login.headers.get("set-cookie", "")).group(1)
        answer = await browser.post("/login", data={"_csrf_token": csrf, "email": email,
                                                    "password": demo_password(email)},
                                    headers={"Cookie": f"__Host-csrftoken={csrf}"})
        if answer.status_code != 303:
            sys.exit(f"sign-in of {email} failed: {answer.status_code}")
        session = re.search(r"__Host-kinward_session=([^;]+)", answer.headers["set-cookie"]).group(1)
        return f"__Host-kinward_session={session}; __Host-csrftoken={csrf}"


async def ids_for_production(base: str, cookies: dict[str, str]) -> dict:
    import httpx

    ids: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=base) as c:
        home = (await c.get("/family", headers={"Cookie": cookies["family@kinward.example"]})).text
        ids["client"] = int(re.search(r"/clients/(\d+)", home).group(1))
        day = (await c.get("/my-day", headers={"Cookie": cookies["worker@kinward.example"]})).text
        ids["visit"] = int(re.search(r"/visits/(\d+)", day).group(1))
    now = datetime.now(timezone.utc)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    ids["now"] = now.isoformat()
    ids["day_start"], ids["day_end"] = midnight.isoformat(), (midnight + timedelta(days=1)).isoformat()
    ids["day_before"], ids["day_after"] = (midnight - timedelta(days=1)).isoformat(), (midnight + timedelta(days=2)).isoformat()
    monday = midnight - timedelta(days=midnight.weekday())
    ids["week_start"], ids["week_end"] = monday.isoformat(), (monday + timedelta(days=7)).isoformat()
    ids["users"], ids["facility"], ids["review"] = await user_ids(ids["client"])
    return ids


async def user_ids(client_id: int) -> tuple[dict[str, int], int, int]:
    from app import db
    from app.accounts.tables import User
    from app.reviews.tables import Review

    await db.start()
    try:
        users = await User.select(User.id, User.email, User.facility).where(User.email.like("%@kinward.example")).run()
        review = await Review.select(Review.number).where(Review.client == client_id).order_by(
            Review.number, ascending=False).first().run()
        return {r["email"]: r["id"] for r in users}, users[0]["facility"], review["number"] if review else 1
    finally:
        await db.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0, help="per round, per page, real and floor each")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--postgres", default=os.environ.get("KINWARD_BENCH_POSTGRES", ""),
                        help="postgresql://user@host:port/prefix: <prefix>_demo and <prefix>_scale are used")
    parser.add_argument("--only", default="", help="sqlite or postgresql")
    parser.add_argument("--pages", default="", help="comma-separated page names (default: all)")
    parser.add_argument("--sizes", default="demo,scale", help="demo, scale or both")
    parser.add_argument("--show-rounds", action="store_true",
                        help="print each round of each page: answers, seconds, and the seconds sealing took after it")
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    pages = tuple(p for p in PAGES if not args.pages or p.name in args.pages.split(","))
    engines = {"SQLite": lambda size: f"sqlite:///{VAR / f'{size}.sqlite'}"}
    if args.postgres:
        engines["PostgreSQL"] = lambda size: f"{args.postgres}_{size}"
    if args.only:
        engines = {k: v for k, v in engines.items() if k.lower().startswith(args.only.lower())}
    print(f"{CONNECTIONS} connections, one uvicorn worker per size, {args.rounds} x {args.seconds} s per page and "
          f"floor; {os.cpu_count()} cores")
    for engine, url_of in engines.items():
        urls = {}
        for size, scale in (("demo", 0), ("scale", args.scale)):
            if size not in args.sizes.split(","):
                continue
            urls[size] = url_of(size)
            prepare(urls[size], scale)
        report(engine, asyncio.run(measure(urls, args.seconds, args.rounds, pages, show_rounds=args.show_rounds)))


def report(engine: str, by_size: dict) -> None:
    print(f"\n{engine}")
    print(f"{'page':14} {'size':6} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} | {'floor/s':>7} {'p50 ms':>7} "
          f"{'p99 ms':>7} | {'page/floor':>10} {'p50 scale/demo':>14} | {'HTML page/floor':>15}")
    for name in [p.name for p in PAGES]:
        for size in ("demo", "scale"):
            r = by_size.get(size, {}).get(name)
            if r is None:
                continue
            page, floor = r["page"], r["floor"]
            ratio = page["rps"] / floor["rps"] if floor["rps"] else 0
            scaled = ""
            if size == "scale" and name in by_size.get("demo", {}):
                scaled = f"{page['p50'] / by_size['demo'][name]['page']['p50']:.2f}x"
            flag = "" if ratio >= TARGET_FLOOR_RATIO else " <"
            html = f"{r['bytes']['page'] / 1024:.0f}/{r['bytes']['floor'] / 1024:.0f} KB"
            print(f"{name:14} {size:6} {page['rps']:7.0f} {page['p50']:7.1f} {page['p99']:7.1f} | "
                  f"{floor['rps']:7.0f} {floor['p50']:7.1f} {floor['p99']:7.1f} | {ratio:9.2f}x{flag:2} {scaled:>12} | "
                  f"{html:>15}")


if __name__ == "__main__":
    main()
