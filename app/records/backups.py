"""Making, checking and restoring backups (`kinward backup`, `backup verify`, `restore`, and the schedule)."""

from __future__ import annotations

import asyncio
import secrets
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Awaitable, Callable, Optional

from app import clock, db
from app.audit.queries import audit_chain_verify
from app.records import snapshot
from app.records.archive import FORMAT, BackupError, archive_read, archive_write, file_encrypt, sha256_file
from app.records.snapshot import DatabaseFacts


@dataclass(frozen=True)
class Migrations:
    """This Kinward's migrations, handed in by the assembly (app/migrations_state.py), which features do not import."""

    known: Callable[[], frozenset[str]]
    pending: Callable[[], Awaitable[list[str]]]
    apply: Callable[[], Awaitable[None]]


def kinward_version() -> str:
    try:
        return metadata.version("kinward")
    except metadata.PackageNotFoundError:
        return "unknown"


def engine_of(url: str) -> str:
    return "sqlite" if url.startswith("sqlite:///") else "postgresql"


@dataclass
class BackupReport:
    path: Path
    manifest: dict
    file_sha256: str


@dataclass
class CheckReport:
    """What a backup holds, once every check passed."""

    manifest: dict
    facts: DatabaseFacts
    migrations_to_apply: list[str] = field(default_factory=list)


@dataclass
class RestoreReport:
    manifest: dict
    facts: DatabaseFacts
    migrations_applied: list[str] = field(default_factory=list)


def _workdir(path: Path) -> tempfile.TemporaryDirectory:
    # Beside the backup: the same filesystem (rename is atomic), and no copy of care records in /tmp.
    path.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(dir=path.parent, prefix=".kinward-backup-")


async def backup_create(*, database_url: str, path: Path, passphrase: str = "") -> BackupReport:
    """A consistent copy of the live database at `path`, with its manifest; the app may keep serving."""
    engine = engine_of(database_url)
    with _workdir(path) as work:
        copy = Path(work) / ("database.sqlite" if engine == "sqlite" else "database.pgdump")
        if engine == "sqlite":
            started, facts = await snapshot.sqlite_copy(url=database_url, target=copy)
        else:
            started, facts = await snapshot.postgres_copy(url=database_url, target=copy)
        encryption = None
        if passphrase:
            sealed = copy.with_name(copy.name + ".enc")
            encryption = file_encrypt(source=copy, target=sealed, passphrase=passphrase)
            copy.unlink()
            copy = sealed
        now = clock.utcnow()
        manifest = {
            "format": FORMAT, "created_at": now.isoformat(), "created_at_epoch": int(now.timestamp()),
            "snapshot_started_at": started.isoformat(), "kinward_version": kinward_version(), "engine": engine,
            **facts.as_manifest(),
            "payload": {"name": copy.name, "bytes": copy.stat().st_size, "sha256": sha256_file(copy),
                        "encryption": encryption},
        }
        file_sha = archive_write(path=path, manifest=manifest, payload=copy)
    return BackupReport(path=path, manifest=manifest, file_sha256=file_sha)


def _migrations_problem(manifest: dict, migrations: Migrations) -> Optional[str]:
    newer = sorted(set(manifest.get("migrations", [])) - migrations.known())
    if newer:
        return (f"the backup was made by a newer Kinward: it has {len(newer)} migration(s) this version does not "
                f"know ({', '.join(newer[:3])}); upgrade Kinward first")
    return None


async def _audit_problem(url: str) -> Optional[str]:
    async with db.using(url):
        broken = await audit_chain_verify()
    if broken is None:
        return None
    chain = "no facility" if broken.facility_id is None else f"facility {broken.facility_id}"
    return f"the audit trail does not verify in the chain of {chain}: row {broken.seq}: {broken.reason}"


def _older_schema(manifest: dict, migrations: Migrations) -> bool:
    return bool(migrations.known() - set(manifest.get("migrations", [])))


