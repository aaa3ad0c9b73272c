"""Unread counts, email notices as each person chose them, daily digests, and family invitations by email."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from app.mail.sender import outbox_send_due
from app.mail.tables import Outbox
from app.messages.services import digests_enqueue
from app.messages.tables import MessagePreference
from tests.clients.factories import make_client, make_world
from tests.conftest import make_user, post_form, settings_for_tests, sign_in
from tests.mail.smtp import SMTPServer
from tests.messages.factories import add_message

UNREAD_BADGE = re.compile(r'href="/clients/(\d+)/messages">(\d+) unread')


def chosen(html: str) -> list[str]:
    return re.findall(r'name="email" value="(\w+)"[^>]*checked', html)


def thread_url(client: dict) -> str:
    return f"/clients/{client['id']}/messages"


async def emails(kind: str = "message") -> list[dict]:
    return await Outbox.select().where(Outbox.kind == kind).order_by(Outbox.id).run()


async def test_the_caseload_shows_unread_messages_per_client_until_the_thread_is_opened(client):
    world = await make_world()
    second = await make_client(facility_id=world.facility, coordinator=world.coordinator, first_name="Second")
    await add_message(client_id=world.own["id"], author=world.family, body="One")
    await add_message(client_id=world.own["id"], author=world.family, body="Two")
    await add_message(client_id=world.own["id"], author=world.coordinator2, body="Note", team_only=True)
    await add_message(client_id=world.own["id"], author=world.coordinator, body="My own reply")
    await sign_in(client, world.coordinator)
    badges = dict(UNREAD_BADGE.findall((await client.get("/caseload")).text))
    assert badges == {str(world.own["id"]): "3"}  # team notes count for the team; one's own messages do not
    assert str(second["id"]) not in badges

    await client.get(thread_url(world.own))
    assert UNREAD_BADGE.findall((await client.get("/caseload")).text) == []


async def test_the_family_home_counts_new_messages_and_never_team_notes(client):
    world = await make_world()
    await add_message(client_id=world.own["id"], author=world.coordinator, body="Update for the family")
    await add_message(client_id=world.own["id"], author=world.coordinator, body="Internal", team_only=True)
    await sign_in(client, world.family)
    home = await client.get("/family")
    assert "1 new" in home.text
    assert "1 new" not in (await client.get("/family")).text  # seen now


async def test_a_family_message_emails_the_coordinators_on_the_team_and_not_its_author(client):
    world = await make_world()
    await sign_in(client, world.family)
    await post_form(client, thread_url(world.own), {"body": "Private worry about Mum"})
    sent = await emails()
    assert [e["to_address"] for e in sent] == [world.coordinator["email"]]
    assert "Private worry" not in sent[0]["body"] and "Private worry" not in sent[0]["subject"]
    assert f"http://testserver.local/clients/{world.own['id']}/messages" in sent[0]["body"]


async def test_a_reply_emails_the_family_and_a_team_note_does_not(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    await post_form(client, thread_url(world.own), {"body": "Internal", "team_only": "on"})
    assert [e["to_address"] for e in await emails()] == []
    await post_form(client, thread_url(world.own), {"body": "Hello family"})
    assert [e["to_address"] for e in await emails()] == [world.family["email"]]


async def test_each_person_chooses_each_message_a_daily_digest_or_none(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    page = await client.get("/account/notifications")
    assert page.status_code == 200 and chosen(page.text) == ["each"]
    assert (await post_form(client, "/account/notifications", {"email": "weekly"})).status_code == 422
    assert (await post_form(client, "/account/notifications", {"email": "none"})).status_code == 303
    assert chosen((await client.get("/account/notifications")).text) == ["none"]

    await sign_in(client, world.family)
    await post_form(client, thread_url(world.own), {"body": "Anyone there?"})
    assert await emails() == []

    await sign_in(client, world.worker)
    assert (await client.get("/account/notifications")).status_code == 404
    await sign_in(client, world.admin)
    assert (await client.get("/account/notifications")).status_code == 404


async def test_a_daily_digest_goes_out_once_a_morning_with_the_unread_threads(client, fake_clock):
    world = await make_world()
    await MessagePreference.insert(MessagePreference(user=world.coordinator["id"], email="digest")).run()
    await sign_in(client, world.family)
    await post_form(client, thread_url(world.own), {"body": "Question"})
    assert await emails() == []  # no email per message for a digest reader

    local = fake_clock.now.astimezone(ZoneInfo("Europe/London"))
    fake_clock.now = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(),
                                      tzinfo=ZoneInfo("Europe/London")).replace(hour=6, minute=59).astimezone(timezone.utc)
    assert await digests_enqueue() == 0  # before seven in the facility's morning
    fake_clock.advance(minutes=1)
    assert await digests_enqueue() == 1
    digest = (await emails("digest"))[0]
    assert digest["to_address"] == world.coordinator["email"]
    assert "1 unread message" in digest["body"] and "Olive (1)" in digest["body"] and "Owens" not in digest["body"]
    fake_clock.advance(hours=3)
    assert await digests_enqueue() == 0  # once a day
    fake_clock.advance(days=1)
    assert await digests_enqueue() == 1  # still unread the next morning


async def test_a_family_invitation_is_emailed_with_a_working_set_password_link(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    response = await post_form(client, f"/clients/{world.own['id']}/family", {
        "display_name": "Dana Daughter", "email": "dana@example.org", "relationship": "daughter",
        "may_message": "on"})
    assert response.status_code == 201 and "invitation email" in response.text
    invitation = (await emails("family_invitation"))[0]
    assert invitation["to_address"] == "dana@example.org" and "Olive" in invitation["subject"]
    link = re.search(r"http://testserver\.local(/set-password/\S+)", invitation["body"]).group(1)
    assert (await client.get(link)).status_code == 200

    server = SMTPServer()
    server.start()
    try:
        await outbox_send_due(settings_for_tests(smtp_host="127.0.0.1", smtp_port=server.port))
    finally:
        server.stop()
    delivered = server.inbox.to("dana@example.org")
    assert len(delivered) == 1 and link in delivered[0].get_payload(decode=True).decode()
    stored = await Outbox.select().where(Outbox.id == invitation["id"]).first().run()
    assert stored["status"] == "sent" and stored["body"] == ""  # the one-time link is not kept once sent


async def test_linking_an_existing_family_account_tells_them_by_email(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    await post_form(client, f"/clients/{world.own['id']}/family", {
        "display_name": "Family2", "email": world.family2["email"], "relationship": "son"})
    linked = await emails("family_link")
    assert [e["to_address"] for e in linked] == [world.family2["email"]] and "/family" in linked[0]["body"]
    assert await emails("family_invitation") == []


async def test_a_deactivated_family_member_gets_no_notices(client):
    world = await make_world()
    gone = await make_user(facility_id=world.facility, role="family", active=False)
    from tests.clients.factories import link_family

    await link_family(client_id=world.own["id"], user=gone)
    await sign_in(client, world.coordinator)
    await post_form(client, thread_url(world.own), {"body": "Hello all"})
    assert [e["to_address"] for e in await emails()] == [world.family["email"]]
