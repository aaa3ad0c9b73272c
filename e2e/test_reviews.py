"""Care reviews, figures and the dashboard in a real browser, checked with axe."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from e2e.pages import (DashboardPage, GoalNotesPage, MyFiguresPage, ReviewPage, ReviewsDuePage,
                       assert_no_axe_violations, sign_in)

COORDINATOR = ("coordinator@kinward.example", "kinward-demo-coordinator")
WORKER = ("worker@kinward.example", "kinward-demo-worker")
TABLET = {"width": 768, "height": 1024}
DESKTOP = {"width": 1366, "height": 768}



def test_a_coordinator_judges_an_overdue_review_with_the_familys_input_and_the_draft_plan_follows(
        browser: Browser, base_url: str) -> None:
    """A coordinator opens the overdue review, reads the family's view, judges, signs; the new draft plan says so."""
    context = browser.new_context(base_url=base_url, viewport=DESKTOP)
    try:
        page = context.new_page()
        sign_in(page, *COORDINATOR)
        due = ReviewsDuePage(page).open()
        expect(due.heading).to_be_visible()
        row = due.row_with("answer waiting")
        expect(row).to_contain_text("overdue")
        assert_no_axe_violations(page)
        row.get_by_role("link").click()
        expect(page.get_by_role("heading", name="Care reviews", level=1)).to_be_visible()
        reviews_url = page.url

        # Before judging, the coordinator writes down what she saw of a goal on the plan.
        page.locator(".breadcrumb").get_by_role("link").click()
        page.get_by_role("link", name="Care plan").click()
        page.get_by_role("link", name="2 notes on goal 1").click()
        notes = GoalNotesPage(page)
        expect(notes.heading).to_be_visible()
        expect(notes.written).to_contain_text("Reached the gate without stopping today.")
        notes.note.fill("Walked to the gate and back twice with her daughter at the weekend.")
        notes.add.click()
        expect(page.get_by_role("status").filter(has_text="The note was added")).to_be_visible()
        expect(notes.written.get_by_role("listitem").first).to_contain_text("Walked to the gate and back twice")
        expect(notes.written.get_by_role("listitem").first).to_contain_text("Anna Coordinator")
        assert_no_axe_violations(page)
        page.locator(".breadcrumb").get_by_role("link").click()
        expect(page.get_by_role("link", name="3 notes on goal 1")).to_be_visible()
        page.goto(reviews_url)
        page.get_by_role("button", name="Start a review").click()

        review = ReviewPage(page)
        expect(review.delivery.get_by_role("table", name="Visits per service")).to_be_visible()
        # Section 2: each goal's status with the notes written in the period (from the day after the last
        # review to yesterday): the note of 12 days ago, not the one before the last review, nor today's.
        goal = review.outcomes.get_by_role("listitem").filter(has_text="Walks to the garden gate")
        expect(goal).to_contain_text("In progress")
        period_notes = goal.get_by_role("list", name="Notes on this goal in the period")
        expect(period_notes).to_contain_text("Anna Coordinator")
        expect(period_notes).to_contain_text("Reached the gate without stopping today.")
        expect(period_notes).not_to_contain_text("Managed half the way")
        expect(period_notes).not_to_contain_text("Walked to the gate and back twice")
        expect(review.family_view).to_contain_text("twice she forgot her evening tablets")
        assert_no_axe_violations(page)

        review.change_needed.check()
        review.reasons.fill("Evenings alone; two evening doses missed, as the family says.")
        review.days_times.fill("Add an evening call at 19:00 every day.")
        review.treatment_add.fill("Evening medication prompt")
        review.action.fill("Ask the pharmacy for a dosette with an alarm")
        review.action_owner.fill("Anna Coordinator")
        review.action_due.fill("2030-01-15")
        review.next_review.fill("2030-03-01")
        review.change_plan.check()
        review.finish.click()

        expect(page.get_by_role("heading", name="Care plan", level=1)).to_be_visible()
        expect(page.get_by_role("status").filter(has_text="signed and locked")).to_be_visible()
        summary = page.get_by_label("Summary")
        expect(summary).to_have_value(re.compile(r"Review \d+ \(.*\): change needed\."))
        expect(summary).to_have_value(re.compile("Add an evening call at 19:00 every day."))
        expect(summary).to_have_value(re.compile("Add: Evening medication prompt"))
        expect(page.get_by_label("Review due")).to_have_value("2030-03-01")

        page.go_back()
        page.reload()
        expect(page.get_by_text("Signed and locked")).to_be_visible()
        expect(review.finish).to_have_count(0)
        expect(page.get_by_label("Add a correction or addition")).to_be_visible()
        assert_no_axe_violations(page)
    finally:
        context.close()


def test_a_worker_sees_their_own_figures_and_not_another_workers(browser: Browser, base_url: str) -> None:
    """A care worker opens My figures: their own facts, each linking to its visits; other workers' are not found."""
    context = browser.new_context(base_url=base_url, viewport=TABLET)
    try:
        page = context.new_page()
        sign_in(page, *WORKER)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="My figures").click()
        mine = MyFiguresPage(page)
        expect(mine.heading).to_be_visible()
        expect(mine.figures("Wendy Worker")).to_be_visible()
        expect(page.get_by_text("Walter Worker")).to_have_count(0)
        expect(page.get_by_role("heading", name="Supervision note")).to_have_count(0)
        assert_no_axe_violations(page)
        mine.figures("Wendy Worker").get_by_role("row", name=re.compile("^Delivered")).get_by_role("link").click()
        expect(page.get_by_role("heading", name="Delivered: the visits", level=1)).to_be_visible()
        expect(page.get_by_role("link", name=re.compile(r"\d\d:\d\d ·")).first).to_be_visible()
        for url in ("/reports/staff", "/dashboard"):
            assert page.goto(url).status == 404, url
    finally:
        context.close()


def test_the_dashboard_draws_its_charts_with_tables_at_tablet_and_desktop_size(browser: Browser,
                                                                                base_url: str) -> None:
    """The dashboard shows six charts, each an SVG with labelled bars and the same figures in a table."""
    for viewport in (TABLET, DESKTOP):
        context = browser.new_context(base_url=base_url, viewport=viewport)
        try:
            page = context.new_page()
            sign_in(page, *COORDINATOR)
            dashboard = DashboardPage(page).open()
            expect(dashboard.heading).to_be_visible()
            expect(dashboard.charts).to_have_count(6)
            expect(dashboard.svgs).to_have_count(6)
            expect(page.locator("svg.chart-svg rect")).not_to_have_count(0)
            weekly = dashboard.table("Visits delivered and planned, per week")
            expect(weekly.locator("tbody tr")).to_have_count(12)
            assert_no_axe_violations(page)
            dashboard.weeks.select_option("4")
            dashboard.show.click()
            expect(weekly.locator("tbody tr")).to_have_count(4)
            expect(dashboard.status).to_be_focused()
            expect(page.get_by_role("link", name=re.compile(r"Download the data of .Visits delivered"))).to_have_attribute(
                "href", re.compile(r"/dashboard/csv/delivered\?weeks=4"))
        finally:
            context.close()
