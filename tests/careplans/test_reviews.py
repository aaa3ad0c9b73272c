"""Plan review dates on the caseload: due and overdue reviews, and the overdue filter."""

from __future__ import annotations

from datetime import timedelta

from app.clients.tables import Client
from tests.careplans.test_plan_editing import draft_of, service_form
from tests.clients.factories import make_world, today
from tests.conftest import post_form, sign_in


async def activate_with_review(client, client_id: int, review_due) -> None:
    await post_form(client, f"/clients/{client_id}/plan", {})
    draft = await draft_of(client_id)
    await post_form(client, f"/clients/{client_id}/plan/details", {
        "summary": "Care", "starts_on": (today() - timedelta(days=200)).isoformat(),
        "review_due": review_due.isoformat(), "ends_on": "", "revision": draft["revision"]})
    await post_form(client, f"/clients/{client_id}/plan/services", service_form(provider_name="District nurses"))
    response = await post_form(client, f"/clients/{client_id}/plan/activate",
                               {"revision": (await draft_of(client_id))["revision"]})
    assert response.status_code == 303


async def test_an_overdue_plan_review_shows_on_the_caseload_and_its_filter(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    await activate_with_review(client, world.own["id"], today() - timedelta(days=3))
    record = await Client.select(Client.review_due, Client.version).where(Client.id == world.own["id"]).first().run()
    assert record["review_due"] == today() - timedelta(days=3) and record["version"] == 2
    overdue = await client.get("/caseload?review=overdue")
    assert "Olive Owens" in overdue.text and "overdue" in overdue.text
    plan = await client.get(f"/clients/{world.own['id']}/plan")
    assert 'badge-danger">overdue' in plan.text


async def test_a_review_due_soon_is_marked_on_the_plan_and_not_listed_as_overdue(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    await activate_with_review(client, world.own["id"], today() + timedelta(days=5))
    assert "Olive Owens" not in (await client.get("/caseload?review=overdue")).text
    assert "due soon" in (await client.get(f"/clients/{world.own['id']}/plan")).text
