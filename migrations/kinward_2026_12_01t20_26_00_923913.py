from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T20:26:00:923913"
VERSION = "1.38.0"
DESCRIPTION = "a message is posted once per compose form (idempotency key)"

# A retried or double-clicked compose form finds the message it already made; NULL (no key) repeats freely.
INDEX = "CREATE UNIQUE INDEX message_submission_once ON message (submission)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="kinward", description=DESCRIPTION)

    async def create_index():
        await engine_finder().run_ddl(INDEX)

    async def drop_index():
        await engine_finder().run_ddl("DROP INDEX message_submission_once")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
