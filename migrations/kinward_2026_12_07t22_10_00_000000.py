from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Varchar

ID = "2026-12-07T22:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the audit trail without the indexes its writes paid for and no read used"

# Every page view inserts audit rows and the sealer then writes their seq and hashes: each index is
# written on both.
# - hash was UNIQUE: an index of random keys, one page of it written for each row sealed; no query
#   looks a row up by its hash, and verification recomputes every hash and link, which a uniqueness
#   constraint adds nothing to.
# - client_id alone: (client_id, id) begins with the same column and serves the same queries (on SQLite
#   an index of one column holds the row ids in order too: the two were the same index twice).
# facility_id's index stays (the audit page reads a facility's latest events through it on SQLite), and
# seq's (the sealer finds the chains with unsealed rows through it there; without it, SQLite reads the
# whole (facility_id, seq) index instead).
# Measured on a copy of the benchmark's demo database (12 rows, a worker's My day, on SQLite with its
# fsync): the insert and the seal took 1.6 to 1.7 ms and 1.1 to 1.2 ms with these, 0.8 to 0.9 ms and 0.4
# to 0.5 ms without; a served My day's system CPU time (writing those pages) 0.8 ms a view, then 0.3 to 0.5.
DROPPED_INDEXES = {
    "client_id": 'CREATE INDEX audit_event_client_id ON "audit_event" ("client_id")',
}

# SQLite cannot drop a column's UNIQUE: the table is rebuilt with the same columns and rows, and the
# indexes that stay.
_COLUMNS = (
    '"id" INTEGER PRIMARY KEY NOT NULL, "facility_id" INTEGER DEFAULT null, '
    '"seq" INTEGER DEFAULT null, "at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, '
    '"actor_id" INTEGER DEFAULT null, "actor_label" VARCHAR(254) NOT NULL DEFAULT \'\', '
    '"role" VARCHAR(16) NOT NULL DEFAULT \'\', "action" VARCHAR(64) NOT NULL DEFAULT \'\', '
    '"object_type" VARCHAR(64) NOT NULL DEFAULT \'\', "object_id" VARCHAR(64) NOT NULL DEFAULT \'\', '
    '"client_id" INTEGER DEFAULT null, "device_id" INTEGER DEFAULT null, '
    '"address" VARCHAR(64) NOT NULL DEFAULT \'\', "detail" TEXT NOT NULL DEFAULT \'\', '
    '"prev_hash" VARCHAR(64) DEFAULT null, "hash" VARCHAR(64)'
)
KEPT_INDEXES = (
    'CREATE INDEX audit_event_facility_id ON "audit_event" ("facility_id")',
    'CREATE INDEX audit_event_actor_id ON "audit_event" ("actor_id")',
    'CREATE INDEX audit_event_action ON "audit_event" ("action")',
    'CREATE INDEX audit_event_seq ON "audit_event" ("seq")',
    "CREATE UNIQUE INDEX audit_event_chain_seq ON audit_event (facility_id, seq)",
    "CREATE INDEX audit_event_client_latest ON audit_event (client_id, id)",
    "CREATE INDEX audit_event_unsealed ON audit_event (facility_id, id) WHERE seq IS NULL",
)


def _sqlite_rebuild(hash_column: str, indexes: tuple[str, ...]) -> tuple[str, ...]:
    return (
        f'CREATE TABLE "audit_event_rebuilt" ({_COLUMNS} {hash_column})',
        "INSERT INTO audit_event_rebuilt SELECT id, facility_id, seq, at, actor_id, actor_label, role, action, "
        "object_type, object_id, client_id, device_id, address, detail, prev_hash, hash FROM audit_event",
        "DROP TABLE audit_event",
        "ALTER TABLE audit_event_rebuilt RENAME TO audit_event",
        *KEPT_INDEXES,
        *indexes,
    )


class _Manager(MigrationManager):
    async def _run_alter_columns(self, backwards: bool = False):
        # On SQLite the rebuild below does it.
        from app import db

        if db.is_postgres():
            await super()._run_alter_columns(backwards=backwards)


async def forwards():
    manager = _Manager(migration_id=ID, app_name="kinward", description=DESCRIPTION)

    async def rebuild(statements: tuple[str, ...]) -> None:
        from app import db

        if not db.is_postgres():
            for statement in statements:
                await db.engine().run_ddl(statement)

    async def without_indexes():
        await rebuild(_sqlite_rebuild("DEFAULT null", ()))

    async def with_indexes():
        await rebuild(_sqlite_rebuild("UNIQUE DEFAULT null", tuple(DROPPED_INDEXES.values())))

    manager.add_raw(without_indexes)
    manager.add_raw_backwards(with_indexes)

    for column in DROPPED_INDEXES:
        manager.alter_column(
            table_class_name="AuditEvent",
            tablename="audit_event",
            column_name=column,
            db_column_name=column,
            params={"index": False},
            old_params={"index": True},
            column_class=Integer,
            old_column_class=Integer,
            schema=None,
        )
    manager.alter_column(
        table_class_name="AuditEvent",
        tablename="audit_event",
        column_name="hash",
        db_column_name="hash",
        params={"unique": False},
        old_params={"unique": True},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )
    return manager
