from enum import Enum

from piccolo.columns import Date, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.accounts.tables import User
from app.clients.tables import Client


class Visibility(str, Enum):
    family = "family"  # the family members who may message, and the care team
    team = "team"  # a team-only note: never shown to family


class EmailMode(str, Enum):
    each = "each"
    digest = "digest"
    none = "none"


class Message(Table, tablename="message"):
    """One message in a client's thread. Never edited or deleted: a correction is a new message."""

    client = ForeignKey(Client, on_delete=OnDelete.restrict, null=False, index=True)
    author = ForeignKey(User, on_delete=OnDelete.restrict, null=False)
    # The author's role when they wrote it: whether a family message was answered depends on it.
    author_role = Varchar(length=16)
    visibility = Varchar(length=16, choices=Visibility, default=Visibility.family.value)
    body = Text()
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    # When the unanswered-message escalation went out for it (at most once).
    escalated_at = Timestamptz(null=True, default=None)


class MessageRead(Table, tablename="message_read"):
    """A read receipt: `user` first saw `message` at `read_at`. Unique per (message, user)."""

    message = ForeignKey(Message, on_delete=OnDelete.restrict, null=False, index=True)
    user = ForeignKey(User, on_delete=OnDelete.restrict, null=False, index=True)
    read_at = Timestamptz(default=TimestamptzNow())


class MessagePreference(Table, tablename="message_preference"):
    """How a person wants to hear about messages by email; no row means every message."""

    user = ForeignKey(User, on_delete=OnDelete.cascade, null=False, unique=True)
    email = Varchar(length=16, choices=EmailMode, default=EmailMode.each.value)
    # The facility day of the last daily digest, so each day's goes out once across processes.
    digest_sent_on = Date(null=True, default=None)
