"""A coordinator writes a plan: draft, goals, services, activation with the changes shown, new versions, closing."""

from __future__ import annotations

import asyncio
import re
from datetime import time, timedelta

from app import clock
from app.audit.services import Actor
from app.audit.tables import AuditEvent
from app.careplans.services import plan_draft_start
from app.careplans.tables import CarePlan, Service
from app.clients.tables import Client
from app.visits.services import schedule_sync
from app.visits.tables import Visit
from tests.careplans.factories import add_service, make_plan
from tests.clients.factories import make_world, today
from tests.conftest import make_user, post_form, sign_in

SERVICE = {"kind": "personal_care", "worker_id": "", "provider_name": "", "weekdays": ["1", "2", "3", "4", "5"],
           "start_time": "09:00", "duration_minutes": "45", "starts_on": "", "ends_on": "",
           "instructions": "Help with washing", "tasks": "Wash\nDress\nBreakfast", "version": ""}


def service_form(**changes) -> dict:
    values = {**SERVICE, "starts_on": today().isoformat(), **changes}
    return values


async def draft_of(client_id: int) -> dict:
    return await CarePlan.select().where((CarePlan.client == client_id) & (CarePlan.status == "draft")).first().run()


def error_next_to(page: str, field: str) -> str:
    match = re.search(rf'id="{field}-error">([^<]+)<', page)
    return match.group(1) if match else ""


async def test_a_coordinator_writes_the_first_plan_and_activating_it_plans_visits(client):
    world = await make_world()
    own = world.own["id"]
    await sign_in(client, world.coordinator)
    page = await client.get(f"/clients/{own}/plan")
    assert page.status_code == 200 and "There is no active plan" in page.text
    assert (await post_form(client, f"/clients/{own}/plan", {})).status_code == 303
    draft = await draft_of(own)
    assert draft["version"] == 1
    details = {"summary": "Support to stay at home", "starts_on": today().isoformat(),
               "review_due": (today() + timedelta(days=90)).isoformat(), "ends_on": "", "revision": draft["revision"]}
    assert (await post_form(client, f"/clients/{own}/plan/details", details)).status_code == 303
    assert (await post_form(client, f"/clients/{own}/plan/goals",
                            {"description": "Walks to the shop", "status": "in_progress"})).status_code == 303
    added = await post_form(client, f"/clients/{own}/plan/services",
                            service_form(worker_id=str(world.worker["id"]), weekdays=["1", "2", "3", "4", "5", "6", "7"]))
    assert added.status_code == 303, added.text
    second = await post_form(client, f"/clients/{own}/plan/services",
                             service_form(kind="meals", worker_id="", provider_name="Riverside Meals",
                                          start_time="12:30", duration_minutes="20"))
    assert second.status_code == 303, second.text

    review = await client.get(f"/clients/{own}/plan/activate")
    assert review.status_code == 200
    assert "This is the first plan" in review.text and "Riverside Meals" in review.text
    revision = (await draft_of(own))["revision"]
    activated = await post_form(client, f"/clients/{own}/plan/activate", {"revision": revision})
    assert activated.status_code == 303
    plan = await CarePlan.select().where(CarePlan.client == own).first().run()
    assert plan["status"] == "active" and plan["activated_by"] == world.coordinator["id"]
    visits = await Visit.select().where(Visit.client == own).run()
    assert len(visits) >= 13  # 14 days of personal care (today's may have passed) plus weekday meals
    assert {v["worker"] for v in visits} == {world.worker["id"], None}
    client_row = await Client.select(Client.review_due).where(Client.id == own).first().run()
    assert client_row["review_due"] == today() + timedelta(days=90)
    actions = {e["action"] for e in await AuditEvent.select(AuditEvent.action).where(AuditEvent.client_id == own).run()}
    assert {"careplan.draft_started", "careplan.updated", "careplan.goal_added", "careplan.service_added",
            "careplan.activated", "schedule.updated", "client.viewed"} <= actions


async def test_activating_a_new_version_shows_what_changed_and_supersedes_the_old_one(client):
    world = await make_world()
    own = world.own["id"]
    plan_id = await make_plan(client_id=own)
    await add_service(plan_id=plan_id, worker=world.worker, start_time=time(9))
    await add_service(plan_id=plan_id, kind="meals", provider_name="Riverside Meals")
    await sign_in(client, world.coordinator)
    await post_form(client, f"/clients/{own}/plan", {})
    draft = await draft_of(own)
    assert draft["version"] == 2
    copied = await Service.select().where(Service.plan == draft["id"]).order_by(Service.id).run()
    assert len(copied) == 2
    edit = await client.get(f"/clients/{own}/plan/services/{copied[0]['id']}")
    assert edit.status_code == 200 and 'value="09:00"' in edit.text
    changed = await post_form(client, f"/clients/{own}/plan/services/{copied[0]['id']}",
                              service_form(worker_id=str(world.worker["id"]), start_time="10:00",
                                           starts_on="2020-01-01", tasks="Wash\nDress",
                                           instructions="Help with washing; check the pressure areas.",
                                           weekdays=["1", "2", "3", "4", "5", "6", "7"], duration_minutes="30",
                                           version=str(copied[0]["version"])))
    assert changed.status_code == 303, changed.text
    assert (await post_form(client, f"/clients/{own}/plan/services/{copied[1]['id']}/remove", {})).status_code == 303
    review = await client.get(f"/clients/{own}/plan/activate")
    assert "What changes from version 1" in review.text
    assert "Removed:" in review.text and "Changed:" in review.text
    assert "09:00" in review.text and "10:00" in review.text
    await post_form(client, f"/clients/{own}/plan/activate", {"revision": (await draft_of(own))["revision"]})
    statuses = {p["version"]: p["status"] for p in await CarePlan.select().where(CarePlan.client == own).run()}
    assert statuses == {1: "superseded", 2: "active"}
    future = await Visit.select(Visit.scheduled_start, Visit.service).where(Visit.client == own).run()
    assert future and {v["service"] for v in future} == {copied[0]["id"]}


async def test_service_form_errors_are_shown_next_to_each_field_and_the_input_is_kept(client):
    world = await make_world()
    own = world.own["id"]
    await sign_in(client, world.coordinator)
    await post_form(client, f"/clients/{own}/plan", {})
    bad = service_form(worker_id="", provider_name="", weekdays=[], start_time="9 o'clock", duration_minutes="0",
                       starts_on="2026-05-10", ends_on="2026-05-01", instructions="Keep me")
    page = await post_form(client, f"/clients/{own}/plan/services", bad)
    assert page.status_code == 422
    assert error_next_to(page.text, "worker_id") == "Choose a care worker, or name the provider below."
    assert error_next_to(page.text, "weekdays") == "Choose at least one day of the week."
    assert error_next_to(page.text, "start_time") == "Enter a time like 09:30."
    assert error_next_to(page.text, "duration_minutes") == "The duration must be at least one minute."
    assert error_next_to(page.text, "ends_on") == "The end date is before the start date."
    assert "Keep me" in page.text and 'value="2026-05-10"' in page.text
    negative = await post_form(client, f"/clients/{own}/plan/services", service_form(provider_name="X",
                                                                                      duration_minutes="-15"))
    assert error_next_to(negative.text, "duration_minutes") == "The duration must be at least one minute."
    assert await Service.count().run() == 0


async def test_a_worker_cannot_be_given_two_services_at_the_same_time(client):
    world = await make_world()
    own, other = world.own["id"], world.others["id"]
    # The worker already visits another client on Mondays at 09:15.
    elsewhere = await make_plan(client_id=other)
    await add_service(plan_id=elsewhere, worker=world.worker, weekdays="1", start_time=time(9, 15))
    await sign_in(client, world.coordinator)
    await post_form(client, f"/clients/{own}/plan", {})
    page = await post_form(client, f"/clients/{own}/plan/services",
                           service_form(worker_id=str(world.worker["id"]), weekdays=["1"], start_time="09:00"))
    assert page.status_code == 422
    # Only that the worker is busy then: Otto is coordinator2's client, not this coordinator's to see.
    assert "This worker is busy at 09:15" in error_next_to(page.text, "worker_id")
    assert "Otto" not in page.text
    ok = await post_form(client, f"/clients/{own}/plan/services",
                         service_form(worker_id=str(world.worker["id"]), weekdays=["1"], start_time="10:00"))
    assert ok.status_code == 303
    same_plan = await post_form(client, f"/clients/{own}/plan/services",
                                service_form(worker_id=str(world.worker["id"]), weekdays=["1", "2"],
                                             start_time="10:15"))
    assert same_plan.status_code == 422
    assert "another service of this plan" in error_next_to(same_plan.text, "worker_id")


