"""Writing the audit trail: append-only rows, each hash-chained to the one before in its facility's chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Optional

from app import db
from app.audit.tables import AuditEvent
from app import clock

GENESIS = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who did something, from where: attached to every audit row."""

    user_id: Optional[int] = None
    label: str = ""
    role: str = ""
    facility_id: Optional[int] = None
    device_id: Optional[int] = None
    address: str = ""


def event_hash(*, prev_hash: str, facility_id: Optional[int], seq: int, at: datetime, actor_id: Optional[int],
               actor_label: str, role: str, action: str, object_type: str, object_id: str,
               client_id: Optional[int], device_id: Optional[int], address: str, detail: str) -> str:
    canonical = json.dumps(
        [prev_hash, facility_id, seq, at.astimezone(timezone.utc).isoformat(), actor_id, actor_label, role,
         action, object_type, object_id, client_id, device_id, address, detail],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def audit_record(
    *,
    actor: Actor,
    action: str,
    facility_id: Optional[int] = None,
    object_type: str = "",
    object_id: Any = "",
    client_id: Optional[int] = None,
    detail: Optional[dict] = None,
) -> None:
    """Append one event to the facility's chain (defaults to the actor's facility)."""
    facility = facility_id if facility_id is not None else actor.facility_id
    detail_text = json.dumps(detail, sort_keys=True, ensure_ascii=False) if detail else ""
    at = clock.utcnow()
    async with db.transaction():
        if db.is_postgres():
            # Serialise appends to one chain across processes; released at commit.
            await AuditEvent.raw("SELECT pg_advisory_xact_lock(4242, {})", facility or 0).run()
        chain = AuditEvent.facility_id.is_null() if facility is None else AuditEvent.facility_id == facility
        last = await AuditEvent.select(AuditEvent.seq, AuditEvent.hash).where(chain).order_by(
            AuditEvent.seq, ascending=False
        ).first().run()
        seq = (last["seq"] + 1) if last else 1
        prev = last["hash"] if last else GENESIS
        fields = dict(
            facility_id=facility, seq=seq, at=at, actor_id=actor.user_id, actor_label=actor.label,
            role=actor.role, action=action, object_type=object_type, object_id=str(object_id),
            client_id=client_id, device_id=actor.device_id, address=actor.address, detail=detail_text,
        )
        await AuditEvent.insert(AuditEvent(prev_hash=prev, hash=event_hash(prev_hash=prev, **fields), **fields)).run()
