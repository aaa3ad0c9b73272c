"""Consistent copies of a live database, and the facts a backup's manifest records about one.

SQLite: the backup API copies the whole file in one step, that is inside one read transaction,
so the copy is the database as of one moment, WAL included (a `cp` of the file would miss what
is still only in the WAL). Writers go on meanwhile: WAL readers do not block them.

PostgreSQL: a REPEATABLE READ transaction exports its snapshot; the manifest's facts are read in
that transaction and `pg_dump --snapshot` dumps exactly the same state.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Awaitable, Callable
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from app import clock
from app.records.archive import BackupError

MIGRATION_TABLE = "migration"
APP_NAME = "kinward"
BUSY_TIMEOUT_MS = 10_000

Fetch = Callable[[str], Awaitable[list[dict]]]


@dataclass
class DatabaseFacts:
    """What a manifest promises about a database: rows per table, applied migrations, audit chain heads."""

    tables: dict[str, int] = field(default_factory=dict)
    migrations: list[str] = field(default_factory=list)
    audit_heads: list[dict] = field(default_factory=list)

    def as_manifest(self) -> dict:
        return {"tables": self.tables, "migrations": self.migrations, "audit_heads": self.audit_heads}

    @property
    def holds_records(self) -> bool:
        """Anything beyond the migration bookkeeping: a database someone would not want overwritten."""
        return any(count for name, count in self.tables.items() if name != MIGRATION_TABLE)


AUDIT_HEADS = (
    "SELECT a.facility_id, a.seq, a.hash FROM audit_event a JOIN "
    "(SELECT facility_id, MAX(seq) AS seq FROM audit_event GROUP BY facility_id) h "
    "ON a.seq = h.seq AND (a.facility_id = h.facility_id OR (a.facility_id IS NULL AND h.facility_id IS NULL))"
)


async def facts_read(fetch: Fetch, table_names: list[str]) -> DatabaseFacts:
    facts = DatabaseFacts()
    for name in sorted(table_names):
        rows = await fetch(f'SELECT COUNT(*) AS n FROM "{name}"')
        facts.tables[name] = int(rows[0]["n"])
    if MIGRATION_TABLE in facts.tables:
        rows = await fetch(f"SELECT name FROM {MIGRATION_TABLE} WHERE app_name = '{APP_NAME}'")
        facts.migrations = sorted(row["name"] for row in rows)
    if "audit_event" in facts.tables:
        rows = await fetch(AUDIT_HEADS)
        facts.audit_heads = sorted(({"facility_id": r["facility_id"], "seq": int(r["seq"]), "hash": r["hash"]}
                                    for r in rows), key=lambda h: (h["facility_id"] is not None, h["facility_id"] or 0))
    return facts


def facts_mismatch(*, promised: dict, found: DatabaseFacts) -> str | None:
    """How a database differs from what its manifest promised, in words; None when it matches."""
    tables = promised.get("tables", {})
    for name in sorted(set(tables) | set(found.tables)):
        if tables.get(name) != found.tables.get(name):
            return (f"table {name} has {found.tables.get(name, 'no')} rows, "
                    f"the manifest says {tables.get(name, 'none')}")
    if promised.get("migrations", []) != found.migrations:
        return "the applied migrations differ from the manifest's"
    if promised.get("audit_heads", []) != found.audit_heads:
        return "the audit chain heads differ from the manifest's"
    return None


# --- SQLite ---------------------------------------------------------------------------------------

def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def _sqlite_connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
    connection.row_factory = sqlite3.Row
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return connection


def _sqlite_facts(connection: sqlite3.Connection) -> DatabaseFacts:
    async def fetch(sql: str) -> list[dict]:
        return [dict(row) for row in connection.execute(sql).fetchall()]

    names = [row[0] for row in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    return asyncio.run(facts_read(fetch, names))


def sqlite_facts(path: Path) -> DatabaseFacts:
    """Facts of a SQLite file (run in a thread: it is plain blocking sqlite3)."""
    connection = _sqlite_connect(path)
    try:
        return _sqlite_facts(connection)
    finally:
        connection.close()


def sqlite_integrity_problem(path: Path) -> str | None:
    connection = _sqlite_connect(path)
    try:
        result = [row[0] for row in connection.execute("PRAGMA integrity_check").fetchall()]
    except sqlite3.DatabaseError as error:
        return f"it is not a readable SQLite database ({error})"
    finally:
        connection.close()
    return None if result == ["ok"] else "; ".join(result[:5])


def _sqlite_copy(source_path: Path, target: Path) -> tuple[datetime, DatabaseFacts]:
    if not source_path.is_file():
        raise BackupError(f"there is no database file at {source_path}")
    source = _sqlite_connect(source_path)
    copy = sqlite3.connect(target)
    try:
        started = clock.utcnow()
        source.backup(copy)  # pages=-1: the whole database in one step, one read transaction
        # The copy is one self-contained file, with no -wal beside it.
        copy.execute("PRAGMA journal_mode=DELETE")
        copy.row_factory = sqlite3.Row
        return started, _sqlite_facts(copy)
    finally:
        copy.close()
        source.close()


async def sqlite_copy(*, url: str, target: Path) -> tuple[datetime, DatabaseFacts]:
    """Copy the live database to `target`; returns when the copy's moment began, and its facts."""
    return await asyncio.to_thread(_sqlite_copy, sqlite_path(url), target)


