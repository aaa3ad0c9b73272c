from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T20:48:43:897798"
VERSION = "1.38.0"
DESCRIPTION = "visit submissions once per key; open concerns"

# A repeated form submission finds the first one (one row per person and key); the coordinators'
# open concerns are found without reading every visit ever logged.
INDEXES = {
    "visit_submission_once": 'CREATE UNIQUE INDEX visit_submission_once ON visit_submission ("user", key)',
    "visit_open_concern":
        "CREATE INDEX visit_open_concern ON visit (client) WHERE concern = true AND concern_resolved_at IS NULL",
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
