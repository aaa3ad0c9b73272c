"""Visit logging on a shared tablet, in a real browser at tablet size: from PIN unlock to the family's summary."""

from __future__ import annotations

import re
from uuid import uuid4

from playwright.sync_api import Browser, Page, expect

from e2e.pages import (SAVE_TIMEOUT_MS, DevicesPage, FamilyHomePage, LockScreen, LoginPage, VisitLog,
                       assert_no_axe_violations, sign_in)

ADMIN = ("admin@kinward.example", "kinward-demo-admin")
WORKER_A = ("worker@kinward.example", "kinward-demo-worker", "Wendy Worker", "482915")
WORKER_B = ("worker2@kinward.example", "kinward-demo-worker2", "Walter Worker", "739104")
COORDINATOR = ("coordinator@kinward.example", "kinward-demo-coordinator")
FAMILY = ("family@kinward.example", "kinward-demo-family")
TABLET = {"width": 768, "height": 1024}
# The facility's shortest idle lock is one minute; the warning counts down its last half.
IDLE_LOCK_MINUTES = 1
IDLE_TIMEOUT_MS = 100_000


def sign_in_on_tablet_and_set_pin(page: Page, email: str, password: str, pin: str) -> None:
    """A full password sign-in on the tablet (this shift), a PIN chosen, then the tablet locked."""
    page.goto("/login")
    LoginPage(page).sign_in(email, password)
    expect(page.get_by_role("button", name="Lock")).to_be_visible()
    page.goto("/account/pin")
    page.get_by_label("Current password").fill(password)
    page.get_by_label("New PIN", exact=True).fill(pin)
    page.get_by_label("New PIN again").fill(pin)
    page.get_by_role("button", name="Set PIN").click()
    expect(page.get_by_text("Your tablet PIN is set.")).to_be_visible()
    page.get_by_role("button", name="Lock").click()
    expect(LockScreen(page).heading).to_be_visible()


def test_a_worker_logs_a_visit_on_a_shared_tablet_and_the_team_and_family_see_it(browser: Browser,
                                                                                 base_url: str) -> None:
    """Worker A unlocks with a PIN and logs a visit; the idle tablet locks; worker B unlocks; coordinator and family see it."""
    note = f"Walked to the garden gate with the frame ({uuid4().hex[:6]})."
    summary = f"A bright morning: breakfast by the window and a walk in the garden ({uuid4().hex[:6]})."
    concern = f"Bruise on the right shin, says she bumped the bed ({uuid4().hex[:6]})."
    tablet = browser.new_context(base_url=base_url, viewport=TABLET)
    office = browser.new_context(base_url=base_url, viewport={"width": 1024, "height": 900})
    try:
        family_page = office.new_page()
        sign_in(family_page, *FAMILY)
        client_name = FamilyHomePage(family_page).client_name()
        family_page.close()
        office.clear_cookies()

        page = tablet.new_page()
        sign_in(page, *ADMIN)
        devices = DevicesPage(page).open()
        devices.register("Lounge tablet")
        devices.lock_after(IDLE_LOCK_MINUTES)
        page.get_by_role("button", name="Sign out").click()
        expect(LockScreen(page).heading).to_be_visible()

        sign_in_on_tablet_and_set_pin(page, WORKER_B[0], WORKER_B[1], WORKER_B[3])
        sign_in_on_tablet_and_set_pin(page, WORKER_A[0], WORKER_A[1], WORKER_A[3])
        lock = LockScreen(page)
        expect(page.get_by_role("link", name=WORKER_A[2])).to_be_visible()
        assert_no_axe_violations(page)

        lock.unlock(WORKER_A[2], WORKER_A[3])
        expect(page.get_by_role("heading", name="My day", level=1)).to_be_visible()
        page.get_by_role("link", name=re.compile(rf"Open the visit \d\d:\d\d {re.escape(client_name)}")).first.click()
        log = VisitLog(page)
        expect(log.region).to_be_visible()
        log.check_in()
        log.at_home()
        log.tick("Wash", "Dress")
        log.note(note)
        log.family_summary(summary)
        log.concern("High: needs action today", concern)
        assert_no_axe_violations(page)
        log.check_out()
        # Still there, and correctable for 24 hours.
        expect(log.region.get_by_label("Note for the care team")).to_have_value(note)
        expect(log.region).to_contain_text("You can correct this log until")

        # Nobody touches the tablet: the warning counts down, then it locks and shows no client data.
        warning = page.get_by_role("alert").filter(has_text="This tablet locks in")
        expect(warning).to_be_visible(timeout=IDLE_TIMEOUT_MS)
        expect(lock.heading).to_be_visible(timeout=IDLE_TIMEOUT_MS)
        expect(page).to_have_url(re.compile(r"/tablet$"))
        for private in (client_name, note, summary, concern):
            expect(page.get_by_text(private)).to_have_count(0)
        page.go_back()
        expect(page.get_by_text(note)).to_have_count(0)
        page.goto("/tablet")

        lock.unlock(WORKER_B[2], WORKER_B[3])
        expect(page.get_by_role("heading", name="My day", level=1)).to_be_visible()
        expect(page.get_by_role("banner")).to_contain_text(WORKER_B[2])
        expect(page.get_by_text(note)).to_have_count(0)

        coordinator_page = office.new_page()
        sign_in(coordinator_page, *COORDINATOR)
        concerns = coordinator_page.get_by_role("region", name="Open concerns")
        expect(concerns.get_by_role("link", name=f"{client_name}: High: needs action today").first).to_be_visible()
        assert_no_axe_violations(coordinator_page)
        coordinator_page.get_by_role("button", name="Sign out").click()

        family_page = office.new_page()
        sign_in(family_page, *FAMILY)
        expect(family_page.get_by_role("region", name="Recent visit summaries").first).to_contain_text(summary)
        expect(family_page.get_by_text(note)).to_have_count(0)
        expect(family_page.get_by_text(concern)).to_have_count(0)
    finally:
        admin_page = office.new_page()
        office.clear_cookies()
        sign_in(admin_page, *ADMIN)
        DevicesPage(admin_page).open().lock_after(5)  # other tests' tablets lock after the default again
        tablet.close()
        office.close()


def test_a_save_that_does_not_reach_the_server_says_so_and_keeps_the_text(page: Page) -> None:
    """Without a connection the note is "not saved — retry", stays in the box, and Save sends it once back online."""
    note = f"Written while the wifi was down ({uuid4().hex[:6]})."
    sign_in(page, WORKER_B[0], WORKER_B[1])
    page.get_by_role("link", name=re.compile(r"Open the visit")).first.click()
    log = VisitLog(page)
    if log.region.get_by_role("button", name="Check in").count():
        log.check_in()
    page.context.set_offline(True)
    try:
        log.region.get_by_label("Note for the care team").fill(note)
        expect(log.status("note")).to_contain_text("Not saved — retry", timeout=SAVE_TIMEOUT_MS)
    finally:
        page.context.set_offline(False)
    expect(log.region.get_by_label("Note for the care team")).to_have_value(note)
    log.region.get_by_role("button", name="Save the note for the team").click()
    log.saved("note")
    page.reload()
    expect(VisitLog(page).region.get_by_label("Note for the care team")).to_have_value(note)
