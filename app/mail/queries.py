"""Reads about the outbox: how much mail waits, went out, or was refused."""

from __future__ import annotations

from piccolo.query.functions.aggregate import Count

from app.mail.tables import Outbox, OutboxStatus


async def outbox_counts() -> dict[str, int]:
    rows = await Outbox.select(Outbox.status, Count(Outbox.id, alias="n")).group_by(Outbox.status).run()
    counts = {status.value: 0 for status in OutboxStatus}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts
