"""The demo facility: fictional people to try Kinward with. Later features add their own demo data here."""

from __future__ import annotations

from app.accounts.queries import user_by_email
from app.accounts.services import facility_create, user_create
from app.accounts.tables import Facility, Role
from app.audit.services import Actor
from app.careplans.demo import demo_care_plans
from app.clients.demo import demo_clients
from app.messages.demo import demo_conversations
from app.visits.demo import demo_visit_logs
from app.reports.demo import demo_supervision_notes
from app.reviews.demo import demo_reviews, demo_visit_history

DEMO_FACILITY = "Riverside Community Care (demo)"

# email -> (display name, role)
DEMO_PEOPLE = {
    "admin@kinward.example": ("Ada Admin", Role.admin),
    "coordinator@kinward.example": ("Anna Coordinator", Role.coordinator),
    "coordinator2@kinward.example": ("Ben Coordinator", Role.coordinator),
    "worker@kinward.example": ("Wendy Worker", Role.worker),
    "worker2@kinward.example": ("Walter Worker", Role.worker),
    "family@kinward.example": ("Fiona Family", Role.family),
    "family2@kinward.example": ("Frank Family", Role.family),
}
DEMO_EMAILS = tuple(DEMO_PEOPLE)


def demo_password(email: str) -> str:
    return f"kinward-demo-{email.split('@')[0]}"


async def demo_seed() -> bool:
    """Create the demo facility and accounts unless they exist; True when something was created."""
    if await Facility.exists().where(Facility.name == DEMO_FACILITY).run():
        return False
    facility_id = await facility_create(name=DEMO_FACILITY, timezone="Europe/London")
    actor = Actor(label="kinward demo", facility_id=facility_id)
    for email, (name, role) in DEMO_PEOPLE.items():
        if await user_by_email(email=email) is None:
            await user_create(actor=actor, facility_id=facility_id, email=email, display_name=name, role=role,
                              password=demo_password(email))
    await demo_clients(facility_id=facility_id)
    await demo_care_plans(facility_id=facility_id)
    await demo_visit_logs(facility_id=facility_id)
    await demo_conversations(facility_id=facility_id)
    await demo_visit_history(facility_id=facility_id)
    await demo_reviews(facility_id=facility_id)
    await demo_supervision_notes(facility_id=facility_id)
    return True
