"""Pages and refused forms answer as HTML, whatever way a handler returns them."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from tests.clients.factories import make_world
from tests.conftest import post_form, sign_in
from tests.messages.factories import add_message


async def test_message_pages_and_refused_forms_are_html_with_their_status_and_message(client):
    world = await make_world()
    await sign_in(client, world.family)
    thread = f"/clients/{world.own['id']}/messages"
    answers = [
        (await client.get("/family"), 200, "<h1>My family</h1>"),
        (await client.get(thread), 200, "Messages about Olive Owens"),
        (await post_form(client, thread, {"body": ""}), 422, "Write a message before sending."),
        (await post_form(client, thread, {"body": ""}, headers={"HX-Request": "true"}), 422,
         "Write a message before sending."),
        (await post_form(client, "/account/notifications", {"email": "weekly"}), 422, "Choose one of the options."),
    ]
    client.cookies.clear()
    answers.append((await client.get("/login"), 200, "Sign in to Kinward"))  # what the e2e tests start from
    for response, status, text in answers:
        assert response.status_code == status, response.request.url
        assert response.headers["content-type"].startswith("text/html"), response.request.url
        assert text in response.text, response.request.url
    # The htmx answer is the form alone, to swap in place; the others are whole pages.
    assert "<html" not in answers[3][0].text and all("<html" in a[0].text for a in answers[:3])


async def test_a_messages_time_is_a_valid_html_datetime_without_microseconds(client):
    """The HTML standard's global date and time string has at most whole seconds."""
    world = await make_world()
    written = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=ZoneInfo("Europe/London"))
    await add_message(client_id=world.own["id"], author=world.family, body="Hello", at=written)
    await sign_in(client, world.coordinator)
    page = await client.get(f"/clients/{world.own['id']}/messages")
    assert re.findall(r'<time datetime="([^"]*)"', page.text) == ["2026-03-01T09:30:15Z"]
