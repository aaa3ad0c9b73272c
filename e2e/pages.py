"""Page objects: what a person sees and uses, located by accessible name (label, role, text).

Every e2e test finds its pages here, and checks them with `assert_no_axe_violations`.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Callable
from urllib.parse import quote, quote_plus

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, Route, expect

# Autosaves answer within a few seconds even on a loaded machine.
SAVE_TIMEOUT_MS = 15_000


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


def wait_until(page: Page, done, what: str, seconds: float = 10) -> None:
    """Let the browser's events run until `done()` holds (a route holding a request, answers counted)."""
    for _ in range(int(seconds * 20)):
        if done():
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"{what} did not happen within {seconds:.0f} s")


def held_until_asked_for(page: Page, held: list[Route]) -> Route:
    """The request a route is holding (its handler appends the route to `held`), once the browser has sent it."""
    wait_until(page, lambda: held, "the held request")
    return held[0]


# Says, in the browser's console, when a page comes back from the back/forward cache and whether it
# was already hidden then (it runs before the page's own scripts, so it sees the page as it came back).
RESTORED = """
window.addEventListener("pageshow", function (event) {
  if (event.persisted) { console.log("restored " + location.pathname + " hidden=" + document.body.hidden); }
});
"""


def restored(message) -> bool:
    return message.text.startswith("restored ")


def assert_back_forward_cache_on(page: Page) -> None:
    """The tests of what Back shows are real only where the browser has the cache: a page that is not
    a signed-in one (its context has RESTORED as an init script) comes back from it."""
    page.goto("/login")
    page.goto("/login?next=/caseload")
    with page.expect_console_message(restored) as message:
        page.go_back(wait_until="commit")
    assert message.value.text == "restored /login hidden=false"


