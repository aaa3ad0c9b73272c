"""Writing the audit trail: append-only rows, sealed into a keyed hash chain per facility.

Appending is cheap and takes no lock: a request's events are inserted unsealed, together, in a
commit shared with other requests, before its answer is sent (durable first, then shown). One
sealer per chain (claimed through the database) then chains the new rows in id order, in
batches, with an HMAC keyed by a secret that is not in the database: someone who can write to
the database cannot rewrite a row and recompute the hashes after it. Checkpoints (a chain's seq
and head hash, signed) kept outside the database catch the removal of a chain's last rows or of
a whole chain.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from piccolo.querystring import QueryString

from app import clock, db
from app.audit.tables import AuditEvent

GENESIS = "0" * 64
SEAL_BATCH = 1000
# How long the sealer waits after a commit, so that one seal serves many commits.
SEAL_DELAY_SECONDS = 0.05
# How often the sealer looks anyway: rows another process inserted, or left unsealed when it died.
SEAL_INTERVAL_SECONDS = 1.0
# A development key, so that several development processes share one; production requires KINWARD_AUDIT_KEY.
DEVELOPMENT_KEY = "kinward-development-audit-key-not-secret"

log = logging.getLogger("kinward.audit")

AUDIT_COLUMNS = ("facility_id", "at", "actor_id", "actor_label", "role", "action", "object_type", "object_id",
                 "client_id", "device_id", "address", "detail")


@dataclass
class _Config:
    key: bytes = DEVELOPMENT_KEY.encode()
    checkpoint_path: str = ""
    checkpoint_minutes: int = 15


_config = _Config()


def audit_configure(*, key: str, checkpoint_path: str = "", checkpoint_minutes: int = 15) -> None:
    _config.key = (key or DEVELOPMENT_KEY).encode()
    _config.checkpoint_path = checkpoint_path
    _config.checkpoint_minutes = checkpoint_minutes


def checkpoint_path() -> str:
    return _config.checkpoint_path

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
    return hmac.digest(_config.key, canonical.encode(), "sha256").hex()


def row_hash(row: dict, *, prev_hash: str, seq: int) -> str:
    return event_hash(prev_hash=prev_hash, seq=seq, **{c: row[c] for c in AUDIT_COLUMNS})


def checkpoint_signature(chains: list[dict], written_at: str) -> str:
    body = json.dumps({"chains": chains, "written_at": written_at}, sort_keys=True, separators=(",", ":"))
    subkey = hmac.new(_config.key, b"kinward audit checkpoint", hashlib.sha256).digest()
    return hmac.new(subkey, body.encode(), hashlib.sha256).hexdigest()


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
    """Record one event in the facility's trail (defaults to the actor's facility).

    Inside a transaction the row is part of it (the change and its record commit together); in a
    request it is stored with the request's other writes before the answer goes out; elsewhere now.
    """
    facility = facility_id if facility_id is not None else actor.facility_id
    detail_text = json.dumps(_bounded_detail(detail), sort_keys=True, ensure_ascii=False) if detail else ""
    # Bounded to their columns whatever a request carried (a 9 MB "email" is not kept in the trail).
    values = (facility, clock.utcnow(), actor.user_id, _bounded(actor.label, AuditEvent.actor_label.length),
              actor.role, action, object_type, _bounded(object_id, AuditEvent.object_id.length), client_id,
              actor.device_id, _bounded(actor.address, AuditEvent.address.length), detail_text)
    await db.write_soon(db.RowInsert("audit_event", AUDIT_COLUMNS, values))


def _chain_condition(chain_key: int) -> tuple[str, tuple]:
    return ("facility_id IS NULL", ()) if chain_key == 0 else ("facility_id = {}", (chain_key,))


async def _seal_chain(chain_key: int) -> int:
    """Seal one batch of the chain's unsealed rows; how many (0: none, or another sealer holds the chain)."""
    skip_locked = db.skip_locked()
    condition, args = _chain_condition(chain_key)
    head = QueryString("SELECT seq, head_hash FROM audit_chain WHERE chain_key = {}" + skip_locked, chain_key)
    async with db.transaction():
        heads = await db.fetch(head)
        if not heads:
            # A chain's first seal starts it; inside the transaction, so that sealing costs one write
            # transaction (one fsync on SQLite) a round, not two.
            await db.engine().run_querystring(QueryString(
                "INSERT INTO audit_chain (chain_key, seq, head_hash) VALUES ({}, 0, {}) "
                "ON CONFLICT (chain_key) DO NOTHING", chain_key, GENESIS))
            heads = await db.fetch(head)
        if not heads:  # another sealer holds the chain
            return 0
        seq, prev = heads[0]["seq"], heads[0]["head_hash"]
        rows = await db.fetch(QueryString(
            f"SELECT id, {', '.join(AUDIT_COLUMNS)} FROM audit_event WHERE {condition} AND seq IS NULL "
            f"ORDER BY id LIMIT {SEAL_BATCH}", *args))
        if not rows:
            return 0
        sealed: list[tuple[int, int, str, str]] = []
        for row in rows:
            seq += 1
            digest = row_hash(row, prev_hash=prev, seq=seq)
            sealed.append((row["id"], seq, prev, digest))
            prev = digest
        await db.engine().run_querystring(db.RowsStatement(
            "WITH sealed(id, seq, prev_hash, hash) AS (VALUES ",
            ("CAST({} AS INTEGER)", "CAST({} AS INTEGER)", "{}", "{}"), sealed,
            ") UPDATE audit_event SET seq = sealed.seq, prev_hash = sealed.prev_hash, hash = sealed.hash "
            "FROM sealed WHERE audit_event.id = sealed.id"))
        await db.engine().run_querystring(QueryString(
            "UPDATE audit_chain SET seq = {}, head_hash = {} WHERE chain_key = {}", seq, prev, chain_key))
    return len(rows)


