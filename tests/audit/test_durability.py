"""kill -9 in the middle of page views: every page view that was answered is in the audit trail.

The audit events of a page are stored (in a commit shared with other requests) before the page is
sent, so a process that dies the next instant cannot have shown a record it did not record.
"""

from __future__ import annotations

import asyncio
import signal

import httpx

from app.audit.queries import audit_chain_verify
from app.audit.services import audit_configure, audit_seal
from app.audit.tables import AuditEvent
from app.settings import Settings
from tests.clients.factories import make_world
from tests.conftest import TEST_SECRET
from tests.messages.test_two_processes import kinward_started, sign_in

BROWSERS = 16


async def test_every_answered_page_view_survives_a_kill_9_and_the_chain_stays_intact(tmp_path):
    world = await make_world()
    server, url = await kinward_started(tmp_path / "server.log")
    env = {"KINWARD_SECRET_KEY": TEST_SECRET, "KINWARD_ENV": "test"}  # the server's: its audit key
    answered = 0
    try:
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
