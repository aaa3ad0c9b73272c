"""The FHIR R4 Bundle: parses with fhir.resources, holds the client's plan, delivered visits and referrals,
and nothing the chosen sections leave out."""

from __future__ import annotations

import json
from datetime import timedelta

from fhir.resources.R4B.bundle import Bundle

from app import clock
from app.liaison.fhir import fhir_bundle_for
from app.liaison.tables import Disclosure
from app.visits.tables import Visit
from tests.careplans.factories import add_service, make_plan
from tests.clients.factories import make_world
from tests.conftest import login, post_form
from tests.liaison.factories import make_agency, make_provider, make_referral

ALL = ("needs", "plan", "team", "visits", "referrals", "family_summaries")


async def _care(world):
    plan_id = await make_plan(client_id=world.own["id"], goals=("Walks to the shop again",))
    service_id = await add_service(plan_id=plan_id, worker=world.worker, weekdays="1,3,5")
    now = clock.utcnow()
    for hours, status in ((50, "completed"), (26, "missed")):
        start = now - timedelta(hours=hours)
        await Visit.insert(Visit(
            client=world.own["id"], service=service_id, worker=world.worker["id"], scheduled_start=start,
            scheduled_end=start + timedelta(minutes=30), status=status,
            check_in_at=start if status == "completed" else None,
            check_out_at=start + timedelta(minutes=28) if status == "completed" else None,
            location="home" if status == "completed" else "", family_summary="Cheerful, ate well",
            family_summary_shared=status == "completed")).run()
    gp = await make_agency(facility_id=world.facility, name="Riverside GP")
    await make_provider(client_id=world.own["id"], agency=gp)
    day_centre = await make_agency(facility_id=world.facility, name="Oak Tree Day Centre", kind="day_centre")
    await make_referral(client_id=world.own["id"], agency=day_centre, status="accepted", reason="Company")
    return plan_id


def _by_type(bundle: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for entry in bundle["entry"]:
        found.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    return found


async def test_the_export_is_a_valid_r4_collection_with_plan_visits_and_referrals(client):
    world = await make_world()
    await _care(world)
    await login(client, world.coordinator)
    form = {f"section_{s}": "on" for s in ALL} | {"recipient": "Riverside GP", "reason": "Appointment"}
    response = await post_form(client, f"/clients/{world.own['id']}/fhir", form)
    assert response.status_code == 200
    assert response.headers["content-type"].lower().startswith("application/fhir+json; fhirversion=4.0")
    assert "attachment" in response.headers["content-disposition"]
    parsed = Bundle.model_validate_json(response.content)
    assert parsed.type == "collection"
    found = _by_type(json.loads(response.content))
    assert {"Patient", "Practitioner", "PractitionerRole", "Organization", "CareTeam", "CarePlan", "Goal",
            "Encounter", "Location", "ServiceRequest", "Task", "Communication", "AllergyIntolerance"} <= set(found)
    assert found["Patient"][0]["name"][0]["family"] == "Owens"
    timing = found["CarePlan"][0]["activity"][0]["detail"]["scheduledTiming"]["repeat"]
    assert timing["dayOfWeek"] == ["mon", "wed", "fri"] and timing["timeOfDay"] == ["09:00:00"]
    assert found["Goal"][0]["description"]["text"] == "Walks to the shop again"
    # Only the delivered visit is an Encounter (EVV: service, subject, date, location, participant, period).
    assert len(found["Encounter"]) == 1
    encounter = found["Encounter"][0]
    assert encounter["status"] == "finished" and encounter["serviceType"]["text"] == "personal_care"
    assert encounter["period"]["start"] and encounter["period"]["end"] and encounter["location"]
    assert encounter["participant"][0]["individual"]["reference"].startswith("urn:uuid:")
    assert found["Task"][0]["status"] == "accepted"
    assert found["ServiceRequest"][0]["reasonCode"][0]["text"] == "Company"
    urls = {entry["fullUrl"] for entry in json.loads(response.content)["entry"]}
    assert found["Task"][0]["focus"]["reference"] in urls
    assert found["CarePlan"][0]["subject"]["reference"] in urls
    disclosure = (await Disclosure.select().run())[0]
    assert disclosure["kind"] == "fhir" and disclosure["reason"] == "Appointment"


async def test_the_bundle_holds_nothing_the_chosen_sections_leave_out(client):
    world = await make_world()
    await _care(world)
    bundle = await fhir_bundle_for(client_id=world.own["id"], sections=("needs",))
    Bundle.model_validate(bundle)
    types = set(_by_type(bundle))
    assert types == {"Patient", "Organization", "AllergyIntolerance"}
    text = json.dumps(bundle)
    assert "Walks to the shop" not in text and "Company" not in text and "Cheerful" not in text
    assert "Riverside GP" not in text and "family dispute" not in text
    without_family = await fhir_bundle_for(client_id=world.own["id"], sections=("plan", "visits", "referrals"))
    assert "Communication" not in _by_type(without_family) and "Cheerful" not in json.dumps(without_family)


async def test_an_export_needs_a_reason_and_a_section(client):
    world = await make_world()
    await login(client, world.coordinator)
    refused = await post_form(client, f"/clients/{world.own['id']}/fhir", {"recipient": "GP", "reason": ""})
    assert refused.status_code == 422
    assert "Choose at least one part" in refused.text and "Say why" in refused.text
    assert await Disclosure.count().run() == 0
