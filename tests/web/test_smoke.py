from tests.conftest import login, make_facility, make_user


async def test_coordinator_signs_in_and_lands_on_caseload(client):
    facility = await make_facility()
    user = await make_user(facility_id=facility, role="coordinator")
    response = await login(client, user)
    assert response.headers["location"] == "/caseload"
    page = await client.get("/account/password")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
