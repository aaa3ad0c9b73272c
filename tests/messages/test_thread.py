"""A client's thread: who sees it, what family never sees, posting rules, read receipts and live updates."""

from __future__ import annotations

import re

import pytest

from app.audit.tables import AuditEvent
from app.messages.tables import Message, MessageRead
from tests.clients.factories import link_family, make_world
from tests.conftest import make_user, post_form, sign_in
from tests.messages.factories import add_message, mark_read

HX = {"HX-Request": "true"}
STATE = re.compile(r'messages/updates\?since=([0-9.]+)')


def thread_url(client: dict) -> str:
    return f"/clients/{client['id']}/messages"


@pytest.mark.parametrize("role,target,expected", [
    ("coordinator", "own", 200), ("worker", "own", 200), ("family", "own", 200), ("admin", "own", 404),
    ("coordinator", "other", 404), ("worker", "other", 404), ("family", "other", 404), ("admin", "other", 404),
    ("coordinator", "foreign", 404), ("worker", "foreign", 404), ("family", "foreign", 404),
    ("admin", "foreign", 404),
])
async def test_each_role_opens_a_thread_only_where_the_policy_allows(client, role, target, expected):
    world = await make_world()
    await sign_in(client, world.person(role))
    url = thread_url(world.target(target))
    assert (await client.get(url)).status_code == expected
    assert (await client.get(url + "/updates", headers=HX)).status_code == expected
    posted = await post_form(client, url, {"body": "Hello"})
    may_post = expected == 200 and role in ("coordinator", "family")
    assert posted.status_code == (303 if may_post else 404)


async def test_team_only_notes_never_reach_the_family(client):
    world = await make_world()
    await add_message(client_id=world.own["id"], author=world.family, body="How was Mum today?")
    await add_message(client_id=world.own["id"], author=world.coordinator, body="She was cheerful, ate well.")
    await add_message(client_id=world.own["id"], author=world.coordinator, body="SECRET: safeguarding concern",
                      team_only=True)

    await sign_in(client, world.family)
    for response in (await client.get(thread_url(world.own)), await client.get("/family"),
                     await client.get(thread_url(world.own) + "/updates", headers=HX)):
        assert "She was cheerful" in response.text
        assert "SECRET" not in response.text and "Team-only" not in response.text

    await sign_in(client, world.worker)
    page = await client.get(thread_url(world.own))
    assert "SECRET: safeguarding concern" in page.text and "Team-only note, not shown to family" in page.text
    assert 'name="body"' not in page.text  # workers read the thread; the coordinator writes


async def test_another_family_never_sees_this_familys_thread(client):
    world = await make_world()
    await add_message(client_id=world.own["id"], author=world.family, body="Private family worry")
    await sign_in(client, world.family2)
    assert (await client.get(thread_url(world.own))).status_code == 404
    assert (await client.get(thread_url(world.own) + "/updates", headers=HX)).status_code == 404
    home = await client.get("/family")
    assert home.status_code == 200 and "Private family worry" not in home.text and "Olive" not in home.text


async def test_a_family_link_without_messaging_shows_no_thread(client):
    world = await make_world()
    restricted = await make_user(facility_id=world.facility, role="family")
    await link_family(client_id=world.own["id"], user=restricted, may_message=False)
    await add_message(client_id=world.own["id"], author=world.coordinator, body="Visible to messaging family")
    await sign_in(client, restricted)
    assert (await client.get(thread_url(world.own))).status_code == 404
    home = await client.get("/family")
    assert "Olive Owens" in home.text and "Visible to messaging family" not in home.text


async def test_a_family_member_cannot_write_a_team_only_note(client):
    world = await make_world()
    await sign_in(client, world.family)
    response = await post_form(client, thread_url(world.own), {"body": "Psst", "team_only": "on"})
    assert response.status_code == 422
    assert await Message.count().run() == 0


async def test_messages_are_plain_text_and_shown_escaped(client):
    world = await make_world()
    await sign_in(client, world.family)
    await post_form(client, thread_url(world.own), {"body": "<script>alert(1)</script>\r\nSecond line"})
    stored = await Message.select(Message.body).first().run()
    assert stored["body"] == "<script>alert(1)</script>\nSecond line"
    page = await client.get(thread_url(world.own))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>alert(1)" not in page.text


