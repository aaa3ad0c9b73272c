"""The directory of providers and agencies (search, archive never delete, one facility's own) and a client's
providers as each role may see them."""

from __future__ import annotations

from app.clients.tables import FamilyLink
from app.liaison.tables import Agency, ClientProvider
from tests.clients.factories import make_world
from tests.conftest import login, post_form
from tests.liaison.factories import make_agency, make_provider, make_referral


async def test_agencies_are_searched_by_name_and_kind_within_the_facility(client):
    world = await make_world()
    await make_agency(facility_id=world.facility, name="Riverside GP Practice", kind="gp")
    await make_agency(facility_id=world.facility, name="Riverside Pharmacy", kind="pharmacy")
    await make_agency(facility_id=world.other_facility, name="Riverside Elsewhere", kind="gp")
    await login(client, world.coordinator)
    found = (await client.get("/agencies?q=riverside")).text
    assert "Riverside GP Practice" in found and "Riverside Pharmacy" in found and "Elsewhere" not in found
    only_gp = (await client.get("/agencies?q=riverside&kind=gp", headers={"hx-request": "true"})).text
    assert "Riverside GP Practice" in only_gp and "Riverside Pharmacy" not in only_gp


async def test_an_agency_is_added_with_a_clear_message_for_bad_input(client):
    world = await make_world()
    await login(client, world.coordinator)
    bad = await post_form(client, "/agencies", {"name": "", "kind": "gp", "email": "not-an-email",
                                                "phone": "01632 960100"})
    assert bad.status_code == 422
    assert "Enter the agency&#39;s name." in bad.text and "name@example.org" in bad.text and "01632 960100" in bad.text
    good = await post_form(client, "/agencies", {"name": "Oak Tree Day Centre", "kind": "day_centre",
                                                 "email": "Hello@OakTree.example"})
    assert good.status_code == 303
    stored = (await Agency.select().run())[0]
    assert stored["facility"] == world.facility and stored["email"] == "hello@oaktree.example"


async def test_an_agency_is_archived_never_deleted_and_its_referrals_stay(client):
    world = await make_world()
    agency = await make_agency(facility_id=world.facility, name="Old Clinic")
    await make_referral(client_id=world.own["id"], agency=agency, status="completed")
    await login(client, world.coordinator)
    assert (await post_form(client, f"/agencies/{agency['id']}/archive", {})).status_code == 303
    assert "Old Clinic" not in (await client.get("/agencies")).text.split("<tbody>")[1]
    assert "Old Clinic" in (await client.get("/agencies?archived=1")).text
    assert await Agency.count().run() == 1
    assert "Old Clinic" in (await client.get(f"/clients/{world.own['id']}/referrals")).text
    assert (await post_form(client, f"/agencies/{agency['id']}/archive", {})).status_code == 303
    assert "Old Clinic" in (await client.get("/agencies")).text


async def test_an_edit_over_someone_elses_change_is_refused(client):
    world = await make_world()
    agency = await make_agency(facility_id=world.facility, name="Riverside GP")
    await login(client, world.coordinator)
    first = await post_form(client, f"/agencies/{agency['id']}", {"version": "1", "name": "Riverside GP Practice",
                                                                  "kind": "gp"})
    assert first.status_code == 303
    second = await post_form(client, f"/agencies/{agency['id']}", {"version": "1", "name": "Riverside Surgery",
                                                                   "kind": "gp"})
    assert second.status_code == 409 and "Riverside Surgery" in second.text
    assert (await Agency.select(Agency.name).first().run())["name"] == "Riverside GP Practice"


async def test_each_role_sees_the_providers_it_needs(client):
    world = await make_world()
    gp = await make_agency(facility_id=world.facility, name="Riverside GP", kind="gp", phone="01632 960100",
                           email="gp@example.org")
    pharmacy = await make_agency(facility_id=world.facility, name="Mill Lane Pharmacy", kind="pharmacy",
                                 phone="01632 960400")
    housing = await make_agency(facility_id=world.facility, name="Housing Adaptations", kind="housing",
                                phone="01632 960900")
    for agency in (gp, pharmacy, housing):
        await make_provider(client_id=world.own["id"], agency=agency)
    url = f"/clients/{world.own['id']}/providers"
    await login(client, world.coordinator)
    team = (await client.get(url)).text
    assert all(t in team for t in ("Riverside GP", "Housing Adaptations", "gp@example.org", "Dr Patel"))
    await login(client, world.worker)
    worker = (await client.get(url)).text
    assert "01632 960100" in worker and "01632 960400" in worker
    assert "Housing Adaptations" not in worker and "gp@example.org" not in worker and "Dr Patel" not in worker
    await login(client, world.family)
    family = (await client.get(url)).text
    assert "Riverside GP" in family and "Housing Adaptations" in family
    assert "01632 960100" not in family and "Dr Patel" not in family and "gp@example.org" not in family


async def test_family_without_the_schedule_sees_no_providers(client):
    world = await make_world()
    await FamilyLink.update({FamilyLink.may_see_schedule: False}).where(FamilyLink.user == world.family["id"]).run()
    await login(client, world.family)
    assert (await client.get(f"/clients/{world.own['id']}/providers")).status_code == 404


async def test_a_provider_is_added_and_removed_with_its_history_kept(client):
    world = await make_world()
    gp = await make_agency(facility_id=world.facility, name="Riverside GP")
    foreign = await make_agency(facility_id=world.other_facility, name="Far Away GP")
    await login(client, world.coordinator)
    url = f"/clients/{world.own['id']}/providers"
    refused = await post_form(client, url, {"agency_id": str(foreign["id"]), "role": "gp"})
    assert refused.status_code == 422 and "Choose an agency from the directory" in refused.text
    assert (await post_form(client, url, {"agency_id": str(gp["id"]), "role": "gp", "contact_name": "Dr Byrne"})
            ).status_code == 303
    twice = await post_form(client, url, {"agency_id": str(gp["id"]), "role": "gp"})
    assert twice.status_code == 422 and "already listed" in twice.text
    provider = (await ClientProvider.select().run())[0]
    assert (await post_form(client, f"{url}/{provider['id']}/end", {})).status_code == 303
    assert "Dr Byrne" not in (await client.get(url)).text
    assert await ClientProvider.count().run() == 1
