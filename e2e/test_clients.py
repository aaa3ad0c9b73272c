"""Clients in a real browser: find, open and edit a client; concurrent edits; no peeking at others' clients."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from e2e.pages import CaseloadPage, ClientPage, EditClientPage, assert_no_axe_violations, sign_in

COORDINATOR = ("coordinator@kinward.example", "kinward-demo-coordinator")
ADMIN = ("admin@kinward.example", "kinward-demo-admin")
FAMILY = ("family@kinward.example", "kinward-demo-family")


def open_client_by_search(page: Page, typed: str, name: str) -> ClientPage:
    caseload = CaseloadPage(page).open().find(typed)
    expect(caseload.client_links()).to_have_count(1)
    caseload.client_link(name).click()
    client = ClientPage(page)
    expect(client.heading(name)).to_be_visible()
    return client


def test_a_coordinator_finds_a_client_by_typing_part_of_the_name_and_edits_a_field(page: Page) -> None:
    """A coordinator types part of a name, opens the client and changes their mobility notes."""
    sign_in(page, *COORDINATOR)
    client = open_client_by_search(page, "whitc", "Harold Whitcombe")
    client.edit_link.click()
    edit = EditClientPage(page)
    expect(edit.heading).to_be_visible()
    edit.field("Mobility").fill("Walks with a frame since his hip operation.")
    edit.save.click()
    expect(client.heading("Harold Whitcombe")).to_be_visible()
    expect(page.get_by_text("Walks with a frame since his hip operation.")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Changes saved.")).to_be_visible()


def test_a_save_over_someone_elses_edit_shows_both_values_and_keeps_mine(browser: Browser,
                                                                         browser_context_args: dict) -> None:
    """Two people edit the same client; the later save shows the conflict and nothing typed is lost."""
    mine = browser.new_context(**browser_context_args).new_page()
    theirs = browser.new_context(**browser_context_args).new_page()
    try:
        sign_in(mine, *COORDINATOR)
        open_client_by_search(mine, "oduya", "Agnes Oduya").edit_link.click()
        sign_in(theirs, *ADMIN)
        theirs.goto(re.sub(r"^https?://[^/]+", "", mine.url))
        their_edit = EditClientPage(theirs)
        their_edit.field("Other risks").fill("Leaves the gas on: check the hob.")
        their_edit.save.click()
        expect(ClientPage(theirs).heading("Agnes Oduya")).to_be_visible()

        my_edit = EditClientPage(mine)
        my_edit.field("Other risks").fill("Wanders at night: door alarm fitted.")
        my_edit.save.click()
        expect(my_edit.conflict).to_be_visible()
        row = my_edit.conflict.get_by_role("row", name=re.compile("Other risks"))
        expect(row).to_contain_text("Wanders at night: door alarm fitted.")
        expect(row).to_contain_text("Leaves the gas on: check the hob.")
        expect(my_edit.field("Other risks")).to_have_value("Wanders at night: door alarm fitted.")
        assert_no_axe_violations(mine)
    finally:
        mine.context.close()
        theirs.context.close()


def test_two_tabs_a_stale_save_keeps_the_field_the_other_tab_changed(browser: Browser,
                                                                     browser_context_args: dict) -> None:
    """Tab A saves a new phone; tab B, opened before, changes the allergies: both changes stay, nothing is asked."""
    context = browser.new_context(**{**browser_context_args, "viewport": {"width": 768, "height": 1024}})
    try:
        tab_a = context.new_page()
        sign_in(tab_a, *COORDINATOR)
        open_client_by_search(tab_a, "oduya", "Agnes Oduya").edit_link.click()
        tab_b = context.new_page()
        tab_b.goto(re.sub(r"^https?://[^/]+", "", tab_a.url))
        edit_a, edit_b = EditClientPage(tab_a), EditClientPage(tab_b)
        expect(edit_b.heading).to_be_visible()
        edit_a.field("Phone").fill("07700 900461")
        edit_a.save.click()
        expect(ClientPage(tab_a).heading("Agnes Oduya")).to_be_visible()

        edit_b.field("Allergies").fill("Penicillin; sticking plasters")
        edit_b.save.click()
        expect(ClientPage(tab_b).heading("Agnes Oduya")).to_be_visible()
        expect(edit_b.conflict).to_have_count(0)
        expect(tab_b.get_by_text("07700 900461")).to_be_visible()  # A's phone, not put back
        expect(tab_b.get_by_text("Penicillin; sticking plasters")).to_be_visible()
        assert_no_axe_violations(tab_b)
    finally:
        context.close()


def test_a_family_member_typing_another_clients_address_gets_not_found(browser: Browser,
                                                                      browser_context_args: dict,
                                                                      page: Page) -> None:
    """A family member who types the URL of a client they are not linked to sees a not-found page."""
    admin = browser.new_context(**browser_context_args).new_page()
    try:
        sign_in(admin, *ADMIN)
        caseload = CaseloadPage(admin).open()
        caseload.search.fill("Marchetti")
        link = caseload.client_link("Edith Marchetti")
        expect(caseload.client_links()).to_have_count(1)
        other_client = link.get_attribute("href")
    finally:
        admin.context.close()

    sign_in(page, *FAMILY)
    for path in (other_client, other_client + "/access-log", other_client + "/edit"):
        response = page.goto(path)
        assert response is not None and response.status == 404
        expect(page.get_by_role("heading", name="Page not found", level=1)).to_be_visible()
        expect(page.get_by_text("Edith")).to_have_count(0)


def test_caseload_and_client_pages_have_no_axe_violations(page: Page) -> None:
    """A screen-reader or keyboard user meets no automatically detectable barrier on the caseload and a record."""
    sign_in(page, *COORDINATOR)
    caseload = CaseloadPage(page).open()
    expect(caseload.heading).to_be_visible()
    assert_no_axe_violations(page)
    client = open_client_by_search(page, "ellison", "Margaret Ellison (Peggy)")
    assert_no_axe_violations(page)
    client.edit_link.click()
    expect(EditClientPage(page).heading).to_be_visible()
    assert_no_axe_violations(page)
    for path, heading in (("/status", "Change status"), ("/team", "Care team"), ("/family", "Family"),
                          ("/contacts", "Contacts"), ("/access-log", "Access log")):
        page.goto(re.sub(r"/edit$", path, re.sub(r"^https?://[^/]+", "", page.url)))
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        assert_no_axe_violations(page)
        page.go_back()


def test_intake_caseload_on_a_phone_and_the_admin_review_have_no_axe_violations(page: Page) -> None:
    """The new-client form, the caseload on a phone screen and the emergency-access review are accessible."""
    sign_in(page, *COORDINATOR)
    page.goto("/clients/new")
    expect(page.get_by_role("heading", name="New client", level=1)).to_be_visible()
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Add client").click()
    expect(page.get_by_label("First name", exact=True)).to_have_attribute("aria-invalid", "true")
    assert_no_axe_violations(page)
    page.set_viewport_size({"width": 390, "height": 844})
    CaseloadPage(page).open()
    assert_no_axe_violations(page)
    page.context.clear_cookies()
    sign_in(page, *ADMIN)
    page.goto("/admin/break-glass")
    expect(page.get_by_role("heading", name="Emergency access", level=1)).to_be_visible()
    assert_no_axe_violations(page)


def test_the_family_access_log_has_no_axe_violations(page: Page) -> None:
    """The family member's view of who opened their relative's record is accessible too."""
    sign_in(page, *COORDINATOR)
    open_client_by_search(page, "ellison", "Margaret Ellison (Peggy)")
    path = re.sub(r"^https?://[^/]+", "", page.url)
    page.context.clear_cookies()
    sign_in(page, *FAMILY)
    page.goto(path + "/access-log")
    expect(page.get_by_role("heading", name="Access log", level=1)).to_be_visible()
    expect(page.get_by_role("cell", name="Anna Coordinator").first).to_be_visible()
    assert_no_axe_violations(page)
