from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T06:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "repeated forms are recognised by form_submission alone: the old ways' unique indexes go"

# Messages and visit forms kept their own record of the keys they had seen; form_submission now serves
# every creating form, and the next migration drops those columns and the visit_submission table. Raw
# statements run before a migration's other changes, so the indexes go (and come back) in a migration of
# their own.
INDEXES = {
    "visit_submission_once": 'CREATE UNIQUE INDEX visit_submission_once ON visit_submission ("user", key)',
    "message_submission_once": "CREATE UNIQUE INDEX message_submission_once ON message (submission)",
}
# SQLite cannot add a UNIQUE column back, so undoing the next migration there adds the goal notes' column
# plain and its uniqueness comes back here, as an index.
SQLITE_GOAL_NOTE_ONCE = "care_goal_note_submission_once"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="kinward", description=DESCRIPTION)

    async def drop_indexes():
        engine = engine_finder()
        for name in INDEXES:
            await engine.run_ddl(f"DROP INDEX {name}")
        if engine.engine_type == "sqlite":
            await engine.run_ddl(f"DROP INDEX IF EXISTS {SQLITE_GOAL_NOTE_ONCE}")

    async def create_indexes():
        engine = engine_finder()
        for statement in INDEXES.values():
            await engine.run_ddl(statement)
        if engine.engine_type == "sqlite":
            await engine.run_ddl(f"CREATE UNIQUE INDEX {SQLITE_GOAL_NOTE_ONCE} ON care_goal_note (submission)")

    manager.add_raw(drop_indexes)
    manager.add_raw_backwards(create_indexes)
    return manager
