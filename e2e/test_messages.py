"""Messages in real browsers: a family member writes, the coordinator sees it, answers, and the family sees it live."""

from __future__ import annotations

import re
from uuid import uuid4

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Locator, Page, expect

from e2e.pages import sign_in

COORDINATOR = ("coordinator@kinward.example", "kinward-demo-coordinator")
FAMILY = ("family@kinward.example", "kinward-demo-family")
# The thread polls every few seconds; allow a few rounds.
LIVE_TIMEOUT_MS = 15_000


class Thread:
    """One client's conversation: the list of messages and the form to write one."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.messages = page.get_by_role("list", name="Messages")
        self.body = page.get_by_label("Your message")
        self.send = page.get_by_role("button", name="Send message")

    def message(self, text: str) -> Locator:
        return self.messages.get_by_role("listitem").filter(has_text=text)

    def write(self, text: str) -> None:
        self.body.fill(text)
        self.send.click()


class FamilyHomePage(Thread):
    def open(self) -> FamilyHomePage:
        self.page.goto("/family")
        return self

    def client_name(self) -> str:
        """The relative this family member follows (the demo links each family account to one)."""
        heading = self.page.get_by_role("main").get_by_role("heading", level=2).first
        return re.sub(r"\s*\([^)]*\)$", "", heading.inner_text())


class CaseloadPage:
    def __init__(self, page: Page) -> None:
        self.page = page

    def open(self) -> CaseloadPage:
        self.page.goto("/caseload")
        return self

    def unread_badge(self, client_name: str) -> Locator:
        return self.page.get_by_role("link", name=re.compile(rf"\d+ unread messages about {re.escape(client_name)}"))


def assert_no_axe_violations(page: Page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, f"axe on {page.url}:\n{results.generate_report()}"


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

        # The family member's page was never reloaded: the poll brings the receipt and the answer.
        expect(home.message(note)).to_contain_text(re.compile(r"Seen by Anna Coordinator, coordinator, \d\d:\d\d"),
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
