"""Write transactions and the writes that share them: a request's deferred writes (one write
transaction per page view), commits shared by concurrent requests, and the optimistic update; and reads
of fixed-shape queries compiled once (Prebuilt)."""

from __future__ import annotations

import asyncio
import weakref
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence, Union

from piccolo.engine.base import Engine
from piccolo.querystring import QueryString
from piccolo.table import Table

from app.db.binding import engine

def transaction():
    """A write transaction on the configured engine (BEGIN IMMEDIATE on SQLite)."""
    return engine().transaction()


def in_transaction() -> bool:
    return engine().current_transaction.get() is not None


def write_transactions() -> int:
    """How many write transactions this process's engine has run (tests count a page view's)."""
    return getattr(engine(), "write_transactions", 0)


async def fetch(querystring: QueryString) -> list[dict]:
    """Prebuilt SQL with bound values, as plain dicts on either engine (no query building per call)."""
    return [dict(row) for row in await engine().run_querystring(querystring)]


# Group commit -------------------------------------------------------------------------------


class Bind:
    """A value a prebuilt query takes at each run, by name."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class _Compiled(QueryString):
    """SQL compiled once for one engine; binding a run's values is all that is left to do."""

    def __init__(self, sql: str, args: list) -> None:
        super().__init__("")
        self.template = sql  # what the engines look at to tell a read from a write
        self._sql, self._args = sql, args

    def compile_string(self, engine_type: str = "postgres") -> tuple[str, list]:
        return self._sql, self._args


class Prebuilt:
    """A Piccolo select written as usual, built and compiled once per engine instead of per request.

    `build` takes the query's values as keyword arguments and returns the query; it is called
    once with a Bind per argument. Each run binds the values and sends the compiled SQL as it
    is. Measured on My day's visit query (five joins): Piccolo builds and compiles it in about
    0.8 ms, more than SQLite takes to run it; bound, it costs microseconds. Only for a query whose
    shape never changes with its values (no is_in over a list of varying length). `names` lists the
    values when `build` takes them as **keywords (one statement per length of such a list).
    """

    def __init__(self, build: Any, names: Optional[tuple[str, ...]] = None) -> None:
        import inspect

        self._build = build
        self._names = names if names is not None else tuple(inspect.signature(build).parameters)
        self._compiled: dict[str, tuple[str, list, list[int]]] = {}

    def _compile(self, current: Engine) -> tuple[str, list, list[int]]:
        query = self._build(**{name: Bind(name) for name in self._names})
        sql, args = query.querystrings[0].compile_string(engine_type=current.engine_type)
        slots = [i for i, a in enumerate(args) if isinstance(a, Bind)]
        if sorted({args[i].name for i in slots}) != sorted(self._names):
            raise ValueError("a prebuilt query must use every value it takes, each where one value goes")
        compiled = self._compiled[current.engine_type] = (sql, list(args), slots)
        return compiled

    async def rows(self, **values: Any) -> list[dict]:
        current = engine()
        compiled = self._compiled.get(current.engine_type) or self._compile(current)
        sql, args, slots = compiled
        bound = list(args)
        for i in slots:
            bound[i] = values[args[i].name]
        return [dict(row) for row in await current.run_querystring(_Compiled(sql, bound))]

    async def first(self, **values: Any) -> Optional[dict]:
        """The first row (build the query with .first() or .limit(1)), or None."""
        rows = await self.rows(**values)
        return rows[0] if rows else None


def padded_ids(ids: list[int]) -> list[int]:
    """The ids padded with 0 (an id no row has) to a power of two from 8, so a few statements serve every length."""
    size = 8
    while size < len(ids):
        size *= 2
    return list(ids) + [0] * (size - len(ids))


