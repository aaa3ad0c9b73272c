from enum import Enum

from piccolo.columns import Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.accounts.tables import Facility, User
from app.clients.tables import Client


class AgencyKind(str, Enum):
    gp = "gp"
    hospital = "hospital"
    community_nursing = "community_nursing"
    pharmacy = "pharmacy"
    therapy = "therapy"
    day_centre = "day_centre"
    meals = "meals"
    transport = "transport"
    housing = "housing"
    benefits_advice = "benefits_advice"
    other = "other"


class Agency(Table, tablename="agency"):
    """A GP practice, hospital, pharmacy or resource agency the facility works with.

    Archived, never deleted: referrals and disclosures keep pointing at it.
    """

    facility = ForeignKey(Facility, on_delete=OnDelete.restrict, null=False, index=True)
    name = Varchar(length=200)
    search_name = Varchar(length=200, default="")
    kind = Varchar(length=32, choices=AgencyKind)
    address = Text(default="")
    phone = Varchar(length=40, default="")
    # The secure address referrals, reminders and disclosures are sent to.
    email = Varchar(length=254, default="")
    notes = Text(default="")  # opening hours, how they like to be contacted
    archived_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())


class ClientProvider(Table, tablename="client_provider"):
    """An agency involved in one client's care, the role it plays (GP, pharmacy, ...) and a named contact."""

    client = ForeignKey(Client, on_delete=OnDelete.restrict, null=False, index=True)
    agency = ForeignKey(Agency, on_delete=OnDelete.restrict, null=False, index=True)
    role = Varchar(length=32, choices=AgencyKind)
    contact_name = Varchar(length=200, default="")
    added_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    ended_at = Timestamptz(null=True, default=None)


class Referral(Table, tablename="referral"):
    """A client referred to an agency, followed until the loop closes (app.liaison.rules has the flow).

    The agency answers through a link without an account: only the token's hash is kept, with
    its expiry, revocation and how many times it was used.
    """

    client = ForeignKey(Client, on_delete=OnDelete.restrict, null=False, index=True)
    agency = ForeignKey(Agency, on_delete=OnDelete.restrict, null=False, index=True)
    reason = Text()
    request = Text(default="")  # what is asked of the agency
    urgency = Varchar(length=16, default="routine")
    consent_by = Varchar(length=200)  # who consented: the client, or who speaks for them
    consent_on = Date()
    expected_by = Date()
    status = Varchar(length=16, default="draft", index=True)
    outcome = Text(default="")
    # The family sees the referrals the team marked shareable.
    shareable = Boolean(default=False)
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
    answered_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    reminded_at = Timestamptz(null=True, default=None)
    link_token_hash = Varchar(length=64, null=True, default=None, unique=True)
    link_expires_at = Timestamptz(null=True, default=None)
    link_revoked_at = Timestamptz(null=True, default=None)
    link_uses = Integer(default=0)
    link_last_used_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)


class ReferralEvent(Table, tablename="referral_event"):
    """One step of a referral: when, by whom (a person, or the agency through its link), how, and the note."""

    referral = ForeignKey(Referral, on_delete=OnDelete.restrict, null=False, index=True)
    from_status = Varchar(length=16, default="")
    to_status = Varchar(length=16)
    note = Text(default="")
    channel = Varchar(length=16, default="kinward")  # kinward, link (the agency), phone (recorded by hand), email
    by_user = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    by_label = Varchar(length=200, default="")
    at = Timestamptz(default=TimestamptzNow())


class ShareLink(Table, tablename="share_link"):
    """A client's summary shared with one named recipient for a while, without an account."""

    client = ForeignKey(Client, on_delete=OnDelete.restrict, null=False, index=True)
    agency = ForeignKey(Agency, on_delete=OnDelete.restrict, null=True)
    recipient_name = Varchar(length=200)
    recipient_email = Varchar(length=254, default="")
    sections = Text(default="[]")  # JSON list of summary sections
    allow_fhir = Boolean(default=False)
    reason = Text()
    token_hash = Varchar(length=64, unique=True)
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    revoked_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    opens = Integer(default=0)
    last_opened_at = Timestamptz(null=True, default=None)
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Disclosure(Table, tablename="disclosure"):
    """What of a client's information left Kinward: which sections, to whom, why, when, by whom."""

    client = ForeignKey(Client, on_delete=OnDelete.restrict, null=False, index=True)
    kind = Varchar(length=32)  # print, fhir, share_created, share_opened, referral_sent, referral_answered
    sections = Text(default="[]")
    recipient = Varchar(length=300, default="")
    agency = ForeignKey(Agency, on_delete=OnDelete.restrict, null=True)
    reason = Text(default="")
    by_user = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    by_label = Varchar(length=200, default="")
    referral = ForeignKey(Referral, on_delete=OnDelete.restrict, null=True)
    share_link = ForeignKey(ShareLink, on_delete=OnDelete.restrict, null=True)
    at = Timestamptz(default=TimestamptzNow(), index=True)
