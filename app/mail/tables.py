from enum import Enum

from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class OutboxStatus(str, Enum):
    pending = "pending"  # waiting for its next attempt
    sending = "sending"  # claimed by a sender until `claimed_until`
    sent = "sent"
    failed = "failed"  # the server refused it for good (e.g. no such mailbox)


class Outbox(Table, tablename="mail_outbox"):
    """An email written in the same transaction as the change it tells about, sent later.

    A row is never deleted by the sender: an SMTP outage only delays it.
    """

    kind = Varchar(length=32)
    to_address = Varchar(length=254)
    subject = Varchar(length=300)
    body = Text()
    status = Varchar(length=16, choices=OutboxStatus, default=OutboxStatus.pending.value, index=True)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow(), index=True)
    claim_token = Varchar(length=64, default="")
    claimed_until = Timestamptz(null=True, default=None)
    last_error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
