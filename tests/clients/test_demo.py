"""The demo facility's clients: two disjoint caseloads with teams, contacts and one family link each."""

from __future__ import annotations

from app.accounts.queries import user_by_email
from app.clients.tables import CareTeamMember, Client, FamilyLink
from app.accounts.demo import demo_password

from tests.conftest import demo_seeded, login


async def team_of(email: str) -> set[int]:
    user = await user_by_email(email=email)
    rows = await CareTeamMember.select(CareTeamMember.client).where(CareTeamMember.user == user["id"]).run()
    return {r["client"] for r in rows}


async def test_demo_coordinators_have_disjoint_caseloads_with_their_own_workers_and_families():
    await demo_seeded()
    assert 36 <= await Client.count().run() <= 44
    first, second = await team_of("coordinator@kinward.example"), await team_of("coordinator2@kinward.example")
    assert len(first) == len(second) == 20 and not first & second
    assert await team_of("worker@kinward.example") <= first
    assert await team_of("worker2@kinward.example") <= second
    for family, caseload in (("family@kinward.example", first), ("family2@kinward.example", second)):
        user = await user_by_email(email=family)
        links = await FamilyLink.select(FamilyLink.client).where(FamilyLink.user == user["id"]).run()
        assert len(links) == 1 and links[0]["client"] in caseload
    assert await Client.count().where(Client.allergies == "").run() == 0


async def test_the_demo_coordinator_sees_their_caseload(client):
    await demo_seeded()
    coordinator = await user_by_email(email="coordinator@kinward.example")
    await login(client, {**coordinator, "password": demo_password(coordinator["email"])})
    page = await client.get("/caseload")
    assert page.status_code == 200
    assert "19 clients" in page.text and "Margaret Ellison (Peggy)" in page.text and "Edith" not in page.text
