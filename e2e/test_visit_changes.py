"""The visit page's handover on a worker's tablet, and a coordinator moving one visit at a desktop."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from uuid import uuid4

from playwright.sync_api import Browser, Page, expect

from e2e.pages import CaseloadPage, VisitLog, WeekGrid, assert_no_axe_violations, sign_in
from e2e.test_careplans import CLIENT, FACILITY_TZ
from e2e.test_visits import COORDINATOR, TABLET, WORKER_A, open_the_visit, plan_a_visit_soon

DESKTOP = {"width": 1366, "height": 768}


def open_client(page: Page, client_name: str) -> None:
    CaseloadPage(page).open().find(client_name.split(" ")[-1].lower()).client_link(client_name).click()


def write_team_note(page: Page, client_name: str, text: str) -> None:
    open_client(page, client_name)
    page.get_by_role("navigation", name="Client record").get_by_role("link", name="Messages").click()
    page.get_by_label("Your message").fill(text)
    page.get_by_label("Team-only note").check()
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_text(text)).to_be_visible()


def test_the_worker_reads_the_handover_on_the_visit_page_at_tablet_size(browser: Browser, base_url: str) -> None:
    """Before the visit: address, allergies and risks, the last note, open concerns and the team's notes."""
    team_note = f"Key safe code changed on Friday: ask the office ({uuid4().hex[:6]})."
    office = browser.new_context(base_url=base_url, viewport=DESKTOP)
    tablet = browser.new_context(base_url=base_url, viewport=TABLET)
    try:
        coordinator = office.new_page()
        sign_in(coordinator, *COORDINATOR)
        start = plan_a_visit_soon(coordinator, CLIENT, WORKER_A[2], minutes_from_now=50)
        write_team_note(coordinator, CLIENT, team_note)

        page = tablet.new_page()
        sign_in(page, WORKER_A[0], WORKER_A[1])
        open_the_visit(page, start, CLIENT)
        handover = page.get_by_role("region", name="Handover")
        expect(handover).to_be_visible()
        for heading in ("Key needs", "Last visit’s note", "Open concerns", "Team notes"):
            expect(handover.get_by_role("heading", name=heading)).to_be_visible()
        expect(handover.get_by_text("Allergies", exact=True)).to_be_visible()
        expect(handover.get_by_text("Address", exact=True)).to_be_visible()
        expect(handover.get_by_text(team_note)).to_be_visible()
        # The handover comes before the log, so the worker reads it first.
        expect(VisitLog(page).region).to_be_visible()
        assert_no_axe_violations(page)
    finally:
        office.close()
        tablet.close()


def test_a_coordinator_moves_one_visit_and_a_bad_time_is_refused_next_to_the_field(browser: Browser,
                                                                                  base_url: str) -> None:
    """Move next week's last visit to early morning: an impossible time first, then the move."""
    office = browser.new_context(base_url=base_url, viewport=DESKTOP)
    try:
        page = office.new_page()
        sign_in(page, *COORDINATOR)
        open_client(page, CLIENT)
        page.get_by_role("navigation", name="Client record").get_by_role("link", name="Visits").click()
        grid = WeekGrid(page)
        expect(grid.heading).to_be_visible()
        grid.next_week.click()
        sunday = datetime.now(FACILITY_TZ).date() + timedelta(days=13 - datetime.now(FACILITY_TZ).weekday())
        expect(page.get_by_role("heading", name=re.compile(r"^Week of"))).to_contain_text(
            f"{sunday - timedelta(days=6):%d %b %Y}")
        grid.day(sunday).get_by_role("link").first.click()

        move = page.get_by_role("region", name="Move this visit")
        expect(move).to_be_visible()
        move.get_by_label("Start time").fill("")
        move.get_by_role("button", name="Move the visit").click()
        summary = page.get_by_role("alert").filter(has_text="Say at what time.")
        expect(summary.first).to_be_visible()
        expect(page.get_by_label("Start time")).to_have_attribute("aria-invalid", "true")
        assert_no_axe_violations(page)

        page.get_by_label("Day").fill(f"{sunday:%Y-%m-%d}")
        page.get_by_label("Start time").fill("05:05")
        page.get_by_role("button", name="Move the visit").click()
        expect(page.get_by_role("status").filter(has_text="The visit is moved")).to_be_visible()
        expect(page.get_by_text(re.compile(r"moved; planned for"))).to_be_visible()
        expect(page.get_by_role("heading", level=1)).to_contain_text("05:05")
        assert_no_axe_violations(page)
    finally:
        office.close()
