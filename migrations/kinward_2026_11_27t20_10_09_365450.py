from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T20:10:09:365450"
VERSION = "1.38.0"
DESCRIPTION = "one read receipt per message and person"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="kinward", description=DESCRIPTION
    )

    # Two tabs marking the same message read at once keep one receipt (INSERT ... ON CONFLICT DO NOTHING).
    async def unique_receipts():
        await engine_finder().run_ddl(
            'CREATE UNIQUE INDEX message_read_once ON message_read (message, "user")'
        )

    async def drop_unique_receipts():
        await engine_finder().run_ddl("DROP INDEX message_read_once")

    manager.add_raw(unique_receipts)
    manager.add_raw_backwards(drop_unique_receipts)

    return manager
