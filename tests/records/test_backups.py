"""Backups taken while Kinward writes, restored into a new database; damaged backups refused."""

from __future__ import annotations

import asyncio
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from app import clock, db
from app.audit.queries import audit_chain_verify
from app.audit.services import Actor
from app.messages.services import message_post
from app.messages.tables import Message
from app.records import snapshot
from app.records.archive import BackupError
from app.records.backups import backup_create, backup_restore, backup_verify
from tests.clients.factories import make_world
from tests.conftest import _TEST_URL
from tests.records.conftest import MIGRATIONS

WRITERS = 20
PASSPHRASE = "correct horse battery staple backup"


async def test_a_backup_under_twenty_concurrent_writers_restores_every_acknowledged_write(tmp_path, restore_url):
    world = await make_world()
    actor = Actor(user_id=world.coordinator["id"], label=world.coordinator["email"], role="coordinator",
                  facility_id=world.facility)
    acknowledged: list[tuple[int, datetime]] = []
    enough_written, stop = asyncio.Event(), asyncio.Event()

    async def writer(n: int) -> None:
        i = 0
        while not stop.is_set():
            message_id = await message_post(actor=actor, client_id=world.own["id"], facility_id=world.facility,
                                            body=f"writer {n} message {i}", team_only=bool(i % 2))
            acknowledged.append((message_id, clock.utcnow()))
            if len(acknowledged) >= 3 * WRITERS:
                enough_written.set()
            i += 1

    async def backup():
        await enough_written.wait()
        try:
            return await backup_create(database_url=_TEST_URL, path=tmp_path / "live.kwbackup")
        finally:
            stop.set()

    *_, report = await asyncio.gather(*(writer(n) for n in range(WRITERS)), backup())

    started = datetime.fromisoformat(report.manifest["snapshot_started_at"])
    before = {message_id for message_id, at in acknowledged if at < started}
    during = {message_id for message_id, at in acknowledged if at >= started}
    assert len(before) >= 3 * WRITERS
    assert during, "the writers kept writing while the backup was taken"

    restored = await backup_restore(migrations=MIGRATIONS, path=tmp_path / "live.kwbackup", database_url=restore_url)

    assert restored.facts.tables == report.manifest["tables"]
    assert restored.migrations_applied == []
    async with db.using(restore_url):
        ids = {row["id"] for row in await Message.select(Message.id).run()}
        assert await audit_chain_verify() is None
        if restore_url.startswith("sqlite"):
            integrity = await db.engine()._run("PRAGMA integrity_check", [])
            assert integrity == [{"integrity_check": "ok"}]
    assert before <= ids
    assert len(ids) == report.manifest["tables"]["message"]


async def test_backup_verify_reports_what_the_backup_holds(tmp_path):
    world = await make_world()
    report = await backup_create(database_url=_TEST_URL, path=tmp_path / "b.kwbackup")

    checked = await backup_verify(migrations=MIGRATIONS, path=tmp_path / "b.kwbackup", database_url=_TEST_URL)

    assert checked.facts.tables["client"] == 3
    assert checked.facts.tables == report.manifest["tables"]
    assert checked.manifest["audit_heads"] == report.manifest["audit_heads"]
    assert (tmp_path / "b.kwbackup.sha256").read_text().split()[0] == report.file_sha256
    assert world.own["id"]


async def _backup(tmp_path: Path, **kwargs) -> Path:
    await make_world()
    path = tmp_path / "b.kwbackup"
    await backup_create(database_url=_TEST_URL, path=path, **kwargs)
    return path


async def test_a_flipped_byte_is_refused_by_the_checksum_file(tmp_path):
    path = await _backup(tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))

    with pytest.raises(BackupError, match="does not match the SHA-256 in b.kwbackup.sha256"):
        await backup_verify(migrations=MIGRATIONS, path=path, database_url=_TEST_URL)


async def test_a_flipped_byte_is_refused_by_the_manifest_without_the_checksum_file(tmp_path):
    path = await _backup(tmp_path)
    (tmp_path / "b.kwbackup.sha256").unlink()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))

    with pytest.raises(BackupError, match="does not match the SHA-256 in its manifest"):
        await backup_verify(migrations=MIGRATIONS, path=path, database_url=_TEST_URL)


