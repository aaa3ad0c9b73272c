"""Records in a real browser: a coordinator downloads a client's records; an admin sets the retention period."""

from __future__ import annotations

import json
import zipfile

from playwright.sync_api import Page, expect

from e2e.pages import sign_in
from e2e.test_clients import ADMIN, COORDINATOR, assert_no_axe_violations, open_client_by_search


def test_a_coordinator_downloads_everything_held_about_a_client(page: Page, tmp_path) -> None:
    """From the client's record, a coordinator downloads the subject-access ZIP."""
    sign_in(page, *COORDINATOR)
    open_client_by_search(page, "whitc", "Harold Whitcombe")
    page.get_by_role("link", name="Export records").click()
    expect(page.get_by_role("heading", name="Export the records of Harold Whitcombe", level=1)).to_be_visible()
    assert_no_axe_violations(page)

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download the records (ZIP)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".zip")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        assert json.loads(archive.read("client.json"))["last_name"] == "Whitcombe"
        assert "summary.html" in archive.namelist() and "messages/team_notes.json" in archive.namelist()


def test_an_admin_sets_the_retention_period_and_a_mistake_is_explained(page: Page) -> None:
    """An admin opens Backups and retention, types a wrong value, is told why, and saves a good one."""
    sign_in(page, *ADMIN)
    page.get_by_role("link", name="Backups and retention").click()
    expect(page.get_by_role("heading", name="Backups and retention", level=1)).to_be_visible()
    assert_no_axe_violations(page)
    years = page.get_by_label("Keep records this many years after care ends")
    years.fill("0")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Enter a whole number from 1 to 100.")).to_be_visible()
    expect(years).to_have_value("0")
    years.fill("8")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Records are kept 8 years after care ends")).to_be_visible()
    assert_no_axe_violations(page)
