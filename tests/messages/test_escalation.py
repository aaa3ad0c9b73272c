"""Unanswered family messages: flagged on the coordinator's home and emailed once the facility's limit has passed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from app.accounts.tables import Facility
from app.mail.sender import outbox_send_due
from app.mail.tables import Outbox
from app.messages.queries import answer_overdue
from app.messages.services import escalations_enqueue
from app.messages.tables import Message, MessagePreference
from tests.clients.factories import make_world
from tests.conftest import sign_in
from tests.mail.smtp import SMTPServer
from tests.mail.test_outbox import smtp_settings
from tests.messages.factories import add_message

HX = {"HX-Request": "true"}
WAITING = "Family messages waiting for an answer"


def test_a_message_is_overdue_from_the_moment_the_limit_has_passed():
    asked = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    assert not answer_overdue(asked_at=asked, now=asked + timedelta(hours=24) - timedelta(seconds=1), limit_hours=24)
    assert answer_overdue(asked_at=asked, now=asked + timedelta(hours=24), limit_hours=24)
    assert answer_overdue(asked_at=asked, now=asked + timedelta(hours=2), limit_hours=2)


async def panel(client, user: dict) -> str:
    """The coordinator's unanswered-messages panel, signed in afresh (hours pass in these tests)."""
    await sign_in(client, user)
    return (await client.get("/messages/unanswered", headers=HX)).text


async def escalation_emails() -> list[dict]:
    return await Outbox.select().where(Outbox.kind == "escalation").run()


async def test_an_unanswered_family_message_is_flagged_and_emailed_at_the_limit_not_before(client, fake_clock):
    world = await make_world()
    await add_message(client_id=world.own["id"], author=world.family, body="Mum had a fall, please call me")

    fake_clock.advance(hours=24, seconds=-1)
    before = await panel(client, world.coordinator)
    assert "Olive Owens" not in before and "No family message has waited too long for an answer" in before
    assert await escalations_enqueue() == 0

    fake_clock.advance(seconds=1)
    at_limit = await panel(client, world.coordinator)
    assert "Olive Owens" in at_limit and "no answer after 24 hours" in at_limit
    assert await escalations_enqueue() == 1
    emails = await escalation_emails()
    assert [e["to_address"] for e in emails] == [world.coordinator["email"]]
    assert "Olive" in emails[0]["subject"] and "please call me" not in emails[0]["body"]
    assert f"/clients/{world.own['id']}/messages" in emails[0]["body"]

    fake_clock.advance(hours=5)
    assert await escalations_enqueue() == 0  # once per message, however long it waits
    assert len(await escalation_emails()) == 1
    assert (await Message.select(Message.escalated_at).first().run())["escalated_at"] is not None


async def test_only_a_reply_the_family_can_see_counts_as_an_answer(client, fake_clock):
    world = await make_world()
    await add_message(client_id=world.own["id"], author=world.family, body="Question")
    fake_clock.advance(hours=1)
    await add_message(client_id=world.own["id"], author=world.coordinator, body="Internal only", team_only=True)
    fake_clock.advance(hours=24)
    assert "Olive Owens" in await panel(client, world.coordinator)

    await add_message(client_id=world.own["id"], author=world.coordinator, body="Answer for the family")
    assert "Olive Owens" not in await panel(client, world.coordinator)
    assert await escalations_enqueue() == 0


async def test_an_answer_within_the_limit_prevents_the_escalation(fake_clock):
    world = await make_world()
    await add_message(client_id=world.own["id"], author=world.family, body="Question")
    fake_clock.advance(hours=23, minutes=59)
    await add_message(client_id=world.own["id"], author=world.coordinator, body="Answer")
    fake_clock.advance(days=3)
    assert await escalations_enqueue() == 0


async def test_the_limit_is_the_facilitys(client, fake_clock):
    world = await make_world()
    await Facility.update({Facility.message_answer_hours: 2}).where(Facility.id == world.facility).run()
    await add_message(client_id=world.own["id"], author=world.family, body="Urgent")
    fake_clock.advance(hours=2)
    assert "no answer after 2 hours" in await panel(client, world.coordinator)
    assert await escalations_enqueue() == 1


async def test_the_flag_shows_on_the_coordinators_home_for_their_own_clients_only(client, fake_clock):
    world = await make_world()
    await add_message(client_id=world.own["id"], author=world.family, body="Question")
    fake_clock.advance(days=2)
    await sign_in(client, world.coordinator)
    caseload = await client.get("/caseload")
    assert 'hx-get="/messages/unanswered"' in caseload.text
    page = await client.get("/messages/unanswered")
    assert page.status_code == 200 and WAITING in page.text and "Olive Owens" in page.text

    await sign_in(client, world.coordinator2)
    assert "Olive Owens" not in (await client.get("/messages/unanswered")).text
    await sign_in(client, world.admin)
    assert (await client.get("/messages/unanswered")).status_code == 404
    assert 'hx-get="/messages/unanswered"' not in (await client.get("/caseload")).text


async def test_escalation_emails_follow_each_coordinators_choice(fake_clock):
    world = await make_world()
    await MessagePreference.insert(MessagePreference(user=world.coordinator["id"], email="none")).run()
    await add_message(client_id=world.own["id"], author=world.family, body="Question")
    fake_clock.advance(hours=24)
    assert await escalations_enqueue() == 1  # escalated (and audited), but this coordinator asked for no email
    assert await escalation_emails() == []


async def test_the_escalation_email_names_the_client_by_first_name_only(fake_clock):
    """As every email does: the surname stays in the care record, out of mailboxes (parsed as received)."""
    world = await make_world()
    await add_message(client_id=world.own["id"], author=world.family, body="Question")
    fake_clock.advance(hours=25)
    assert await escalations_enqueue() == 1
    server = SMTPServer()
    server.start()
    try:
        assert (await outbox_send_due(smtp_settings(server))).sent == 1
    finally:
        server.stop()
    [received] = server.inbox.parsed()
    text = received["Subject"] + received.get_content()
    assert "Olive" in received["Subject"] and "Olive" in received.get_content()
    assert "Owens" not in text
