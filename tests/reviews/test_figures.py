"""The figures a review is pre-filled with, against a hand-counted fixture: the grace limit, cancelled
against missed, a visit across midnight and one across the clock change."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.reviews import queries
from app.db import as_utc
from app.visits import figures, rules
from app.visits.tables import Visit
from tests.reviews.factories import (EXPECTED_EVENING, EXPECTED_MEALS, EXPECTED_NIGHT, EXPECTED_TOTAL,
                                     EXPECTED_WASHING, GRACE, NOW, PERIOD, review_fixture)


async def facts(fixture) -> dict:
    return await queries.review_figures(client_id=fixture.client_id, period_start=PERIOD[0], period_end=PERIOD[1],
                                        tz="Europe/London", grace=GRACE, now=NOW)


def only_counts(f: dict) -> dict:
    return {k: v for k, v in f.items() if k not in ("late_rate", "tasks_done_rate", "delivered_rate")}


async def test_each_service_is_counted_as_counted_by_hand():
    fixture = await review_fixture()
    by_lineage = {s["lineage"]: s for s in (await facts(fixture))["services"]}
    assert only_counts(by_lineage[fixture.washing]["figures"]) == EXPECTED_WASHING
    assert only_counts(by_lineage[fixture.evening]["figures"]) == EXPECTED_EVENING
    assert only_counts(by_lineage[fixture.night]["figures"]) == EXPECTED_NIGHT
    assert only_counts(by_lineage[fixture.meals]["figures"]) == EXPECTED_MEALS
    assert set(by_lineage) == {fixture.washing, fixture.evening, fixture.night, fixture.meals}


async def test_the_period_totals_and_rates():
    fixture = await review_fixture()
    total = (await facts(fixture))["total"]
    assert only_counts(total) == EXPECTED_TOTAL
    assert total["late_rate"] == 0.25  # 1 of the 4 checked in
    assert total["tasks_done_rate"] == 0.75
    assert total["delivered_rate"] == pytest.approx(4 / 6)  # 8 planned, 2 cancelled


async def test_a_check_in_exactly_at_the_grace_limit_is_in_time_and_one_second_later_is_late():
    fixture = await review_fixture()
    washing = next(s for s in (await facts(fixture))["services"] if s["lineage"] == fixture.washing)
    assert washing["figures"]["late"] == 1  # 09:30:01, not 09:30:00
    await Visit.update({Visit.check_in_at: datetime(2026, 3, 28, 9, 30, tzinfo=timezone.utc)}).where(
        Visit.id == fixture.visits["late"]).run()
    washing = next(s for s in (await facts(fixture))["services"] if s["lineage"] == fixture.washing)
    assert washing["figures"]["late"] == 0


async def test_cancelled_visits_say_who_cancelled_them_and_are_not_missed():
    fixture = await review_fixture()
    by_lineage = {s["lineage"]: s for s in (await facts(fixture))["services"]}
    assert by_lineage[fixture.washing]["cancelled_by"] == [{"name": "Coordinator", "role": "coordinator", "count": 1}]
    assert by_lineage[fixture.evening]["cancelled_by"] == [{"name": "Admin", "role": "admin", "count": 1}]
    assert by_lineage[fixture.evening]["figures"]["missed"] == 0


async def test_the_slots_most_often_late_or_missed_are_in_local_time_across_the_clock_change():
    fixture = await review_fixture()
    slots = (await facts(fixture))["slots"]
    # Saturday 09:00 GMT late; Monday 09:00 BST (08:00 UTC) missed: both the 09:00 slot.
    assert slots == [{"weekday": 1, "start": "09:00", "late": 0, "missed": 1},
                     {"weekday": 6, "start": "09:00", "late": 1, "missed": 0}]


async def test_concerns_by_severity_open_resolved_and_hours_to_resolution():
    fixture = await review_fixture()
    concerns = (await facts(fixture))["concerns"]
    assert concerns["raised"] == 3 and concerns["resolved"] == 2 and concerns["open"] == 1
    assert concerns["hours_to_resolution"] == 13.0  # (24 + 2) / 2
    assert concerns["by_severity"] == [
        {"severity": "high", "raised": 1, "resolved": 1, "open": 0, "hours_to_resolution": 24.0},
        {"severity": "medium", "raised": 1, "resolved": 1, "open": 0, "hours_to_resolution": 2.0},
        {"severity": "low", "raised": 1, "resolved": 0, "open": 1, "hours_to_resolution": None},
    ]


async def test_goals_treatment_and_providers_come_from_the_active_plan():
    fixture = await review_fixture()
    f = await facts(fixture)
    assert [g["description"] for g in f["goals"]] == ["Stays safe at home", "Walks to the shop"]
    assert f["providers"] == ["Meals on Wheels"]
    assert {k["kind"]: k["count"] for k in f["services_by_kind"]} == {
        "personal_care": 1, "medication_prompt": 1, "nursing": 1, "meals": 1}


async def test_the_same_period_gives_the_same_figures_again():
    fixture = await review_fixture()
    assert await facts(fixture) == await facts(fixture)


async def test_the_sql_states_agree_with_the_visit_rules_visit_by_visit():
    """One definition: the aggregate's missed and late are rules.attendance and rules.checked_in_late."""
    fixture = await review_fixture()
    for now in (NOW, datetime(2026, 3, 30, 8, 20, tzinfo=timezone.utc), datetime(2026, 3, 30, 8, 30, 1,
                                                                                  tzinfo=timezone.utc)):
        rows = await Visit.raw(
            "SELECT v.id, v.status, v.worker, v.scheduled_start, v.scheduled_end, v.check_in_at, v.check_out_at, "
            "CASE WHEN {} THEN 1 ELSE 0 END AS missed, CASE WHEN {} THEN 1 ELSE 0 END AS late FROM visit v",
            figures.missed_sql(now), figures.late_sql(GRACE)).run()
        assert len(rows) == len(fixture.visits)
        for row in rows:
            state = rules.attendance(
                status=row["status"], staffed=row["worker"] is not None,
                scheduled_start=as_utc(row["scheduled_start"]), scheduled_end=as_utc(row["scheduled_end"]),
                check_in_at=as_utc(row["check_in_at"]), check_out_at=as_utc(row["check_out_at"]),
                now=now, grace=GRACE)
            assert bool(row["missed"]) == (state == rules.Attendance.missed), row
            assert bool(row["late"]) == rules.checked_in_late(
                scheduled_start=as_utc(row["scheduled_start"]), check_in_at=as_utc(row["check_in_at"]),
                grace=GRACE), row


