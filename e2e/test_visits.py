"""Visit logging on a shared tablet, in a real browser at tablet size: from PIN unlock to the family's summary."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from email.message import Message
from uuid import uuid4

import pytest
from playwright.sync_api import Browser, Page, Response, Route, expect

from e2e.pages import (SAVE_TIMEOUT_MS, CaseloadPage, DevicesPage, FamilyHomePage, LockScreen, LoginPage, MyDayPage,
                       PlanPage, ServiceForm, SignedInPage, VisitLog, assert_no_axe_violations, held_until_asked_for,
                       leave_idle_until, sign_in, wait_until)
from e2e.test_careplans import CLIENT, FACILITY_TZ
from tests.mail.smtp import Inbox

ADMIN = ("admin@kinward.example", "kinward-demo-admin")
WORKER_A = ("worker@kinward.example", "kinward-demo-worker", "Wendy Worker", "482915")
WORKER_B = ("worker2@kinward.example", "kinward-demo-worker2", "Walter Worker", "739104")
COORDINATOR = ("coordinator@kinward.example", "kinward-demo-coordinator")
FAMILY = ("family@kinward.example", "kinward-demo-family")
TABLET = {"width": 768, "height": 1024}
# The facility's shortest idle lock is one minute; the warning counts down its last half.
IDLE_LOCK_MINUTES = 1


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


SLOT_TRIES = 36  # five-minute steps: three hours, past a fully booked morning


def plan_a_visit_soon(page: Page, client_name: str, worker_name: str, minutes_from_now: int) -> datetime:
    """As the coordinator: a new plan version with one more short service, starting soon today; returns its start.

    Tests plan their own visits rather than rely on the demo's leftovers, which other tests log.
    """
    today = datetime.now(FACILITY_TZ).date()
    start = (datetime.now(FACILITY_TZ) + timedelta(minutes=minutes_from_now)).replace(second=0, microsecond=0)
    start -= timedelta(minutes=start.minute % 5)
    if start.date() != today:
        pytest.skip("too close to midnight to plan a visit for later today")
    CaseloadPage(page).open().find(client_name.split(" ")[-1].lower()).client_link(client_name).click()
    page.get_by_role("navigation", name="Client record").get_by_role("link", name="Care plan").click()
    plan = PlanPage(page)
    expect(plan.heading).to_be_visible()
    if plan.start_new_version.count():
        plan.start_new_version.click()
    plan.add_service.click()
    form = ServiceForm(page)
    form.fill(kind="Social contact", worker=worker_name, start=f"{start:%H:%M}", minutes=10,
              instructions="A cup of tea and the crossword.", tasks="Tea")
    form.submit.click()
    # Another test may have planned this worker at the same five minutes (for this client or another): the form
    # refuses a service that clashes, so take the next free slot, as a coordinator would.
    for _ in range(SLOT_TRIES):
        expect(plan.review_and_activate.or_(form.clash)).to_be_visible()
        if not form.clash.count():
            break
        start += timedelta(minutes=5)
        if start.date() != today:  # the free slots ran past midnight: My day would not show it today
            pytest.skip("too close to midnight to plan a visit for later today")
        form.start_time.fill(f"{start:%H:%M}")
        form.submit.click()
    plan.review_and_activate.click()
    page.get_by_role("button", name="Activate this plan").click()
    expect(page.get_by_role("status").filter(has_text="The plan is active")).to_be_visible()
    return start


def open_the_visit(page: Page, start: datetime, client_name: str) -> VisitLog:
    """From the worker's My day, the visit at `start` to `client_name`."""
    page.goto("/my-day")
    page.get_by_role("link", name=re.compile(rf"Open the visit {start:%H:%M} {re.escape(client_name)}")).first.click()
    log = VisitLog(page)
    expect(log.region).to_be_visible()
    return log


def test_a_worker_logs_a_visit_on_a_shared_tablet_and_the_team_and_family_see_it(browser: Browser,
                                                                                 base_url: str) -> None:
    """Worker A unlocks with a PIN and logs a visit; the idle tablet locks; worker B unlocks; coordinator and family see it."""
    note = f"Walked to the garden gate with the frame ({uuid4().hex[:6]})."
    summary = f"A bright morning: breakfast by the window and a walk in the garden ({uuid4().hex[:6]})."
    concern = f"Bruise on the right shin, says she bumped the bed ({uuid4().hex[:6]})."
    tablet = browser.new_context(base_url=base_url, viewport=TABLET)
    tablet.clock.install()  # time runs as usual until the tablet is left idle
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
        leave_idle_until(page, warning)
        leave_idle_until(page, lock.heading)
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


