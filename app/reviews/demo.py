"""Demo history for reviews and reports: three months of visits before the last two logged days, as the
schedule planned them and as they might have gone (mostly on time, some late, a few missed or
cancelled), finished reviews for some clients, one overdue review with the family's answers waiting.

Written straight into the tables with past times; every person and word here is invented.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from app import clock, db
from app.accounts.queries import user_by_email
from app.audit.services import Actor
from app.careplans import queries as plans
from app.careplans.services import plan_review_due_set
from app.careplans.tables import PlanStatus
from app.clients.queries import clients_for_family, team_active_on
from app.clients.tables import CareTeamMember
from app.reviews.queries import review_figures, review_period
from app.reviews.tables import FamilyReviewInput, Review
from app.visits.services import planned_visits
from app.visits.tables import Visit, VisitStatus

HISTORY_DAYS = 90
RECENT_DAYS = 2  # the visits feature's demo logs these (and today)
CANCEL_REASONS = ("In hospital for tests", "At her daughter's for the weekend", "Hospital appointment")
SUMMARIES = ("A calm visit; tea and the crossword.", "Walked to the gate and back, pleased with herself.",
             "Ate well and chatted about the grandchildren.")
NOTES = ("Routine visit, all tasks done.", "A bit tired today; rested after washing.",
         "Good spirits. Fridge stocked.")


def _history_columns(*, n: int, start: datetime, end: datetime, worker_id: int, coordinator_id: int,
                     tasks: list[str]) -> dict:
    """How the n-th visit went: 1 in 25 cancelled, 1 in 30 missed, 1 in 9 late, the rest on time."""
    if n % 25 == 7:
        return dict(status=VisitStatus.cancelled.value, cancel_reason=CANCEL_REASONS[n % len(CANCEL_REASONS)],
                    cancelled_at=start - timedelta(days=1), cancelled_by=coordinator_id)
    if n % 30 == 11:
        return dict(status=VisitStatus.scheduled.value)  # nobody came: missed, derived from the times
    late = n % 9 == 4
    check_in = start + timedelta(minutes=(34 + n % 20) if late else n % 12)
    length = (end - start) - timedelta(minutes=(n % 7) - 2)
    return dict(status=VisitStatus.completed.value, check_in_at=check_in, check_in_by=worker_id,
                check_out_at=check_in + length, check_out_by=worker_id, location="home",
                tasks_done=json.dumps(tasks if n % 4 else tasks[:-1]), internal_note=NOTES[n % len(NOTES)],
                family_summary=SUMMARIES[n % len(SUMMARIES)], family_summary_shared=n % 3 == 0,
                concern=n % 41 == 5, concern_severity="medium" if n % 41 == 5 else "",
                concern_text="Seemed confused about the day; GP informed." if n % 41 == 5 else "",
                concern_resolved_at=check_in + length + timedelta(hours=20) if n % 41 == 5 else None,
                concern_resolved_by=coordinator_id if n % 41 == 5 else None,
                concern_resolution="GP visited; a urine infection, treated." if n % 41 == 5 else "", version=3)


async def demo_visit_history(*, facility_id: int) -> None:
    tz = "Europe/London"
    midnight = datetime.combine(clock.today_in(tz), time(0), tzinfo=ZoneInfo(tz))
    rows = [r for r in await plans.services_to_schedule() if r["facility_id"] == facility_id]
    coordinators = {r["client"]: r["user"] for r in await CareTeamMember.select(
        CareTeamMember.client, CareTeamMember.user).where(
        (CareTeamMember.role == "coordinator") & team_active_on(clock.today_in(tz))).run()}
    tasks = {r["id"]: r["task_list"] for r in rows}
    planned = planned_visits(rows, now=midnight - timedelta(days=HISTORY_DAYS),
                             horizon_days=HISTORY_DAYS - RECENT_DAYS)
    taken = {(r["service"], db.as_utc(r["scheduled_start"])) for r in await Visit.select(
        Visit.service, Visit.scheduled_start).where(Visit.service.is_in(list(tasks) or [0])).run()}
    visits = []
    for n, visit in enumerate(sorted((v for vs in planned.values() for v in vs), key=lambda v: (v.start, v.service_id))):
        if (visit.service_id, visit.start) in taken:
            continue
        columns = {}
        if visit.worker_id is not None:
            columns = _history_columns(n=n, start=visit.start, end=visit.end, worker_id=visit.worker_id,
                                       coordinator_id=coordinators.get(visit.client_id), tasks=tasks[visit.service_id])
        visits.append(db.row_defaults(Visit, client=visit.client_id, service=visit.service_id, worker=visit.worker_id,
                                      scheduled_start=visit.start, scheduled_end=visit.end,
                                      created_at=visit.start - timedelta(days=14), updated_at=visit.end, **columns))
    # Thousands of rows: one bulk load, not a Piccolo object each.
    await db.bulk_insert_rows(Visit, visits)


async def demo_reviews(*, facility_id: int) -> None:
    """A finished review a month ago for every other client of the first coordinator's caseload; the
    family's relative overdue, with their answers waiting for the coordinator."""
    tz = "Europe/London"
    today = clock.today_in(tz)
    coordinator = await user_by_email(email="coordinator@kinward.example")
    family = await user_by_email(email="family@kinward.example")
    if coordinator is None or family is None:
        return
    actor = Actor(user_id=coordinator["id"], label=coordinator["email"], role="coordinator", facility_id=facility_id)
    relative = (await clients_for_family(user=SimpleNamespace(id=family["id"], facility_id=facility_id,
                                                              role="family")))[0]["id"]
    caseload = sorted({r["client"] for r in await CareTeamMember.select(CareTeamMember.client).where(
        (CareTeamMember.user == coordinator["id"]) & team_active_on(today)).run()})
    signed_on = today - timedelta(days=30)
    for n, client_id in enumerate(sorted(set(caseload) | {relative})):
        plan = await plans.plan_in_status(client_id=client_id, status=PlanStatus.active)
        if plan is None or (n % 2 and client_id != relative):
            continue
        start, end = review_period(last_period_end=None, plan_starts_on=plan["starts_on"], today=signed_on)
        facts = await review_figures(client_id=client_id, period_start=start, period_end=end, tz=tz,
                                     grace=timedelta(minutes=30), now=clock.utcnow())
        signed_at = datetime.combine(signed_on, time(15), tzinfo=ZoneInfo(tz))
        next_due = today - timedelta(days=3) if client_id == relative else today + timedelta(days=60 + 7 * n)
        await Review.insert(Review(
            client=client_id, number=1, status="finished", period_start=start, period_end=end,
            due_on=signed_on, figures=json.dumps(facts), appropriate="yes" if n % 3 else "change",
            reasons="" if n % 3 else "Mornings often start late; move the visit earlier.",
            days_times="" if n % 3 else "Morning visit at 08:30 on weekdays.", next_review_due=next_due,
            family_summary="Care continues as planned. We will look again in two months.", summary_shared=True,
            version=2, created_by=coordinator["id"], created_at=signed_at - timedelta(hours=1), updated_at=signed_at,
            signed_by=coordinator["id"], signed_at=signed_at,
        )).run()
        await plan_review_due_set(actor=actor, client_id=client_id, review_due=next_due)
    due = today - timedelta(days=3)
    await FamilyReviewInput.insert(FamilyReviewInput(
        client=relative, user=family["id"], due_on=due, notified_at=clock.utcnow() - timedelta(days=10),
        going_well="Mum loves her chats with Wendy in the mornings.",
        worries="She is on her own from teatime; twice she forgot her evening tablets.",
        change="Could someone phone or call in around 7 in the evening?")).run()
