"""The rules of logging a visit as pure functions: late and missed at their boundaries, the check-in
window, what check-out needs, what a section's form carries back, and who may log or correct (the policy)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app.accounts.tables import Role
from app.policy import VISIT_CORRECTION_WINDOW, can_on
from app.visits.rules import (Attendance, attendance, check_in_problem, check_in_window, check_out_problems,
                              checked_in_late, section_form_base, section_values)
from tests.policy_helpers import Person, relation

LONDON = "Europe/London"
START = datetime(2026, 6, 1, 9, 0, tzinfo=ZoneInfo(LONDON)).astimezone(timezone.utc)
END = START + timedelta(hours=1)
GRACE = timedelta(minutes=30)
SECOND = timedelta(seconds=1)


def state(now: datetime, *, status: str = "scheduled", staffed: bool = True, check_in_at=None, check_out_at=None,
          grace: timedelta = GRACE) -> Attendance:
    return attendance(status=status, staffed=staffed, scheduled_start=START, scheduled_end=END,
                      check_in_at=check_in_at, check_out_at=check_out_at, now=now, grace=grace)


@pytest.mark.parametrize("now, expected", [
    (START - SECOND, Attendance.upcoming),
    (START, Attendance.due),
    (START + GRACE, Attendance.due),  # checked in by start + grace is in time
    (START + GRACE + SECOND, Attendance.late),
    (END, Attendance.late),
    (END + SECOND, Attendance.missed),
])
def test_a_visit_nobody_checked_in_is_late_after_the_grace_time_and_missed_after_its_end(now, expected):
    assert state(now) == expected


def test_without_grace_a_visit_is_late_the_moment_after_it_starts():
    assert state(START, grace=timedelta(0)) == Attendance.due
    assert state(START + SECOND, grace=timedelta(0)) == Attendance.late


def test_a_visit_begun_done_cancelled_or_by_an_outside_provider_is_never_late_or_missed():
    late = END + timedelta(hours=3)
    assert state(late, check_in_at=START + timedelta(hours=2)) == Attendance.in_progress
    assert state(late, check_in_at=START, check_out_at=END) == Attendance.completed
    assert state(late, status="cancelled") == Attendance.cancelled
    assert state(late, staffed=False) == Attendance.not_logged


def test_a_check_in_after_the_grace_time_is_marked_late():
    assert not checked_in_late(scheduled_start=START, check_in_at=START + GRACE, grace=GRACE)
    assert checked_in_late(scheduled_start=START, check_in_at=START + GRACE + SECOND, grace=GRACE)
    assert not checked_in_late(scheduled_start=START, check_in_at=None, grace=GRACE)


def test_check_in_opens_on_the_visits_day_and_closes_when_the_day_it_ends_is_over():
    opens, closes = check_in_window(scheduled_start=START, scheduled_end=END, tz=LONDON)
    assert opens == datetime(2026, 6, 1, 0, 0, tzinfo=ZoneInfo(LONDON))
    assert closes == datetime(2026, 6, 2, 0, 0, tzinfo=ZoneInfo(LONDON))
    just_after_midnight = datetime(2026, 6, 1, 0, 30, tzinfo=ZoneInfo(LONDON)).astimezone(timezone.utc)
    opens, _closes = check_in_window(scheduled_start=just_after_midnight,
                                     scheduled_end=just_after_midnight + timedelta(minutes=30), tz=LONDON)
    assert opens == just_after_midnight - timedelta(hours=2)


def problem(now: datetime, **overrides):
    values = dict(status="scheduled", staffed=True, check_in_at=None, scheduled_start=START, scheduled_end=END,
                  now=now, tz=LONDON)
    values.update(overrides)
    return check_in_problem(**values)


def test_check_in_is_refused_for_cancelled_outside_or_begun_visits_and_outside_the_window():
    midnight = datetime(2026, 6, 1, 0, 0, tzinfo=ZoneInfo(LONDON)).astimezone(timezone.utc)
    assert problem(midnight) is None
    assert problem(midnight - SECOND) is not None
    assert problem(END + timedelta(hours=5)) is None  # late, but the same day: it can still be logged
    assert problem(midnight + timedelta(days=1)) is not None
    assert "cancelled" in problem(START, status="cancelled")
    assert "outside provider" in problem(START, staffed=False)
    assert "already" in problem(START, check_in_at=START)


def log(**overrides) -> dict:
    values = dict(check_in_at=START, check_out_at=None, location="home", location_note="", concern=False,
                  concern_severity="", concern_text="", tasks_done="[]", internal_note="", family_summary="",
                  family_summary_shared=False)
    values.update(overrides)
    return values


def test_check_out_needs_a_check_in_first_and_happens_once():
    assert "Check in first" in check_out_problems(log(check_in_at=None))["check_out"]
    assert "already" in check_out_problems(log(check_out_at=END))["check_out"]
    assert check_out_problems(log()) == {}


def test_check_out_needs_where_the_visit_was_and_a_described_concern():
    assert set(check_out_problems(log(location=""))) == {"location"}
    assert set(check_out_problems(log(location="other", location_note=" "))) == {"location"}
    assert check_out_problems(log(location="other", location_note="Day centre")) == {}
    assert set(check_out_problems(log(concern=True))) == {"concern"}
    assert set(check_out_problems(log(concern=True, concern_severity="high"))) == {"concern"}
    assert check_out_problems(log(concern=True, concern_severity="high", concern_text="A fall")) == {}


def test_a_sections_values_and_what_its_form_carries_back_follow_what_is_stored():
    stored = log(tasks_done='["Wash", "Tea, milk"]', concern=1)
    assert section_values(stored, "tasks") == {"tasks_done": ["Wash", "Tea, milk"]}
    assert section_values(stored, "concern") == {"concern": True, "concern_severity": "", "concern_text": ""}
    assert section_form_base(section_values(stored, "tasks")) == {"tasks_done": '["Wash", "Tea, milk"]'}
    assert section_form_base(section_values(stored, "concern")) == {"concern": "on", "concern_severity": "",
                                                                    "concern_text": ""}


def test_a_worker_logs_their_own_visit_and_corrects_it_for_24_hours_after_check_out():
    worker, checked_out = Person(Role.worker), START + timedelta(hours=1)
    assert can_on(worker, "visit.log", relation(own_visit=True))
    assert not can_on(worker, "visit.log", relation(own_visit=False, team_role="worker"))
    just_before = relation(own_visit=True, visit_checked_out_at=checked_out,
                           now=checked_out + VISIT_CORRECTION_WINDOW - SECOND)
    assert can_on(worker, "visit.log", just_before)
    assert not can_on(worker, "visit.log", relation(own_visit=True, visit_checked_out_at=checked_out,
                                                 now=checked_out + VISIT_CORRECTION_WINDOW))
    assert not can_on(worker, "visit.log", relation(own_visit=True, visit_checked_out_at=checked_out))


def test_a_coordinator_of_the_team_logs_and_corrects_at_any_time_and_nobody_else():
    coordinator = Person(Role.coordinator)
    long_after = relation(team_role="coordinator", visit_checked_out_at=START, now=START + timedelta(days=30))
    assert can_on(coordinator, "visit.log", long_after)
    assert can_on(coordinator, "visit.concern.resolve", long_after)
    assert not can_on(coordinator, "visit.log", relation(break_glass=True))
    assert can_on(coordinator, "visit.log.view", relation(break_glass=True))
    assert not can_on(Person(Role.admin), "visit.log", relation())
    assert can_on(Person(Role.admin), "visit.log.view", relation())
    assert not can_on(Person(Role.worker), "visit.log.view", relation(team_role="worker"))
    assert not can_on(Person(Role.family), "visit.log.view", relation())


def test_free_slots_are_the_gaps_long_enough_between_busy_times():
    from app.visits.rules import free_slots

    def at(hour: int, minute: int = 0) -> datetime:
        return datetime(2026, 6, 1, hour, minute, tzinfo=timezone.utc)

    busy = [(at(9), at(9, 30)), (at(9, 15), at(10)), (at(10, 20), at(11)), (at(20), at(23))]
    assert free_slots(busy=busy, opens=at(7), closes=at(22), minutes=30) == [(at(7), at(9)), (at(11), at(20))]
    assert free_slots(busy=busy, opens=at(7), closes=at(22), minutes=15) == [
        (at(7), at(9)), (at(10), at(10, 20)), (at(11), at(20))]
    assert free_slots(busy=[(at(6), at(23))], opens=at(7), closes=at(22), minutes=5) == []
    assert free_slots(busy=[], opens=at(7), closes=at(22), minutes=30) == [(at(7), at(22))]
