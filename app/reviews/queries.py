"""Reads about care reviews: the facts of a review period (delivered vs planned, outcomes, the family's
view, treatment), the client's reviews, addenda and family input."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any, Optional
from zoneinfo import ZoneInfo

from piccolo.querystring import QueryString

from app import db
from app.careplans import queries as plans
from app.careplans.tables import PlanStatus
from app.clients.queries import family_with_review_between
from app.db import as_utc, elapsed_ms_sql
from app.liaison.queries import referrals_for_client
from app.messages.queries import message_counts_for
from app.policy import ClientRelation, Principal, can_on
from app.reviews.tables import FamilyReviewInput, Review, ReviewAddendum, ReviewStatus
from app.visits import figures
from app.visits.queries import day_bounds
from app.visits.rules import SEVERITIES
from app.visits.tables import Visit

# Family members are asked for their view this many days before the review date.
FAMILY_INPUT_DAYS = 14
# /reviews lists reviews due within this many days, and every overdue one.
DUE_SOON_DAYS = 14
REVIEWS_PAGE_SIZE = 25


def review_period(*, last_period_end: Optional[date], plan_starts_on: Optional[date], today: date) -> tuple[date, date]:
    """The days a new review looks back on, both inclusive: since the last review (or since the plan
    started) up to yesterday, so every visit of the period is over when its figures are taken."""
    if last_period_end is not None:
        start = last_period_end + timedelta(days=1)
    else:
        start = plan_starts_on or today - timedelta(days=90)
    start = min(start, today - timedelta(days=1))
    return start, today - timedelta(days=1)


def period_bounds(*, start: date, end: date, tz: str) -> tuple[datetime, datetime]:
    """The UTC instants of a period of facility days: from the first day's midnight to the one after the last."""
    return day_bounds(start, tz)[0], day_bounds(end, tz)[1]


_PERIOD = "v.client = {} AND v.scheduled_start >= {} AND v.scheduled_start < {}"


async def delivery_by_service(*, client_id: int, start: datetime, end: datetime, now: datetime,
                              grace: timedelta) -> list[dict]:
    """One aggregate row per service (all its plan versions together, by lineage): the sums of figures.delivery_columns."""
    return await Visit.raw(
        "SELECT COALESCE(s.lineage, s.id) AS lineage, MAX(s.kind) AS kind, {} "
        "FROM visit v JOIN care_service s ON s.id = v.service "
        f"WHERE {_PERIOD} GROUP BY COALESCE(s.lineage, s.id) ORDER BY COALESCE(s.lineage, s.id)",
        figures.delivery_columns(now=now, grace=grace), client_id, start, end,
    ).run()


async def cancellations_by_service(*, client_id: int, start: datetime, end: datetime) -> list[dict]:
    """Who cancelled the visits of each service: the person's name and role, and how many."""
    return await Visit.raw(
        "SELECT COALESCE(s.lineage, s.id) AS lineage, u.display_name AS name, u.role AS role, COUNT(*) AS count "
        "FROM visit v JOIN care_service s ON s.id = v.service LEFT JOIN kinward_user u ON u.id = v.cancelled_by "
        f"WHERE {_PERIOD} AND {figures.cancelled_sql()} "
        "GROUP BY COALESCE(s.lineage, s.id), u.display_name, u.role ORDER BY COUNT(*) DESC, u.display_name",
        client_id, start, end,
    ).run()


async def late_or_missed_visits(*, client_id: int, start: datetime, end: datetime, now: datetime,
                                grace: timedelta) -> list[dict]:
    """The start and state of each late or missed visit: only those rows, for the slots they fell in."""
    state = figures.late_or_missed_sql(now=now, grace=grace)
    return await Visit.raw(
        "SELECT v.scheduled_start, {} AS state FROM visit v "
        f"WHERE {_PERIOD} AND ({{}} OR {{}})",
        state, client_id, start, end, figures.missed_sql(now), figures.late_sql(grace),
    ).run()


# When a concern was raised: at the check-out of its visit (or check-in, for a visit left open).
_RAISED = "COALESCE(v.check_out_at, v.check_in_at, v.scheduled_start)"


