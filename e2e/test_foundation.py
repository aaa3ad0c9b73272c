"""The foundation, as people use it in a real browser: signing in and out, keyboard, touch, accessibility."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from playwright.sync_api import BrowserType, ConsoleMessage, Page, Route, expect

from e2e.pages import (RESTORED, LoginPage, SignedInPage, assert_back_forward_cache_on, assert_no_axe_violations,
                       held_until_asked_for, sign_in)

MISMATCH = "That email and password do not match an active account."
MIN_TOUCH_TARGET_PX = 44


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    home: str
    heading: str

    @property
    def password(self) -> str:
        return f"kinward-demo-{self.email.split('@')[0]}"


ACCOUNTS = {
    "admin": DemoAccount("admin@kinward.example", "Ada Admin", "/admin/users", "Users"),
    "coordinator": DemoAccount("coordinator@kinward.example", "Anna Coordinator", "/caseload", "Caseload"),
    "coordinator2": DemoAccount("coordinator2@kinward.example", "Ben Coordinator", "/caseload", "Caseload"),
    "worker": DemoAccount("worker@kinward.example", "Wendy Worker", "/my-day", "My day"),
    "worker2": DemoAccount("worker2@kinward.example", "Walter Worker", "/my-day", "My day"),
    "family": DemoAccount("family@kinward.example", "Fiona Family", "/family", "My family"),
    "family2": DemoAccount("family2@kinward.example", "Frank Family", "/family", "My family"),
}
ONE_PER_ROLE = ("admin", "coordinator", "worker", "family")


@pytest.mark.parametrize("who", ACCOUNTS)
def test_each_demo_account_signs_in_to_its_home(page: Page, base_url: str, who: str) -> None:
    """Each demo account can sign in and lands on its own home page."""
    account = ACCOUNTS[who]
    home = sign_in(page, account.email, account.password)
    expect(page).to_have_url(base_url + account.home)
    expect(home.heading(account.heading)).to_be_visible()
    expect(home.signed_in_as(account.name)).to_be_visible()


def test_wrong_password_is_explained_next_to_the_form_and_keeps_the_email(page: Page) -> None:
    """Someone who mistypes their password is told so beside the field and need not retype their email."""
    login = LoginPage(page).open()
    login.sign_in(ACCOUNTS["worker2"].email, "not-the-password-at-all")
    expect(login.heading).to_be_visible()
    expect(login.error_summary).to_contain_text(MISMATCH)
    expect(login.password).to_have_accessible_description(MISMATCH)
    expect(login.password).to_have_attribute("aria-invalid", "true")
    expect(login.email).to_have_value(ACCOUNTS["worker2"].email)
    expect(login.password).to_have_value("")


def test_the_sign_in_page_is_served_as_a_web_page(page: Page) -> None:
    """The browser shows the sign-in page, also after a failed attempt, as a page rather than as raw text."""
    login = LoginPage(page)
    shown = page.goto(LoginPage.URL)
    assert shown is not None and shown.headers["content-type"].startswith("text/html"), shown.headers
    with page.expect_response(lambda r: r.url.endswith("/login") and r.request.method == "POST") as answer:
        login.sign_in("nobody@kinward.example", "not-the-password-at-all")
    assert answer.value.headers["content-type"].startswith("text/html"), answer.value.headers


def test_a_wrong_password_answers_401(page: Page) -> None:
    """A failed sign-in is refused by the server (401), not only shown as refused."""
    login = LoginPage(page).open()
    with page.expect_response(lambda r: r.url.endswith("/login") and r.request.method == "POST") as answer:
        login.sign_in("nobody-else@kinward.example", "not-the-password-either")
    assert answer.value.status == 401


@pytest.mark.parametrize("back_forward_cache", [True, False], ids=["bfcache-on", "bfcache-off"])
def test_back_after_sign_out_shows_nothing_of_the_person(
    browser_type: BrowserType, whole_browser_launch_args: dict, browser_context_args: dict, back_forward_cache: bool,
) -> None:
    """After signing out on a shared tablet, the Back button does not bring the previous person's page back."""
    # Playwright turns Chrome's back/forward cache off by default; a real tablet's browser has it on.
    ignore = ["--disable-back-forward-cache"] if back_forward_cache else []
    browser = browser_type.launch(**whole_browser_launch_args, ignore_default_args=ignore)
    try:
        context = browser.new_context(**browser_context_args)
        context.add_init_script(RESTORED)
        page = context.new_page()
        if back_forward_cache:
            assert_back_forward_cache_on(page)  # so that what Back shows below is checked with the cache on
        account = ACCOUNTS["coordinator"]
        home = sign_in(page, account.email, account.password)
        expect(home.heading("Caseload")).to_be_visible()
        home.sign_out()
        expect(LoginPage(page).heading).to_be_visible()

        # A page restored from the back/forward cache fires no load event: wait only for the navigation.
        page.go_back(wait_until="commit")
        expect(home.signed_in_as(account.name)).to_have_count(0)
        expect(page.get_by_text(account.name)).to_have_count(0)
        expect(home.heading("Caseload")).to_have_count(0)
        expect(home.sign_out_button).to_have_count(0)
        expect(LoginPage(page).heading).to_be_visible()
    finally:
        browser.close()


