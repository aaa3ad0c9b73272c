"""A shared tablet after a lock: nothing of a session outlives it, the page locks before the server would,
and Sign out ends the person's sign-in there for the shift."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta, timezone

import pytest

from app.accounts.tables import Facility, Session
from app.audit.tables import AuditEvent
from app.web.sessions import tablet_lock_in
from tests.conftest import (app_client, login, make_facility, make_user, post_form, session_cookie_value,
                            use_session_token)
from tests.tablets.test_tablet import registered_tablet, staff_with_pin, unlock

IDLE_MINUTES = 2


async def tablet_with_worker(client) -> dict:
    """A registered tablet of a facility locking after two idle minutes, a worker signed in on it with the password."""
    facility = await make_facility()
    await Facility.update({Facility.idle_lock_minutes: IDLE_MINUTES}).where(Facility.id == facility).run()
    await registered_tablet(client, facility)
    worker = await staff_with_pin(facility)
    await login(client, worker)
    return worker


def cleared(response) -> bool:
    """The answer drops the tablet's cached pages and storage, keeps its cookies (the device's), and expires
    the session cookie."""
    sent = response.headers.get("clear-site-data", "")
    expired = any(re.match(r"kinward_session=(\"\")?;.*max-age=0", cookie, re.I)
                  for cookie in response.headers.get_list("set-cookie"))
    kept = not any(cookie.startswith("kinward_device=") for cookie in response.headers.get_list("set-cookie"))
    return '"cache"' in sent and '"storage"' in sent and '"cookies"' not in sent and expired and kept


async def session_ended_by_the_server(client, worker, how: str, fake_clock) -> None:
    if how == "idle":
        fake_clock.advance(minutes=IDLE_MINUTES, seconds=1)
    elif how == "shift over":
        fake_clock.advance(hours=13)
    elif how == "revoked":
        await Session.update({Session.revoked_at: datetime.now(timezone.utc)}).where(
            Session.user == worker["id"]).run()
    else:  # a token the server never issued
        use_session_token(client, secrets.token_urlsafe(32))


ENDINGS = ["idle", "shift over", "revoked", "unknown"]


@pytest.mark.parametrize("how", ENDINGS)
async def test_a_page_asked_for_without_a_live_session_clears_the_tablet(client, fake_clock, how):
    worker = await tablet_with_worker(client)
    await session_ended_by_the_server(client, worker, how, fake_clock)
    response = await client.get("/my-day")
    assert response.status_code == 303 and response.headers["location"] == "/tablet"
    assert cleared(response)
    assert session_cookie_value(client) is None
    assert client.cookies.get("kinward_device")
    assert (await client.get("/tablet")).status_code == 200  # still the registered tablet


@pytest.mark.parametrize("how", ENDINGS)
async def test_the_idle_timers_lock_after_the_servers_limit_clears_the_tablet_like_the_lock_button(
        client, fake_clock, how):
    worker = await tablet_with_worker(client)
    await session_ended_by_the_server(client, worker, how, fake_clock)
    response = await post_form(client, "/tablet/lock", {})
    assert response.status_code == 303 and response.headers["location"] == "/tablet"
    assert cleared(response)
    assert session_cookie_value(client) is None


async def test_an_htmx_request_without_a_live_session_is_sent_to_the_lock_screen_and_clears_the_tablet(
        client, fake_clock):
    await tablet_with_worker(client)
    fake_clock.advance(minutes=IDLE_MINUTES, seconds=1)
    response = await client.get("/my-day", headers={"HX-Request": "true"})
    assert response.status_code == 401 and response.headers["hx-redirect"] == "/tablet"
    assert cleared(response)


async def test_public_pages_on_a_tablet_without_a_live_session_clear_it_too(client, fake_clock):
    await tablet_with_worker(client)
    fake_clock.advance(minutes=IDLE_MINUTES, seconds=1)
    for path in ("/tablet", "/login"):
        response = await client.get(path)
        assert response.status_code == 200
        assert '"cache", "storage"' == response.headers["clear-site-data"]
    # With the dead cookie gone, the lock screen still tells the browser to drop what it kept.
    assert session_cookie_value(client) is None
    assert (await client.get("/tablet")).headers["clear-site-data"] == '"cache", "storage"'


async def test_signing_in_on_a_tablet_after_a_dead_session_keeps_the_new_session(client, fake_clock):
    worker = await tablet_with_worker(client)
    fake_clock.advance(minutes=IDLE_MINUTES, seconds=1)
    response = await login(client, worker)
    assert "clear-site-data" in response.headers
    sessions = [c for c in response.headers.get_list("set-cookie") if c.startswith("kinward_session=")]
    assert len(sessions) == 1 and "max-age=0" not in sessions[0].lower()
    assert (await client.get("/my-day")).status_code == 200
    await post_form(client, "/tablet/lock", {})
    unlocked = await unlock(client, worker)
    assert unlocked.status_code == 303 and "max-age=0" not in unlocked.headers["set-cookie"].lower()
    assert (await client.get("/my-day")).status_code == 200


async def test_a_live_tablet_session_and_a_desktop_are_not_cleared(client, settings, fake_clock):
    await tablet_with_worker(client)
    assert "clear-site-data" not in (await client.get("/my-day")).headers
    async with app_client(settings) as desktop:
        office = await make_user(facility_id=await make_facility(), role="coordinator")
        await login(desktop, office)
        fake_clock.advance(hours=1)
        response = await desktop.get("/caseload")
        assert response.status_code == 303 and "clear-site-data" not in response.headers


# --- the page locks itself before the server's limit ------------------------------------------------------


@pytest.mark.parametrize("idle_minutes", [1, 2, 5, 60])
@pytest.mark.parametrize("lag_seconds", [0, 1, 5, 29])
def test_the_page_is_told_to_lock_a_margin_before_the_server_would(idle_minutes, lag_seconds):
    now = datetime(2026, 3, 1, 9, tzinfo=timezone.utc)
    idle = timedelta(minutes=idle_minutes)
    last_seen = now - min(timedelta(seconds=lag_seconds), idle / 10)
    for shift_ends in (now + timedelta(hours=12), now + idle / 2):
        lock_in = tablet_lock_in(last_seen_at=last_seen, expires_at=shift_ends, idle=idle, now=now)
        server_ends = min(last_seen + idle, shift_ends)
        page_locks = now + timedelta(seconds=lock_in)
        assert page_locks <= server_ends - min(timedelta(seconds=15), idle / 6)
        assert page_locks >= server_ends - timedelta(seconds=16) - idle / 6  # and not much sooner


async def test_the_lock_sent_when_the_page_says_still_finds_the_session_alive(client, fake_clock):
    """Whatever the pattern of activity, a lock sent when the last answer said so is a real lock."""
    worker = await tablet_with_worker(client)
    page = await client.get("/my-day")
    lock_in = int(re.search(r'data-lock-in-seconds="(\d+)"', page.text).group(1))
    assert int(page.headers["kinward-lock-in"]) == lock_in and 0 < lock_in < IDLE_MINUTES * 60
    # Activity at odd moments: some answers refresh the server's "last seen", some fall inside its granularity.
    for gap in (3, 11, 1, 40, 7):
        fake_clock.advance(seconds=gap)
        answer = await client.get("/tablet/still-here")
        assert answer.status_code == 204
        lock_in = int(answer.headers["kinward-lock-in"])
    fake_clock.advance(seconds=lock_in)
    response = await post_form(client, "/tablet/lock", {})
    assert response.status_code == 303 and cleared(response)
    locked = await AuditEvent.count().where((AuditEvent.action == "tablet.locked")
                                            & (AuditEvent.actor_id == worker["id"])).run()
    assert locked == 1  # the session was alive: the Lock button's own path, audited as the worker's lock


# --- Sign out ends the person's sign-in on the tablet for the shift -------------------------------------


async def test_sign_out_on_a_tablet_means_the_pin_no_longer_unlocks_it(client, settings):
    worker = await tablet_with_worker(client)
    colleague = await staff_with_pin(worker["facility_id"], pin="739104")
    await post_form(client, "/tablet/lock", {})
    await login(client, colleague)
    await post_form(client, "/tablet/lock", {})
    async with app_client(settings) as desktop:
        await login(desktop, worker)  # the same person at the office
        assert (await unlock(client, worker)).status_code == 303

        signed_out = await post_form(client, "/logout", {})
        assert signed_out.status_code == 303 and signed_out.headers["location"] == "/tablet"
        assert cleared(signed_out)
        screen = await client.get("/tablet")
        assert f"/tablet/unlock/{worker['id']}" not in screen.text
        assert f"/tablet/unlock/{colleague['id']}" in screen.text  # others' sign-ins stay
        refused = await unlock(client, worker)
        assert refused.status_code == 404 and session_cookie_value(client) is None
        assert (await desktop.get("/my-day")).status_code == 200  # only the tablet's sign-in ended
    assert (await unlock(client, colleague, pin="739104")).status_code == 303

    await post_form(client, "/tablet/lock", {})
    await login(client, worker)  # the next use needs the password, then the PIN works again
    await post_form(client, "/tablet/lock", {})
    assert (await unlock(client, worker)).status_code == 303


async def test_lock_keeps_the_pin_working_and_sign_out_does_not(client):
    worker = await tablet_with_worker(client)
    await post_form(client, "/tablet/lock", {})
    assert (await unlock(client, worker)).status_code == 303
    await post_form(client, "/logout", {})
    assert (await unlock(client, worker)).status_code == 404


async def test_sign_out_after_the_server_ended_the_session_still_ends_the_shift(client, fake_clock):
    worker = await tablet_with_worker(client)
    fake_clock.advance(minutes=IDLE_MINUTES, seconds=1)
    signed_out = await post_form(client, "/logout", {})
    assert signed_out.status_code == 303 and signed_out.headers["location"] == "/tablet"
    assert cleared(signed_out)
    assert (await unlock(client, worker)).status_code == 404
    event = await AuditEvent.select(AuditEvent.actor_id, AuditEvent.device_id).where(
        AuditEvent.action == "logout").order_by(AuditEvent.id, ascending=False).first().run()
    assert event["actor_id"] == worker["id"] and event["device_id"] is not None
