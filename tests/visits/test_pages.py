"""The visit pages as people use them: a client's week, my day, the team's week, one visit, the calendar feed."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from app.accounts.tables import Facility, User
from app.audit.tables import AuditEvent
from app.clients.queries import client_relation
from app.policy import Person
from app.visits.queries import FAMILY_WEEK_FIELDS, day_bounds, week_for
from app.visits.services import schedule_sync
from app.visits.tables import Visit
from tests.careplans.factories import add_service, make_plan
from tests.clients.factories import make_world
from tests.conftest import post_form, sign_in

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 6, 1, 7, 0, tzinfo=LONDON).astimezone(timezone.utc)


@pytest.fixture
def monday_morning(fake_clock):
    fake_clock.now = NOW
    return fake_clock


async def planned_world():
    world = await make_world()
    plan = await make_plan(client_id=world.own["id"])
    await add_service(plan_id=plan, worker=world.worker, start_time=time(9), instructions="Wash and dress")
    await add_service(plan_id=plan, worker=world.worker, kind="meals", start_time=time(12, 30),
                      instructions="Soft diet")
    other = await make_plan(client_id=world.others["id"])
    await add_service(plan_id=other, worker=world.worker2, start_time=time(10), instructions="Other's care")
    await schedule_sync(now=NOW)
    return world


def times_in(page: str) -> list[str]:
    return re.findall(r'<span class="time">(\d\d:\d\d)', page)


async def test_the_week_grid_shows_each_day_and_moves_by_week_with_htmx(client, monday_morning):
    world = await planned_world()
    await sign_in(client, world.coordinator)
    page = await client.get(f"/clients/{world.own['id']}/visits")
    assert page.status_code == 200
    assert "Week of 01 Jun 2026" in page.text and page.text.count('class="day') == 7
    assert times_in(page.text).count("09:00") == 7 and times_in(page.text).count("12:30") == 7
    assert 'hx-get="/clients/%d/visits?week=2026-06-08"' % world.own["id"] in page.text
    part = await client.get(f"/clients/{world.own['id']}/visits?week=2026-06-08", headers={"HX-Request": "true"})
    assert part.status_code == 200 and "<html" not in part.text
    assert "Week of 08 Jun 2026" in part.text and times_in(part.text).count("09:00") == 7
    later = await client.get(f"/clients/{world.own['id']}/visits?week=2026-06-22")
    assert "09:00" not in times_in(later.text)  # beyond the 14-day horizon nothing is planned yet


async def test_my_day_lists_todays_visits_in_time_order_with_needs_and_instructions(client, monday_morning):
    world = await planned_world()
    await sign_in(client, world.worker)
    page = await client.get("/my-day")
    assert page.status_code == 200
    assert times_in(page.text) == ["09:00", "12:30"]
    assert "Olive Owens" in page.text and "Penicillin" in page.text
    assert "Wash and dress" in page.text and "Soft diet" in page.text
    assert "Otto" not in page.text and "Other&#39;s care" not in page.text
    tomorrow = await client.get("/my-day?day=2026-06-02", headers={"HX-Request": "true"})
    assert "<html" not in tomorrow.text and times_in(tomorrow.text) == ["09:00", "12:30"]
    viewed = await AuditEvent.select(AuditEvent.detail).where(
        (AuditEvent.action == "client.viewed") & (AuditEvent.client_id == world.own["id"])
        & (AuditEvent.actor_id == world.worker["id"])).run()
    assert any('"page": "my_day"' in v["detail"] for v in viewed)


async def test_the_team_week_shows_who_visits_whom_for_the_coordinators_clients(client, monday_morning):
    world = await planned_world()
    await sign_in(client, world.coordinator)
    page = await client.get("/schedule")
    assert page.status_code == 200
    assert "Olive Owens" in page.text and "Otto Other" not in page.text
    assert "Worker" in page.text and page.text.count('class="visit visit-scheduled"') == 14
    await sign_in(client, world.admin)
    everyone = await client.get("/schedule")
    assert "Olive Owens" in everyone.text and "Otto Other" in everyone.text
    await sign_in(client, world.worker)
    assert (await client.get("/schedule")).status_code == 404


async def test_the_team_week_appears_in_the_access_log_of_each_client_it_showed(client, monday_morning):
    world = await planned_world()
    await sign_in(client, world.coordinator)
    assert (await client.get("/schedule")).status_code == 200
    shown = await AuditEvent.select(AuditEvent.client_id, AuditEvent.detail).where(
        (AuditEvent.action == "client.viewed") & (AuditEvent.actor_id == world.coordinator["id"])).run()
    assert [e["client_id"] for e in shown] == [world.own["id"]] and '"page": "team_week"' in shown[0]["detail"]


async def test_a_coordinator_cancels_one_visit_with_a_reason(client, monday_morning):
    world = await planned_world()
    visit = await Visit.select().where(Visit.client == world.own["id"]).order_by(Visit.scheduled_start).first().run()
    await sign_in(client, world.coordinator)
    assert (await client.get(f"/visits/{visit['id']}")).status_code == 200
    refused = await post_form(client, f"/visits/{visit['id']}/cancel", {"reason": "", "version": "1"})
    assert refused.status_code == 422 and 'id="reason-error"' in refused.text
    done = await post_form(client, f"/visits/{visit['id']}/cancel", {"reason": "In hospital", "version": "1"})
    assert done.status_code == 303
    stored = await Visit.select().where(Visit.id == visit["id"]).first().run()
    assert stored["status"] == "cancelled" and stored["cancel_reason"] == "In hospital"
    assert stored["cancelled_by"] == world.coordinator["id"]
    stale = await post_form(client, f"/visits/{visit['id']}/restore", {"version": "1"})
    assert stale.status_code == 409
    assert (await post_form(client, f"/visits/{visit['id']}/restore", {"version": "2"})).status_code == 303
    assert await AuditEvent.exists().where((AuditEvent.action == "visit.cancelled")
                                           & (AuditEvent.client_id == world.own["id"])).run()


async def test_giving_a_visit_to_a_busy_worker_warns_of_the_double_booking(client, monday_morning):
    world = await planned_world()
    # worker2 visits Otto at 10:00; Olive's 09:00 visit lasts until 09:30, so make it overlap.
    visit = await Visit.select().where(Visit.client == world.own["id"]).order_by(Visit.scheduled_start).first().run()
    await Visit.update({Visit.scheduled_end: visit["scheduled_start"] + timedelta(minutes=90)}).where(
        Visit.id == visit["id"]).run()
    await sign_in(client, world.coordinator)
    warned = await post_form(client, f"/visits/{visit['id']}/reassign",
                             {"worker_id": str(world.worker2["id"]), "version": "1"})
    assert warned.status_code == 409
    # When the worker is busy, never whom with: Otto is another coordinator's client.
    assert "has another visit at this time" in warned.text and "Otto" not in warned.text
    assert "10:00–10:30 busy" in warned.text
    assert (await Visit.select(Visit.worker).where(Visit.id == visit["id"]).first().run())["worker"] == world.worker["id"]
    confirmed = await post_form(client, f"/visits/{visit['id']}/reassign",
                                {"worker_id": str(world.worker2["id"]), "version": "1", "double_booking_ok": "yes"})
    assert confirmed.status_code == 303
    stored = await Visit.select().where(Visit.id == visit["id"]).first().run()
    assert stored["worker"] == world.worker2["id"] and stored["reassigned"]
    week = await client.get(f"/clients/{world.own['id']}/visits")
    assert "double-booked" in week.text


async def test_my_day_flags_a_visit_that_overlaps_a_long_one_begun_the_day_before(client, monday_morning):
    """The clash read is bounded by the longest a visit may last: a visit of nearly that length, begun at
    10:00 the day before, still marks today's 09:00 visit it runs into."""
    world = await planned_world()
    long_one = await Visit.select(Visit.id, Visit.scheduled_start).where(
        Visit.client == world.others["id"]).order_by(Visit.scheduled_start).first().run()
    nine = long_one["scheduled_start"] - timedelta(hours=1)  # Otto's 10:00 visit, today
    await Visit.update({Visit.worker: world.worker["id"], Visit.scheduled_start: nine - timedelta(hours=23),
                        Visit.scheduled_end: nine + timedelta(minutes=15)}).where(Visit.id == long_one["id"]).run()
    await sign_in(client, world.worker)
    page = (await client.get("/my-day")).text
    [nine_card] = re.findall(r'<article id="visit-card-\d+".*?</article>', page, re.S)[:1]
    assert "09:00" in nine_card and "double-booked" in nine_card
    assert page.count("double-booked") == 1  # 12:30 is clear


