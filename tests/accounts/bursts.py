"""Bursts of guesses sent at the same moment to two real `kinward serve` processes on the test database.

A limit that reads its count, checks the secret, then writes the count back lets every guess of a
burst through; these send 50 at once, half to each process, as an attacker with a script would.
"""

from __future__ import annotations

import asyncio
from typing import Iterator

import httpx
import pytest

from app.accounts.tables import Device
from app.web.tokens import token_hash, token_new
from tests.messages.test_two_processes import kinward_started_all
from tests.processes import process_stop

BURST = 50


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Two served app processes for the whole module (starting one takes seconds; tests share them)."""
    logs = tmp_path_factory.mktemp("servers")
    started = asyncio.run(kinward_started_all([logs / "a.log", logs / "b.log"]))
    try:
        yield [url for _, url in started]
    finally:
        for process, _ in started:
            process_stop(process)


async def browsers_for(urls: list[str], *, cookies: dict[str, str] | None = None) -> list[httpx.AsyncClient]:
    """One browser per served process, each holding the CSRF cookie its forms need (and `cookies`)."""
    opened = []
    for url in urls:
        browser = httpx.AsyncClient(base_url=url, follow_redirects=False, timeout=120)
        for name, value in (cookies or {}).items():
            browser.cookies.set(name, value, domain="127.0.0.1", path="/")
        await browser.get("/login")
        opened.append(browser)
    return opened


async def at_once(browsers: list[httpx.AsyncClient], posts: list[tuple[str, dict]]) -> list[httpx.Response]:
    """Every (path, form) posted at the same moment, spread over the browsers (so over the processes)."""
    async def send(browser: httpx.AsyncClient, path: str, data: dict) -> httpx.Response:
        return await browser.post(path, data={"_csrf_token": browser.cookies["csrftoken"], **data})

    return list(await asyncio.gather(*[send(browsers[n % len(browsers)], path, data)
                                       for n, (path, data) in enumerate(posts)]))


async def close_all(browsers: list[httpx.AsyncClient]) -> None:
    for browser in browsers:
        await browser.aclose()


async def tablet_cookie(facility_id: int) -> tuple[int, dict[str, str]]:
    """A tablet registered to the facility: its id and the device cookie its browser holds."""
    token = token_new()
    rows = await Device.insert(Device(facility=facility_id, name="Lounge tablet", token_hash=token_hash(token))).run()
    return rows[0]["id"], {"kinward_device": token}


def statuses(answers: list[httpx.Response]) -> dict[int, int]:
    counted: dict[int, int] = {}
    for answer in answers:
        counted[answer.status_code] = counted.get(answer.status_code, 0) + 1
    return counted
