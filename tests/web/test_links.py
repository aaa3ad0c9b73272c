"""Absolute links shown in pages start with KINWARD_BASE_URL, whatever Host header the request carried."""

from __future__ import annotations

import re

import pytest

from tests.clients.factories import make_world
from tests.conftest import post_form, sign_in

BASE = "http://testserver.local"  # the tests' KINWARD_BASE_URL
FORGED = {"Host": "attacker.example"}
LINKS = re.compile(r'value="(https?://[^"]+)"')


async def _links_shown(client, person, path: str, form: dict) -> list[str]:
    await sign_in(client, person)
    response = await post_form(client, path, form, headers=FORGED)
    assert response.status_code in (200, 201), response.text
    assert "attacker.example" not in response.text
    return LINKS.findall(response.text)


@pytest.mark.parametrize("page", ["reset link", "family invitation", "share link", "calendar feed"])
async def test_a_link_shown_once_ignores_a_forged_host_header(client, page):
    world = await make_world()
    person, path, form, shape = {
        "reset link": (world.admin, f"/admin/users/{world.worker['id']}/reset-link", {}, "/set-password/"),
        "family invitation": (world.coordinator, f"/clients/{world.own['id']}/family",
                              {"display_name": "Nia Owens", "email": "nia@example.org", "relationship": "niece"},
                              "/set-password/"),
        "share link": (world.coordinator, f"/clients/{world.own['id']}/share",
                       {"section_needs": "on", "recipient_name": "Dr Jones", "reason": "Appointment",
                        "expires": "24"}, "/share/"),
        "calendar feed": (world.worker, "/my-day/calendar", {}, "/calendar/"),
    }[page]
    links = await _links_shown(client, person, path, form)
    assert links and all(link.startswith(f"{BASE}{shape}") for link in links)
