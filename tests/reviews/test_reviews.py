"""Care reviews through the web: the list of reviews due, the pre-filled form, finishing (signed, locked,
the next review date, the draft plan from the judgement), addenda, family input and who sees what."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

from app.audit.tables import AuditEvent
from app.careplans.tables import CarePlan, Service
from app.clients.tables import Client
from app.mail.tables import Outbox
from app.reviews.services import review_input_invitations_enqueue
from app.reviews.tables import FamilyReviewInput, Review, ReviewAddendum
from tests.careplans.factories import add_service, make_plan
from tests.clients.factories import link_family, make_world, today
from tests.conftest import login, post_form


async def plan_for(client_id: int, review_due: date, worker=None) -> tuple[int, int]:
    plan_id = await make_plan(client_id=client_id, starts_on=today() - timedelta(days=60), review_due=review_due)
    service_id = await add_service(plan_id=plan_id, worker=worker)
    await Client.update({Client.review_due: review_due}).where(Client.id == client_id).run()
    return plan_id, service_id


def version_in(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


async def review_started(client, client_id: int) -> tuple[str, str]:
    """Start the client's review: its address and the version its form carries."""
    await post_form(client, f"/clients/{client_id}/reviews", {})
    url = f"/clients/{client_id}/reviews/1"
    return url, version_in((await client.get(url)).text)


def judgement(version: str, **overrides) -> dict:
    values = {"version": version, "appropriate": "change", "reasons": "Mornings are often late.",
              "care_needed": "ongoing", "next_review_due": (today() + timedelta(days=90)).isoformat(),
              "action_what_1": "Ask the GP about the bruise", "action_owner_1": "Anna",
              "action_due_1": (today() + timedelta(days=7)).isoformat()}
    values.update(overrides)
    return values


async def test_reviews_due_and_overdue_are_listed_for_the_coordinators_own_clients_and_counted_on_the_caseload(client):
    world = await make_world()
    await plan_for(world.own["id"], today() - timedelta(days=3))
    await plan_for(world.others["id"], today() - timedelta(days=1))
    await login(client, world.coordinator)
    page = await client.get("/reviews")
    assert page.status_code == 200
    assert "Olive Owens" in page.text and "overdue" in page.text and "Otto" not in page.text
    count = await client.get("/reviews/count", headers={"HX-Request": "true"})
    assert "1 overdue" in count.text
    assert 'hx-get="/reviews/count"' in (await client.get("/caseload")).text
    await login(client, world.admin)
    page = await client.get("/reviews?sort=name")
    assert "Olive Owens" in page.text and "Otto Other" in page.text


async def test_a_review_not_yet_due_is_not_listed(client):
    world = await make_world()
    await plan_for(world.own["id"], today() + timedelta(days=40))
    await login(client, world.coordinator)
    assert "Olive Owens" not in (await client.get("/reviews")).text


async def test_starting_a_review_prefills_its_figures_and_a_second_start_continues_the_same_draft(client):
    world = await make_world()
    await plan_for(world.own["id"], today() - timedelta(days=3), worker=world.worker)
    await login(client, world.coordinator)
    started = await post_form(client, f"/clients/{world.own['id']}/reviews", {})
    assert started.status_code == 303 and started.headers["location"] == f"/clients/{world.own['id']}/reviews/1"
    again = await post_form(client, f"/clients/{world.own['id']}/reviews", {})
    assert again.headers["location"] == f"/clients/{world.own['id']}/reviews/1"
    review = await Review.select().where(Review.client == world.own["id"]).run()
    assert len(review) == 1
    facts = json.loads(review[0]["figures"])
    assert facts["period"]["start"] == (today() - timedelta(days=60)).isoformat()
    assert facts["period"]["end"] == (today() - timedelta(days=1)).isoformat()
    page = await client.get(f"/clients/{world.own['id']}/reviews/1")
    assert page.status_code == 200
    for section in ("1. Delivered and planned", "2. Outcomes", "3. The client", "4. Treatment", "5. Your judgement"):
        assert section in page.text
    assert await AuditEvent.exists().where((AuditEvent.action == "client.viewed")
                                           & (AuditEvent.client_id == world.own["id"])).run()


