"""The per-client access log: who opened or changed the record and when, shown by role."""

from __future__ import annotations

import re

from app import clock
from app.audit.tables import AuditEvent
from app.clients.queries import access_kind
from app.visits.services import schedule_sync
from tests.careplans.factories import add_service, make_plan
from tests.visits.conftest import MONDAY_MORNING
from tests.clients.factories import make_world
from tests.conftest import post_form, sign_in

ROW = re.compile(r"<tr>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>\s*<td>([^<]*)</td>(.*?)</tr>", re.S)


def rows(html: str) -> list[tuple[str, str, str]]:
    return [(who, role, rest) for _, who, role, rest in ROW.findall(html)]


async def test_the_care_team_sees_who_did_what_from_where(client):
    world = await make_world()
    await sign_in(client, world.worker)
    await client.get(f"/clients/{world.own['id']}")
    await sign_in(client, world.coordinator)
    await post_form(client, f"/clients/{world.own['id']}/status",
                    {"to_status": "paused", "effective_on": "2026-01-02", "reason": "Respite stay", "version": "1"})
    log = await client.get(f"/clients/{world.own['id']}/access-log")
    assert log.status_code == 200
    entries = rows(log.text)
    assert entries[0][0] == "Coordinator" and "Changed the status: status" in entries[0][2]
    assert entries[-1][0] == "Worker" and "Opened the record" in entries[-1][2]
    assert "127.0.0.1" in log.text
    assert "Respite stay" not in log.text


FAMILY_ROW = re.compile(r"<tr>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>\s*</tr>")


def family_rows(html: str) -> list[tuple[str, str]]:
    """(who, what) of each line of the family's access log."""
    return [(who.strip(), what.strip()) for _day, _time, who, what in FAMILY_ROW.findall(html)]


