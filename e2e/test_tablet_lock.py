"""A shared tablet after its idle lock and after Sign out, in a Chromium with its back/forward cache on, at
tablet size: Back, Forward and a pick from the history bring back nothing of a client."""

from __future__ import annotations

import re
import time
from typing import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from e2e.conftest import TABLET
from e2e.pages import (RESTORED, ClientPage, DevicesPage, LockScreen, assert_back_forward_cache_on,
                       assert_no_axe_violations, leave_idle_until, restored, sign_in)
from e2e.test_visits import ADMIN, WORKER_A, WORKER_B, sign_in_on_tablet_and_set_pin

# How far the tablet's clock jumps at a time while it is left idle.
IDLE_STEP_MS = 2_000


@pytest.fixture
def tablet(bfcache_browser: Browser, base_url: str) -> Iterator[BrowserContext]:
    context = bfcache_browser.new_context(base_url=base_url, viewport=TABLET)
    context.set_default_timeout(10_000)
    context.add_init_script(RESTORED)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def office(bfcache_browser: Browser, base_url: str) -> Iterator[BrowserContext]:
    context = bfcache_browser.new_context(base_url=base_url, viewport={"width": 1024, "height": 900})
    context.set_default_timeout(10_000)
    context.add_init_script(RESTORED)
    try:
        yield context
    finally:
        context.close()


def register_tablet(page: Page, name: str, idle_minutes: int) -> None:
    """As the admin, on the tablet: register it, set how soon tablets lock, sign out."""
    sign_in(page, *ADMIN)
    devices = DevicesPage(page).open()
    devices.register(name)
    devices.lock_after(idle_minutes)
    page.get_by_role("button", name="Sign out").click()
    expect(LockScreen(page).heading).to_be_visible()


def open_a_client(page: Page) -> list[str]:
    """From My day, a visit, then its client's record; returns what they showed of the client (name,
    address, allergies)."""
    expect(page.get_by_role("heading", name="My day", level=1)).to_be_visible()
    visit_link = page.get_by_role("link", name=re.compile(r"^Open the visit \d\d:\d\d ")).first
    client_name = re.sub(r"^Open the visit \d\d:\d\d\s+", "", visit_link.text_content().strip())
    visit_link.click()
    page.get_by_role("link", name=client_name, exact=True).click()
    record = ClientPage(page)
    expect(record.heading(client_name)).to_be_visible()
    private = [client_name, record.fact("Address").inner_text().strip(), record.fact("Allergies").inner_text().strip()]
    assert all(private) and "—" not in private
    return private


def shows_nothing_of(page: Page, private: list[str]) -> None:
    """The lock screen, and not a word of the client: not on the page, not in its title."""
    expect(LockScreen(page).heading).to_be_visible()
    for text in private:
        for line in text.splitlines():
            expect(page.get_by_text(line.strip())).to_have_count(0)
        assert text.splitlines()[0] not in page.title()


def back_forward_and_history_show_nothing(page: Page, private: list[str]) -> None:
    """Back, Forward and picks from the history end at the lock screen, and a page that the back/forward
    cache brings back on the way was hidden already: not a moment of it is shown."""
    came_back: list[str] = []
    page.on("console", lambda message: came_back.append(message.text) if restored(message) else None)
    # A page restored from the back/forward cache fires no load event: wait only for the navigation.
    page.go_back(wait_until="commit")
    shows_nothing_of(page, private)
    page.go_forward(wait_until="commit")
    shows_nothing_of(page, private)
    page.evaluate("history.go(-3)")
    shows_nothing_of(page, private)
    page.evaluate("history.go(2)")
    shows_nothing_of(page, private)
    assert [text for text in came_back if not text.endswith("hidden=true")] == []


def test_the_back_forward_cache_is_on_in_these_tests(office: BrowserContext) -> None:
    """The check below is real: a page that is not a tablet's comes back from the back/forward cache."""
    assert_back_forward_cache_on(office.new_page())


