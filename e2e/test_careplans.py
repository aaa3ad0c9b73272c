"""Care plans in a real browser: a coordinator plans two services, activates them, and the visits appear."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, Page, expect

from e2e.pages import (CaseloadPage, MyDayPage, PlanPage, ServiceForm, SignedInPage, WeekGrid, assert_no_axe_violations,
                       sign_in)

COORDINATOR = ("coordinator@kinward.example", "kinward-demo-coordinator")
WORKER = ("worker@kinward.example", "kinward-demo-worker")
CLIENT = "Agnes Oduya"
WORKER_NAME = "Wendy Worker"
FACILITY_TZ = ZoneInfo("Europe/London")  # the demo facility's timezone
# The demo gives Wendy Worker visits until about 18:30; these evening times are free every day.
SERVICES = (("Personal care", "19:00", "19:30"), ("Social contact", "20:00", "20:45"))
TABLET = {"width": 768, "height": 1024}


def first_visit_day() -> date:
    """Visits are planned from now on: today's 19:00 visit exists unless the evening is already under way."""
    now = datetime.now(FACILITY_TZ)
    return now.date() if now.hour < 18 else now.date() + timedelta(days=1)


def open_plan(page: Page, client: str) -> PlanPage:
    CaseloadPage(page).open().find("oduya").client_link(client).click()
    expect(page.get_by_role("heading", name=client, level=1)).to_be_visible()
    page.get_by_role("navigation", name="Client record").get_by_role("link", name="Care plan").click()
    plan = PlanPage(page)
    expect(plan.heading).to_be_visible()
    return plan


def test_a_coordinator_plans_two_services_and_the_worker_sees_the_visits_in_my_day(browser: Browser,
                                                                                   base_url: str) -> None:
    """A coordinator plans two evening services, activates them, sees the visits; the worker sees them in My day."""
    day = first_visit_day()
    coordinator_context = browser.new_context(base_url=base_url, viewport=TABLET)
    worker_context = browser.new_context(base_url=base_url, viewport=TABLET)
    try:
        page = coordinator_context.new_page()
        sign_in(page, *COORDINATOR)
        plan = open_plan(page, CLIENT)
        assert_no_axe_violations(page)

        plan.start_new_version.click()
        expect(plan.draft_services).to_be_visible()
        while plan.remove_buttons().count():
            plan.remove_buttons().first.click()
            expect(page.get_by_role("status").filter(has_text="The service was removed")).to_be_visible()
        for kind, start, end in SERVICES:
            plan.add_service.click()
            form = ServiceForm(page)
            expect(form.heading).to_be_visible()
            minutes = (datetime.strptime(end, "%H:%M") - datetime.strptime(start, "%H:%M")).seconds // 60
            form.fill(kind=kind, worker=WORKER_NAME, start=start, minutes=minutes,
                      instructions=f"{kind} in the evening; Agnes likes the radio on.",
                      tasks="Curtains closed\nHot drink")
            if kind == SERVICES[0][0]:
                assert_no_axe_violations(page)
            form.submit.click()
            expect(plan.draft_services.get_by_role("row").filter(has_text=f"{start}–{end}")).to_be_visible()

        plan.review_and_activate.click()
        expect(page.get_by_role("heading", name=re.compile(r"^Activate version \d+"), level=1)).to_be_visible()
        for kind, start, _end in SERVICES:
            expect(page.get_by_text(f"Added: {kind}, {start}")).to_be_visible()
        expect(page.get_by_text(re.compile(r"^Removed:")).first).to_be_visible()
        assert_no_axe_violations(page)
        page.get_by_role("button", name="Activate this plan").click()
        expect(page.get_by_role("status").filter(has_text="The plan is active")).to_be_visible()

        plan.visit_schedule.click()
        grid = WeekGrid(page)
        expect(grid.heading).to_be_visible()
        if day.isocalendar()[:2] != datetime.now(FACILITY_TZ).date().isocalendar()[:2]:
            grid.next_week.click()
            expect(page.get_by_role("heading", name=f"Week of {day - timedelta(days=day.weekday()):%d %b %Y}")
                   ).to_be_visible()
        for kind, start, end in SERVICES:
            expect(grid.day(day).get_by_role("link", name=re.compile(rf"{start}–{end}\s+{kind}\s+{WORKER_NAME}"))
                   ).to_be_visible()
        assert_no_axe_violations(page)

        worker_page = worker_context.new_page()
        sign_in(worker_page, *WORKER)
        my_day = MyDayPage(worker_page)
        expect(my_day.heading).to_be_visible()
        if day != datetime.now(FACILITY_TZ).date():
            my_day.next_day.click()
        for kind, start, _end in SERVICES:
            visit = my_day.visit(start, CLIENT)
            expect(visit).to_be_visible()
            expect(visit).to_contain_text(kind)
            expect(visit).to_contain_text("Agnes likes the radio on")
        assert_no_axe_violations(worker_page)
    finally:
        coordinator_context.close()
        worker_context.close()


def test_the_team_schedule_a_visit_and_the_calendar_link_work_on_a_tablet(page: Page) -> None:
    """A coordinator sees who visits whom this week and opens a visit; a worker makes a calendar link."""
    sign_in(page, *COORDINATOR)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team schedule").click()
    expect(page.get_by_role("heading", name="Team schedule", level=1)).to_be_visible()
    week = page.get_by_role("table", name="Visits by worker and day")
    expect(week.get_by_role("rowheader", name=WORKER_NAME)).to_be_visible()
    assert_no_axe_violations(page)
    # Next week's visits have not begun: a coordinator can still cancel or reassign them.
    page.get_by_role("link", name="Next week").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Week of"))).not_to_have_text(
        f"Week of {datetime.now(FACILITY_TZ).date() - timedelta(days=datetime.now(FACILITY_TZ).weekday()):%d %b %Y}")
    week.get_by_role("row").filter(has=page.get_by_role("rowheader", name=WORKER_NAME)).get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Give this visit to another worker")).to_be_visible()
    expect(page.get_by_label("Reason")).to_be_visible()
    assert_no_axe_violations(page)
    SignedInPage(page).sign_out()

    sign_in(page, *WORKER)
    page.get_by_role("link", name="Calendar link").click()
    page.get_by_role("button", name="Make a calendar link").click()
    link = page.get_by_label(re.compile(r"^Your calendar link"))
    expect(link).to_have_value(re.compile(r"/calendar/[^/]+\.ics$"))
    assert_no_axe_violations(page)
    feed = page.request.get(link.input_value())
    assert feed.status == 200 and feed.headers["content-type"].startswith("text/calendar")
    assert "BEGIN:VEVENT" in feed.text() and "Ellison" not in feed.text()
