"""Every read of a client's data through the liaison pages is in the audit trail."""

import json

from app.audit.tables import AuditEvent
from tests.clients.factories import make_world
from tests.conftest import login
from tests.liaison.factories import make_agency, make_referral


async def test_each_liaison_page_about_a_client_audits_the_read(client):
    world = await make_world()
    referral = await make_referral(client_id=world.own["id"], agency=await make_agency(facility_id=world.facility))
    await login(client, world.coordinator)
    own = world.own["id"]
    pages = {"providers": f"/clients/{own}/providers", "referrals": f"/clients/{own}/referrals",
             "disclosures": f"/clients/{own}/disclosures", "summary": f"/clients/{own}/summary",
             "fhir": f"/clients/{own}/fhir", "share": f"/clients/{own}/share", "referral": f"/referrals/{referral['id']}"}
    for path in pages.values():
        assert (await client.get(path)).status_code == 200, path
    viewed = await AuditEvent.select(AuditEvent.detail, AuditEvent.client_id, AuditEvent.actor_id).where(
        AuditEvent.action == "client.viewed").run()
    assert {v["client_id"] for v in viewed} == {own} and {v["actor_id"] for v in viewed} == {world.coordinator["id"]}
    assert sorted(json.loads(v["detail"])["page"] for v in viewed) == sorted(pages)


async def test_the_record_loads_providers_referrals_and_disclosures_for_the_team(client):
    world = await make_world()
    await login(client, world.coordinator)
    record = (await client.get(f"/clients/{world.own['id']}")).text
    for part in ("providers", "referrals", "disclosures"):
        assert f'hx-get="/clients/{world.own["id"]}/{part}"' in record
    await login(client, world.worker)
    record = (await client.get(f"/clients/{world.own['id']}")).text
    assert f'/clients/{world.own["id"]}/providers"' in record
    assert "/referrals\"" not in record and "/disclosures\"" not in record and "/summary\"" not in record