class PrebuiltForIds:
    """A Prebuilt whose query also takes a list of ids (for `is_in`): `build(ids, **values)` gets a list of Binds,
    and one statement is built per padded length (`padded_ids`), so the shape is fixed for each length."""

    def __init__(self, build: Any, names: tuple[str, ...] = ()) -> None:
        self._build = build
        self._names = names
        self._by_length: dict[int, Prebuilt] = {}

    def _statement(self, length: int) -> Prebuilt:
        found = self._by_length.get(length)
        if found is None:
            id_names = tuple(f"id{n}" for n in range(length))
            found = self._by_length[length] = Prebuilt(lambda **v: self._build(
                [v[name] for name in id_names], **{name: v[name] for name in self._names}), names=self._names + id_names)
        return found

    async def rows(self, ids: list[int], **values: Any) -> list[dict]:
        padded = padded_ids(ids)
        return await self._statement(len(padded)).rows(**values, **{f"id{n}": v for n, v in enumerate(padded)})


@dataclass(frozen=True)
class RowInsert:
    """One row for `table`; a shared commit writes all rows of one table in one INSERT."""

    table: str
    columns: tuple[str, ...]
    values: tuple[Any, ...]


Write = Union[QueryString, RowInsert]
# SQLite allows 32766 bound values in one statement; PostgreSQL 32767.
MAX_BOUND_VALUES = 30_000


class RowsStatement(QueryString):
    """A statement around a VALUES list of many rows (`head`, the rows, `tail`), its placeholders written
    for the engine directly: Piccolo's compiling parses a template with a placeholder per value, which was
    most of the cost of a shared commit of a page that records an event per client it shows (My day), and
    of the sealer's update of the rows it chains. `cells` wraps each column's placeholder ("{}" as it is,
    "CAST({} AS INTEGER)" where PostgreSQL cannot tell a parameter's type from a VALUES list)."""

    def __init__(self, head: str, cells: tuple[str, ...], rows: list[tuple[Any, ...]], tail: str = "") -> None:
        super().__init__(head)  # the template: what the engines look at to tell a read from a write
        self._head, self._cells, self._rows, self._tail = head, cells, rows, tail

    def compile_string(self, engine_type: str = "postgres") -> tuple[str, list]:
        width, count = len(self._cells), len(self._rows)
        if engine_type == "sqlite":
            values = ", ".join(["(" + ", ".join(cell.format("?") for cell in self._cells) + ")"] * count)
        else:
            values = ", ".join("(" + ", ".join(cell.format(f"${n}") for n, cell in enumerate(self._cells, first)) + ")"
                               for first in range(1, width * count + 1, width))
        return self._head + values + self._tail, [value for row in self._rows for value in row]

    def __str__(self) -> str:  # what a query log shows: the statement with its values, as Piccolo writes them
        return self._head + ", ".join(
            "(" + ", ".join(cell.format(str(QueryString("{}", value))) for cell, value in zip(self._cells, row)) + ")"
            for row in self._rows) + self._tail


