"""The referral status flow (HL7 SDOH referral Task) as a pure function, proven over every pair of statuses."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.liaison.rules import (AGENCY_STEPS, CLOSED, TRANSITIONS, ReferralStatus, TransitionRefused, agency_path,
                               expected_answer_default, link_open, referral_overdue, referral_transition)

S = ReferralStatus
# The flow as the HL7 SDOH Clinical Care IG draws it, written out by hand (not derived from the code).
LEGAL = {
    ("draft", "sent"), ("draft", "cancelled"), ("sent", "received"), ("sent", "cancelled"),
    ("received", "accepted"), ("received", "declined"), ("received", "cancelled"),
    ("accepted", "in_progress"), ("accepted", "cancelled"), ("in_progress", "completed"),
    ("in_progress", "cancelled"),
}
statuses = st.sampled_from([s.value for s in S])
texts = st.text(max_size=20)


@given(current=statuses, to=statuses, outcome=texts)
def test_a_transition_is_allowed_exactly_when_the_flow_draws_it(current, to, outcome):
    needs_outcome = to in ("completed", "declined") and not outcome.strip()
    if (current, to) in LEGAL and not needs_outcome:
        assert referral_transition(current, to, outcome=outcome) == S(to)
    else:
        with pytest.raises(TransitionRefused):
            referral_transition(current, to, outcome=outcome)


@given(closed=st.sampled_from(sorted(s.value for s in CLOSED)), to=statuses, outcome=texts)
def test_nothing_follows_a_closed_referral(closed, to, outcome):
    with pytest.raises(TransitionRefused, match="closed"):
        referral_transition(closed, to, outcome=outcome or "x")


@pytest.mark.parametrize("to", ["completed", "declined"])
def test_completing_or_declining_needs_an_outcome(to):
    current = "in_progress" if to == "completed" else "received"
    with pytest.raises(TransitionRefused, match="outcome_required"):
        referral_transition(current, to, outcome="   ")
    assert referral_transition(current, to, outcome="Assessed at home") == S(to)


def test_every_status_is_reachable_from_a_draft_and_every_path_ends_closed():
    reached, frontier = {S.draft}, [S.draft]
    while frontier:
        frontier = [n for s in frontier for n in TRANSITIONS[s] if n not in reached]
        reached.update(frontier)
    assert reached == set(S)
    assert {s for s, following in TRANSITIONS.items() if not following} == set(CLOSED)


@given(current=statuses, to=statuses)
def test_the_agency_link_takes_only_legal_steps_and_never_cancels_or_reopens(current, to):
    path = agency_path(current, to)
    if not path:
        assert S(to) not in AGENCY_STEPS.get(S(current), frozenset())
        return
    assert path[-1] == S(to)
    previous = current
    for step in path:
        assert (previous, step.value) in LEGAL
        previous = step.value
    assert S.cancelled not in path and S.draft not in path and S.sent not in path


@given(urgency=st.sampled_from(["urgent", "soon", "routine"]), on=st.dates(min_value=date(2000, 1, 1),
                                                                           max_value=date(2100, 1, 1)))
def test_the_expected_answer_date_follows_the_urgency(urgency, on):
    days = {"urgent": 2, "soon": 7, "routine": 14}[urgency]
    assert expected_answer_default(urgency=urgency, on=on) == on + timedelta(days=days)


@given(status=statuses, due=st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)),
       today=st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)))
def test_overdue_means_past_the_date_and_still_waiting_for_an_answer(status, due, today):
    assert referral_overdue(status=status, expected_by=due, today=today) == (status in ("sent", "received")
                                                                              and due < today)


@given(offset=st.integers(min_value=-10_000, max_value=10_000), revoked=st.booleans(), status=statuses)
def test_a_link_works_before_expiry_unrevoked_and_while_the_referral_is_open(offset, revoked, status):
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    expires = now + timedelta(seconds=offset)
    works = link_open(expires_at=expires, revoked_at=now if revoked else None, status=status, now=now)
    assert works == (offset > 0 and not revoked and S(status) not in CLOSED)
