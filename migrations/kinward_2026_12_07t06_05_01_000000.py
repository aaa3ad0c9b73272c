import re

from piccolo.apps.migrations.auto.migration_manager import DropColumnCollection, MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T06:05:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "visit_submission and the submission columns of messages and goal notes go: form_submission serves them"

GOAL_NOTE = "care_goal_note"


class Manager(MigrationManager):
    """Piccolo's drop, except for the goal notes' column on SQLite, whose ALTER TABLE can neither drop a UNIQUE
    column nor add one: there the table is copied without it, and undoing adds it plain (the previous
    migration's undoing brings back its uniqueness as an index)."""

    async def _run_drop_columns(self, backwards: bool = False):
        engine = engine_finder()
        if engine.engine_type != "sqlite":
            return await super()._run_drop_columns(backwards=backwards)
        every = self.drop_columns
        self.drop_columns = DropColumnCollection([c for c in every.drop_columns if c.tablename != GOAL_NOTE])
        try:
            await super()._run_drop_columns(backwards=backwards)
        finally:
            self.drop_columns = every
        if backwards:
            await engine.run_ddl(f'ALTER TABLE {GOAL_NOTE} ADD COLUMN "submission" VARCHAR(96) DEFAULT null')
        else:
            await _sqlite_copy_without_submission(engine)


async def _sqlite_copy_without_submission(engine) -> None:
    [table] = await engine.run_ddl(f"SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{GOAL_NOTE}'")
    indexes = [row["sql"] for row in await engine.run_ddl(
        f"SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = '{GOAL_NOTE}' AND sql IS NOT NULL")
        if "submission" not in row["sql"]]
    columns = ", ".join(f'"{row["name"]}"' for row in await engine.run_ddl(f'PRAGMA table_info("{GOAL_NOTE}")')
                        if row["name"] != "submission")
    create, found = re.subn(r', "submission" (?:[^,()]|\([^)]*\))*(?=[,)])', "", table["sql"])
    assert found == 1, table["sql"]
    await engine.run_ddl(create.replace(f'"{GOAL_NOTE}"', f'"{GOAL_NOTE}_copy"', 1))
    await engine.run_ddl(f'INSERT INTO "{GOAL_NOTE}_copy" ({columns}) SELECT {columns} FROM "{GOAL_NOTE}"')
    await engine.run_ddl(f'DROP TABLE "{GOAL_NOTE}"')
    await engine.run_ddl(f'ALTER TABLE "{GOAL_NOTE}_copy" RENAME TO "{GOAL_NOTE}"')
    for statement in indexes:
        await engine.run_ddl(statement)


async def forwards():
    manager = Manager(migration_id=ID, app_name="kinward", description=DESCRIPTION)

    manager.drop_table(class_name="VisitSubmission", tablename="visit_submission", schema=None)

    manager.drop_column(
        table_class_name="Message",
        tablename="message",
        column_name="submission",
        db_column_name="submission",
        schema=None,
    )

    manager.drop_column(
        table_class_name="GoalNote",
        tablename=GOAL_NOTE,
        column_name="submission",
        db_column_name="submission",
        schema=None,
    )

    return manager
