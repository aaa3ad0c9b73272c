"""Every place that shows a visit shows its derived state (late and missed are derived, never stored), and a
worker's day opens at the visit they are at or going to next, with the visits that are over folded to a line."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta, timezone

from app.visits import rules
from app.visits.services import schedule_sync
from app.visits.tables import Visit
from tests.careplans.factories import add_service, make_plan
from tests.clients.factories import make_world
from tests.conftest import login, post_form
from tests.visits.conftest import MONDAY_MORNING
from tests.visits.test_logging import HX, LONDON, check_in, logging_world

T = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def test_the_current_visit_is_the_one_under_way_before_any_still_to_come():
    A = rules.Attendance
    day = [(1, A.missed, T - timedelta(hours=3)), (2, A.in_progress, T + timedelta(minutes=10)),
           (3, A.upcoming, T + timedelta(hours=2))]
    assert rules.current_visit(day, now=T) == 2
    assert rules.current_visit([day[0], day[2]], now=T) == 3
    assert rules.current_visit([(4, A.late, T), day[2]], now=T) == 4
    assert rules.current_visit([day[0], (5, A.completed, T - timedelta(hours=1))], now=T) is None


def test_the_state_of_a_visit_row_is_derived_from_its_times_and_the_grace():
    row = {"status": "scheduled", "worker_id": 7, "scheduled_start": T, "scheduled_end": T + timedelta(hours=1),
           "check_in_at": None, "check_out_at": None}
    grace = timedelta(minutes=30)
    assert rules.visit_state(row, now=T - timedelta(minutes=1), grace=grace) is rules.Attendance.upcoming
    assert rules.visit_state(row, now=T + timedelta(minutes=31), grace=grace) is rules.Attendance.late
    assert rules.visit_state(row, now=T + timedelta(hours=2), grace=grace) is rules.Attendance.missed
    assert rules.visit_state({**row, "check_in_at": T}, now=T + timedelta(hours=2), grace=grace) \
        is rules.Attendance.in_progress
    assert rules.visit_state({**row, "worker_id": None}, now=T + timedelta(hours=2), grace=grace) \
        is rules.Attendance.not_logged


def state_badges(html: str) -> list[str]:
    return re.findall(r'<span class="badge attendance-([a-z_]+)">', html)


async def test_a_missed_visit_shows_as_missed_wherever_the_visit_is_shown(client, monday_morning):
    world, visit = await logging_world()
    monday_morning.advance(hours=4)  # 11:00: nobody checked in to Olive's 09:00-10:00 visit
    await login(client, world.coordinator)
    for url in ("/schedule", f"/clients/{world.own['id']}/visits", f"/visits/{visit['id']}"):
        page = await client.get(url)
        assert page.status_code == 200, url
        assert "missed" in state_badges(page.text), url
    header = re.search(r'<span id="visit-state">(.*?)</span>\s*</span>', (await client.get(f"/visits/{visit['id']}")).text, re.S)
    assert header and "Missed" in header.group(1)
    # Nothing is stored: the visit is still "scheduled", and the worker's day says "missed" too.
    assert (await Visit.select(Visit.status).where(Visit.id == visit["id"]).first().run())["status"] == "scheduled"
    await login(client, world.worker)
    assert "missed" in state_badges((await client.get("/my-day")).text)


async def test_check_in_and_check_out_update_the_visit_headers_state_in_place(client, monday_morning):
    world, visit = await logging_world()
    monday_morning.advance(hours=2, minutes=10)
    await login(client, world.worker)
    checked_in = await check_in(client, visit, headers=HX)
    assert re.search(r'<span id="visit-state" hx-swap-oob="true"><span class="badge attendance-in_progress">',
                     checked_in.text)
    await post_form(client, f"/visits/{visit['id']}/log/location",
                    {"location": "home", "location_note": "", "base.location": "", "base.location_note": ""},
                    headers=HX)
    out = await post_form(client, f"/visits/{visit['id']}/check-out", {"key": "check-out-key-123456789"}, headers=HX)
    assert out.status_code == 200
    assert re.search(r'<span id="visit-state" hx-swap-oob="true"><span class="badge attendance-completed">', out.text)
    # A page load has the header once, and no out-of-band copy.
    page = (await client.get(f"/visits/{visit['id']}")).text
    assert page.count('id="visit-state"') == 1 and "hx-swap-oob" not in page.split('id="visit-log"')[0]


async def test_my_day_opens_at_the_current_visit_and_folds_the_ones_that_are_over(client, monday_morning):
    world = await make_world()
    plan = await make_plan(client_id=world.own["id"])
    for hour in (8, 11, 15):
        await add_service(plan_id=plan, worker=world.worker, start_time=time(hour), duration_minutes=60)
    await schedule_sync(now=MONDAY_MORNING, horizon_days=1)
    monday_morning.advance(hours=4, minutes=20)  # 11:20: the 08:00 visit was missed, the 11:00 one is due
    await login(client, world.worker)
    page = (await client.get("/my-day")).text
    cards = re.findall(r'<article id="visit-card-(\d+)" class="visit-card[^"]*"[^>]*>', page)
    lines = re.findall(r'<li class="visit-line[^"]*">', page)
    assert len(cards) == 2 and len(lines) == 1  # 11:00 and 15:00 in full, 08:00 on one line
    [current] = re.findall(r'<article id="visit-card-(\d+)"[^>]*data-open-here', page)
    eleven = datetime(2026, 6, 1, 11, 0, tzinfo=LONDON).astimezone(timezone.utc)
    stored = await Visit.select(Visit.id).where(Visit.scheduled_start == eleven).first().run()
    assert int(current) == stored["id"]
    assert f'href="#visit-card-{current}"' in page  # the skip link to it comes first
    assert page.index(f'href="#visit-card-{current}"') < page.index('class="visit-line')
    # Another day opens nowhere in particular.
    assert "data-open-here" not in (await client.get("/my-day?day=2026-06-02")).text
