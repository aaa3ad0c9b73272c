"""Two people editing one draft's details, goal or service: neither reverts the other's change."""

from __future__ import annotations

from datetime import timedelta

from app.careplans.tables import CarePlan, Goal, Service
from tests.careplans.factories import add_service, make_plan
from tests.clients.factories import make_world, today
from tests.conftest import login, post_form
from tests.web.test_merge import as_post, drawn_form


def sent(tab: dict, **changes) -> dict:
    """A service form as the browser sends it: the days' checkboxes one value each."""
    data = as_post(tab, **changes)
    data["weekdays"] = data["weekdays"].split(",")
    return data


async def draft_world(client):
    world = await make_world()
    plan = await make_plan(client_id=world.own["id"], status="draft", starts_on=today())
    await login(client, world.coordinator)
    return world, plan


async def test_plan_details_a_stale_tab_keeps_the_summary_the_other_saved(client):
    world, plan = await draft_world(client)
    url = f"/clients/{world.own['id']}/plan"
    tab_a = drawn_form((await client.get(url)).text, "plan-details-form")
    tab_b = dict(tab_a)
    assert (await post_form(client, url + "/details", as_post(tab_a, summary="Support after the fall"))).status_code == 303
    review = (today() + timedelta(days=60)).isoformat()
    assert (await post_form(client, url + "/details", as_post(tab_b, review_due=review))).status_code == 303
    row = await CarePlan.select(CarePlan.summary, CarePlan.review_due).where(CarePlan.id == plan).first().run()
    assert row["summary"] == "Support after the fall" and row["review_due"].isoformat() == review


async def test_a_goal_a_stale_tab_keeps_the_description_the_other_saved(client):
    world, plan = await draft_world(client)
    goal = await Goal.select(Goal.id).where(Goal.plan == plan).first().run()
    url = f"/clients/{world.own['id']}/plan/goals/{goal['id']}"
    tab_a = drawn_form((await client.get(url)).text, "goal-form")
    tab_b = dict(tab_a)
    assert (await post_form(client, url, as_post(tab_a, description="Walks to the shop"))).status_code == 303
    assert (await post_form(client, url, as_post(tab_b, status="in_progress"))).status_code == 303
    row = await Goal.select(Goal.description, Goal.status).where(Goal.id == goal["id"]).first().run()
    assert row == {"description": "Walks to the shop", "status": "in_progress"}


async def test_a_service_a_stale_tab_keeps_the_days_the_other_saved(client):
    world, plan = await draft_world(client)
    service = await add_service(plan_id=plan, worker=world.worker, weekdays="1,3,5", starts_on=today())
    url = f"/clients/{world.own['id']}/plan/services/{service}"
    tab_a = drawn_form((await client.get(url)).text, "service-form")
    tab_b = dict(tab_a)
    assert (await post_form(client, url, sent(tab_a, weekdays="1,2,3,4,5"))).status_code == 303
    saved = await post_form(client, url, sent(tab_b, instructions="Use the hoist"))
    assert saved.status_code == 303, saved.text
    row = await Service.select(Service.weekdays, Service.instructions).where(Service.id == service).first().run()
    assert row == {"weekdays": "1,2,3,4,5", "instructions": "Use the hoist"}


async def test_a_service_changed_by_both_asks_only_about_that_field(client):
    world, plan = await draft_world(client)
    service = await add_service(plan_id=plan, worker=world.worker, weekdays="1,3,5", starts_on=today())
    url = f"/clients/{world.own['id']}/plan/services/{service}"
    tab_a = drawn_form((await client.get(url)).text, "service-form")
    tab_b = dict(tab_a)
    await post_form(client, url, sent(tab_a, instructions="Use the hoist", duration_minutes="45"))
    refused = await post_form(client, url, sent(tab_b, instructions="Two carers"))
    assert refused.status_code == 409
    assert 'name="choice.instructions"' in refused.text and 'name="choice.duration_minutes"' not in refused.text
    assert drawn_form(refused.text, "service-form")["duration_minutes"] == "45"  # the other tab's change is kept
