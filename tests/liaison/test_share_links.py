"""Share links: one recipient, the chosen sections only, until expiry or revocation (then a plain 404),
each opening audited with its time and address and logged as a disclosure."""

from __future__ import annotations

import re

from app.audit.tables import AuditEvent
from app.liaison.tables import Disclosure, ShareLink
from app.mail.tables import Outbox
from tests.careplans.factories import make_plan
from tests.clients.factories import make_world
from tests.conftest import login, post_form
from tests.liaison.factories import make_agency

LINK = re.compile(r'value="(http://testserver\.local/share/[^"]+)"')


async def _create(client, world, **form):
    values = {"section_needs": "on", "recipient_name": "Dr Jones", "recipient_email": "jones@example.org",
              "reason": "Hospital appointment", "expires": "24"}
    values.update(form)
    response = await post_form(client, f"/clients/{world.own['id']}/share", values)
    assert response.status_code == 201, response.text
    return LINK.search(response.text).group(1).removeprefix("http://testserver.local")


async def test_the_recipient_sees_only_the_chosen_sections(client):
    world = await make_world()
    await make_plan(client_id=world.own["id"], goals=("Walks to the shop again",))
    await login(client, world.coordinator)
    path = await _create(client, world)
    client.cookies.clear()
    page = await client.get(path)
    assert page.status_code == 200
    assert "Olive Owens" in page.text and "Penicillin" in page.text
    assert "Walks to the shop" not in page.text and "family dispute" not in page.text
    assert "Download as FHIR" not in page.text
    assert (await client.get(f"{path}/fhir")).status_code == 404


async def test_a_link_with_fhir_allowed_downloads_the_chosen_sections(client):
    world = await make_world()
    await make_plan(client_id=world.own["id"], goals=("Walks to the shop again",))
    await login(client, world.coordinator)
    path = await _create(client, world, section_plan="on", allow_fhir="on")
    client.cookies.clear()
    bundle = await client.get(f"{path}/fhir")
    assert bundle.status_code == 200 and "Walks to the shop again" in bundle.text and "Penicillin" in bundle.text


async def test_every_opening_is_audited_with_time_and_address_and_logged(client):
    world = await make_world()
    agency = await make_agency(facility_id=world.facility, name="Riverside Hospital")
    await login(client, world.coordinator)
    path = await _create(client, world, agency_id=str(agency["id"]), recipient_name="", recipient_email="")
    # An agency of the directory gets the link at its secure email.
    mail = await Outbox.select(Outbox.to_address).where(Outbox.kind == "share_link").run()
    assert [m["to_address"] for m in mail] == [agency["email"]]
    client.cookies.clear()
    await client.get(path)
    await client.get(path)
    stored = (await ShareLink.select().run())[0]
    assert stored["opens"] == 2 and stored["last_opened_at"] is not None and stored["recipient_name"] == "Riverside Hospital"
    opened = await AuditEvent.select().where(AuditEvent.action == "disclosure.share_opened").run()
    assert len(opened) == 2 and {o["address"] for o in opened} == {"127.0.0.1"} and all(o["at"] for o in opened)
    kinds = [d["kind"] for d in await Disclosure.select().order_by(Disclosure.id).run()]
    assert kinds == ["share_created", "share_opened", "share_opened"]


async def test_an_expired_or_revoked_link_answers_a_plain_404(client, fake_clock):
    world = await make_world()
    await login(client, world.coordinator)
    short = await _create(client, world, expires="1")
    revoked = await _create(client, world, expires="720")
    links = await ShareLink.select().order_by(ShareLink.id).run()
    assert (await post_form(client, f"/clients/{world.own['id']}/share/{links[1]['id']}/revoke", {})).status_code == 303
    client.cookies.clear()
    assert (await client.get(short)).status_code == 200
    gone = await client.get(revoked)
    assert gone.status_code == 404 and "does not work" in gone.text and "Olive" not in gone.text
    fake_clock.advance(hours=1, seconds=1)
    expired = await client.get(short)
    assert expired.status_code == 404 and "Olive" not in expired.text
    assert (await ShareLink.select(ShareLink.opens).where(ShareLink.id == links[0]["id"]).first().run())["opens"] == 1


async def test_a_link_is_emailed_to_its_recipient_and_stored_only_as_a_hash(client):
    world = await make_world()
    await login(client, world.coordinator)
    path = await _create(client, world)
    token = path.rsplit("/", 1)[1]
    stored = (await ShareLink.select().run())[0]
    assert stored["token_hash"] != token and len(stored["token_hash"]) == 64
    mail = (await Outbox.select().where(Outbox.kind == "share_link").run())[0]
    assert mail["to_address"] == "jones@example.org" and path in mail["body"] and "Olive" not in mail["body"]


async def test_bad_choices_are_refused_with_messages_and_nothing_is_shared(client):
    world = await make_world()
    await login(client, world.coordinator)
    refused = await post_form(client, f"/clients/{world.own['id']}/share",
                              {"recipient_name": "", "reason": "", "expires": "9999"})
    assert refused.status_code == 422
    for message in ("Choose at least one part", "enter the recipient", "Say why", "one hour to 30 days"):
        assert message in refused.text
    assert await ShareLink.count().run() == 0 and await Disclosure.count().run() == 0
