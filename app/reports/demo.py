"""Demo supervision notes: two versions of the note about the first care worker. Invented words."""

from __future__ import annotations

from datetime import timedelta

from app import clock
from app.accounts.queries import user_by_email
from app.reports.tables import SupervisionNote

NOTES = (
    "Reliable and kind; families mention her by name. Mornings sometimes start late when the bus is late: "
    "talk about the first round's timing.",
    "Talked about the first round: she now starts with the nearest client. Keep an eye on Friday mornings.",
)


async def demo_supervision_notes(*, facility_id: int) -> None:
    worker = await user_by_email(email="worker@kinward.example")
    coordinator = await user_by_email(email="coordinator@kinward.example")
    if worker is None or coordinator is None:
        return
    now = clock.utcnow()
    for version, body in enumerate(NOTES, start=1):
        await SupervisionNote.insert(SupervisionNote(worker=worker["id"], version=version, body=body,
                                                     author=coordinator["id"],
                                                     created_at=now - timedelta(days=40 - 20 * version))).run()