async def test_plan_dates_are_validated(client):
    world = await make_world()
    own = world.own["id"]
    await sign_in(client, world.coordinator)
    await post_form(client, f"/clients/{own}/plan", {})
    draft = await draft_of(own)
    page = await post_form(client, f"/clients/{own}/plan/details", {
        "summary": "S", "starts_on": "2026-06-01", "review_due": "2026-05-01", "ends_on": "2026-05-31",
        "revision": draft["revision"]})
    assert page.status_code == 422
    assert error_next_to(page.text, "ends_on") == "The end date is before the start date."
    assert error_next_to(page.text, "review_due") == "The review date is before the plan starts."


async def test_saving_a_service_over_a_newer_version_shows_both_values(client):
    world = await make_world()
    own = world.own["id"]
    await sign_in(client, world.coordinator)
    await post_form(client, f"/clients/{own}/plan", {})
    await post_form(client, f"/clients/{own}/plan/services", service_form(provider_name="District nurses"))
    service = await Service.select().first().run()
    # Someone else moves the service to 11:00 meanwhile.
    await Service.update({Service.start_time: time(11), Service.version: 2}).where(
        Service.id == service["id"]).run()
    mine = service_form(provider_name="District nurses", start_time="08:00", version="1")
    page = await post_form(client, f"/clients/{own}/plan/services/{service['id']}", mine)
    assert page.status_code == 409
    assert "Someone else saved this service" in page.text
    assert "08:00" in page.text and "11:00" in page.text
    assert 'name="version" value="2"' in page.text
    stored = await Service.select(Service.start_time).where(Service.id == service["id"]).first().run()
    assert stored["start_time"].hour == 11


async def test_activation_refuses_a_draft_changed_since_it_was_reviewed(client):
    world = await make_world()
    own = world.own["id"]
    await sign_in(client, world.coordinator)
    await post_form(client, f"/clients/{own}/plan", {})
    seen = (await draft_of(own))["revision"]
    await post_form(client, f"/clients/{own}/plan/services", service_form(provider_name="District nurses"))
    page = await post_form(client, f"/clients/{own}/plan/activate", {"revision": seen})
    assert page.status_code == 409 and "Someone changed the draft" in page.text
    assert (await draft_of(own)) is not None


async def test_closing_the_plan_removes_the_visits_still_to_come(client):
    world = await make_world()
    own = world.own["id"]
    plan_id = await make_plan(client_id=own)
    await add_service(plan_id=plan_id, worker=world.worker)
    await schedule_sync(now=clock.utcnow(), client_ids=[own])
    assert await Visit.count().where(Visit.client == own).run() >= 13
    await sign_in(client, world.coordinator)
    refused = await post_form(client, f"/clients/{own}/plan/close", {"reason": ""})
    assert refused.status_code == 422
    closed = await post_form(client, f"/clients/{own}/plan/close", {"reason": "Moved to residential care"})
    assert closed.status_code == 303
    assert (await CarePlan.select(CarePlan.status).where(CarePlan.id == plan_id).first().run())["status"] == "closed"
    assert await Visit.count().where(Visit.client == own).run() == 0


async def test_a_coordinator_of_another_team_cannot_reach_the_plan(client):
    world = await make_world()
    outsider = await make_user(facility_id=world.facility, role="coordinator")
    await sign_in(client, outsider)
    assert (await client.get(f"/clients/{world.own['id']}/plan")).status_code == 404
    assert (await post_form(client, f"/clients/{world.own['id']}/plan", {})).status_code == 404
    assert await CarePlan.count().run() == 0


async def test_two_people_starting_a_draft_at_once_get_the_same_draft():
    world = await make_world()
    actor = Actor(user_id=world.coordinator["id"], facility_id=world.facility)
    ids = await asyncio.gather(*[plan_draft_start(actor=actor, client_id=world.own["id"], today=today())
                                 for _ in range(3)])
    assert len(set(ids)) == 1
    assert await CarePlan.count().where(CarePlan.client == world.own["id"]).run() == 1
