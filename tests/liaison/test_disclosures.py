"""The disclosure log: a row for every print, export, share link created or opened, referral sent or answered;
shown to the team in full and to the family in plain words."""

from __future__ import annotations

import json
from datetime import date

from app.clients.queries import client_relation
from app.liaison.queries import disclosures_for
from app.liaison.tables import Disclosure
from app.mail.tables import Outbox
from app.policy import Person
from tests.clients.factories import make_world
from tests.conftest import login, post_form
from tests.liaison.factories import make_agency

SECTIONS = {"section_needs": "on", "section_plan": "on"}


async def test_every_kind_of_disclosure_is_logged_with_what_whom_why_when_and_by_whom(client):
    world = await make_world()
    agency = await make_agency(facility_id=world.facility, name="Riverside GP Practice")
    own = world.own["id"]
    await login(client, world.coordinator)
    printed = await post_form(client, f"/clients/{own}/summary", SECTIONS | {"recipient": "Riverside GP Practice",
                                                                             "reason": "hospital appointment"})
    assert printed.status_code == 200 and "Confidential" in printed.text and "by Coordinator" in printed.text
    await post_form(client, f"/clients/{own}/fhir", SECTIONS | {"recipient": "District nurses", "reason": "Dressings"})
    shared = await post_form(client, f"/clients/{own}/share", SECTIONS | {
        "recipient_name": "Dr Jones", "reason": "Second opinion", "expires": "24"})
    share_path = shared.text.split("http://testserver.local")[1].split('"')[0]
    await post_form(client, f"/clients/{own}/referrals", {
        "agency_id": str(agency["id"]), "reason": "Medication review", "urgency": "soon", "consent_by": "Olive",
        "consent_on": "2026-01-02", "send": "on"})
    token = (await Outbox.select().where(Outbox.kind == "referral_link").first().run())["body"].split("/r/")[1].split()[0]
    client.cookies.clear()
    await client.get(share_path)
    await post_form(client, f"/r/{token}", {"to_status": "accepted"})
    rows = await Disclosure.select().order_by(Disclosure.id).run()
    assert [r["kind"] for r in rows] == ["print", "fhir", "share_created", "referral_sent", "share_opened",
                                         "referral_answered"]
    first = rows[0]
    assert json.loads(first["sections"]) == ["needs", "plan"] and first["recipient"] == "Riverside GP Practice"
    assert first["reason"] == "hospital appointment" and first["by_user"] == world.coordinator["id"] and first["at"]
    assert rows[3]["agency"] == agency["id"] and rows[5]["by_user"] is None

    await login(client, world.coordinator)
    team = (await client.get(f"/clients/{own}/disclosures")).text
    assert "Dressings" in team and "Share link opened" in team and "Referral answered through its link" in team


async def test_the_family_reads_disclosures_in_plain_words_on_the_access_log(client):
    world = await make_world()
    await login(client, world.coordinator)
    await post_form(client, f"/clients/{world.own['id']}/summary", SECTIONS | {
        "recipient": "Riverside GP Practice", "reason": "hospital appointment"})
    await login(client, world.family)
    log = await client.get(f"/clients/{world.own['id']}/access-log")
    assert f'hx-get="/clients/{world.own["id"]}/disclosures"' in log.text
    words = (await client.get(f"/clients/{world.own['id']}/disclosures", headers={"hx-request": "true"})).text
    assert "A printed care summary was given to Riverside GP Practice, about Olive, on" in words
    assert "by Coordinator. Reason: hospital appointment" in words
    assert "127.0.0.1" not in words and "<table" not in words
    await login(client, world.family2)
    assert (await client.get(f"/clients/{world.own['id']}/disclosures")).status_code == 404


async def test_the_familys_disclosures_from_the_selector_are_sentences_only(client):
    """The family's view of the disclosure log is the selector's: a page that forgets to redact still cannot leak."""
    world = await make_world()
    await login(client, world.coordinator)
    await post_form(client, f"/clients/{world.own['id']}/summary", SECTIONS | {
        "recipient": "Riverside GP Practice", "reason": "hospital appointment"})

    async def disclosures(person: dict) -> list[dict]:
        viewer = Person(id=person["id"], facility_id=person["facility_id"], role=person["role"])
        relation = await client_relation(user=viewer, client_id=world.own["id"], today=date(2026, 6, 1))
        return await disclosures_for(user=viewer, relation=relation, tz="Europe/London")

    [team], [family] = await disclosures(world.coordinator), await disclosures(world.family)
    assert team["section_list"] == ["needs", "plan"] and team["recipient"] == "Riverside GP Practice"
    assert set(family) == {"at", "sentence"} and family["at"] == team["at"]
    assert family["sentence"].startswith("A printed care summary was given to Riverside GP Practice, about Olive, on")
    assert family["sentence"].endswith("by Coordinator. Reason: hospital appointment")
    assert await disclosures(world.family2) == []  # no link to this client: nothing at all
