from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T20:12:50:000000"
VERSION = "1.38.0"
DESCRIPTION = "one review number per client, one addendum number per review, one answer per family member and review date, one supervision note version"

# Two coordinators starting a review, adding an addendum or saving a note at the same moment keep
# one of each number; one family member has one answer per review date (the notice is sent once).
INDEXES = {
    "care_review_client_number": "CREATE UNIQUE INDEX care_review_client_number ON care_review (client, number)",
    "care_review_one_draft":
        "CREATE UNIQUE INDEX care_review_one_draft ON care_review (client) WHERE status = 'draft'",
    "care_review_addendum_number":
        "CREATE UNIQUE INDEX care_review_addendum_number ON care_review_addendum (review, number)",
    "family_review_input_once":
        'CREATE UNIQUE INDEX family_review_input_once ON family_review_input (client, "user", due_on)',
    "supervision_note_version": "CREATE UNIQUE INDEX supervision_note_version ON supervision_note (worker, version)",
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
