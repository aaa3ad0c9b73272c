from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-01T20:14:55:686354"
VERSION = "1.38.0"
DESCRIPTION = "Audit rows are stored unsealed and chained by a sealer; chain heads"

# SQLite cannot drop NOT NULL from a column: the table is rebuilt with the same columns and
# rows, seq and the hashes now nullable (a row waiting for its sealer has none yet).
SQLITE_REBUILD = (
    'CREATE TABLE "audit_event_sealed" ("id" INTEGER PRIMARY KEY NOT NULL, "facility_id" INTEGER DEFAULT null, '
    '"seq" INTEGER DEFAULT null, "at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, '
    '"actor_id" INTEGER DEFAULT null, "actor_label" VARCHAR(254) NOT NULL DEFAULT \'\', '
    '"role" VARCHAR(16) NOT NULL DEFAULT \'\', "action" VARCHAR(64) NOT NULL DEFAULT \'\', '
    '"object_type" VARCHAR(64) NOT NULL DEFAULT \'\', "object_id" VARCHAR(64) NOT NULL DEFAULT \'\', '
    '"client_id" INTEGER DEFAULT null, "device_id" INTEGER DEFAULT null, '
    '"address" VARCHAR(64) NOT NULL DEFAULT \'\', "detail" TEXT NOT NULL DEFAULT \'\', '
    '"prev_hash" VARCHAR(64) DEFAULT null, "hash" VARCHAR(64) UNIQUE DEFAULT null)',
    'INSERT INTO audit_event_sealed SELECT id, facility_id, seq, at, actor_id, actor_label, role, action, '
    'object_type, object_id, client_id, device_id, address, detail, prev_hash, hash FROM audit_event',
    'DROP TABLE audit_event',
    'ALTER TABLE audit_event_sealed RENAME TO audit_event',
    'CREATE INDEX audit_event_facility_id ON "audit_event" ("facility_id")',
    'CREATE INDEX audit_event_actor_id ON "audit_event" ("actor_id")',
    'CREATE INDEX audit_event_action ON "audit_event" ("action")',
    'CREATE INDEX audit_event_client_id ON "audit_event" ("client_id")',
    'CREATE INDEX audit_event_seq ON "audit_event" ("seq")',
)
# Verification walks a chain by seq; two sealers can never give one seq twice in a chain.
CHAIN_INDEX = 'CREATE UNIQUE INDEX audit_event_chain_seq ON audit_event (facility_id, seq)'


class _Manager(MigrationManager):
    async def _run_alter_columns(self, backwards: bool = False):
        # On SQLite the rebuild above did it.
        from app import db

        if db.is_postgres():
            await super()._run_alter_columns(backwards=backwards)


async def forwards():
    manager = _Manager(
        migration_id=ID, app_name="kinward", description=DESCRIPTION
    )

    async def unseal_columns():
        from app import db

        if not db.is_postgres():
            for statement in SQLITE_REBUILD:
                await db.engine().run_ddl(statement)
        await db.engine().run_ddl(CHAIN_INDEX)

    manager.add_raw(unseal_columns)

    manager.add_table(
        class_name="AuditChain",
        tablename="audit_chain",
        schema=None,
        columns=None,
    )

    manager.add_column(
        table_class_name="AuditChain",
        tablename="audit_chain",
        column_name="chain_key",
        db_column_name="chain_key",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": True,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="AuditChain",
        tablename="audit_chain",
        column_name="seq",
        db_column_name="seq",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="AuditChain",
        tablename="audit_chain",
        column_name="head_hash",
        db_column_name="head_hash",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 64,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.alter_column(
        table_class_name="AuditEvent",
        tablename="audit_event",
        column_name="seq",
        db_column_name="seq",
        params={"default": None, "null": True, "index": True},
        old_params={"default": 0, "null": False, "index": False},
        column_class=Integer,
        old_column_class=Integer,
        schema=None,
    )

    manager.alter_column(
        table_class_name="AuditEvent",
        tablename="audit_event",
        column_name="prev_hash",
        db_column_name="prev_hash",
        params={"default": None, "null": True},
        old_params={"default": "", "null": False},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="AuditEvent",
        tablename="audit_event",
        column_name="hash",
        db_column_name="hash",
        params={"default": None, "null": True},
        old_params={"default": "", "null": False},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
