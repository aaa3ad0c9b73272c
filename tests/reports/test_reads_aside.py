"""The dashboard's aggregates (a year of a facility's visits) are read off the event loop: other
pages are answered while they run."""

from __future__ import annotations

import asyncio
import threading

import pytest

from app import db
from tests.clients.factories import make_world
from tests.conftest import sign_in


async def test_other_pages_are_answered_while_the_dashboards_reads_run(client, monkeypatch):
    engine = db.engine()
    if db.is_postgres():
        pytest.skip("asyncpg awaits the server: a PostgreSQL read never holds the event loop")
    world = await make_world()
    await sign_in(client, world.coordinator)
    started, release = threading.Event(), threading.Event()
    read_aside = engine._read_aside

    def held(sql, args):  # the dashboard's long read, still running
        started.set()
        release.wait(timeout=60)
        return read_aside(sql, args)

    monkeypatch.setattr(engine, "_read_aside", held)
    dashboard = asyncio.create_task(client.get("/dashboard"))
    try:
        assert await asyncio.to_thread(started.wait, 30), "the dashboard read on the event loop"
        other = await client.get("/agencies")
        assert other.status_code == 200
        assert not dashboard.done()
    finally:
        release.set()
    assert (await dashboard).status_code == 200
