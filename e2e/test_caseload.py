"""The caseload on a coordinator's laptop (1366x768) and a phone (320 px): a screen of clients at a glance,
filters and sorts with and without JavaScript, no automatically detectable barrier."""

from __future__ import annotations

import re
from datetime import datetime

from playwright.sync_api import Browser, Page, expect

from e2e.pages import CaseloadPage, assert_no_axe_violations, sign_in

COORDINATOR = ("coordinator@kinward.example", "kinward-demo-coordinator")
LAPTOP = {"width": 1366, "height": 768}


def rows_above_the_fold(caseload: CaseloadPage, height: int) -> int:
    boxes = [row.bounding_box() for row in caseload.rows.all()]
    return sum(1 for box in boxes if box and box["y"] >= 0 and box["y"] + box["height"] <= height)


def test_a_coordinator_sees_at_least_twelve_clients_on_one_laptop_screen(page: Page) -> None:
    """At 1366x768 twelve client rows or more show above the fold, one line each: no name or date wraps."""
    page.set_viewport_size(LAPTOP)
    sign_in(page, *COORDINATOR)
    caseload = CaseloadPage(page).open()
    expect(caseload.heading).to_be_visible()
    # The panels loaded after the page stand below the table: let them arrive before measuring.
    expect(page.get_by_role("heading", name="Visits needing attention")).to_be_visible()
    assert page.evaluate("window.scrollY") == 0
    assert caseload.rows.count() >= 12
    assert rows_above_the_fold(caseload, LAPTOP["height"]) >= 12
    line = page.evaluate("parseFloat(getComputedStyle(document.querySelector('table.caseload td')).lineHeight)")
    for cell in caseload.table.locator("tbody th a, tbody td time, tbody td:nth-child(4)").all():
        box = cell.bounding_box()
        assert box is not None and box["height"] < 1.6 * line, cell.inner_text()
    headers = [h.strip() for h in caseload.table.locator("thead th").all_inner_texts()]
    assert "Coordinator" not in headers  # every client here is one's own
    assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]
    assert_no_axe_violations(page)


def test_filters_and_sorts_narrow_the_caseload_and_keep_their_address(page: Page) -> None:
    """Ticking "Referral overdue" shows only those clients at once, and the address can be shared or reloaded."""
    page.set_viewport_size(LAPTOP)
    sign_in(page, *COORDINATOR)
    caseload = CaseloadPage(page).open()
    everyone = caseload.rows.count()
    overdue = caseload.tally("Referral overdue")
    assert 0 < overdue < everyone
    caseload.only_with("Referral overdue").check()
    expect(caseload.rows).to_have_count(overdue)
    expect(page).to_have_url(re.compile(r"referrals=1"))
    counts = [re.match(r"\d+", n) for n in caseload.column("Referrals overdue")]
    assert all(c and int(c.group()) > 0 for c in counts)
    caseload.only_with("Referral overdue").uncheck()
    expect(caseload.rows).to_have_count(everyone)
    caseload.sort.select_option(label="Care review due")
    expect(page).to_have_url(re.compile(r"sort=review"))
    dates = [d.split(" overdue")[0] for d in caseload.column("Review due") if d]
    parsed = [datetime.strptime(d, "%d %b %Y") for d in dates]
    assert parsed == sorted(parsed)
    page.reload()
    expect(caseload.sort).to_have_value("review")
    assert_no_axe_violations(page)


def test_filters_work_without_javascript(browser: Browser, base_url: str) -> None:
    """Without scripts the Show button applies the filters."""
    context = browser.new_context(base_url=base_url, viewport=LAPTOP, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, *COORDINATOR)
        caseload = CaseloadPage(page).open()
        flagged = caseload.tally("Flagged")
        caseload.only_with("Flagged").check()
        caseload.show.click()
        expect(page).to_have_url(re.compile(r"flagged=1"))
        expect(caseload.rows).to_have_count(flagged)
    finally:
        context.close()


def test_a_bad_filter_in_the_address_is_explained_next_to_its_field(page: Page) -> None:
    """A sort typed into the address that the page does not offer is refused with a message; the rest applies."""
    page.set_viewport_size(LAPTOP)
    sign_in(page, *COORDINATOR)
    response = page.goto("/caseload?sort=shoe-size&flagged=1")
    assert response is not None and response.status == 400
    caseload = CaseloadPage(page)
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Choose one of the orders offered.")
    expect(summary).to_be_focused()
    expect(caseload.sort).to_have_accessible_description("Choose one of the orders offered.")
    expect(caseload.rows).to_have_count(caseload.tally("Flagged"))
    assert_no_axe_violations(page)


def test_the_caseload_reflows_on_a_320_px_screen(page: Page) -> None:
    """On a 320 px wide phone nothing scrolls sideways: each client becomes a card that names its fields."""
    page.set_viewport_size({"width": 320, "height": 640})
    sign_in(page, *COORDINATOR)
    caseload = CaseloadPage(page).open()
    expect(caseload.heading).to_be_visible()
    expect(page.get_by_role("heading", name="Visits needing attention")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    first = caseload.rows.first.bounding_box()
    assert first is not None and first["width"] <= 320
    expect(caseload.rows.first.get_by_text("Next visit:")).to_have_count(0)  # labels come from CSS, not text
    assert_no_axe_violations(page)
