"""Care plans for tests, inserted directly (the plan services are tested on their own)."""

from __future__ import annotations

import json
from datetime import date, time
from typing import Optional

from app.careplans.tables import CarePlan, Goal, Service

EVERY_DAY = "1,2,3,4,5,6,7"


async def make_plan(*, client_id: int, status: str = "active", version: int = 1, starts_on: date = date(2020, 1, 1),
                    review_due: Optional[date] = None, ends_on: Optional[date] = None, summary: str = "Care at home",
                    goals: tuple[str, ...] = ("Stays safe at home",)) -> int:
    rows = await CarePlan.insert(CarePlan(client=client_id, version=version, status=status, summary=summary,
                                          starts_on=starts_on, review_due=review_due, ends_on=ends_on)).run()
    plan_id = rows[0]["id"]
    for description in goals:
        goal = await Goal.insert(Goal(plan=plan_id, description=description)).run()
        await Goal.update({Goal.lineage: goal[0]["id"]}).where(Goal.id == goal[0]["id"]).run()
    return plan_id


async def add_service(*, plan_id: int, worker: Optional[dict] = None, kind: str = "personal_care",
                      weekdays: str = EVERY_DAY, start_time: time = time(9), duration_minutes: int = 30,
                      starts_on: date = date(2020, 1, 1), ends_on: Optional[date] = None,
                      instructions: str = "Help with washing; check the pressure areas.",
                      tasks: tuple[str, ...] = ("Wash", "Dress"), provider_name: str = "",
                      lineage: Optional[int] = None) -> int:
    rows = await Service.insert(Service(
        plan=plan_id, kind=kind, worker=worker["id"] if worker else None,
        provider_name=provider_name if worker is None else "", weekdays=weekdays, start_time=start_time,
        duration_minutes=duration_minutes, starts_on=starts_on, ends_on=ends_on, instructions=instructions,
        tasks=json.dumps(list(tasks)),
    )).run()
    service_id = rows[0]["id"]
    await Service.update({Service.lineage: lineage or service_id}).where(Service.id == service_id).run()
    return service_id
