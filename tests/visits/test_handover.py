"""The visit page's handover: the need-to-know record, the last visit's note, open concerns and the team's
notes, for the worker going to the visit and the team's coordinators; nobody else; every showing audited."""

from __future__ import annotations

import json
from datetime import date, timedelta

from app.audit.tables import AuditEvent
from app.clients.tables import CareTeamMember
from app.messages.tables import Message
from app.visits.tables import Visit
from tests.clients.factories import add_team_member
from tests.conftest import post_form, sign_in
from tests.visits.test_logging import NINE, check_in, logging_world, open_log, save

NOTE = "Ate well; the kettle in the kitchen is broken, use the small pan."
CONCERN = "Swollen ankle, left side"
TEAM_NOTE = "Key safe code changed on Friday: ask the office."
FAMILY_MESSAGE = "Mum would like her hair washed on Thursday."


async def handover_world(client, monday_morning):
    """Today's 09:00 visit logged by the worker (a note and a concern); tomorrow's the one handed over."""
    world, today = await logging_world()
    monday_morning.advance(hours=2)
    await sign_in(client, world.worker)
    await check_in(client, today)
    await save(client, today, "note", {"internal_note": NOTE}, await open_log(client, today, "note"))
    await save(client, today, "concern", {"concern": "on", "concern_severity": "medium", "concern_text": CONCERN},
               await open_log(client, today, "concern"))
    for body, visibility, author in ((TEAM_NOTE, "team", world.coordinator), (FAMILY_MESSAGE, "family", world.family)):
        await Message.insert(Message(client=world.own["id"], author=author["id"], author_role=author["role"],
                                     visibility=visibility, body=body)).run()
    tomorrow = await Visit.select().where((Visit.client == world.own["id"])
                                          & (Visit.scheduled_start == NINE + timedelta(days=1))).first().run()
    await post_form(client, "/logout", {})
    return world, tomorrow


async def test_the_worker_sees_the_handover_of_their_visit_and_its_showing_is_audited(client, monday_morning):
    world, visit = await handover_world(client, monday_morning)
    await sign_in(client, world.worker)
    page = (await client.get(f"/visits/{visit['id']}")).text
    handover = page[page.index('id="handover-heading"'):page.index('id="visit-log"') if 'id="visit-log"' in page
                    else len(page)]
    for shown in ("1 Example Street", "Penicillin", NOTE, CONCERN, "Medium: needs a look soon", TEAM_NOTE):
        assert shown in handover, shown
    # Need to know only: the confidential notes, the date of birth and the family's messages are not part of it.
    for hidden in ("Confidential: family dispute", "1940", FAMILY_MESSAGE):
        assert hidden not in page, hidden
    events = await AuditEvent.select(AuditEvent.detail).where(
        (AuditEvent.action == "client.viewed") & (AuditEvent.actor_id == world.worker["id"])
        & (AuditEvent.client_id == world.own["id"])).run()
    [detail] = [d for d in (json.loads(e["detail"]) for e in events) if d.get("visit") == visit["id"]]
    assert detail["handover"] == {"record": True, "team_notes": 1, "concerns": 1, "last_note": True}


async def test_the_teams_coordinator_sees_the_handover_and_may_open_the_concern(client, monday_morning):
    world, visit = await handover_world(client, monday_morning)
    await sign_in(client, world.coordinator)
    page = (await client.get(f"/visits/{visit['id']}")).text
    assert 'id="handover-heading"' in page and TEAM_NOTE in page and NOTE in page
    concerned = await Visit.select(Visit.id).where(Visit.concern == True).first().run()  # noqa: E712
    assert f'href="/visits/{concerned["id"]}/concern"' in page


async def test_family_and_people_the_visit_is_not_for_get_no_handover(client, monday_morning):
    world, visit = await handover_world(client, monday_morning)
    await add_team_member(client_id=world.own["id"], user=world.worker2)
    # Another worker of the team and an admin may open the visit, but it is not theirs to go to.
    for person in (world.worker2, world.admin):
        await sign_in(client, person)
        page = await client.get(f"/visits/{visit['id']}")
        assert page.status_code == 200 and 'id="handover-heading"' not in page.text, person["email"]
        for hidden in (NOTE, CONCERN, TEAM_NOTE):
            assert hidden not in page.text, (person["email"], hidden)
        await post_form(client, "/logout", {})
    for person in (world.family, world.coordinator2, world.foreign_coordinator):
        await sign_in(client, person)
        page = await client.get(f"/visits/{visit['id']}")
        assert page.status_code == 404 and TEAM_NOTE not in page.text, person["email"]
        await post_form(client, "/logout", {})


async def test_a_worker_no_longer_on_the_team_gets_no_handover_on_an_old_visit_of_theirs(client, monday_morning):
    """Their old visit still opens (it was theirs), but today's open concerns and notes are not theirs to read."""
    world, visit = await handover_world(client, monday_morning)
    await CareTeamMember.update({CareTeamMember.until: date(2020, 1, 2)}).where(
        (CareTeamMember.client == world.own["id"]) & (CareTeamMember.user == world.worker["id"])).run()
    monday_morning.advance(days=5)
    await sign_in(client, world.worker)
    page = await client.get(f"/visits/{visit['id']}")
    assert page.status_code == 200 and 'id="handover-heading"' not in page.text
    for hidden in (NOTE, CONCERN, TEAM_NOTE, "Penicillin"):
        assert hidden not in page.text, hidden
