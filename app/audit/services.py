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
# A value in an event's detail is a name, an email, a reason: past this it is cut (the row stays bounded
# whatever a request carried; the record itself holds the full text).
DETAIL_VALUE_MAX = 500


def _bounded(value: Any, limit: int) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _bounded_detail(detail: dict) -> dict:
    return {key: _bounded(value, DETAIL_VALUE_MAX) if isinstance(value, str) else value
            for key, value in detail.items()}


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
    detail_text = json.dumps(_bounded_detail(detail), sort_keys=True, ensure_ascii=False) if detail else ""
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
            facility_id=facility, seq=seq, at=at, actor_id=actor.user_id,
            actor_label=_bounded(actor.label, AuditEvent.actor_label.length), role=actor.role, action=action,
            object_type=object_type, object_id=_bounded(object_id, AuditEvent.object_id.length),
            client_id=client_id, device_id=actor.device_id, address=_bounded(actor.address, AuditEvent.address.length),
            detail=detail_text,
        )
        await AuditEvent.insert(AuditEvent(prev_hash=prev, hash=event_hash(prev_hash=prev, **fields), **fields)).run()
