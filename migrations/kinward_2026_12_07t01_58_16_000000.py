from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T01:58:16:000000"
VERSION = "1.38.0"
DESCRIPTION = "form submissions once per person, form and key"

# A repeated creating form finds the first sending (one row per person, form and key). Raw statements
# run before a migration's new tables, so the index has a migration of its own.
UNIQUE = 'CREATE UNIQUE INDEX form_submission_once ON form_submission ("user", form, key)'


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="kinward", description=DESCRIPTION)

    async def create_index():
        await engine_finder().run_ddl(UNIQUE)

    async def drop_index():
        await engine_finder().run_ddl("DROP INDEX form_submission_once")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
