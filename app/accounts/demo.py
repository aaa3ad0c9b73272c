"""The demo facility's people: the login page lists them in development, the demo seeds them."""

from __future__ import annotations

from app.accounts.tables import Role

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
