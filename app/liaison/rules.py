"""Rules of liaison as pure functions: the referral's status flow, answer dates, overdue, link life.

The status flow follows the HL7 SDOH Clinical Care referral Task: draft -> sent -> received ->
accepted | declined -> in progress -> completed | cancelled. Declined, completed and cancelled
close the referral: nothing follows them, and the agency's link stops working.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import Enum
from typing import Optional


class ReferralStatus(str, Enum):
    draft = "draft"
    sent = "sent"
    received = "received"
    accepted = "accepted"
    declined = "declined"
    in_progress = "in_progress"
    completed = "completed"
    cancelled = "cancelled"


S = ReferralStatus
TRANSITIONS: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    S.draft: frozenset({S.sent, S.cancelled}),
    S.sent: frozenset({S.received, S.cancelled}),
    S.received: frozenset({S.accepted, S.declined, S.cancelled}),
    S.accepted: frozenset({S.in_progress, S.cancelled}),
    S.in_progress: frozenset({S.completed, S.cancelled}),
    S.declined: frozenset(),
    S.completed: frozenset(),
    S.cancelled: frozenset(),
}
CLOSED = frozenset({S.declined, S.completed, S.cancelled})
# Sent or received but not yet accepted or declined: the referral waits for the agency's answer.
AWAITING_ANSWER = frozenset({S.sent, S.received})
# An outcome is what the agency did (completed) or why it would not (declined).
NEEDS_OUTCOME = frozenset({S.completed, S.declined})
# What the agency may do through its link, from each status.
AGENCY_STEPS: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    S.sent: frozenset({S.received, S.accepted, S.declined}),
    S.received: frozenset({S.accepted, S.declined}),
    S.accepted: frozenset({S.in_progress, S.completed}),
    S.in_progress: frozenset({S.completed}),
}

URGENCY_DAYS = {"urgent": 2, "soon": 7, "routine": 14}
LINK_LIFETIME = timedelta(days=30)


class TransitionRefused(ValueError):
    """This status cannot follow the current one; the message says why, in words."""


def referral_transition(current: str, to: str, *, outcome: str = "") -> ReferralStatus:
    """The status after moving `current` to `to`, or TransitionRefused with the reason."""
    try:
        here, there = ReferralStatus(current), ReferralStatus(to)
    except ValueError:
        raise TransitionRefused("unknown status") from None
    if here in CLOSED:
        raise TransitionRefused("closed")
    if there not in TRANSITIONS[here]:
        raise TransitionRefused("not_next")
    if there in NEEDS_OUTCOME and not outcome.strip():
        raise TransitionRefused("outcome_required")
    return there


def agency_path(current: str, to: str) -> list[ReferralStatus]:
    """The steps the agency's link takes from `current` to `to` (accepting a referral not yet marked
    received marks it received first); empty when the link may not do it."""
    try:
        here, there = ReferralStatus(current), ReferralStatus(to)
    except ValueError:
        return []
    if there not in AGENCY_STEPS.get(here, frozenset()):
        return []
    return _shortest_path(here, there)


def _shortest_path(start: ReferralStatus, goal: ReferralStatus) -> list[ReferralStatus]:
    paths: dict[ReferralStatus, list[ReferralStatus]] = {start: []}
    frontier = [start]
    while frontier:
        following = []
        for status in frontier:
            for step in sorted(TRANSITIONS[status] - {S.cancelled}, key=list(S).index):
                if step not in paths:
                    paths[step] = paths[status] + [step]
                    following.append(step)
        frontier = following
    return paths.get(goal, [])


def expected_answer_default(*, urgency: str, on: date) -> date:
    """When an answer is due if the coordinator does not say: urgency decides how many days."""
    return on + timedelta(days=URGENCY_DAYS.get(urgency, URGENCY_DAYS["routine"]))


def referral_overdue(*, status: str, expected_by: Optional[date], today: date) -> bool:
    """Past its expected answer date and the agency has neither accepted nor declined."""
    return expected_by is not None and status in AWAITING_ANSWER and expected_by < today


def link_open(*, expires_at: Optional[datetime], revoked_at: Optional[datetime], status: str, now: datetime) -> bool:
    """An agency or share link works until it expires, is revoked, or (a referral's) the referral closes."""
    if expires_at is None or revoked_at is not None or now >= expires_at:
        return False
    return status not in {s.value for s in CLOSED}
