"""Audit rows name clients by id and never carry their personal data.

That is what lets a retention purge remove a client's personal data and leave the audit trail,
and its hash chain, untouched.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from app.accounts.tables import Session
from app.audit.services import Actor
from app.audit.tables import AuditEvent
from app.clients import services as clients
from app.clients.tables import Client, ClientContact
from app.visits import services as visits
from app.visits.tables import Visit
from app.web.sessions import session_create
from tests.careplans.factories import add_service, make_plan
from tests.conftest import demo_seeded, make_facility, make_user

PERSONAL = ("first_name", "last_name", "preferred_name", "address", "phone", "email", "allergies", "mobility",
            "communication", "what_matters", "risks", "care_instructions", "confidential_notes", "flag")


async def _personal_values() -> set[str]:
    """Everything personal Kinward holds about its clients, as the strings an audit row could leak."""
    values: set[str] = set()
    for row in await Client.select().run():
        values |= {str(row[name]) for name in PERSONAL if row[name] and len(str(row[name])) >= 4}
        if row["date_of_birth"]:
            values.add(row["date_of_birth"].isoformat())
    for row in await ClientContact.select(ClientContact.name, ClientContact.phone).run():
        values |= {v for v in row.values() if v and len(v) >= 4}
    return values


async def _leaks() -> list[tuple[str, str]]:
    values = await _personal_values()
    assert values, "the check needs clients with personal data"
    leaks = []
    for event in await AuditEvent.select().run():
        text = " ".join(str(event[c]) for c in ("actor_label", "action", "object_type", "object_id", "address",
                                                "detail"))
        leaks += [(event["action"], value) for value in values if value.lower() in text.lower()]
    return leaks


async def test_the_demo_facilitys_audit_trail_holds_no_personal_data_of_clients():
    await demo_seeded()
    assert await AuditEvent.count().where(AuditEvent.client_id.is_not_null()).run() > 0
    assert await _leaks() == []


async def test_reasons_typed_about_a_client_stay_in_the_record_not_in_the_audit_trail():
    facility = await make_facility()
    coordinator = await make_user(facility_id=facility, role="coordinator", name="Cora Staff")
    other = await make_user(facility_id=facility, role="coordinator", name="Otis Staff")
    worker = await make_user(facility_id=facility, role="worker", name="Wren Staff")
    actor = Actor(user_id=coordinator["id"], label=coordinator["email"], role="coordinator", facility_id=facility)
    today = date(2026, 11, 30)
    client_id = await clients.client_create(actor=actor, facility_id=facility, today=today, details=clients.ClientDetails(
        first_name="Philippa", last_name="Quennell", date_of_birth=date(1938, 2, 3), address="7 Larch Close",
        phone="01632 960777", email="philippa@example.org", allergies="Latex", confidential_notes="Son in prison"))
    await clients.contact_add(actor=actor, client_id=client_id, name="Rowan Quennell", phone="01632 960778")
    await clients.client_update(actor=actor, client_id=client_id, version=1, details=clients.ClientDetails(
        first_name="Philippa", last_name="Quennell-Hart", date_of_birth=date(1938, 2, 3), address="9 Larch Close",
        phone="01632 960779", email="philippa@example.org", allergies="Latex", confidential_notes="Son in prison"))
    await clients.client_status_change(actor=actor, client_id=client_id, version=2, to_status="active",
                                       effective_on=today, reason="Philippa Quennell-Hart agreed to care at 9 Larch Close",
                                       today=today)
    await session_create(user_id=other["id"], absolute_hours=1)
    session = await Session.select(Session.id).where(Session.user == other["id"]).first().run()
    await clients.break_glass_open(actor=Actor(user_id=other["id"], label=other["email"], role="coordinator",
                                               facility_id=facility), client_id=client_id, session_id=session["id"],
                                   reason="Philippa Quennell-Hart fell; paramedics need her allergies (Latex)")
    plan = await make_plan(client_id=client_id)
    service = await add_service(plan_id=plan, worker=worker)
    start = datetime.now(timezone.utc) + timedelta(days=2)
    rows = await Visit.insert(Visit(client=client_id, service=service, worker=worker["id"], scheduled_start=start,
                                    scheduled_end=start + timedelta(minutes=30))).run()
    await visits.visit_cancel(actor=actor, visit_id=rows[0]["id"], version=1,
                              reason="Philippa Quennell-Hart is in hospital at 9 Larch Close's nearest ward")

    actions = {e["action"] for e in await AuditEvent.select(AuditEvent.action).where(
        AuditEvent.client_id == client_id).run()}
    assert {"client.created", "client.updated", "client.status_changed", "client.contact_added",
            "client.break_glass", "visit.cancelled"} <= actions
    assert await _leaks() == []
