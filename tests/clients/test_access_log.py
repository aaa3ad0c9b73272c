"""The per-client access log: who opened or changed the record and when, shown by role."""

from __future__ import annotations

import re

from tests.clients.factories import make_world
from tests.conftest import post_form, sign_in

ROW = re.compile(r"<tr>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>\s*<td>([^<]*)</td>(.*?)</tr>", re.S)


def rows(html: str) -> list[tuple[str, str, str]]:
    return [(who, role, rest) for _, who, role, rest in ROW.findall(html)]


async def test_the_care_team_sees_who_did_what_from_where(client):
    world = await make_world()
    await sign_in(client, world.worker)
    await client.get(f"/clients/{world.own['id']}")
    await sign_in(client, world.coordinator)
    await post_form(client, f"/clients/{world.own['id']}/status",
                    {"to_status": "paused", "effective_on": "2026-01-02", "reason": "Respite stay", "version": "1"})
    log = await client.get(f"/clients/{world.own['id']}/access-log")
    assert log.status_code == 200
    entries = rows(log.text)
    assert entries[0][0] == "Coordinator" and "Changed the status: status" in entries[0][2]
    assert entries[-1][0] == "Worker" and "Opened the record" in entries[-1][2]
    assert "127.0.0.1" in log.text
    assert "Respite stay" not in log.text


async def test_a_linked_family_member_sees_who_and_when_and_nothing_else(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    await client.get(f"/clients/{world.own['id']}")
    await sign_in(client, world.family)
    log = await client.get(f"/clients/{world.own['id']}/access-log")
    assert log.status_code == 200
    [(who, role, rest)] = rows(log.text)
    assert (who, role) == ("Coordinator", "coordinator")
    assert rest.strip() == ""
    for detail in ("127.0.0.1", "Opened the record", "What", "From", world.coordinator["email"]):
        assert detail not in log.text
    assert f'href="/clients/{world.own["id"]}"' not in log.text


async def test_family_cannot_read_another_clients_access_log(client):
    world = await make_world()
    await sign_in(client, world.family)
    assert (await client.get(f"/clients/{world.others['id']}/access-log")).status_code == 404
    assert (await client.get(f"/clients/{world.foreign['id']}/access-log")).status_code == 404


async def test_an_admin_sees_the_log_of_any_client_of_the_facility(client):
    world = await make_world()
    await sign_in(client, world.coordinator2)
    await client.get(f"/clients/{world.others['id']}")
    await sign_in(client, world.admin)
    log = await client.get(f"/clients/{world.others['id']}/access-log")
    assert rows(log.text)[0][0] == "Coordinator2"


async def test_reading_the_log_is_not_itself_listed_as_opening_the_record(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    await client.get(f"/clients/{world.own['id']}/access-log")
    log = await client.get(f"/clients/{world.own['id']}/access-log")
    assert rows(log.text) == []