async def concerns_by_severity(*, client_id: int, start: datetime, end: datetime) -> list[dict]:
    return await Visit.raw(
        "SELECT v.concern_severity AS severity, COUNT(*) AS raised, "
        "SUM(CASE WHEN v.concern_resolved_at IS NOT NULL THEN 1 ELSE 0 END) AS resolved, "
        f"SUM(CASE WHEN v.concern_resolved_at IS NOT NULL THEN {elapsed_ms_sql(_RAISED, 'v.concern_resolved_at')} "
        "ELSE 0 END) AS resolution_ms "
        f"FROM visit v WHERE {_PERIOD} AND v.concern GROUP BY v.concern_severity",
        client_id, start, end,
    ).run()


def concern_figures(rows: list[dict]) -> dict[str, Any]:
    """Concerns by severity (most serious first), open and resolved, and the average hours to resolution."""
    by = {row["severity"] or "": row for row in rows}
    severities = []
    for severity in reversed(SEVERITIES):
        row = by.get(severity, {})
        raised, resolved = int(row.get("raised") or 0), int(row.get("resolved") or 0)
        severities.append({"severity": severity, "raised": raised, "resolved": resolved, "open": raised - resolved,
                           "hours_to_resolution": round(float(row["resolution_ms"]) / 3_600_000 / resolved, 1)
                           if resolved else None})
    raised = sum(s["raised"] for s in severities)
    resolved = sum(s["resolved"] for s in severities)
    total_ms = sum(float(by.get(s, {}).get("resolution_ms") or 0) for s in SEVERITIES)
    return {"by_severity": severities, "raised": raised, "resolved": resolved, "open": raised - resolved,
            "hours_to_resolution": round(total_ms / 3_600_000 / resolved, 1) if resolved else None}


def _figures_json(f: figures.DeliveryFigures) -> dict[str, Any]:
    return {**f.as_dict(), "late_rate": f.late_rate, "tasks_done_rate": f.tasks_done_rate,
            "delivered_rate": f.delivered_rate}


