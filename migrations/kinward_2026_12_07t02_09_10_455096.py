from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Timestamptz

ID = "2026-12-07T02:09:10:455096"
VERSION = "1.38.0"
DESCRIPTION = "the schedule finds moved visits by their planned time (index)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="kinward", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="Visit",
        tablename="visit",
        column_name="moved_from",
        db_column_name="moved_from",
        params={"index": True},
        old_params={"index": False},
        column_class=Timestamptz,
        old_column_class=Timestamptz,
        schema=None,
    )

    return manager
