"""Subject access: an admin or the client's coordinator downloads everything held about a client; nobody else can."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta, timezone

import pytest

from app.audit.tables import AuditEvent
from app.visits.tables import Visit
from tests.careplans.factories import add_service, make_plan
from tests.clients.factories import make_world
from tests.conftest import login, post_form
from tests.messages.factories import add_message


async def _world_with_records():
    world = await make_world()
    plan = await make_plan(client_id=world.own["id"], goals=("Walks to the shop each week",))
    service = await add_service(plan_id=plan, worker=world.worker)
    start = datetime(2026, 11, 20, 9, tzinfo=timezone.utc)
    await Visit.insert(Visit(client=world.own["id"], service=service, worker=world.worker["id"], scheduled_start=start,
                             scheduled_end=start + timedelta(minutes=30), status="completed",
                             internal_note="Seemed tired", family_summary="Had breakfast")).run()
    await add_message(client_id=world.own["id"], author=world.family, body="Mum liked the new carer")
    await add_message(client_id=world.own["id"], author=world.coordinator, body="Watch for weight loss", team_only=True)
    await add_message(client_id=world.others["id"], author=world.family2, body="Not about Olive")
    return world


def _unzip(response) -> dict[str, bytes]:
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


async def test_the_coordinator_downloads_everything_held_about_their_client(client):
    world = await _world_with_records()
    await login(client, world.coordinator)
    assert (await client.get(f"/clients/{world.own['id']}")).status_code == 200
    page = await client.get(f"/clients/{world.own['id']}/export")
    assert page.status_code == 200 and "Download the records" in page.text

    files = _unzip(await post_form(client, f"/clients/{world.own['id']}/export", {}))

    assert json.loads(files["client.json"])["first_name"] == "Olive"
    assert json.loads(files["client.json"])["confidential_notes"] == world.own["confidential_notes"]
    family = json.loads(files["messages/family_visible.json"])
    team = json.loads(files["messages/team_notes.json"])
    assert [m["body"] for m in family] == ["Mum liked the new carer"]
    assert [m["body"] for m in team["notes"]] == ["Watch for weight loss"] and "never shown to the family" in team["note"]
    assert json.loads(files["records/care_goal.json"])[0]["description"] == "Walks to the shop each week"
    assert json.loads(files["records/visit.json"])[0]["internal_note"] == "Seemed tired"
    assert json.loads(files["records/family_link.json"])[0]["user"] == world.family["id"]
    assert {"records/care_plan.json", "records/care_service.json", "records/care_team_member.json"} <= set(files)
    assert any(e["action"] == "client.viewed" for e in json.loads(files["access_log.json"]))
    assert {p["id"] for p in json.loads(files["people.json"])} >= {world.coordinator["id"], world.family["id"]}
    bundle = json.loads(files["fhir.json"])
    assert bundle["resourceType"] == "Bundle"
    assert any(e["resource"]["resourceType"] == "Patient" for e in bundle["entry"])
    assert all("token_hash" not in row for name, content in files.items() if name.startswith("records/")
               for row in json.loads(content))
    summary = files["summary.html"].decode()
    assert "Olive" in summary and "Watch for weight loss" in summary and "Team-only note" in summary
    everything = b"".join(files.values())
    assert b"Otto" not in everything and b"Not about Olive" not in everything and b"Fern" not in everything


async def test_the_export_is_audited_without_the_clients_data(client):
    world = await _world_with_records()
    await login(client, world.admin)
    await post_form(client, f"/clients/{world.own['id']}/export", {})

    event = await AuditEvent.select().where(AuditEvent.action == "client.exported").first().run()
    assert event["client_id"] == world.own["id"] and event["actor_id"] == world.admin["id"]
    assert "Olive" not in event["detail"] and "client.json" in json.loads(event["detail"])["files"]
    from app.liaison.tables import Disclosure

    [disclosure] = await Disclosure.select().run()
    assert disclosure["client"] == world.own["id"] and disclosure["kind"] == "subject_access"
    assert disclosure["by_user"] == world.admin["id"]
    await login(client, world.coordinator)
    log = await client.get(f"/clients/{world.own['id']}/access-log")
    assert "Exported the records (subject access)" in log.text


@pytest.mark.parametrize("who, target, allowed", [
    ("admin", "own", True), ("coordinator", "own", True), ("admin", "other", True),
    ("coordinator", "other", False), ("worker", "own", False), ("family", "own", False),
    ("admin", "foreign", False), ("coordinator", "foreign", False), ("coordinator", "missing", False),
])
async def test_only_an_admin_or_the_clients_coordinator_may_export(client, who, target, allowed):
    world = await _world_with_records()
    client_id = 999_999 if target == "missing" else world.target(target)["id"]
    await login(client, world.person(who))

    page = await client.get(f"/clients/{client_id}/export")
    download = await post_form(client, f"/clients/{client_id}/export", {})

    assert page.status_code == (200 if allowed else 404)
    assert download.status_code == (200 if allowed else 404)
    if not allowed:
        assert "Olive" not in download.text and "Otto" not in download.text
    exported = await AuditEvent.count().where(AuditEvent.action == "client.exported").run()
    assert exported == (1 if allowed else 0)
    from app.liaison.tables import Disclosure

    assert await Disclosure.count().run() == (1 if allowed else 0)


async def test_an_export_without_the_csrf_token_is_refused(client):
    world = await _world_with_records()
    await login(client, world.coordinator)
    response = await client.post(f"/clients/{world.own['id']}/export", data={})
    assert response.status_code == 403
    assert await AuditEvent.count().where(AuditEvent.action == "client.exported").run() == 0


async def test_a_coordinator_with_emergency_access_cannot_export(client):
    world = await _world_with_records()
    from app.clients.tables import BreakGlassGrant
    from app.accounts.tables import Session

    await login(client, world.coordinator2)
    session = await Session.select(Session.id).where(Session.user == world.coordinator2["id"]).first().run()
    await BreakGlassGrant.insert(BreakGlassGrant(client=world.own["id"], user=world.coordinator2["id"],
                                                 session=session["id"], reason="GP asked for the medication list")).run()
    assert (await client.get(f"/clients/{world.own['id']}")).status_code == 200
    assert (await client.get(f"/clients/{world.own['id']}/export")).status_code == 404
