"""Write transactions and the writes that share them: a request's deferred writes (one write
transaction per page view), commits shared by concurrent requests, and the optimistic update."""

from __future__ import annotations

import asyncio
import weakref
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence, Union

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


@dataclass(frozen=True)
class RowInsert:
    """One row for `table`; a shared commit writes all rows of one table in one INSERT."""

    table: str
    columns: tuple[str, ...]
    values: tuple[Any, ...]


Write = Union[QueryString, RowInsert]
# SQLite allows 32766 bound values in one statement; PostgreSQL 32767.
MAX_BOUND_VALUES = 30_000


def _statements(writes: Sequence[Write]) -> list[QueryString]:
    """The writes in order, each table's consecutive rows folded into multi-row INSERTs."""
    statements: list[QueryString] = []
    group: list[RowInsert] = []

    def flush_group() -> None:
        if not group:
            return
        first = group[0]
        per_statement = max(1, MAX_BOUND_VALUES // len(first.columns))
        placeholders = "(" + ", ".join(["{}"] * len(first.columns)) + ")"
        for start in range(0, len(group), per_statement):
            chunk = group[start:start + per_statement]
            template = (f"INSERT INTO {first.table} ({', '.join(first.columns)}) VALUES "
                        + ", ".join([placeholders] * len(chunk)))
            statements.append(QueryString(template, *[v for row in chunk for v in row.values]))
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
                async with transaction():
                    for statement in _statements([w for writes, _ in batch for w in writes]):
                        await engine().run_querystring(statement)
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