async def _checked_copy(copy: Path, manifest: dict, scratch_url: str, *, audit: bool = True) -> DatabaseFacts:
    """The copy, restored into `scratch_url` where needed, passes integrity, manifest and audit checks.

    This version's audit check reads this version's schema: a copy of an older schema has its
    audit trail verified once it is migrated forward (restore does both)."""
    if manifest["engine"] == "sqlite":
        problem = await asyncio.to_thread(snapshot.sqlite_integrity_problem, copy)
        if problem:
            raise BackupError(f"the database copy fails SQLite's integrity check: {problem}")
        facts = await asyncio.to_thread(snapshot.sqlite_facts, copy)
    else:
        problem = await snapshot.postgres_dump_problem(copy)
        if problem:
            raise BackupError(f"the database dump is unreadable: {problem}")
        await snapshot.postgres_restore(dump=copy, url=scratch_url)
        facts = await snapshot.postgres_target_facts(scratch_url)
    mismatch = snapshot.facts_mismatch(promised=manifest, found=facts)
    if mismatch:
        raise BackupError(f"the database copy does not match its manifest: {mismatch}")
    problem = await _audit_problem(scratch_url) if audit else None
    if problem:
        raise BackupError(problem)
    return facts


async def backup_verify(*, path: Path, database_url: str, migrations: Migrations, passphrase: str = "") -> CheckReport:
    """Every check a restore makes, on a scratch copy; the configured database is not touched."""
    with _workdir(path) as work:
        manifest, copy = archive_read(path=path, workdir=Path(work), passphrase=passphrase)
        problem = _migrations_problem(manifest, migrations)
        if problem:
            raise BackupError(problem)
        if manifest["engine"] == "sqlite":
            facts = await _checked_copy(copy, manifest, f"sqlite:///{copy}",
                                        audit=not _older_schema(manifest, migrations))
        else:
            scratch = snapshot.postgres_scratch_url(database_url, f"verify_{secrets.token_hex(4)}")
            await snapshot.postgres_database_create(scratch)
            try:
                facts = await _checked_copy(copy, manifest, scratch, audit=not _older_schema(manifest, migrations))
            finally:
                await snapshot.postgres_database_drop(scratch)
    to_apply = sorted(migrations.known() - set(facts.migrations))
    return CheckReport(manifest=manifest, facts=facts, migrations_to_apply=to_apply)


async def backup_restore(*, path: Path, database_url: str, migrations: Migrations, force: bool = False,
                         passphrase: str = "") -> RestoreReport:
    """Replace the database at `database_url` with the backup, after checking it; then migrate it forward
    and verify its audit trail. Refuses to overwrite records unless `force`."""
    with _workdir(path) as work:
        manifest, copy = archive_read(path=path, workdir=Path(work), passphrase=passphrase)
        problem = _migrations_problem(manifest, migrations)
        if problem:
            raise BackupError(problem)
        if manifest["engine"] != engine_of(database_url):
            raise BackupError(f"the backup is of a {manifest['engine']} database and KINWARD_DATABASE_URL names a "
                              f"{engine_of(database_url)} one")
        if manifest["engine"] == "sqlite":
            current = await snapshot.sqlite_target_facts(database_url)
        else:
            await snapshot.postgres_database_create(database_url)
            current = await snapshot.postgres_target_facts(database_url)
        if current.holds_records and not force:
            raise BackupError("the database already holds records; restoring would replace them. "
                              "Add --force to replace them with the backup")
        if manifest["engine"] == "sqlite":
            # Checked in full before it replaces anything.
            await _checked_copy(copy, manifest, f"sqlite:///{copy}", audit=not _older_schema(manifest, migrations))
            await snapshot.sqlite_restore(copy=copy, url=database_url)
            facts = await snapshot.sqlite_target_facts(database_url)
        else:
            await _checked_copy(copy, manifest, database_url, audit=not _older_schema(manifest, migrations))
            facts = await snapshot.postgres_target_facts(database_url)
    async with db.using(database_url):
        applied = await migrations.pending()
        if applied:
            await migrations.apply()
        broken = await audit_chain_verify()
    if broken is not None:
        raise BackupError(f"restored, but the audit trail does not verify after migrating: row {broken.seq} "
                          f"of facility {broken.facility_id}: {broken.reason}")
    return RestoreReport(manifest=manifest, facts=facts, migrations_applied=applied)

