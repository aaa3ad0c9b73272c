"""Every client route, for every role and every kind of client: 200 (or the route's success) or 404."""

from __future__ import annotations

import pytest

from app.audit.tables import AuditEvent
from tests.clients.factories import add_contact, add_team_member, link_family, make_world
from tests.conftest import make_user, post_form, sign_in

ROLES = ("admin", "coordinator", "worker", "family")
TARGETS = ("own", "other", "foreign")

# The record pages and forms of the care team (and admins); workers and family never reach them.
TEAM_PAGES = ("/edit", "/status", "/contacts", "/team", "/family")


def expected_get(role: str, target: str, suffix: str) -> int:
    """DESIGN.md section 2 as a table of status codes."""
    if target == "foreign":
        return 404
    if suffix == "":
        if role == "admin":
            return 200
        return 200 if target == "own" and role in ("coordinator", "worker") else 404
    if suffix in TEAM_PAGES:
        return 200 if role == "admin" or (role == "coordinator" and target == "own") else 404
    if suffix == "/access-log":
        return 200 if role == "admin" or (target == "own" and role in ("coordinator", "family")) else 404
    if suffix == "/break-glass":
        if role != "coordinator":
            return 404
        return 303 if target == "own" else 200  # already on the team: straight to the record
    raise AssertionError(suffix)


def expected_post(role: str, target: str, suffix: str) -> int:
    """Empty forms: refused with 422 (409 for a removal) where the person may act, 404 where they may not
    know the record."""
    if suffix == "/break-glass":
        return {200: 422, 303: 303, 404: 404}[expected_get(role, target, suffix)]
    allowed = expected_get(role, target, "/edit") == 200
    if suffix.endswith(("/remove", "/end")) and not suffix.startswith("/team/"):
        return 409 if allowed else 404  # no version of the row seen: nothing is removed
    if suffix.startswith("/team/"):
        return 422 if allowed else 404  # no date given
    return 422 if allowed else 404


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_gets_each_client_route_as_the_policy_says(client, role):
    world = await make_world()
    subresources = {}
    for name in TARGETS:
        target = world.target(name)
        extra_worker = await make_user(facility_id=target["facility_id"], role="worker")
        extra_family = await make_user(facility_id=target["facility_id"], role="family")
        subresources[name] = {
            "contact": await add_contact(client_id=target["id"]),
            "member": await add_team_member(client_id=target["id"], user=extra_worker),
            "link": await link_family(client_id=target["id"], user=extra_family),
        }
    await sign_in(client, world.person(role))
    mismatches = []
    for name in TARGETS:
        base = f"/clients/{world.target(name)['id']}"
        for suffix in ("", *TEAM_PAGES, "/access-log", "/break-glass"):
            response = await client.get(base + suffix)
            if response.status_code != expected_get(role, name, suffix):
                mismatches.append(("GET", name, suffix, response.status_code))
        ids = subresources[name]
        for suffix in ("/edit", "/status", "/contacts", "/team", "/family", "/break-glass",
                       f"/contacts/{ids['contact']}/remove", f"/team/{ids['member']}/end",
                       f"/family/{ids['link']}/end"):
            response = await post_form(client, base + suffix, {})
            if response.status_code != expected_post(role, name, suffix):
                mismatches.append(("POST", name, suffix, response.status_code))
    assert mismatches == []


@pytest.mark.parametrize("role", ROLES)
async def test_the_caseload_and_intake_are_for_coordinators_and_admins(client, role):
    world = await make_world()
    await sign_in(client, world.person(role))
    expected = 200 if role in ("admin", "coordinator") else 404
    assert (await client.get("/caseload")).status_code == expected
    assert (await client.get("/clients/new")).status_code == expected
    assert (await post_form(client, "/clients", {})).status_code == (422 if expected == 200 else 404)
    assert (await client.get("/clients/find?q=ot")).status_code == (200 if role == "coordinator" else 404)
    assert (await client.get("/admin/break-glass")).status_code == (200 if role == "admin" else 404)


async def test_an_unknown_client_is_not_found(client):
    world = await make_world()
    await sign_in(client, world.admin)
    assert (await client.get("/clients/999999")).status_code == 404
    assert (await client.get(f"/clients/{world.own['id']}/contacts/999999/remove")).status_code in (404, 405)


async def test_anonymous_visitors_are_sent_to_sign_in(client):
    world = await make_world()
    response = await client.get(f"/clients/{world.own['id']}")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert not await AuditEvent.exists().where(AuditEvent.client_id == world.own["id"]).run()


async def test_pages_and_refused_forms_are_html_with_their_status_and_message(client):
    """Each page and each refused form is an HTML page that says what it is and what to fix."""
    world = await make_world()
    await sign_in(client, world.coordinator)
    own, others = world.own["id"], world.others["id"]
    answers = [
        (await client.get("/caseload"), 200, "<h1>Caseload</h1>"),
        (await client.get(f"/clients/{own}"), 200, "Olive Owens"),
        (await post_form(client, "/clients", {}), 422, "Enter the client&#39;s first name."),
        (await post_form(client, f"/clients/{own}/edit", {}), 422, "Enter the client&#39;s last name."),
        (await post_form(client, f"/clients/{own}/status", {}), 422, "Give the reason for the change."),
        (await post_form(client, f"/clients/{own}/contacts", {}), 422, "Enter the contact&#39;s name."),
        (await post_form(client, f"/clients/{own}/team", {}), 422, "Choose a coordinator or care worker."),
        (await post_form(client, f"/clients/{own}/family", {}), 422, "Enter the family member&#39;s name."),
        (await post_form(client, f"/clients/{others}/break-glass", {}), 422,
         "Explain in a sentence why you need to open this record now."),
        (await client.get(f"/clients/{others}/break-glass"), 200, "Emergency access: Otto Other"),
    ]
    for response, status, text in answers:
        assert response.status_code == status, response.request.url
        assert response.headers["content-type"].startswith("text/html"), response.request.url
        assert text in response.text, response.request.url
