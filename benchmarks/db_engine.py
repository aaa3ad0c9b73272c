"""Kinward's SQLite engine against Piccolo's stock SQLiteEngine and plain sqlite3, measured in one run.

    python benchmarks/db_engine.py

Reads: the same 60-row indexed select (same SQL, same arguments, same data) through
(a) Kinward's engine, (b) Piccolo's stock SQLiteEngine, (c) sqlite3 directly with rows built as
dicts of the same typed values Piccolo returns, the floor, and (d) sqlite3 with untyped dicts. The four are timed in interleaved rounds so that whatever else the machine is
doing falls on all of them alike. Writes: 50 concurrent writers for 10 seconds through Kinward's
engine while another task keeps reading. Prints only; nothing here asserts a time.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Awaitable, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from piccolo.columns import Boolean, Integer, Text, Timestamptz, Varchar  # noqa: E402
from piccolo.engine.sqlite import SQLiteEngine  # noqa: E402
from piccolo.table import Table  # noqa: E402

from app.db.engines import KinwardSQLiteEngine, _as_dicts, _is_read  # noqa: E402

ROWS = 5_000
ROWS_PER_WORKER = 60  # worker = n // 60, so one worker's caseload is exactly 60 rows
WORKER = 7
ROUNDS = 5
ITERATIONS = {"kinward": 600, "stock": 100, "floor": 600, "floor_typed": 600, "piccolo_build": 600,
              "two_sqlite": 600, "two_aio": 300}
WRITERS = 50
WRITE_SECONDS = float(os.environ.get("KINWARD_BENCH_WRITE_SECONDS", "10"))
IDLE_READ_SECONDS = 5.0
TARGET_RATIO = 1.6
START = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.timezone.utc)


class BenchVisit(Table, tablename="bench_visit"):
    """Shaped like a caseload row: who, whom, when, how long, done or not, a note."""

    worker = Integer(index=True)
    client_name = Varchar(length=200)
    scheduled_at = Timestamptz()
    duration_minutes = Integer()
    checked_in = Boolean()
    notes = Text()


class TwoConnectionsEngine(SQLiteEngine):
    """The simpler design issue 9 asks about: a long-lived reader and a long-lived writer connection, and
    an asyncio.Lock for the writer; statements run on the event loop's thread (sqlite3) or on each
    connection's own thread (aiosqlite). No transactions here: the benchmark needs single statements."""

    def __init__(self, path: str, *, aio: bool) -> None:
        super().__init__(path=path)
        self.aio = aio
        self.lock = asyncio.Lock()
        self.reader = self.writer = None

    async def _connect(self):
        kwargs = {"detect_types": sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES, "isolation_level": None}
        if self.aio:
            import aiosqlite

            connection = await aiosqlite.connect(self.path, **kwargs)
        else:
            connection = sqlite3.connect(self.path, check_same_thread=False, **kwargs)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=10000"):
            await self._execute(connection, f"PRAGMA {pragma}", [])
        return connection

    async def _execute(self, connection, sql: str, args: list) -> list[dict]:
        if self.aio:
            async with connection.execute(sql, args) as cursor:
                rows = await cursor.fetchall()
                names = [c[0] for c in cursor.description or ()]
                return [dict(zip(names, row)) for row in rows]
        return _as_dicts(connection.execute(sql, args))

    async def run_querystring(self, querystring, in_pool: bool = False):
        sql, args = querystring.compile_string(engine_type=self.engine_type)
        if _is_read(sql):
            if self.reader is None:
                self.reader = await self._connect()
            return await self._execute(self.reader, sql, list(args))
        async with self.lock:
            if self.writer is None:
                self.writer = await self._connect()
            return await self._execute(self.writer, sql, list(args))

    async def aclose(self) -> None:
        for connection in (self.reader, self.writer):
            if connection is not None:
                result = connection.close()
                if self.aio:
                    await result


def visit(n: int, worker: int) -> BenchVisit:
    return BenchVisit(
        worker=worker, client_name=f"Client {n}", scheduled_at=START + datetime.timedelta(minutes=15 * n),
        duration_minutes=30, checked_in=n % 2 == 0, notes="Medication prompted; lunch prepared; mood good.",
    )


def caseload() -> BenchVisit:
    return BenchVisit.select().where(BenchVisit.worker == WORKER)


def as_dicts(cursor: sqlite3.Cursor) -> list[dict]:
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


