from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T01:05:12:522964"
VERSION = "1.38.0"
DESCRIPTION = "one-off visits: a moved visit remembers its planned time; extra visits"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="kinward", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Visit",
        tablename="visit",
        column_name="extra",
        db_column_name="extra",
        column_class_name="Boolean",
        column_class=Boolean,
        params={
            "default": False,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="Visit",
        tablename="visit",
        column_name="moved_from",
        db_column_name="moved_from",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
