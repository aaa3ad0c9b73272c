"""The selectors other features read referrals through (care reviews, agency reports)."""

from __future__ import annotations

from datetime import date, timedelta

from app import clock
from app.liaison.queries import providers_for, referral_counts_by_agency, referrals_for, referrals_for_client
from app.liaison.tables import Referral
from tests.clients.factories import make_world
from tests.liaison.factories import make_agency, make_provider, make_referral
from app.policy import ClientRelation, FamilyPermissions
from tests.policy_helpers import Person


async def test_referral_counts_by_agency_counts_statuses_overdue_and_answer_times():
    world = await make_world()
    day_centre = await make_agency(facility_id=world.facility, name="Oak Tree Day Centre")
    pharmacy = await make_agency(facility_id=world.facility, name="Mill Lane Pharmacy")
    elsewhere = await make_agency(facility_id=world.other_facility, name="Far Away")
    late = date.today() - timedelta(days=2)
    await make_referral(client_id=world.own["id"], agency=day_centre, status="sent", expected_by=late)
    answered = await make_referral(client_id=world.others["id"], agency=day_centre, status="accepted")
    now = clock.utcnow()
    await Referral.update({Referral.sent_at: now - timedelta(days=3), Referral.answered_at: now}).where(
        Referral.id == answered["id"]).run()
    await make_referral(client_id=world.own["id"], agency=pharmacy, status="completed")
    await make_referral(client_id=world.foreign["id"], agency=elsewhere, status="sent")
    counts = await referral_counts_by_agency(facility_id=world.facility, today=date.today())
    assert [c["agency_name"] for c in counts] == ["Mill Lane Pharmacy", "Oak Tree Day Centre"]
    oak = counts[1]
    assert oak["total"] == 2 and oak["by_status"]["sent"] == 1 and oak["by_status"]["accepted"] == 1
    assert oak["overdue"] == 1 and [round(d) for d in oak["answer_days"]] == [3]
    assert counts[0]["by_status"]["completed"] == 1 and counts[0]["overdue"] == 0
    since_tomorrow = await referral_counts_by_agency(facility_id=world.facility, since=now + timedelta(days=1))
    assert since_tomorrow == []


async def test_referrals_for_client_lists_open_ones_first_and_only_shareable_ones_for_family():
    world = await make_world()
    agency = await make_agency(facility_id=world.facility)
    closed = await make_referral(client_id=world.own["id"], agency=agency, status="completed", shareable=True)
    open_ = await make_referral(client_id=world.own["id"], agency=agency, status="received")
    rows = await referrals_for_client(client_id=world.own["id"], today=date.today())
    assert [r["id"] for r in rows] == [open_["id"], closed["id"]] and rows[1]["closed"]
    shared = await referrals_for_client(client_id=world.own["id"], shareable_only=True)
    assert [r["id"] for r in shared] == [closed["id"]]


async def test_providers_come_from_the_selector_as_the_viewers_relation_allows():
    """The selector, not the page, decides: the team all, a worker the GP's and pharmacy's phones, family names."""
    world = await make_world()
    for kind in ("gp", "pharmacy", "housing"):
        agency = await make_agency(facility_id=world.facility, kind=kind, phone="01632 960100", email="a@example.org")
        await make_provider(client_id=world.own["id"], agency=agency)
    on_team = ClientRelation(facility_id=world.facility, client_id=world.own["id"], team_role="coordinator")
    team = await providers_for(user=Person("coordinator", facility_id=world.facility), relation=on_team)
    assert len(team) == 3 and all(row["email"] == "a@example.org" and "contact_name" in row for row in team)
    visiting = ClientRelation(facility_id=world.facility, client_id=world.own["id"], team_role="worker")
    worker = await providers_for(user=Person("worker", facility_id=world.facility), relation=visiting)
    assert sorted(row["role"] for row in worker) == ["gp", "pharmacy"]
    assert all(set(row) == {"id", "role", "agency_name", "phone"} for row in worker)
    linked = ClientRelation(facility_id=world.facility, client_id=world.own["id"],
                            family=FamilyPermissions(may_see_schedule=True))
    family = await providers_for(user=Person("family", facility_id=world.facility), relation=linked)
    assert len(family) == 3 and all(set(row) == {"id", "role", "agency_name"} for row in family)
    unlinked = ClientRelation(facility_id=world.facility, client_id=world.own["id"], family=FamilyPermissions())
    assert await providers_for(user=Person("family", facility_id=world.facility), relation=unlinked) == []


async def test_referrals_come_from_the_selector_as_the_viewers_relation_allows():
    """The team reads every referral whole; the family the shareable ones, as whom to, where they stand, how they ended."""
    world = await make_world()
    agency = await make_agency(facility_id=world.facility, name="Oak Tree Day Centre")
    await make_referral(client_id=world.own["id"], agency=agency, reason="Private matter")
    for status in ("completed", "accepted"):
        shared = await make_referral(client_id=world.own["id"], agency=agency, status=status, shareable=True)
        await Referral.update({Referral.outcome: f"Outcome when {status}"}).where(Referral.id == shared["id"]).run()
    on_team = ClientRelation(facility_id=world.facility, client_id=world.own["id"], team_role="coordinator")
    team = await referrals_for(user=Person("coordinator", facility_id=world.facility), relation=on_team,
                               today=date.today())
    assert len(team) == 3 and {row["reason"] for row in team} == {"Private matter", "Falls assessment"}
    linked = ClientRelation(facility_id=world.facility, client_id=world.own["id"], family=FamilyPermissions())
    family = await referrals_for(user=Person("family", facility_id=world.facility), relation=linked,
                                 today=date.today())
    assert all(set(row) == {"agency_name", "status", "closed", "outcome"} for row in family)
    assert [(row["status"], row["outcome"]) for row in family] == [("accepted", ""), ("completed", "Outcome when completed")]
    visiting = ClientRelation(facility_id=world.facility, client_id=world.own["id"], team_role="worker")
    assert await referrals_for(user=Person("worker", facility_id=world.facility), relation=visiting,
                               today=date.today()) == []