def test_a_review_looks_back_from_the_last_review_or_the_plan_start_to_yesterday():
    from datetime import date
    today = date(2026, 6, 10)
    assert queries.review_period(last_period_end=date(2026, 3, 31), plan_starts_on=date(2026, 1, 1),
                                 today=today) == (date(2026, 4, 1), date(2026, 6, 9))
    assert queries.review_period(last_period_end=None, plan_starts_on=date(2026, 1, 1),
                                 today=today) == (date(2026, 1, 1), date(2026, 6, 9))
    # A plan that starts today still gives one day to look back on, not a period that ends before it begins.
    assert queries.review_period(last_period_end=None, plan_starts_on=today, today=today) == (
        date(2026, 6, 9), date(2026, 6, 9))


def test_no_visits_give_no_rates_rather_than_zero_percent():
    empty = figures.delivery_figures(None)
    assert empty.late_rate is None and empty.tasks_done_rate is None and empty.delivered_rate is None
    assert figures.rate(0, 4) == 0.0


def test_a_period_of_local_days_starts_and_ends_at_local_midnight():
    start, end = queries.period_bounds(start=PERIOD[0], end=PERIOD[1], tz="Europe/London")
    assert start == datetime(2026, 3, 27, 0, 0, tzinfo=timezone.utc)  # GMT
    assert end == datetime(2026, 3, 30, 23, 0, tzinfo=timezone.utc)  # midnight BST
    assert end - start == timedelta(days=4, hours=-1)


async def test_referrals_made_in_the_period_are_listed_with_their_outcome():
    from app.liaison.tables import Referral
    from tests.liaison.factories import make_agency, make_referral
    fixture = await review_fixture()
    agency = await make_agency(facility_id=fixture.world.facility, name="Falls clinic")
    inside = await make_referral(client_id=fixture.client_id, agency=agency, status="completed")
    outside = await make_referral(client_id=fixture.client_id, agency=agency, reason="Earlier")
    await Referral.update({Referral.created_at: datetime(2026, 3, 28, 10, tzinfo=timezone.utc),
                           Referral.outcome: "Exercises at home"}).where(Referral.id == inside["id"]).run()
    await Referral.update({Referral.created_at: datetime(2026, 3, 1, 10, tzinfo=timezone.utc)}).where(
        Referral.id == outside["id"]).run()
    assert (await facts(fixture))["referrals"] == [{"agency": "Falls clinic", "reason": "Falls assessment",
                                                    "status": "completed", "outcome": "Exercises at home",
                                                    "made_on": "2026-03-28"}]
