"""Retention: discharged clients past the facility's period are reported, and purged only when asked,
with the audit trail left whole."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from app.accounts.tables import Facility, Session
from app.audit.queries import audit_chain_verify
from app.audit.services import Actor, audit_record
from app.audit.tables import AuditEvent
from app.clients.tables import BreakGlassGrant, Client, ClientContact, ClientStatusChange, FamilyLink
from app.messages.tables import Message, MessageRead
from app.records.queries import client_related_rows, purge_due_on, retention_due_for
from app.records.services import retention_purge
from app.records.tables import RetentionPurge
from app.visits.tables import Visit
from app.web.sessions import session_create
from tests.careplans.factories import add_service, make_plan
from tests.clients.factories import add_contact, link_family, make_client
from tests.conftest import _TEST_URL, login, make_facility, make_user, post_form
from tests.messages.factories import add_message, mark_read

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 12, 1)


async def _discharged(facility: int, ended: date, **people) -> dict:
    client = await make_client(facility_id=facility, status="discharged", **people)
    await Client.update({Client.status_since: ended}).where(Client.id == client["id"]).run()
    return client


async def _full_record(client: dict, coordinator: dict, worker: dict, family: dict) -> None:
    """A client with something in every kind of record that refers to a client."""
    await add_contact(client_id=client["id"])
    await link_family(client_id=client["id"], user=family)
    await ClientStatusChange.insert(ClientStatusChange(client=client["id"], to_status="discharged",
                                                       effective_on=date(2017, 3, 1), reason="Moved away")).run()
    plan = await make_plan(client_id=client["id"], status="closed")
    service = await add_service(plan_id=plan, worker=worker)
    start = datetime(2017, 2, 1, 9, tzinfo=timezone.utc)
    await Visit.insert(Visit(client=client["id"], service=service, worker=worker["id"], scheduled_start=start,
                             scheduled_end=start + timedelta(minutes=30), status="completed")).run()
    message = await add_message(client_id=client["id"], author=family, body="Thank you all")
    await mark_read(message_id=message, user=coordinator)
    await session_create(user_id=coordinator["id"], absolute_hours=1)
    session = await Session.select(Session.id).where(Session.user == coordinator["id"]).first().run()
    await BreakGlassGrant.insert(BreakGlassGrant(client=client["id"], user=coordinator["id"], session=session["id"],
                                                 reason="Night call")).run()
    actor = Actor(user_id=coordinator["id"], label=coordinator["email"], role="coordinator",
                  facility_id=client["facility_id"])
    await audit_record(actor=actor, action="client.viewed", client_id=client["id"], object_type="client",
                       object_id=client["id"], detail={"page": "record"})


def test_records_are_kept_to_the_anniversary_and_a_leap_day_never_a_day_short():
    assert purge_due_on(care_ended_on=date(2018, 5, 31), retention_years=8) == date(2026, 5, 31)
    assert purge_due_on(care_ended_on=date(2016, 2, 29), retention_years=8) == date(2024, 2, 29)
    assert purge_due_on(care_ended_on=date(2016, 2, 29), retention_years=9) == date(2025, 3, 1)


async def test_the_report_lists_only_discharged_clients_past_their_facilitys_period():
    north, south = await make_facility("North"), await make_facility("South")
    await Facility.update({Facility.retention_years: 20}).where(Facility.id == south).run()
    due = await _discharged(north, date(2018, 11, 30))
    await _discharged(north, date(2018, 12, 2))  # eight years on 2 December: not yet
    await make_client(facility_id=north, status="active")  # still in care
    await _discharged(south, date(2010, 1, 1))  # south keeps 20 years

    rows = await retention_due_for(today=TODAY)

    assert [(r["id"], r["purge_due_on"]) for r in rows] == [(due["id"], date(2026, 11, 30))]


async def test_a_purge_removes_the_clients_personal_data_and_keeps_the_audit_chain_verifiable():
    facility = await make_facility()
    coordinator = await make_user(facility_id=facility, role="coordinator")
    worker = await make_user(facility_id=facility, role="worker")
    family = await make_user(facility_id=facility, role="family")
    gone = await _discharged(facility, date(2017, 3, 1), coordinator=coordinator, workers=(worker,))
    kept = await _discharged(facility, date(2024, 1, 1), coordinator=coordinator)
    await _full_record(gone, coordinator, worker, family)
    await _full_record(kept, coordinator, worker, family)
    audit_before = await AuditEvent.select().order_by(AuditEvent.id).run()
    kept_before = await client_related_rows(client_id=kept["id"])

    purged = await retention_purge(today=TODAY, by="kinward retention purge")

    assert purged == [gone["id"]]
    assert not await Client.exists().where(Client.id == gone["id"]).run()
    assert await client_related_rows(client_id=gone["id"]) == []
    for table in (ClientContact, FamilyLink, ClientStatusChange, Message, BreakGlassGrant):
        assert not await table.exists().where(table.client == gone["id"]).run(), table
    assert await MessageRead.count().run() == 1  # the kept client's
    assert await client_related_rows(client_id=kept["id"]) == kept_before
    audit_after = await AuditEvent.select().order_by(AuditEvent.id).run()
    assert audit_after[:len(audit_before)] == audit_before
    [event] = [e for e in audit_after if e["action"] == "client.purged"]
    assert event["client_id"] == gone["id"]
    assert await audit_chain_verify() is None
    [record] = await RetentionPurge.select().run()
    removed = json.loads(record["rows_removed"])
    assert record["client_id"] == gone["id"] and record["care_ended_on"] == date(2017, 3, 1)
    assert {"client", "client_contact", "family_link", "visit", "care_plan", "care_service", "care_goal", "message",
            "message_read", "break_glass_grant", "care_team_member", "client_status_change"} <= set(removed)


async def test_two_purges_at_once_purge_each_client_once():
    facility = await make_facility()
    clients = [await _discharged(facility, date(2015, 1, 1)) for _ in range(3)]

    results = await asyncio.gather(*(retention_purge(today=TODAY, by=f"purge {n}") for n in range(4)))

    assert sorted(sum(results, [])) == sorted(c["id"] for c in clients)
    assert await RetentionPurge.count().run() == 3
    assert await AuditEvent.count().where(AuditEvent.action == "client.purged").run() == 3
    assert await audit_chain_verify() is None


def _cli(*args: str) -> subprocess.Popen:
    env = {**os.environ, "KINWARD_DATABASE_URL": _TEST_URL, "KINWARD_ENV": "test"}
    return subprocess.Popen([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


async def test_the_commands_report_and_purge_only_with_confirm_even_from_two_processes_at_once():
    facility = await make_facility()
    old = await _discharged(facility, date(2010, 6, 1))

    report = _cli("retention", "report").communicate(timeout=120)[0]
    assert f"client {old['id']:>6}" in report and "2010-06-01" in report
    refused = _cli("retention", "purge")
    assert "--confirm" in refused.communicate(timeout=120)[1] and refused.returncode == 2
    assert await Client.exists().where(Client.id == old["id"]).run()

    both = [_cli("retention", "purge", "--confirm") for _ in range(2)]
    outputs = [process.communicate(timeout=120)[0] for process in both]

    assert all(process.returncode == 0 for process in both)
    assert sorted(out.split(" for ")[1].split(" ")[0] for out in outputs) == ["0", "1"], outputs
    assert await RetentionPurge.count().run() == 1
    assert await audit_chain_verify() is None


async def test_admins_set_the_retention_period_and_see_purged_records(client):
    facility = await make_facility()
    admin = await make_user(facility_id=facility, role="admin")
    coordinator = await make_user(facility_id=facility, role="coordinator")
    old = await _discharged(facility, date(2012, 1, 1))
    await retention_purge(today=TODAY, by="kinward retention purge")
    await login(client, admin)

    page = await client.get("/admin/records")
    assert page.status_code == 200 and f"Client {old['id']}" in page.text and "kinward retention purge" in page.text
    bad = await post_form(client, "/admin/records/retention", {"retention_years": "eight"})
    assert bad.status_code == 422 and "Enter a whole number from 1 to 100" in bad.text and 'value="eight"' in bad.text
    saved = await post_form(client, "/admin/records/retention", {"retention_years": "10"})
    assert saved.status_code == 303
    assert (await Facility.select(Facility.retention_years).where(Facility.id == facility).first().run()) == {
        "retention_years": 10}
    assert await AuditEvent.exists().where(AuditEvent.action == "facility.settings_changed").run()
    await login(client, coordinator)
    assert (await client.get("/admin/records")).status_code == 404
