"""When the server fails or the network drops, an htmx page keeps what was typed, offers a retry and recovers."""

from __future__ import annotations

from uuid import uuid4

from playwright.sync_api import Browser, Page, Route, expect

from e2e.pages import fast_forward_until, sign_in
from e2e.test_messages import COORDINATOR, FAMILY, FamilyHomePage, Thread, assert_no_axe_violations

# A proxy's or a crashed server's whole error page: what used to be pasted into the thread.
ERROR_PAGE = ("<!doctype html><html><head><title>Error</title></head><body><h1>Something went wrong on our "
              "side</h1><p>Please try again.</p></body></html>")
# The poller backs off after failures (up to a minute); a few of its rounds, on the page's clock.
RECOVERY_MS = 30_000


def test_a_message_whose_answer_was_lost_keeps_its_text_and_a_retry_posts_it_once(page: Page) -> None:
    """The message is stored but the answer is a 500 page: nothing is pasted, the text stays, Retry posts once."""
    text = f"Could the carer bring the shopping list ({uuid4().hex[:6]})?"
    sign_in(page, *FAMILY)
    home = FamilyHomePage(page).open()
    answers: list[int] = []

    def stored_then_failed(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        response = route.fetch()  # the server stores the message ...
        answers.append(response.status)
        if len(answers) == 1:  # ... and the answer is lost in a 500, once
            route.fulfill(status=500, content_type="text/html", body=ERROR_PAGE)
        else:
            route.fulfill(response=response)

    page.route("**/clients/*/messages", stored_then_failed)
    home.write(text)
    status = page.get_by_role("alert").filter(has_text="Not sent — retry")
    expect(status).to_be_visible()
    expect(home.body).to_have_value(text)
    expect(page.get_by_role("heading", name="Something went wrong on our side")).to_have_count(0)
    expect(home.send).to_be_visible()
    assert answers == [201]
    assert_no_axe_violations(page)

    page.get_by_role("button", name="Retry").click()
    expect(home.message(text)).to_have_count(1)
    expect(home.body).to_have_value("")
    expect(status).to_have_count(0)
    assert answers == [201, 201]
    page.reload()
    expect(FamilyHomePage(page).message(text)).to_have_count(1)


def test_the_thread_keeps_updating_after_the_server_could_not_be_reached(browser: Browser, base_url: str) -> None:
    """The family's thread poller survives an outage, says so, and shows the coordinator's reply afterwards."""
    reply = f"The visit moves to 11:00 tomorrow ({uuid4().hex[:6]})."
    family_context = browser.new_context(base_url=base_url, viewport={"width": 768, "height": 1024})
    family_context.clock.install()  # the poller's waits pass on the page's clock, not in real time
    coordinator_context = browser.new_context(base_url=base_url, viewport={"width": 1024, "height": 900})
    try:
        family_page = family_context.new_page()
        sign_in(family_page, *FAMILY)
        home = FamilyHomePage(family_page).open()
        failed_polls: list[str] = []

        def outage(route: Route) -> None:
            failed_polls.append(route.request.url)
            if len(failed_polls) % 2:
                route.abort("connectionrefused")
            else:
                route.fulfill(status=503, content_type="text/html", body=ERROR_PAGE)

        family_page.route("**/messages/updates*", outage)
        not_updated = family_page.get_by_text("Not updated — trying again")
        fast_forward_until(family_page, not_updated.is_visible, "the failed poll said", limit_ms=RECOVERY_MS)
        family_page.wait_for_function("document.querySelectorAll('.poller').length === 1")
        home.body.fill("Half-typed while offline")

        coordinator_page = coordinator_context.new_page()
        sign_in(coordinator_page, *COORDINATOR)
        coordinator_page.goto(thread_path(family_page))
        Thread(coordinator_page).write(reply)
        expect(Thread(coordinator_page).message(reply)).to_be_visible()

        fast_forward_until(family_page, lambda: len(failed_polls) >= 2, "a second failed poll", limit_ms=RECOVERY_MS)
        family_page.unroute("**/messages/updates*")
        fast_forward_until(family_page, home.message(reply).is_visible, "the reply shown after the outage",
                           limit_ms=RECOVERY_MS)
        expect(not_updated).to_have_count(0)
        expect(home.body).to_have_value("Half-typed while offline")
        expect(family_page.get_by_role("heading", name="Something went wrong on our side")).to_have_count(0)
    finally:
        family_context.close()
        coordinator_context.close()


def thread_path(page: Page) -> str:
    """The thread of the client on this family home page (where its compose form posts)."""
    return page.get_by_role("button", name="Send message").locator("xpath=ancestor::form").get_attribute("action")


def test_double_clicking_send_posts_one_message(page: Page) -> None:
    """A double click on Send (coordinator and family alike) adds the message once."""
    sign_in(page, *FAMILY)
    FamilyHomePage(page).open()
    path = thread_path(page)
    for account in (FAMILY, COORDINATOR):
        text = f"Double-clicked note ({uuid4().hex[:6]})"
        page.context.clear_cookies()
        sign_in(page, *account)
        page.goto(path)
        thread = Thread(page)
        thread.body.fill(text)
        thread.send.dblclick()
        expect(thread.message(text)).to_have_count(1)
        page.reload()
        expect(Thread(page).message(text)).to_have_count(1)
