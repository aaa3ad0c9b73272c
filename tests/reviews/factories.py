"""A hand-counted review period: the visits of one client from Friday 27 to Monday 30 March 2026 in
London, across the clock change of Sunday 29 March (01:00 GMT becomes 02:00 BST).

Every expected figure in EXPECTED is counted by hand from the visits below, not computed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Optional

from app.visits.tables import Visit
from tests.careplans.factories import add_service, make_plan
from tests.clients.factories import World, make_world

PERIOD = (date(2026, 3, 27), date(2026, 3, 30))
NOW = datetime(2026, 4, 1, 12, 0, tzinfo=timezone.utc)
GRACE = timedelta(minutes=30)


def utc(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=timezone.utc)


async def add_visit(*, client_id: int, service_id: int, worker: Optional[dict], start: datetime, minutes: int,
                    **columns) -> int:
    rows = await Visit.insert(Visit(client=client_id, service=service_id, worker=worker["id"] if worker else None,
                                    scheduled_start=start, scheduled_end=start + timedelta(minutes=minutes),
                                    **columns)).run()
    return rows[0]["id"]


def logged(check_in: datetime, check_out: datetime, tasks: tuple[str, ...] = (), by: Optional[dict] = None) -> dict:
    return dict(status="completed", check_in_at=check_in, check_out_at=check_out,
                check_in_by=by["id"] if by else None, check_out_by=by["id"] if by else None,
                tasks_done=json.dumps(list(tasks)), location="home")


@dataclass
class Fixture:
    world: World
    client_id: int
    plan_id: int
    washing: int  # service lineages
    evening: int
    night: int
    meals: int
    visits: dict[str, int]


async def review_fixture(world: Optional[World] = None) -> Fixture:
    world = world or await make_world()
    client_id = world.own["id"]
    plan_id = await make_plan(client_id=client_id, starts_on=date(2026, 1, 5), review_due=date(2026, 4, 3),
                              goals=("Stays safe at home", "Walks to the shop"))
    washing = await add_service(plan_id=plan_id, worker=world.worker, start_time=time(9), duration_minutes=30,
                                tasks=("Wash", "Dress"))
    evening = await add_service(plan_id=plan_id, worker=world.worker2, kind="medication_prompt",
                                start_time=time(23, 30), duration_minutes=60, tasks=())
    night = await add_service(plan_id=plan_id, worker=world.worker2, kind="nursing", start_time=time(0, 30),
                              duration_minutes=120, tasks=())
    meals = await add_service(plan_id=plan_id, kind="meals", provider_name="Meals on Wheels", start_time=time(12),
                              duration_minutes=15, tasks=())
    w, w2, c = world.worker, world.worker2, world.coordinator
    v = {}
    # Washing, 09:00 local: GMT until Sunday, BST from then (08:00 UTC).
    v["at_grace"] = await add_visit(client_id=client_id, service_id=washing, worker=w, start=utc(27, 9), minutes=30,
                                    concern=True, concern_severity="medium", concern_text="Red heel",
                                    concern_resolved_at=utc(27, 12), **logged(utc(27, 9, 30), utc(27, 10),
                                                                              ("Wash", "Dress"), w))
    v["late"] = await add_visit(client_id=client_id, service_id=washing, worker=w, start=utc(28, 9), minutes=30,
                                concern=True, concern_severity="high", concern_text="Fell",
                                concern_resolved_at=utc(29, 9, 50),
                                family_summary="A good morning", family_summary_shared=True,
                                **logged(utc(28, 9, 30, 1), utc(28, 9, 50), ("Wash",), w))
    v["cancelled"] = await add_visit(client_id=client_id, service_id=washing, worker=w, start=utc(29, 8), minutes=30,
                                     status="cancelled", cancel_reason="At her daughter's",
                                     cancelled_at=utc(28, 15), cancelled_by=c["id"])
    v["missed"] = await add_visit(client_id=client_id, service_id=washing, worker=w, start=utc(30, 8), minutes=30)
    # Evening medication, 23:30 local: across midnight.
    v["midnight"] = await add_visit(client_id=client_id, service_id=evening, worker=w2, start=utc(28, 23, 30),
                                    minutes=60, concern=True, concern_severity="low", concern_text="Tired",
                                    **logged(utc(28, 23, 35), utc(29, 0, 40), (), w2))
    v["evening_cancelled"] = await add_visit(client_id=client_id, service_id=evening, worker=w2,
                                             start=utc(30, 22, 30), minutes=60, status="cancelled",
                                             cancel_reason="In hospital", cancelled_at=utc(30, 10),
                                             cancelled_by=world.admin["id"])
    # Night nursing from 00:30 GMT on the night the clocks go forward: 00:45 GMT to 03:45 BST is two hours.
    v["clock_change"] = await add_visit(client_id=client_id, service_id=night, worker=w2, start=utc(29, 0, 30),
                                        minutes=120, **logged(utc(29, 0, 45), utc(29, 2, 45), (), w2))
    # An outside provider's visit: not logged here, so never missed.
    v["meals"] = await add_visit(client_id=client_id, service_id=meals, worker=None, start=utc(27, 12), minutes=15)
    # Outside the period: the day before, and 00:10 BST on Tuesday 31 (still the 30th in UTC).
    v["before"] = await add_visit(client_id=client_id, service_id=washing, worker=w, start=utc(26, 9), minutes=30)
    v["after"] = await add_visit(client_id=client_id, service_id=evening, worker=w2, start=utc(30, 23, 10),
                                 minutes=60)
    return Fixture(world=world, client_id=client_id, plan_id=plan_id, washing=washing, evening=evening, night=night,
                   meals=meals, visits=v)


# Counted by hand from the visits above.
EXPECTED_WASHING = dict(planned=4, completed=2, missed=1, cancelled=1, not_logged=0, checked_in=2, late=1,
                        actual_minutes=25.0,  # (30 + 19 min 59 s) / 2 = 24.99
                        planned_minutes=30.0, tasks_done=3, tasks_planned=4, workers=1, summaries_shared=1,
                        concerns=2, late_edits=0)
EXPECTED_EVENING = dict(planned=2, completed=1, missed=0, cancelled=1, not_logged=0, checked_in=1, late=0,
                        actual_minutes=65.0, planned_minutes=60.0, tasks_done=0, tasks_planned=0, workers=1,
                        summaries_shared=0, concerns=1, late_edits=0)
EXPECTED_NIGHT = dict(planned=1, completed=1, missed=0, cancelled=0, not_logged=0, checked_in=1, late=0,
                      actual_minutes=120.0, planned_minutes=120.0, tasks_done=0, tasks_planned=0, workers=1,
                      summaries_shared=0, concerns=0, late_edits=0)
EXPECTED_MEALS = dict(planned=1, completed=0, missed=0, cancelled=0, not_logged=1, checked_in=0, late=0,
                      actual_minutes=None, planned_minutes=None, tasks_done=0, tasks_planned=0, workers=0,
                      summaries_shared=0, concerns=0, late_edits=0)
EXPECTED_TOTAL = dict(planned=8, completed=4, missed=1, cancelled=2, not_logged=1, checked_in=4, late=1,
                      actual_minutes=58.7,  # (30 + 19.98 + 65 + 120) / 4 = 58.75 less 1/240
                      planned_minutes=60.0, tasks_done=3, tasks_planned=4, workers=2, summaries_shared=1,
                      concerns=3, late_edits=0)
