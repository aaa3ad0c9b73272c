"""The demo facility's care plans and schedule."""

from __future__ import annotations

from app import clock
from app.accounts.queries import user_by_email
from app.careplans.tables import CarePlan, Goal, GoalNote, Service
from app.clients.tables import Client
from app.db import as_utc
from app.accounts.demo import demo_password
from app.visits.queries import day_bounds
from app.careplans.schedule import double_booked
from app.visits.services import schedule_sync
from app.visits.tables import Visit
from tests.conftest import demo_seeded, login


async def test_every_demo_client_has_a_plan_with_one_to_four_services():
    await demo_seeded()
    clients = await Client.select(Client.id, Client.status).run()
    plans = await CarePlan.select(CarePlan.id, CarePlan.client, CarePlan.status).run()
    by_client = {p["client"]: p for p in plans}
    assert len(plans) == len(clients)
    for person in clients:
        plan = by_client[person["id"]]
        # Care has ended for discharged clients: their plan is closed, every other plan is active.
        assert plan["status"] == ("closed" if person["status"] == "discharged" else "active")
        assert 1 <= await Service.count().where(Service.plan == plan["id"]).run() <= 4


async def test_the_demo_workers_have_visits_today_and_nobody_is_booked_twice():
    await demo_seeded()
    start, end = day_bounds(clock.today_in("Europe/London"), "Europe/London")
    for email in ("worker@kinward.example", "worker2@kinward.example"):
        worker = await user_by_email(email=email)
        today = await Visit.count().where((Visit.worker == worker["id"]) & (Visit.scheduled_start >= start)
                                          & (Visit.scheduled_start < end)).run()
        assert today >= 6
    visits = await Visit.select(Visit.id, Visit.worker, Visit.scheduled_start, Visit.scheduled_end).run()
    assert double_booked((v["id"], v["worker"], v["scheduled_start"], v["scheduled_end"]) for v in visits) == set()
    assert not (await schedule_sync(now=clock.utcnow())).clients  # the demo's schedule is already complete


async def test_the_demo_worker_sees_their_day(client):
    await demo_seeded()
    worker = await user_by_email(email="worker@kinward.example")
    await login(client, {**worker, "password": demo_password(worker["email"])})
    page = await client.get("/my-day")
    assert page.status_code == 200 and "Margaret Ellison" in page.text and "Personal care" in page.text


async def test_the_demo_coordinators_wrote_notes_on_some_goals_over_the_past_weeks():
    await demo_seeded()
    notes = await GoalNote.select(GoalNote.client, GoalNote.goal_lineage, GoalNote.created_at).run()
    assert len({n["client"] for n in notes}) >= 3
    lineages = {g["lineage"] for g in await Goal.select(Goal.lineage).run()}
    assert {n["goal_lineage"] for n in notes} <= lineages
    days = {(clock.utcnow() - as_utc(n["created_at"])).days for n in notes}
    assert min(days) < 30 < max(days)  # some in the current review period, some in the one before
