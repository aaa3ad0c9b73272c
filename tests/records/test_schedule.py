"""Scheduled backups: one per interval across processes, failures shown, old files thinned out."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from app.records import services
from app.records.schedule import (backup_file_name, backup_files, backup_files_prune, backup_scheduled_run,
                                  backup_slot, backups_to_keep)
from app.records.tables import BackupRun
from tests.clients.factories import make_world
from tests.conftest import _TEST_URL, settings_for_tests

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 1, 14, 30, tzinfo=timezone.utc)


async def test_two_processes_take_one_backup_per_interval(tmp_path):
    await make_world()
    start = tmp_path / "start"
    env = {**os.environ, "KINWARD_DATABASE_URL": _TEST_URL, "KINWARD_ENV": "test"}
    processes = [subprocess.Popen([sys.executable, "-m", "tests.records.scheduled_once", str(start),
                                   str(tmp_path / "backups"), NOW.isoformat()],
                                  cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    await asyncio.sleep(0.5)
    start.touch()
    outputs = [process.communicate(timeout=120) for process in processes]

    results = sorted(out.split()[0] for out, _ in outputs if out)
    assert results == ["skipped", "taken"], outputs
    runs = await BackupRun.select().run()
    assert [(run["slot"], run["status"]) for run in runs] == [(backup_slot(now=NOW, interval_hours=24), "ok")]
    assert list(backup_files(tmp_path / "backups").values()) == [tmp_path / "backups" / backup_file_name(NOW)]


async def test_concurrent_claims_in_one_process_give_the_interval_to_one_of_them():
    tokens = await asyncio.gather(*(services.backup_claim(slot="2026-12-01T00:00Z", now=NOW) for _ in range(10)))
    assert sum(token is not None for token in tokens) == 1


async def test_the_next_interval_is_claimed_again_and_a_dead_claim_is_taken_over():
    first = await services.backup_claim(slot="s1", now=NOW)
    assert first and await services.backup_claim(slot="s1", now=NOW + timedelta(minutes=5)) is None
    assert await services.backup_claim(slot="s1", now=NOW + services.BACKUP_LEASE + timedelta(seconds=1))
    await services.backup_finish(slot="s1", token=first, error="late")  # the old claimant can no longer write
    assert (await BackupRun.select(BackupRun.status).where(BackupRun.slot == "s1").first().run())["status"] == "running"
    assert await services.backup_claim(slot="s2", now=NOW)


def test_intervals_are_named_alike_in_every_process():
    assert backup_slot(now=NOW, interval_hours=24) == "2026-12-01T00:00Z"
    assert backup_slot(now=NOW, interval_hours=6) == "2026-12-01T12:00Z"
    assert backup_slot(now=NOW + timedelta(hours=10), interval_hours=24) == "2026-12-02T00:00Z"


def test_keep_policy_keeps_7_daily_4_weekly_and_12_monthly():
    daily = [NOW - timedelta(days=n) for n in range(800)]
    kept = backups_to_keep(daily)

    assert {NOW - timedelta(days=n) for n in range(7)} <= kept
    weeks = {tuple(t.isocalendar()[:2]) for t in kept}
    months = sorted({(t.year, t.month) for t in kept}, reverse=True)
    assert len(months) == 12 and months[0] == (2026, 12) and months[-1] == (2026, 1)
    assert len(weeks) >= 4
    for year, month in months:  # the newest backup of each kept month
        assert max(t for t in daily if (t.year, t.month) == (year, month)) in kept
    assert len(kept) <= 7 + 4 + 12
    assert backups_to_keep(daily[:3]) == set(daily[:3])


def test_pruning_deletes_files_the_policy_does_not_keep(tmp_path):
    for n in range(40):
        path = tmp_path / backup_file_name(NOW - timedelta(days=n))
        path.write_text("x")
        path.with_name(path.name + ".sha256").write_text("x")
    (tmp_path / "notes.txt").write_text("not a backup")

    removed = backup_files_prune(tmp_path)

    left = backup_files(tmp_path)
    assert set(left) == backups_to_keep(NOW - timedelta(days=n) for n in range(40))
    assert len(removed) == 40 - len(left)
    assert all(not path.with_name(path.name + ".sha256").exists() for path in removed)
    assert (tmp_path / "notes.txt").exists()


async def test_a_failed_backup_is_recorded_and_shown_in_healthz_and_to_admins(tmp_path, client):
    from tests.conftest import login

    world = await make_world()
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    good = await backup_scheduled_run(settings=settings_for_tests(backup_dir=str(tmp_path / "ok")),
                                      now=NOW - timedelta(days=1))
    assert good.taken and not good.error
    failed = await backup_scheduled_run(settings=settings_for_tests(backup_dir=str(blocker)), now=NOW)

    assert failed.taken and failed.error
    runs = {run["slot"]: run for run in await BackupRun.select().run()}
    assert runs[failed.slot]["status"] == "failed" and runs[failed.slot]["error"]
    health = (await client.get("/healthz")).json()
    assert health["backup"]["last_failed"] is True
    assert health["backup"]["last_good_age_seconds"] is not None
    await login(client, world.admin)
    page = await client.get("/admin/records")
    assert page.status_code == 200
    assert "The last backup failed" in page.text
    assert runs[failed.slot]["error"][:40] in page.text


async def test_two_served_app_processes_take_the_intervals_backup_once(tmp_path, monkeypatch):
    """The backup worker runs in every `kinward serve` process; the interval's backup is taken by one."""
    from tests.messages.test_two_processes import two_servers

    await make_world()
    backups = tmp_path / "backups"
    monkeypatch.setenv("KINWARD_BACKUP_DIR", str(backups))
    async with two_servers(tmp_path) as (first, second):
        for _ in range(600):  # each process's first round starts as it starts serving
            finished = await BackupRun.select().where(BackupRun.status != "running").run()
            if finished:
                break
            await asyncio.sleep(0.1)
        import httpx

        async with httpx.AsyncClient() as probe:
            health = [(await probe.get(f"{url}/healthz")).json()["backup"] for url in (first, second)]

    runs = await BackupRun.select().run()
    assert [run["status"] for run in runs] == ["ok"], runs
    assert len(backup_files(backups)) == 1
    assert all(h["scheduled"] and h["last_good_age_seconds"] is not None and not h["last_failed"] for h in health)
