"""The admin's audit page: filter by person, action and date; paged with htmx."""

from datetime import date, timedelta

from app.audit.queries import AUDIT_PAGE_SIZE, AuditFilter, audit_events_for
from app.audit.services import Actor, audit_record
from app.audit.tables import AuditEvent
from tests.conftest import login, make_facility, make_user, queries_sent, sqlite_plan


async def test_sign_ins_appear_for_the_admin_with_filters(client):
    facility = await make_facility()
    admin = await make_user(facility_id=facility, role="admin")
    worker = await make_user(facility_id=facility, role="worker", name="Wendy Filter")
    await login(client, worker)
    client.cookies.clear()
    await login(client, admin)
    everything = await client.get("/admin/audit")
    assert everything.status_code == 200
    assert everything.text.count("login.succeeded") >= 2
    only_worker = await client.get("/admin/audit", params={"person": str(worker["id"])})
    assert worker["email"] in only_worker.text and admin["email"] not in only_worker.text.split("<tbody>")[1]


async def test_other_facilities_events_never_show(client):
    facility = await make_facility()
    admin = await make_user(facility_id=facility, role="admin")
    other = await make_facility()
    await audit_record(actor=Actor(label="stranger@elsewhere.org", facility_id=other), action="secret.thing")
    await login(client, admin)
    assert "secret.thing" not in (await client.get("/admin/audit")).text


async def test_htmx_asks_for_the_next_page_and_gets_only_the_rows(client):
    facility = await make_facility()
    admin = await make_user(facility_id=facility, role="admin")
    for i in range(AUDIT_PAGE_SIZE + 5):
        await audit_record(actor=Actor(label="bulk@example.org", facility_id=facility), action="bulk.event")
    await login(client, admin)
    second = await client.get("/admin/audit", params={"action": "bulk.event", "page": "2"},
                              headers={"HX-Request": "true"})
    assert second.status_code == 200
    assert "<html" not in second.text
    assert second.text.count("<td>bulk.event</td>") == 5


async def test_date_filter_uses_the_facility_day_and_rejects_reversed_ranges(client):
    facility = await make_facility()
    admin = await make_user(facility_id=facility, role="admin")
    await login(client, admin)
    old = await AuditEvent.select().where(AuditEvent.action == "login.succeeded").first().run()
    assert old is not None
    today = old["at"].date()
    later = (await client.get("/admin/audit", params={"day_from": (today + timedelta(days=2)).isoformat()})).text
    assert "login.succeeded" not in later.split("<tbody>")[1]
    reversed_range = await client.get("/admin/audit", params={"day_from": today.isoformat(),
                                                             "day_to": (today - timedelta(days=1)).isoformat()})
    assert reversed_range.status_code == 422
    assert "before the start date" in reversed_range.text


async def test_an_event_about_a_client_names_the_client_for_the_admin(client):
    from tests.clients.factories import make_world
    from tests.conftest import sign_in

    world = await make_world()
    await sign_in(client, world.coordinator)
    assert (await client.get(f"/clients/{world.own['id']}")).status_code == 200
    await audit_record(actor=Actor(label="gone@example.org", facility_id=world.facility), action="client.viewed",
                       client_id=987654, object_type="client", object_id=987654)
    await sign_in(client, world.admin)
    rows = (await client.get("/admin/audit", params={"action": "client.viewed"})).text.split("<tbody>")[1]
    assert f'<a href="/clients/{world.own["id"]}">Olive Owens</a>' in rows
    assert "Client #987654" in rows  # a client no longer in the facility keeps its number only


async def test_the_audit_page_reads_a_facilitys_latest_events_without_sorting_its_whole_trail():
    """The page asks for a facility's latest events: SQLite walks an index of the facility's events in id
    order and stops after a page. Without one it read and sorted every event the facility ever recorded
    (the trail only grows)."""
    with queries_sent() as asked:
        for filters in (AuditFilter(), AuditFilter(day_from=date(2026, 1, 1), day_to=date(2026, 1, 31))):
            await audit_events_for(facility_id=1, filters=filters, page=1)
    assert len(asked) == 2
    for querystring in asked:
        plan = await sqlite_plan(querystring)
        assert plan and not any("TEMP B-TREE" in step for step in plan), plan
