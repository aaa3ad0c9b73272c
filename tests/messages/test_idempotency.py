"""A message is posted once per compose form: a retry after a lost answer or a double click adds nothing."""

from __future__ import annotations

import asyncio
import re

import pytest

from app.mail.tables import Outbox
from app.messages.tables import Message
from tests.clients.factories import make_world
from tests.conftest import login, post_form

HX = {"HX-Request": "true"}
KEY = re.compile(r'name="key" value="([A-Za-z0-9_-]+)"')


def thread_url(client: dict) -> str:
    return f"/clients/{client['id']}/messages"


async def compose_key(client, url: str) -> str:
    keys = KEY.findall((await client.get(url)).text)
    assert len(keys) == 1
    return keys[0]


@pytest.mark.parametrize("author,kind", [("family", "message"), ("coordinator", "message")])
async def test_a_double_submitted_message_is_stored_once_with_one_email(client, author, kind):
    world = await make_world()
    await login(client, getattr(world, author))
    url = thread_url(world.own)
    key = await compose_key(client, url)
    answers = await asyncio.gather(*[
        post_form(client, url, {"body": "Mum had a good weekend", "key": key}, headers=HX) for _ in range(8)])
    assert {a.status_code for a in answers} == {201}
    assert await Message.count().where(Message.client == world.own["id"]) == 1
    assert await Outbox.count().where(Outbox.kind == kind) == 1


async def test_a_retry_after_the_message_was_stored_answers_with_it_and_sends_nothing_more(client):
    world = await make_world()
    await login(client, world.family)
    url = thread_url(world.own)
    key = await compose_key(client, url)
    first = await post_form(client, url, {"body": "Is the visit at ten?", "key": key}, headers=HX)
    retry = await post_form(client, url, {"body": "Is the visit at ten?", "key": key}, headers=HX)
    assert first.status_code == retry.status_code == 201
    assert retry.text.count("Is the visit at ten?") == 1
    assert await Message.count() == 1
    assert await Outbox.count() == 1
    # The form that comes back is a new one: the next message is a new submission.
    assert KEY.findall(retry.text) and KEY.findall(retry.text)[0] != key
    await post_form(client, url, {"body": "And on Friday?", "key": KEY.findall(retry.text)[0]}, headers=HX)
    assert await Message.count() == 2


async def test_the_same_key_from_another_person_is_their_own_message(client):
    world = await make_world()
    url = thread_url(world.own)
    await login(client, world.family)
    key = await compose_key(client, url)
    await post_form(client, url, {"body": "From the family", "key": key}, headers=HX)
    await login(client, world.coordinator)
    await post_form(client, url, {"body": "From the coordinator", "key": key}, headers=HX)
    assert sorted(m["body"] for m in await Message.select(Message.body).run()) == ["From the coordinator",
                                                                                    "From the family"]


async def test_a_refused_message_keeps_its_key_so_the_corrected_one_is_still_one_message(client):
    world = await make_world()
    await login(client, world.family)
    url = thread_url(world.own)
    key = await compose_key(client, url)
    refused = await post_form(client, url, {"body": "   ", "key": key}, headers=HX)
    assert refused.status_code == 422 and KEY.findall(refused.text) == [key]
    await asyncio.gather(*[post_form(client, url, {"body": "Now with text", "key": key}, headers=HX)
                           for _ in range(3)])
    assert await Message.count() == 1
