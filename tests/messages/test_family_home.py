"""The family home: for each linked client, what the link allows — upcoming visits, shared summaries, the thread, the access log."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from app import clock
from app.audit.tables import AuditEvent
from app.visits.tables import Visit
from tests.careplans.factories import add_service, make_plan
from tests.clients.factories import link_family, make_world
from tests.conftest import make_user, sign_in


async def add_visit(*, client_id: int, service_id: int, worker: dict, hours_from_now: float, status: str = "scheduled",
                    summary: str = "", shared: bool = False, **columns) -> None:
    start = clock.utcnow() + timedelta(hours=hours_from_now)
    await Visit.insert(Visit(
        client=client_id, service=service_id, worker=worker["id"], scheduled_start=start,
        scheduled_end=start + timedelta(minutes=30), status=status, family_summary=summary,
        family_summary_shared=shared, check_out_at=start + timedelta(minutes=30) if status == "completed" else None,
        **columns,
    )).run()


async def visits_world():
    world = await make_world()
    plan = await make_plan(client_id=world.own["id"])
    service = await add_service(plan_id=plan, worker=world.worker, kind="meals")
    await add_visit(client_id=world.own["id"], service_id=service, worker=world.worker, hours_from_now=20)
    await add_visit(client_id=world.own["id"], service_id=service, worker=world.worker, hours_from_now=-20,
                    status="completed", summary="Ate a good lunch and chatted about the garden.", shared=True)
    await add_visit(client_id=world.own["id"], service_id=service, worker=world.worker, hours_from_now=-44,
                    status="completed", summary="NOT SHARED: internal wording", shared=False)
    return world


async def test_a_family_member_sees_upcoming_visits_and_shared_summaries(client):
    world = await visits_world()
    await sign_in(client, world.family)
    home = await client.get("/family")
    assert "Visits today and this week" in home.text and "Meals" in home.text and "Worker" in home.text
    assert "Ate a good lunch and chatted about the garden." in home.text
    assert "NOT SHARED" not in home.text
    assert await AuditEvent.exists().where((AuditEvent.action == "client.visits_viewed")
                                           & (AuditEvent.client_id == world.own["id"])).run()


async def test_the_link_decides_which_sections_a_family_member_gets(client):
    world = await visits_world()
    limited = await make_user(facility_id=world.facility, role="family")
    await link_family(client_id=world.own["id"], user=limited, may_see_schedule=False, may_see_visit_summaries=False,
                      may_message=False)
    await sign_in(client, limited)
    home = await client.get("/family")
    assert "Olive Owens" in home.text and "Who opened the record" in home.text
    for hidden in ("Visits today and this week", "Recent visit summaries", "Ate a good lunch", "Messages with the care team",
                   'name="body"'):
        assert hidden not in home.text


async def test_the_family_home_shows_who_opened_the_record_without_details(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    await client.get(f"/clients/{world.own['id']}")
    await sign_in(client, world.family)
    home = await client.get("/family")
    assert "Who opened the record" in home.text and "Coordinator" in home.text
    assert "127.0.0.1" not in home.text  # who and when, never from where


async def test_the_family_sees_a_cancelled_visit_as_cancelled_and_todays_missed_visit_as_missed(client, fake_clock):
    """In plain words, on the family home and on the client's week; never the reason for the cancellation."""
    fake_clock.now = datetime(2026, 6, 3, 15, 0, tzinfo=ZoneInfo("Europe/London")).astimezone(timezone.utc)
    world = await make_world()
    plan = await make_plan(client_id=world.own["id"])
    service = await add_service(plan_id=plan, worker=world.worker, kind="meals")
    # 10:00 today, nobody came; tomorrow at 15:00, cancelled.
    await add_visit(client_id=world.own["id"], service_id=service, worker=world.worker, hours_from_now=-5)
    await add_visit(client_id=world.own["id"], service_id=service, worker=world.worker, hours_from_now=24,
                    status="cancelled", cancel_reason="Dispute with the neighbour about parking")
    await sign_in(client, world.family)
    for url in ("/family", f"/clients/{world.own['id']}/visits"):
        page = (await client.get(url)).text
        assert "Missed: nobody came" in page and "Cancelled: this visit will not happen" in page, url
        assert "Dispute with the neighbour" not in page, url
