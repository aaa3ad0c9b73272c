"""The team week names an outside provider's visits by the agency that makes them."""

from __future__ import annotations

import re
from datetime import time

from app.visits.services import schedule_sync
from tests.careplans.factories import add_service, make_plan
from tests.clients.factories import make_world
from tests.conftest import login
from tests.visits.conftest import MONDAY_MORNING


async def test_agency_visits_show_under_the_agencys_name(client, monday_morning):
    world = await make_world()
    plan = await make_plan(client_id=world.own["id"])
    await add_service(plan_id=plan, worker=world.worker, start_time=time(9))
    await add_service(plan_id=plan, kind="meals", provider_name="Riverside Meals", start_time=time(12))
    await schedule_sync(now=MONDAY_MORNING, horizon_days=2)
    await login(client, world.coordinator)
    page = (await client.get("/schedule")).text
    assert '<th scope="row">Riverside Meals <span class="muted">(service provider)</span>' in page
    assert "No care worker" not in page
    rows = [name for name in re.findall(r'<th scope="row">([^<]+)', page)]
    assert rows[-1].strip() == "Riverside Meals"  # the care workers first, then the agencies


async def test_each_worker_row_totals_the_weeks_visits_and_hours_without_the_cancelled(client, monday_morning):
    from app.visits.tables import Visit

    world = await make_world()
    plan = await make_plan(client_id=world.own["id"])
    await add_service(plan_id=plan, worker=world.worker, start_time=time(9), duration_minutes=30)
    await add_service(plan_id=plan, worker=world.worker, kind="meals", start_time=time(14), duration_minutes=60)
    await schedule_sync(now=MONDAY_MORNING, horizon_days=2)
    visits = await Visit.select(Visit.id, Visit.scheduled_start, Visit.scheduled_end).where(
        Visit.worker == world.worker["id"]).order_by(Visit.scheduled_start).run()
    days = len({v["scheduled_start"].date() for v in visits})
    assert days >= 2 and len(visits) == 2 * days
    longest = max(visits, key=lambda v: v["scheduled_end"] - v["scheduled_start"])
    await Visit.update({Visit.status: "cancelled"}).where(Visit.id == longest["id"]).run()
    await login(client, world.coordinator)
    page = (await client.get("/schedule")).text
    minutes = 90 * days - 60
    assert (f'<span class="week-total">{2 * days - 1} visits, {minutes // 60} h {minutes % 60:02d} min</span>'
            in page)
