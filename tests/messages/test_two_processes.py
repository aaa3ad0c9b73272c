"""Two real `kinward serve` processes on one database: a message posted through one shows in the other's updates.

Nothing about a thread lives in a process: what one writes, the other reads from the database.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator, Optional

import httpx
import pytest

from tests.clients.factories import make_world
from tests.conftest import TEST_SECRET, _TEST_URL
from tests.processes import free_port, free_ports, process_stop, until_healthy

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 30
SINCE = re.compile(r'messages/updates\?since=([0-9.]+)')


async def kinward_started(log: Path, *, secret: Optional[str] = TEST_SECRET,
                          port: Optional[int] = None) -> tuple[subprocess.Popen, str]:
    """A real `kinward serve` on the test database, once it answers /healthz: the process and its address.

    Without a secret it runs as a development checkout does, with no KINWARD_SECRET_KEY at all.
    """
    port = port or free_port()
    env = {**os.environ, "KINWARD_DATABASE_URL": _TEST_URL, "KINWARD_ENV": "test",
           "KINWARD_SECRET_KEY": TEST_SECRET, "PYTHONUNBUFFERED": "1"}
    if secret is None:
        del env["KINWARD_SECRET_KEY"]
        env["KINWARD_ENV"] = "development"
    with log.open("w") as output:
        server = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                                  cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    if not await asyncio.to_thread(until_healthy, url, server, seconds=STARTUP_SECONDS):
        process_stop(server)
        pytest.fail(f"kinward serve did not start:\n{log.read_text()}")
    return server, url


async def kinward_started_all(logs: list[Path], *,
                              secret: Optional[str] = TEST_SECRET) -> list[tuple[subprocess.Popen, str]]:
    """Several `kinward serve` started side by side (each spends its seconds importing and waiting): their
    processes and addresses; when one fails to start, the others are stopped and the failure raised."""
    started = await asyncio.gather(*(kinward_started(log, secret=secret, port=port)
                                     for log, port in zip(logs, free_ports(len(logs)))), return_exceptions=True)
    failures = [outcome for outcome in started if isinstance(outcome, BaseException)]
    if failures:
        for outcome in started:
            if not isinstance(outcome, BaseException):
                process_stop(outcome[0])
        raise failures[0]
    return list(started)


async def sign_in(browser: httpx.AsyncClient, server: str, person: dict) -> None:
    await browser.get(f"{server}/login")
    response = await browser.post(f"{server}/login", data={
        "_csrf_token": browser.cookies["csrftoken"], "email": person["email"], "password": person["password"]})
    assert response.status_code == 303, response.text


@asynccontextmanager
async def two_servers(tmp_path: Path, *, secret: Optional[str] = TEST_SECRET) -> AsyncIterator[tuple[str, str]]:
    (first, first_url), (second, second_url) = await kinward_started_all([tmp_path / "a.log", tmp_path / "b.log"],
                                                                         secret=secret)
    try:
        yield first_url, second_url
    finally:
        process_stop(first)
        process_stop(second)


async def test_a_message_posted_through_one_process_appears_in_the_updates_of_another(tmp_path):
    world = await make_world()
    thread = f"/clients/{world.own['id']}/messages"
    async with two_servers(tmp_path) as (first, second), httpx.AsyncClient() as coordinator, \
            httpx.AsyncClient() as family:
        await sign_in(family, second, world.family)
        page = await family.get(f"{second}{thread}")
        since = SINCE.search(page.text).group(1)
        nothing_yet = await family.get(f"{second}{thread}/updates?since={since}", headers={"HX-Request": "true"})
        assert nothing_yet.status_code == 204

        await sign_in(coordinator, first, world.coordinator)
        posted = await coordinator.post(f"{first}{thread}", data={
            "_csrf_token": coordinator.cookies["csrftoken"], "body": "Written through the first process"})
        assert posted.status_code == 303

        update = await family.get(f"{second}{thread}/updates?since={since}", headers={"HX-Request": "true"})
        assert update.status_code == 200
        assert "Written through the first process" in update.text

        # And back: the receipt the second process recorded shows in the first one's page.
        assert "Seen by Family, family" in (await coordinator.get(f"{first}{thread}")).text


async def test_one_session_works_against_either_process(tmp_path):
    world = await make_world()
    async with two_servers(tmp_path) as (first, second), httpx.AsyncClient() as family:
        await sign_in(family, first, world.family)
        home = await family.get(f"{second}/family")
        assert home.status_code == 200 and "Olive Owens" in home.text
        posted = await family.post(f"{second}/clients/{world.own['id']}/messages", data={
            "_csrf_token": family.cookies["csrftoken"], "body": "Sent through the second process"})
        assert posted.status_code == 303
        assert "Sent through the second process" in (await family.get(f"{first}/family")).text
