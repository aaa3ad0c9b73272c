"""Writes for the records lifecycle: claiming scheduled backups, the retention period, purging.

Purging removes a client's personal data and keeps the audit trail as it is: audit rows name
the client by id only (tests/records/test_audit_privacy.py holds every writer to that), so the
chain still verifies and still tells who did what, without saying about whom beyond a number.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Optional

from app import clock, db
from app.audit.services import Actor, audit_record
from app.clients.tables import Client
from app.i18n import _
from app.records.queries import client_related_rows, retention_due_for
from app.records.tables import BackupRun, BackupStatus, RetentionPurge
from app.web.tokens import token_new

RETENTION_YEARS_RANGE = (1, 100)
# Long enough for a large pg_dump; a process that died mid-backup frees its interval after it.
BACKUP_LEASE = timedelta(hours=2)


class RecordsError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


async def retention_years_set(*, actor: Actor, facility_id: int, years: int) -> None:
    from app.accounts.tables import Facility

    low, high = RETENTION_YEARS_RANGE
    if not low <= years <= high:
        raise RecordsError("retention_years", _("Enter a number of years between 1 and 100."))
    async with db.transaction():
        before = await Facility.select(Facility.retention_years).where(Facility.id == facility_id).first().run()
        if before is None or before["retention_years"] == years:
            return
        await Facility.update({Facility.retention_years: years}).where(Facility.id == facility_id).run()
        await audit_record(actor=actor, action="facility.settings_changed", object_type="facility",
                           object_id=facility_id, detail={"retention_years": years})


async def client_purge(*, client: dict, by: str, now: datetime) -> bool:
    """Remove one client's personal data; False when another process purged it first."""
    async with db.transaction():
        claimed = await RetentionPurge.insert(RetentionPurge(
            facility_id=client["facility_id"], client_id=client["id"], care_ended_on=client["care_ended_on"],
            purged_at=now, purged_by=by,
        )).on_conflict(action="DO NOTHING").returning(RetentionPurge.id).run()
        if not claimed:
            return False
        removed: Counter = Counter()
        # Those referring to others first: nothing is left pointing at a row that is gone.
        for table, rows in reversed(await client_related_rows(client_id=client["id"])):
            await table.delete().where(table.id.is_in([row["id"] for row in rows])).run()  # type: ignore[attr-defined]
            removed[table._meta.tablename] += len(rows)
        await Client.delete().where(Client.id == client["id"]).run()
        removed[Client._meta.tablename] += 1
        await RetentionPurge.update({RetentionPurge.rows_removed: json.dumps(dict(sorted(removed.items())))}).where(
            RetentionPurge.id == claimed[0]["id"]).run()
        await audit_record(actor=Actor(label=by, facility_id=client["facility_id"]), action="client.purged",
                           client_id=client["id"], object_type="client", object_id=client["id"],
                           detail={"rows_removed": sum(removed.values()),
                                   "retention_years": client["retention_years"]})
    return True


async def retention_purge(*, today: date, by: str, facility_id: Optional[int] = None) -> list[int]:
    """Purge every discharged client past the retention period; the ids of those this call purged."""
    purged = []
    for client in await retention_due_for(today=today, facility_id=facility_id):
        if await client_purge(client=client, by=by, now=clock.utcnow()):
            purged.append(client["id"])
    return purged


async def backup_claim(*, slot: str, now: datetime) -> Optional[str]:
    """Claim this interval's backup for this process; the claim token, or None when another process has it
    (or had it: a finished interval is never taken twice). A claim whose lease ran out is taken over."""
    token = token_new()
    inserted = await BackupRun.insert(BackupRun(
        slot=slot, status=BackupStatus.running.value, claim_token=token, claimed_until=now + BACKUP_LEASE,
        started_at=now,
    )).on_conflict(action="DO NOTHING").returning(BackupRun.id).run()
    if inserted:
        return token
    taken_over = await BackupRun.update({
        BackupRun.claim_token: token, BackupRun.claimed_until: now + BACKUP_LEASE, BackupRun.started_at: now,
    }).where((BackupRun.slot == slot) & (BackupRun.status == BackupStatus.running.value)
             & (BackupRun.claimed_until < now)).returning(BackupRun.id).run()
    return token if taken_over else None


async def backup_finish(*, slot: str, token: str, path: str = "", size_bytes: int = 0, sha256: str = "",
                        error: str = "") -> None:
    await BackupRun.update({
        BackupRun.status: BackupStatus.failed.value if error else BackupStatus.ok.value,
        BackupRun.finished_at: clock.utcnow(), BackupRun.path: path, BackupRun.size_bytes: size_bytes,
        BackupRun.sha256: sha256, BackupRun.error: error[:2000], BackupRun.claimed_until: None,
    }).where((BackupRun.slot == slot) & (BackupRun.claim_token == token)).run()