async def test_a_truncated_backup_is_refused_and_the_database_is_left_alone(tmp_path, restore_url):
    path = await _backup(tmp_path)
    (tmp_path / "b.kwbackup.sha256").unlink()
    with path.open("r+b") as file:
        file.truncate(path.stat().st_size // 2)

    with pytest.raises(BackupError, match="damaged or truncated"):
        await backup_verify(migrations=MIGRATIONS, path=path, database_url=_TEST_URL)
    with pytest.raises(BackupError, match="damaged or truncated"):
        await backup_restore(migrations=MIGRATIONS, path=path, database_url=restore_url)
    if restore_url.startswith("sqlite"):
        assert not snapshot.sqlite_path(restore_url).exists()
    else:
        import asyncpg

        admin = await asyncpg.connect(_TEST_URL)
        try:
            name = snapshot.database_name(restore_url)
            assert not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        finally:
            await admin.close()


async def test_a_database_with_records_is_not_overwritten_without_force(tmp_path, restore_url):
    path = await _backup(tmp_path)
    await backup_restore(migrations=MIGRATIONS, path=path, database_url=restore_url)

    with pytest.raises(BackupError, match="already holds records.*--force"):
        await backup_restore(migrations=MIGRATIONS, path=path, database_url=restore_url)
    again = await backup_restore(migrations=MIGRATIONS, path=path, database_url=restore_url, force=True)
    assert again.facts.tables["client"] == 3


async def test_an_encrypted_backup_opens_only_with_its_passphrase(tmp_path, restore_url):
    path = await _backup(tmp_path, passphrase=PASSPHRASE)
    assert b"Olive" not in path.read_bytes()

    with pytest.raises(BackupError, match="is encrypted"):
        await backup_verify(migrations=MIGRATIONS, path=path, database_url=_TEST_URL)
    with pytest.raises(BackupError, match="passphrase is wrong"):
        await backup_verify(migrations=MIGRATIONS, path=path, database_url=_TEST_URL, passphrase=PASSPHRASE + "x")
    restored = await backup_restore(migrations=MIGRATIONS, path=path, database_url=restore_url, passphrase=PASSPHRASE)
    assert restored.facts.tables["client"] == 3


async def test_a_cut_short_encrypted_copy_fails_authentication(tmp_path):
    """The last chunk is marked as last: dropping chunks cannot pass as a shorter database."""
    from app.records.archive import CHUNK, TAG, file_decrypt, file_encrypt

    plain = tmp_path / "plain"
    plain.write_bytes(b"x" * (CHUNK * 2 + 10))
    sealed = tmp_path / "sealed"
    params = file_encrypt(source=plain, target=sealed, passphrase=PASSPHRASE)
    with sealed.open("r+b") as file:
        file.truncate(CHUNK + TAG)

    with pytest.raises(BackupError, match="cut short"):
        file_decrypt(source=sealed, target=tmp_path / "out", passphrase=PASSPHRASE, params=params)


async def test_a_backup_of_an_older_database_is_migrated_forward_on_restore(tmp_path, restore_url):
    """Restoring a backup taken before the latest migration applies that migration to the result."""
    from piccolo.apps.migrations.commands.backwards import run_backwards

    from app.migrations_state import known_migrations

    older = f"sqlite:///{tmp_path / 'older.sqlite'}" if _TEST_URL.startswith("sqlite") else \
        snapshot.postgres_scratch_url(_TEST_URL, "older")
    latest = max(known_migrations())
    if not older.startswith("sqlite"):
        await snapshot.postgres_database_drop(older)
        await snapshot.postgres_database_create(older)
    try:
        async with db.using(older):
            from app.migrations_state import migrations_apply

            await migrations_apply()
            result = await run_backwards(app_name="kinward", migration_id="1", auto_agree=True)
            assert result.success, result.message
        await backup_create(database_url=older, path=tmp_path / "older.kwbackup")
        restored = await backup_restore(migrations=MIGRATIONS, path=tmp_path / "older.kwbackup", database_url=restore_url)
    finally:
        if not older.startswith("sqlite"):
            await snapshot.postgres_database_drop(older)

    assert restored.migrations_applied == [latest]
    async with db.using(restore_url):
        from app.migrations_state import pending_migrations

        assert await pending_migrations() == []


async def test_without_pg_dump_a_postgres_backup_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(BackupError, match="pg_dump is not on the PATH.*postgresql-client"):
        await backup_create(database_url="postgresql://postgres@127.0.0.1:5432/unused", path=tmp_path / "x")
