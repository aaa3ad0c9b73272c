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


# --- liaison ----------------------------------------------------------------------------------------


class AgenciesPage:
    """The directory of providers and agencies, with the form to add one."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.results = page.get_by_role("table", name=re.compile(r"^Agencies"))

    def open(self) -> AgenciesPage:
        self.page.goto("/agencies")
        return self

    def add(self, *, name: str, kind: str, email: str, phone: str = "") -> None:
        self.page.get_by_label("Name", exact=True).fill(name)
        self.page.get_by_label("Kind", exact=True).select_option(label=kind)
        self.page.get_by_label("Secure email for referrals").fill(email)
        if phone:
            self.page.get_by_label("Phone", exact=True).fill(phone)
        self.page.get_by_role("button", name="Add agency").click()


class ReferralForm:
    """A client's referrals page: the referrals so far and the form to refer to an agency."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def refer(self, *, agency: str, reason: str, consent_by: str, urgency: str = "Soon (within a week)",
              shareable: bool = True) -> None:
        self.page.get_by_label("Agency", exact=True).select_option(label=agency)
        self.page.get_by_label("Reason for the referral").fill(reason)
        self.page.get_by_label("Urgency").select_option(label=urgency)
        self.page.get_by_label("Who gave consent").fill(consent_by)
        if shareable:
            self.page.get_by_label("Show this referral to the family").check()
        self.page.get_by_role("button", name="Save referral").click()


class AgencyLinkPage:
    """What an agency sees through its emailed link, without an account."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.accept = page.get_by_role("button", name="Accept the referral")
        self.outcome = page.get_by_label("Outcome: what was done")
        self.record_outcome = page.get_by_role("button", name="Record the outcome")
        self.status = page.get_by_role("status")


class SharePage:
    """A client's share links: the list, and the form to create one."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.link = page.get_by_label("Share link", exact=True)

    def create(self, *, agency: str, reason: str) -> str:
        self.page.get_by_label("Recipient agency").select_option(label=agency)
        self.page.get_by_label("Why it is shared").fill(reason)
        self.page.get_by_role("button", name="Create link").click()
        return self.link.input_value()

    def revoke(self, recipient: str) -> None:
        self.page.get_by_role("button", name=f"Revoke the link for {recipient}").click()
