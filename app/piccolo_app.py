"""The one Piccolo app: every Kinward table; migrations live in ../migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.accounts.tables import Device, Facility, LoginThrottle, OneTimeToken, Session, User
from app.audit.tables import AuditEvent
from app.careplans.tables import CarePlan, Goal, Service
from app.clients.tables import BreakGlassGrant, CareTeamMember, Client, ClientContact, ClientStatusChange, FamilyLink
from app.liaison.tables import Agency, ClientProvider, Disclosure, Referral, ReferralEvent, ShareLink
from app.mail.tables import Outbox
from app.messages.tables import Message, MessagePreference, MessageRead
from app.visits.tables import CalendarFeed, Visit, VisitSubmission

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

APP_CONFIG = AppConfig(
    app_name="kinward",
    migrations_folder_path=str(MIGRATIONS),
    table_classes=[Facility, User, Device, Session, LoginThrottle, OneTimeToken, AuditEvent,
                   Client, ClientStatusChange, ClientContact, CareTeamMember, FamilyLink, BreakGlassGrant,
                   CarePlan, Goal, Service, Visit, CalendarFeed, Message, MessageRead, MessagePreference, Outbox,
                   VisitSubmission, Agency, ClientProvider, Referral, ReferralEvent, ShareLink, Disclosure],
    migration_dependencies=[],
    commands=[],
)
