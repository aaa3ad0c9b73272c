"""Which of Kinward's migrations the database has not applied yet."""

from __future__ import annotations

from functools import lru_cache

from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.tables import Migration

from app.piccolo_app import APP_CONFIG


@lru_cache(maxsize=1)
def known_migrations() -> frozenset[str]:
    """The migration ids shipped with this code (read once: they do not change while running)."""
    return frozenset(BaseMigrationManager().get_migration_modules(APP_CONFIG.resolved_migrations_folder_path))


async def pending_migrations() -> list[str]:
    known = known_migrations()
    if not await Migration.table_exists().run():
        return sorted(known)
    applied = await Migration.get_migrations_which_ran(app_name=APP_CONFIG.app_name)
    return sorted(known - set(applied))


async def migrations_apply() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = await run_forwards(app_name=APP_CONFIG.app_name)
    if not result.success:
        raise RuntimeError(result.message or "migrations failed")