def assert_no_axe_violations(page: Page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, f"axe on {page.url}:\n{results.generate_report()}"


class CaseloadPage:
    """The coordinator's caseload: a live name search, filters and a sort above the table of clients."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.heading = page.get_by_role("heading", name="Caseload", level=1)
        self.search = page.get_by_label("Search by name")
        self.sort = page.get_by_label("Sort by")
        self.show = page.get_by_role("button", name="Show")
        self.table = page.get_by_role("table")
        self.rows = self.table.locator("tbody").get_by_role("row")
        self.result_count = page.get_by_role("status").filter(has_text=re.compile(r"\d+ clients?"))

    def open(self, query: str = "") -> CaseloadPage:
        self.page.goto("/caseload" + (f"?{query}" if query else ""))
        return self

    def find(self, typed: str) -> CaseloadPage:
        """Type into the search as a person does, then wait for the answer to all of it (the address shows the
        search once its rows are in): an earlier answer's link can be swapped out from under a click."""
        self.search.press_sequentially(typed, delay=50)
        expect(self.page).to_have_url(re.compile(r"[?&]q=" + re.escape(quote_plus(typed)) + r"(&|$)"))
        return self

    def only_with(self, name: str) -> Locator:
        """An attention filter's checkbox ("Open concerns", "Missed today"...), whose name ends in its count."""
        return self.page.get_by_role("checkbox", name=re.compile(rf"^{re.escape(name)} \d+$"))

    def tally(self, name: str) -> int:
        label = self.only_with(name).get_attribute("id")
        return int(self.page.locator(f"label[for='{label}'] .tally").inner_text())

    def column(self, header: str) -> list[str]:
        """The text of one column, row by row."""
        headers = self.table.locator("thead th").all_inner_texts()
        index = [h.replace("\n", " ") for h in headers].index(header)
        return [row.locator("th, td").nth(index).inner_text().strip() for row in self.rows.all()]

    def client_link(self, name: str) -> Locator:
        # Anchored: a row's badges are links that name the client too ("referrals overdue for ...").
        return self.table.get_by_role("link", name=re.compile("^" + re.escape(name)))

    def client_links(self) -> Locator:
        return self.table.get_by_role("rowheader").get_by_role("link")

    def unread_badge(self, client_name: str) -> Locator:
        return self.page.get_by_role("link", name=re.compile(rf"\d+ unread messages about {re.escape(client_name)}"))


class ClientPage:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.edit_link = page.get_by_role("link", name="Edit details")

    def heading(self, name: str) -> Locator:
        return self.page.get_by_role("heading", name=name, level=1)

    def fact(self, term: str) -> Locator:
        """What the record says for a term of its details (Address, Allergies...)."""
        return self.page.get_by_role("term").filter(has_text=re.compile(rf"^{re.escape(term)}$")).locator(
            "xpath=following-sibling::dd[1]")


class EditClientPage:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.heading = page.get_by_role("heading", name="Edit details", level=1)
        self.save = page.get_by_role("button", name="Save changes")
        self.conflict = page.get_by_role("alert").filter(has_text="Someone else saved this client")

    def field(self, label: str) -> Locator:
        return self.page.get_by_label(label, exact=True)


class PlanPage:
    """A client's care plan: the active version, and the draft the care team edits."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.heading = page.get_by_role("heading", name="Care plan", level=1)
        self.start_new_version = page.get_by_role("button", name="Start a new version")
        self.draft_services = page.get_by_role("table", name="Services in the draft")
        self.add_service = page.get_by_role("link", name="Add a service")
        self.review_and_activate = page.get_by_role("link", name="Review changes and activate")
        self.visit_schedule = page.get_by_role("link", name="Visit schedule")

    def remove_buttons(self) -> Locator:
        return self.draft_services.get_by_role("button", name=re.compile(r"^Remove"))


class GoalNotesPage:
    """The notes written against one goal of the plan, and the form to add one."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.heading = page.get_by_role("heading", name="Notes on a goal", level=1)
        self.note = page.get_by_label("Note", exact=True)
        self.add = page.get_by_role("button", name="Add note")
        self.written = page.get_by_role("region", name="Notes written")


class ServiceForm:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.heading = page.get_by_role("heading", name="Add a service", level=1)
        self.kind = page.get_by_label("Kind of service")
        self.worker = page.get_by_label("Care worker")
        self.start_time = page.get_by_label("Start time")
        self.duration = page.get_by_label("Duration (minutes)")
        self.instructions = page.get_by_label("Instructions")
        self.tasks = page.get_by_label("Task checklist")
        self.submit = page.get_by_role("button", name="Add service")
        self.clash = page.get_by_role("alert", name="There is a problem").filter(
            has_text=re.compile(r"already has another service of this plan|This worker is busy at"))

    def day(self, name: str) -> Locator:
        return self.page.get_by_role("group", name="Days").get_by_label(name)

    def fill(self, *, kind: str, worker: str, start: str, minutes: int, instructions: str, tasks: str) -> None:
        self.kind.select_option(label=kind)
        self.worker.select_option(label=worker)
        for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
            self.day(day).check()
        self.start_time.fill(start)
        self.duration.fill(str(minutes))
        self.instructions.fill(instructions)
        self.tasks.fill(tasks)


class WeekGrid:
    """A client's visits, one column per day of the week."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.heading = page.get_by_role("heading", name="Visits", level=1)
        self.next_week = page.get_by_role("link", name="Next week")

    def day(self, when: date) -> Locator:
        label = f"{when:%a %d %b}"
        return self.page.get_by_role("listitem").filter(
            has=self.page.get_by_role("heading", name=re.compile(rf"^{label}"), level=3))


class MyDayPage:
    """The worker's day: it opens at the visit they are at or going to next; visits that are over are one line each."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.heading = page.get_by_role("heading", name="My day", level=1)
        self.next_day = page.get_by_role("link", name="Next day")
        self.cards = page.get_by_role("article")  # the visits not over yet, in time order
        self.current = self.cards.filter(has_text="now / next")
        self.go_to_current = page.get_by_role("link", name=re.compile(r"^Go to the current visit"))

    def open(self) -> MyDayPage:
        self.page.goto("/my-day")
        return self

    def visit(self, start: str, client: str) -> Locator:
        return self.page.get_by_role("article").filter(
            has=self.page.get_by_role("heading", name=re.compile(rf"{start}–\d\d:\d\d\s+{client}")))


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


class DevicesPage:
    """The admin's tablet settings: register this browser, how soon tablets lock."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def open(self) -> DevicesPage:
        self.page.goto("/admin/devices")
        return self

    def register(self, name: str) -> None:
        self.page.get_by_label("Tablet name").fill(name)
        self.page.get_by_role("button", name="Register this tablet").click()
        expect(self.page.get_by_text("This browser is the registered tablet")).to_be_visible()

    def lock_after(self, minutes: int) -> None:
        self.page.get_by_label("Lock tablets after this many idle minutes").fill(str(minutes))
        self.page.get_by_role("button", name="Save", exact=True).click()
        expect(self.page.get_by_role("status").filter(has_text=f"lock after {minutes} idle minutes")).to_be_visible()


def fast_forward_until(page: Page, done: Callable[[], bool], what: str, *, step_ms: int = 5_000,
                       limit_ms: int = 180_000) -> None:
    """The page's clock (installed with `context.clock.install()`) jumps ahead a few seconds at a time, each
    step's timers firing and their requests answered, until `done()` holds: the page's own timers decide
    what happens when, and the test does not wait for them in real time."""
    for _ in range(limit_ms // step_ms):
        if done():
            return
        page.clock.fast_forward(step_ms)
        page.wait_for_load_state()
        page.wait_for_timeout(100)  # the requests the step set off (a poll, a still-here ping, the lock)
    if not done():
        raise AssertionError(f"{what} did not happen within {limit_ms // 1000} s of the page's clock")


def leave_idle_until(page: Page, shown: Locator, **steps: int) -> None:
    """Nobody touches the tablet until its idle timer shows `shown` (the warning, the lock screen)."""
    fast_forward_until(page, shown.is_visible, f"{shown} shown", **steps)
    expect(shown).to_be_visible()


class LockScreen:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.heading = page.get_by_role("heading", name="Tablet locked", level=1)

    def unlock(self, name: str, pin: str) -> None:
        self.page.get_by_role("link", name=name).click()
        self.page.get_by_label("PIN", exact=True).fill(pin)
        self.page.get_by_role("button", name="Unlock").click()


class VisitLog:
    """The log on one visit's page: each part saves itself as it is entered."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.region = page.get_by_role("region", name="Visit log")
        # Where the visit stands (its attendance badge): focus lands here after check-in and check-out.
        self.attendance = self.region.locator("[data-swap-focus]")
        self.real_times = page.get_by_role("region", name="When the visit really happened")

    def error_summary(self, title: str) -> Locator:
        return self.region.get_by_role("alert").filter(has=self.page.get_by_role("heading", name=title))

    def status(self, form_id: str) -> Locator:
        return self.page.locator(f"#log-{form_id}-status")

    def saved(self, form_id: str) -> None:
        expect(self.status(form_id)).to_contain_text("Saved", timeout=SAVE_TIMEOUT_MS)

    def check_in(self) -> None:
        self.region.get_by_role("button", name="Check in").click()
        expect(self.region.get_by_text("Checked in", exact=True)).to_be_visible()

    def tick(self, *tasks: str) -> None:
        for task in tasks:
            self.region.get_by_role("group", name="Tasks done").get_by_label(task, exact=True).check()
        self.saved("tasks")

    def at_home(self) -> None:
        self.region.get_by_label("The client’s home").check()
        self.saved("location")

    def note(self, text: str) -> None:
        self.region.get_by_label("Note for the care team").fill(text)
        self.saved("note")

    def family_summary(self, text: str) -> None:
        self.region.get_by_label("Summary for the family").fill(text)
        self.region.get_by_label("Share this summary with the family").check()
        self.saved("summary")
        expect(self.page.get_by_label("Share this summary with the family")).to_be_checked()

    def concern(self, severity: str, text: str) -> None:
        self.region.get_by_label("Flag a concern for the coordinator").check()
        self.region.get_by_label("How serious is it?").select_option(label=severity)
        self.region.get_by_label("What is the concern?").fill(text)
        self.saved("concern")

    def check_out(self) -> None:
        self.region.get_by_role("button", name="Check out").click()
        expect(self.region.get_by_text("Checked out", exact=True)).to_be_visible()


class ReviewsDuePage:
    """/reviews: the care reviews due and overdue."""

    URL = "/reviews"

    def __init__(self, page: Page) -> None:
        self.page = page
        self.heading = page.get_by_role("heading", name="Care reviews due", level=1)
        self.table = page.get_by_role("table", name=re.compile(r"^Reviews due"))

    def open(self) -> ReviewsDuePage:
        self.page.goto(self.URL)
        return self

    def row_with(self, text: str) -> Locator:
        return self.table.get_by_role("row").filter(has_text=text)


class ReviewPage:
    """One care review: the five sections and the coordinator's judgement."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.delivery = page.get_by_role("region", name="1. Delivered and planned")
        self.outcomes = page.get_by_role("region", name="2. Outcomes")
        self.family_view = page.get_by_role("region", name="3. The client's and family's view")
        self.judgement = page.get_by_role("region", name="5. Your judgement")
        self.change_needed = page.get_by_label("Appropriate, with changes")
        self.reasons = page.get_by_label("Reasons")
        self.days_times = page.get_by_label("Days and times to change")
        self.treatment_add = page.get_by_label("Type of treatment to add")
        self.action = page.get_by_label("Action 1", exact=True)
        self.action_owner = page.get_by_label("Who, for action 1")
        self.action_due = page.get_by_label("Due, for action 1")
        self.next_review = page.get_by_label("Next review")
        self.change_plan = page.get_by_label("Change the plan")
        self.finish = page.get_by_role("button", name="Finish and sign the review")


class MyFiguresPage:
    URL = "/reports/staff/me"

    def __init__(self, page: Page) -> None:
        self.page = page
        self.heading = page.get_by_role("heading", name="My figures", level=1)

    def figures(self, name: str) -> Locator:
        return self.page.get_by_role("table", name=f"Figures of {name}")


class DashboardPage:
    URL = "/dashboard"

    def __init__(self, page: Page) -> None:
        self.page = page
        self.heading = page.get_by_role("heading", name="Dashboard", level=1)
        self.weeks = page.get_by_label("Weeks shown")
        self.show = page.get_by_role("button", name="Show")
        # Where focus lands after the filters are applied.
        self.status = page.get_by_role("status").filter(has_text="The charts are up to date.")
        self.charts = page.locator("figure.chart")
        self.svgs = page.get_by_role("img", name=re.compile("the table below lists the same figures"))

    def open(self) -> DashboardPage:
        self.page.goto(self.URL)
        return self

    def table(self, title: str) -> Locator:
        return self.page.get_by_role("table", name=title)


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

    def find(self, text: str) -> Locator:
        """The directory's rows whose agency is named `text`, after searching for it."""
        self.page.goto(f"/agencies?q={quote(text)}")
        return self.results.get_by_role("link", name=text, exact=True)


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


class UsersPage:
    """The admin's list of the facility's people, with what can be done for each."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def open(self) -> UsersPage:
        self.page.goto("/admin/users")
        return self

    def row(self, name: str) -> Locator:
        return self.page.get_by_role("row").filter(has=self.page.get_by_role("cell", name=name, exact=True))

    def clear_sign_in_block(self, name: str) -> None:
        self.page.get_by_role("button", name=f"Clear the sign-in block of {name}").click()
        expect(self.page.get_by_role("status").filter(has_text="Sign-in is open again")).to_be_visible()
