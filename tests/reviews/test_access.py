"""Who reaches which review and report route: every role against its own, another team's and another
facility's client; anything else is not found (404), never forbidden."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from app import clock
from app.clients.tables import Client
from app.reviews.queries import review_figures
from app.reviews.tables import Review
from tests.careplans.factories import add_service, make_plan
from tests.clients.factories import make_world, today
from tests.conftest import login, make_user, post_form

ROLES = ("admin", "coordinator", "worker", "family")
TARGETS = ("own", "other", "foreign")


async def with_reviews(world) -> None:
    for target in (world.own, world.others, world.foreign):
        plan_id = await make_plan(client_id=target["id"], starts_on=today() - timedelta(days=30),
                                  review_due=today() + timedelta(days=3))
        await add_service(plan_id=plan_id)
        await Client.update({Client.review_due: today() + timedelta(days=3)}).where(Client.id == target["id"]).run()
        facts = await review_figures(client_id=target["id"], period_start=date(2026, 1, 1),
                                     period_end=date(2026, 1, 31), tz="Europe/London", grace=timedelta(minutes=30),
                                     now=clock.utcnow())
        await Review.insert(Review(client=target["id"], number=1, status="finished", figures=json.dumps(facts),
                                   period_start=date(2026, 1, 1), period_end=date(2026, 1, 31),
                                   family_summary="All well", summary_shared=True, appropriate="yes")).run()


def team_may(role: str, target: str) -> bool:
    """Reviews are client records of the care team: an admin's facility, a coordinator's own clients."""
    return (role == "admin" and target != "foreign") or (role == "coordinator" and target == "own")


@pytest.mark.parametrize("role", ROLES)
async def test_review_routes_answer_404_outside_the_care_team_and_the_facility(client, role):
    world = await make_world()
    await with_reviews(world)
    await login(client, world.person(role))
    for target in TARGETS:
        cid = world.target(target)["id"]
        allowed = team_may(role, target)
        for url in (f"/clients/{cid}/reviews", f"/clients/{cid}/reviews/1", f"/clients/{cid}/reviews/1/print"):
            assert (await client.get(url)).status_code == (200 if allowed else 404), (role, target, url)
        assert (await client.get(f"/clients/{cid}/reviews/9")).status_code == 404
        started = await post_form(client, f"/clients/{cid}/reviews", {})
        assert started.status_code == (303 if allowed else 404), (role, target)
        added = await post_form(client, f"/clients/{cid}/reviews/1/addenda", {"body": "A correction"})
        assert added.status_code == (303 if allowed else 404), (role, target)
        saved = await post_form(client, f"/clients/{cid}/reviews/1", {"version": "1"})
        assert saved.status_code == (422 if allowed else 404), (role, target)  # locked, or nothing there
        family_own = role == "family" and target == "own"
        summary = await client.get(f"/clients/{cid}/reviews/1/summary")
        assert summary.status_code == (200 if family_own else 404), (role, target)
        answered = await post_form(client, f"/family/reviews/{cid}", {"going_well": "Fine"})
        assert answered.status_code == (303 if family_own else 404), (role, target)


@pytest.mark.parametrize("role", ROLES)
async def test_list_report_and_dashboard_routes_by_role(client, role):
    world = await make_world()
    await login(client, world.person(role))
    staff = role in ("admin", "coordinator")
    expected = {"/reviews": staff, "/reviews/count": staff, "/reports/staff": staff, "/dashboard": staff,
                "/dashboard/csv/delivered": staff, "/reports/agencies": staff, "/reports/staff/me": role == "worker",
                "/family/reviews": role == "family",
                f"/reports/staff/{world.worker['id']}": staff,
                f"/reports/staff/{world.worker['id']}/visits?figure=late": staff or role == "worker"}
    for url, ok in expected.items():
        assert (await client.get(url)).status_code == (200 if ok else 404), (role, url)
    assert (await client.get("/dashboard/csv/no-such-chart")).status_code == 404
    note = await post_form(client, f"/reports/staff/{world.worker['id']}/note", {"body": "Note", "based_on": "0"})
    assert note.status_code == (303 if staff else 404), role


@pytest.mark.parametrize("role", ("admin", "coordinator", "worker"))
async def test_another_facilitys_staff_find_neither_its_reviews_nor_its_workers(client, role):
    world = await make_world()
    await with_reviews(world)
    stranger = await make_user(facility_id=world.other_facility, role=role)
    await login(client, stranger)
    for url in (f"/clients/{world.own['id']}/reviews", f"/clients/{world.own['id']}/reviews/1",
                f"/reports/staff/{world.worker['id']}", f"/reports/staff/{world.worker['id']}/visits"):
        assert (await client.get(url)).status_code == 404, (role, url)
