"""The one Piccolo app: every Kinward table; migrations live in ../migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.accounts.tables import Device, Facility, LoginThrottle, OneTimeToken, Session, User
from app.audit.tables import AuditChain, AuditEvent
from app.careplans.tables import CarePlan, Goal, GoalNote, Service
from app.clients.tables import BreakGlassGrant, CareTeamMember, Client, ClientContact, ClientStatusChange, FamilyLink
from app.liaison.tables import Agency, ClientProvider, Disclosure, Referral, ReferralEvent, ShareLink
from app.mail.tables import Outbox
from app.messages.tables import Message, MessagePreference, MessageRead
from app.records.tables import BackupRun, RetentionPurge
from app.visits.tables import CalendarFeed, Visit
from app.reviews.tables import FamilyReviewInput, Review, ReviewAddendum
from app.reports.tables import SupervisionNote
from app.web.tables import FormSubmission

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

APP_CONFIG = AppConfig(
    app_name="kinward",
    migrations_folder_path=str(MIGRATIONS),
    table_classes=[Facility, User, Device, Session, LoginThrottle, OneTimeToken, AuditEvent, AuditChain,
                   Client, ClientStatusChange, ClientContact, CareTeamMember, FamilyLink, BreakGlassGrant,
                   CarePlan, Goal, GoalNote, Service, Visit, CalendarFeed, Message, MessageRead, MessagePreference, Outbox,
                   Agency, ClientProvider, Referral, ReferralEvent, ShareLink, Disclosure,
                   BackupRun, RetentionPurge, Review, ReviewAddendum, FamilyReviewInput, SupervisionNote,
                   FormSubmission],
    migration_dependencies=[],
    commands=[],
)
