"""Demo liaison: a dozen agencies, providers for every demo client, referrals in every state (two overdue,
one answered through its link), one share link and a few disclosures.

Written without emails: nobody should be mailed about invented people. Every agency and address here
is invented; the .example domain never receives mail.
"""

from __future__ import annotations

from datetime import timedelta

from app import clock
from app.accounts.queries import user_by_email
from app.audit.services import Actor
from app.clients.tables import Client
from app.liaison import services
from app.liaison.rules import LINK_LIFETIME
from app.liaison.services import AgencyDetails, ShareDetails
from app.liaison.tables import Referral, ReferralEvent
from app.web.tokens import token_hash, token_new

AGENCIES = (
    ("Riverside GP Practice", "gp", "01632 960100", "referrals@riverside-gp.example"),
    ("Canal Street Surgery", "gp", "01632 960101", "secure@canalstreet-surgery.example"),
    ("Riverside General Hospital", "hospital", "01632 960200", "discharge@riverside-hospital.example"),
    ("District Nursing Team North", "community_nursing", "01632 960300", "dn-north@nhs-trust.example"),
    ("Mill Lane Pharmacy", "pharmacy", "01632 960400", "mill-lane@pharmacy.example"),
    ("High Street Pharmacy", "pharmacy", "01632 960401", "highstreet@pharmacy.example"),
    ("Riverside Physiotherapy", "therapy", "01632 960500", "physio@riverside-therapy.example"),
    ("Oak Tree Day Centre", "day_centre", "01632 960600", "hello@oaktree-daycentre.example"),
    ("Meals on Wheels Riverside", "meals", "01632 960700", "orders@meals-riverside.example"),
    ("Community Transport Riverside", "transport", "01632 960800", "bookings@ct-riverside.example"),
    ("Riverside Housing Adaptations", "housing", "01632 960900", "adaptations@riverside-housing.example"),
    ("Citizens Advice Riverside", "benefits_advice", "01632 961000", "advice@ca-riverside.example"),
)
NOTES = "Open Monday to Friday, 8:30 to 18:00."
# (client index in the caseload, agency index, status, days until the expected answer, reason)
REFERRALS = (
    (1, 6, "draft", 14, "Physiotherapy after a fall: strength and balance."),
    (2, 7, "sent", -3, "Two days a week at the day centre for company."),          # overdue
    (3, 10, "received", -1, "Grab rails in the bathroom and a second stair rail."),  # overdue
    (4, 8, "accepted", 5, "Hot lunches on the days without a care visit."),
    (5, 11, "declined", 2, "Attendance allowance claim."),
    (6, 3, "in_progress", 7, "Leg ulcer dressings three times a week."),
    (7, 9, "completed", -10, "Transport to the eye clinic."),
    (8, 6, "cancelled", 10, "Hydrotherapy (the client changed her mind)."),
)
PATH = {"draft": (), "sent": ("sent",), "received": ("sent", "received"), "accepted": ("sent", "received", "accepted"),
        "declined": ("sent", "received", "declined"), "in_progress": ("sent", "received", "accepted", "in_progress"),
        "completed": ("sent", "received", "accepted", "in_progress", "completed"), "cancelled": ("sent", "cancelled")}
OUTCOMES = {"declined": "Not eligible yet: the client's savings are above the limit; we suggested a review in spring.",
            "completed": "Taken to the clinic and back on the 12th; next appointment in three months."}


