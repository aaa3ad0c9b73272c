"""What differs between SQLite and PostgreSQL, behind one name each, so services never ask which engine
runs: exception types, row locks, claim clauses, timestamps from raw SQL, SQL expressions, bulk loads."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timezone
from enum import IntEnum
from typing import Any, Optional, Sequence

import asyncpg
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from app.db.binding import engine, is_postgres
from app.db.engines import KinwardSQLiteEngine

# What a unique index raises on either engine, when two requests insert the same thing at once.
UNIQUE_VIOLATIONS = (sqlite3.IntegrityError, asyncpg.UniqueViolationError)


class Lock(IntEnum):
    """What one process at a time may change, per key (the numbers are PostgreSQL advisory-lock classes)."""

    client_schedule = 4243  # one client's visits, while the schedule is brought in step
    visit_log = 4244  # one visit's log


async def lock_until_commit(lock: Lock, key: int) -> None:
    """Inside a transaction: wait until no other transaction holds `lock` for `key`, then hold it to commit.

    PostgreSQL takes an advisory transaction lock; SQLite's BEGIN IMMEDIATE already admits one writer
    at a time, so there is nothing more to take.
    """
    if is_postgres():
        await engine().run_querystring(QueryString("SELECT pg_advisory_xact_lock({}, {})", int(lock), key))


def skip_locked() -> str:
    """The end of a SELECT that claims rows: PostgreSQL skips rows another transaction holds (so concurrent
    workers take different rows instead of queueing); SQLite's single writer already claims atomically."""
    return " FOR UPDATE SKIP LOCKED" if is_postgres() else ""


def elapsed_ms_sql(start: str, end: str) -> str:
    """Milliseconds from one timestamp column to another, the same on SQLite and PostgreSQL."""
    if is_postgres():
        return f"(EXTRACT(EPOCH FROM ({end} - {start})) * 1000)"
    # julianday is a double: rounded to the millisecond, an exact 30 minutes stays exactly 1800000.
    return f"ROUND((julianday({end}) - julianday({start})) * 86400000)"


def quarter_hour_sql(column: str) -> str:
    """The UTC quarter hour a timestamp column falls in, as a whole number. Every time zone in use is a
    whole number of quarter hours from UTC, so a local day begins on a quarter hour: one never spans two days."""
    if is_postgres():
        return f"FLOOR(EXTRACT(EPOCH FROM {column}) / 900)"
    return f"(CAST(strftime('%s', {column}) AS INTEGER) / 900)"


def json_length_sql(column: str) -> str:
    """The length of a JSON list stored as text ('' counts as an empty list)."""
    if is_postgres():
        return f"json_array_length(COALESCE(NULLIF({column}, ''), '[]')::json)"
    return f"json_array_length(COALESCE(NULLIF({column}, ''), '[]'))"


async def bulk_insert(table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    """Many rows at once, for building large data sets (PostgreSQL COPY; one SQLite transaction)."""
    if not rows:
        return
    current = engine()
    if isinstance(current, KinwardSQLiteEngine):
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"

        def insert_all() -> None:
            if current._writer is None:
                current._writer = current._connect()
            writer = current._writer
            writer.execute("BEGIN IMMEDIATE")
            try:
                writer.executemany(sql, rows)
                writer.execute("COMMIT")
            except BaseException:
                writer.execute("ROLLBACK")
                raise

        async with current._writer_lock:
            current.write_transactions += 1
            await asyncio.get_running_loop().run_in_executor(current._writer_thread(), insert_all)
        return
    assert isinstance(current, PostgresEngine)
    if current.pool is not None:
        async with current.pool.acquire() as connection:
            await connection.copy_records_to_table(table, records=rows, columns=list(columns))
        return
    connection = await current.get_new_connection()  # a command or a test that opened no pool
    try:
        await connection.copy_records_to_table(table, records=rows, columns=list(columns))
    finally:
        await connection.close()


_default_rows: dict[str, dict] = {}


def row_defaults(table: Any, **values: Any) -> dict:
    """A row of the table's column defaults (worked out once per table) with `values` over them, keyed by
    column name, id left out: for rows written with `bulk_insert` rather than through the table class."""
    base = _default_rows.get(table._meta.tablename)
    if base is None:
        base = {}
        for column in table._meta.columns:
            name = column._meta.db_column_name
            if name != "id":
                default = column.get_default_value()
                base[name] = default() if callable(default) else default
        _default_rows[table._meta.tablename] = base
    row = dict(base)
    row.update(values)
    return row


async def bulk_insert_rows(table: Any, rows: list[dict]) -> None:
    """Rows made with `row_defaults` (ids from the table's sequence), in one bulk load."""
    if rows:
        columns = tuple(rows[0])
        await bulk_insert(table._meta.tablename, columns, [tuple(row[c] for c in columns) for row in rows])


def as_utc(value: Any) -> Optional[datetime]:
    """A timestamp from a raw SQL column: SQLite gives text, PostgreSQL a datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
