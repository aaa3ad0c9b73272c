"""Scheduled backups in the app process: one per interval across all processes, old ones thinned out.

Every process runs the worker; the interval's backup is claimed through the database
(`backup_run.slot` is unique), so it is taken once however many processes serve Kinward.
Kept: the newest backup of each of the last 7 days, of each of the last 4 ISO weeks and of each
of the last 12 months that have one (a backup may count for several at once).
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Optional

from app import clock
from app.records import services
from app.records.backups import backup_create
from app.settings import Settings

log = logging.getLogger("kinward.backup")

KEEP_DAILY, KEEP_WEEKLY, KEEP_MONTHLY = 7, 4, 12
CHECK_SECONDS = 60.0
FILE_PATTERN = re.compile(r"^kinward-(\d{8}T\d{6}Z)\.kwbackup$")


def backup_slot(*, now: datetime, interval_hours: int) -> str:
    """The interval `now` falls in, named by its start (UTC): the same name in every process."""
    hours = int(now.timestamp() // 3600)
    start = datetime.fromtimestamp((hours - hours % interval_hours) * 3600, tz=timezone.utc)
    return start.strftime("%Y-%m-%dT%H:%MZ")


def backup_file_name(at: datetime) -> str:
    return f"kinward-{at.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}.kwbackup"


def backups_to_keep(times: Iterable[datetime], *, daily: int = KEEP_DAILY, weekly: int = KEEP_WEEKLY,
                    monthly: int = KEEP_MONTHLY) -> set[datetime]:
    """Grandfather-father-son: the newest backup of each of the latest `daily` days, `weekly` weeks
    and `monthly` months that have a backup."""
    newest_first = sorted(set(times), reverse=True)
    kept: set[datetime] = set()
    buckets: tuple[tuple[int, Callable[[datetime], tuple]], ...] = (
        (daily, lambda t: (t.year, t.month, t.day)),
        (weekly, lambda t: tuple(t.isocalendar()[:2])),
        (monthly, lambda t: (t.year, t.month)),
    )
    for count, bucket in buckets:
        seen: set[tuple] = set()
        for at in newest_first:
            key = bucket(at)
            if key not in seen:
                if len(seen) == count:
                    break
                seen.add(key)
                kept.add(at)
    return kept


def backup_files(directory: Path) -> dict[datetime, Path]:
    found = {}
    for path in directory.glob("kinward-*.kwbackup"):
        match = FILE_PATTERN.match(path.name)
        if match:
            found[datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)] = path
    return found


def backup_files_prune(directory: Path) -> list[Path]:
    """Delete the backups (and their .sha256 files) that the keep policy no longer needs."""
    files = backup_files(directory)
    keep = backups_to_keep(files)
    removed = []
    for at, path in sorted(files.items()):
        if at not in keep:
            path.unlink(missing_ok=True)
            path.with_name(path.name + ".sha256").unlink(missing_ok=True)
            removed.append(path)
    return removed


@dataclass
class ScheduledResult:
    slot: str
    taken: bool  # False: another process has (or had) this interval
    path: Optional[Path] = None
    error: str = ""


async def backup_scheduled_run(*, settings: Settings, now: Optional[datetime] = None) -> ScheduledResult:
    """Take this interval's backup if no process has; a failure is recorded for admins and /healthz."""
    now = now or clock.utcnow()
    slot = backup_slot(now=now, interval_hours=settings.backup_interval_hours)
    token = await services.backup_claim(slot=slot, now=now)
    if token is None:
        return ScheduledResult(slot=slot, taken=False)
    directory = Path(settings.backup_dir)
    path = directory / backup_file_name(now)
    try:
        report = await backup_create(database_url=settings.database_url, path=path,
                                     passphrase=settings.backup_passphrase)
    except Exception as error:  # whatever went wrong, admins must hear of it and the next interval retries
        log.exception("scheduled backup %s failed", slot)
        await services.backup_finish(slot=slot, token=token, error=f"{type(error).__name__}: {error}")
        return ScheduledResult(slot=slot, taken=True, error=str(error))
    await services.backup_finish(slot=slot, token=token, path=path.name, size_bytes=path.stat().st_size,
                                 sha256=report.file_sha256)
    for old in backup_files_prune(directory):
        log.info("backup %s removed by the keep policy", old.name)
    log.info("scheduled backup %s written to %s", slot, path)
    return ScheduledResult(slot=slot, taken=True, path=path)


async def backup_worker(settings: Settings, stop: asyncio.Event, interval: float = CHECK_SECONDS) -> None:
    while not stop.is_set():
        try:
            await backup_scheduled_run(settings=settings)
        except Exception:  # a database hiccup must not end the worker for the life of the process
            log.exception("backup round failed; trying again shortly")
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except asyncio.TimeoutError:
            pass
