from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T20:07:28:867876"
VERSION = "1.38.0"
DESCRIPTION = "unique visit slots and one draft and one active plan per client"

# Piccolo tables cannot declare these: a unique pair of columns, and unique partial indexes.
# The visit slot index is what makes schedule generation idempotent across processes.
INDEXES = {
    "visit_service_start_unique": "CREATE UNIQUE INDEX visit_service_start_unique ON visit (service, scheduled_start)",
    "care_plan_client_version_unique":
        "CREATE UNIQUE INDEX care_plan_client_version_unique ON care_plan (client, version)",
    "care_plan_one_draft": "CREATE UNIQUE INDEX care_plan_one_draft ON care_plan (client) WHERE status = 'draft'",
    "care_plan_one_active": "CREATE UNIQUE INDEX care_plan_one_active ON care_plan (client) WHERE status = 'active'",
    "visit_worker_start": "CREATE INDEX visit_worker_start ON visit (worker, scheduled_start)",
    "visit_client_start": "CREATE INDEX visit_client_start ON visit (client, scheduled_start)",
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
