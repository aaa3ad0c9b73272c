"""Reading the audit trail: verification of the hash chains and the admin's filtered list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Optional
from zoneinfo import ZoneInfo

from app.audit.services import GENESIS, event_hash
from app.audit.tables import AuditEvent

VERIFY_PAGE = 1000


@dataclass(frozen=True)
class ChainBreak:
    facility_id: Optional[int]
    event_id: Optional[int]
    seq: int
    reason: str


async def audit_chain_verify() -> Optional[ChainBreak]:
    """The first broken row of any chain (altered, removed or reordered), or None if all are intact."""
    facilities = await AuditEvent.select(AuditEvent.facility_id).distinct().run()
    for facility in sorted((r["facility_id"] for r in facilities), key=lambda f: (f is not None, f or 0)):
        chain = AuditEvent.facility_id.is_null() if facility is None else AuditEvent.facility_id == facility
        expected_seq, prev = 1, GENESIS
        while True:
            rows = await AuditEvent.select().where(chain & (AuditEvent.seq >= expected_seq)).order_by(
                AuditEvent.seq
            ).limit(VERIFY_PAGE).run()
            if not rows:
                break
            for row in rows:
                if row["seq"] != expected_seq:
                    return ChainBreak(facility, row["id"], expected_seq, f"row {expected_seq} is missing")
                if row["prev_hash"] != prev:
                    return ChainBreak(facility, row["id"], row["seq"], "does not follow the previous row")
                recomputed = event_hash(
                    prev_hash=row["prev_hash"], facility_id=row["facility_id"], seq=row["seq"], at=row["at"],
                    actor_id=row["actor_id"], actor_label=row["actor_label"], role=row["role"],
                    action=row["action"], object_type=row["object_type"], object_id=row["object_id"],
                    client_id=row["client_id"], device_id=row["device_id"], address=row["address"],
                    detail=row["detail"],
                )
                if recomputed != row["hash"]:
                    return ChainBreak(facility, row["id"], row["seq"], "content was altered")
                prev, expected_seq = row["hash"], expected_seq + 1
    return None


@dataclass(frozen=True)
class AuditFilter:
    actor_id: Optional[int] = None
    action: str = ""
    day_from: Optional[date] = None
    day_to: Optional[date] = None
    timezone: str = "UTC"  # the facility's: days start at local midnight


AUDIT_PAGE_SIZE = 50


async def audit_events_for(*, facility_id: int, filters: AuditFilter, page: int) -> tuple[list[dict], bool]:
    """One page of the facility's events, newest first; the flag says whether an older page exists."""
    query = AuditEvent.select().where(AuditEvent.facility_id == facility_id)
    if filters.actor_id is not None:
        query = query.where(AuditEvent.actor_id == filters.actor_id)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.day_from:
        query = query.where(AuditEvent.at >= datetime.combine(filters.day_from, time.min, tzinfo=ZoneInfo(filters.timezone)))
    if filters.day_to:
        end = datetime.combine(filters.day_to + timedelta(days=1), time.min, tzinfo=ZoneInfo(filters.timezone))
        query = query.where(AuditEvent.at < end)
    rows = await query.order_by(AuditEvent.seq, ascending=False).limit(AUDIT_PAGE_SIZE + 1).offset(
        (page - 1) * AUDIT_PAGE_SIZE
    ).run()
    return rows[:AUDIT_PAGE_SIZE], len(rows) > AUDIT_PAGE_SIZE


async def audit_actions_for(*, facility_id: int) -> list[str]:
    rows = await AuditEvent.select(AuditEvent.action).where(AuditEvent.facility_id == facility_id).distinct().run()
    return sorted(r["action"] for r in rows)
