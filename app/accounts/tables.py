from enum import Enum

from piccolo.columns import Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Role(str, Enum):
    admin = "admin"
    coordinator = "coordinator"
    worker = "worker"
    family = "family"


class Facility(Table, tablename="facility"):
    name = Varchar(length=200)
    timezone = Varchar(length=64, default="Europe/London")
    idle_lock_minutes = Integer(default=5)
    # A family message no team member answered within this many hours is escalated to the coordinators.
    message_answer_hours = Integer(default=24)
    # A visit not checked in this many minutes after its start is late (and missed once its end has passed).
    visit_grace_minutes = Integer(default=30)
    # A high concern no coordinator acknowledged within this many minutes is escalated to the admins.
    concern_escalation_minutes = Integer(default=120)
    # UK guidance keeps adult social care records for 8 years after care ends; then they may be purged.
    retention_years = Integer(default=8)
    created_at = Timestamptz(default=TimestamptzNow())


class User(Table, tablename="kinward_user"):
    facility = ForeignKey(Facility, on_delete=OnDelete.restrict, null=False)
    email = Varchar(length=254, unique=True)
    display_name = Varchar(length=200)
    role = Varchar(length=16, choices=Role)
    password_hash = Text(default="")
    pin_hash = Text(null=True, default=None)
    active = Boolean(default=True)
    failed_pin_attempts = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    last_login_at = Timestamptz(null=True, default=None)


class Device(Table, tablename="device"):
    """A registered shared tablet."""

    facility = ForeignKey(Facility, on_delete=OnDelete.restrict, null=False)
    name = Varchar(length=100)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)


class Session(Table, tablename="kinward_session"):
    token_hash = Varchar(length=64, unique=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, null=False, index=True)
    device = ForeignKey(Device, on_delete=OnDelete.set_null, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    flash = Text(default="")
    # "password" or "pin": the tablet lock screen lists people with a password session on the device.
    auth_method = Varchar(length=16, default="password")


class LoginThrottle(Table, tablename="login_throttle"):
    """Consecutive failed logins per key ("account:<email>" or "address:<ip>"), shared by all processes."""

    key = Varchar(length=300, unique=True)
    failures = Integer(default=0)
    blocked_until = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class OneTimeToken(Table, tablename="one_time_token"):
    """A single-use, expiring link token (set or reset a password); only its hash is stored."""

    token_hash = Varchar(length=64, unique=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, null=False)
    purpose = Varchar(length=32)
    created_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
