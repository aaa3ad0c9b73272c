"""Liaison in real browsers: a referral that closes the loop through the agency's emailed link, a printed
summary, a share link opened and revoked, and the family reading what was shared in plain words."""

from __future__ import annotations

import re
import time
from uuid import uuid4

from playwright.sync_api import Browser, Page, Route, expect

from e2e.pages import AgenciesPage, AgencyLinkPage, ReferralForm, SharePage, assert_no_axe_violations, sign_in
from tests.mail.smtp import Inbox

COORDINATOR = ("coordinator@kinward.example", "kinward-demo-coordinator")
FAMILY = ("family@kinward.example", "kinward-demo-family")
# The demo links family@ to this client of coordinator@.
CLIENT = "Margaret Ellison (Peggy)"
# The server's mail worker wakes every few seconds; allow a few rounds.
MAIL_WAIT_SECONDS = 30
LINK = re.compile(r"(/r/[A-Za-z0-9_-]+)")



def emailed_link(inbox: Inbox, address: str) -> str:
    """The link in the latest email to `address`, once the server has sent it."""
    deadline = time.monotonic() + MAIL_WAIT_SECONDS
    while time.monotonic() < deadline:
        for message in reversed(inbox.to(address)):
            found = LINK.search(message.get_payload(decode=True).decode())
            if found:
                return found.group(1)
        time.sleep(0.25)
    raise AssertionError(f"no email with a link reached {address}")


def test_a_referral_closes_the_loop_and_information_is_shared_and_withdrawn(browser: Browser, base_url: str,
                                                                            inbox: Inbox) -> None:
    """A coordinator refers a client; the agency answers through its emailed link; the coordinator prints a
    summary and shares one; the family sees both in plain words."""
    tag = uuid4().hex[:6]
    agency = f"Brookside Memory Clinic {tag}"
    agency_email = f"clinic-{tag}@example.org"
    desk = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    outside = browser.new_context(base_url=base_url)
    family = browser.new_context(base_url=base_url)
    try:
        page = desk.new_page()
        sign_in(page, *COORDINATOR)
        directory = AgenciesPage(page).open()
        assert_no_axe_violations(page)
        directory.add(name=agency, kind="Therapy", email=agency_email)
        expect(page.get_by_role("heading", name=agency, level=1)).to_be_visible()

        page.goto("/caseload")
        page.get_by_role("link", name=CLIENT, exact=True).click()
        client_url = page.url
        page.get_by_role("navigation", name="Client record").get_by_role("link", name="Referrals").click()
        expect(page.get_by_role("heading", name="Referrals", level=1)).to_be_visible()
        assert_no_axe_violations(page)
        ReferralForm(page).refer(agency=f"{agency} (Therapy)", reason=f"Memory assessment {tag}",
                                 consent_by="Margaret Ellison")
        expect(page.get_by_role("heading", name=f"Referral to {agency}")).to_be_visible()
        expect(page.get_by_text("Sent", exact=True).first).to_be_visible()
        referral_url = page.url

        # The agency, in a browser that has never signed in, follows the link it was emailed.
        answer = outside.new_page()
        answer.goto(emailed_link(inbox, agency_email))
        expect(answer.get_by_role("heading", level=1)).to_contain_text("Referral from")
        expect(answer.get_by_text(f"Memory assessment {tag}")).to_be_visible()
        assert_no_axe_violations(answer)
        link = AgencyLinkPage(answer)
        link.accept.click()
        expect(link.status).to_contain_text("Accepted")
        link.outcome.fill("Seen at the clinic; memory service follow-up in three months.")
        link.record_outcome.click()
        expect(answer.get_by_role("heading", name="Thank you: your answer was recorded")).to_be_visible()

        page.goto(referral_url)
        expect(page.get_by_text("The loop is closed")).to_be_visible()
        expect(page.get_by_role("definition").filter(has_text="memory service follow-up")).to_be_visible()

        page.goto(client_url + "/summary")
        assert_no_axe_violations(page)
        page.get_by_label("Who is it for").fill(agency)
        page.get_by_label("Why it is shared").fill("hospital appointment")
        page.get_by_role("button", name="Show the printable summary").click()
        expect(page.get_by_role("heading", name=re.compile("^Care summary"))).to_be_visible()
        assert_no_axe_violations(page)
        page.emulate_media(media="print")
        expect(page.get_by_role("banner")).to_be_hidden()
        expect(page.get_by_text("Back to the record")).to_be_hidden()
        expect(page.get_by_text("Confidential", exact=True).first).to_be_visible()
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf.startswith(b"%PDF") and len(pdf) > 2000
        page.emulate_media(media="screen")

        page.goto(client_url + "/share")
        share = SharePage(page)
        url = share.create(agency=f"{agency} (Therapy)", reason="Outpatient appointment")
        assert_no_axe_violations(page)
        shared = outside.new_page()
        shared.goto(url)
        expect(shared.get_by_role("heading", name=re.compile("^Care summary: Margaret Ellison"))).to_be_visible()
        share.revoke(agency)
        expect(page.get_by_role("cell", name="Revoked").first).to_be_visible()
        gone = shared.reload()
        assert gone is not None and gone.status == 404
        expect(shared.get_by_role("heading", name="This link does not work")).to_be_visible()

        relative = family.new_page()
        sign_in(relative, *FAMILY)
        relative.goto(client_url + "/access-log")
        expect(relative.get_by_text(f"A printed care summary was given to {agency}, about Margaret")).to_be_visible()
        expect(relative.get_by_text("Reason: hospital appointment").first).to_be_visible()
        expect(relative.get_by_text(f"{agency} opened the shared care summary").first).to_be_visible()
        assert_no_axe_violations(relative)
    finally:
        desk.close()
        outside.close()
        family.close()


def test_add_agency_sent_twice_adds_one_agency(browser: Browser, base_url: str) -> None:
    """A coordinator's "Add agency" reaches the server twice (a retry after a lost answer): one agency."""
    agency = f"Hillside Pharmacy {uuid4().hex[:6]}"
    desk = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    sent: list[int] = []

    def send_twice(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        # The first delivery's answer is lost; the same request, byte for byte, goes again.
        sent.append(route.fetch(max_redirects=0).status)
        route.continue_()

    try:
        page = desk.new_page()
        sign_in(page, *COORDINATOR)
        directory = AgenciesPage(page).open()
        page.route(re.compile(r".*/agencies$"), send_twice)
        directory.add(name=agency, kind="Pharmacy", email="orders@hillside.example")
        expect(page.get_by_role("heading", name=agency, level=1)).to_be_visible()
        page.unroute(re.compile(r".*/agencies$"))
        assert sent == [303]
        assert_no_axe_violations(page)
        expect(directory.find(agency)).to_have_count(1)
    finally:
        desk.close()
