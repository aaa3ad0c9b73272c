"""Notes on a care plan's goals: the team writes them (who, when, what), the author corrects them against
the version they saw, they follow the goal into later plan versions, and a review shows those of its period."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest

from app import clock
from app.audit.tables import AuditEvent
from app.careplans.tables import CarePlan, Goal, GoalNote
from tests.careplans.factories import make_plan
from tests.clients.factories import make_world
from tests.conftest import login, make_user, post_form, sign_in
from tests.reviews.test_reviews import plan_for, review_started

KEY = re.compile(r'name="key" value="([^"]+)"')


async def goal_of(plan_id: int) -> int:
    return (await Goal.select(Goal.id).where(Goal.plan == plan_id).first().run())["id"]


async def notes_url(world) -> str:
    plan_id = await make_plan(client_id=world.own["id"], goals=("Walks to the shop again",))
    return f"/clients/{world.own['id']}/plan/goals/{await goal_of(plan_id)}/notes"


async def form_key(client, url: str) -> str:
    return KEY.search((await client.get(url)).text).group(1)


async def test_a_coordinator_writes_a_note_on_a_goal_and_the_plan_counts_it(client):
    world = await make_world()
    url = await notes_url(world)
    await login(client, world.coordinator)
    key = await form_key(client, url)
    added = await post_form(client, url, {"body": "Walked to the corner with the frame.", "key": key})
    assert added.status_code == 303 and added.headers["location"] == url
    page = await client.get(url)
    assert "Walked to the corner with the frame." in page.text and "Coordinator," in page.text
    note = (await GoalNote.select().run())[0]
    assert note["author"] == world.coordinator["id"] and note["client"] == world.own["id"] and note["version"] == 1
    assert await AuditEvent.count().where(AuditEvent.action == "careplan.goal_note_added") == 1
    plan = await client.get(f"/clients/{world.own['id']}/plan")
    assert f'href="{url}"' in plan.text and "1 note" in plan.text


async def test_an_empty_note_is_refused_next_to_the_field_and_nothing_is_stored(client):
    world = await make_world()
    url = await notes_url(world)
    await login(client, world.coordinator)
    key = await form_key(client, url)
    refused = await post_form(client, url, {"body": "   ", "key": key})
    assert refused.status_code == 422
    assert "Write the note" in refused.text and KEY.findall(refused.text) == [key]
    assert await GoalNote.count() == 0


async def test_a_note_form_sent_many_times_at_once_adds_one_note(client):
    world = await make_world()
    url = await notes_url(world)
    await login(client, world.coordinator)
    key = await form_key(client, url)
    answers = await asyncio.gather(*[post_form(client, url, {"body": "Made tea on her own.", "key": key})
                                     for _ in range(8)])
    assert {a.status_code for a in answers} == {303}
    assert await GoalNote.count() == 1


async def test_the_author_corrects_a_note_and_a_correction_of_an_old_version_shows_both_texts(client):
    world = await make_world()
    url = await notes_url(world)
    await login(client, world.coordinator)
    await post_form(client, url, {"body": "Walked to the gate.", "key": await form_key(client, url)})
    note_id = (await GoalNote.select(GoalNote.id).first().run())["id"]
    correct = f"{url}/{note_id}"
    assert (await client.get(correct)).status_code == 200
    saved = await post_form(client, correct, {"body": "Walked to the gate and back.", "version": "1"})
    assert saved.status_code == 303
    stale = await post_form(client, correct, {"body": "Walked to the gate, then sat down.", "version": "1"})
    assert stale.status_code == 409
    assert "Walked to the gate and back." in stale.text and "Walked to the gate, then sat down." in stale.text
    note = (await GoalNote.select().run())[0]
    assert note["body"] == "Walked to the gate and back." and note["version"] == 2 and note["corrected_at"]
    event = await AuditEvent.select(AuditEvent.detail).where(
        AuditEvent.action == "careplan.goal_note_corrected").first().run()
    # Like every audit row, it names the change, never the client's words (a retention purge leaves the trail).
    assert '"version": 2' in event["detail"] and "Walked" not in event["detail"]
    # Someone else on the team may read the note but not rewrite it in the author's name.
    await login(client, world.admin)
    assert "Walked to the gate and back." in (await client.get(url)).text
    assert (await client.get(correct)).status_code == 404
    assert (await post_form(client, correct, {"body": "Changed", "version": "2"})).status_code == 404
    assert (await GoalNote.select(GoalNote.body).first().run())["body"] == "Walked to the gate and back."


@pytest.mark.parametrize("who", ["worker", "family", "coordinator2", "foreign_coordinator", "foreign_admin"])
async def test_only_the_team_that_edits_the_plan_reads_and_writes_goal_notes(client, who):
    world = await make_world()
    url = await notes_url(world)
    if who == "foreign_admin":
        person = await make_user(facility_id=world.other_facility, role="admin")
    else:
        person = getattr(world, who)
    await sign_in(client, person)
    assert (await client.get(url)).status_code == 404
    assert (await post_form(client, url, {"body": "Not mine to write", "key": "k" * 20})).status_code == 404
    assert await GoalNote.count() == 0


async def test_a_draft_goal_takes_no_notes(client):
    world = await make_world()
    plan_id = await make_plan(client_id=world.own["id"], status="draft")
    await login(client, world.coordinator)
    url = f"/clients/{world.own['id']}/plan/goals/{await goal_of(plan_id)}/notes"
    assert (await client.get(url)).status_code == 404
    assert (await post_form(client, url, {"body": "Too early", "key": "k" * 20})).status_code == 404


async def test_notes_follow_the_goal_into_the_next_plan_version(client):
    world = await make_world()
    url = await notes_url(world)
    await login(client, world.coordinator)
    await post_form(client, url, {"body": "First steps outside.", "key": await form_key(client, url)})
    old = await CarePlan.select(CarePlan.id).first().run()
    await CarePlan.update({CarePlan.status: "superseded"}).where(CarePlan.id == old["id"]).run()
    lineage = (await Goal.select(Goal.lineage).where(Goal.plan == old["id"]).first().run())["lineage"]
    new_plan = await make_plan(client_id=world.own["id"], version=2, goals=())
    rows = await Goal.insert(Goal(plan=new_plan, lineage=lineage, description="Walks to the shop again")).run()
    page = await client.get(f"/clients/{world.own['id']}/plan/goals/{rows[0]['id']}/notes")
    assert page.status_code == 200 and "First steps outside." in page.text
    assert "1 note" in (await client.get(f"/clients/{world.own['id']}/plan")).text


async def test_a_review_shows_each_goal_with_the_notes_written_in_its_period(client):
    world = await make_world()
    plan_id, _service = await plan_for(world.own["id"], clock.utcnow().date() - timedelta(days=2))
    await login(client, world.coordinator)
    url = f"/clients/{world.own['id']}/plan/goals/{await goal_of(plan_id)}/notes"
    for body, days_ago in (("Before the plan began.", 90), ("Walked to the gate unaided.", 10)):
        await post_form(client, url, {"body": body, "key": await form_key(client, url)})
        await GoalNote.update({GoalNote.created_at: clock.utcnow() - timedelta(days=days_ago)}).where(
            GoalNote.body == body).run()
    review_url, _version = await review_started(client, world.own["id"])
    page = await client.get(review_url)
    outcomes = page.text[page.text.index('id="section-outcomes"'):page.text.index("Concerns raised at visits")]
    assert "Stays safe at home" in outcomes
    assert "Walked to the gate unaided." in outcomes and "Coordinator," in outcomes
    assert "Before the plan began." not in outcomes
