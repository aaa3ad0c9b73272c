"""Who may see and change plans and schedules: the policy, through every plan and schedule route."""

from __future__ import annotations

from datetime import time

import pytest

from app import clock
from app.audit.tables import AuditEvent
from app.careplans.tables import CarePlan
from app.visits.services import schedule_sync
from app.visits.tables import Visit
from tests.careplans.factories import add_service, make_plan
from tests.clients.factories import link_family, make_world
from tests.conftest import make_user, post_form, sign_in

ROLES = ("admin", "coordinator", "worker", "family")
TARGETS = ("own", "other", "foreign")
INSTRUCTIONS = "Check the pressure areas on the heels."


async def planned_world():
    """make_world, with an active plan (and a draft) for each client and their visits planned."""
    world = await make_world()
    for name, worker in (("own", world.worker), ("other", world.worker2), ("foreign", None)):
        client_id = world.target(name)["id"]
        plan_id = await make_plan(client_id=client_id)
        await add_service(plan_id=plan_id, worker=worker, provider_name="" if worker else "Agency",
                          instructions=INSTRUCTIONS, start_time=time(23, 0))
        await make_plan(client_id=client_id, status="draft", version=2)
    await schedule_sync(now=clock.utcnow())
    return world


def plan_editor(role: str, target: str) -> bool:
    return target != "foreign" and (role == "admin" or (role == "coordinator" and target == "own"))


def expected(role: str, target: str, page: str) -> int:
    """DESIGN.md section 2: the care team (and admins) edit plans; workers read their own clients' plans."""
    if target == "foreign":
        return 404
    readers = {"admin"} | ({"coordinator", "worker"} if target == "own" else set())
    if page == "plan":
        return 200 if role in readers else 404
    if page == "visits":
        return 200 if role in readers or (role == "family" and target == "own") else 404
    return 200 if plan_editor(role, target) else 404  # editing pages


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_reaches_plan_and_schedule_pages_as_the_policy_says(client, role):
    world = await planned_world()
    await sign_in(client, world.person(role))
    mismatches = []
    for target in TARGETS:
        base = f"/clients/{world.target(target)['id']}"
        for page, url in (("plan", "/plan"), ("visits", "/visits"), ("edit", "/plan/services/new"),
                          ("edit", "/plan/activate"), ("edit", "/plan/close")):
            response = await client.get(base + url)
            if response.status_code != expected(role, target, page):
                mismatches.append(("GET", target, url, response.status_code))
        for url in ("/plan/details", "/plan/goals", "/plan/services"):
            response = await post_form(client, base + url, {})
            if response.status_code != (422 if plan_editor(role, target) else 404):
                mismatches.append(("POST", target, url, response.status_code))
    assert mismatches == []


async def test_only_the_care_team_changes_the_plan(client):
    world = await planned_world()
    for person in (world.worker, world.family, world.coordinator2):
        await sign_in(client, person)
        response = await post_form(client, f"/clients/{world.own['id']}/plan/activate", {"revision": "1"})
        assert response.status_code == 404
        assert (await post_form(client, f"/clients/{world.own['id']}/plan/discard", {})).status_code == 404
    assert await CarePlan.count().where((CarePlan.client == world.own["id"]) & (CarePlan.status == "draft")).run() == 1


async def test_workers_see_the_instructions_of_their_own_clients_only(client):
    world = await planned_world()
    await sign_in(client, world.worker)
    own = await client.get(f"/clients/{world.own['id']}/plan")
    assert own.status_code == 200 and INSTRUCTIONS in own.text
    assert "Start a new version" not in own.text and "Draft" not in own.text
    week = await client.get(f"/clients/{world.own['id']}/visits")
    assert week.status_code == 200
    assert (await client.get(f"/clients/{world.others['id']}/plan")).status_code == 404
    assert (await client.get(f"/clients/{world.others['id']}/visits")).status_code == 404
    other_visit = await Visit.select(Visit.id).where(Visit.client == world.others["id"]).first().run()
    assert (await client.get(f"/visits/{other_visit['id']}")).status_code == 404


