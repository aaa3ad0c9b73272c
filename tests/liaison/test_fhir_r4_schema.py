"""The FHIR export is valid FHIR R4: the demo client's bundle and a bundle with every section filled pass
the official R4 JSON schema (vendored in fhir_r4/, its source and checksum in the README there)."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from functools import cache
from pathlib import Path

from jsonschema import Draft6Validator

from app import clock
from app.careplans.tables import CarePlan, Goal
from app.clients.tables import Client
from app.liaison.fhir import fhir_bundle_for
from app.liaison.tables import Referral
from tests.careplans.factories import add_service
from tests.clients.factories import add_contact, make_world
from tests.conftest import demo_seeded
from tests.liaison.factories import make_agency, make_referral
from tests.liaison.test_fhir import ALL, _care

SCHEMA = Path(__file__).parent / "fhir_r4" / "fhir.schema.json"
SCHEMA_SHA256 = "15b9548af6412c44faaa411456e0652542de286fd1c58ef882b09bdc8947909d"


@cache
def _validator() -> Draft6Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return Draft6Validator(schema)


@cache
def _bundle_validator() -> Draft6Validator:
    """The Bundle's own definition, where an entry's resource need only name an R4 resource type: each
    resource is checked against its own definition beside it. The same check as the schema's root, whose
    oneOf over every resource type, tried again for every entry, took a second a bundle."""
    schema = _validator().schema
    types = [choice["$ref"].rsplit("/", 1)[1] for choice in schema["definitions"]["ResourceList"]["oneOf"]]
    named = {"type": "object", "required": ["resourceType"], "properties": {"resourceType": {"enum": types}}}
    return Draft6Validator(schema | {"definitions": schema["definitions"] | {"ResourceList": named},
                                     "$ref": "#/definitions/Bundle"})


def _r4_errors(bundle: dict) -> list[str]:
    # Each resource is checked against its own definition (the root's oneOf says only "not valid under any"),
    # so a failure names the offending field.
    validator = _validator()
    errors = [error.message for error in _bundle_validator().iter_errors(bundle)]
    for entry in bundle.get("entry", []):
        resource = entry["resource"]
        if resource.get("resourceType") not in validator.schema["definitions"]:
            continue  # the bundle's check names it
        definition = {"$ref": f"#/definitions/{resource['resourceType']}"}
        errors += [f"{resource['resourceType']}.{'.'.join(map(str, error.absolute_path))}: {error.message}"
                   for error in validator.evolve(schema=validator.schema | definition).iter_errors(resource)]
    return errors


def test_the_vendored_schema_is_the_recorded_fhir_r4_schema():
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256
    schema = _validator().schema
    assert schema["id"] == "http://hl7.org/fhir/json-schema/4.0"
    # R4 has resources that R4B removed: this is the R4 schema, not a later one.
    assert "EffectEvidenceSynthesis" in schema["definitions"]
    assert "SubscriptionStatus" not in schema["definitions"]


def test_the_schema_refuses_what_r4_does_not_define():
    """The validator is strict: a misspelt field and a status of a later FHIR version are refused."""
    encounter = {"resourceType": "Encounter", "status": "finished", "class": {"code": "HH"}}
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"fullUrl": "urn:uuid:1", "resource": encounter}]}
    assert _r4_errors(bundle) == []
    encounter["status"] = "completed"  # FHIR R5's word for a finished encounter
    assert any("Encounter.status" in error for error in _r4_errors(bundle))
    encounter["status"] = "finished"
    encounter["serviceTypes"] = [{"text": "personal care"}]
    assert _r4_errors(bundle)
    del encounter["serviceTypes"]
    bundle["type"] = "bag"  # not a bundle type of R4
    assert _r4_errors(bundle)
    bundle["type"] = "collection"
    bundle["entry"].append({"fullUrl": "urn:uuid:2", "resource": {"resourceType": "CareTeamMember"}})
    assert any("'CareTeamMember' is not one of" in error for error in _r4_errors(bundle))  # no R4 resource of that name


async def test_the_demo_clients_bundle_is_valid_fhir_r4():
    assert await demo_seeded()
    clients = await Client.select(Client.id).order_by(Client.id).run()
    assert clients
    for row in clients:
        bundle = await fhir_bundle_for(client_id=row["id"], sections=ALL)
        assert _r4_errors(bundle) == [], row["id"]


async def test_a_fully_filled_bundle_is_valid_fhir_r4():
    """Every optional part the export can write is present once, and R4 accepts all of it."""
    world = await make_world()
    await Client.update({Client.preferred_name: "Bet", Client.language: "Welsh"}).where(
        Client.id == world.own["id"]).run()
    await add_contact(client_id=world.own["id"])
    plan_id = await _care(world)
    await CarePlan.update({CarePlan.ends_on: date(2030, 1, 1)}).where(CarePlan.id == plan_id).run()
    await Goal.update({Goal.target_date: date(2027, 6, 1), Goal.status: "in_progress"}).where(
        Goal.plan == plan_id).run()
    await add_service(plan_id=plan_id, kind="meals", worker=None, provider_name="Meals on Wheels",
                      ends_on=date(2029, 1, 1))
    answered = await make_referral(client_id=world.own["id"], agency=await make_agency(facility_id=world.facility),
                               status="in_progress", reason="Grab rails")
    await Referral.update({Referral.answered_at: clock.utcnow()}).where(Referral.id == answered["id"]).run()
    bundle = await fhir_bundle_for(client_id=world.own["id"], sections=ALL)
    types = {entry["resource"]["resourceType"] for entry in bundle["entry"]}
    assert {"Patient", "Practitioner", "PractitionerRole", "Organization", "CareTeam", "CarePlan", "Goal",
            "Encounter", "Location", "ServiceRequest", "Task", "Communication", "AllergyIntolerance",
            "RelatedPerson"} <= types
    text = json.dumps(bundle)
    assert "Grab rails" in text and "lastModified" in text and "2027-06-01" in text and "Welsh" in text
    assert _r4_errors(bundle) == []
