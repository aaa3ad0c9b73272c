"""The database engine: Kinward's SQLite engine on a file of its own (always), and the configured
engine (SQLite or PostgreSQL, whichever the suite runs on)."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import AsyncIterator

import pytest
from piccolo.columns import Integer, Varchar
from piccolo.engine.exceptions import TransactionError
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from app import db
from app.accounts.tables import Facility
from app.db import BUSY_TIMEOUT_MS, KinwardSQLiteEngine, engine_from_url
from app.db.transactions import MAX_BOUND_VALUES, _statements


class EngineNote(Table, tablename="engine_note"):
    body = Varchar(length=100)


class EngineCounter(Table, tablename="engine_counter"):
    value = Integer(default=0)


class Abandon(Exception):
    """Raised inside a transaction to make it roll back."""


# Keeps the writer thread busy for a good part of a second: far longer than a test needs to act.
SLOW_QUERY = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000000) "
    "SELECT count(*) AS c FROM n"
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[KinwardSQLiteEngine]:
    """A fresh engine on its own file, whatever database the rest of the suite uses."""
    engine = KinwardSQLiteEngine(path=str(tmp_path / "engine.sqlite"))
    for table in (EngineNote, EngineCounter):
        table._meta.db = engine
        await table.create_table().run()
    await EngineCounter.insert(EngineCounter(value=0)).run()
    yield engine
    engine.close()


def committed_notes(path: str) -> list[str]:
    """What another process would see: only committed rows."""
    connection = sqlite3.connect(path)
    try:
        return [body for (body,) in connection.execute("SELECT body FROM engine_note ORDER BY id")]
    finally:
        connection.close()


async def counter_value() -> int:
    row = await EngineCounter.select(EngineCounter.value).first().run()
    return row["value"]


# Connections


async def test_reader_and_writer_connections_use_wal_full_sync_busy_timeout_and_foreign_keys(tmp_path, monkeypatch):
    connect = sqlite3.connect

    def connect_with_weak_defaults(*args, **kwargs):
        # As an SQLite build with other compile-time defaults would: the engine must set each one.
        connection = connect(*args, **kwargs)
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA busy_timeout=0")
        return connection

    monkeypatch.setattr(sqlite3, "connect", connect_with_weak_defaults)
    engine = KinwardSQLiteEngine(path=str(tmp_path / "pragmas.sqlite"))
    pragmas = ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
    try:
        # A SELECT runs on the reader connection, a PRAGMA statement on the writer connection.
        on_reader = [await engine.run_ddl(f"SELECT * FROM pragma_{name}") for name in pragmas]
        on_writer = [await engine.run_ddl(f"PRAGMA {name}") for name in pragmas]
    finally:
        engine.close()
    for rows in (on_reader, on_writer):
        values = dict(zip(pragmas, (next(iter(row[0].values())) for row in rows)))
        assert values == {"journal_mode": "wal", "synchronous": 2, "busy_timeout": BUSY_TIMEOUT_MS,
                          "foreign_keys": 1}


async def test_foreign_keys_are_enforced(engine):
    await engine.run_ddl("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    await engine.run_ddl("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id))")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        await engine.run_ddl("INSERT INTO child (parent_id) VALUES (999)")


async def test_many_reads_writes_and_transactions_open_just_two_connections(tmp_path, monkeypatch):
    opened: list[sqlite3.Connection] = []
    connect = sqlite3.connect

    def counting_connect(*args, **kwargs):
        opened.append(connect(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(sqlite3, "connect", counting_connect)
    engine = KinwardSQLiteEngine(path=str(tmp_path / "reuse.sqlite"))
    EngineNote._meta.db = engine
    try:
        await EngineNote.create_table().run()
        for n in range(30):
            await EngineNote.insert(EngineNote(body=f"note {n}")).run()
            await EngineNote.select().where(EngineNote.body == f"note {n}").run()
        for n in range(10):
            async with engine.transaction():
                await EngineNote.insert(EngineNote(body=f"in transaction {n}")).run()
                await EngineNote.count().run()
        assert await EngineNote.count().run() == 40
        assert len(opened) == 2
    finally:
        engine.close()


async def test_close_releases_both_connections_and_the_engine_reopens_on_next_use(engine):
    await EngineNote.insert(EngineNote(body="kept")).run()
    await EngineNote.select().run()
    reader, writer = engine._reader, engine._writer
    wal = Path(engine.path + "-wal")
    assert wal.exists()

    engine.close()

    for connection in (reader, writer):
        with pytest.raises(sqlite3.ProgrammingError):
            connection.execute("SELECT 1")
    # SQLite checkpoints and removes the WAL file when the last connection to it closes.
    assert not wal.exists()
    assert [row["body"] for row in await EngineNote.select().run()] == ["kept"]
    await EngineNote.insert(EngineNote(body="after reopening")).run()
    assert committed_notes(engine.path) == ["kept", "after reopening"]


# Transactions


async def test_transaction_that_raises_is_rolled_back(engine):
    with pytest.raises(Abandon):
        async with engine.transaction():
            await EngineNote.insert(EngineNote(body="never kept")).run()
            raise Abandon
    assert await EngineNote.select().run() == []
    assert committed_notes(engine.path) == []


async def test_transaction_sees_its_own_uncommitted_writes(engine):
    async with engine.transaction():
        await EngineNote.insert(EngineNote(body="mine")).run()
        assert [row["body"] for row in await EngineNote.select().run()] == ["mine"]
        assert committed_notes(engine.path) == []
    assert committed_notes(engine.path) == ["mine"]


async def test_insert_returning_gives_the_new_id_inside_and_outside_a_transaction(engine):
    first = await EngineNote.insert(EngineNote(body="first")).run()
    async with engine.transaction():
        second = await EngineNote.insert(EngineNote(body="second")).run()
    assert first == [{"id": 1}]
    assert second == [{"id": 2}]
    assert await EngineNote.select(EngineNote.body).where(EngineNote.id == 2).first().run() == {"body": "second"}


async def test_concurrent_read_modify_write_transactions_never_interleave(engine):
    async def increment() -> None:
        async with engine.transaction():
            value = await counter_value()
            await asyncio.sleep(0)  # give every other task the chance to run in between
            await EngineCounter.update({EngineCounter.value: value + 1}).where(EngineCounter.id == 1).run()

    await asyncio.gather(*(increment() for _ in range(20)))
    assert await counter_value() == 20


async def test_nested_transaction_joins_the_outer_one_instead_of_waiting_for_the_writer(engine):
    async def nested() -> None:
        async with engine.transaction():
            await EngineNote.insert(EngineNote(body="outer")).run()
            async with engine.transaction():
                await EngineNote.insert(EngineNote(body="inner")).run()
            raise Abandon

    with pytest.raises(Abandon):
        await asyncio.wait_for(nested(), timeout=10)
    assert committed_notes(engine.path) == []


async def test_write_outside_a_transaction_waits_for_the_open_transaction_to_finish(engine):
    inside, finish = asyncio.Event(), asyncio.Event()

    async def transaction_that_rolls_back() -> None:
        async with engine.transaction():
            await EngineNote.insert(EngineNote(body="rolled back")).run()
            inside.set()
            await finish.wait()
            raise Abandon

    holder = asyncio.create_task(transaction_that_rolls_back())
    await inside.wait()
    writer = asyncio.create_task(EngineNote.insert(EngineNote(body="outside")).run())
    await asyncio.sleep(0.2)
    assert not writer.done()

    finish.set()
    with pytest.raises(Abandon):
        await holder
    await writer
    # Had the write joined the open transaction, it would have been rolled back with it.
    assert committed_notes(engine.path) == ["outside"]


async def test_write_from_another_event_loop_waits_for_the_open_transaction(engine):
    # As Piccolo's run_sync() does in a worker thread: a second event loop in the same process.
    def write_on_a_loop_of_its_own() -> None:
        asyncio.run(EngineNote.insert(EngineNote(body="other loop")).run())

    with pytest.raises(Abandon):
        async with engine.transaction():
            await EngineNote.insert(EngineNote(body="rolled back")).run()
            other_loop = asyncio.get_running_loop().run_in_executor(None, write_on_a_loop_of_its_own)
            await asyncio.sleep(0.2)
            assert not other_loop.done()
            raise Abandon
    await other_loop
    assert committed_notes(engine.path) == ["other loop"]


async def test_writer_cancelled_while_waiting_for_the_writer_does_not_hold_up_later_writers(engine):
    inside, finish = asyncio.Event(), asyncio.Event()

    async def transaction_held_open() -> None:
        async with engine.transaction():
            inside.set()
            await finish.wait()

    holder = asyncio.create_task(transaction_held_open())
    await inside.wait()
    given_up = asyncio.create_task(EngineNote.insert(EngineNote(body="given up")).run())
    queued = asyncio.create_task(EngineNote.insert(EngineNote(body="queued")).run())
    await asyncio.sleep(0.05)
    given_up.cancel()
    finish.set()
    await holder
    await asyncio.wait_for(queued, timeout=10)
    await asyncio.wait_for(EngineNote.insert(EngineNote(body="later")).run(), timeout=10)
    assert committed_notes(engine.path) == ["queued", "later"]


async def test_reads_proceed_while_a_transaction_holds_the_writer_and_miss_its_uncommitted_rows(engine):
    inside, finish = asyncio.Event(), asyncio.Event()

    async def transaction_held_open() -> None:
        async with engine.transaction():
            await EngineNote.insert(EngineNote(body="pending")).run()
            inside.set()
            await finish.wait()

    holder = asyncio.create_task(transaction_held_open())
    await inside.wait()
    # Were reads queued behind the writer, this would never return (the transaction waits on us).
    assert await asyncio.wait_for(EngineNote.select().run(), timeout=5) == []
    assert await asyncio.wait_for(EngineNote.count().run(), timeout=5) == 0

    finish.set()
    await holder
    assert [row["body"] for row in await EngineNote.select().run()] == ["pending"]


async def test_failed_commit_is_reported_and_leaves_nothing_open_for_the_next_writer(engine):
    await engine.run_ddl("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    await engine.run_ddl("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id))")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        async with engine.transaction():
            # Deferred foreign keys are checked at COMMIT, and a failed COMMIT keeps the
            # transaction open in SQLite.
            await engine.run_ddl("PRAGMA defer_foreign_keys = ON")
            await engine.run_ddl("INSERT INTO child (parent_id) VALUES (999)")
            await EngineNote.insert(EngineNote(body="in the failed transaction")).run()

    await EngineNote.insert(EngineNote(body="same task, afterwards")).run()

    async def another_writer() -> None:
        async with engine.transaction():
            await EngineNote.insert(EngineNote(body="next transaction")).run()

    await asyncio.create_task(another_writer())
    assert committed_notes(engine.path) == ["same task, afterwards", "next transaction"]


async def test_statements_run_in_one_transaction_are_kept_together_or_not_at_all(engine):
    """A shared commit's statements go to the writer thread as one job: all stored, or (a statement or
    the COMMIT failing) none, and the next writer finds nothing left open."""
    from piccolo.querystring import QueryString

    def note(body: str) -> QueryString:
        return QueryString("INSERT INTO engine_note (body) VALUES ({})", body)

    await engine.run_ddl("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    await engine.run_ddl("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id))")
    before = engine.write_transactions
    await engine.run_in_one_transaction([note("first"), note("second")])
    assert engine.write_transactions == before + 1
    with pytest.raises(sqlite3.OperationalError):
        await engine.run_in_one_transaction([note("lost with its batch"), QueryString("INSERT INTO nowhere VALUES (1)")])
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        # Deferred foreign keys are checked at COMMIT, and a failed COMMIT keeps the transaction open in SQLite.
        await engine.run_in_one_transaction([QueryString("PRAGMA defer_foreign_keys = ON"), note("lost at commit"),
                                             QueryString("INSERT INTO child (parent_id) VALUES (999)")])
    await EngineNote.insert(EngineNote(body="next writer")).run()
    assert committed_notes(engine.path) == ["first", "second", "next writer"]


async def test_transaction_cancelled_while_waiting_to_begin_leaves_nothing_open(engine):
    other_process = sqlite3.connect(engine.path, isolation_level=None)
    other_process.execute("BEGIN IMMEDIATE")

    async def would_write() -> None:
        async with engine.transaction():
            await EngineNote.insert(EngineNote(body="never written")).run()

    task = asyncio.create_task(would_write())
    await asyncio.sleep(0.2)  # the writer thread is now in BEGIN IMMEDIATE, waiting on busy_timeout
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    other_process.execute("COMMIT")
    other_process.close()

    await EngineNote.insert(EngineNote(body="after")).run()
    assert committed_notes(engine.path) == ["after"]


async def test_transaction_cancelled_again_during_its_rollback_is_still_rolled_back(engine):
    started = asyncio.Event()

    async def writes_then_runs_a_slow_query() -> None:
        async with engine.transaction():
            await EngineNote.insert(EngineNote(body="abandoned")).run()
            started.set()
            await engine.run_ddl(SLOW_QUERY)

    task = asyncio.create_task(writes_then_runs_a_slow_query())
    await started.wait()
    task.cancel()
    await asyncio.sleep(0)  # the task is now waiting for its ROLLBACK, queued behind the slow query
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    await EngineNote.insert(EngineNote(body="after")).run()
    assert committed_notes(engine.path) == ["after"]


async def test_task_outliving_its_transaction_cannot_run_statements_in_it(engine):
    go = asyncio.Event()

    async def straggler() -> None:
        await go.wait()
        await EngineNote.insert(EngineNote(body="late")).run()

    async with engine.transaction():
        late = asyncio.create_task(straggler())
    go.set()
    with pytest.raises(TransactionError):
        await late
    assert committed_notes(engine.path) == []


# Concurrency


async def test_fifty_concurrent_writers_and_a_reader_never_hit_database_is_locked(engine):
    async def writer(n: int) -> None:
        for i in range(5):
            if i % 2:
                async with engine.transaction():
                    await EngineNote.insert(EngineNote(body=f"writer {n} row {i}")).run()
            else:
                await EngineNote.insert(EngineNote(body=f"writer {n} row {i}")).run()

    async def reader() -> None:
        for _ in range(50):
            await EngineNote.select().where(EngineNote.body == "writer 0 row 0").run()
            await asyncio.sleep(0)

    results = await asyncio.gather(*(writer(n) for n in range(50)), reader(), return_exceptions=True)
    assert [error for error in results if error is not None] == []
    assert await EngineNote.count().run() == 250


async def test_two_engines_on_one_file_serialise_their_transactions_like_two_processes(engine):
    second = KinwardSQLiteEngine(path=engine.path)

    async def increment(on: KinwardSQLiteEngine) -> None:
        # BEGIN IMMEDIATE makes the other engine wait (busy_timeout) rather than fail with
        # "database is locked" when it upgrades a read to a write.
        async with on.transaction():
            rows = await on.run_ddl("SELECT value FROM engine_counter WHERE id = 1")
            await asyncio.sleep(0)
            await on.run_ddl(f"UPDATE engine_counter SET value = {rows[0]['value'] + 1} WHERE id = 1")

    try:
        await asyncio.gather(*(increment(on) for _ in range(10) for on in (engine, second)))
    finally:
        second.close()
    assert await counter_value() == 20


# Choosing and configuring the engine


def test_engine_from_url_picks_sqlite_or_postgresql_by_scheme(monkeypatch, tmp_path):
    async def no_version_check(self) -> None:
        """Constructing a PostgresEngine would otherwise try to connect."""

    monkeypatch.setattr(PostgresEngine, "check_version", no_version_check)
    sqlite_engine = engine_from_url(f"sqlite:///{tmp_path / 'choose.sqlite'}")
    assert isinstance(sqlite_engine, KinwardSQLiteEngine)
    assert sqlite_engine.path == str(tmp_path / "choose.sqlite")
    for url in ("postgresql://kinward@db.example:5432/kinward", "postgres://kinward@db.example/kinward"):
        postgres_engine = engine_from_url(url)
        assert isinstance(postgres_engine, PostgresEngine)
        assert postgres_engine.config == {"dsn": url}
    with pytest.raises(ValueError, match="mysql"):
        engine_from_url("mysql://kinward@db.example/kinward")


async def test_configured_sqlite_database_runs_on_kinwards_engine_in_wal_mode():
    if db.is_postgres():
        pytest.skip("SQLite only")
    assert isinstance(db.engine(), KinwardSQLiteEngine)
    assert await db.engine().run_ddl("PRAGMA journal_mode") == [{"journal_mode": "wal"}]


async def test_configured_database_rolls_back_a_transaction_that_raises():
    with pytest.raises(Abandon):
        async with db.transaction():
            await Facility.insert(Facility(name="Never opened")).run()
            raise Abandon
    assert await Facility.count().run() == 0


async def test_configured_database_keeps_uncommitted_rows_from_other_readers():
    inside, finish = asyncio.Event(), asyncio.Event()

    async def open_facility() -> int:
        async with db.transaction():
            rows = await Facility.insert(Facility(name="Rowan House")).run()
            assert await Facility.count().where(Facility.id == rows[0]["id"]).run() == 1
            inside.set()
            await finish.wait()
        return rows[0]["id"]

    holder = asyncio.create_task(open_facility())
    await inside.wait()
    assert await asyncio.wait_for(Facility.count().run(), timeout=10) == 0
    finish.set()
    facility_id = await holder
    assert await Facility.select(Facility.name).where(Facility.id == facility_id).first().run() == {
        "name": "Rowan House"
    }


async def test_configured_database_returns_the_new_id_from_an_insert():
    first = await Facility.insert(Facility(name="Alder Court")).run()
    second = await Facility.insert(Facility(name="Birch Lodge")).run()
    assert second[0]["id"] > first[0]["id"]
    names = await Facility.select(Facility.id, Facility.name).order_by(Facility.id).run()
    assert names == [{"id": first[0]["id"], "name": "Alder Court"}, {"id": second[0]["id"], "name": "Birch Lodge"}]


async def test_a_shared_commit_stores_every_row_with_its_values_past_the_bound_values_of_one_insert():
    """Rows of one table are folded into multi-row INSERTs, as many as one statement may bind, in order and
    around the other writes of the commit."""
    from piccolo.querystring import QueryString

    columns = ("name", "timezone")
    per_insert = MAX_BOUND_VALUES // len(columns)
    many = 2 * per_insert + 3  # more values than either engine binds in one statement
    rows = [db.RowInsert("facility", columns, (f"House {n}", "Europe/London")) for n in range(many)]
    renamed = QueryString("UPDATE facility SET timezone = {} WHERE name = {}", "Europe/Paris", "House 0")
    later = db.RowInsert("facility", columns, ("House last", "UTC"))
    statements = _statements([*rows, renamed, later])
    assert [s.template.split(" ", 1)[0] for s in statements] == ["INSERT", "INSERT", "INSERT", "UPDATE", "INSERT"]
    assert [len(s.compile_string(db.engine().engine_type)[1]) for s in statements] == [
        2 * per_insert, 2 * per_insert, 6, 2, 2]
    before = db.engine().write_transactions
    await db.commit_shared([*rows, renamed, later])
    assert db.engine().write_transactions == before + 1
    stored = await Facility.select(Facility.name, Facility.timezone).order_by(Facility.id).run()
    assert stored == ([{"name": "House 0", "timezone": "Europe/Paris"}]
                      + [{"name": f"House {n}", "timezone": "Europe/London"} for n in range(1, many)]
                      + [{"name": "House last", "timezone": "UTC"}])


async def test_a_statement_around_many_rows_binds_each_value_in_its_cell_on_either_engine():
    """RowsStatement (the sealer's update of the rows it chains): the rows' values bound in order, each in its
    column's cell (PostgreSQL needs the casts to know a VALUES list's types); a query log shows the values,
    whatever braces the statement or the values hold."""
    async with db.transaction():
        for name in ("House {a}", "House b"):
            await Facility.insert(Facility(name=name, timezone="UTC")).run()
        ids = {r["name"]: r["id"] for r in await Facility.select(Facility.id, Facility.name).run()}
        renamed = db.RowsStatement("WITH renamed(id, name) AS (VALUES ", ("CAST({} AS INTEGER)", "{}"),
                                   [(ids["House {a}"], "Home {1}"), (ids["House b"], "Home 2")],
                                   ") UPDATE facility SET name = renamed.name FROM renamed WHERE facility.id = renamed.id")
        await db.engine().run_querystring(renamed)
    stored = await Facility.select(Facility.id, Facility.name).order_by(Facility.id).run()
    assert [(r["id"], r["name"]) for r in stored] == [(ids["House {a}"], "Home {1}"), (ids["House b"], "Home 2")]
    assert str(renamed) == (f"WITH renamed(id, name) AS (VALUES (CAST({ids['House {a}']} AS INTEGER), 'Home {{1}}'), "
                            f"(CAST({ids['House b']} AS INTEGER), 'Home 2')) UPDATE facility SET name = renamed.name "
                            "FROM renamed WHERE facility.id = renamed.id")
    # Each engine's placeholders, numbered row by row on PostgreSQL, with the values in the same order.
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    logged = db.RowsStatement("INSERT INTO t (a, b, c) VALUES ", ("{}", "CAST({} AS INTEGER)", "{}"),
                              [(1, 2, None), (4, 5, at)])
    assert logged.compile_string("postgres") == (
        "INSERT INTO t (a, b, c) VALUES ($1, CAST($2 AS INTEGER), $3), ($4, CAST($5 AS INTEGER), $6)",
        [1, 2, None, 4, 5, at])
    assert logged.compile_string("sqlite") == (
        "INSERT INTO t (a, b, c) VALUES (?, CAST(? AS INTEGER), ?), (?, CAST(? AS INTEGER), ?)", [1, 2, None, 4, 5, at])
    assert str(logged) == ("INSERT INTO t (a, b, c) VALUES (1, CAST(2 AS INTEGER), null), "
                           "(4, CAST(5 AS INTEGER), '2026-01-01T00:00:00+00:00')")


async def test_rows_inserted_at_once_skip_conflicts_return_the_new_ones_and_roll_back_with_their_transaction():
    """insert_rows: as many rows as several statements bind, defaults filled, each statement's tail applied
    (here: a conflict skips the row and RETURNING names the rows stored), all or none, in the caller's
    transaction when there is one; values stored as the ORM stores them."""
    from zoneinfo import ZoneInfo

    from app.accounts.tables import LoginThrottle

    stamp = datetime(2026, 7, 1, 9, 30, 15, 123456, tzinfo=ZoneInfo("Europe/London"))  # not UTC: converted as by the ORM
    await LoginThrottle.insert(LoginThrottle(key="taken", failures=7, updated_at=stamp)).run()
    per_statement = MAX_BOUND_VALUES // len(db.row_defaults(LoginThrottle))
    keys = [f"key {n}" for n in range(2 * per_statement + 5)]
    rows = [db.row_defaults(LoginThrottle, key=key, failures=n % 4, updated_at=stamp) for n, key in enumerate(keys)]
    rows.insert(3, db.row_defaults(LoginThrottle, key="taken", failures=1, updated_at=stamp))
    tail = " ON CONFLICT DO NOTHING RETURNING key"
    with pytest.raises(Outdated):
        async with db.transaction():
            returned = await db.insert_rows(LoginThrottle, rows, tail=tail)
            assert sorted(r["key"] for r in returned) == sorted(keys)
            raise Outdated  # the caller's transaction ends without a commit
    assert await LoginThrottle.count().run() == 1
    unstorable = [*rows, db.row_defaults(LoginThrottle, key=None, updated_at=stamp)]  # in the last statement
    with pytest.raises(Exception):
        await db.insert_rows(LoginThrottle, unstorable, tail=tail)
    assert await LoginThrottle.count().run() == 1  # no statement of the call was kept
    with pytest.raises(ValueError):
        await db.insert_rows(LoginThrottle, [rows[0], {**rows[1], "blocked_until": stamp, "extra": 1}])

    returned = await db.insert_rows(LoginThrottle, rows, tail=tail)
    assert sorted(r["key"] for r in returned) == sorted(keys)
    stored = await LoginThrottle.select(LoginThrottle.key, LoginThrottle.failures, LoginThrottle.blocked_until,
                                        LoginThrottle.updated_at).order_by(LoginThrottle.id).run()
    assert stored == ([{"key": "taken", "failures": 7, "blocked_until": None, "updated_at": stamp}]
                      + [{"key": key, "failures": n % 4, "blocked_until": None, "updated_at": stamp}
                         for n, key in enumerate(keys)])
    as_text = await LoginThrottle.raw("SELECT CAST(updated_at AS TEXT) AS t FROM login_throttle "
                                      "WHERE key IN ('taken', 'key 0') ORDER BY id").run()
    assert as_text[0]["t"] == as_text[1]["t"]  # the same text as the ORM's insert: comparisons and order hold


class Outdated(Exception):
    pass


async def test_a_versioned_update_is_stored_only_on_the_version_it_began_from():
    from app.clients.tables import Client
    from tests.clients.factories import make_client

    facility = await Facility.insert(Facility(name="Cedar House")).run()
    client_id = (await make_client(facility_id=facility[0]["id"], first_name="Ada"))["id"]
    await db.update_versioned(Client, {Client.first_name: "Adele"}, where=Client.id == client_id, version=1,
                              conflict=Outdated())
    with pytest.raises(Outdated):  # someone saved version 2 meanwhile
        await db.update_versioned(Client, {Client.first_name: "Ida"}, where=Client.id == client_id, version=1,
                                  conflict=Outdated())
    with pytest.raises(Outdated):  # the right version, but the guard beside it no longer holds
        await db.update_versioned(Client, {Client.first_name: "Ida"}, version=2, conflict=Outdated(),
                                  where=(Client.id == client_id) & (Client.status == "discharged"))
    stored = await Client.select(Client.first_name, Client.version).where(Client.id == client_id).first().run()
    assert stored == {"first_name": "Adele", "version": 2}


async def test_a_prebuilt_query_returns_what_the_same_query_built_per_call_returns():
    from datetime import datetime, timedelta, timezone

    from app.accounts.tables import User

    facility = (await Facility.insert(Facility(name="Prebuilt", timezone="UTC")).run())[0]["id"]
    since = datetime(2026, 3, 29, 0, 30, tzinfo=timezone.utc)
    for n in range(3):
        await User.insert(User(facility=facility, email=f"p{n}@example.org", display_name=f"P {n}",
                               role="worker", password_hash="x", active=n != 1,
                               created_at=since + timedelta(hours=n))).run()

    def build(facility_id, active, after):
        return User.select(User.id, User.email, User.active, User.created_at, User.facility.name.as_alias("home")).where(
            (User.facility == facility_id) & (User.active == active) & (User.created_at > after)).order_by(User.id)

    prebuilt = db.Prebuilt(build)
    for active, after in ((True, since - timedelta(days=1)), (False, since), (True, since + timedelta(hours=1))):
        assert await prebuilt.rows(facility_id=facility, active=active, after=after) == await build(
            facility, active, after).run()
    assert (await prebuilt.first(facility_id=facility, active=True, after=since))["email"] == "p2@example.org"
    assert await prebuilt.first(facility_id=facility + 1, active=True, after=since) is None


async def test_a_prebuilt_query_over_a_list_of_ids_returns_what_is_in_returns_for_every_length():
    from app.accounts.tables import User

    facility = (await Facility.insert(Facility(name="Prebuilt ids", timezone="UTC")).run())[0]["id"]
    ids = [(await User.insert(User(facility=facility, email=f"i{n}@example.org", display_name=f"I {n}", role="worker",
                                   password_hash="x")).run())[0]["id"] for n in range(20)]

    def build(ids, facility_id):
        return User.select(User.id, User.email).where(User.id.is_in(ids) & (User.facility == facility_id)).order_by(
            User.id)

    prebuilt = db.PrebuiltForIds(build, names=("facility_id",))
    for chosen in (ids[:1], ids[:7], ids[:8], ids[:9], ids[3:20], ids[::3] + [ids[0]]):
        assert await prebuilt.rows(ids=chosen, facility_id=facility) == await build(chosen, facility).run()
    assert await prebuilt.rows(ids=ids[:3], facility_id=facility + 1) == []
    assert len(db.padded_ids(ids[:9])) == 16 and db.padded_ids(ids[:9])[9:] == [0] * 7


async def test_a_prebuilt_query_must_use_each_value_it_takes():
    from app.accounts.tables import User

    unused = db.Prebuilt(lambda facility_id, email: User.select(User.id).where(User.facility == facility_id))
    with pytest.raises(ValueError):
        await unused.rows(facility_id=1, email="a@example.org")