def test_a_sign_out_that_overtakes_a_part_of_the_page_still_ends_where_signing_out_leads(page: Page) -> None:
    """A part of the caseload is still on its way when the person signs out: it is refused (the session has
    ended), and its refusal, which would send a page to sign in, does not take the browser elsewhere."""
    account = ACCOUNTS["coordinator"]
    late: list[Route] = []
    leaving: list[Route] = []
    page.route("**/reviews/count", lambda route: late.append(route))
    home = sign_in(page, account.email, account.password)
    expect(home.heading("Caseload")).to_be_visible()
    count = held_until_asked_for(page, late)
    page.route("**/logout", lambda route: leaving.append(route))
    home.sign_out_button.evaluate("button => button.click()")  # a click that does not wait for the navigation
    sign_out = held_until_asked_for(page, leaving)
    signed_out = sign_out.fetch(max_redirects=0)  # the server ends the session; the browser has no answer yet
    assert signed_out.status == 303 and signed_out.headers["location"] == "/login?signed_out=1"
    with page.expect_response("**/reviews/count") as refused:
        count.continue_()
    assert refused.value.status == 401 and refused.value.headers["hx-redirect"].startswith("/login")
    page.wait_for_timeout(500)  # time for the page's script to act on the refusal
    sign_out.fulfill(response=signed_out)
    page.wait_for_url("**/login?signed_out=1")
    expect(page.get_by_role("status").filter(has_text="You have signed out.")).to_be_visible()
    expect(home.sign_out_button).to_have_count(0)


def test_login_page_has_no_axe_violations(page: Page) -> None:
    """A screen-reader or keyboard user meets no automatically detectable barrier on the sign-in page."""
    LoginPage(page).open()
    assert_no_axe_violations(page)


def test_login_error_has_no_axe_violations(page: Page) -> None:
    """The sign-in page with an error message is as accessible as without one."""
    LoginPage(page).open().sign_in("someone@kinward.example", "still-not-the-password")
    expect(LoginPage(page).error_summary).to_be_visible()
    assert_no_axe_violations(page)


@pytest.mark.parametrize("who", ONE_PER_ROLE)
def test_home_pages_have_no_axe_violations(page: Page, who: str) -> None:
    """Each role's home page has no automatically detectable accessibility barrier."""
    account = ACCOUNTS[who]
    home = sign_in(page, account.email, account.password)
    expect(home.heading(account.heading)).to_be_visible()
    assert_no_axe_violations(page)


@pytest.mark.parametrize("path, heading", [("/admin/users", "Users"), ("/admin/audit", "Audit trail")])
def test_admin_pages_have_no_axe_violations(page: Page, path: str, heading: str) -> None:
    """An administrator's user and audit pages have no automatically detectable accessibility barrier."""
    account = ACCOUNTS["admin"]
    home = sign_in(page, account.email, account.password)
    page.goto(path)
    expect(home.heading(heading)).to_be_visible()
    assert_no_axe_violations(page)


def test_sign_in_with_the_keyboard_only(page: Page, base_url: str) -> None:
    """Someone who cannot use a pointer can sign in with Tab and Enter alone."""
    account = ACCOUNTS["worker"]
    login = LoginPage(page).open()
    for _ in range(20):
        page.keyboard.press("Tab")
        if login.email.evaluate("el => el === document.activeElement"):
            break
    expect(login.email).to_be_focused()
    page.keyboard.type(account.email)
    page.keyboard.press("Tab")
    expect(login.password).to_be_focused()
    page.keyboard.type(account.password)
    page.keyboard.press("Tab")
    expect(login.submit).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(base_url + account.home)
    expect(SignedInPage(page).heading(account.heading)).to_be_visible()


def test_sign_in_button_is_big_enough_to_tap(page: Page) -> None:
    """On a tablet, the Sign in button is at least 44 px tall, easy to tap."""
    login = LoginPage(page).open()
    box = login.submit.bounding_box()
    assert box is not None and box["height"] >= MIN_TOUCH_TARGET_PX, box


@pytest.mark.parametrize("who", ONE_PER_ROLE)
def test_navigation_links_are_big_enough_to_tap(page: Page, who: str) -> None:
    """On a tablet, every link of the main navigation and the Sign out button are at least 44 px tall."""
    account = ACCOUNTS[who]
    home = sign_in(page, account.email, account.password)
    expect(home.heading(account.heading)).to_be_visible()
    targets = [*home.nav_links.all(), home.sign_out_button]
    assert len(targets) >= 2
    for target in targets:
        box = target.bounding_box()
        assert box is not None and box["height"] >= MIN_TOUCH_TARGET_PX, (target, box)


def content_security_policy_errors(messages: list[ConsoleMessage]) -> list[str]:
    return [m.text for m in messages if m.type == "error" and "Content Security Policy" in m.text]


def test_login_page_breaks_no_content_security_policy_rule(page: Page) -> None:
    """The sign-in page works within its Content-Security-Policy: the browser blocks nothing on it."""
    messages: list[ConsoleMessage] = []
    page.on("console", lambda message: messages.append(message))
    LoginPage(page).open()
    page.wait_for_load_state("networkidle")
    assert content_security_policy_errors(messages) == []


@pytest.mark.parametrize("who", ONE_PER_ROLE)
def test_home_page_breaks_no_content_security_policy_rule(page: Page, who: str) -> None:
    """Each role's home page works within its Content-Security-Policy: the browser blocks nothing on it."""
    messages: list[ConsoleMessage] = []
    page.on("console", lambda message: messages.append(message))
    account = ACCOUNTS[who]
    home = sign_in(page, account.email, account.password)
    expect(home.heading(account.heading)).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert content_security_policy_errors(messages) == []
