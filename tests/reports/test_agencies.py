"""Agencies' figures: per agency, the referrals made in a period and what came of them."""

from __future__ import annotations

from datetime import timedelta

from app import clock
from app.liaison.tables import Referral
from tests.clients.factories import make_world, today
from tests.conftest import login, make_user
from tests.liaison.factories import make_agency, make_referral


async def test_referrals_are_counted_per_agency_with_answers_and_overdue(client):
    world = await make_world()
    gp = await make_agency(facility_id=world.facility, name="Riverside surgery")
    nurses = await make_agency(facility_id=world.facility, name="District nurses", kind="community")
    late = await make_referral(client_id=world.own["id"], agency=gp, expected_by=today() - timedelta(days=2))
    answered = await make_referral(client_id=world.own["id"], agency=gp, status="accepted")
    sent = clock.utcnow() - timedelta(days=4)
    await Referral.update({Referral.sent_at: sent, Referral.answered_at: sent + timedelta(days=2)}).where(
        Referral.id == answered["id"]).run()
    await make_referral(client_id=world.others["id"], agency=nurses, status="declined")
    await login(client, world.admin)
    page = await client.get(f"/reports/agencies?start={today() - timedelta(days=30)}&end={today()}")
    assert page.status_code == 200
    rows = page.text.split("<tbody>")[1]
    gp_row = rows.split("Riverside surgery")[1].split("</tr>")[0]
    cells = [c.split("</td>")[0] for c in gp_row.split("<td>")[1:]]
    # sent, answered, median days to answer, accepted, declined, completed, overdue
    assert cells == ["2", "1", "2.0", "1", "0", "0", "1"], cells
    assert late["id"]
    nurses_row = rows.split("District nurses")[1].split("</tr>")[0]
    assert [c.split("</td>")[0] for c in nurses_row.split("<td>")[1:]][4] == "1"  # declined
    for role in ("worker", "family"):
        await login(client, world.person(role))
        assert (await client.get("/reports/agencies")).status_code == 404


async def test_the_dashboard_charts_referrals_past_their_answer_date(client):
    world = await make_world()
    gp = await make_agency(facility_id=world.facility, name="Riverside surgery")
    await make_referral(client_id=world.own["id"], agency=gp, expected_by=today() - timedelta(days=2))
    await make_referral(client_id=world.others["id"], agency=gp, expected_by=today() - timedelta(days=2))
    await login(client, world.coordinator)
    page = await client.get("/dashboard")
    chart = page.text.split('data-chart="referrals"')[-1]
    assert "<th scope=\"row\">Riverside surgery</th><td>1</td>" in chart  # only the coordinator's own client
    await login(client, world.admin)
    chart = (await client.get("/dashboard")).text.split('data-chart="referrals"')[-1]
    assert "<th scope=\"row\">Riverside surgery</th><td>2</td>" in chart


def _agency_cells(html: str, agency: str) -> list[str]:
    """The figures of one agency's row: sent, answered, median days, accepted, declined, completed, overdue."""
    row = html.split("<tbody>")[1].split(agency)[1].split("</tr>")[0]
    return [c.split("</td>")[0] for c in row.split("<td>")[1:]]


async def test_a_coordinator_sees_the_agencies_figures_of_their_own_clients_and_an_admin_the_facilitys(client):
    world = await make_world()
    gp = await make_agency(facility_id=world.facility, name="Riverside surgery")
    nurses = await make_agency(facility_id=world.facility, name="District nurses", kind="community")
    await make_referral(client_id=world.own["id"], agency=gp, expected_by=today() - timedelta(days=2))
    await make_referral(client_id=world.others["id"], agency=gp, expected_by=today() - timedelta(days=2))
    await make_referral(client_id=world.others["id"], agency=gp, status="declined")
    await make_referral(client_id=world.others["id"], agency=nurses, status="accepted")
    url = f"/reports/agencies?start={today() - timedelta(days=30)}&end={today()}"

    await login(client, world.coordinator)
    mine = await client.get(url)
    assert mine.status_code == 200 and "whose care team you coordinate" in mine.text
    assert _agency_cells(mine.text, "Riverside surgery") == ["1", "0", "—", "0", "0", "0", "1"]
    assert "District nurses" not in mine.text  # only another coordinator's client was referred there

    await login(client, world.coordinator2)
    theirs = await client.get(url)
    assert _agency_cells(theirs.text, "Riverside surgery") == ["2", "0", "—", "0", "1", "0", "1"]
    assert _agency_cells(theirs.text, "District nurses")[3] == "1"

    await login(client, world.admin)
    everyone = await client.get(url)
    assert "Every client of the facility is counted." in everyone.text
    assert _agency_cells(everyone.text, "Riverside surgery") == ["3", "0", "—", "0", "1", "0", "2"]
    assert _agency_cells(everyone.text, "District nurses")[3] == "1"


async def test_a_coordinator_without_clients_sees_no_agency_figures(client):
    world = await make_world()
    gp = await make_agency(facility_id=world.facility, name="Riverside surgery")
    await make_referral(client_id=world.own["id"], agency=gp)
    lonely = await make_user(facility_id=world.facility, role="coordinator")
    await login(client, lonely)
    page = await client.get("/reports/agencies")
    assert page.status_code == 200
    assert "Riverside surgery" not in page.text and "No referrals in this period." in page.text
