"""Removing a contact, ending a family link or a care-team membership needs the version the person's page
showed: a form from before someone else's change, or one whose version did not arrive, changes nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app import clock
from app.audit.tables import AuditEvent
from app.clients.tables import CareTeamMember, ClientContact, FamilyLink
from tests.clients.factories import add_contact, add_team_member, link_family, make_world
from tests.conftest import make_user, post_form, sign_in

REMOVALS = {
    # what is removed: (table, the page that shows it, the action's path, extra fields, "still there" column)
    "contact": (ClientContact, "contacts", "contacts/{id}/remove", {}, "removed_at"),
    "family link": (FamilyLink, "family", "family/{id}/end", {}, "ended_at"),
    "membership": (CareTeamMember, "team", "team/{id}/end", {"until": "yesterday"}, "until"),
}


async def _row(world, kind: str) -> int:
    client_id = world.own["id"]
    if kind == "contact":
        return await add_contact(client_id=client_id)
    person = await make_user(facility_id=world.facility, role="family" if kind == "family link" else "worker")
    if kind == "family link":
        return await link_family(client_id=client_id, user=person)
    return await add_team_member(client_id=client_id, user=person)


def _fields(extra: dict) -> dict:
    yesterday = (clock.utcnow().date() - timedelta(days=1)).isoformat()
    return {name: yesterday if value == "yesterday" else value for name, value in extra.items()}


@pytest.mark.parametrize("kind", REMOVALS)
async def test_a_removal_with_the_version_the_page_showed_is_made(client, kind):
    table, page, action, extra, column = REMOVALS[kind]
    world = await make_world()
    row_id = await _row(world, kind)
    await sign_in(client, world.coordinator)
    shown = await client.get(f"/clients/{world.own['id']}/{page}")
    form = re.search(r'action="/clients/%d/%s"(.*?)</form>' % (world.own["id"], action.format(id=row_id)),
                     shown.text, re.S).group(1)
    assert re.search(r'name="version" value="1"', form)
    response = await post_form(client, f"/clients/{world.own['id']}/{action.format(id=row_id)}",
                               {"version": "1", **_fields(extra)})
    assert response.status_code == 303
    stored = await table.select().where(table.id == row_id).first().run()
    assert stored[column] is not None and stored["version"] == 2


@pytest.mark.parametrize("kind", REMOVALS)
@pytest.mark.parametrize("sent", ["stale", "missing", "garbled"])
async def test_a_stale_or_versionless_removal_changes_nothing_and_says_why(client, kind, sent):
    table, page, action, extra, column = REMOVALS[kind]
    world = await make_world()
    row_id = await _row(world, kind)
    # Someone else changed the row after this person's page was drawn (at version 1).
    await table.update({table.version: 2}).where(table.id == row_id).run()
    version = {"stale": {"version": "1"}, "missing": {}, "garbled": {"version": "١"}}[sent]
    await sign_in(client, world.coordinator)
    response = await post_form(client, f"/clients/{world.own['id']}/{action.format(id=row_id)}",
                               {**version, **_fields(extra)})
    assert response.status_code == 409
    assert "since your page showed it" in response.text and 'id="stale-summary"' in response.text
    stored = await table.select().where(table.id == row_id).first().run()
    assert stored[column] is None and stored["version"] == 2
    assert await AuditEvent.count().where(AuditEvent.action.like("%removed") | AuditEvent.action.like("%ended")
                                          ).run() == 0
