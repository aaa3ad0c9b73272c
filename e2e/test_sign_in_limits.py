"""Signing in after too many wrong passwords: a wait, told beside the field, that an administrator can lift."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from app.accounts.throttle import ACCOUNT_FAILURE_LIMIT
from e2e.pages import LoginPage, UsersPage, assert_no_axe_violations, sign_in, sign_out
from e2e.test_foundation import ACCOUNTS

WAIT = "Too many sign-in attempts. Try again in 1 minute."


def test_a_person_who_mistyped_too_often_waits_and_an_admin_lets_them_in_at_once(page: Page, base_url: str) -> None:
    """After five wrong passwords the sign-in page says how long to wait; an administrator can clear it."""
    person, admin = ACCOUNTS["family2"], ACCOUNTS["admin"]
    login = LoginPage(page).open()
    for _ in range(ACCOUNT_FAILURE_LIMIT):
        with page.expect_response(lambda r: r.url.endswith("/login") and r.request.method == "POST"):
            login.sign_in(person.email, "not-the-right-password-at-all")
    with page.expect_response(lambda r: r.url.endswith("/login") and r.request.method == "POST") as answer:
        login.sign_in(person.email, person.password)
    assert answer.value.status == 429 and int(answer.value.headers["retry-after"]) > 0
    expect(login.email).to_have_accessible_description(WAIT)
    expect(login.email).to_have_value(person.email)
    assert_no_axe_violations(page)

    sign_in(page, admin.email, admin.password)
    users = UsersPage(page).open()
    expect(users.row(person.name)).to_contain_text(f"Sign-in slowed after {ACCOUNT_FAILURE_LIMIT} failed attempts")
    assert_no_axe_violations(page)
    users.clear_sign_in_block(person.name)
    expect(users.row(person.name)).not_to_contain_text("Sign-in slowed")
    sign_out(page)

    sign_in(page, person.email, person.password)
    expect(page).to_have_url(base_url + person.home)