# Asked every time the sealer wakes: read through an index of seq, it costs what is waiting, not the trail.
PENDING_CHAINS_SQL = "SELECT DISTINCT facility_id FROM audit_event WHERE seq IS NULL"


async def audit_seal() -> int:
    """Seal every unsealed row there is (of chains no other sealer holds); how many were sealed."""
    total = 0
    while True:
        pending = await db.fetch(QueryString(PENDING_CHAINS_SQL))
        sealed = 0
        for row in pending:
            sealed += await _seal_chain(row["facility_id"] or 0)
        total += sealed
        if sealed == 0:
            return total


_wake: dict[asyncio.AbstractEventLoop, asyncio.Event] = {}


def _wake_sealer() -> None:
    try:
        event = _wake.get(asyncio.get_running_loop())
    except RuntimeError:
        return
    if event is not None:
        event.set()


db.on_shared_commit(_wake_sealer)


async def audit_sealer() -> None:
    """Runs for the life of the app: seals a moment after each shared commit, writes checkpoints."""
    loop = asyncio.get_running_loop()
    wake = _wake[loop] = asyncio.Event()
    last_checkpoint = loop.time()
    try:
        while True:
            try:
                await asyncio.wait_for(wake.wait(), timeout=SEAL_INTERVAL_SECONDS)
                await asyncio.sleep(SEAL_DELAY_SECONDS)
            except asyncio.TimeoutError:
                pass
            wake.clear()
            try:
                await audit_seal()
                if _config.checkpoint_path and loop.time() - last_checkpoint >= _config.checkpoint_minutes * 60:
                    await audit_checkpoint_write()
                    last_checkpoint = loop.time()
            except Exception:  # the next round retries; unsealed rows are durable meanwhile
                log.exception("sealing the audit trail failed")
    finally:
        _wake.pop(loop, None)


async def audit_checkpoint_make() -> dict:
    """Seal what is pending, then sign every chain's head (seq and hash)."""
    from app.audit.queries import audit_chain_heads

    await audit_seal()
    heads = await audit_chain_heads()
    chains = [{"facility_id": facility, "seq": head["seq"], "hash": head["hash"]}
              for facility, head in sorted(heads.items(), key=lambda item: (item[0] is not None, item[0] or 0))]
    written_at = clock.utcnow().astimezone(timezone.utc).isoformat()
    return {"version": 1, "written_at": written_at, "chains": chains,
            "signature": checkpoint_signature(chains, written_at)}


async def audit_checkpoint_write(path: str = "") -> dict:
    """Write a signed checkpoint where the operator keeps it (atomically: never half a file); with no place
    given or configured, only make it (`kinward audit checkpoint` prints it)."""
    checkpoint = await audit_checkpoint_make()
    if path or _config.checkpoint_path:
        target = Path(path or _config.checkpoint_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(target.name + ".tmp")
        temporary.write_text(json.dumps(checkpoint, indent=2) + "\n")
        os.replace(temporary, target)
    return checkpoint