async def test_workers_and_family_cannot_change_visits(client, monday_morning):
    world = await planned_world()
    visit = await Visit.select().where(Visit.client == world.own["id"]).first().run()
    for person in (world.worker, world.family, world.coordinator2):
        await sign_in(client, person)
        response = await post_form(client, f"/visits/{visit['id']}/cancel", {"reason": "x", "version": "1"})
        assert response.status_code == 404
    assert (await Visit.select(Visit.status).where(Visit.id == visit["id"]).first().run())["status"] == "scheduled"


async def test_a_worker_subscribes_to_a_calendar_that_holds_first_names_and_service_kinds_only(client, monday_morning):
    world = await planned_world()
    await sign_in(client, world.worker)
    page = await post_form(client, "/my-day/calendar", {})
    assert page.status_code == 201 or page.status_code == 200
    url = re.search(r'value="(http[^"]+\.ics)"', page.text).group(1)
    feed_path = url.split("testserver.local", 1)[1]
    client.cookies.clear()
    feed = await client.get(feed_path)
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    body = feed.text
    assert "BEGIN:VCALENDAR" in body and "SUMMARY:Personal care: Olive" in body and "SUMMARY:Meals: Olive" in body
    assert "DTSTART:20260601T080000Z" in body
    for secret in ("Owens", "Example Street", "Penicillin", "Wash and dress", "Otto"):
        assert secret not in body
    await sign_in(client, world.worker)
    assert (await post_form(client, "/my-day/calendar/revoke", {})).status_code == 303
    client.cookies.clear()
    assert (await client.get(feed_path)).status_code == 404
    assert (await client.get("/calendar/not-a-token.ics")).status_code == 404


