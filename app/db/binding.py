"""Which engine every table uses: configured from KINWARD_DATABASE_URL, switched for a while to another
database (a backup being checked, a restore target), its PostgreSQL pool opened and closed."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator, Optional

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from app.db.engines import KinwardSQLiteEngine, engine_from_url

_engine: Optional[Engine] = None
_engine_url: Optional[str] = None


def configure(url: str) -> Engine:
    """Make the engine for `url` the one every table uses (idempotent for the same URL)."""
    global _engine, _engine_url
    if _engine is not None and _engine_url == url:
        return _engine
    if isinstance(_engine, KinwardSQLiteEngine):
        _engine.close()
    engine = engine_from_url(url)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    _bind(engine)
    _engine, _engine_url = engine, url
    return engine


def _bind(engine: Engine) -> None:
    from piccolo.apps.migrations.tables import Migration

    from app.piccolo_app import APP_CONFIG

    for table in [*APP_CONFIG.table_classes, Migration]:
        table._meta.db = engine


@asynccontextmanager
async def using(url: str) -> AsyncIterator[Engine]:
    """Every table on the database at `url` for a while (a backup copy being checked, a restore
    target), then back on the configured one, its connections untouched."""
    global _engine, _engine_url
    saved = (_engine, _engine_url)
    engine = engine_from_url(url)
    _bind(engine)
    _engine, _engine_url = engine, url
    try:
        if isinstance(engine, PostgresEngine):
            await engine.start_connection_pool(min_size=1, max_size=4)
        yield engine
    finally:
        if isinstance(engine, PostgresEngine):
            await engine.close_connection_pool()
        elif isinstance(engine, KinwardSQLiteEngine):
            engine.close()
        _engine, _engine_url = saved
        if _engine is not None:
            _bind(_engine)


def engine() -> Engine:
    if _engine is None:
        from app.settings import Settings

        return configure(Settings.from_env().database_url)
    return _engine


def is_postgres() -> bool:
    return isinstance(engine(), PostgresEngine)


_pool_users = 0


async def start() -> None:
    """Open the PostgreSQL pool (shared by every app instance in this process: counted, not duplicated)."""
    global _pool_users
    current = engine()
    if isinstance(current, PostgresEngine):
        if _pool_users == 0:
            await current.start_connection_pool(min_size=1, max_size=10)
        _pool_users += 1


async def stop() -> None:
    global _pool_users
    current = engine()
    if isinstance(current, PostgresEngine):
        if _pool_users > 0:
            _pool_users -= 1
            if _pool_users == 0:
                await current.close_connection_pool()
    elif isinstance(current, KinwardSQLiteEngine):
        current.close()