async def demo_liaison(*, facility_id: int) -> None:
    coordinator = await user_by_email(email="coordinator@kinward.example")
    actor = Actor(user_id=coordinator["id"], label=coordinator["email"], role="coordinator", facility_id=facility_id)
    agencies = []
    for name, kind, phone, email in AGENCIES:
        agencies.append(await services.agency_create(actor=actor, facility_id=facility_id, details=AgencyDetails(
            name=name, kind=kind, phone=phone, email=email, notes=NOTES,
            address=f"{len(agencies) + 3} Market Street\nRiverside RS1 {len(agencies) + 1}AB")))
    clients = await Client.select(Client.id, Client.first_name).where(Client.facility == facility_id).order_by(
        Client.id).run()
    for n, client in enumerate(clients):
        await services.provider_add(actor=actor, client_id=client["id"], agency_id=agencies[n % 2], role="gp",
                                    contact_name=("Dr Patel", "Dr Okonkwo", "Dr Byrne")[n % 3])
        await services.provider_add(actor=actor, client_id=client["id"], agency_id=agencies[4 + n % 2],
                                    role="pharmacy")
        if n % 4 == 0:
            await services.provider_add(actor=actor, client_id=client["id"], agency_id=agencies[3],
                                        role="community_nursing", contact_name="Sister Evans")
    now = clock.utcnow()
    today = clock.today_in("Europe/London")
    for index, agency_index, status, due_in, reason in REFERRALS:
        await _demo_referral(actor=actor, client_id=clients[index]["id"], agency_id=agencies[agency_index],
                             status=status, expected_by=today + timedelta(days=due_in), reason=reason, now=now)
    # One referral answered by the agency through its own link, as it would be.
    token = token_new()
    referral_id = await _demo_referral(actor=actor, client_id=clients[0]["id"], agency_id=agencies[0], status="sent",
                                       expected_by=today + timedelta(days=7), now=now, token=token,
                                       reason="Medication review: dizziness in the mornings since the new tablets.")
    await services.referral_link_use(token=token, address="192.0.2.10", to_status="accepted",
                                     note="Booked for Friday at 10:00 with Dr Patel.")
    await Referral.update({Referral.shareable: True}).where(Referral.id == referral_id).run()
    await services.share_link_create(actor=actor, client_id=clients[0]["id"], details=ShareDetails(
        recipient_name="Riverside General Hospital", recipient_email="", agency_id=agencies[2],
        sections=("needs", "plan", "team"), allow_fhir=True, reason="Outpatient appointment next week",
        lifetime=timedelta(days=7)))
    await services.disclosure_record(actor=actor, client_id=clients[0]["id"], kind="print",
                                     sections=("needs", "plan", "visits"), recipient="Riverside GP Practice",
                                     reason="Medication review", agency_id=agencies[0])
    await services.disclosure_record(actor=actor, client_id=clients[1]["id"], kind="fhir",
                                     sections=("needs", "plan", "team", "visits"), recipient="District Nursing Team North",
                                     reason="Shared care of leg ulcer dressings", agency_id=agencies[3])


async def _demo_referral(*, actor: Actor, client_id: int, agency_id: int, status: str, expected_by, reason: str,
                         now, token: str | None = None) -> int:
    """A referral taken along its flow with events in the past, without sending email."""
    steps = PATH[status]
    started = now - timedelta(days=3 + 2 * len(steps))
    sent = bool(steps)
    rows = await Referral.insert(Referral(
        client=client_id, agency=agency_id, reason=reason, request="Please assess and tell us what you can offer.",
        urgency="routine", consent_by="The client", consent_on=started.date(), expected_by=expected_by,
        status=status, outcome=OUTCOMES.get(status, ""), created_by=actor.user_id, created_at=started,
        updated_at=started, sent_at=started if sent else None,
        answered_at=started + timedelta(days=3) if status in ("accepted", "declined", "in_progress", "completed")
        else None, closed_at=now - timedelta(days=1) if status in ("declined", "completed", "cancelled") else None,
        link_token_hash=token_hash(token or token_new()) if sent else None,
        link_expires_at=started + LINK_LIFETIME if sent else None,
    )).run()
    referral_id = rows[0]["id"]
    previous = ""
    for n, step in enumerate(("draft",) + steps):
        await ReferralEvent.insert(ReferralEvent(
            referral=referral_id, from_status=previous, to_status=step, at=started + timedelta(days=2 * n),
            channel="link" if step in ("received", "accepted", "declined", "in_progress", "completed") else "kinward",
            by_user=None if step in ("received", "accepted", "declined", "in_progress", "completed") else actor.user_id,
            by_label="agency" if step not in ("draft", "sent", "cancelled") else actor.label,
            note=OUTCOMES.get(step, "Consent given by the client" if step == "draft" else ""))).run()
        previous = step
    return referral_id
