"""Pages and refused forms answer as HTML, whatever way a handler returns them."""

from __future__ import annotations

from tests.clients.factories import make_world
from tests.conftest import login, post_form


async def test_message_pages_and_refused_forms_are_html(client):
    world = await make_world()
    await login(client, world.family)
    for response in (await client.get("/family"), await client.get(f"/clients/{world.own['id']}/messages"),
                     await post_form(client, f"/clients/{world.own['id']}/messages", {"body": ""}),
                     await post_form(client, f"/clients/{world.own['id']}/messages", {"body": ""},
                                     headers={"HX-Request": "true"}),
                     await post_form(client, "/account/notifications", {"email": "weekly"})):
        assert response.headers["content-type"].startswith("text/html"), response.request.url
    client.cookies.clear()
    assert (await client.get("/login")).headers["content-type"].startswith("text/html")  # what the e2e tests start from
