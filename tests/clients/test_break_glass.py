"""Break-glass: a coordinator opens a client outside their team with a written reason, for one session."""

from __future__ import annotations

import json

from app.audit.tables import AuditEvent
from app.clients.tables import BreakGlassGrant
from tests.clients.factories import make_world
from tests.conftest import post_form, sign_in

REASON = "Ben is on leave and the GP asked for the allergy list"


async def test_a_coordinator_opens_another_coordinators_client_only_with_a_reason(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    url = f"/clients/{world.others['id']}"
    assert (await client.get(url)).status_code == 404
    page = await client.get(url + "/break-glass")
    assert page.status_code == 200 and "Otto Other" in page.text
    refused = await post_form(client, url + "/break-glass", {"reason": "need"})
    assert refused.status_code == 422 and ">need</textarea>" in refused.text
    assert await BreakGlassGrant.count().run() == 0
    granted = await post_form(client, url + "/break-glass", {"reason": REASON})
    assert granted.status_code == 303 and granted.headers["location"] == url
    record = await client.get(url)
    assert record.status_code == 200
    assert "emergency access" in record.text and "Confidential: family dispute" in record.text
    assert (await client.get(url + "/edit")).status_code == 404


async def test_break_glass_is_audited_with_its_grant_and_every_read_under_it_is_marked(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    url = f"/clients/{world.others['id']}"
    await post_form(client, url + "/break-glass", {"reason": REASON})
    await client.get(url)
    [grant] = await AuditEvent.select().where(AuditEvent.action == "client.break_glass").run()
    assert grant["actor_id"] == world.coordinator["id"] and grant["client_id"] == world.others["id"]
    # The reason is about the client: it stays in the grant, the audit row points at it.
    [stored] = await BreakGlassGrant.select().run()
    assert stored["reason"] == REASON and json.loads(grant["detail"]) == {"grant_id": stored["id"]}
    [viewed] = await AuditEvent.select().where(AuditEvent.action == "client.viewed").run()
    assert json.loads(viewed["detail"])["break_glass"] is True


async def test_the_access_ends_with_the_session(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    url = f"/clients/{world.others['id']}"
    await post_form(client, url + "/break-glass", {"reason": REASON})
    assert (await client.get(url)).status_code == 200
    await sign_in(client, world.coordinator)  # a new sign-in is a new session
    assert (await client.get(url)).status_code == 404


async def test_admins_see_the_list_of_emergency_accesses(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    await post_form(client, f"/clients/{world.others['id']}/break-glass", {"reason": REASON})
    await sign_in(client, world.admin)
    review = await client.get("/admin/break-glass")
    assert review.status_code == 200
    assert REASON in review.text and "Otto Other" in review.text and world.coordinator["email"] in review.text
    assert 'href="/admin/break-glass"' in review.text  # in the admin's navigation


async def test_emergency_search_lists_names_of_the_facility_only(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    found = await client.get("/clients/find?q=o")
    assert "Otto" not in found.text  # at least two letters
    found = await client.get("/clients/find?q=ot", headers={"HX-Request": "true"})
    assert f'href="/clients/{world.others["id"]}/break-glass"' in found.text
    assert "<html" not in found.text
    assert "Fern" not in (await client.get("/clients/find?q=fern")).text


async def test_nobody_breaks_the_glass_into_another_facility(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    url = f"/clients/{world.foreign['id']}/break-glass"
    assert (await client.get(url)).status_code == 404
    assert (await post_form(client, url, {"reason": REASON})).status_code == 404
    assert await BreakGlassGrant.count().run() == 0
