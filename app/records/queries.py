"""Reads for the records lifecycle: scheduled backups, clients past their retention period, purges."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Optional

from piccolo.table import Table

from app.accounts.tables import Facility
from app.clients.tables import Client, ClientStatus
from app.records.tables import BackupRun, RetentionPurge
from app.records.tables import BackupStatus


def purge_due_on(*, care_ended_on: date, retention_years: int) -> date:
    """The day a record may first be purged: the anniversary `retention_years` after care ended
    (a 29 February discharge keeps until 1 March: never a day short)."""
    try:
        return care_ended_on.replace(year=care_ended_on.year + retention_years)
    except ValueError:
        return date(care_ended_on.year + retention_years, 3, 1)


async def retention_due_for(*, today: date, facility_id: Optional[int] = None) -> list[dict]:
    """Discharged clients whose retention period has passed, oldest care end first."""
    query = Client.select(
        Client.id, Client.facility.as_alias("facility_id"), Client.status_since.as_alias("care_ended_on"),
        Client.facility.name.as_alias("facility_name"), Client.facility.retention_years.as_alias("retention_years"),
    ).where((Client.status == ClientStatus.discharged.value) & Client.status_since.is_not_null())
    if facility_id is not None:
        query = query.where(Client.facility == facility_id)
    due = []
    for row in await query.run():
        row["purge_due_on"] = purge_due_on(care_ended_on=row["care_ended_on"], retention_years=row["retention_years"])
        if row["purge_due_on"] <= today:
            due.append(row)
    return sorted(due, key=lambda r: (r["care_ended_on"], r["id"]))


async def retention_years_for(*, facility_id: int) -> int:
    row = await Facility.select(Facility.retention_years).where(Facility.id == facility_id).first().run()
    return row["retention_years"] if row else 8


async def purges_for(*, facility_id: int, limit: int = 200) -> list[dict]:
    rows = await RetentionPurge.select().where(RetentionPurge.facility_id == facility_id).order_by(
        RetentionPurge.purged_at, ascending=False).limit(limit).run()
    for row in rows:
        row["rows"] = sum(json.loads(row["rows_removed"] or "{}").values())
    return rows


async def backup_runs_recent(*, limit: int = 14) -> list[dict]:
    return await BackupRun.select().order_by(BackupRun.started_at, ascending=False).limit(limit).run()


async def backup_last_good() -> Optional[dict]:
    return await BackupRun.select().where(BackupRun.status == BackupStatus.ok.value).order_by(
        BackupRun.finished_at, ascending=False).first().run()


async def backup_last_finished() -> Optional[dict]:
    """The latest backup that ended, well or not: a failure after the last good one is news for admins."""
    return await BackupRun.select().where(BackupRun.status != BackupStatus.running.value).order_by(
        BackupRun.finished_at, ascending=False).first().run()




@dataclass(frozen=True)
class BackupHealth:
    last_good_at: Optional[datetime]
    last_good_age_seconds: Optional[float]
    last_failed: bool  # the latest backup to finish failed
    last_error: str


async def backup_health(*, now: datetime) -> BackupHealth:
    good, last = await backup_last_good(), await backup_last_finished()
    good_at = good["finished_at"] if good else None
    failed = bool(last and last["status"] == BackupStatus.failed.value)
    return BackupHealth(last_good_at=good_at,
                        last_good_age_seconds=None if good_at is None else max((now - good_at).total_seconds(), 0.0),
                        last_failed=failed, last_error=last["error"] if failed and last else "")


def _tables_referring_to(table: type[Table]) -> list[tuple[type[Table], object]]:
    # Piccolo records every foreign key pointing at a table; every table is imported once the
    # engine is configured (it binds them all), so none is missed.
    return [(column._meta.table, column) for column in table._meta.foreign_key_references
            if column._meta.table is not table]


async def client_related_rows(*, client_id: int) -> list[tuple[type[Table], list[dict]]]:
    """Every row that refers to the client, directly or through another such row (plans, their services,
    the visits of those, messages and their read receipts...), each table after every table it refers to.

    Found through the tables' foreign keys, so a feature's new tables are included without a change here.
    """
    found: dict[type[Table], dict[int, dict]] = {}
    order: list[type[Table]] = []

    async def walk(table: type[Table], ids: list[int]) -> None:
        for child, column in _tables_referring_to(table):
            rows = await child.select().where(column.is_in(ids)).run()  # type: ignore[attr-defined]
            if not rows:
                continue
            found.setdefault(child, {}).update({row["id"]: row for row in rows})
            if child in order:
                order.remove(child)
            order.append(child)  # after the table it was just found under
            await walk(child, [row["id"] for row in rows])

    await walk(Client, [client_id])
    return [(table, sorted(found[table].values(), key=lambda row: row["id"])) for table in order]