async def test_finishing_signs_locks_sets_the_next_review_and_opens_a_draft_plan_from_the_judgement(client):
    world = await make_world()
    plan_id, service_id = await plan_for(world.own["id"], today() - timedelta(days=3), worker=world.worker)
    meals = await add_service(plan_id=plan_id, kind="meals", provider_name="Meals on Wheels")
    await login(client, world.coordinator)
    url, version = await review_started(client, world.own["id"])
    next_review = today() + timedelta(days=90)
    finished = await post_form(client, url, {**judgement(version), "finish": "1", "change_plan": "on",
                                             f"service_{meals}": "stop", f"service_{service_id}": "retime",
                                             f"service_{service_id}_note": "08:00 on weekdays",
                                             "care_needed": "until",
                                             "care_until": (today() + timedelta(days=365)).isoformat()})
    assert finished.status_code == 303 and finished.headers["location"] == f"/clients/{world.own['id']}/plan"
    review = (await Review.select().where(Review.client == world.own["id"]).run())[0]
    assert review["status"] == "finished" and review["signed_by"] == world.coordinator["id"]
    assert review["next_review_due"] == next_review
    active = await CarePlan.select().where(CarePlan.id == plan_id).first().run()
    assert active["review_due"] == next_review
    assert (await Client.select(Client.review_due).where(Client.id == world.own["id"]).first().run())[
        "review_due"] == next_review
    draft = await CarePlan.select().where((CarePlan.client == world.own["id"])
                                          & (CarePlan.status == "draft")).first().run()
    assert draft is not None and draft["version"] == 2
    assert draft["review_due"] == next_review and draft["ends_on"] == today() + timedelta(days=365)
    assert "Review 1" in draft["summary"] and "change needed" in draft["summary"]
    assert "Re-time: personal care" in draft["summary"] and "08:00 on weekdays" in draft["summary"]
    stopped = await Service.select(Service.ends_on).where((Service.plan == draft["id"])
                                                          & (Service.lineage == meals)).first().run()
    assert stopped["ends_on"] == today()
    kept = await Service.select(Service.ends_on).where((Service.plan == draft["id"])
                                                       & (Service.lineage == service_id)).first().run()
    assert kept["ends_on"] is None

    # Locked: a further save is refused and changes nothing; corrections are addenda, numbered.
    locked = await post_form(client, url, judgement(str(review["version"]), reasons="Changed my mind"))
    assert locked.status_code == 422 and "locked" in locked.text
    assert (await Review.select(Review.reasons).where(Review.id == review["id"]).first().run())[
        "reasons"] == "Mornings are often late."
    for body in ("The GP visit is on Tuesday.", "Daughter called: all well."):
        added = await post_form(client, f"{url}/addenda", {"body": body})
        assert added.status_code == 303
    addenda = await ReviewAddendum.select(ReviewAddendum.number, ReviewAddendum.body).where(
        ReviewAddendum.review == review["id"]).order_by(ReviewAddendum.number).run()
    assert [a["number"] for a in addenda] == [1, 2]
    page = await client.get(url)
    assert "Signed and locked" in page.text and "The GP visit is on Tuesday." in page.text
    assert (await Review.select(Review.version).where(Review.id == review["id"]).first().run())["version"] == \
        review["version"] + 2


async def test_finishing_without_a_judgement_says_what_is_missing_and_keeps_what_was_typed(client):
    world = await make_world()
    await plan_for(world.own["id"], today() - timedelta(days=3))
    await login(client, world.coordinator)
    url, version = await review_started(client, world.own["id"])
    answer = await post_form(client, url, {**judgement(version, appropriate="", next_review_due="",
                                                       action_owner_1=""), "finish": "1"})
    assert answer.status_code == 422
    assert "Say whether the care is appropriate." in answer.text
    assert "Say who will do it." in answer.text
    assert "Ask the GP about the bruise" in answer.text
    assert (await Review.select(Review.status).first().run())["status"] == "draft"


async def test_a_save_based_on_an_old_version_is_refused_and_keeps_the_typing(client):
    world = await make_world()
    await plan_for(world.own["id"], today() - timedelta(days=3))
    await login(client, world.coordinator)
    url, version = await review_started(client, world.own["id"])
    assert (await post_form(client, url, judgement(version, reasons="First"))).status_code == 303
    stale = await post_form(client, url, judgement(version, reasons="Second, typed on another tab"))
    assert stale.status_code == 409 and "Second, typed on another tab" in stale.text
    assert (await Review.select(Review.reasons).first().run())["reasons"] == "First"


