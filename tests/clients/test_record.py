"""The client record over HTTP: fields by role, intake and edits with validation, conflicts, audit of reads."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from app.accounts.queries import user_by_email
from app.audit.tables import AuditEvent
from app.clients.tables import CareTeamMember, Client, ClientContact, FamilyLink
from tests.clients.factories import make_world, today
from tests.conftest import post_form, sign_in


def edit_values(client: dict, **changes) -> dict:
    values = {name: client.get(name) or "" for name in (
        "first_name", "last_name", "preferred_name", "address", "phone", "email", "language", "allergies",
        "mobility", "communication", "what_matters", "risks", "care_instructions", "flag", "confidential_notes")}
    values["date_of_birth"] = client["date_of_birth"].isoformat()
    values["review_due"] = ""
    values.update(changes)
    return values


async def audit_of(action: str) -> list[dict]:
    return await AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.seq).run()


async def test_a_worker_sees_need_to_know_fields_and_never_confidential_notes(client):
    world = await make_world()
    await sign_in(client, world.worker)
    page = await client.get(f"/clients/{world.own['id']}")
    assert page.status_code == 200
    for visible in ("Olive Owens", "Penicillin", "Knock loudly", "1 Example Street", "01632 960000"):
        assert visible in page.text
    for hidden in ("Confidential: family dispute", "17 May 1940", "client@example.org", "Confidential notes",
                   "Status history", "Edit details", "Family"):
        assert hidden not in page.text
    [viewed] = await audit_of("client.viewed")
    assert json.loads(viewed["detail"])["view"] == "need_to_know"


async def test_the_coordinator_on_the_team_sees_the_whole_record_and_each_read_is_audited(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    page = await client.get(f"/clients/{world.own['id']}")
    for visible in ("Confidential: family dispute", "17 May 1940", "client@example.org", "Edit details"):
        assert visible in page.text
    await client.get(f"/clients/{world.own['id']}/edit")
    reads = await audit_of("client.viewed")
    assert [(r["client_id"], r["actor_id"], json.loads(r["detail"])["page"]) for r in reads] == [
        (world.own["id"], world.coordinator["id"], "record"), (world.own["id"], world.coordinator["id"], "edit")]


async def test_a_refused_record_is_not_audited_as_read(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    assert (await client.get(f"/clients/{world.others['id']}")).status_code == 404
    assert await audit_of("client.viewed") == []


async def test_intake_with_mistakes_keeps_the_input_and_says_what_is_wrong(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    tomorrow = (today() + timedelta(days=1)).isoformat()
    response = await post_form(client, "/clients", {
        "first_name": "", "last_name": "Quill", "date_of_birth": tomorrow, "phone": "call me", "email": "nope",
        "allergies": "Peanuts", "review_due": "2026-02-30"})
    assert response.status_code == 422
    text = response.text
    assert "Enter the client&#39;s first name." in text
    assert "The date of birth cannot be in the future." in text
    assert "Enter a phone number" in text and "Enter an email address like" in text
    assert "Enter a real date" in text
    assert 'value="Quill"' in text and ">Peanuts</textarea>" in text and 'value="call me"' in text
    assert re.search(r'id="first_name"[^>]*aria-invalid="true"', text)
    assert await Client.count().run() == 3  # the world's three, nothing added


async def test_intake_creates_the_client_with_the_coordinator_on_the_team(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    response = await post_form(client, "/clients", {
        "first_name": "Quentin", "last_name": "Quill", "date_of_birth": "1941-07-09", "phone": "+44 7700 900123",
        "allergies": "None known"})
    assert response.status_code == 303
    client_id = int(response.headers["location"].rsplit("/", 1)[1])
    assert (await client.get(f"/clients/{client_id}")).status_code == 200
    member = await CareTeamMember.select().where(CareTeamMember.client == client_id).first().run()
    assert member["user"] == world.coordinator["id"]
    assert "Quentin Quill" in (await client.get("/caseload")).text


async def test_an_edit_saves_and_records_the_changed_field_names(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    response = await post_form(client, f"/clients/{world.own['id']}/edit",
                               {**edit_values(world.own, mobility="Uses a walking frame", confidential_notes="New"),
                                "version": "1"})
    assert response.status_code == 303
    row = await Client.select(Client.mobility, Client.version).where(Client.id == world.own["id"]).first().run()
    assert row == {"mobility": "Uses a walking frame", "version": 2}
    [updated] = await audit_of("client.updated")
    assert json.loads(updated["detail"])["fields"] == ["mobility", "confidential_notes"]
    assert "New" not in updated["detail"].replace("version", "")


async def test_saving_over_a_newer_version_shows_both_values_and_keeps_what_was_typed(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    await client.get(f"/clients/{world.own['id']}/edit")  # opened at version 1
    # Meanwhile someone else saves a change to mobility.
    await Client.update({Client.mobility: "Hoist needed", Client.version: 2}).where(Client.id == world.own["id"]).run()
    mine = edit_values(world.own, mobility="Walks with a stick", risks="Wanders at night")
    response = await post_form(client, f"/clients/{world.own['id']}/edit", {**mine, "version": "1"})
    assert response.status_code == 409
    text = response.text
    assert "Someone else saved this client while you were editing" in text
    conflict_rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td class="pre">([^<]*)</td><td class="pre">([^<]*)</td>', text)
    assert ("Mobility", "Walks with a stick", "Hoist needed") in conflict_rows
    assert ("Other risks", "Wanders at night", "—") in conflict_rows
    assert ">Walks with a stick</textarea>" in text and ">Wanders at night</textarea>" in text
    assert 'name="version" value="2"' in text
    stored = await Client.select(Client.mobility, Client.risks).where(Client.id == world.own["id"]).first().run()
    assert stored == {"mobility": "Hoist needed", "risks": ""}
    # Saving again on purpose, from the re-rendered form, keeps the person's values.
    again = await post_form(client, f"/clients/{world.own['id']}/edit", {**mine, "version": "2"})
    assert again.status_code == 303
    assert (await Client.select(Client.mobility).where(Client.id == world.own["id"]).first().run())["mobility"] == \
        "Walks with a stick"


async def test_a_status_change_needs_a_date_and_a_reason(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    url = f"/clients/{world.own['id']}/status"
    refused = await post_form(client, url, {"to_status": "paused", "effective_on": "", "reason": "", "version": "1"})
    assert refused.status_code == 422
    assert "Enter the date of the change." in refused.text and "Give the reason for the change." in refused.text
    done = await post_form(client, url, {"to_status": "paused", "effective_on": today().isoformat(),
                                         "reason": "In hospital after a fall", "version": "1"})
    assert done.status_code == 303
    page = await client.get(f"/clients/{world.own['id']}")
    assert "In hospital after a fall" in page.text and "Paused" in page.text
    stale = await post_form(client, url, {"to_status": "active", "effective_on": today().isoformat(),
                                          "reason": "Home again", "version": "1"})
    assert stale.status_code == 409


async def test_contacts_are_added_with_validation_and_shown_to_workers(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    url = f"/clients/{world.own['id']}/contacts"
    refused = await post_form(client, url, {"name": "Raj", "relationship": "son", "phone": "", "email": ""})
    assert refused.status_code == 422 and "Give a phone number or an email address." in refused.text
    assert 'value="Raj"' in refused.text
    assert (await post_form(client, url, {"name": "Raj Owens", "relationship": "son", "phone": "07700 900456",
                                          "emergency": "on"})).status_code == 303
    contact = await ClientContact.select().where(ClientContact.name == "Raj Owens").first().run()
    assert contact["emergency"] is True
    await sign_in(client, world.worker)
    assert "Raj Owens" in (await client.get(f"/clients/{world.own['id']}")).text


async def test_the_care_team_is_managed_with_dates(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    url = f"/clients/{world.own['id']}/team"
    refused = await post_form(client, url, {"user_id": str(world.worker2["id"]), "since": "2026-05-10",
                                            "until": "2026-05-01"})
    assert refused.status_code == 422 and "The end date is before the start date." in refused.text
    assert (await post_form(client, url, {"user_id": str(world.worker2["id"]),
                                          "since": today().isoformat(), "until": ""})).status_code == 303
    member = await CareTeamMember.select().where(
        (CareTeamMember.client == world.own["id"]) & (CareTeamMember.user == world.worker2["id"])).first().run()
    assert member["role"] == "worker"
    yesterday = (today() - timedelta(days=1)).isoformat()
    worker_member = await CareTeamMember.select().where(
        (CareTeamMember.client == world.own["id"]) & (CareTeamMember.user == world.worker["id"])).first().run()
    ended = await post_form(client, f"{url}/{worker_member['id']}/end",
                            {"until": yesterday, "version": str(worker_member["version"])})
    assert ended.status_code == 303
    await sign_in(client, world.worker)
    assert (await client.get(f"/clients/{world.own['id']}")).status_code == 404


async def test_a_coordinator_invites_a_family_member_and_gets_a_one_time_link(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    url = f"/clients/{world.own['id']}/family"
    refused = await post_form(client, url, {"display_name": "Nia", "email": "nia@", "relationship": ""})
    assert refused.status_code == 422 and 'value="Nia"' in refused.text
    response = await post_form(client, url, {"display_name": "Nia Owens", "email": "nia@example.org",
                                             "relationship": "granddaughter", "may_message": "on"})
    assert response.status_code == 201
    link = re.search(r'value="(http://[^"]+/set-password/[^"]+)"', response.text).group(1)
    account = await user_by_email(email="nia@example.org")
    assert account["role"] == "family"
    family_link = await FamilyLink.select().where(FamilyLink.user == account["id"]).first().run()
    assert (family_link["may_see_schedule"], family_link["may_message"]) == (False, True)
    token_page = await client.get(link.split("testserver.local", 1)[1])
    assert token_page.status_code == 200 and "nia@example.org" in token_page.text
