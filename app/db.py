"""The database engine, chosen by KINWARD_DATABASE_URL: SQLite embedded, PostgreSQL to scale out.

Piccolo finds `DB` and `APP_REGISTRY` here (PICCOLO_CONF points at this module).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Optional

import asyncpg
from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine
from piccolo.engine.exceptions import TransactionError
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType
from piccolo.querystring import QueryString

# What a unique index raises on either engine, when two requests insert the same thing at once.
UNIQUE_VIOLATIONS = (sqlite3.IntegrityError, asyncpg.UniqueViolationError)

APP_REGISTRY = AppRegistry(apps=["app.piccolo_app"])

BUSY_TIMEOUT_MS = 10_000


class _WriterLock:
    """Admits one writer at a time, first come first served, across every event loop in the process.

    An asyncio.Lock serves one event loop. A second loop in the same process (Piccolo's run_sync()
    in a worker thread, a test client's portal thread) would get a lock of its own, and its writes
    would run inside the first loop's open transaction. (So calling run_sync() from async code,
    which blocks this loop's thread while another loop waits here, can deadlock: await instead.)
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held = False
        self._waiting: deque[_Turn] = deque()

    async def acquire(self) -> None:
        loop = asyncio.get_running_loop()
        with self._guard:
            if not self._held:
                self._held = True
                return
            turn = _Turn(loop)
            self._waiting.append(turn)
        try:
            await turn.woken
        except BaseException:
            with self._guard:
                granted = turn.granted
                if not granted:
                    self._waiting.remove(turn)
            if granted:
                self.release()
            raise

    def release(self) -> None:
        while True:
            with self._guard:
                if not self._waiting:
                    self._held = False
                    return
                turn = self._waiting.popleft()
                turn.granted = True
            if turn.wake():
                return

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc_info: Any) -> None:
        self.release()


class _Turn:
    """A writer waiting for the lock; `granted` (set under the lock's guard) makes it the holder."""

    __slots__ = ("loop", "woken", "granted")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.woken: asyncio.Future = loop.create_future()
        self.granted = False

    def wake(self) -> bool:
        """False when the waiter's event loop is gone, so the lock must go to the next one."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            self._set()
            return True
        try:
            self.loop.call_soon_threadsafe(self._set)
        except RuntimeError:
            return False
        return True

    def _set(self) -> None:
        if not self.woken.done():
            self.woken.set_result(None)


class _WriterConnection:
    """The transaction's view of the writer connection: every statement runs on the writer thread."""

    def __init__(self, engine: KinwardSQLiteEngine) -> None:
        self._engine = engine
        self.open = True

    async def execute(self, sql: str, args: Any = ()) -> list[dict]:
        if not self.open:
            # A task started inside the transaction and still running after it: its statement
            # would land on the writer connection without the writer lock, inside someone
            # else's transaction.
            raise TransactionError("this transaction has already ended")
        return await self._engine._on_writer(sql, list(args))

    async def close(self) -> None:
        """The writer connection outlives transactions; only this view of it closes."""
        self.open = False


class KinwardSQLiteTransaction(SQLiteTransaction):
    """A write transaction: holds the engine's writer lock from BEGIN IMMEDIATE to COMMIT/ROLLBACK."""

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        engine: KinwardSQLiteEngine = self.engine  # type: ignore[assignment]
        self._lock = engine._writer_lock
        await self._lock.acquire()
        try:
            self.connection = _WriterConnection(engine)
            await self.begin()
        except BaseException:
            # Cancelled while BEGIN waited for another process's lock: the writer thread still
            # runs it, and nobody would end that transaction.
            engine._rollback_leftover()
            self._lock.release()
            raise
        self.context = engine.current_transaction.set(self)
        return self

    async def begin(self) -> None:
        # IMMEDIATE takes the write lock up front, so a transaction never fails half-way on
        # SQLITE_BUSY when another process holds it; busy_timeout makes it wait instead.
        await self.connection.execute("BEGIN IMMEDIATE")

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        if self._parent:
            return exception is None
        engine: KinwardSQLiteEngine = self.engine  # type: ignore[assignment]
        try:
            if not (self._committed or self._rolled_back):
                if exception is None:
                    await self.commit()
                else:
                    await self.rollback()
        finally:
            await self.connection.close()
            engine.current_transaction.reset(self.context)
            if not (self._committed or self._rolled_back):
                # A COMMIT that failed (SQLite keeps the transaction open) or a ROLLBACK
                # cancelled before it ran would leave the next writer inside this transaction.
                engine._rollback_leftover()
            self._lock.release()
        return exception is None


class KinwardSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine with long-lived connections, WAL and one writer at a time.

    Reads run on a persistent connection on the event-loop thread: a 60-row indexed select
    takes well under a millisecond, less than the cost of handing it to a thread. Writes run
    on a second persistent connection on one dedicated thread, because synchronous=FULL waits
    for the disk and must not stall other requests. A lock admits one writer (single statement
    or whole transaction) at a time, from whichever event loop, so transactions never interleave
    on the writer connection; WAL lets the reader go on meanwhile.
    """

    def __init__(self, path: str, **connection_kwargs: Any) -> None:
        connection_kwargs.setdefault("check_same_thread", False)
        connection_kwargs.setdefault("timeout", BUSY_TIMEOUT_MS / 1000)
        super().__init__(path=path, **connection_kwargs)
        self._reader: Optional[sqlite3.Connection] = None
        self._reader_guard = threading.Lock()
        self._writer: Optional[sqlite3.Connection] = None
        self._executor: Optional[ThreadPoolExecutor] = None
        self._writer_lock = _WriterLock()

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(**self.connection_kwargs)
        connection.execute("PRAGMA journal_mode=WAL")
        # Care records must survive a power cut: fsync on every commit.
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA foreign_keys=ON")
        return connection

    def _read(self, sql: str, args: list) -> list[dict]:
        with self._reader_guard:
            if self._reader is None:
                self._reader = self._connect()
            cursor = self._reader.execute(sql, args)
            try:
                return _as_dicts(cursor)
            finally:
                cursor.close()

    def _write(self, sql: str, args: list) -> list[dict]:
        if self._writer is None:
            self._writer = self._connect()
        cursor = self._writer.execute(sql, args)
        try:
            return _as_dicts(cursor)
        finally:
            cursor.close()

    def _writer_thread(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kinward-sqlite-writer")
        return self._executor

    async def _on_writer(self, sql: str, args: list) -> list[dict]:
        return await asyncio.get_running_loop().run_in_executor(self._writer_thread(), self._write, sql, args)

    def _rollback_leftover(self) -> None:
        """Queue a ROLLBACK of any transaction still open on the writer connection.

        Not awaited, so a cancelled task cannot lose it: the writer thread runs jobs in the
        order they were queued, so it runs before any statement of the next writer.
        """
        self._writer_thread().submit(self._rollback_if_open)

    def _rollback_if_open(self) -> None:
        if self._writer is not None and self._writer.in_transaction:
            self._writer.execute("ROLLBACK")

    async def _run(self, sql: str, args: list) -> list[dict]:
        transaction = self.current_transaction.get()
        if transaction is not None:
            return await transaction.connection.execute(sql, args)
        if _is_read(sql):
            return self._read(sql, args)
        async with self._writer_lock:
            return await self._on_writer(sql, args)

    async def run_querystring(self, querystring: QueryString, in_pool: bool = False):
        query_id = self.get_query_id()
        if self.log_queries:
            self.print_query(query_id=query_id, query=querystring.__str__())
        sql, args = querystring.compile_string(engine_type=self.engine_type)
        response = await self._run(sql, list(args))
        if self.log_responses:
            self.print_response(query_id=query_id, response=response)
        return response

    async def run_ddl(self, ddl: str, in_pool: bool = False):
        if self.log_queries:
            self.print_query(query_id=self.get_query_id(), query=ddl)
        return await self._run(ddl, [])

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.immediate,
        allow_nested: bool = True,
    ) -> SQLiteTransaction:
        return KinwardSQLiteTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)

    def close(self) -> None:
        """Close both connections (end of the app's lifespan, or of a test)."""
        with self._reader_guard:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
        if self._executor is not None:
            writer = self._writer
            if writer is not None:
                self._executor.submit(writer.close).result()
            self._writer = None
            self._executor.shutdown(wait=True)
            self._executor = None


def _as_dicts(cursor: sqlite3.Cursor) -> list[dict]:
    # Measured: about half the cost of Piccolo's dict_factory as row_factory, which walks
    # cursor.description again for every row.
    rows = cursor.fetchall()
    if not rows:
        return []
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in rows]


def _is_read(sql: str) -> bool:
    head = sql.lstrip()[:6].upper()
    return head == "SELECT"


def engine_from_url(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        return KinwardSQLiteEngine(path=url.removeprefix("sqlite:///"))
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresEngine(config={"dsn": url})
    raise ValueError(f"unsupported database URL scheme: {url.split(':', 1)[0]}")


_engine: Optional[Engine] = None
_engine_url: Optional[str] = None


def configure(url: str) -> Engine:
    """Make the engine for `url` the one every table uses (idempotent for the same URL)."""
    global _engine, _engine_url
    if _engine is not None and _engine_url == url:
        return _engine
    if isinstance(_engine, KinwardSQLiteEngine):
        _engine.close()
    engine = engine_from_url(url)
    if url.startswith("sqlite:///"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    from piccolo.apps.migrations.tables import Migration

    from app.piccolo_app import APP_CONFIG

    for table in [*APP_CONFIG.table_classes, Migration]:
        table._meta.db = engine
    _engine, _engine_url = engine, url
    return engine


def engine() -> Engine:
    if _engine is None:
        from app.settings import Settings

        return configure(Settings.from_env().database_url)
    return _engine


def transaction():
    """A write transaction on the configured engine (BEGIN IMMEDIATE on SQLite)."""
    return engine().transaction()


def is_postgres() -> bool:
    return isinstance(engine(), PostgresEngine)


_pool_users = 0


async def start() -> None:
    """Open the PostgreSQL pool (shared by every app instance in this process: counted, not duplicated)."""
    global _pool_users
    current = engine()
    if isinstance(current, PostgresEngine):
        if _pool_users == 0:
            await current.start_connection_pool(min_size=1, max_size=10)
        _pool_users += 1


async def stop() -> None:
    global _pool_users
    current = engine()
    if isinstance(current, PostgresEngine):
        if _pool_users > 0:
            _pool_users -= 1
            if _pool_users == 0:
                await current.close_connection_pool()
    elif isinstance(current, KinwardSQLiteEngine):
        current.close()


def __getattr__(name: str) -> Any:
    # Piccolo's own commands read `DB` from this module; build it on first use.
    if name == "DB":
        return engine()
    raise AttributeError(name)


def as_utc(value: Any) -> Optional[datetime]:
    """A timestamp from a raw SQL column: SQLite gives text, PostgreSQL a datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
