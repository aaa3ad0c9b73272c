"""Demo visit logs: the care workers' visits of the last two days to a few clients, checked in and out,
with notes and summaries for the families; one concern per coordinator is still open. Today's
visits that are already over are logged too, except those to the families' relatives: they are
left for people trying the demo, and show how a missed visit looks on the coordinator's home.

Written straight into the tables with times in the past (the services check in and out at the
server's time, now). Every person and word here is invented.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from app import clock
from app.accounts.queries import user_by_email
from app.careplans import queries as plans
from app.clients.queries import clients_for_family
from app.visits.services import planned_visits
from app.visits.tables import Visit, VisitStatus

LOGGED_CLIENTS_PER_WORKER = 3
NOTES = (
    "Washed and dressed; chose the blue cardigan. Skin on both heels intact.",
    "Slept well and ate all of breakfast. Walked to the kitchen with the frame, steady.",
    "A little breathless on the stairs; rested for five minutes and was fine. Worth watching.",
    "Quiet this morning, said she missed her sister. Talked about the garden and she brightened.",
)
SUMMARIES = (
    "A cheerful morning: breakfast in the kitchen and a chat about the roses.",
    "Had a good wash and picked her own clothes. She is looking forward to Sunday's visit.",
    "Ate well and took all her tablets. We practised the walk to the front door together.",
    "Settled and comfortable. We listened to the radio over a cup of tea.",
)
# One per worker, and so one per coordinator: each demo worker works for one coordinator.
CONCERNS = {
    "worker@kinward.example": ("high", "Bruise on the left forearm; says she knocked it on the door frame. "
                                       "Please ask the GP to take a look."),
    "worker2@kinward.example": ("medium", "Fridge almost empty and two meals left uneaten. "
                                          "May need a shopping visit or a word with the family."),
}


def _logged(*, worker_id: int, start: datetime, end: datetime, tasks: list[str], n: int,
            shared: bool) -> dict[Any, Any]:
    """The columns of a visit logged by its worker, checked in a few minutes late and out on time."""
    return {
        Visit.status: VisitStatus.completed.value, Visit.check_in_at: start + timedelta(minutes=3 + n % 4),
        Visit.check_in_by: worker_id, Visit.check_out_at: end + timedelta(minutes=2), Visit.check_out_by: worker_id,
        Visit.location: "home", Visit.tasks_done: json.dumps(tasks[: None if n % 2 == 0 else -1]),
        Visit.internal_note: NOTES[n % len(NOTES)], Visit.family_summary: SUMMARIES[n % len(SUMMARIES)],
        Visit.family_summary_shared: shared, Visit.version: 3, Visit.updated_at: end + timedelta(minutes=2),
    }


async def demo_visit_logs(*, facility_id: int) -> None:
    tz = "Europe/London"
    now = clock.utcnow()
    midnight = datetime.combine(clock.today_in(tz), time(0), tzinfo=ZoneInfo(tz))
    families = set()
    for email in ("family@kinward.example", "family2@kinward.example"):
        person = await user_by_email(email=email)
        if person is not None:
            linked = await clients_for_family(user=SimpleNamespace(id=person["id"], facility_id=facility_id,
                                                                   role=person["role"]))
            families.update(c["id"] for c in linked)
    rows = [r for r in await plans.services_to_schedule()
            if r["facility_id"] == facility_id and r["worker_id"] is not None]
    task_lists = {r["id"]: r["task_list"] for r in rows}
    # The two days before today, as the schedule would have planned them (it plans from today on).
    planned = planned_visits(rows, now=midnight - timedelta(days=2), horizon_days=2)
    for email, (severity, concern) in CONCERNS.items():
        worker = await user_by_email(email=email)
        if worker is None:
            continue
        clients = sorted({c for c, visits in planned.items() if any(v.worker_id == worker["id"] for v in visits)},
                         key=lambda c: (c not in families, c))[:LOGGED_CLIENTS_PER_WORKER]
        for n, client_id in enumerate(clients):
            visits = sorted((v for v in planned[client_id] if v.worker_id == worker["id"]), key=lambda v: v.start)
            for m, visit in enumerate(visits):
                flagged = n == 1 and m == len(visits) - 1  # the latest visit of the second client
                columns = _logged(worker_id=worker["id"], start=visit.start, end=visit.end,
                                  tasks=task_lists[visit.service_id], n=n + m,
                                  shared=client_id in families or m % 2 == 0)
                values = {column._meta.name: value for column, value in columns.items()}
                await Visit.insert(Visit(
                    client=client_id, service=visit.service_id, worker=worker["id"], scheduled_start=visit.start,
                    scheduled_end=visit.end, concern=flagged, concern_severity=severity if flagged else "",
                    concern_text=concern if flagged else "", created_at=visit.start - timedelta(days=14), **values,
                )).on_conflict(action="DO NOTHING").run()
    over_today = await Visit.select(Visit.id, Visit.client, Visit.worker, Visit.service, Visit.scheduled_start,
                                    Visit.scheduled_end).where(
        (Visit.client.facility == facility_id) & (Visit.scheduled_start >= midnight) & (Visit.scheduled_end < now)
        & Visit.worker.is_not_null() & (Visit.status == VisitStatus.scheduled.value)).order_by(Visit.id).run()
    for n, visit in enumerate(v for v in over_today if v["client"] not in families):
        await Visit.update(_logged(worker_id=visit["worker"], start=visit["scheduled_start"],
                                   end=visit["scheduled_end"], tasks=task_lists.get(visit["service"], []), n=n,
                                   shared=n % 2 == 0)).where(Visit.id == visit["id"]).run()