async def timed(call: Callable[[], Awaitable], times: list[float], n: int) -> None:
    for _ in range(n):
        start = time.perf_counter()
        await call()
        times.append(time.perf_counter() - start)


def timed_sync(call: Callable[[], object], times: list[float], n: int) -> None:
    for _ in range(n):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)


def micros(seconds: float) -> str:
    return f"{seconds * 1e6:8.0f} µs"


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    if len(samples) < 2:  # the reads hardly got a turn: writes held the event loop
        return samples[0], samples[0], samples[0]
    cuts = statistics.quantiles(samples, n=20)
    return statistics.median(samples), cuts[18], max(samples)


async def reads(path: str, kinward: KinwardSQLiteEngine, two: dict[str, TwoConnectionsEngine]) -> None:
    stock = SQLiteEngine(path=path)
    sql, args = caseload().querystrings[0].compile_string(engine_type="sqlite")
    plain = sqlite3.connect(path)
    # Piccolo's defaults: declared types pick its converters (INTEGER, BOOLEAN, TIMESTAMPTZ...).
    typed = sqlite3.connect(path, detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES)

    BenchVisit._meta.db = kinward
    through_kinward = await caseload().run()
    BenchVisit._meta.db = stock
    through_stock = await caseload().run()
    floor = as_dicts(plain.execute(sql, args))
    floor_typed = as_dicts(typed.execute(sql, args))
    # Same query, same data: every path must return the same 60 rows.
    assert len(through_kinward) == ROWS_PER_WORKER
    assert through_kinward == through_stock == floor_typed
    for engine in two.values():
        BenchVisit._meta.db = engine
        assert await caseload().run() == through_kinward
    assert [row["id"] for row in floor] == [row["id"] for row in through_kinward]

    times: dict[str, list[float]] = {name: [] for name in ITERATIONS}
    for _ in range(ROUNDS):
        BenchVisit._meta.db = kinward
        await timed(lambda: caseload().run(), times["kinward"], ITERATIONS["kinward"])
        BenchVisit._meta.db = stock
        await timed(lambda: caseload().run(), times["stock"], ITERATIONS["stock"])
        timed_sync(lambda: as_dicts(plain.execute(sql, args)), times["floor"], ITERATIONS["floor"])
        timed_sync(lambda: as_dicts(typed.execute(sql, args)), times["floor_typed"], ITERATIONS["floor_typed"])
        timed_sync(lambda: caseload().querystrings[0].compile_string(engine_type="sqlite"),
                   times["piccolo_build"], ITERATIONS["piccolo_build"])
        for name, engine in two.items():
            BenchVisit._meta.db = engine
            await timed(lambda: caseload().run(), times[name], ITERATIONS[name])
    BenchVisit._meta.db = kinward
    plain.close()
    typed.close()

    median = {name: statistics.median(samples) for name, samples in times.items()}
    # The floor is sqlite3 handing back what Piccolo hands back: dicts of typed values (ints,
    # bools, aware datetimes), through the same converters. Untyped dicts are shown too.
    a, b, c = median["kinward"], median["stock"], median["floor_typed"]
    raw = median["floor"]
    print(f"60-row indexed select (median of {ROUNDS} interleaved rounds)   per query   vs (c)")
    print(f"  (a) Kinward engine, Piccolo select().where().run()     {micros(a)}   {a / c:5.2f}x"
          f"   n={len(times['kinward'])}")
    print(f"  (b) Piccolo's stock SQLiteEngine, same query           {micros(b)}   {b / c:5.2f}x"
          f"   n={len(times['stock'])}")
    print(f"  (c) sqlite3 directly, rows as typed dicts (the floor)  {micros(c)}   {1:5.2f}x"
          f"   n={len(times['floor_typed'])}")
    print(f"  (d) sqlite3 directly, untyped dicts (strings, 0/1)     {micros(raw)}   {raw / c:5.2f}x"
          f"   n={len(times['floor'])}")
    for name, label in (("two_sqlite", "(e) two sqlite3 connections + asyncio.Lock, same query"),
                        ("two_aio", "(f) two aiosqlite connections + asyncio.Lock, same query")):
        e = median[name]
        print(f"  {label:<54}{micros(e)}   {e / c:5.2f}x   n={len(times[name])}")
    print("  where (a)'s time goes, same run:")
    print(f"      Piccolo building and compiling the query alone     {micros(median['piccolo_build'])}")
    print(f"      sqlite3 + Piccolo's type converters, as (c)        {micros(c)}")
    engine_and_rest = a - c - median["piccolo_build"]
    print(f"      {'the rest: Kinward engine, Piccolo result handling':<51}{micros(engine_and_rest)}")
    verdict = "met" if a / c <= TARGET_RATIO else "NOT met"
    print(f"  target: (a) within {TARGET_RATIO}x of (c): a/c = {a / c:.2f}x, {verdict}; b/c = {b / c:.2f}x;"
          f" b/a = {b / a:.1f}x")
    print(f"  against untyped dicts (d): a/d = {a / raw:.2f}x, b/d = {b / raw:.2f}x"
          " (the gap is Piccolo's converters and query building, the same for every engine)")


