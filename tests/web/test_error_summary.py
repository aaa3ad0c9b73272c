"""Refused forms say what to put right twice: in a summary at the top of what was refused, each message a
link to its field, and next to the field itself. PINs bring up the number pad."""

from __future__ import annotations

import re

from tests.clients.factories import make_world
from tests.clients.test_record import edit_values
from tests.conftest import login, make_facility, make_user, post_form


def summary_links(html: str) -> list[tuple[str, str]]:
    """(field id, message) for each link of the page's error summaries."""
    summaries = re.findall(r'<div class="error-summary"[^>]*data-error-summary>(.*?)</div>', html, re.S)
    return [link for block in summaries for link in re.findall(r'<a href="#([^"]+)">([^<]+)</a>', block)]


async def test_a_refused_client_edit_links_each_message_to_its_field_and_keeps_the_input(client):
    world = await make_world()
    await login(client, world.coordinator)
    response = await post_form(client, f"/clients/{world.own['id']}/edit",
                               {**edit_values(world.own, date_of_birth="31/02/1940", mobility="Uses a frame"),
                                "version": "1"})
    assert response.status_code == 422
    [(field_id, message)] = summary_links(response.text)
    assert field_id == "date_of_birth"
    assert f'id="date_of_birth-error">{message}</p>' in response.text  # next to the field too
    assert ">Uses a frame</textarea>" in response.text


async def test_a_failed_sign_in_summary_links_to_the_password(client):
    facility = await make_facility()
    user = await make_user(facility_id=facility)
    response = await post_form(client, "/login", {"email": user["email"], "password": "not the password at all"})
    assert response.status_code in (400, 401, 422)
    assert [field_id for field_id, _message in summary_links(response.text)] == ["password"]


async def test_pin_fields_bring_up_the_number_pad(client):
    facility = await make_facility()
    worker = await make_user(facility_id=facility, role="worker")
    await login(client, worker)
    page = (await client.get("/account/pin")).text
    assert len(re.findall(r'<input id="(?:pin|confirm_pin)"[^>]*inputmode="numeric"', page)) == 2


async def test_the_coordinator_column_shows_only_where_one_sees_other_coordinators_clients(client):
    world = await make_world()
    await login(client, world.coordinator)
    own = (await client.get("/caseload")).text
    assert '<th scope="col">Coordinator</th>' not in own and "Olive Owens" in own
    await login(client, world.admin)
    everyone = (await client.get("/caseload")).text
    assert '<th scope="col">Coordinator</th>' in everyone
