"""kill -9 in the middle of page views: every page view that was answered is in the audit trail.

The audit events of a page are stored (in a commit shared with other requests) before the page is
sent, so a process that dies the next instant cannot have shown a record it did not record.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from app.audit.queries import audit_chain_verify
from app.audit.services import audit_configure, audit_seal
from app.audit.tables import AuditEvent
from app.settings import Settings
from tests.clients.factories import make_world
from tests.conftest import TEST_SECRET, _TEST_URL
from tests.mail.smtp import free_port
from tests.messages.test_two_processes import ROOT, STARTUP_SECONDS, sign_in

BROWSERS = 16


async def test_every_answered_page_view_survives_a_kill_9_and_the_chain_stays_intact(tmp_path):
    world = await make_world()
    port = free_port()
    env = {**os.environ, "KINWARD_DATABASE_URL": _TEST_URL, "KINWARD_ENV": "test",
           "KINWARD_SECRET_KEY": TEST_SECRET, "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "server.log"
    with log.open("w") as output:
        server = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1",
                                   "--port", str(port)], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    answered = 0
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        async with httpx.AsyncClient() as probe:
            while True:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"kinward serve did not start:\n{log.read_text()}")
                try:
                    if (await probe.get(f"{url}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        async with httpx.AsyncClient(timeout=10) as browser:
            await sign_in(browser, url, world.coordinator)
            stop = asyncio.Event()

            async def keep_viewing() -> None:
                nonlocal answered
                while not stop.is_set():
                    try:
                        page = await browser.get(f"{url}/clients/{world.own['id']}")
                    except httpx.TransportError:
                        return  # the process is gone: this view was never answered
                    if page.status_code == 200 and "Olive" in page.text:
                        answered += 1

            viewers = [asyncio.create_task(keep_viewing()) for _ in range(BROWSERS)]
            while answered < 40:
                await asyncio.sleep(0.05)
            server.send_signal(signal.SIGKILL)  # mid-traffic, no chance to finish anything
            server.wait()
            stop.set()
            await asyncio.gather(*viewers)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()

    recorded = await AuditEvent.count().where(
        (AuditEvent.action == "client.viewed") & (AuditEvent.actor_id == world.coordinator["id"])
        & (AuditEvent.client_id == world.own["id"])).run()
    assert answered >= 40 and recorded >= answered
    # What the dead process stored but did not seal is sealed by the next one, with the same key.
    audit_configure(key=Settings.from_env(env).audit_key)
    try:
        await audit_seal()
        assert await audit_chain_verify() is None
    finally:
        audit_configure(key="")