@pytest.mark.parametrize("body,error", [
    ("", "Write a message before sending."),
    ("   \n\t ", "Write a message before sending."),
    ("x" * 2001, "Keep a message to 2000 characters; this one has 2001."),
])
async def test_empty_and_overlong_messages_are_refused_with_the_text_kept(client, body, error):
    world = await make_world()
    await sign_in(client, world.family)
    for headers in ({}, HX):
        response = await post_form(client, thread_url(world.own), {"body": body}, headers=headers)
        assert response.status_code == 422
        assert error in response.text
        assert 'aria-invalid="true"' in response.text
        if body.strip():
            assert body in response.text
    assert await Message.count().run() == 0


async def test_the_longest_allowed_message_is_accepted(client):
    world = await make_world()
    await sign_in(client, world.family)
    assert (await post_form(client, thread_url(world.own), {"body": "y" * 2000})).status_code == 303


async def test_a_sent_message_can_be_neither_edited_nor_deleted(client):
    world = await make_world()
    message_id = await add_message(client_id=world.own["id"], author=world.coordinator, body="Original")
    await sign_in(client, world.coordinator)
    base = thread_url(world.own)
    for method, url in (("PUT", f"{base}/{message_id}"), ("PATCH", f"{base}/{message_id}"),
                        ("DELETE", f"{base}/{message_id}"), ("POST", f"{base}/{message_id}/edit"),
                        ("POST", f"{base}/{message_id}/delete"), ("DELETE", base), ("PUT", base)):
        response = await client.request(method, url, headers={"x-csrftoken": client.cookies.get("csrftoken", "")})
        assert response.status_code in (404, 405), (method, url)
    assert (await Message.select(Message.body).first().run())["body"] == "Original"


