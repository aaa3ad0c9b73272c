"""Demo care plans: every demo client gets a plan with one to four services, and the schedule is planned.

The care workers' services are spread over the day so nobody is booked twice; services from
outside the team (meals, befriending, district nurses) name their provider.
"""

from __future__ import annotations

from datetime import time, timedelta

from app import clock
from app.accounts.tables import User
from app.audit.services import Actor
from app.careplans import queries, services
from app.careplans.services import GoalDetails, PlanDetails, ServiceDetails
from app.clients.queries import care_team_for
from app.careplans.tables import GoalNote
from app.clients.tables import Client

EVERY_DAY = frozenset(range(1, 8))
# The plans began this long ago: room for three months of visit history behind them.
PLAN_HISTORY_DAYS = 100
WEEKDAYS = frozenset(range(1, 6))
SUMMARIES = (
    "Support to stay safely at home after a fall, rebuilding confidence on the stairs.",
    "Daily personal care and meals while arthritis makes mornings hard; keep the routine predictable.",
    "Medication support and company: lives alone, family visit at weekends.",
    "Short-term reablement after hospital discharge; review whether visits can reduce.",
)
GOALS = (
    ("Walks to the garden gate and back with a frame", "in_progress"),
    ("Takes all medication at the right time without prompting", "not_started"),
    ("Makes a hot drink safely on their own", "in_progress"),
    ("Goes to the lunch club once a week", "not_started"),
    ("No falls for three months", "achieved"),
)
# What the coordinator wrote against a client's first goal, and how many days ago (the first few clients).
GOAL_NOTES = {
    GOALS[0][0]: ((40, "Managed half the way with the frame before needing a rest; we agreed to try again next week."),
                  (12, "Reached the gate without stopping today. The physiotherapist suggests a second walk at teatime.")),
    GOALS[1][0]: ((30, "Missed two evening doses last week; the blister pack now sits by the kettle."),),
    GOALS[2][0]: ((25, "Made tea with the worker watching; uses the kettle tipper safely."),
                  (6, "Made her own drink twice this week without help.")),
    GOALS[3][0]: ((20, "Lunch club has a place from next month; transport booked with the community bus."),),
}
GOAL_NOTE_CLIENTS = 4
PERSONAL_CARE = ("Help with washing and dressing; they choose their own clothes. Check skin on heels.",
                 ("Wash", "Dress", "Check skin", "Breakfast and a drink"))
MEDICATION = ("Prompt the evening tablets from the blister pack; record any refusal.",
              ("Blister pack prompted", "Glass of water left", "Commode emptied"))


