from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator

import pytest

from app.migrations_state import known_migrations, migrations_apply, pending_migrations
from app.records import snapshot
from app.records.backups import Migrations
from tests.conftest import _TEST_URL


@pytest.fixture
async def restore_url(tmp_path: Path) -> AsyncIterator[str]:
    """A database of its own to restore into: a new SQLite file, or a new PostgreSQL database."""
    if _TEST_URL.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.sqlite'}"
        return
    url = snapshot.postgres_scratch_url(_TEST_URL, "restore")
    await snapshot.postgres_database_drop(url)
    try:
        yield url
    finally:
        await snapshot.postgres_database_drop(url)


MIGRATIONS = Migrations(known=known_migrations, pending=pending_migrations, apply=migrations_apply)
