"""The database, chosen by KINWARD_DATABASE_URL: SQLite embedded, PostgreSQL to scale out.

Split by concern: `engines` (Kinward's SQLite and PostgreSQL engines), `binding` (which engine the
tables use), `transactions` (write transactions, shared commits, the optimistic update) and
`dialect` (what differs between the engines, behind one name each). Everything is used as `db.<name>`.
Piccolo finds `DB` and `APP_REGISTRY` here (PICCOLO_CONF points at this module).
"""

from __future__ import annotations

from typing import Any

from piccolo.conf.apps import AppRegistry

from app.db.binding import configure, engine, is_postgres, start, stop, using
from app.db.dialect import (UNIQUE_VIOLATIONS, Lock, as_utc, bulk_insert, bulk_insert_rows, elapsed_ms_sql,
                            json_length_sql, lock_until_commit, quarter_hour_sql, row_defaults, skip_locked)
from app.db.engines import BUSY_TIMEOUT_MS, KinwardPostgresEngine, KinwardSQLiteEngine, engine_from_url, reads_aside
from app.db.transactions import (Prebuilt, PrebuiltForIds, RowInsert, RowsStatement, Write, commit_shared, deferred_begin, deferred_end,
                                 deferred_take, fetch, in_transaction, insert_rows, on_shared_commit, transaction,
                                 padded_ids, update_versioned, write_soon, write_transactions)

__all__ = ["configure", "engine", "is_postgres", "start", "stop", "using", "UNIQUE_VIOLATIONS", "Lock", "as_utc",
           "bulk_insert", "bulk_insert_rows", "elapsed_ms_sql", "json_length_sql", "lock_until_commit",
           "quarter_hour_sql", "row_defaults", "skip_locked",
           "BUSY_TIMEOUT_MS", "KinwardPostgresEngine", "KinwardSQLiteEngine", "engine_from_url", "reads_aside",
           "Prebuilt", "PrebuiltForIds", "padded_ids", "RowInsert", "RowsStatement", "Write", "commit_shared", "deferred_begin", "deferred_end", "deferred_take", "fetch", "in_transaction", "insert_rows",
           "on_shared_commit", "transaction", "update_versioned", "write_soon", "write_transactions"]

def __getattr__(name: str) -> Any:
    # Piccolo's own commands read `DB` and `APP_REGISTRY` from this module; both are built on first use.
    # The registry imports app.piccolo_app, whose tables import this package: built at import time, it
    # would find app.piccolo_app half-imported whenever that module is imported first (the CLI does).
    if name == "DB":
        return engine()
    if name == "APP_REGISTRY":
        return AppRegistry(apps=["app.piccolo_app"])
    raise AttributeError(name)