async def test_a_linked_family_member_sees_who_when_and_what_and_nothing_else(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    await client.get(f"/clients/{world.own['id']}")
    await sign_in(client, world.family)
    log = await client.get(f"/clients/{world.own['id']}/access-log")
    assert log.status_code == 200
    assert family_rows(log.text) == [("Coordinator (coordinator)", "Viewed the record")]
    for detail in ("127.0.0.1", "From", world.coordinator["email"]):
        assert detail not in log.text
    assert f'href="/clients/{world.own["id"]}"' not in log.text


async def test_a_my_day_load_and_reloads_show_the_worker_once_that_day_and_the_trail_keeps_each(client,
                                                                                                fake_clock):
    fake_clock.now = MONDAY_MORNING  # before the day's 09:00 visit
    world = await make_world()
    plan = await make_plan(client_id=world.own["id"])
    await add_service(plan_id=plan, worker=world.worker)
    await schedule_sync(now=clock.utcnow())
    await sign_in(client, world.worker)
    for _ in range(4):
        assert (await client.get("/my-day")).status_code == 200
        fake_clock.advance(minutes=1)
    viewed = await AuditEvent.select(AuditEvent.id).where(
        (AuditEvent.client_id == world.own["id"]) & (AuditEvent.action == "client.viewed")
        & (AuditEvent.actor_id == world.worker["id"])).run()
    assert len(viewed) == 4  # the audit trail keeps every event
    await sign_in(client, world.family)
    log = (await client.get(f"/clients/{world.own['id']}/access-log")).text
    assert family_rows(log).count(("Worker (worker)", "Viewed the record")) == 1
    home = (await client.get("/family")).text
    assert family_rows(home).count(("Worker (worker)", "Viewed the record")) == 1


async def test_a_change_shows_as_changed_and_says_what(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    await post_form(client, f"/clients/{world.own['id']}/status",
                    {"to_status": "paused", "effective_on": "2026-01-02", "reason": "Respite stay", "version": "1"})
    await sign_in(client, world.family)
    entries = family_rows((await client.get(f"/clients/{world.own['id']}/access-log")).text)
    assert ("Coordinator (coordinator)", "Changed the record") in entries
    assert "Respite stay" not in str(entries)


def test_each_audited_event_is_viewed_or_changed_and_of_a_part_of_the_record():
    assert access_kind("client.viewed", {"page": "my_day"}) == ("viewed", "record")
    assert access_kind("client.viewed", {"page": "plan"}) == ("viewed", "plan")
    assert access_kind("client.viewed", {"page": "team_week"}) == ("viewed", "visit")
    assert access_kind("client.messages_viewed", {}) == ("viewed", "messages")
    assert access_kind("client.message_posted", {}) == ("changed", "messages")
    assert access_kind("visit.checked_in", {}) == ("changed", "visit")
    assert access_kind("careplan.activated", {}) == ("changed", "plan")
    assert access_kind("client.updated", {}) == ("changed", "record")


async def test_family_cannot_read_another_clients_access_log(client):
    world = await make_world()
    await sign_in(client, world.family)
    assert (await client.get(f"/clients/{world.others['id']}/access-log")).status_code == 404
    assert (await client.get(f"/clients/{world.foreign['id']}/access-log")).status_code == 404


async def test_an_admin_sees_the_log_of_any_client_of_the_facility(client):
    world = await make_world()
    await sign_in(client, world.coordinator2)
    await client.get(f"/clients/{world.others['id']}")
    await sign_in(client, world.admin)
    log = await client.get(f"/clients/{world.others['id']}/access-log")
    assert rows(log.text)[0][0] == "Coordinator2"


async def test_reading_the_log_is_not_itself_listed_as_opening_the_record(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    await client.get(f"/clients/{world.own['id']}/access-log")
    log = await client.get(f"/clients/{world.own['id']}/access-log")
    assert rows(log.text) == []


async def test_the_family_log_groups_each_days_events_and_pages_on_from_its_cursor(monkeypatch):
    from datetime import datetime, timedelta, timezone

    from app.clients import queries

    world = await make_world()
    first = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    people = (world.coordinator, world.worker, world.coordinator2)
    # Ten days, each with views by three people (some twice) and one change: many events per line.
    events = []
    for day in range(10):
        for n, person in enumerate(people):
            for repeat in range(1 + n % 2):
                events.append(AuditEvent(facility_id=world.facility, at=first + timedelta(days=day, minutes=10 * n + repeat),
                                         actor_id=person["id"], actor_label=person["email"], role=person["role"],
                                         action="client.viewed", client_id=world.own["id"], object_type="client",
                                         object_id=str(world.own["id"]), detail='{"page": "my_day"}'))
        events.append(AuditEvent(facility_id=world.facility, at=first + timedelta(days=day, hours=2),
                                 actor_id=world.coordinator["id"], actor_label="", role="coordinator",
                                 action="careplan.updated", client_id=world.own["id"], object_type="plan",
                                 object_id="1", detail=""))
    await AuditEvent.insert(*events).run()

    async def read(**kwargs):
        return await queries.family_access_log_for(facility_id=world.facility, client_id=world.own["id"],
                                                   tz="Europe/London", **kwargs)

    whole, older = await read()
    assert older is not None and len(whole) >= queries.FAMILY_ACCESS_LOG_ENTRIES
    assert whole[0].verb == "changed" and whole[0].what == "plan"
    assert [(e.actor_name, e.first_at, e.last_at) for e in whole[1:4]] == [
        ("Coordinator2", first + timedelta(days=9, minutes=20), first + timedelta(days=9, minutes=20)),
        ("Worker", first + timedelta(days=9, minutes=10), first + timedelta(days=9, minutes=11)),
        ("Coordinator", first + timedelta(days=9), first + timedelta(days=9))]
    rest, end = await read(before=older)
    assert end is None and len(whole) + len(rest) == 40  # four lines a day, each in one page only
    assert {(e.day, e.actor_name, e.verb) for e in whole}.isdisjoint({(e.day, e.actor_name, e.verb) for e in rest})
    few, few_older = await read(entries=5)
    assert few[:5] == whole[:5] and few_older is not None
    # A page reads at most FAMILY_ACCESS_LOG_SCAN events; the next page begins after the last one read.
    monkeypatch.setattr(queries, "FAMILY_ACCESS_LOG_SCAN", 50)
    assert await read(entries=100) == (whole + rest, None)
    monkeypatch.setattr(queries, "FAMILY_ACCESS_LOG_SCAN", 49)
    assert (await read(entries=100))[1] is not None
    monkeypatch.setattr(queries, "FAMILY_ACCESS_LOG_SCAN", 7)
    capped, after = await read()
    assert len(capped) == 6 and after is not None  # the last day's four lines and two of the day before
    assert (await read(before=after))[0][0].actor_name == "Worker"
