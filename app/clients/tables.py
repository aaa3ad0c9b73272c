from enum import Enum

from piccolo.columns import Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.accounts.tables import Facility, Session, User


class ClientStatus(str, Enum):
    referral = "referral"
    active = "active"
    paused = "paused"
    discharged = "discharged"


class TeamRole(str, Enum):
    coordinator = "coordinator"
    worker = "worker"


class Client(Table, tablename="client"):
    """A person receiving care. Never hard-deleted: discharge keeps the record."""

    facility = ForeignKey(Facility, on_delete=OnDelete.restrict, null=False, index=True)
    first_name = Varchar(length=100)
    last_name = Varchar(length=100)
    preferred_name = Varchar(length=100, default="")
    # Case- and accent-folded names, so "zoe" finds "Zoë" the same way on SQLite and PostgreSQL.
    search_name = Varchar(length=320, default="")
    date_of_birth = Date(null=True, default=None)
    address = Text(default="")
    phone = Varchar(length=40, default="")
    email = Varchar(length=254, default="")
    language = Varchar(length=100, default="")
    status = Varchar(length=16, choices=ClientStatus, default=ClientStatus.referral.value, index=True)
    status_since = Date(null=True, default=None)
    allergies = Text(default="")
    mobility = Text(default="")
    communication = Text(default="")
    what_matters = Text(default="")
    risks = Text(default="")
    care_instructions = Text(default="")
    confidential_notes = Text(default="")
    # A short alert the team should see on the caseload (e.g. "two falls this month").
    flag = Varchar(length=200, default="")
    # When the client's care is next reviewed; the care-plan feature keeps it in step with the active plan.
    review_due = Date(null=True, default=None)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ClientStatusChange(Table, tablename="client_status_change"):
    """One step of referral -> active -> paused -> discharged, with its date and reason."""

    client = ForeignKey(Client, on_delete=OnDelete.restrict, null=False, index=True)
    from_status = Varchar(length=16, default="")
    to_status = Varchar(length=16)
    effective_on = Date()
    reason = Text(default="")
    changed_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    changed_at = Timestamptz(default=TimestamptzNow())


class ClientContact(Table, tablename="client_contact"):
    """Someone to call about the client: next of kin, neighbour, GP, key holder."""

    client = ForeignKey(Client, on_delete=OnDelete.restrict, null=False, index=True)
    name = Varchar(length=200)
    relationship = Varchar(length=100, default="")
    phone = Varchar(length=40, default="")
    email = Varchar(length=254, default="")
    notes = Text(default="")
    emergency = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    removed_at = Timestamptz(null=True, default=None)
    # Raised by every change: a removal is made only from a page that showed this version.
    version = Integer(default=1)


class CareTeamMember(Table, tablename="care_team_member"):
    """A coordinator or worker on a client's team from `since` to `until` (inclusive, facility days)."""

    client = ForeignKey(Client, on_delete=OnDelete.restrict, null=False, index=True)
    user = ForeignKey(User, on_delete=OnDelete.restrict, null=False, index=True)
    role = Varchar(length=16, choices=TeamRole)
    since = Date()
    until = Date(null=True, default=None)
    added_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    # Raised by every change: an end date is set only from a page that showed this version.
    version = Integer(default=1)


class FamilyLink(Table, tablename="family_link"):
    """A family account's link to a client, and what it lets them see and do."""

    client = ForeignKey(Client, on_delete=OnDelete.restrict, null=False, index=True)
    user = ForeignKey(User, on_delete=OnDelete.restrict, null=False, index=True)
    relationship = Varchar(length=100, default="")
    may_see_schedule = Boolean(default=False)
    may_see_visit_summaries = Boolean(default=False)
    may_message = Boolean(default=False)
    approved_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    ended_at = Timestamptz(null=True, default=None)
    # Raised by every change: a link is ended only from a page that showed this version.
    version = Integer(default=1)


class BreakGlassGrant(Table, tablename="break_glass_grant"):
    """Emergency access to a client outside one's team, for one session, with the reason given."""

    client = ForeignKey(Client, on_delete=OnDelete.restrict, null=False, index=True)
    user = ForeignKey(User, on_delete=OnDelete.restrict, null=False)
    session = ForeignKey(Session, on_delete=OnDelete.cascade, null=False, index=True)
    reason = Text()
    created_at = Timestamptz(default=TimestamptzNow())
