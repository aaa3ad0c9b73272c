"""The team week on a coordinator's laptop: one line a visit, so two care workers' weeks fit in a screen or two,
each with the week's visits and hours."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.pages import assert_no_axe_violations, sign_in

ADMIN = ("admin@kinward.example", "kinward-demo-admin")
LAPTOP = {"width": 1366, "height": 768}
# Measured on the demo before the compact grid: 4,737 px for the coordinator's one care worker and four
# agencies, each visit taking four lines. One line a visit brings a worker's busiest week under 1,000 px.
TWO_WORKERS_MOST_PX = 1600


def test_two_care_workers_weeks_fit_in_two_screens_with_their_totals(page: Page) -> None:
    """The admin sees both demo care workers: together their rows take under two screens, each with its totals."""
    page.set_viewport_size(LAPTOP)
    sign_in(page, *ADMIN)
    page.goto("/schedule")
    table = page.get_by_role("table", name="Visits by worker and day")
    expect(table).to_be_visible()
    workers = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=re.compile(r"Worker")))
    expect(workers).to_have_count(2)
    heights = [row.bounding_box()["height"] for row in workers.all()]
    assert sum(heights) < TWO_WORKERS_MOST_PX, heights
    for row in workers.all():
        expect(row.get_by_role("rowheader")).to_contain_text(re.compile(r"\d+ visits, \d+ h \d\d min"))
    assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]
    assert_no_axe_violations(page)
