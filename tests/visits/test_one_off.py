"""One-off changes to the schedule: a coordinator moves one visit (time and worker, clash-checked) or adds an
extra visit for a service of the active plan; both audited, both seen by the family, neither undone by the
schedule keeper."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime, timedelta, timezone

from app.audit.tables import AuditEvent
from app.careplans.schedule import PlannedVisit, StoredVisit, schedule_changes
from app.visits.services import schedule_sync
from app.visits.tables import Visit
from tests.conftest import post_form, sign_in
from tests.visits.test_logging import LONDON, NINE, NOW, logging_world, stored
from tests.web.test_double_submit import TIMES, browsers, close_all

HALF_EIGHT = datetime(2026, 6, 1, 8, 30, tzinfo=LONDON).astimezone(timezone.utc)


def error_of(page: str, name: str) -> str:
    found = re.search(rf'id="{name}-error">([^<]*)<', page)
    return found.group(1) if found else ""


async def move(client, visit: dict, data: dict):
    return await post_form(client, f"/visits/{visit['id']}/move", {"version": str(visit["version"]), **data})


async def audited(action: str) -> list[dict]:
    rows = await AuditEvent.select(AuditEvent.client_id, AuditEvent.detail).where(AuditEvent.action == action).run()
    return [{**row, "detail": json.loads(row["detail"])} for row in rows]


async def test_a_moved_visit_stays_where_it_was_put_and_the_family_sees_the_new_time(client, monday_morning):
    world, visit = await logging_world()
    await sign_in(client, world.coordinator)
    done = await move(client, visit, {"move_day": "2026-06-01", "move_time": "08:30",
                                      "move_worker": str(world.worker["id"])})
    assert done.status_code == 303
    row = await stored(visit)
    assert row["scheduled_start"] == HALF_EIGHT and row["scheduled_end"] == HALF_EIGHT + timedelta(hours=1)
    assert row["moved_from"] == NINE and row["worker"] == world.worker["id"] and not row["reassigned"]
    [event] = await audited("visit.moved")
    assert event["client_id"] == world.own["id"] and event["detail"]["to"] == HALF_EIGHT.isoformat()
    # The keeper, before and after the new time, plans no 09:00 visit again and leaves the moved one be.
    for minutes in (0, 100):
        await schedule_sync(now=NOW + timedelta(minutes=minutes), horizon_days=2)
        today = await Visit.select(Visit.id, Visit.scheduled_start).where(
            (Visit.client == world.own["id"]) & (Visit.scheduled_start < NINE + timedelta(hours=12))).run()
        assert today == [{"id": visit["id"], "scheduled_start": HALF_EIGHT}]
    await sign_in(client, world.family)
    home = (await client.get("/family")).text
    assert "Mon 01 Jun, 08:30–09:30" in home and "moved from Mon 01 Jun, 09:00" in home


async def test_moving_a_visit_refuses_bad_input_next_to_the_field_and_keeps_it(client, monday_morning):
    world, visit = await logging_world()
    await sign_in(client, world.coordinator)
    for data, field, message in (
        ({"move_day": "2026-02-30", "move_time": "08:30"}, "move_day", "Enter the day"),
        ({"move_day": "", "move_time": "08:30"}, "move_day", "Say on which day"),
        ({"move_day": "2026-06-01", "move_time": "25:00"}, "move_time", "Enter the time"),
        ({"move_day": "2026-06-01", "move_time": "06:00"}, "move_time", "That time has passed"),
        ({"move_day": "2026-06-01", "move_time": "09:00"}, "move_day", "That is when the visit is now"),
        ({"move_day": "2026-06-02", "move_time": "09:00"}, "move_time", "already has a visit at that time"),
        ({"move_day": "2026-06-01", "move_time": "08:30", "move_worker": "999999"}, "move_worker", "Choose one"),
    ):
        refused = await move(client, visit, data)
        assert refused.status_code == 422, data
        assert message in error_of(refused.text, field), (data, refused.text[:0])
        assert f'href="#{field}"' in refused.text  # the error summary links to the field
        assert f'value="{data["move_day"]}"' in refused.text  # what was typed is kept
    row = await stored(visit)
    assert row["scheduled_start"] == NINE and row["moved_from"] is None and row["version"] == visit["version"]
    assert await audited("visit.moved") == []


async def test_a_move_onto_a_busy_worker_says_only_when_they_are_busy(client, monday_morning):
    world, visit = await logging_world()
    await sign_in(client, world.coordinator)
    data = {"move_day": "2026-06-01", "move_time": "10:00", "move_worker": str(world.worker2["id"])}
    warned = await move(client, visit, data)
    # worker2 visits Otto (coordinator2's client) at 10:00: busy then, never whom.
    assert warned.status_code == 409 and "busy then" in error_of(warned.text, "move_time")
    assert "10:00–10:30 busy" in warned.text and "Otto" not in warned.text
    # Instead, when worker2 is free that day for a 30-minute visit, from now (07:00) to 22:00.
    assert re.findall(r"<li>(\d\d:\d\d–\d\d:\d\d)</li>", warned.text.split('class="free-slots"')[1].split("</ul>")[0]) == [
        "07:00–10:00", "10:30–22:00"]
    assert (await stored(visit))["scheduled_start"] == NINE
    confirmed = await move(client, visit, {**data, "move_double_booking_ok": "yes"})
    assert confirmed.status_code == 303
    row = await stored(visit)
    assert row["worker"] == world.worker2["id"] and row["reassigned"] and row["scheduled_start"] == NINE + timedelta(hours=1)
    [event] = await audited("visit.moved")
    assert event["detail"]["double_booked"] is True and event["detail"]["worker_to"] == world.worker2["id"]


async def extra(client, world, data: dict, key: str = "extra-visit-key-0123456789"):
    return await post_form(client, f"/clients/{world.own['id']}/visits/extra", {"key": key, **data})


async def test_a_coordinator_adds_an_extra_visit_once_and_the_keeper_keeps_it(client, monday_morning):
    world, _visit = await logging_world()
    service = (await stored(_visit))["service"]
    await sign_in(client, world.coordinator)
    week = await client.get(f"/clients/{world.own['id']}/visits")
    assert "Add an extra visit" in week.text
    data = {"service_id": str(service), "extra_day": "2026-06-03", "extra_time": "14:00", "extra_duration": ""}
    first, again = await extra(client, world, data), await extra(client, world, data)  # a double click
    assert first.status_code == again.status_code == 303 and first.headers["location"] == again.headers["location"]
    [added] = await Visit.select().where(Visit.extra == True).run()  # noqa: E712
    start = datetime(2026, 6, 3, 14, 0, tzinfo=LONDON).astimezone(timezone.utc)
    assert added["scheduled_start"] == start and added["scheduled_end"] == start + timedelta(hours=1)
    assert added["worker"] == world.worker["id"] and added["service"] == service
    assert first.headers["location"] == f"/visits/{added['id']}"
    [event] = await audited("visit.extra_added")
    assert event["client_id"] == world.own["id"]
    await schedule_sync(now=NOW, horizon_days=7)
    assert await Visit.exists().where(Visit.id == added["id"]).run()
    await sign_in(client, world.family)
    family_week = (await client.get(f"/clients/{world.own['id']}/visits")).text
    assert "14:00–15:00" in family_week and "extra visit" in family_week
    assert "Add an extra visit" not in family_week


async def test_an_extra_visit_refuses_bad_input_next_to_the_field_and_keeps_it(client, monday_morning):
    world, visit = await logging_world()
    service = str((await stored(visit))["service"])
    other_service = str((await Visit.select(Visit.service).where(Visit.client == world.others["id"]).first().run())["service"])
    await sign_in(client, world.coordinator)
    for data, field, message in (
        ({"service_id": "", "extra_day": "2026-06-03", "extra_time": "14:00"}, "service_id", "Choose one of the services"),
        ({"service_id": other_service, "extra_day": "2026-06-03", "extra_time": "14:00"}, "service_id", "Choose one"),
        ({"service_id": service, "extra_day": "2026-06-03", "extra_time": "1400"}, "extra_time", "Enter the time"),
        ({"service_id": service, "extra_day": "2026-06-01", "extra_time": "06:00"}, "extra_time", "That time has passed"),
        ({"service_id": service, "extra_day": "2019-06-01", "extra_time": "06:00"}, "extra_day", "The service runs from"),
        ({"service_id": service, "extra_day": "2026-06-02", "extra_time": "09:00"}, "extra_time", "already has a visit"),
        ({"service_id": service, "extra_day": "2026-06-03", "extra_time": "14:00", "extra_duration": "2"},
         "extra_duration", "Enter the length"),
    ):
        refused = await extra(client, world, data)
        assert refused.status_code == 422, data
        assert message in error_of(refused.text, field), (data, field)
        assert f'value="{data["extra_day"]}"' in refused.text
    assert not await Visit.exists().where(Visit.extra == True).run()  # noqa: E712


async def test_workers_and_family_cannot_move_or_add_visits(client, monday_morning):
    world, visit = await logging_world()
    service = str((await stored(visit))["service"])
    for person in (world.worker, world.family, world.coordinator2):
        await sign_in(client, person)
        assert (await move(client, visit, {"move_day": "2026-06-01", "move_time": "08:30"})).status_code == 404
        assert (await extra(client, world, {"service_id": service, "extra_day": "2026-06-03",
                                            "extra_time": "14:00"})).status_code == 404
    assert (await stored(visit))["scheduled_start"] == NINE
    assert not await Visit.exists().where(Visit.extra == True).run()  # noqa: E712


def test_the_schedule_keeps_one_off_visits_and_plans_nothing_over_them():
    """Pure rule: a moved visit stands for its planned one; an extra visit stays while its service runs."""
    now = NOW
    planned = [PlannedVisit(lineage=1, service_id=1, client_id=1, worker_id=5, start=NINE + timedelta(days=d),
                            end=NINE + timedelta(days=d, hours=1)) for d in range(3)]
    moved = StoredVisit(id=10, lineage=1, service_id=1, worker_id=5, start=HALF_EIGHT,
                        end=HALF_EIGHT + timedelta(hours=1), status="scheduled", moved_from=NINE)
    # An extra visit sits on day 2's planned time: nothing is planned over it.
    added = StoredVisit(id=11, lineage=1, service_id=1, worker_id=5, start=NINE + timedelta(days=2),
                        end=NINE + timedelta(days=2, minutes=30), status="scheduled", extra=True)
    changes = schedule_changes(planned=planned, stored=[moved, added], now=now)
    assert [p.start for p in changes.insert] == [NINE + timedelta(days=1)]
    assert not changes.delete and not changes.update
    # Once the service no longer runs, both go (they have not begun).
    gone = schedule_changes(planned=[], stored=[moved, added], now=now, running=set())
    assert gone.delete == [10, 11]
    # A visit moved to earlier than its planned time, now begun or past, still keeps its planned one from returning.
    later = schedule_changes(planned=planned, stored=[moved], now=HALF_EIGHT + timedelta(minutes=10))
    assert NINE not in [p.start for p in later.insert]


async def test_the_same_extra_visit_sent_at_once_is_added_once_and_two_moves_at_once_move_once(settings,
                                                                                              monday_morning):
    """A double click and two tabs, at the same moment: one extra visit, one move, and a clear answer to the rest."""
    world, visit = await logging_world()
    service = str((await stored(visit))["service"])
    tabs = await browsers(settings, world.coordinator, 2)
    try:
        added = await asyncio.gather(*[
            extra(tab, world, {"service_id": service, "extra_day": "2026-06-03", "extra_time": "14:00"})
            for tab in tabs for _ in range(TIMES // 2)])
        moved = await asyncio.gather(*[
            move(tab, visit, {"move_day": "2026-06-01", "move_time": f"08:{15 + 10 * n}"})
            for n, tab in enumerate(tabs)])
    finally:
        await close_all(tabs)
    assert {a.status_code for a in added} == {303} and len({a.headers["location"] for a in added}) == 1
    assert await Visit.count().where(Visit.extra == True) == 1  # noqa: E712
    assert len(await audited("visit.extra_added")) == 1
    assert sorted(m.status_code for m in moved) == [303, 409]
    assert "Someone changed this visit" in next(m.text for m in moved if m.status_code == 409)
    assert len(await audited("visit.moved")) == 1