def _clock_time(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


async def demo_care_plans(*, facility_id: int) -> None:
    """An active plan for each demo client (a closed one for those discharged), then two weeks of visits."""
    facility_tz = "Europe/London"
    today = clock.today_in(facility_tz)
    clients = await Client.select(Client.id, Client.status, Client.review_due).where(
        Client.facility == facility_id).order_by(Client.id).run()
    people = {u["id"]: u for u in await User.select(User.id, User.email, User.role).where(
        User.facility == facility_id).run()}
    # Per worker: how many morning and teatime services they already have, to give each its own time.
    mornings: dict[int, int] = {}
    teatimes: dict[int, int] = {}
    for index, client in enumerate(clients):
        team = (await care_team_for(client_id=client["id"], today=today))["current"]
        coordinator = next((m for m in team if m["role"] == "coordinator"), None)
        worker = next((m for m in team if m["role"] == "worker"), None)
        author = people[coordinator["user_id"]] if coordinator else None
        actor = Actor(user_id=author["id"] if author else None, label=author["email"] if author else "kinward demo",
                      role=author["role"] if author else "", facility_id=facility_id)
        plan_id = await services.plan_draft_start(actor=actor, client_id=client["id"], today=today)
        draft = await queries.plan_by_id(plan_id=plan_id)
        await services.plan_details_update(actor=actor, plan_id=plan_id, revision=draft["revision"], details=PlanDetails(
            summary=SUMMARIES[index % len(SUMMARIES)], starts_on=today - timedelta(days=PLAN_HISTORY_DAYS),
            review_due=client["review_due"]))
        for goal in (GOALS[index % len(GOALS)], GOALS[(index + 2) % len(GOALS)])[: 1 + index % 2]:
            await services.goal_add(actor=actor, plan_id=plan_id, details=GoalDetails(
                description=goal[0], target_date=today + timedelta(days=30 + index), status=goal[1]))
        for details in _services_for(index=index, worker_id=worker["user_id"] if worker else None,
                                     starts_on=today - timedelta(days=PLAN_HISTORY_DAYS), mornings=mornings, teatimes=teatimes):
            await services.service_add(actor=actor, plan_id=plan_id, details=details)
        revision = (await queries.plan_by_id(plan_id=plan_id))["revision"]
        await services.plan_activate(actor=actor, plan_id=plan_id, revision=revision)
        if client["status"] == "discharged":
            await services.plan_close(actor=actor, plan_id=plan_id, reason="Moved to residential care")
        elif author and index < GOAL_NOTE_CLIENTS:
            await _goal_notes(actor=actor, facility_id=facility_id, client_id=client["id"], plan_id=plan_id)


async def _goal_notes(*, actor: Actor, facility_id: int, client_id: int, plan_id: int) -> None:
    goal = (await queries.goals_of(plan_id=plan_id))[0]
    for days_ago, body in GOAL_NOTES.get(goal["description"], ()):
        note_id = await services.goal_note_add(actor=actor, facility_id=facility_id, client_id=client_id,
                                               goal=goal, body=body)
        # Written over the plan's past weeks, so the reviews of those periods show them.
        await GoalNote.update({GoalNote.created_at: clock.utcnow() - timedelta(days=days_ago)}).where(
            GoalNote.id == note_id).run()


def _services_for(*, index: int, worker_id, starts_on, mornings: dict[int, int],
                  teatimes: dict[int, int]) -> list[ServiceDetails]:
    count = 1 + index % 4
    chosen: list[ServiceDetails] = []
    if worker_id is not None:
        slot = mornings.get(worker_id, 0)
        mornings[worker_id] = slot + 1
        chosen.append(ServiceDetails(kind="personal_care", worker_id=worker_id, weekdays=EVERY_DAY,
                                     start_time=_clock_time(7 * 60 + 30 + 40 * slot), duration_minutes=30,
                                     starts_on=starts_on, instructions=PERSONAL_CARE[0], tasks=PERSONAL_CARE[1]))
    else:
        chosen.append(ServiceDetails(kind="personal_care", provider_name="Riverside Home Care Agency",
                                     weekdays=EVERY_DAY, start_time=time(8, 30), duration_minutes=45,
                                     starts_on=starts_on, instructions=PERSONAL_CARE[0], tasks=PERSONAL_CARE[1]))
    if count >= 2:
        chosen.append(ServiceDetails(kind="meals", provider_name="Riverside Meals on Wheels", weekdays=WEEKDAYS,
                                     start_time=time(12, 0), duration_minutes=20, starts_on=starts_on,
                                     instructions="Hot lunch delivered; soft diet.", tasks=("Lunch delivered",)))
    if count >= 3:
        if worker_id is not None:
            slot = teatimes.get(worker_id, 0)
            teatimes[worker_id] = slot + 1
            chosen.append(ServiceDetails(kind="medication_prompt", worker_id=worker_id, weekdays=EVERY_DAY,
                                         start_time=_clock_time(16 * 60 + 25 * slot), duration_minutes=20,
                                         starts_on=starts_on, instructions=MEDICATION[0], tasks=MEDICATION[1]))
        else:
            chosen.append(ServiceDetails(kind="nursing", provider_name="District nursing team",
                                         weekdays=frozenset({2, 5}), start_time=time(10, 0), duration_minutes=30,
                                         starts_on=starts_on, instructions="Dressing on the left leg ulcer."))
    if count >= 4:
        chosen.append(ServiceDetails(kind="social_contact", provider_name="Riverside Befriending Scheme",
                                     weekdays=frozenset({3}), start_time=time(14, 0), duration_minutes=60,
                                     starts_on=starts_on, instructions="A walk or a cup of tea and a chat."))
    return chosen
