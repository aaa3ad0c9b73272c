"""Messages in real browsers: a family member writes, the coordinator sees it, answers, and the family sees it live."""

from __future__ import annotations

import re
from uuid import uuid4

from playwright.sync_api import Browser, Page, expect

from e2e.pages import CaseloadPage, FamilyHomePage, Thread, assert_no_axe_violations, sign_in

COORDINATOR = ("coordinator@kinward.example", "kinward-demo-coordinator")
FAMILY = ("family@kinward.example", "kinward-demo-family")
# The thread polls every few seconds; allow a few rounds.
LIVE_TIMEOUT_MS = 15_000


def test_family_and_coordinator_talk_and_each_sees_the_other_without_reloading(browser: Browser,
                                                                               base_url: str) -> None:
    """A family member's note reaches the coordinator, who answers; the family sees "Seen by" and the reply live."""
    note = f"Mum seemed tired after lunch today ({uuid4().hex[:6]}). Is that the new tablets?"
    reply = f"Thank you for telling us ({uuid4().hex[:6]}). The carer will check her this evening."
    family_context = browser.new_context(base_url=base_url, viewport={"width": 768, "height": 1024})
    coordinator_context = browser.new_context(base_url=base_url, viewport={"width": 1024, "height": 900})
    try:
        family_page = family_context.new_page()
        sign_in(family_page, *FAMILY)
        home = FamilyHomePage(family_page).open()
        client_name = home.client_name()
        assert_no_axe_violations(family_page)
        home.write(note)
        sent = home.message(note)
        expect(sent).to_be_visible()
        expect(sent).to_contain_text("Not seen yet")
        expect(home.body).to_have_value("")  # a fresh form for the next message

        coordinator_page = coordinator_context.new_page()
        sign_in(coordinator_page, *COORDINATOR)
        badge = CaseloadPage(coordinator_page).open().unread_badge(client_name)
        expect(badge).to_be_visible()
        badge.click()
        expect(coordinator_page).to_have_url(re.compile(r"/clients/\d+/messages$"))
        thread = Thread(coordinator_page)
        expect(thread.message(note)).to_be_visible()
        assert_no_axe_violations(coordinator_page)
        thread.write(reply)
        expect(thread.message(reply)).to_be_visible()

        # The family member's page was never reloaded: the poll brings the receipt and the answer. (A receipt
        # from before today's midnight carries its day: "07 Dec, 23:59".)
        expect(home.message(note)).to_contain_text(
            re.compile(r"Seen by Anna Coordinator, coordinator, (\d\d [A-Z][a-z]{2}, )?\d\d:\d\d"),
            timeout=LIVE_TIMEOUT_MS)
        expect(home.message(reply)).to_be_visible(timeout=LIVE_TIMEOUT_MS)
        assert_no_axe_violations(family_page)

        family_page.goto(thread_url := coordinator_page.url.replace(base_url, ""))
        expect(Thread(family_page).message(reply)).to_be_visible()
        assert thread_url.endswith("/messages")
        assert_no_axe_violations(family_page)
    finally:
        family_context.close()
        coordinator_context.close()


def test_an_empty_message_is_refused_next_to_the_field_and_nothing_is_sent(page: Page) -> None:
    """Sending an empty message shows a clear error beside the box, in place."""
    sign_in(page, *FAMILY)
    home = FamilyHomePage(page).open()
    before = home.messages.get_by_role("listitem").count()
    home.write("   ")
    # Beside the box (its description), and in the summary above the form, which takes focus and links to it.
    expect(home.body).to_have_accessible_description(re.compile("Write a message before sending."))
    summary = page.get_by_role("alert").filter(has=page.get_by_role("heading", name="There is a problem"))
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name="Write a message before sending.")).to_be_visible()
    expect(home.body).to_have_attribute("aria-invalid", "true")
    expect(home.messages.get_by_role("listitem")).to_have_count(before)


def test_the_coordinator_sees_a_family_message_left_unanswered_too_long(page: Page) -> None:
    """On the caseload, a coordinator is shown the family messages nobody answered in time (the demo has one)."""
    sign_in(page, "coordinator2@kinward.example", "kinward-demo-coordinator2")
    panel = page.get_by_role("region", name="Family messages waiting for an answer")
    expect(panel).to_be_visible()
    waiting = panel.get_by_role("link", name=re.compile(r"Edith Marchetti"))
    expect(waiting).to_be_visible()
    expect(panel).to_contain_text("no answer after 24 hours")
    waiting.click()
    expect(Thread(page).message("hospital appointment")).to_be_visible()
