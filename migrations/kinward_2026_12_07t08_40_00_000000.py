from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T08:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a thread's latest messages; the audit trail's unsealed rows"

# A thread's state (its latest message) and its latest page: with (client, id) PostgreSQL walks the
# client's own messages backwards instead of every message in the facility by id until it meets one of the
# client's (a demo client's thread read 49,788 rows at the benchmark's scale). SQLite's index on client
# already holds the ids in order.
# The sealer asks which facilities have unsealed rows and takes each chain's oldest in id order: an index
# of the unsealed rows only keeps both as small as what is waiting, however long the trail is.
INDEXES = {
    "message_client_latest": "CREATE INDEX message_client_latest ON message (client, id)",
    "audit_event_unsealed": "CREATE INDEX audit_event_unsealed ON audit_event (facility_id, id) WHERE seq IS NULL",
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
