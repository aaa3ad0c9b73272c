"""What lower features need from higher ones, wired in once for every way Kinward runs (the app, the commands),
and the settings each of those ways applies alike (`configure`).

Each lower feature declares the question it cannot answer itself and fails safe while it is
unanswered: clients' visit window fails closed, the schedule update after a change raises, the visit
page's handover shows no team notes, and low and medium concerns are emailed to nobody.
"""

from __future__ import annotations

from app import db
from app.accounts import passwords
from app.audit.services import audit_configure
from app.clients import queries as clients_queries
from app.clients import services as clients_services
from app.messages.queries import email_modes_for
from app.pages.handover import visit_handover
from app.visits import controller as visits_controller
from app.visits.queries import worker_visits_clients
from app.visits import services as visits_services
from app.visits.services import schedule_sync
from app.web.links import links_configure


def wire() -> None:
    # Whether a worker off the care team has a visit with the client near today (their record access).
    clients_queries.visit_window_register(worker_visits_clients)
    # A client's visits follow a status change and an activated or closed plan, in the same transaction.
    clients_services.schedule_update_register(schedule_sync)
    # Messages stand above visits: the visit page's handover shows the team's notes through pages.
    visits_controller.handover_register(visit_handover)
    # How each coordinator wants to hear of a low or medium concern is their email preference, kept by messages.
    visits_services.email_modes_register(email_modes_for)


def configure(settings) -> None:
    """The settings the app and the commands apply the same way: the database, password hashing, links in
    emails, the audit trail's key and checkpoint."""
    db.configure(settings.database_url)
    passwords.configure_concurrency(settings.password_hash_concurrency)
    passwords.configure_hashing(settings.password_hashing)
    links_configure(base_url=settings.base_url)
    audit_configure(key=settings.audit_key, checkpoint_path=settings.audit_checkpoint_path,
                    checkpoint_minutes=settings.audit_checkpoint_minutes)