async def read_latencies(seconds: float) -> list[float]:
    """Each read is a task of its own, as a request would be: its wait for a turn on the event
    loop counts, not just the query."""
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        rows = await asyncio.create_task(caseload().run())
        samples.append(time.perf_counter() - start)
        assert len(rows) == ROWS_PER_WORKER
        await asyncio.sleep(0.001)
    return samples


async def writes(engine: SQLiteEngine, label: str) -> None:
    BenchVisit._meta.db = engine
    counts = {"written": 0, "locked": 0, "other": 0}
    idle = await read_latencies(IDLE_READ_SECONDS)

    async def writer(n: int, deadline: float) -> None:
        while time.perf_counter() < deadline:
            try:
                await BenchVisit.insert(visit(n, worker=10_000 + n)).run()
                counts["written"] += 1
            except sqlite3.OperationalError as error:
                counts["locked" if "database is locked" in str(error) else "other"] += 1

    before = await BenchVisit.count().run()
    started = time.perf_counter()
    deadline = started + WRITE_SECONDS
    busy, *_ = await asyncio.gather(
        read_latencies(WRITE_SECONDS), *(writer(n, deadline) for n in range(WRITERS))
    )
    elapsed = time.perf_counter() - started
    stored = await BenchVisit.count().run() - before

    print()
    print(f"Writes: {WRITERS} concurrent asyncio writers, one INSERT each at a time, for {WRITE_SECONDS:.0f} s"
          f" ({label}, synchronous=FULL)")
    print(f"  rows written                 {counts['written']:>8,}   ({counts['written'] / elapsed:,.0f}/s;"
          f" {stored:,} found in the table afterwards)")
    print(f"  'database is locked' errors  {counts['locked']:>8}   (target 0)")
    print(f"  other errors                 {counts['other']:>8}")
    print("Reads of the same 60-row select, each issued as a new task, one every ~1 ms:")
    print("                               n       p50       p95       max")
    for label, samples in (("no writers", idle), (f"{WRITERS} writers running", busy)):
        p50, p95, top = percentiles(samples)
        print(f"  {label:<20} {len(samples):>8} {p50 * 1e3:7.2f} ms {p95 * 1e3:7.2f} ms {top * 1e3:7.2f} ms")


async def main() -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Kinward SQLite engine benchmark: Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version},"
          f" {os.cpu_count()} CPUs, load average {load:.1f} at start")
    with tempfile.TemporaryDirectory(prefix="kinward-bench-") as directory:
        path = str(Path(directory) / "bench.sqlite")
        kinward = KinwardSQLiteEngine(path=path)
        BenchVisit._meta.db = kinward
        await BenchVisit.create_table().run()
        async with kinward.transaction():
            for first in range(0, ROWS, 500):
                batch = (visit(n, worker=n // ROWS_PER_WORKER) for n in range(first, first + 500))
                await BenchVisit.insert(*batch).run()
        print(f"Data: {ROWS:,} rows; the select returns {ROWS_PER_WORKER} rows by an indexed column")
        print()
        two = {"two_sqlite": TwoConnectionsEngine(path, aio=False), "two_aio": TwoConnectionsEngine(path, aio=True)}
        try:
            await reads(path, kinward, two)
            await writes(kinward, "Kinward engine")
            await writes(two["two_sqlite"], "(e) two sqlite3 connections + asyncio.Lock")
            await writes(two["two_aio"], "(f) two aiosqlite connections + asyncio.Lock")
        finally:
            kinward.close()
            for engine in two.values():
                await engine.aclose()


if __name__ == "__main__":
    asyncio.run(main())