async def test_family_input_before_a_review_appears_in_the_review_and_is_taken_in_when_finished(client):
    world = await make_world()
    due = today() + timedelta(days=5)
    await plan_for(world.own["id"], due)
    await login(client, world.family)
    page = await client.get("/family/reviews")
    assert "What is going well?" in page.text
    sent = await post_form(client, f"/family/reviews/{world.own['id']}",
                           {"going_well": "She likes Wendy", "worries": "Evenings are lonely", "change": ""})
    assert sent.status_code == 303
    empty = await post_form(client, f"/family/reviews/{world.own['id']}", {"going_well": "", "worries": ""})
    assert empty.status_code == 422 and "at least one" in empty.text
    # Another family's client, or one whose link hides the schedule: not found.
    assert (await post_form(client, f"/family/reviews/{world.others['id']}", {"going_well": "x"})).status_code == 404
    await login(client, world.coordinator)
    await post_form(client, f"/clients/{world.own['id']}/reviews", {})
    url = f"/clients/{world.own['id']}/reviews/1"
    review_page = await client.get(url)
    assert "Evenings are lonely" in review_page.text
    finished = await post_form(client, url, {**judgement(version_in(review_page.text)), "finish": "1",
                                             "family_summary": "Care goes on; evening calls added.",
                                             "summary_shared": "on"})
    assert finished.status_code == 303
    stored = await FamilyReviewInput.select(FamilyReviewInput.review).first().run()
    assert stored["review"] is not None
    await login(client, world.family)
    assert "Summaries of past reviews" in (await client.get("/family/reviews")).text
    summary = await client.get(f"/clients/{world.own['id']}/reviews/1/summary")
    assert summary.status_code == 200 and "evening calls added" in summary.text
    assert "Mornings are often late" not in summary.text  # the reasons are the team's, not the family's
    # The family's own answers for this review are now part of it: no longer editable.
    again = await post_form(client, f"/family/reviews/{world.own['id']}", {"going_well": "More"})
    assert again.status_code == 422


async def test_a_family_member_without_the_schedule_permission_gets_no_form(client):
    world = await make_world()
    await plan_for(world.own["id"], today() + timedelta(days=5))
    from app.clients.tables import FamilyLink
    await FamilyLink.update({FamilyLink.may_see_schedule: False}).where(FamilyLink.user == world.family["id"]).run()
    await login(client, world.family)
    assert "What is going well?" not in (await client.get("/family/reviews")).text
    assert (await post_form(client, f"/family/reviews/{world.own['id']}", {"going_well": "x"})).status_code == 404


async def test_an_unshared_review_summary_is_not_found_for_the_family(client):
    world = await make_world()
    await plan_for(world.own["id"], today() - timedelta(days=3))
    await login(client, world.coordinator)
    url, version = await review_started(client, world.own["id"])
    await post_form(client, url, {**judgement(version), "finish": "1"})
    await login(client, world.family)
    assert (await client.get(f"{url}/summary")).status_code == 404
    assert (await client.get(url)).status_code == 404


async def test_family_members_are_emailed_once_when_their_view_is_asked_for(client):
    world = await make_world()
    await plan_for(world.own["id"], today() + timedelta(days=10))
    await plan_for(world.others["id"], today() + timedelta(days=40))  # not yet
    # A second family member whose link does not show the schedule is not asked.
    await link_family(client_id=world.own["id"], user=world.family2, may_see_schedule=False)
    assert await review_input_invitations_enqueue() == 1
    assert await review_input_invitations_enqueue() == 0
    mails = await Outbox.select(Outbox.to_address, Outbox.kind).run()
    assert mails == [{"to_address": world.family["email"], "kind": "review_input"}]


async def test_giving_the_printed_review_to_someone_is_recorded_as_a_disclosure(client):
    from app.liaison.tables import Disclosure
    world = await make_world()
    await plan_for(world.own["id"], today() - timedelta(days=3))
    await login(client, world.coordinator)
    url, version = await review_started(client, world.own["id"])
    page = await client.get(f"{url}/print")
    assert page.status_code == 200 and "Giving this review to someone outside the team?" in page.text
    missing = await post_form(client, f"{url}/print", {"section_plan": "on", "section_visits": "on",
                                                       "recipient": "", "reason": "GP appointment"})
    assert missing.status_code == 422 and "Say who the information is for." in missing.text
    assert "GP appointment" in missing.text
    given = await post_form(client, f"{url}/print", {"section_plan": "on", "section_visits": "on",
                                                     "recipient": "Dr Patel, Riverside surgery",
                                                     "reason": "GP appointment"})
    assert given.status_code == 303
    recorded = await Disclosure.select(Disclosure.kind, Disclosure.recipient, Disclosure.reason).where(
        Disclosure.client == world.own["id"]).run()
    assert recorded == [{"kind": "print", "recipient": "Dr Patel, Riverside surgery",
                         "reason": "Care review 1: GP appointment"}]
    await login(client, world.worker)
    assert (await post_form(client, f"{url}/print", {"recipient": "x", "reason": "y"})).status_code == 404
