"""Activating and discarding a draft: an unchanged draft is refused, a client not yet Active is told no visits
will be planned, discarding asks first, and a service dated in the past says visits start from today."""

from __future__ import annotations

from datetime import timedelta

from app.careplans.tables import CarePlan
from app.clients.tables import Client
from tests.careplans.factories import add_service, make_plan
from tests.careplans.test_plan_editing import draft_of, service_form
from tests.clients.factories import make_world, today
from tests.conftest import login, post_form


async def test_an_unchanged_draft_cannot_be_activated(client):
    world = await make_world()
    own = world.own["id"]
    plan = await make_plan(client_id=own)
    await add_service(plan_id=plan, worker=world.worker)
    await login(client, world.coordinator)
    assert (await post_form(client, f"/clients/{own}/plan", {})).status_code == 303
    draft = await draft_of(own)
    page = await client.get(f"/clients/{own}/plan/activate")
    assert "Nothing differs from the active version: change something first" in page.text
    refused = await post_form(client, f"/clients/{own}/plan/activate", {"revision": str(draft["revision"])})
    assert refused.status_code == 422
    assert (await CarePlan.select(CarePlan.status).where(CarePlan.id == draft["id"]).first().run())["status"] == "draft"


async def test_activation_says_no_visits_will_be_planned_for_a_client_in_referral(client):
    world = await make_world()
    own = world.own["id"]
    await Client.update({Client.status: "referral"}).where(Client.id == own).run()
    await login(client, world.coordinator)
    await post_form(client, f"/clients/{own}/plan", {})
    page = (await client.get(f"/clients/{own}/plan/activate")).text
    assert "No visits will be planned yet: the client's status is “Referral”" in page
    await Client.update({Client.status: "active"}).where(Client.id == own).run()
    assert "No visits will be planned yet" not in (await client.get(f"/clients/{own}/plan/activate")).text


async def test_discarding_the_draft_asks_first(client):
    world = await make_world()
    own = world.own["id"]
    await login(client, world.coordinator)
    await post_form(client, f"/clients/{own}/plan", {})
    plan_page = (await client.get(f"/clients/{own}/plan")).text
    assert f'href="/clients/{own}/plan/discard"' in plan_page
    assert f'action="/clients/{own}/plan/discard"' not in plan_page  # no one-click discard
    confirm = await client.get(f"/clients/{own}/plan/discard")
    assert confirm.status_code == 200 and "Yes, discard the draft" in confirm.text
    assert await draft_of(own) is not None
    assert (await post_form(client, f"/clients/{own}/plan/discard", {})).status_code == 303
    assert await draft_of(own) is None


async def test_a_service_starting_in_the_past_is_saved_with_a_warning(client):
    world = await make_world()
    own = world.own["id"]
    await login(client, world.coordinator)
    await post_form(client, f"/clients/{own}/plan", {})
    last_week = today() - timedelta(days=7)
    added = await post_form(client, f"/clients/{own}/plan/services",
                            service_form(worker_id=str(world.worker["id"]), starts_on=last_week.isoformat()))
    assert added.status_code == 303
    page = (await client.get(f"/clients/{own}/plan")).text
    assert "in the past: visits are planned from today on" in page
    on_time = await post_form(client, f"/clients/{own}/plan/services",
                              service_form(worker_id=str(world.worker["id"]), start_time="15:00"))
    assert on_time.status_code == 303
    assert "in the past" not in (await client.get(f"/clients/{own}/plan")).text