def _rows_insert(table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]], tail: str = "") -> RowsStatement:
    return RowsStatement(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ", ("{}",) * len(columns), rows, tail)


async def insert_rows(table: Any, rows: list[dict], *, tail: str = "") -> list[dict]:
    """Rows made with `row_defaults` (every row the same columns), in multi-row INSERTs written for the engine
    directly, all or none (in the caller's transaction when there is one): no ORM object and no template
    parsing per row (Piccolo spent about 0.6 ms a row on a plan's visits). `tail` ends each statement
    (ON CONFLICT ..., RETURNING ...); the rows its RETURNING gives, in no promised order."""
    if not rows:
        return []
    names = tuple(rows[0])
    if any(row.keys() != rows[0].keys() for row in rows):
        raise ValueError("every row of one insert_rows call must have the same columns")
    columns = tuple(f'"{name}"' for name in names)
    per_statement = max(1, MAX_BOUND_VALUES // len(columns))
    returned: list[dict] = []
    async with transaction():
        for start in range(0, len(rows), per_statement):
            chunk = [tuple(row[name] for name in names) for row in rows[start:start + per_statement]]
            statement = _rows_insert(table._meta.get_formatted_tablename(), columns, chunk, tail)
            returned.extend(await fetch(statement))
    return returned


def _statements(writes: Sequence[Write]) -> list[QueryString]:
    """The writes in order, each table's consecutive rows folded into multi-row INSERTs."""
    statements: list[QueryString] = []
    group: list[RowInsert] = []

    def flush_group() -> None:
        if not group:
            return
        first = group[0]
        per_statement = max(1, MAX_BOUND_VALUES // len(first.columns))
        for start in range(0, len(group), per_statement):
            chunk = group[start:start + per_statement]
            statements.append(_rows_insert(first.table, first.columns, [row.values for row in chunk]))
        group.clear()

    for write in writes:
        if isinstance(write, RowInsert):
            if group and (group[0].table, group[0].columns) != (write.table, write.columns):
                flush_group()
            group.append(write)
        else:
            flush_group()
            statements.append(write)
    flush_group()
    return statements


class _GroupCommit:
    """Writes whatever requests are waiting in one transaction, then the next batch, and so on.

    A request's writes are durable when its future resolves; everything that arrived while a
    commit was on the disk shares the next commit, so N concurrent page views cost about one
    fsync instead of N queued behind each other.
    """

    def __init__(self) -> None:
        self._waiting: list[tuple[list[Write], asyncio.Future]] = []
        self._running: Optional[asyncio.Task] = None
        self.after_commit: list[Any] = []

    async def commit(self, writes: list[Write]) -> None:
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((writes, future))
        if self._running is None or self._running.done():
            self._running = asyncio.get_running_loop().create_task(self._drain(), name="kinward-group-commit")
        # Shielded: a client that goes away must not cancel a commit others wait for.
        await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                await engine().run_in_one_transaction(_statements([w for writes, _ in batch for w in writes]))
            except BaseException as error:  # every waiter learns its writes were not stored
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error if isinstance(error, Exception) else RuntimeError(str(error)))
                if not isinstance(error, Exception):
                    raise
                continue
            for _, future in batch:
                if not future.done():
                    future.set_result(None)
            for hook in self.after_commit:
                hook()


_committers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _GroupCommit]" = weakref.WeakKeyDictionary()
_after_commit_hooks: list[Any] = []


def _committer() -> _GroupCommit:
    loop = asyncio.get_running_loop()
    committer = _committers.get(loop)
    if committer is None:
        committer = _committers[loop] = _GroupCommit()
        committer.after_commit = _after_commit_hooks
    return committer


def on_shared_commit(hook: Any) -> None:
    """Call `hook()` after each shared commit (the audit sealer wakes up)."""
    if hook not in _after_commit_hooks:
        _after_commit_hooks.append(hook)


async def commit_shared(writes: list[Write]) -> None:
    """Make `writes` durable in a commit shared with every other request waiting at the same time."""
    if writes:
        await _committer().commit(writes)


# Writes a request defers to its end: the page's one write transaction ------------------------


@dataclass
class DeferredWrites:
    writes: list[Write] = field(default_factory=list)


_deferred: ContextVar[Optional[DeferredWrites]] = ContextVar("kinward_deferred_writes", default=None)


def deferred_begin() -> Any:
    """Start collecting this request's deferrable writes; returns the token for deferred_end."""
    return _deferred.set(DeferredWrites())


def deferred_end(token: Any) -> list[Write]:
    pending = _deferred.get()
    _deferred.reset(token)
    return pending.writes if pending else []


def deferred_take() -> list[Write]:
    """The writes collected so far (emptied): the request stores them before its answer goes out."""
    pending = _deferred.get()
    if pending is None:
        return []
    writes, pending.writes = pending.writes, []
    return writes


async def write_soon(write: Write) -> None:
    """Inside a transaction: part of it. In a request: stored with the request's other writes
    before its answer is sent. Elsewhere (commands, background jobs): stored now, in a shared commit."""
    if in_transaction():
        await engine().run_querystring(_statements([write])[0])
        return
    pending = _deferred.get()
    if pending is not None:
        pending.writes.append(write)
        return
    await commit_shared([write])


async def update_versioned(table: type[Table], values: dict, *, where: Any, version: int,
                           conflict: BaseException, column: Any = None) -> None:
    """The optimistic update: `values` are stored, and the version moved on, only while the row still
    has the `version` the edit began from; otherwise someone saved meanwhile and `conflict` is raised.

    `where` picks the row (and any other guard, such as a status); `column` is the version column when
    it is not `version` (a care plan's `revision`).
    """
    column = table.version if column is None else column
    updated = await table.update({**values, column: version + 1}).where(
        where & (column == version)).returning(table.id).run()
    if not updated:
        raise conflict
