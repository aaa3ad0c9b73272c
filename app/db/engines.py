"""Kinward's two engines: SQLite with long-lived connections, WAL and one writer at a time; PostgreSQL
through an asyncpg pool. Both count their write transactions (what a page view costs the disk)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator, Optional

from piccolo.engine.base import Engine
from piccolo.engine.exceptions import TransactionError
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType
from piccolo.querystring import QueryString

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
        self.engine.write_transactions += 1  # type: ignore[attr-defined]
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


# Long reads (reports, the dashboard) run on their own connections in these threads, never on the loop.
ASIDE_READERS = 2
_reads_aside: ContextVar[bool] = ContextVar("kinward_reads_aside", default=False)


@contextmanager
def reads_aside() -> Iterator[None]:
    """The reads inside run off the event loop: for aggregates over years of history, which would
    otherwise hold up every other request for as long as they take (measured: benchmarks/loop_stall.py)."""
    token = _reads_aside.set(True)
    try:
        yield
    finally:
        _reads_aside.reset(token)


class KinwardSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine with long-lived connections, WAL and one writer at a time.

    Reads run on a persistent connection on the event-loop thread: a 60-row indexed select
    takes well under a millisecond, less than the cost of handing it to a thread. Long reads
    (inside reads_aside()) run on connections of their own in two reader threads. Writes run
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
        self._aside: Optional[ThreadPoolExecutor] = None
        self._aside_local = threading.local()
        self._aside_connections: list[sqlite3.Connection] = []
        # Every write transaction (explicit, or one statement on its own): what a page view costs the disk.
        self.write_transactions = 0

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

    def _read_aside(self, sql: str, args: list) -> list[dict]:
        connection = getattr(self._aside_local, "connection", None)
        if connection is None:
            connection = self._aside_local.connection = self._connect()
            with self._reader_guard:
                self._aside_connections.append(connection)
        cursor = connection.execute(sql, args)
        try:
            return _as_dicts(cursor)
        finally:
            cursor.close()

    async def _on_aside(self, sql: str, args: list) -> list[dict]:
        if self._aside is None:
            self._aside = ThreadPoolExecutor(max_workers=ASIDE_READERS, thread_name_prefix="kinward-sqlite-reader")
        return await asyncio.get_running_loop().run_in_executor(self._aside, self._read_aside, sql, args)

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

    async def run_in_one_transaction(self, statements: list[QueryString]) -> None:
        """Write transaction, statements and commit as one job of the writer thread: a shared commit
        (every page view's audit events) hands over to that thread once, not once per statement."""
        compiled = [statement.compile_string(engine_type=self.engine_type) for statement in statements]
        async with self._writer_lock:
            self.write_transactions += 1
            await asyncio.get_running_loop().run_in_executor(self._writer_thread(), self._write_all, compiled)

    def _write_all(self, compiled: list[tuple[str, list]]) -> None:
        if self._writer is None:
            self._writer = self._connect()
        writer = self._writer
        writer.execute("BEGIN IMMEDIATE")
        try:
            for sql, args in compiled:
                writer.execute(sql, list(args)).close()
            writer.execute("COMMIT")
        except BaseException:
            if writer.in_transaction:
                writer.execute("ROLLBACK")
            raise

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
            if _reads_aside.get():
                return await self._on_aside(sql, args)
            return self._read(sql, args)
        async with self._writer_lock:
            self.write_transactions += 1
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
        """Close every connection (end of the app's lifespan, or of a test)."""
        if self._aside is not None:
            self._aside.shutdown(wait=True)
            self._aside = None
            self._aside_local = threading.local()
        with self._reader_guard:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
            for connection in self._aside_connections:
                connection.close()
            self._aside_connections.clear()
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


class KinwardPostgresTransaction(PostgresTransaction):
    async def begin(self) -> None:
        self.engine.write_transactions += 1  # type: ignore[attr-defined]
        await super().begin()


class KinwardPostgresEngine(PostgresEngine):
    """Piccolo's PostgreSQL engine, counting write transactions as Kinward's SQLite engine does."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.write_transactions = 0

    async def run_querystring(self, querystring: QueryString, in_pool: bool = True):
        if self.current_transaction.get() is None and not _is_read(querystring.template):
            self.write_transactions += 1
        return await super().run_querystring(querystring, in_pool=in_pool)

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return KinwardPostgresTransaction(engine=self, allow_nested=allow_nested)

    async def run_in_one_transaction(self, statements: list[QueryString]) -> None:
        async with self.transaction():
            for statement in statements:
                await self.run_querystring(statement)


def engine_from_url(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        return KinwardSQLiteEngine(path=url.removeprefix("sqlite:///"))
    if url.startswith(("postgresql://", "postgres://")):
        return KinwardPostgresEngine(config={"dsn": url})
    raise ValueError(f"unsupported database URL scheme: {url.split(':', 1)[0]}")