async def test_posting_records_the_message_and_an_audit_event_without_its_text(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    response = await post_form(client, thread_url(world.own), {"body": "Team note text", "team_only": "on"})
    assert response.status_code == 303 and response.headers["location"].startswith(thread_url(world.own))
    message = await Message.select().first().run()
    assert message["visibility"] == "team" and message["author_role"] == "coordinator"
    event = await AuditEvent.select().where(AuditEvent.action == "client.message_posted").first().run()
    assert event["client_id"] == world.own["id"] and "Team note text" not in event["detail"]


async def test_an_htmx_post_answers_with_a_fresh_form_and_the_thread(client):
    world = await make_world()
    await sign_in(client, world.family)
    response = await post_form(client, thread_url(world.own), {"body": "Sent with htmx", "return_to": "family"},
                               headers=HX)
    assert response.status_code == 201
    assert 'hx-swap-oob="innerMorph:#messages-' in response.text and "Sent with htmx" in response.text
    assert '<textarea id="body-' in response.text and "Sent with htmx</textarea>" not in response.text
    assert 'hx-swap-oob="true"' in response.text  # the poller, in step with the new state


async def test_read_receipts_say_who_saw_a_message_and_when(client, fake_clock):
    world = await make_world()
    await sign_in(client, world.family)
    await post_form(client, thread_url(world.own), {"body": "Is the GP coming on Friday?"})
    page = await client.get(thread_url(world.own))
    assert "Not seen yet" in page.text

    fake_clock.advance(minutes=5)
    await sign_in(client, world.coordinator)
    await client.get(thread_url(world.own))
    read = await MessageRead.select().first().run()
    assert read["user"] == world.coordinator["id"]

    await sign_in(client, world.family)
    page = await client.get(thread_url(world.own))
    local = read["read_at"].astimezone(__import__("zoneinfo").ZoneInfo("Europe/London")).strftime("%H:%M")
    assert f"Seen by Coordinator, coordinator, {local}" in page.text
    assert "Not seen yet" not in page.text


async def test_receipts_go_both_ways_and_never_count_the_author(client):
    world = await make_world()
    reply = await add_message(client_id=world.own["id"], author=world.coordinator, body="Reply to family")
    await sign_in(client, world.coordinator)
    await client.get(thread_url(world.own))  # the author opening their own message is no receipt
    assert await MessageRead.count().run() == 0
    await sign_in(client, world.family)
    await client.get(thread_url(world.own))
    await sign_in(client, world.coordinator)
    page = await client.get(thread_url(world.own))
    assert "Seen by Family, family" in page.text
    assert await MessageRead.count().where(MessageRead.message == reply).run() == 1


async def test_reading_twice_keeps_one_receipt_with_the_first_time(client, fake_clock):
    world = await make_world()
    message = await add_message(client_id=world.own["id"], author=world.family)
    await sign_in(client, world.coordinator)
    await client.get(thread_url(world.own))
    first = (await MessageRead.select().first().run())["read_at"]
    fake_clock.advance(hours=1)
    await client.get(thread_url(world.own))
    await client.get("/caseload")
    rows = await MessageRead.select().where(MessageRead.message == message).run()
    assert len(rows) == 1 and rows[0]["read_at"] == first


async def test_a_thread_read_already_is_shown_again_without_marking_anything(client, monkeypatch):
    from app.messages import services

    world = await make_world()
    await add_message(client_id=world.own["id"], author=world.family, body="Read once")
    await add_message(client_id=world.own["id"], author=world.coordinator, body="Mine")
    marks = []
    mark = services.thread_mark_read

    async def counted(**kwargs):
        marks.append(kwargs)
        return await mark(**kwargs)

    monkeypatch.setattr(services, "thread_mark_read", counted)
    await sign_in(client, world.coordinator)
    assert "Read once" in (await client.get(thread_url(world.own))).text
    assert len(marks) == 1 and await MessageRead.count().run() == 1
    again = await client.get(thread_url(world.own))
    assert "Read once" in again.text and "Mine" in again.text
    assert len(marks) == 1  # the viewer's own message needs no receipt, the other one has it
    await add_message(client_id=world.own["id"], author=world.family, body="New since")
    await client.get(thread_url(world.own))
    assert len(marks) == 2 and await MessageRead.count().run() == 2


async def test_the_update_endpoint_answers_204_until_something_changes(client):
    world = await make_world()
    await add_message(client_id=world.own["id"], author=world.family, body="First")
    await sign_in(client, world.coordinator)
    page = await client.get(thread_url(world.own))
    state = STATE.search(page.text).group(1)
    assert (await client.get(f"{thread_url(world.own)}/updates?since={state}", headers=HX)).status_code == 204

    await add_message(client_id=world.own["id"], author=world.family, body="Second, written meanwhile")
    update = await client.get(f"{thread_url(world.own)}/updates?since={state}", headers=HX)
    assert update.status_code == 200
    assert "Second, written meanwhile" in update.text and "innerMorph:#messages-" in update.text
    new_state = STATE.search(update.text).group(1)
    assert new_state != state
    assert (await client.get(f"{thread_url(world.own)}/updates?since={new_state}", headers=HX)).status_code == 204


async def test_a_receipt_elsewhere_changes_the_state_so_the_author_sees_it_live(client):
    world = await make_world()
    message = await add_message(client_id=world.own["id"], author=world.family, body="Are you there?")
    await sign_in(client, world.family)
    state = STATE.search((await client.get(thread_url(world.own))).text).group(1)
    await mark_read(message_id=message, user=world.coordinator)
    update = await client.get(f"{thread_url(world.own)}/updates?since={state}", headers=HX)
    assert update.status_code == 200 and "Seen by Coordinator, coordinator" in update.text


async def test_a_team_only_note_does_not_wake_the_familys_poll(client):
    world = await make_world()
    await add_message(client_id=world.own["id"], author=world.family, body="Hello")
    await sign_in(client, world.family)
    state = STATE.search((await client.get(thread_url(world.own))).text).group(1)
    note = await add_message(client_id=world.own["id"], author=world.coordinator, team_only=True, body="internal")
    await mark_read(message_id=note, user=world.worker)
    assert (await client.get(f"{thread_url(world.own)}/updates?since={state}", headers=HX)).status_code == 204


async def test_polling_does_not_keep_an_idle_session_alive(client, fake_clock):
    world = await make_world()
    await sign_in(client, world.family)
    fake_clock.advance(minutes=20)
    assert (await client.get(thread_url(world.own) + "/updates", headers=HX)).status_code == 200
    fake_clock.advance(minutes=11)  # 31 minutes after the last thing the person did
    response = await client.get(thread_url(world.own) + "/updates", headers=HX)
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login")


async def test_opening_a_thread_is_audited_with_the_client(client):
    world = await make_world()
    await add_message(client_id=world.own["id"], author=world.family)
    await sign_in(client, world.coordinator)
    await client.get(thread_url(world.own))
    event = await AuditEvent.select().where(AuditEvent.action == "client.messages_viewed").first().run()
    assert event["client_id"] == world.own["id"] and event["actor_id"] == world.coordinator["id"]
