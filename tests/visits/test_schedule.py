"""Schedule expansion and reconciliation, as pure functions: properties that hold for any rule and any day."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings, strategies as st

from app.careplans.schedule import (CHANGEABLE_STATUSES, PlannedVisit, ServiceRule, StoredVisit, _naive_visits,
                                 double_booked, expand, rules_overlap, schedule_changes, slot_on)

ZONES = ("Europe/London", "America/New_York", "Australia/Sydney", "Europe/Berlin", "Asia/Kolkata", "UTC")
# Days around the 2026 clock changes in both hemispheres.
DST_DAYS = st.dates(min_value=date(2026, 3, 1), max_value=date(2026, 4, 30)) | \
    st.dates(min_value=date(2026, 9, 20), max_value=date(2026, 11, 15))

weekdays = st.frozensets(st.integers(min_value=1, max_value=7), min_size=1)
times = st.builds(time, st.integers(min_value=0, max_value=23), st.sampled_from([0, 15, 30, 45]))
durations = st.integers(min_value=1, max_value=240)


@st.composite
def rules(draw, first=date(2026, 3, 1), span=90):
    starts_on = draw(st.dates(min_value=first, max_value=first + timedelta(days=span)))
    ends_on = draw(st.none() | st.dates(min_value=starts_on, max_value=starts_on + timedelta(days=span)))
    return ServiceRule(weekdays=draw(weekdays), start_time=draw(times), duration_minutes=draw(durations),
                       starts_on=starts_on, ends_on=ends_on)


def local_time_exists(day: date, at: time, tz: str) -> bool:
    local = datetime.combine(day, at, tzinfo=ZoneInfo(tz))
    return local.astimezone(timezone.utc).astimezone(ZoneInfo(tz)).replace(tzinfo=None) == local.replace(tzinfo=None)


# --- expansion ------------------------------------------------------------------------------


@given(rule=rules(), first=DST_DAYS, days=st.integers(min_value=0, max_value=40), tz=st.sampled_from(ZONES))
def test_expansion_respects_weekdays_and_the_start_and_end_dates(rule, first, days, tz):
    last = first + timedelta(days=days)
    slots = expand(rule, first, last, tz)
    for slot in slots:
        day = slot.local_start.date()  # these zones change their clocks at night, never across midnight
        assert max(first, rule.starts_on) <= day <= min(last, rule.ends_on or date.max)
        assert day.isoweekday() in rule.weekdays
    expected_days = [d for d in (first + timedelta(days=n) for n in range(days + 1))
                     if d.isoweekday() in rule.weekdays and rule.starts_on <= d <= (rule.ends_on or date.max)]
    assert len(slots) == len(expected_days)
    assert slots == sorted(slots) and len({s.start for s in slots}) == len(slots)


@given(first=DST_DAYS, tz=st.sampled_from(ZONES), at=times, duration=durations)
def test_a_visit_keeps_its_local_time_on_both_sides_of_a_clock_change(first, tz, at, duration):
    rule = ServiceRule(weekdays=frozenset(range(1, 8)), start_time=at, duration_minutes=duration, starts_on=first)
    for slot in expand(rule, first, first + timedelta(days=30), tz):
        if local_time_exists(slot.local_start.date(), at, tz):
            assert slot.local_start.time() == at
        assert slot.start.tzinfo == timezone.utc
        assert slot.end - slot.start == timedelta(minutes=duration)


def test_nine_oclock_in_london_is_0900_local_across_both_2026_clock_changes():
    rule = ServiceRule(weekdays=frozenset(range(1, 8)), start_time=time(9), duration_minutes=30,
                       starts_on=date(2026, 3, 28))
    spring = expand(rule, date(2026, 3, 28), date(2026, 3, 30), "Europe/London")
    assert [s.local_start.strftime("%d %H:%M") for s in spring] == ["28 09:00", "29 09:00", "30 09:00"]
    assert [s.start.hour for s in spring] == [9, 8, 8]  # GMT, then BST (UTC+1)
    autumn = expand(replace(rule, starts_on=date(2026, 10, 24)), date(2026, 10, 24), date(2026, 10, 26),
                    "Europe/London")
    assert [s.local_start.strftime("%d %H:%M") for s in autumn] == ["24 09:00", "25 09:00", "26 09:00"]
    assert [s.start.hour for s in autumn] == [8, 9, 9]


def test_a_time_skipped_by_the_clocks_moves_forward_and_a_repeated_time_is_the_first():
    skipped = slot_on(date(2026, 3, 29), time(1, 30), 30, "Europe/London")
    assert skipped.local_start.strftime("%H:%M") == "02:30"
    repeated = slot_on(date(2026, 10, 25), time(1, 30), 30, "Europe/London")
    assert repeated.local_start.strftime("%H:%M %Z") == "01:30 BST"


@given(rule=rules(), first=DST_DAYS)
def test_the_last_day_is_included_and_nothing_after_the_end_date(rule, first):
    slots = expand(rule, rule.starts_on, rule.starts_on + timedelta(days=60), "Europe/London")
    if rule.ends_on is not None:
        assert all(s.local_start.date() <= rule.ends_on for s in slots)
        if rule.ends_on.isoweekday() in rule.weekdays and rule.ends_on <= rule.starts_on + timedelta(days=60):
            assert any(s.local_start.date() == rule.ends_on for s in slots) or \
                not local_time_exists(rule.ends_on, rule.start_time, "Europe/London")


# --- keeping visits in step ---------------------------------------------------------------------


def planned_for(rule: ServiceRule, *, lineage: int = 1, service_id: int = 1, worker_id=7, first=date(2026, 3, 20),
                days=20, tz="Europe/London") -> list[PlannedVisit]:
    return [PlannedVisit(lineage=lineage, service_id=service_id, client_id=3, worker_id=worker_id, start=s.start,
                         end=s.end) for s in expand(rule, first, first + timedelta(days=days), tz)]


def apply(stored: list[StoredVisit], changes, lineage_of: dict[int, int]) -> list[StoredVisit]:
    """What the database holds after the changes (as visits.services writes them)."""
    deleted = set(changes.delete)
    result = []
    for visit in stored:
        if visit.id in deleted:
            continue
        values = changes.update.get(visit.id, {})
        visit = replace(visit, service_id=values.get("service_id", visit.service_id),
                        end=values.get("end", visit.end), worker_id=values.get("worker_id", visit.worker_id))
        result.append(replace(visit, lineage=lineage_of[visit.service_id]))
    next_id = max([v.id for v in stored], default=0) + 1
    for n, plan in enumerate(changes.insert):
        result.append(StoredVisit(id=next_id + n, lineage=plan.lineage, service_id=plan.service_id,
                                  worker_id=plan.worker_id, start=plan.start, end=plan.end, status="scheduled"))
    return result


def slots_of(stored: list[StoredVisit]) -> list[tuple]:
    return [(v.service_id, v.start) for v in stored]


moments = st.datetimes(min_value=datetime(2026, 3, 15), max_value=datetime(2026, 4, 15), timezones=st.just(timezone.utc))


@given(rule=rules(first=date(2026, 3, 10), span=30), now=moments)
def test_generating_twice_plans_nothing_twice(rule, now):
    planned = planned_for(rule)
    first = apply([], schedule_changes(planned=planned, stored=[], now=now), {1: 1})
    again = schedule_changes(planned=planned, stored=first, now=now)
    assert not again
    assert len(set(slots_of(first))) == len(first)
    assert all(v.start > now for v in first)
    assert sorted(v.start for v in first) == sorted(p.start for p in planned if p.start > now)


@given(old=rules(first=date(2026, 3, 10), span=30), new=rules(first=date(2026, 3, 10), span=30), now=moments,
       statuses=st.lists(st.sampled_from(["scheduled", "in_progress", "completed", "missed", "cancelled"]),
                         min_size=40, max_size=40),
       new_worker=st.sampled_from([7, 8, None]), same_lineage=st.booleans())
@settings(max_examples=200)
def test_changing_a_service_changes_only_visits_that_have_not_started(old, new, now, statuses, new_worker,
                                                                      same_lineage):
    # Visits of the old service, some already begun or logged, some in the past.
    before = [StoredVisit(id=n + 1, lineage=1, service_id=1, worker_id=p.worker_id, start=p.start, end=p.end,
                          status=statuses[n % len(statuses)])
              for n, p in enumerate(planned_for(old))]
    # The new plan version's service: same lineage (edited) or a new one (the old one ended).
    lineage = 1 if same_lineage else 2
    planned = planned_for(new, lineage=lineage, service_id=2, worker_id=new_worker)
    stored_after_now = [v for v in before if v.start > now]
    changes = schedule_changes(planned=planned, stored=stored_after_now, now=now)
    after = apply(before, changes, {1: 1, 2: lineage})
    untouched = {v.id: v for v in before if v.start <= now or v.status not in CHANGEABLE_STATUSES}
    for visit in after:
        if visit.id in untouched:
            assert visit == replace(untouched[visit.id], lineage=visit.lineage)
    assert set(untouched) <= {v.id for v in after}
    future = [v for v in after if v.start > now]
    taken = {(v.lineage, v.start) for v in future if v.status not in CHANGEABLE_STATUSES}
    changeable = [v for v in future if v.status in CHANGEABLE_STATUSES]
    assert sorted(v.start for v in changeable) == sorted(
        p.start for p in planned if p.start > now and (p.lineage, p.start) not in taken)
    assert all(v.service_id == 2 and (v.worker_id == new_worker or v.status == "cancelled") and v.end - v.start == timedelta(
        minutes=new.duration_minutes) for v in changeable)
    assert not schedule_changes(planned=planned, stored=[v for v in after if v.start > now], now=now)


def test_a_cancelled_visit_stays_cancelled_and_a_reassigned_one_keeps_its_worker():
    rule = ServiceRule(weekdays=frozenset({1, 2, 3, 4, 5}), start_time=time(9), duration_minutes=30,
                       starts_on=date(2026, 3, 23))
    planned = planned_for(rule, first=date(2026, 3, 23), days=4)
    stored = [StoredVisit(id=1, lineage=1, service_id=1, worker_id=7, start=planned[0].start, end=planned[0].end,
                          status="cancelled"),
              StoredVisit(id=2, lineage=1, service_id=1, worker_id=9, start=planned[1].start, end=planned[1].end,
                          status="scheduled", reassigned=True)]
    changed = [replace(p, worker_id=8) for p in planned]
    changes = schedule_changes(planned=changed, stored=stored, now=datetime(2026, 3, 22, tzinfo=timezone.utc))
    assert changes.delete == [] and 1 not in changes.update and 2 not in changes.update
    assert [p.start for p in changes.insert] == [p.start for p in planned[2:]]


def test_a_service_that_ends_removes_its_future_visits_only():
    rule = ServiceRule(weekdays=frozenset(range(1, 8)), start_time=time(9), duration_minutes=30,
                       starts_on=date(2026, 3, 23))
    planned = planned_for(rule, first=date(2026, 3, 23), days=6)
    stored = [StoredVisit(id=n + 1, lineage=1, service_id=1, worker_id=7, start=p.start, end=p.end,
                          status="completed" if n < 2 else "scheduled") for n, p in enumerate(planned)]
    now = planned[3].start  # the fourth visit is due now: it has started, or is about to
    changes = schedule_changes(planned=[], stored=[v for v in stored if v.start > now], now=now)
    assert changes.delete == [5, 6, 7] and not changes.insert and not changes.update


# --- overlapping services and double bookings ---------------------------------------------------


@given(a=rules(first=date(2026, 3, 1), span=20), b=rules(first=date(2026, 3, 1), span=20))
@settings(max_examples=300)
def test_overlapping_rules_are_found_exactly(a, b):
    first = max(a.starts_on, b.starts_on)
    last = min(a.ends_on or date.max, b.ends_on or date.max)
    brute = False
    if first <= last:
        window_end = min(last, first + timedelta(days=16))
        visits_a = _naive_visits(a, first - timedelta(days=1), window_end)
        visits_b = _naive_visits(b, first - timedelta(days=1), window_end)
        brute = any(sa < eb and sb < ea for sa, ea in visits_a for sb, eb in visits_b)
    assert rules_overlap(a, b) == brute == rules_overlap(b, a)


def test_a_visit_running_past_midnight_overlaps_the_next_mornings():
    late = ServiceRule(weekdays=frozenset({7}), start_time=time(23, 30), duration_minutes=60,
                       starts_on=date(2026, 3, 1))
    early = ServiceRule(weekdays=frozenset({1}), start_time=time(0, 15), duration_minutes=15,
                        starts_on=date(2026, 3, 1))
    assert rules_overlap(late, early)
    assert not rules_overlap(late, replace(early, start_time=time(0, 30)))


def test_double_bookings_are_the_overlapping_visits_of_one_worker():
    at = datetime(2026, 3, 23, 9, tzinfo=timezone.utc)
    visits = [(1, 7, at, at + timedelta(minutes=60)), (2, 7, at + timedelta(minutes=30), at + timedelta(minutes=45)),
              (3, 7, at + timedelta(minutes=60), at + timedelta(minutes=90)), (4, 8, at, at + timedelta(minutes=60)),
              (5, None, at, at + timedelta(minutes=60))]
    assert double_booked(visits) == {1, 2}