async def test_the_calendar_feed_parses_its_uids_name_this_installation_and_a_change_raises_the_sequence(
        client, monday_morning):
    world = await planned_world()
    await sign_in(client, world.worker)
    page = await post_form(client, "/my-day/calendar", {})
    feed_path = re.search(r'value="http://testserver\.local(/calendar/[^"]+\.ics)"', page.text).group(1)

    async def events() -> dict:
        client.cookies.clear()
        feed = await client.get(feed_path)
        assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
        return {str(event["uid"]): event for event in Calendar.from_ical(feed.content).walk("VEVENT")}

    before = await events()
    assert len(before) >= 14 and all(uid.endswith("@testserver.local") for uid in before)
    assert {int(event["sequence"]) for event in before.values()} == {0}
    visit = await Visit.select(Visit.id, Visit.version).where(Visit.client == world.own["id"]).order_by(
        Visit.scheduled_start).first().run()
    await sign_in(client, world.coordinator)
    cancelled = await post_form(client, f"/visits/{visit['id']}/cancel",
                                {"reason": "In hospital", "version": str(visit["version"])})
    assert cancelled.status_code == 303, cancelled.text
    after = (await events())[f"visit-{visit['id']}@testserver.local"]
    assert int(after["sequence"]) == 1 and str(after["status"]) == "CANCELLED"


async def test_only_workers_have_a_calendar_link(client):
    world = await make_world()
    for person in (world.coordinator, world.family, world.admin):
        await sign_in(client, person)
        assert (await client.get("/my-day/calendar")).status_code == 404


async def test_the_caseload_shows_the_next_visit(client, monday_morning):
    world = await planned_world()
    await sign_in(client, world.coordinator)
    page = await client.get("/caseload")
    assert "Mon 01 Jun 09:00" in page.text  # the next visit, one short line: within the planning horizon


async def first_week_of_june(person: dict, *, client_id: int) -> list[dict]:
    """The client's visits of 1 to 7 June from the selector, as this person may see them."""
    viewer = Person(id=person["id"], facility_id=person["facility_id"], role=person["role"])
    relation = await client_relation(user=viewer, client_id=client_id, today=date(2026, 6, 1))
    start, end = day_bounds(date(2026, 6, 1), "Europe/London")[0], day_bounds(date(2026, 6, 7), "Europe/London")[1]
    return await week_for(user=viewer, relation=relation, start=start, end=end, now=NOW,
                          grace=timedelta(minutes=Facility.visit_grace_minutes.default))


async def test_a_family_relations_week_from_the_selector_carries_no_instructions_reasons_or_surnames(monday_morning):
    """The privacy of the family's week is the selector's: a page that forgets to redact still cannot leak."""
    world = await planned_world()
    await User.update({User.display_name: "Wendy Worker"}).where(User.id == world.worker["id"]).run()
    first = await Visit.select(Visit.id).where(Visit.client == world.own["id"]).order_by(Visit.scheduled_start).first().run()
    await Visit.update({Visit.status: "cancelled", Visit.cancel_reason: "In hospital"}).where(
        Visit.id == first["id"]).run()

    async def week(person: dict) -> list[dict]:
        return await first_week_of_june(person, client_id=world.own["id"])

    team, family = await week(world.coordinator), await week(world.family)
    assert len(family) == len(team) == 14
    assert {v["instructions"] for v in team} == {"Wash and dress", "Soft diet"}
    assert any(v["cancel_reason"] == "In hospital" for v in team) and team[0]["worker_name"] == "Wendy Worker"
    for visit in family:
        assert not {"instructions", "task_list", "cancel_reason", "double_booked"} & set(visit)
        assert visit["worker_name"] == "Wendy"
        assert "Worker" not in repr(visit) and "Wash and dress" not in repr(visit) and "Owens" not in repr(visit)
    assert await week(world.family2) == []  # no link to this client: nothing at all


async def test_a_family_relations_week_carries_only_the_fields_the_family_is_shown(monday_morning):
    """No worker id, check-in or check-out time, visit id or version reaches the family's page to be shown by mistake."""
    world = await planned_world()
    first = await Visit.select(Visit.id).where(Visit.client == world.own["id"]).order_by(Visit.scheduled_start).first().run()
    await Visit.update({Visit.check_in_at: NOW}).where(Visit.id == first["id"]).run()
    team = await first_week_of_june(world.coordinator, client_id=world.own["id"])
    family = await first_week_of_june(world.family, client_id=world.own["id"])
    assert team[0]["check_in_at"] is not None and team[0]["worker_id"] == world.worker["id"] and team[0]["may_open"]
    assert family and all(set(visit) == set(FAMILY_WEEK_FIELDS) for visit in family)
    for absent in ("id", "worker_id", "check_in_at", "check_out_at", "version", "client", "service_id"):
        assert absent not in FAMILY_WEEK_FIELDS
    assert family[0]["state"] == team[0]["state"] == "in_progress" and not any(v["may_open"] for v in family)
