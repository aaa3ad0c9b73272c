from app.mail.tables import Outbox
from tests.clients.factories import make_world
from tests.conftest import login, post_form
from tests.liaison.factories import make_agency


async def test_smoke(client):
    world = await make_world()
    await login(client, world.coordinator)
    r = await post_form(client, "/agencies", {"name": "Riverside GP", "kind": "gp", "email": "gp@example.org"})
    assert r.status_code == 303, r.text
    agency_id = int(r.headers["location"].rsplit("/", 1)[1])
    assert (await client.get("/agencies")).status_code == 200
    assert (await client.get(f"/agencies/{agency_id}")).status_code == 200
    own = world.own["id"]
    assert (await client.get(f"/clients/{own}/referrals")).status_code == 200
    r = await post_form(client, f"/clients/{own}/referrals", {"agency_id": str(agency_id), "reason": "Falls",
                                                              "urgency": "soon", "consent_by": "Olive",
                                                              "consent_on": "2026-01-02", "send": "on"})
    assert r.status_code == 303, r.text
    ref = r.headers["location"]
    page = await client.get(ref)
    assert page.status_code == 200, page.text
    mail = await Outbox.select().run()
    link = [m for m in mail if m["kind"] == "referral_link"][0]["body"]
    token = link.split("/r/")[1].split()[0]
    client.cookies.clear()
    r = await client.get(f"/r/{token}")
    assert r.status_code == 200, r.text
    r = await post_form(client, f"/r/{token}", {"to_status": "accepted"})
    assert r.status_code == 200, r.text
    r = await post_form(client, f"/r/{token}", {"to_status": "completed", "outcome": "Assessed"})
    assert r.status_code == 200, r.text
    assert (await client.get(f"/r/{token}")).status_code == 404
    await login(client, world.coordinator)
    for path in ("providers", "disclosures", "summary", "fhir", "share"):
        r = await client.get(f"/clients/{own}/{path}")
        assert r.status_code == 200, (path, r.text)
    r = await post_form(client, f"/clients/{own}/summary", {"section_needs": "on", "section_plan": "on", "section_team": "on",
                                                            "section_visits": "on", "section_referrals": "on",
                                                            "recipient": "GP", "reason": "appointment"})
    assert r.status_code == 200, r.text
    r = await post_form(client, f"/clients/{own}/fhir", {"section_needs": "on", "section_plan": "on", "section_team": "on",
                                                         "section_visits": "on", "section_referrals": "on",
                                                         "recipient": "GP", "reason": "appointment"})
    assert r.status_code == 200, r.text
    r = await post_form(client, f"/clients/{own}/share", {"section_needs": "on", "agency_id": str(agency_id),
                                                          "reason": "appointment", "expires": "24", "allow_fhir": "on"})
    assert r.status_code == 201, r.text
    assert (await client.get(f"/clients/{own}")).status_code == 200
    assert (await client.get("/caseload/referrals", headers={"hx-request": "1"})).status_code == 200
    assert (await client.get("/referrals")).status_code == 200