async def test_a_worker_with_a_visit_today_sees_that_clients_instructions(client):
    """A worker not on the team, given one visit of the client, may read what they need for it."""
    world = await planned_world()
    helper = await make_user(facility_id=world.facility, role="worker")
    await sign_in(client, helper)
    assert (await client.get(f"/clients/{world.own['id']}/plan")).status_code == 404
    visit = await Visit.select(Visit.id).where(Visit.client == world.own["id"]).order_by(
        Visit.scheduled_start).first().run()
    await Visit.update({Visit.worker: helper["id"], Visit.reassigned: True}).where(Visit.id == visit["id"]).run()
    page = await client.get(f"/clients/{world.own['id']}/plan")
    assert page.status_code == 200 and INSTRUCTIONS in page.text
    assert (await client.get(f"/visits/{visit['id']}")).status_code == 200


async def test_family_sees_the_schedule_only_when_their_link_allows_it(client):
    world = await planned_world()
    await sign_in(client, world.family)
    page = await client.get(f"/clients/{world.own['id']}/visits")
    assert page.status_code == 200
    assert "Personal care" in page.text
    assert INSTRUCTIONS not in page.text and 'href="/visits/' not in page.text
    assert (await client.get(f"/clients/{world.own['id']}/plan")).status_code == 404

    restricted = await make_user(facility_id=world.facility, role="family")
    await link_family(client_id=world.own["id"], user=restricted, may_see_schedule=False)
    await sign_in(client, restricted)
    assert (await client.get(f"/clients/{world.own['id']}/visits")).status_code == 404


async def test_the_schedule_shows_family_the_workers_first_name_and_no_team_details(client):
    world = await make_world()
    wendy = await make_user(facility_id=world.facility, role="worker", name="Wendy Whitfield")
    plan_id = await make_plan(client_id=world.own["id"])
    await add_service(plan_id=plan_id, worker=wendy, instructions=INSTRUCTIONS)
    await schedule_sync(now=clock.utcnow())
    visit = await Visit.select(Visit.id).where(Visit.client == world.own["id"]).first().run()
    await Visit.update({Visit.status: "cancelled", Visit.cancel_reason: "In hospital"}).where(
        Visit.id == visit["id"]).run()
    await sign_in(client, world.family)
    page = await client.get(f"/clients/{world.own['id']}/visits?week=" + (
        await Visit.select(Visit.scheduled_start).where(Visit.id == visit["id"]).first().run()
    )["scheduled_start"].date().isoformat())
    assert "Wendy" in page.text and "Whitfield" not in page.text
    assert "Cancelled" in page.text and "In hospital" not in page.text
    assert INSTRUCTIONS not in page.text


async def test_reading_plans_and_schedules_is_audited_with_the_client(client):
    world = await planned_world()
    await sign_in(client, world.worker)
    await client.get(f"/clients/{world.own['id']}/plan")
    await client.get(f"/clients/{world.own['id']}/visits")
    pages = [e["detail"] for e in await AuditEvent.select(AuditEvent.detail).where(
        (AuditEvent.client_id == world.own["id"]) & (AuditEvent.action == "client.viewed")
        & (AuditEvent.actor_id == world.worker["id"])).run()]
    assert any('"page": "plan"' in d for d in pages) and any('"page": "visits"' in d for d in pages)


@pytest.mark.parametrize("url", ["/plan/services/new", "/plan/close", "/plan/activate"])
async def test_every_plan_editing_page_that_shows_the_client_is_audited_with_the_client(client, url):
    world = await planned_world()
    await sign_in(client, world.coordinator)
    assert (await client.get(f"/clients/{world.own['id']}{url}")).status_code == 200
    viewed = await AuditEvent.count().where(
        (AuditEvent.client_id == world.own["id"]) & (AuditEvent.action == "client.viewed")
        & (AuditEvent.actor_id == world.coordinator["id"])).run()
    assert viewed == 1


async def test_the_client_record_links_to_the_plan_and_the_visits_for_those_who_may_see_them(client):
    world = await planned_world()
    for person, shown in ((world.coordinator, True), (world.worker, True), (world.coordinator2, False)):
        await sign_in(client, person)
        page = await client.get(f"/clients/{world.own['id']}")
        if shown:
            assert f'href="/clients/{world.own["id"]}/plan"' in page.text
            assert f'href="/clients/{world.own["id"]}/visits"' in page.text
        else:
            assert page.status_code == 404