def test_a_note_still_being_saved_when_the_worker_signs_out_is_kept_whole(page: Page) -> None:
    """The note's first save is on its way and more has been typed (its save waits in the queue) when the worker
    signs out: the waiting save still goes, so the note is kept as the worker left it."""
    first, more = f"Tea with two sugars ({uuid4().hex[:6]}).", " Then a walk to the gate."
    sign_in(page, WORKER_B[0], WORKER_B[1])
    page.get_by_role("link", name=re.compile(r"Open the visit")).first.click()
    log = VisitLog(page)
    if log.region.get_by_role("button", name="Check in").count():
        log.check_in()
    visit = page.url
    box = log.region.get_by_label("Note for the care team")
    saves: list[Route] = []
    answered: list[Response] = []
    page.on("response", lambda r: answered.append(r) if r.url.endswith("/log/note") else None)
    # The first save is held; the next ones go through.
    page.route("**/log/note", lambda route: route.continue_() if saves else saves.append(route))
    box.fill(first)
    first_save = held_until_asked_for(page, saves)
    box.fill(first + more)
    page.wait_for_timeout(1500)  # past the typing's 1 s delay: the second save waits behind the first
    leaving: list[Route] = []
    page.route("**/logout", lambda route: leaving.append(route))
    SignedInPage(page).sign_out_button.evaluate("button => button.click()")  # a click that does not wait
    sign_out = held_until_asked_for(page, leaving)
    first_save.continue_()
    wait_until(page, lambda: len(answered) == 2, "the two saves' answers")
    assert [r.status for r in answered] == [200, 200]
    assert more.strip() in (answered[1].request.post_data or "").replace("+", " ")
    sign_out.continue_()
    page.wait_for_url("**/login?signed_out=1")
    sign_in(page, WORKER_B[0], WORKER_B[1])
    page.goto(visit)
    expect(VisitLog(page).region.get_by_label("Note for the care team")).to_have_value(first + more)


def test_a_refused_check_out_is_summarised_where_the_worker_pressed_and_focus_moves_to_it(browser: Browser,
                                                                                       base_url: str) -> None:
    """Checking out without saying where the visit was: the summary appears at the button, takes focus, links to the field."""
    office = browser.new_context(base_url=base_url, viewport=TABLET)
    tablet = browser.new_context(base_url=base_url, viewport=TABLET)
    try:
        coordinator = office.new_page()
        sign_in(coordinator, *COORDINATOR)
        start = plan_a_visit_soon(coordinator, CLIENT, WORKER_A[2], minutes_from_now=45)
        page = tablet.new_page()
        sign_in(page, WORKER_A[0], WORKER_A[1])
        log = open_the_visit(page, start, CLIENT)
        log.check_in()
        expect(log.attendance).to_be_focused()  # the visit as it now stands, not the page body
        log.region.get_by_role("button", name="Check out").click()
        summary = log.error_summary("Not checked out yet")
        expect(summary).to_be_focused()
        expect(summary).to_be_in_viewport()
        expect(log.region.get_by_role("button", name="Check out")).to_be_in_viewport()
        assert_no_axe_violations(page)
        summary.get_by_role("link", name="Say where the visit took place.").click()
        expect(log.region.get_by_label("The client’s home")).to_be_focused()
        log.at_home()
        log.check_out()
        expect(log.attendance).to_be_focused()
        expect(log.attendance).to_contain_text("Completed")
    finally:
        office.close()
        tablet.close()


def test_my_day_opens_at_the_current_visit_and_reaches_it_in_one_tab(browser: Browser, base_url: str) -> None:
    """The worker's day opens at the first visit that is not over (the ones over are folded above it).

    The demo's own visits for this worker fill parts of the day, so the one planned here is that first visit
    only at some hours; the day's list must open at whichever it is and show the planned one as a card.
    """
    office = browser.new_context(base_url=base_url, viewport=TABLET)
    tablet = browser.new_context(base_url=base_url, viewport=TABLET)
    try:
        page = office.new_page()
        sign_in(page, *COORDINATOR)
        start = plan_a_visit_soon(page, CLIENT, WORKER_A[2], minutes_from_now=25)

        worker = tablet.new_page()
        sign_in(worker, WORKER_A[0], WORKER_A[1])
        my_day = MyDayPage(worker)
        expect(my_day.heading).to_be_visible()
        expect(my_day.current).to_be_focused()
        expect(my_day.cards.first).to_contain_text("now / next")
        expect(my_day.current).to_have_count(1)
        expect(my_day.visit(f"{start:%H:%M}", CLIENT)).to_be_visible()
        expect(my_day.current).to_be_in_viewport()
        worker.keyboard.press("Tab")
        expect(my_day.current.get_by_role("link", name=re.compile(r"^Open the visit"))).to_be_focused()
        assert_no_axe_violations(worker)
    finally:
        office.close()
        tablet.close()


