"""The outbox: mail is written in the same transaction as the change it tells about, and sent later.

Senders in any number of processes claim due rows with a token and a lease, so each row is sent
by one of them; a sender that dies mid-send leaves a lease that runs out, and the row is tried
again. An unreachable or failing SMTP server only delays mail: the row waits, with a growing delay.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from app import clock, db
from app.mail.tables import Outbox, OutboxStatus
from app.web.tokens import token_new

RETRY_FIRST = timedelta(seconds=30)
RETRY_LONGEST = timedelta(hours=1)
# Long enough for a slow server to take a batch; short enough that a crashed sender's mail goes soon.
CLAIM_LEASE = timedelta(minutes=5)
CLAIM_BATCH = 20
SUBJECT_MAX = 300

def retry_delay(*, attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: doubling from 30 s, at most an hour."""
    if attempts < 1:
        return timedelta(0)
    return min(RETRY_FIRST * (2 ** min(attempts - 1, 20)), RETRY_LONGEST)


def _one_line(text: str) -> str:
    # Header injection: a subject never carries a line break into the message headers.
    return " ".join(text.split())[:SUBJECT_MAX]


async def outbox_enqueue(*, kind: str, to_address: str, subject: str, body: str) -> int:
    """Queue one email; call inside the transaction of the change, so both happen or neither."""
    now = clock.utcnow()
    rows = await Outbox.insert(Outbox(
        kind=kind, to_address=to_address.strip(), subject=_one_line(subject), body=body,
        status=OutboxStatus.pending.value, attempts=0, next_attempt_at=now, created_at=now,
    )).run()
    return rows[0]["id"]


async def outbox_claim(*, limit: int = CLAIM_BATCH, now: Optional[datetime] = None) -> tuple[str, list[dict]]:
    """Claim up to `limit` due rows for this sender; returns the claim token and the rows.

    Due: pending and its time has come, or claimed by a sender whose lease ran out.
    """
    now = now or clock.utcnow()
    token = token_new()
    # Concurrent senders take different rows instead of queueing behind each other.
    lock = db.skip_locked()
    rows = await Outbox.raw(
        "UPDATE mail_outbox SET status = 'sending', claim_token = {}, claimed_until = {} "
        "WHERE id IN (SELECT id FROM mail_outbox WHERE (status = 'pending' AND next_attempt_at <= {}) "
        "OR (status = 'sending' AND claimed_until < {}) ORDER BY next_attempt_at, id LIMIT {}" + lock + ") "
        "RETURNING id, kind, to_address, subject, body, attempts, created_at",
        token, now + CLAIM_LEASE, now, now, limit,
    ).run()
    for row in rows:
        row["created_at"] = db.as_utc(row["created_at"])
    return token, sorted(rows, key=lambda row: row["id"])


async def outbox_sent(*, outbox_id: int, claim_token: str, redact: bool = False) -> None:
    """Delivered to the server. A redacted body (it held a one-time link) is not kept."""
    values = {Outbox.status: OutboxStatus.sent.value, Outbox.sent_at: clock.utcnow(), Outbox.last_error: "",
              Outbox.attempts: Outbox.attempts + 1}
    if redact:
        values[Outbox.body] = ""
    await Outbox.update(values).where((Outbox.id == outbox_id) & (Outbox.claim_token == claim_token)).run()


async def outbox_retry_later(*, outbox_id: int, claim_token: str, attempts: int, error: str) -> None:
    """A temporary failure: the row waits for its next attempt, later each time."""
    attempts += 1
    await Outbox.update({
        Outbox.status: OutboxStatus.pending.value, Outbox.attempts: attempts,
        Outbox.next_attempt_at: clock.utcnow() + retry_delay(attempts=attempts),
        Outbox.last_error: error[:2000], Outbox.claimed_until: None,
    }).where((Outbox.id == outbox_id) & (Outbox.claim_token == claim_token)).run()


async def outbox_failed(*, outbox_id: int, claim_token: str, attempts: int, error: str) -> None:
    """The server refused the message for good (no such mailbox): kept, with the reason, not retried."""
    await Outbox.update({
        Outbox.status: OutboxStatus.failed.value, Outbox.attempts: attempts + 1, Outbox.last_error: error[:2000],
        Outbox.claimed_until: None,
    }).where((Outbox.id == outbox_id) & (Outbox.claim_token == claim_token)).run()
