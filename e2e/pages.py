"""Page objects: what a person sees and uses, located by accessible name (label, role, text)."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page


class LoginPage:
    URL = "/login"
    HEADING = "Sign in to Kinward"

    def __init__(self, page: Page) -> None:
        self.page = page
        self.heading = page.get_by_role("heading", name=self.HEADING, level=1)
        self.email = page.get_by_label("Email", exact=True)
        self.password = page.get_by_label("Password", exact=True)
        self.submit = page.get_by_role("button", name="Sign in")
        # The summary above the form; the message beside each field is that field's accessible description.
        self.error_summary = page.get_by_role("alert")

    def open(self) -> LoginPage:
        self.page.goto(self.URL)
        return self

    def sign_in(self, email: str, password: str) -> None:
        self.email.fill(email)
        self.password.fill(password)
        self.submit.click()


class SignedInPage:
    """What every page shows a signed-in person: the main navigation and the Sign out button."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.banner = page.get_by_role("banner")
        self.navigation = page.get_by_role("navigation", name="Main")
        self.nav_links = self.navigation.get_by_role("link")
        self.sign_out_button = page.get_by_role("button", name="Sign out")

    def heading(self, name: str) -> Locator:
        return self.page.get_by_role("heading", name=name, level=1)

    def signed_in_as(self, name: str) -> Locator:
        """The person's name in the page header, which says who is signed in."""
        return self.banner.get_by_text(name)

    def sign_out(self) -> None:
        self.sign_out_button.click()
        self.page.wait_for_url("**/login?signed_out=1")


def sign_in(page: Page, email: str, password: str) -> SignedInPage:
    """Open the sign-in page and sign in; returns the page the person lands on."""
    LoginPage(page).open().sign_in(email, password)
    return SignedInPage(page)


def sign_out(page: Page) -> None:
    SignedInPage(page).sign_out()


class MyDay:
    """The worker's day: it opens at the visit they are at or going to next; visits that are over are one line each."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.heading = page.get_by_role("heading", name="My day", level=1)
        self.current = page.get_by_role("article").filter(has_text="now / next")
        self.go_to_current = page.get_by_role("link", name=re.compile(r"^Go to the current visit"))
        self.folded = page.locator(".visit-line")

    def open(self) -> MyDay:
        self.page.goto("/my-day")
        return self