async def review_figures(*, client_id: int, period_start: date, period_end: date, tz: str, grace: timedelta,
                         now: datetime) -> dict[str, Any]:
    """Every fact a review is pre-filled with, for the period's days (both inclusive), as plain JSON data.

    Stored with the review (what the coordinator saw); calling this again for the same period gives
    the same figures while nobody changes the period's visits.
    """
    start, end = period_bounds(start=period_start, end=period_end, tz=tz)
    active = await plans.plan_in_status(client_id=client_id, status=PlanStatus.active)
    services = await plans.services_of(plan_id=active["id"]) if active else []
    goals = await plans.goals_of(plan_id=active["id"]) if active else []
    notes = await plans.goal_notes_written(client_id=client_id, start=start, end=end)
    by_lineage = {s["lineage"]: s for s in services}
    cancelled: dict[int, list[dict]] = {}
    for row in await cancellations_by_service(client_id=client_id, start=start, end=end):
        cancelled.setdefault(row["lineage"], []).append(
            {"name": row["name"] or "", "role": row["role"] or "", "count": int(row["count"])})
    per_service = []
    for row in await delivery_by_service(client_id=client_id, start=start, end=end, now=now, grace=grace):
        service = by_lineage.get(row["lineage"])
        per_service.append({
            "lineage": row["lineage"], "kind": service["kind"] if service else row["kind"],
            "current": service is not None, "time_range": service["time_range"] if service else "",
            "who": (service["worker_name"] or service["provider_name"]) if service else "",
            "figures": _figures_json(figures.delivery_figures(row)), "cancelled_by": cancelled.get(row["lineage"], []),
        })
    totals = await Visit.raw(
        f"SELECT {{}} FROM visit v JOIN care_service s ON s.id = v.service WHERE {_PERIOD}",
        figures.delivery_columns(now=now, grace=grace), client_id, start, end,
    ).run()
    slots = figures.slots_late_or_missed(
        await late_or_missed_visits(client_id=client_id, start=start, end=end, now=now, grace=grace), tz)
    kinds: dict[str, int] = {}
    for service in services:
        kinds[service["kind"]] = kinds.get(service["kind"], 0) + 1
    return {
        "period": {"start": period_start.isoformat(), "end": period_end.isoformat(), "timezone": tz,
                   "grace_minutes": int(grace.total_seconds() // 60)},
        "services": per_service,
        "total": _figures_json(figures.delivery_figures(totals[0] if totals else None)),
        "slots": [{"weekday": s.weekday, "start": s.start, "late": s.late, "missed": s.missed} for s in slots],
        "goals": [{"description": g["description"], "status": g["status"],
                   "target_date": g["target_date"].isoformat() if g["target_date"] else None,
                   "notes": [{"author": n["author_name"], "written_at": as_utc(n["created_at"]).isoformat(),
                              "written": as_utc(n["created_at"]).astimezone(ZoneInfo(tz)).strftime("%d %b %Y, %H:%M"),
                              "text": n["body"]} for n in notes.get(g["lineage"], [])]} for g in goals],
        "concerns": concern_figures(await concerns_by_severity(client_id=client_id, start=start, end=end)),
        "messages": await message_counts_for(client_id=client_id, start=start, end=end),
        "services_by_kind": [{"kind": k, "count": n} for k, n in sorted(kinds.items())],
        "providers": sorted({s["provider_name"] for s in services if s["provider_name"]}),
        "referrals": [{"agency": r["agency_name"], "reason": r["reason"], "status": r["status"],
                       "outcome": r["outcome"] or "", "made_on": as_utc(r["created_at"]).date().isoformat()}
                      for r in await referrals_for_client(client_id=client_id)
                      if r["created_at"] is not None and start <= as_utc(r["created_at"]) < end],
    }


# --- reviews ------------------------------------------------------------------------------------

_JSON_FIELDS = ("figures", "service_changes", "actions")


def _review_row(row: Optional[dict]) -> Optional[dict]:
    if row is None:
        return None
    for name in _JSON_FIELDS:
        if name in row:
            row[name] = json.loads(row[name] or ("{}" if name == "figures" else "[]"))
    for flag in ("ongoing", "change_plan", "summary_shared"):
        if flag in row:
            row[flag] = bool(row[flag])
    return row


async def reviews_of(*, client_id: int) -> list[dict]:
    return await Review.select(
        Review.id, Review.number, Review.status, Review.period_start, Review.period_end, Review.due_on,
        Review.appropriate, Review.signed_at, Review.signed_by.display_name.as_alias("signed_by_name"),
        Review.summary_shared,
    ).where(Review.client == client_id).order_by(Review.number, ascending=False).run()


_REVIEW = db.Prebuilt(lambda client_id, number: Review.select(
    *Review.all_columns(), Review.signed_by.display_name.as_alias("signed_by_name"),
    Review.created_by.display_name.as_alias("created_by_name"),
).where((Review.client == client_id) & (Review.number == number)).first())


async def review_of(*, client_id: int, number: int) -> Optional[dict]:
    return _review_row(await _REVIEW.first(client_id=client_id, number=number))


async def review_by_id(*, review_id: int) -> Optional[dict]:
    return _review_row(await Review.select(*Review.all_columns(), Review.client.facility.as_alias("facility_id")).where(
        Review.id == review_id).first().run())


async def review_draft_of(*, client_id: int) -> Optional[dict]:
    return await Review.select(Review.id, Review.number).where(
        (Review.client == client_id) & (Review.status == ReviewStatus.draft.value)).first().run()


async def last_finished_review(*, client_id: int) -> Optional[dict]:
    return await Review.select(Review.id, Review.number, Review.period_end, Review.signed_at).where(
        (Review.client == client_id) & (Review.status == ReviewStatus.finished.value)
    ).order_by(Review.number, ascending=False).first().run()


_ADDENDA = db.Prebuilt(lambda review_id: ReviewAddendum.select(
    ReviewAddendum.number, ReviewAddendum.body, ReviewAddendum.created_at,
    ReviewAddendum.author.display_name.as_alias("author_name"),
).where(ReviewAddendum.review == review_id).order_by(ReviewAddendum.number))


async def addenda_of(*, review_id: int) -> list[dict]:
    return await _ADDENDA.rows(review_id=review_id)


async def shared_review_summaries(*, client_id: int) -> list[dict]:
    """Finished reviews whose summary the coordinator shared with the family: the summary only."""
    return await Review.select(Review.number, Review.signed_at, Review.family_summary, Review.next_review_due).where(
        (Review.client == client_id) & (Review.status == ReviewStatus.finished.value)
        & (Review.summary_shared == True)  # noqa: E712
    ).order_by(Review.number, ascending=False).run()


async def review_summary_for(*, user: Principal, relation: ClientRelation, number: int) -> Optional[dict]:
    """A review as the family reads it (its number, when it was signed, the summary and the next review's date),
    once it is finished and the coordinator shared it; None for anyone else, and for any other review."""
    row = await Review.select(
        Review.number, Review.status, Review.summary_shared, Review.signed_at, Review.family_summary,
        Review.next_review_due,
    ).where((Review.client == relation.client_id) & (Review.number == number)).first().run()
    if row is None:
        return None
    shared = row.pop("status") == ReviewStatus.finished.value and bool(row.pop("summary_shared"))
    return row if can_on(user, "client.review.summary", replace(relation, review_shared=shared)) else None


# --- family input -------------------------------------------------------------------------------


def family_input_open(*, review_due: Optional[date], today: date) -> bool:
    """Family members are asked from FAMILY_INPUT_DAYS before the review date until a review takes it in."""
    return review_due is not None and (review_due - today).days <= FAMILY_INPUT_DAYS


async def family_input_of(*, client_id: int, user_id: int, due_on: date) -> Optional[dict]:
    return await FamilyReviewInput.select().where(
        (FamilyReviewInput.client == client_id) & (FamilyReviewInput.user == user_id)
        & (FamilyReviewInput.due_on == due_on)).first().run()


def _answered() -> Any:
    return ((FamilyReviewInput.going_well != "") | (FamilyReviewInput.worries != "")
            | (FamilyReviewInput.change != ""))


def _family_inputs(*, waiting: bool) -> db.Prebuilt:
    """The family's answers a review took in and, with `waiting`, those for its review date it may still take in."""
    def build(client_id, review_id, **due):
        where = FamilyReviewInput.review == review_id
        if waiting:
            where = where | ((FamilyReviewInput.due_on == due["due_on"]) & FamilyReviewInput.review.is_null())
        return FamilyReviewInput.select(
            FamilyReviewInput.id, FamilyReviewInput.going_well, FamilyReviewInput.worries, FamilyReviewInput.change,
            FamilyReviewInput.updated_at, FamilyReviewInput.user.display_name.as_alias("name"),
        ).where((FamilyReviewInput.client == client_id) & where & _answered()).order_by(FamilyReviewInput.id)

    if waiting:
        return db.Prebuilt(lambda client_id, review_id, due_on: build(client_id, review_id, due_on=due_on))
    return db.Prebuilt(lambda client_id, review_id: build(client_id, review_id))


_FAMILY_INPUTS = {waiting: _family_inputs(waiting=waiting) for waiting in (False, True)}


async def family_inputs_for_review(*, client_id: int, due_on: Optional[date], review_id: int) -> list[dict]:
    """The family's answers a review shows: those it took in, or those for its review date still waiting."""
    if due_on is None:
        return await _FAMILY_INPUTS[False].rows(client_id=client_id, review_id=review_id)
    return await _FAMILY_INPUTS[True].rows(client_id=client_id, review_id=review_id, due_on=due_on)


async def family_input_waiting_counts(*, client_ids: list[int]) -> dict[int, int]:
    """Answers from families not yet taken in by a review, per client (one query)."""
    if not client_ids:
        return {}
    rows = await FamilyReviewInput.select(
        FamilyReviewInput.client, QueryString("COUNT(*)").as_alias("count"),
    ).where(FamilyReviewInput.client.is_in(client_ids) & FamilyReviewInput.review.is_null() & _answered()).group_by(
        FamilyReviewInput.client).run()
    return {row["client"]: int(row["count"]) for row in rows}


async def family_input_invitees(*, now: datetime) -> list[dict]:
    """Family members to ask for their view: an active link that shows the schedule, a review date within
    FAMILY_INPUT_DAYS of today and not yet passed, and nobody asked them (no answer row) for that date."""
    today = now.date()
    candidates = await family_with_review_between(start=today, end=today + timedelta(days=FAMILY_INPUT_DAYS))
    if not candidates:
        return []
    asked = {(row["client"], row["user"], row["due_on"]) for row in await FamilyReviewInput.select(
        FamilyReviewInput.client, FamilyReviewInput.user, FamilyReviewInput.due_on).where(
        FamilyReviewInput.client.is_in(sorted({c["client_id"] for c in candidates}))
        & (FamilyReviewInput.due_on >= today)).run()}
    return [c for c in candidates if (c["client_id"], c["user_id"], c["review_due"]) not in asked]