def _sqlite_restore(copy_path: Path, target_path: Path) -> None:
    target_path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(copy_path)
    target = _sqlite_connect(target_path)
    try:
        # Through SQLite itself, not a file copy: it replaces the pages under its own lock and
        # deals with the target's WAL, which a file copy would leave pointing at other pages.
        source.backup(target)
    finally:
        target.close()
        source.close()


async def sqlite_restore(*, copy: Path, url: str) -> None:
    await asyncio.to_thread(_sqlite_restore, copy, sqlite_path(url))


async def sqlite_target_facts(url: str) -> DatabaseFacts:
    path = sqlite_path(url)
    if not path.exists():
        return DatabaseFacts()
    return await asyncio.to_thread(sqlite_facts, path)


# --- PostgreSQL -----------------------------------------------------------------------------------

def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not on the PATH: install the PostgreSQL client tools of the server's "
                          f"major version (Debian/Ubuntu: apt install postgresql-client) and try again")
    return found


async def _run_tool(*command: str) -> None:
    process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.PIPE)
    _, errors = await process.communicate()
    if process.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {errors.decode(errors='replace').strip()}")


def _asyncpg_fetch(connection: asyncpg.Connection) -> Fetch:
    async def fetch(sql: str) -> list[dict]:
        return [dict(row) for row in await connection.fetch(sql)]

    return fetch


async def _postgres_facts(connection: asyncpg.Connection) -> DatabaseFacts:
    names = [row["tablename"] for row in await connection.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    return await facts_read(_asyncpg_fetch(connection), names)


async def postgres_copy(*, url: str, target: Path) -> tuple[datetime, DatabaseFacts]:
    """pg_dump (custom format) of one exported snapshot, with the facts read from the same snapshot."""
    pg_dump = _tool("pg_dump")
    connection = await asyncpg.connect(url)
    try:
        async with connection.transaction(isolation="repeatable_read", readonly=True):
            started = clock.utcnow()
            snapshot = await connection.fetchval("SELECT pg_export_snapshot()")
            facts = await _postgres_facts(connection)
            await _run_tool(pg_dump, "--format=custom", f"--snapshot={snapshot}", "--no-owner",
                            f"--file={target}", f"--dbname={url}")
    finally:
        await connection.close()
    return started, facts


async def postgres_dump_problem(dump: Path) -> str | None:
    """pg_restore reads the dump's table of contents: a damaged custom-format file fails here."""
    try:
        await _run_tool(_tool("pg_restore"), "--list", str(dump))
    except BackupError as error:
        return str(error)
    return None


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


async def postgres_database_create(url: str) -> None:
    """Create the database `url` names when it does not exist yet (a restore into a new database)."""
    admin = await asyncpg.connect(_with_database(url, "postgres"))
    try:
        name = database_name(url)
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def postgres_database_drop(url: str) -> None:
    admin = await asyncpg.connect(_with_database(url, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database_name(url)}" WITH (FORCE)')
    finally:
        await admin.close()


def postgres_scratch_url(url: str, suffix: str) -> str:
    return _with_database(url, f"{database_name(url)}_{suffix}"[:63])


async def postgres_target_facts(url: str) -> DatabaseFacts:
    connection = await asyncpg.connect(url)
    try:
        return await _postgres_facts(connection)
    finally:
        await connection.close()


async def postgres_restore(*, dump: Path, url: str) -> None:
    """Replace what the dump holds in one transaction: a failed restore leaves the database as it was."""
    await _run_tool(_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
                    "--exit-on-error", f"--dbname={url}", str(dump))
