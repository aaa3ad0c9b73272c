"""The client's information as a FHIR R4 Bundle (type collection), built from `fhir.resources` models.

The models are fhir.resources' R4B package (FHIR 4.3): for every resource used here (Patient,
RelatedPerson, Practitioner, PractitionerRole, Organization, CareTeam, CarePlan, Goal, Encounter,
Location, ServiceRequest, Task, Communication, AllergyIntolerance) R4B made no change to R4 4.0.1,
so the bundle is valid R4; fhir.resources' own R4 models need pydantic 1, which Kinward cannot use.
Each resource is validated as it is built, so a bundle that does not conform never leaves; the tests
check whole bundles against the official R4 (4.0) JSON schema as well (tests/liaison/fhir_r4/), which
would refuse anything only R4B knows. The download declares `fhirVersion=4.0` in its media type.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Any, Optional
from zoneinfo import ZoneInfo

from fhir.resources.R4B.allergyintolerance import AllergyIntolerance
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.careteam import CareTeam
from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.goal import Goal
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole
from fhir.resources.R4B.relatedperson import RelatedPerson
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from app import clock
from app.accounts.queries import facility_by_id
from app.clients.queries import client_facility_id, contacts_for
from app.liaison.queries import summary_for

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
GOAL_STATUS = {"not_started": ("planned", None), "in_progress": ("active", "in-progress"),
               "achieved": ("completed", "achieved"), "discontinued": ("cancelled", "not-achieved")}
# Kinward's referral status -> FHIR Task.status (the SDOH referral Task flow) and ServiceRequest.status.
TASK_STATUS = {"draft": "draft", "sent": "requested", "received": "received", "accepted": "accepted",
               "declined": "rejected", "in_progress": "in-progress", "completed": "completed",
               "cancelled": "cancelled"}
REQUEST_STATUS = {"draft": "draft", "declined": "revoked", "completed": "completed", "cancelled": "revoked"}
NAMESPACE = uuid.UUID("4b1e6d0a-6a8e-4c55-9d3b-6b696e776172")


class _Bundle:
    def __init__(self, facility_id: int) -> None:
        self.facility_id = facility_id
        self.entries: list[dict] = []
        self.seen: set[str] = set()

    def ref(self, kind: str, key: Any) -> str:
        return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'{self.facility_id}/{kind}/{key}')}"

    def add(self, kind: str, key: Any, resource: Resource) -> str:
        url = self.ref(kind, key)
        if url not in self.seen:
            self.seen.add(url)
            self.entries.append({"fullUrl": url, "resource": resource})
        return url


def _instant(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _organization(bundle: _Bundle, agency_id: int, name: str, phone: str = "", email: str = "") -> str:
    telecom = [{"system": "phone", "value": phone}] if phone else []
    telecom += [{"system": "email", "value": email}] if email else []
    return bundle.add("agency", agency_id, Organization(name=name, telecom=telecom or None, active=True))


def _practitioner(bundle: _Bundle, user_id: int, name: str) -> str:
    return bundle.add("user", user_id, Practitioner(name=[{"text": name}], active=True))


async def fhir_bundle_for(*, client_id: int, sections: tuple[str, ...] | list[str],
                          now: Optional[datetime] = None) -> dict:
    """The client's Bundle with only the chosen sections, as JSON-ready data (the export, share links and
    subject-access requests use it)."""
    now = now or clock.utcnow()
    facility_id = await client_facility_id(client_id=client_id)
    facility_row = await facility_by_id(facility_id=facility_id)
    facility_name = facility_row["name"]
    today = now.astimezone(ZoneInfo(facility_row["timezone"])).date()
    summary = await summary_for(client_id=client_id, sections=sections, today=today, now=now)
    bundle = _Bundle(facility_id)
    person = summary["client"]
    patient = bundle.ref("client", client_id)
    facility = bundle.add("facility", facility_id, Organization(name=facility_name, active=True))
    bundle.add("client", client_id, Patient(
        name=[{"family": person["last_name"], "given": [person["first_name"]],
               **({"text": person["name"]} if person["preferred_name"] else {})}],
        birthDate=person["date_of_birth"], telecom=[{"system": "phone", "value": person["phone"]}]
        if person["phone"] else None, address=[{"text": person["address"]}] if person["address"] else None,
        communication=[{"language": {"text": person["language"]}, "preferred": True}] if person["language"] else None,
        managingOrganization={"reference": facility},
    ))
    if "needs" in sections and person.get("allergies", "").strip():
        bundle.add("allergy", client_id, AllergyIntolerance(patient={"reference": patient},
                                                            code={"text": person["allergies"]}))
    if "team" in sections:
        participants = []
        for member in summary["team"]:
            practitioner = _practitioner(bundle, member["user_id"], member["display_name"])
            role = bundle.add("team_role", member["id"], PractitionerRole(
                practitioner={"reference": practitioner}, organization={"reference": facility},
                code=[{"text": member["role"]}], active=True))
            participants.append({"role": [{"text": member["role"]}], "member": {"reference": role},
                                 "period": {"start": member["since"].isoformat()}})
        for provider in summary["providers"]:
            organization = _organization(bundle, provider["agency_id"], provider["agency_name"], provider["phone"],
                                         provider["email"])
            participants.append({"role": [{"text": provider["role"]}], "member": {"reference": organization}})
        bundle.add("care_team", client_id, CareTeam(status="active", subject={"reference": patient},
                                                    participant=participants or None,
                                                    managingOrganization=[{"reference": facility}]))
        for contact in await contacts_for(client_id=client_id):
            bundle.add("contact", contact["id"], RelatedPerson(
                patient={"reference": patient}, name=[{"text": contact["name"]}],
                relationship=[{"text": contact["relationship"]}] if contact["relationship"] else None,
                telecom=[{"system": "phone", "value": contact["phone"]}] if contact["phone"] else None))
    plan = summary.get("plan")
    if plan:
        goals = []
        for goal in plan["goals"]:
            lifecycle, achievement = GOAL_STATUS.get(goal["status"], ("active", None))
            goals.append({"reference": bundle.add("goal", goal["id"], Goal(
                lifecycleStatus=lifecycle, description={"text": goal["description"]}, subject={"reference": patient},
                achievementStatus={"coding": [{"system": "http://terminology.hl7.org/CodeSystem/goal-achievement",
                                               "code": achievement}]} if achievement else None,
                target=[{"dueDate": goal["target_date"]}] if goal["target_date"] else None))})
        activities = []
        for service in plan["services"]:
            repeat: dict[str, Any] = {
                "dayOfWeek": [WEEKDAYS[d - 1] for d in sorted(service["weekday_set"])],
                "timeOfDay": [service["start_time"].strftime("%H:%M:%S")],
                "duration": service["duration_minutes"], "durationUnit": "min",
                "boundsPeriod": {"start": service["starts_on"].isoformat(),
                                 **({"end": service["ends_on"].isoformat()} if service["ends_on"] else {})},
            }
            performer = None
            if service["worker_id"]:
                performer = [{"reference": _practitioner(bundle, service["worker_id"], service["worker_name"])}]
            activities.append({"detail": {
                "kind": "ServiceRequest", "status": "scheduled", "code": {"text": service["kind"]},
                "description": service["instructions"] or None, "scheduledTiming": {"repeat": repeat},
                "performer": performer}})
        bundle.add("plan", plan["id"], CarePlan(
            status="active", intent="plan", subject={"reference": patient}, title=f"Care plan v{plan['version']}",
            description=plan["summary"] or None,
            period={"start": plan["starts_on"].isoformat(),
                    **({"end": plan["ends_on"].isoformat()} if plan["ends_on"] else {})},
            goal=goals or None, activity=activities or None))
    for visit in summary.get("visits", []):
        if visit["status"] != "completed":
            continue
        where = visit["location_note"] or visit["location"] or "home"
        location = bundle.add("location", where, Location(name=where))
        participant = None
        if visit["worker_id"]:
            participant = [{"individual": {"reference": _practitioner(bundle, visit["worker_id"],
                                                                      visit["worker_name"])}}]
        bundle.add("visit", visit["id"], Encounter(
            status="finished", subject={"reference": patient},
            class_fhir={"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "HH",
                        "display": "home health"},
            serviceType={"text": visit["kind"]}, participant=participant,
            period={"start": _instant(visit["check_in_at"] or visit["scheduled_start"]),
                    "end": _instant(visit["check_out_at"] or visit["scheduled_end"])},
            location=[{"location": {"reference": location}}], serviceProvider={"reference": facility}))
    for referral in summary.get("referrals", []):
        organization = _organization(bundle, referral["agency_id"], referral["agency_name"], referral["agency_phone"])
        request = bundle.add("referral_request", referral["id"], ServiceRequest(
            status=REQUEST_STATUS.get(referral["status"], "active"), intent="order", subject={"reference": patient},
            code={"text": referral["request"] or referral["reason"]}, reasonCode=[{"text": referral["reason"]}],
            performer=[{"reference": organization}], authoredOn=_instant(referral["created_at"]),
            requester={"reference": facility}))
        bundle.add("referral_task", referral["id"], Task(
            status=TASK_STATUS[referral["status"]], intent="order", focus={"reference": request},
            for_fhir={"reference": patient}, owner={"reference": organization}, requester={"reference": facility},
            authoredOn=_instant(referral["created_at"]), lastModified=_instant(referral["answered_at"]),
            restriction={"period": {"end": datetime.combine(referral["expected_by"], time(23, 59),
                                                            tzinfo=now.tzinfo).isoformat()}},
            note=[{"text": referral["outcome"]}] if referral["outcome"] else None))
    for visit in summary.get("family_summaries", []):
        bundle.add("family_summary", visit["id"], Communication(
            status="completed", subject={"reference": patient}, sent=_instant(visit["check_out_at"]),
            payload=[{"contentString": visit["family_summary"]}], category=[{"text": "visit summary"}]))
    result = Bundle(type="collection", timestamp=now.isoformat(), entry=bundle.entries or None)
    return result.model_dump(mode="json", by_alias=True, exclude_none=True)

