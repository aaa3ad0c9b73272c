"""A creating form sent again with the key it was drawn with (a double click, a retry after a lost answer),
several times at once: one row, and every sending answered as the first was."""

from __future__ import annotations

import asyncio
import re

from datetime import timedelta

from app.accounts.tables import Device, User
from app.audit.tables import AuditEvent
from app.careplans.tables import Goal, Service
from app.clients.tables import BreakGlassGrant, CareTeamMember, Client, ClientContact, FamilyLink
from app.liaison.tables import Agency, ClientProvider, Referral, ShareLink
from app.mail.tables import Outbox
from app.reports.tables import SupervisionNote
from app.reviews.tables import FamilyReviewInput, Review, ReviewAddendum
from app.web.forms import idempotency_key
from app.web.tokens import token_hash
from tests.careplans.factories import make_plan
from tests.careplans.test_plan_editing import service_form
from tests.clients.factories import make_world, today
from tests.liaison.factories import make_agency
from tests.liaison.test_share_links import LINK
from tests.reviews.test_access import with_reviews
from tests.reviews.test_reviews import plan_for
from tests.conftest import post_form
from tests.web.test_double_submit import TIMES, browsers, close_all


async def sent_at_once(settings, person: dict, url: str, data: dict) -> list:
    """The same form, with one key, sent TIMES at once from two tabs of one person."""
    tabs = await browsers(settings, person, 2)
    data = {**data, "key": idempotency_key()}
    try:
        return await asyncio.gather(*[post_form(tab, url, data) for tab in tabs for _ in range(TIMES // 2)])
    finally:
        await close_all(tabs)


def answered_alike(answers: list, status: int = 303) -> None:
    assert [a.status_code for a in answers] == [status] * TIMES, [a.text[:300] for a in answers]
    if status == 303:
        assert len({a.headers["location"] for a in answers}) == 1



async def opened_without_session(settings, person, link: str) -> int:
    """The status a link answers to a browser with no session (the invited person's own)."""
    tabs = await browsers(settings, person, 1)
    try:
        tabs[0].cookies.clear()
        return (await tabs[0].get(link)).status_code
    finally:
        await close_all(tabs)

async def test_an_agency_sent_several_times_at_once_is_added_once(settings):
    world = await make_world()
    answers = await sent_at_once(settings, world.coordinator, "/agencies",
                                 {"name": "Riverside Pharmacy", "kind": "pharmacy"})
    answered_alike(answers)
    agency_id = int(answers[0].headers["location"].rsplit("/", 1)[1])
    assert await Agency.count().where(Agency.name == "Riverside Pharmacy") == 1
    assert await Agency.exists().where(Agency.id == agency_id)


async def test_an_agency_form_without_a_key_still_adds_and_a_refused_one_keeps_its_key(settings):
    world = await make_world()
    tabs = await browsers(settings, world.coordinator, 1)
    key = idempotency_key()
    try:
        refused = await post_form(tabs[0], "/agencies", {"name": "", "kind": "pharmacy", "key": key})
        corrected = await post_form(tabs[0], "/agencies", {"name": "Hill Pharmacy", "kind": "pharmacy", "key": key})
        keyless = await post_form(tabs[0], "/agencies", {"name": "Hill Pharmacy", "kind": "pharmacy"})
    finally:
        await close_all(tabs)
    assert refused.status_code == 422 and f'value="{key}"' in refused.text
    assert corrected.status_code == 303 and keyless.status_code == 303
    assert await Agency.count().where(Agency.name == "Hill Pharmacy") == 2


async def test_a_referral_sent_several_times_at_once_is_made_and_emailed_once(settings):
    world = await make_world()
    agency = await make_agency(facility_id=world.facility)
    answers = await sent_at_once(settings, world.coordinator, f"/clients/{world.own['id']}/referrals", {
        "agency_id": str(agency["id"]), "reason": "Falls at night", "request": "Assessment", "urgency": "soon",
        "consent_by": "Olive Owens", "consent_on": today().isoformat(), "send": "on"})
    answered_alike(answers)
    referrals = await Referral.select(Referral.id).where(Referral.client == world.own["id"]).run()
    assert [f"/referrals/{r['id']}" for r in referrals] == [answers[0].headers["location"]]
    assert await Outbox.count().where(Outbox.to_address == agency["email"]) == 1


async def test_a_contact_sent_several_times_at_once_is_added_once(settings):
    world = await make_world()
    answers = await sent_at_once(settings, world.coordinator, f"/clients/{world.own['id']}/contacts",
                                 {"name": "Nell Neighbour", "phone": "01632 960123"})
    answered_alike(answers)
    assert await ClientContact.count().where(ClientContact.name == "Nell Neighbour") == 1


async def test_a_provider_and_a_team_member_sent_several_times_at_once_are_added_once(settings):
    world = await make_world()
    agency = await make_agency(facility_id=world.facility, kind="pharmacy")
    providers = await sent_at_once(settings, world.coordinator, f"/clients/{world.own['id']}/providers",
                                   {"agency_id": str(agency["id"]), "role": "pharmacy"})
    members = await sent_at_once(settings, world.admin, f"/clients/{world.others['id']}/team",
                                 {"user_id": str(world.worker["id"]), "since": today().isoformat()})
    answered_alike(providers)
    answered_alike(members)
    assert await ClientProvider.count().where(ClientProvider.agency == agency["id"]) == 1
    assert await CareTeamMember.count().where((CareTeamMember.client == world.others["id"])
                                              & (CareTeamMember.user == world.worker["id"])) == 1


async def test_a_new_client_sent_several_times_at_once_is_added_once(settings):
    world = await make_world()
    answers = await sent_at_once(settings, world.admin, "/clients", {
        "first_name": "Ida", "last_name": "Idem", "date_of_birth": "1940-02-03", "status": "referral"})
    answered_alike(answers)
    assert await Client.count().where(Client.last_name == "Idem") == 1


async def test_an_addendum_sent_several_times_at_once_is_added_once(settings):
    world = await make_world()
    await with_reviews(world)
    answers = await sent_at_once(settings, world.coordinator, f"/clients/{world.own['id']}/reviews/1/addenda",
                                 {"body": "The GP visit is on Tuesday."})
    answered_alike(answers)
    assert await ReviewAddendum.count() == 1


async def test_a_share_link_sent_several_times_at_once_is_made_once_and_every_answer_shows_it(settings):
    world = await make_world()
    answers = await sent_at_once(settings, world.coordinator, f"/clients/{world.own['id']}/share", {
        "section_needs": "on", "recipient_name": "Dr Jones", "recipient_email": "jones@example.org",
        "reason": "Hospital appointment", "expires": "24"})
    answered_alike(answers, status=201)
    links = {LINK.search(a.text).group(1) for a in answers}
    assert len(links) == 1
    assert await ShareLink.count().where(ShareLink.client == world.own["id"]) == 1
    assert await Outbox.count().where(Outbox.to_address == "jones@example.org") == 1
    tabs = await browsers(settings, world.coordinator, 1)
    try:
        tabs[0].cookies.clear()
        opened = await tabs[0].get(links.pop().removeprefix("http://testserver.local"))
    finally:
        await close_all(tabs)
    assert opened.status_code == 200 and "Olive Owens" in opened.text


async def test_a_goal_and_a_service_sent_several_times_at_once_are_added_to_the_draft_once(settings):
    world = await make_world()
    plan_id = await make_plan(client_id=world.own["id"], status="draft")
    url = f"/clients/{world.own['id']}/plan"
    goals = await sent_at_once(settings, world.coordinator, f"{url}/goals",
                               {"description": "Walks to the shop", "status": "in_progress"})
    added = await sent_at_once(settings, world.coordinator, f"{url}/services", service_form(
        kind="meals", provider_name="Riverside Meals", start_time="12:30", duration_minutes="20"))
    answered_alike(goals)
    answered_alike(added)
    assert await Goal.count().where((Goal.plan == plan_id) & (Goal.description == "Walks to the shop")) == 1
    assert await Service.count().where((Service.plan == plan_id) & (Service.kind == "meals")) == 1


async def test_a_supervision_note_sent_several_times_at_once_is_saved_once_and_no_sending_is_told_of_a_conflict(
        settings):
    world = await make_world()
    answers = await sent_at_once(settings, world.coordinator, f"/reports/staff/{world.worker['id']}/note",
                                 {"body": "Punctual and kind.", "based_on": "0"})
    answered_alike(answers)
    assert await SupervisionNote.count().where(SupervisionNote.worker == world.worker["id"]) == 1


async def test_a_family_invitation_sent_several_times_at_once_links_once_and_every_answer_shows_the_same_link(
        settings):
    world = await make_world()
    answers = await sent_at_once(settings, world.coordinator, f"/clients/{world.own['id']}/family", {
        "display_name": "Sam Son", "email": "sam.son@example.org", "relationship": "son", "may_message": "on"})
    answered_alike(answers, status=201)
    links = {re.search(r"/set-password/[A-Za-z0-9_-]+", a.text).group(0) for a in answers}
    assert len(links) == 1
    user = await User.select(User.id).where(User.email == "sam.son@example.org").run()
    assert len(user) == 1
    assert await FamilyLink.count().where(FamilyLink.user == user[0]["id"]) == 1
    assert await Outbox.count().where(Outbox.to_address == "sam.son@example.org") == 1
    assert await opened_without_session(settings, world.coordinator, links.pop()) == 200


async def test_a_new_account_sent_several_times_at_once_is_made_once_and_every_answer_shows_the_same_link(settings):
    world = await make_world()
    answers = await sent_at_once(settings, world.admin, "/admin/users",
                                 {"display_name": "New Worker", "email": "new.worker@example.org", "role": "worker"})
    answered_alike(answers, status=201)
    links = {re.search(r"/set-password/[A-Za-z0-9_-]+", a.text).group(0) for a in answers}
    assert len(links) == 1
    assert await User.count().where(User.email == "new.worker@example.org") == 1
    assert await AuditEvent.count().where(AuditEvent.action == "user.created") == 1
    assert await opened_without_session(settings, world.admin, links.pop()) == 200


async def test_starting_a_review_sent_several_times_at_once_starts_one(settings):
    world = await make_world()
    answers = await sent_at_once(settings, world.coordinator, f"/clients/{world.own['id']}/reviews", {})
    answered_alike(answers)
    assert answers[0].headers["location"] == f"/clients/{world.own['id']}/reviews/1"
    assert await Review.count().where(Review.client == world.own["id"]) == 1
    assert await AuditEvent.count().where(AuditEvent.action == "review.started") == 1


async def test_the_familys_view_before_a_review_sent_several_times_at_once_is_saved_once(settings):
    world = await make_world()
    await plan_for(world.own["id"], today() + timedelta(days=5))
    answers = await sent_at_once(settings, world.family, f"/family/reviews/{world.own['id']}",
                                 {"going_well": "She likes Wendy", "worries": "Evenings are lonely", "change": ""})
    answered_alike(answers)
    rows = await FamilyReviewInput.select(FamilyReviewInput.worries, FamilyReviewInput.version).where(
        FamilyReviewInput.client == world.own["id"]).run()
    assert rows == [{"worries": "Evenings are lonely", "version": 1}]
    assert await AuditEvent.count().where(AuditEvent.action == "review.family_input_saved") == 1


async def test_break_glass_sent_several_times_at_once_grants_once(settings):
    world = await make_world()
    url = f"/clients/{world.others['id']}"
    answers = await sent_at_once(settings, world.coordinator, f"{url}/break-glass",
                                 {"reason": "Ben is on leave and the GP asked for the allergy list"})
    answered_alike(answers)
    assert answers[0].headers["location"] == url
    assert await BreakGlassGrant.count().where(BreakGlassGrant.client == world.others["id"]) == 1
    assert await AuditEvent.count().where(AuditEvent.action == "client.break_glass") == 1


async def test_a_tablet_registered_several_times_at_once_is_one_device_and_every_answer_sets_its_cookie(settings):
    world = await make_world()
    answers = await sent_at_once(settings, world.admin, "/admin/devices", {"name": "Lounge tablet"})
    answered_alike(answers)
    cookies = {a.cookies.get("kinward_device") for a in answers}
    assert len(cookies) == 1 and None not in cookies
    [device] = await Device.select(Device.token_hash).where(Device.name == "Lounge tablet").run()
    assert device["token_hash"] == token_hash(cookies.pop())
    assert await AuditEvent.count().where(AuditEvent.action == "device.registered") == 1
