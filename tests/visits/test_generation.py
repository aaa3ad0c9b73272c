"""Visits generated from the active plans, in the database: idempotent, concurrent-safe, in step with edits."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app.careplans.tables import CarePlan
from app.clients.tables import Client
from app.visits.services import schedule_sync
from app.visits.tables import Visit
from tests.careplans.factories import add_service, make_plan
from tests.clients.factories import make_client
from tests.conftest import make_facility, make_user

LONDON = ZoneInfo("Europe/London")


async def setup(timezone_name: str = "Europe/London"):
    facility = await make_facility(timezone=timezone_name)
    worker = await make_user(facility_id=facility, role="worker")
    person = await make_client(facility_id=facility, workers=(worker,))
    return facility, worker, person


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON).astimezone(timezone.utc)


async def visit_starts(client_id: int) -> list[datetime]:
    rows = await Visit.select(Visit.scheduled_start).where(Visit.client == client_id).order_by(
        Visit.scheduled_start).run()
    return [r["scheduled_start"] for r in rows]


async def test_generating_again_creates_nothing_twice():
    _facility, worker, person = await setup()
    plan = await make_plan(client_id=person["id"])
    await add_service(plan_id=plan, worker=worker, start_time=time(9))
    now = at(date(2026, 6, 1), 7)
    first = await schedule_sync(now=now)
    again = await schedule_sync(now=now)
    assert first.created == 14 and (again.created, again.removed, again.updated) == (0, 0, 0)
    starts = await visit_starts(person["id"])
    assert len(starts) == len(set(starts)) == 14
    assert starts[0] == at(date(2026, 6, 1), 9) and starts[-1] == at(date(2026, 6, 14), 9)


async def test_the_database_refuses_a_second_visit_in_the_same_slot():
    _facility, worker, person = await setup()
    plan = await make_plan(client_id=person["id"])
    service = await add_service(plan_id=plan, worker=worker)
    start = at(date(2026, 6, 1), 9)
    row = dict(client=person["id"], service=service, worker=worker["id"], scheduled_start=start,
               scheduled_end=start + timedelta(minutes=30))
    await Visit.insert(Visit(**row)).run()
    with pytest.raises(Exception):
        await Visit.insert(Visit(**row)).run()
    assert await Visit.count().run() == 1


async def test_generators_running_at_once_in_several_processes_plan_each_visit_once():
    _facility, worker, person = await setup()
    plan = await make_plan(client_id=person["id"])
    await add_service(plan_id=plan, worker=worker, start_time=time(9))
    await add_service(plan_id=plan, worker=None, provider_name="Meals", kind="meals", start_time=time(12))
    now = at(date(2026, 6, 1), 7)
    results = await asyncio.gather(*[schedule_sync(now=now) for _ in range(4)])
    assert sum(r.created for r in results) == 28
    starts = await Visit.select(Visit.service, Visit.scheduled_start).run()
    assert len(starts) == len({(r["service"], r["scheduled_start"]) for r in starts}) == 28


async def test_a_nine_oclock_visit_stays_at_nine_local_across_the_clock_change():
    _facility, worker, person = await setup()
    plan = await make_plan(client_id=person["id"])
    await add_service(plan_id=plan, worker=worker, start_time=time(9))
    await schedule_sync(now=at(date(2026, 3, 25), 6))  # Europe/London moves to summer time on 29 March
    local = [s.astimezone(LONDON) for s in await visit_starts(person["id"])]
    assert {(s.hour, s.minute) for s in local} == {(9, 0)}
    assert {s.astimezone(timezone.utc).hour for s in local} == {8, 9}


async def test_service_and_plan_dates_are_respected():
    _facility, worker, person = await setup()
    plan = await make_plan(client_id=person["id"], ends_on=date(2026, 6, 10))
    await add_service(plan_id=plan, worker=worker, starts_on=date(2026, 6, 3), start_time=time(9))
    await add_service(plan_id=plan, worker=None, provider_name="Meals", kind="meals", start_time=time(12),
                      ends_on=date(2026, 6, 4), weekdays="1,2,3,4,5")
    await schedule_sync(now=at(date(2026, 6, 1), 7))
    rows = await Visit.select(Visit.scheduled_start, Visit.service.kind.as_alias("kind")).run()
    care = sorted(r["scheduled_start"].astimezone(LONDON).date() for r in rows if r["kind"] == "personal_care")
    meals = sorted(r["scheduled_start"].astimezone(LONDON).date() for r in rows if r["kind"] == "meals")
    assert care == [date(2026, 6, d) for d in range(3, 11)]
    assert meals == [date(2026, 6, 1), date(2026, 6, 2), date(2026, 6, 3), date(2026, 6, 4)]


async def test_a_new_plan_version_changes_only_visits_still_to_come_and_not_begun():
    _facility, worker, person = await setup()
    old_plan = await make_plan(client_id=person["id"])
    old_service = await add_service(plan_id=old_plan, worker=worker, start_time=time(9))
    await schedule_sync(now=at(date(2026, 6, 1), 7))
    # Two days on: Monday's and Tuesday's visits are done, Wednesday's has begun.
    visits = await Visit.select().order_by(Visit.scheduled_start).run()
    await Visit.update({Visit.status: "completed"}).where(Visit.id.is_in([visits[0]["id"], visits[1]["id"]])).run()
    await Visit.update({Visit.status: "in_progress"}).where(Visit.id == visits[2]["id"]).run()
    await Visit.update({Visit.status: "cancelled", Visit.cancel_reason: "Away"}).where(
        Visit.id == visits[5]["id"]).run()  # Saturday 6 June
    before = {v["id"]: v for v in await Visit.select().run()}
    # Version 2 moves the service to 10:00 on weekdays, with another worker.
    other_worker = await make_user(facility_id=_facility, role="worker")
    await CarePlan.update({CarePlan.status: "superseded"}).where(CarePlan.id == old_plan).run()
    new_plan = await make_plan(client_id=person["id"], version=2)
    new_service = await add_service(plan_id=new_plan, worker=other_worker, start_time=time(10),
                                    weekdays="1,2,3,4,5", lineage=old_service)
    now = at(date(2026, 6, 3), 9, 5)
    await schedule_sync(now=now)
    after = {v["id"]: v for v in await Visit.select().run()}
    for visit_id in (visits[0]["id"], visits[1]["id"], visits[2]["id"]):
        assert after[visit_id] == before[visit_id]
    future = [v for v in after.values() if v["scheduled_start"] > now]
    assert all(v["service"] == new_service and v["scheduled_start"].astimezone(LONDON).hour == 10 for v in future)
    assert all(v["worker"] == other_worker["id"] for v in future)
    days = sorted(v["scheduled_start"].astimezone(LONDON).date() for v in future)
    assert days == [d for d in (date(2026, 6, 3) + timedelta(days=n) for n in range(14)) if d.isoweekday() <= 5]
    # The cancelled Saturday visit is no longer planned (weekdays only), so it is gone too.
    assert not [v for v in after.values() if v["status"] == "cancelled"]
    assert not (await schedule_sync(now=now)).clients


async def test_a_cancelled_or_reassigned_visit_stays_so_when_the_schedule_is_refreshed():
    facility, worker, person = await setup()
    plan = await make_plan(client_id=person["id"])
    await add_service(plan_id=plan, worker=worker, start_time=time(9))
    now = at(date(2026, 6, 1), 7)
    await schedule_sync(now=now)
    visits = await Visit.select().order_by(Visit.scheduled_start).run()
    stand_in = await make_user(facility_id=facility, role="worker")
    await Visit.update({Visit.status: "cancelled"}).where(Visit.id == visits[1]["id"]).run()
    await Visit.update({Visit.worker: stand_in["id"], Visit.reassigned: True}).where(Visit.id == visits[2]["id"]).run()
    assert not (await schedule_sync(now=now)).clients
    rows = {v["id"]: v for v in await Visit.select().run()}
    assert rows[visits[1]["id"]]["status"] == "cancelled"
    assert rows[visits[2]["id"]]["worker"] == stand_in["id"]


async def test_visits_stop_while_the_client_is_not_active_and_resume_after():
    _facility, worker, person = await setup()
    plan = await make_plan(client_id=person["id"])
    await add_service(plan_id=plan, worker=worker, start_time=time(9))
    now = at(date(2026, 6, 1), 7)
    await schedule_sync(now=now)
    await Client.update({Client.status: "paused"}).where(Client.id == person["id"]).run()
    assert (await schedule_sync(now=now)).removed == 14
    await Client.update({Client.status: "active"}).where(Client.id == person["id"]).run()
    assert (await schedule_sync(now=now)).created == 14


async def test_the_horizon_moves_on_with_the_days():
    _facility, worker, person = await setup()
    plan = await make_plan(client_id=person["id"])
    await add_service(plan_id=plan, worker=worker, start_time=time(9))
    await schedule_sync(now=at(date(2026, 6, 1), 7))
    result = await schedule_sync(now=at(date(2026, 6, 3), 7), horizon_days=14)
    assert result.created == 2 and result.removed == 0
    assert len(await visit_starts(person["id"])) == 16


async def test_a_running_app_fills_the_horizon_by_itself(settings):
    from app.main import create_app

    _facility, worker, person = await setup()
    plan = await make_plan(client_id=person["id"])
    await add_service(plan_id=plan, worker=worker, start_time=time(23, 59))
    app = create_app(settings)
    async with app.lifespan():
        for _ in range(300):
            if await Visit.count().run():
                break
            await asyncio.sleep(0.01)
    assert await Visit.count().run() >= 13
