"""The family home's two visit sections, read through the visits feature.

Placeholders until app/visits/queries.py offers these reads: the family home shows an honest
"nothing to show yet" meanwhile.
"""

from __future__ import annotations

from datetime import datetime


async def upcoming_visits_for_family(*, client_id: int, now: datetime) -> list[dict]:
    """Scheduled visits from `now` on: scheduled_start, scheduled_end, kind, worker_first_name."""
    return []


async def shared_visit_summaries_for_family(*, client_id: int) -> list[dict]:
    """Recent summaries shared with the family: scheduled_start, check_out_at, kind, worker_first_name,
    family_summary."""
    return []