def test_a_late_check_in_records_the_real_times_and_the_family_sees_them(browser: Browser, base_url: str) -> None:
    """The worker taps Check in late, records when the visit really began and ended; the family reads that time."""
    now = datetime.now(FACILITY_TZ)
    began, ended = now - timedelta(minutes=50), now - timedelta(minutes=5)
    if began.date() != now.date():
        pytest.skip("too close to midnight for a visit that began earlier today")
    summary = f"Tea and the crossword by the window ({uuid4().hex[:6]})."
    office = browser.new_context(base_url=base_url, viewport={"width": 1024, "height": 900})
    tablet = browser.new_context(base_url=base_url, viewport=TABLET)
    try:
        family = office.new_page()
        sign_in(family, *FAMILY)
        client_name = FamilyHomePage(family).client_name()
        family.context.clear_cookies()
        coordinator = office.new_page()
        sign_in(coordinator, *COORDINATOR)
        start = plan_a_visit_soon(coordinator, client_name, WORKER_A[2], minutes_from_now=65)
        office.clear_cookies()

        page = tablet.new_page()
        sign_in(page, WORKER_A[0], WORKER_A[1])
        log = open_the_visit(page, start, client_name)
        log.check_in()
        log.at_home()
        log.family_summary(summary)
        log.check_out()
        times = log.real_times
        times.get_by_label("Really began").fill(f"{began:%Y-%m-%dT%H:%M}")
        times.get_by_label("Really ended").fill(f"{ended:%Y-%m-%dT%H:%M}")
        times.get_by_label("Why the times differ").fill("No signal in the flat; tapped at the bus stop.")
        times.get_by_role("button", name="Record the real times").click()
        expect(page.get_by_role("status").filter(has_text="The real times are recorded")).to_be_visible()
        expect(log.region).to_contain_text("times given later")
        assert_no_axe_violations(page)

        family = office.new_page()
        sign_in(family, *FAMILY)
        shared = family.get_by_role("region", name="Recent visit summaries").first.get_by_role("listitem").filter(
            has_text=summary)
        expect(shared).to_contain_text(f"{began:%H:%M}–{ended:%H:%M}")
        assert_no_axe_violations(family)
    finally:
        office.close()
        tablet.close()


def wait_for_mail(page: Page, inbox: Inbox, address: str, subject: str) -> Message:
    """The mail worker sends every few seconds: wait (not a timed assertion) until the email has arrived."""
    for _attempt in range(120):
        found = [m for m in inbox.to(address) if subject in m["Subject"]]
        if found:
            return found[-1]
        page.wait_for_timeout(250)
    raise AssertionError(f"no email to {address} about {subject!r}")


def test_a_high_concern_is_emailed_to_the_coordinator_who_acknowledges_it(browser: Browser, base_url: str,
                                                                          inbox: Inbox) -> None:
    """A worker flags a high concern; the coordinator gets an email at once, opens the concern and acknowledges it."""
    concern = f"Fell in the bathroom last night, bruised hip ({uuid4().hex[:6]})."
    office = browser.new_context(base_url=base_url, viewport={"width": 1366, "height": 768})
    tablet = browser.new_context(base_url=base_url, viewport=TABLET)
    try:
        client_name = CLIENT
        coordinator = office.new_page()
        sign_in(coordinator, *COORDINATOR)
        start = plan_a_visit_soon(coordinator, client_name, WORKER_A[2], minutes_from_now=85)

        page = tablet.new_page()
        sign_in(page, WORKER_A[0], WORKER_A[1])
        log = open_the_visit(page, start, client_name)
        log.check_in()
        log.concern("High: needs action today", concern)

        first_name = client_name.split(" ")[0]
        mail = wait_for_mail(page, inbox, COORDINATOR[0], f"A high concern about {first_name}")
        body = mail.get_payload(decode=True).decode()
        assert concern not in body  # care details stay in Kinward
        path = re.search(r"https?://[^/\s]+(/visits/\d+/concern)", body).group(1)

        coordinator.goto(path)
        expect(coordinator.get_by_role("heading", name=f"Concern about {client_name}", level=1)).to_be_visible()
        expect(coordinator.get_by_text(concern)).to_be_visible()
        expect(coordinator.get_by_label("Note for the care team")).to_have_count(0)  # not the editable log
        assert_no_axe_violations(coordinator)
        coordinator.get_by_role("button", name="Acknowledge: I have it in hand").click()
        expect(coordinator.get_by_role("status").filter(has_text="You have acknowledged the concern")).to_be_visible()
        expect(coordinator.get_by_role("main")).to_contain_text("Anna Coordinator")
        assert_no_axe_violations(coordinator)
    finally:
        office.close()
        tablet.close()