def test_after_the_idle_lock_back_forward_and_history_show_nothing_of_the_client(
        tablet: BrowserContext, office: BrowserContext) -> None:
    """A worker opens a client and leaves the tablet; it locks itself, and the history brings nothing back."""
    tablet.clock.install()  # time runs as usual until the tablet is left idle
    page = tablet.new_page()
    try:
        register_tablet(page, "Hall tablet", idle_minutes=1)
        sign_in_on_tablet_and_set_pin(page, WORKER_A[0], WORKER_A[1], WORKER_A[3])
        LockScreen(page).unlock(WORKER_A[2], WORKER_A[3])
        private = open_a_client(page)
        # The worker reads on for a while and scrolls: activity the page tells the server of; the answer says
        # in how many seconds the page must lock (the server's own timing is checked in tests/tablets).
        page.clock.fast_forward(8_000)
        with page.expect_response(lambda r: r.url.endswith("/tablet/still-here")) as seen:
            page.mouse.wheel(0, 300)
            page.clock.fast_forward(8_000)
        answer = seen.value.all_headers()
        assert seen.value.status == 204 and "kinward-lock-in" in answer
        lock_in_ms = 1000 * int(answer["kinward-lock-in"])
        told_at, real_start = page.evaluate("Date.now()"), time.monotonic()

        # Then nobody touches the tablet: the warning counts down, then the page locks itself while the
        # session still lives, when the server's answer said: not sooner, and not later than a step of its
        # clock (which also runs on in real time between steps) after.
        warning = page.get_by_role("alert").filter(has_text="This tablet locks in")
        leave_idle_until(page, warning, step_ms=IDLE_STEP_MS)
        with page.expect_response(lambda r: r.url.endswith("/tablet/lock") and r.request.method == "POST") as lock:
            leave_idle_until(page, LockScreen(page).heading, step_ms=IDLE_STEP_MS)
        locked_after = page.evaluate("Date.now()") - told_at
        real_ms = 1000 * (time.monotonic() - real_start)
        assert lock_in_ms - 1_000 <= locked_after <= lock_in_ms + IDLE_STEP_MS + real_ms, (lock_in_ms, locked_after,
                                                                                         real_ms)
        headers = lock.value.all_headers()
        assert lock.value.status == 303 and "kinward-lock-in" in headers
        assert headers["clear-site-data"] == '"cache", "storage"'
        shows_nothing_of(page, private)
        expect(page.get_by_role("alert").filter(has_text="This tablet locks in")).to_have_count(0)
        assert_no_axe_violations(page)
        back_forward_and_history_show_nothing(page, private)
        expect(page.get_by_role("link", name=WORKER_A[2])).to_be_visible()  # Lock keeps the PIN working
    finally:
        admin = office.new_page()
        sign_in(admin, *ADMIN)
        DevicesPage(admin).open().lock_after(5)  # other tests' tablets lock after the default again


def test_after_sign_out_back_forward_and_history_show_nothing_of_the_client(tablet: BrowserContext) -> None:
    """Back on a live tablet session shows the page afresh; after Sign out, the history brings nothing back
    and the PIN no longer unlocks."""
    page = tablet.new_page()
    register_tablet(page, "Kitchen tablet", idle_minutes=5)
    sign_in_on_tablet_and_set_pin(page, WORKER_B[0], WORKER_B[1], WORKER_B[3])
    LockScreen(page).unlock(WORKER_B[2], WORKER_B[3])
    private = open_a_client(page)

    # While the session lives, a page that comes back from the cache was hidden as it left, and is
    # fetched again rather than shown as it was.
    with page.expect_console_message(restored) as message:
        with page.expect_request(lambda r: "/visits/" in r.url and r.is_navigation_request()):
            page.go_back(wait_until="commit")
    assert re.fullmatch(r"restored /visits/\d+ hidden=true", message.value.text)
    expect(page.get_by_role("link", name=private[0], exact=True)).to_be_visible()
    page.go_forward(wait_until="commit")
    expect(ClientPage(page).heading(private[0])).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    shows_nothing_of(page, private)
    assert_no_axe_violations(page)
    back_forward_and_history_show_nothing(page, private)
    # Sign out ended the worker's sign-in on this tablet: their PIN no longer unlocks it.
    expect(page.get_by_role("link", name=WORKER_B[2])).to_have_count(0)
