from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T05:15:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a client's latest audit events"

# A client's access log reads the client's latest events, newest first: with (client_id, id) PostgreSQL
# walks the index backwards and stops after the page's scan, instead of reading and sorting every
# event ever recorded about the client (SQLite's index on client_id already holds the ids in order).
INDEXES = {
    "audit_event_client_latest": "CREATE INDEX audit_event_client_latest ON audit_event (client_id, id)",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="kinward", description=DESCRIPTION)

    async def create_indexes():
        engine = engine_finder()
        for statement in INDEXES.values():
            await engine.run_ddl(statement)

    async def drop_indexes():
        engine = engine_finder()
        for name in INDEXES:
            await engine.run_ddl(f"DROP INDEX {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
