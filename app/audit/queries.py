"""Reading the audit trail: the chains' heads, their verification, and the admin's filtered list."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Optional
from zoneinfo import ZoneInfo

from piccolo.querystring import QueryString

from app import clock, db
from app.audit.services import GENESIS, checkpoint_signature, row_hash
from app.audit.tables import AuditChain, AuditEvent

VERIFY_PAGE = 1000
# Rows are sealed a moment after they are stored; one still unsealed after this is reported.
UNSEALED_BOUND = timedelta(minutes=5)


@dataclass(frozen=True)
class ChainBreak:
    facility_id: Optional[int]
    event_id: Optional[int]
    seq: int
    reason: str


async def audit_chain_heads() -> dict[Optional[int], dict]:
    """Each chain's head as its sealer left it: {facility_id (None: no facility): {"seq", "hash"}}."""
    rows = await AuditChain.select(AuditChain.chain_key, AuditChain.seq, AuditChain.head_hash).run()
    return {(r["chain_key"] or None): {"seq": r["seq"], "hash": r["head_hash"]} for r in rows}


class CheckpointError(ValueError):
    """The checkpoint file cannot be trusted (unreadable, or its signature does not match the key)."""


def checkpoint_chains(checkpoint: dict) -> dict[Optional[int], dict]:
    """The chains a signed checkpoint vouches for, after checking its signature."""
    try:
        chains, written_at, signature = checkpoint["chains"], checkpoint["written_at"], checkpoint["signature"]
    except (KeyError, TypeError):
        raise CheckpointError("the checkpoint is not a Kinward audit checkpoint") from None
    if not hmac.compare_digest(checkpoint_signature(chains, written_at), str(signature)):
        raise CheckpointError("the checkpoint's signature does not match: it was altered or signed with another key")
    return {c["facility_id"]: c for c in chains}


async def audit_chain_verify(checkpoint: Optional[dict] = None) -> Optional[ChainBreak]:
    """The first problem in any chain, or None if all are intact.

    Sealed rows are checked link by link against the key (altered, removed, reordered or
    re-hashed rows); each chain must end where its head says, and reach at least the signed
    checkpoint's row with the same hash (its last rows or the whole chain removed); a row still
    unsealed long after it was stored is reported too.
    """
    anchors = checkpoint_chains(checkpoint) if checkpoint is not None else {}
    heads = await audit_chain_heads()
    in_rows = {r["facility_id"] for r in await AuditEvent.select(AuditEvent.facility_id).distinct().run()}
    facilities = set(in_rows) | set(heads) | set(anchors)
    for facility in sorted(facilities, key=lambda f: (f is not None, f or 0)):
        broken = await _verify_chain(facility, heads.get(facility), anchors.get(facility))
        if broken is not None:
            return broken
    stale = await db.fetch(QueryString(
        "SELECT id, facility_id FROM audit_event WHERE seq IS NULL AND at < {} ORDER BY id LIMIT 1",
        clock.utcnow() - UNSEALED_BOUND))
    if stale:
        return ChainBreak(stale[0]["facility_id"], stale[0]["id"], 0,
                          f"not sealed into the chain within {int(UNSEALED_BOUND.total_seconds() // 60)} minutes")
    return None


async def _verify_chain(facility: Optional[int], head: Optional[dict], anchor: Optional[dict]) -> Optional[ChainBreak]:
    chain = AuditEvent.facility_id.is_null() if facility is None else AuditEvent.facility_id == facility
    expected_seq, prev, last_id = 1, GENESIS, None
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
            if row_hash(row, prev_hash=row["prev_hash"], seq=row["seq"]) != row["hash"]:
                return ChainBreak(facility, row["id"], row["seq"], "content was altered")
            if anchor is not None and row["seq"] == anchor["seq"] and row["hash"] != anchor["hash"]:
                return ChainBreak(facility, row["id"], row["seq"], "differs from the signed checkpoint")
            prev, expected_seq, last_id = row["hash"], expected_seq + 1, row["id"]
    last_seq = expected_seq - 1
    if head is not None and (head["seq"] != last_seq or (last_seq and head["hash"] != prev)):
        return ChainBreak(facility, last_id, last_seq + 1,
                          f"the chain ends at row {last_seq} but its head is row {head['seq']}: rows were removed")
    if anchor is not None and last_seq < anchor["seq"]:
        what = "the whole chain was removed" if last_seq == 0 else "its last rows were removed"
        return ChainBreak(facility, last_id, last_seq + 1,
                          f"the chain ends at row {last_seq}, before the signed checkpoint's row {anchor['seq']}: {what}")
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
    # Newest first by id: unsealed rows have no seq yet.
    rows = await query.order_by(AuditEvent.id, ascending=False).limit(AUDIT_PAGE_SIZE + 1).offset(
        (page - 1) * AUDIT_PAGE_SIZE
    ).run()
    return rows[:AUDIT_PAGE_SIZE], len(rows) > AUDIT_PAGE_SIZE


async def audit_actions_for(*, facility_id: int) -> list[str]:
    rows = await AuditEvent.select(AuditEvent.action).where(AuditEvent.facility_id == facility_id).distinct().run()
    return sorted(r["action"] for r in rows)
