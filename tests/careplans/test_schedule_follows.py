"""One act of care, one transaction: activating or closing a plan and changing a client's status bring the
visits still to come in step at once, in the same transaction, so a failure in the schedule leaves nothing
half-done."""

from __future__ import annotations

from datetime import time

import pytest

from app import clock, db
from app.audit.services import Actor
from app.audit.tables import AuditEvent
from app.careplans import services as plans
from app.careplans.services import ServiceDetails
from app.careplans.tables import CarePlan, PlanStatus
from app.clients import services as clients
from app.clients.tables import Client, ClientStatusChange
from app.visits.services import schedule_sync
from app.visits.tables import Visit
from tests.careplans.factories import add_service, make_plan
from tests.clients.factories import make_world, today
from tests.conftest import post_form, sign_in


class ScheduleBroke(Exception):
    pass


@pytest.fixture
def schedule_breaks(monkeypatch):
    """The schedule step writes its visits, then fails: everything of the change must be undone."""

    async def plan_then_fail(*, now, client_ids):
        result = await schedule_sync(now=now, client_ids=client_ids)
        assert await Visit.count().where(Visit.client.is_in(client_ids)).run() == result.created
        raise ScheduleBroke()

    monkeypatch.setattr(clients, "_schedule_update", [plan_then_fail])


def actor_for(user: dict) -> Actor:
    return Actor(user_id=user["id"], label=user["email"], role=user["role"], facility_id=user["facility_id"])


async def draft_with_a_daily_service(*, world, client_id: int) -> dict:
    actor = actor_for(world.coordinator)
    plan_id = await plans.plan_draft_start(actor=actor, client_id=client_id, today=today())
    await plans.service_add(actor=actor, plan_id=plan_id, details=ServiceDetails(
        kind="personal_care", weekdays=frozenset(range(1, 8)), start_time=time(23, 59), duration_minutes=1,
        starts_on=today(), worker_id=world.worker["id"]))
    return await CarePlan.select().where(CarePlan.id == plan_id).first().run()


async def active_plan_with_a_daily_service(*, world, client_id: int, status: str = "active") -> int:
    """An active plan with a service at 23:59 every day, for a client in `status` (no visits planned yet)."""
    await Client.update({Client.status: status}).where(Client.id == client_id).run()
    plan_id = await make_plan(client_id=client_id)
    await add_service(plan_id=plan_id, worker=world.worker, start_time=time(23, 59), duration_minutes=1)
    return plan_id


async def visits_of(client_id: int) -> int:
    return await Visit.count().where(Visit.client == client_id).run()


async def actions_of(client_id: int) -> set[str]:
    return {e["action"] for e in await AuditEvent.select(AuditEvent.action).where(
        AuditEvent.client_id == client_id).run()}


async def test_activating_a_plan_plans_its_visits_in_the_same_transaction():
    world = await make_world()
    own = world.own["id"]
    draft = await draft_with_a_daily_service(world=world, client_id=own)
    before = db.write_transactions()
    activated = await plans.plan_activate(actor=actor_for(world.coordinator), plan_id=draft["id"],
                                          revision=draft["revision"])
    assert db.write_transactions() - before == 1
    # 23:59 every day for the 14-day horizon: today's has not begun unless the test runs in its last minute.
    assert activated["schedule"].created == await visits_of(own) >= 13
    assert {"careplan.activated", "schedule.updated"} <= await actions_of(own)


async def test_a_schedule_that_fails_undoes_the_activation(schedule_breaks):
    world = await make_world()
    own = world.own["id"]
    draft = await draft_with_a_daily_service(world=world, client_id=own)
    with pytest.raises(ScheduleBroke):
        await plans.plan_activate(actor=actor_for(world.coordinator), plan_id=draft["id"], revision=draft["revision"])
    stored = await CarePlan.select(CarePlan.status, CarePlan.revision).where(CarePlan.id == draft["id"]).first().run()
    assert stored == {"status": PlanStatus.draft.value, "revision": draft["revision"]}
    assert await visits_of(own) == 0
    assert not {"careplan.activated", "schedule.updated"} & await actions_of(own)


async def test_closing_a_plan_removes_its_visits_in_the_same_transaction():
    world = await make_world()
    own = world.own["id"]
    plan_id = await active_plan_with_a_daily_service(world=world, client_id=own)
    await schedule_sync(now=clock.utcnow(), client_ids=[own])
    assert await visits_of(own) >= 13
    before = db.write_transactions()
    result = await plans.plan_close(actor=actor_for(world.coordinator), plan_id=plan_id, reason="Moved away")
    assert db.write_transactions() - before == 1
    assert result.removed >= 13 and await visits_of(own) == 0


async def test_a_schedule_that_fails_undoes_the_closing(schedule_breaks):
    world = await make_world()
    own = world.own["id"]
    plan_id = await active_plan_with_a_daily_service(world=world, client_id=own)
    await schedule_sync(now=clock.utcnow(), client_ids=[own])
    planned = await visits_of(own)
    with pytest.raises(ScheduleBroke):
        await plans.plan_close(actor=actor_for(world.coordinator), plan_id=plan_id, reason="Moved away")
    assert (await CarePlan.select(CarePlan.status).where(CarePlan.id == plan_id).first().run())["status"] == "active"
    assert await visits_of(own) == planned >= 13


async def test_a_client_made_active_has_visits_at_once_and_a_pause_removes_them(client):
    world = await make_world()
    own = world.own["id"]
    await active_plan_with_a_daily_service(world=world, client_id=own, status="referral")
    await sign_in(client, world.coordinator)

    activated = await post_form(client, f"/clients/{own}/status", {
        "to_status": "active", "effective_on": today().isoformat(), "reason": "Assessment done", "version": "1"},
        follow_redirects=True)
    assert activated.status_code == 200
    planned = await visits_of(own)
    assert planned >= 13
    assert f"The schedule was updated: {planned} visits planned, 0 removed." in activated.text

    before = db.write_transactions()
    await clients.client_status_change(actor=actor_for(world.coordinator), client_id=own, version=2,
                                       to_status="paused", effective_on=today(), reason="In hospital", today=today())
    assert db.write_transactions() - before == 1
    assert await visits_of(own) == 0


async def test_a_schedule_that_fails_undoes_the_status_change(schedule_breaks):
    world = await make_world()
    own = world.own["id"]
    await active_plan_with_a_daily_service(world=world, client_id=own, status="paused")
    with pytest.raises(ScheduleBroke):
        await clients.client_status_change(actor=actor_for(world.coordinator), client_id=own, version=1,
                                           to_status="active", effective_on=today(), reason="Home again",
                                           today=today())
    stored = await Client.select(Client.status, Client.version).where(Client.id == own).first().run()
    assert stored == {"status": "paused", "version": 1}
    assert await ClientStatusChange.count().where(ClientStatusChange.client == own).run() == 0
    assert await visits_of(own) == 0
    assert not {"client.status_changed", "schedule.updated"} & await actions_of(own)


async def test_the_schedule_update_refuses_to_run_outside_the_change_it_follows():
    world = await make_world()
    with pytest.raises(RuntimeError):
        await clients.schedule_update(client_id=world.own["id"])

