"""Client rules: intake, versioned edits, status steps, care-team periods, family invitations, break-glass."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta

import pytest

from app.accounts.queries import user_by_email
from app.accounts.services import one_time_link_user
from app.accounts.tables import OneTimeToken, Session
from app.audit.services import Actor
from app.audit.tables import AuditEvent
from app.clients import services
from app import clock
from app.clients.queries import care_team_for, client_relation, client_relations_for
from app.clients.services import ClientDetails, ClientError, ClientVersionConflict
from app.clients.tables import BreakGlassGrant, CareTeamMember, Client, ClientStatusChange, FamilyLink
from app.web.sessions import CurrentUser, session_create
from app.policy import FamilyPermissions
from tests.clients.factories import add_team_member, link_family, make_client, today
from tests.conftest import make_facility, make_user

DETAILS = ClientDetails(first_name="Zoë", last_name="Abara", date_of_birth=date(1938, 2, 3),
                        allergies="Latex", confidential_notes="Lives with a difficult nephew")


def actor_for(user: dict) -> Actor:
    return Actor(user_id=user["id"], label=user["email"], role=user["role"], facility_id=user["facility_id"])


async def events(action: str) -> list[dict]:
    rows = await AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.seq).run()
    for row in rows:
        row["detail"] = json.loads(row["detail"]) if row["detail"] else {}
    return rows


@pytest.fixture
async def coordinator() -> dict:
    facility = await make_facility()
    return await make_user(facility_id=facility, role="coordinator")


async def test_intake_by_a_coordinator_creates_a_referral_with_them_on_the_team(coordinator):
    client_id = await services.client_create(actor=actor_for(coordinator), facility_id=coordinator["facility_id"],
                                             details=DETAILS, today=today())
    client = await Client.select().where(Client.id == client_id).first().run()
    assert client["status"] == "referral" and client["version"] == 1
    assert client["search_name"] == "zoe abara"
    team = await care_team_for(client_id=client_id, today=today())
    assert [(m["user_id"], m["role"]) for m in team["current"]] == [(coordinator["id"], "coordinator")]
    history = await ClientStatusChange.select().where(ClientStatusChange.client == client_id).run()
    assert [(h["from_status"], h["to_status"]) for h in history] == [("", "referral")]
    created = await events("client.created")
    assert created[0]["client_id"] == client_id
    assert "confidential_notes" in created[0]["detail"]["fields"]
    assert "difficult nephew" not in json.dumps(created[0]["detail"])


async def test_intake_by_an_admin_leaves_the_care_team_to_be_chosen(coordinator):
    admin = await make_user(facility_id=coordinator["facility_id"], role="admin")
    client_id = await services.client_create(actor=actor_for(admin), facility_id=admin["facility_id"],
                                             details=DETAILS, today=today())
    assert await CareTeamMember.count().where(CareTeamMember.client == client_id).run() == 0


async def test_an_edit_saves_the_changed_fields_and_records_their_names_only(coordinator):
    client = await make_client(facility_id=coordinator["facility_id"], coordinator=coordinator)
    stored = await Client.select().where(Client.id == client["id"]).first().run()
    details = ClientDetails(**{f: stored[f] for f in services.EDITABLE_FIELDS})
    changed = await services.client_update(actor=actor_for(coordinator), client_id=client["id"], version=1,
                                           details=replace(details, confidential_notes="New secret", phone="01632 960999"))
    assert changed == ["phone", "confidential_notes"]
    row = await Client.select(Client.version, Client.confidential_notes).where(Client.id == client["id"]).first().run()
    assert row == {"version": 2, "confidential_notes": "New secret"}
    [event] = await events("client.updated")
    assert event["detail"]["fields"] == ["phone", "confidential_notes"]
    assert "New secret" not in json.dumps(event["detail"])


async def test_saving_over_a_newer_version_is_refused_and_nothing_is_overwritten(coordinator):
    client = await make_client(facility_id=coordinator["facility_id"], coordinator=coordinator)
    stored = await Client.select().where(Client.id == client["id"]).first().run()
    details = ClientDetails(**{f: stored[f] for f in services.EDITABLE_FIELDS})
    await services.client_update(actor=actor_for(coordinator), client_id=client["id"], version=1,
                                 details=replace(details, mobility="Uses a frame"))
    with pytest.raises(ClientVersionConflict) as conflict:
        await services.client_update(actor=actor_for(coordinator), client_id=client["id"], version=1,
                                     details=replace(details, mobility="Walks unaided"))
    assert conflict.value.stored["mobility"] == "Uses a frame"
    row = await Client.select(Client.mobility, Client.version).where(Client.id == client["id"]).first().run()
    assert row == {"mobility": "Uses a frame", "version": 2}
    assert len(await events("client.updated")) == 1


async def test_an_edit_that_changes_nothing_keeps_the_version(coordinator):
    client = await make_client(facility_id=coordinator["facility_id"], coordinator=coordinator)
    stored = await Client.select().where(Client.id == client["id"]).first().run()
    details = ClientDetails(**{f: stored[f] for f in services.EDITABLE_FIELDS})
    assert await services.client_update(actor=actor_for(coordinator), client_id=client["id"], version=1,
                                        details=details) == []
    assert (await Client.select(Client.version).where(Client.id == client["id"]).first().run())["version"] == 1


@pytest.mark.parametrize("current, to, allowed", [
    ("referral", "active", True), ("referral", "paused", False), ("active", "paused", True),
    ("active", "discharged", True), ("paused", "active", True), ("discharged", "active", False),
    ("discharged", "referral", True),
])
def test_status_follows_referral_active_paused_discharged(current, to, allowed):
    problem = services.status_change_problem(current=current, to=to, effective_on=date(2026, 3, 1),
                                             last_on=date(2026, 1, 1), today=date(2026, 3, 2))
    assert (problem is None) == allowed


def test_a_status_date_may_not_be_in_the_future_or_before_the_last_change():
    kwargs = dict(current="active", to="paused", last_on=date(2026, 2, 1), today=date(2026, 3, 1))
    assert services.status_change_problem(effective_on=date(2026, 3, 2), **kwargs)[0] == "effective_on"
    assert services.status_change_problem(effective_on=date(2026, 1, 31), **kwargs)[0] == "effective_on"
    assert services.status_change_problem(effective_on=date(2026, 3, 1), **kwargs) is None


async def test_discharge_keeps_the_record_with_date_and_reason(coordinator):
    client = await make_client(facility_id=coordinator["facility_id"], coordinator=coordinator)
    await services.client_status_change(actor=actor_for(coordinator), client_id=client["id"], version=1,
                                        to_status="discharged", effective_on=today(), reason="Moved to her son's",
                                        today=today())
    row = await Client.select(Client.status, Client.status_since, Client.version).where(
        Client.id == client["id"]).first().run()
    assert row == {"status": "discharged", "status_since": today(), "version": 2}
    [change] = await ClientStatusChange.select().where(ClientStatusChange.client == client["id"]).run()
    assert (change["from_status"], change["to_status"], change["reason"]) == ("active", "discharged",
                                                                               "Moved to her son's")
    assert (await events("client.status_changed"))[0]["detail"]["to"] == "discharged"


async def test_a_status_change_on_an_old_version_is_refused(coordinator):
    client = await make_client(facility_id=coordinator["facility_id"], coordinator=coordinator)
    await services.client_status_change(actor=actor_for(coordinator), client_id=client["id"], version=1,
                                        to_status="paused", effective_on=today(), reason="In hospital", today=today())
    with pytest.raises(ClientVersionConflict):
        await services.client_status_change(actor=actor_for(coordinator), client_id=client["id"], version=1,
                                            to_status="discharged", effective_on=today(), reason="x", today=today())


async def test_a_team_member_counts_from_since_to_until_inclusive(coordinator):
    worker = await make_user(facility_id=coordinator["facility_id"], role="worker")
    client = await make_client(facility_id=coordinator["facility_id"], coordinator=coordinator)
    day = date(2026, 4, 10)
    await services.team_member_add(actor=actor_for(coordinator), facility_id=coordinator["facility_id"],
                                   client_id=client["id"], user_id=worker["id"], since=day, until=day + timedelta(days=2))
    principal = CurrentUser(id=worker["id"], facility_id=worker["facility_id"], email="", display_name="",
                            role="worker", session_id=0, device_id=None, timezone="Europe/London")
    for offset, on_team in ((-1, False), (0, True), (2, True), (3, False)):
        relation = await client_relation(user=principal, client_id=client["id"], today=day + timedelta(days=offset))
        assert (relation.team_role == "worker") is on_team, offset


async def test_overlapping_memberships_and_people_of_other_facilities_are_refused(coordinator):
    client = await make_client(facility_id=coordinator["facility_id"], coordinator=coordinator)
    with pytest.raises(ClientError) as error:
        await services.team_member_add(actor=actor_for(coordinator), facility_id=coordinator["facility_id"],
                                       client_id=client["id"], user_id=coordinator["id"], since=today())
    assert error.value.field == "user_id"
    stranger = await make_user(facility_id=await make_facility(), role="worker")
    with pytest.raises(ClientError):
        await services.team_member_add(actor=actor_for(coordinator), facility_id=coordinator["facility_id"],
                                       client_id=client["id"], user_id=stranger["id"], since=today())
    family = await make_user(facility_id=coordinator["facility_id"], role="family")
    with pytest.raises(ClientError):
        await services.team_member_add(actor=actor_for(coordinator), facility_id=coordinator["facility_id"],
                                       client_id=client["id"], user_id=family["id"], since=today())


async def test_ending_a_membership_keeps_it_in_the_history(coordinator):
    worker = await make_user(facility_id=coordinator["facility_id"], role="worker")
    client = await make_client(facility_id=coordinator["facility_id"], coordinator=coordinator, workers=(worker,))
    member = await CareTeamMember.select().where(CareTeamMember.user == worker["id"]).first().run()
    yesterday = today() - timedelta(days=1)
    await services.team_member_end(actor=actor_for(coordinator), client_id=client["id"], member_id=member["id"],
                                   until=yesterday, version=member["version"])
    team = await care_team_for(client_id=client["id"], today=today())
    assert [m["user_id"] for m in team["past"]] == [worker["id"]]
    assert len(await events("client.team_member_ended")) == 1


async def test_inviting_a_family_member_creates_an_account_with_a_one_time_link(coordinator):
    client = await make_client(facility_id=coordinator["facility_id"], coordinator=coordinator)
    invitation = await services.family_invite(
        actor=actor_for(coordinator), facility_id=coordinator["facility_id"], client_id=client["id"],
        display_name="Dana Abara", email="Dana@Example.org", relationship="daughter", may_see_schedule=True,
        may_see_visit_summaries=False, may_message=True)
    account = await user_by_email(email="dana@example.org")
    assert account["role"] == "family" and account["password_hash"] == ""
    assert (await one_time_link_user(token=invitation.token))["user_id"] == account["id"]
    link = await FamilyLink.select().where(FamilyLink.id == invitation.link_id).first().run()
    assert (link["may_see_schedule"], link["may_see_visit_summaries"], link["may_message"]) == (True, False, True)
    assert link["approved_by"] == coordinator["id"]
    assert await OneTimeToken.count().where(OneTimeToken.user == account["id"]).run() == 1


async def test_an_existing_family_account_is_linked_without_a_new_password_link(coordinator):
    first = await make_client(facility_id=coordinator["facility_id"], coordinator=coordinator)
    second = await make_client(facility_id=coordinator["facility_id"], coordinator=coordinator)
    kwargs = dict(actor=actor_for(coordinator), facility_id=coordinator["facility_id"], display_name="Dana",
                  email="dana@example.org", relationship="daughter", may_see_schedule=True,
                  may_see_visit_summaries=True, may_message=True)
    await services.family_invite(client_id=first["id"], **kwargs)
    again = await services.family_invite(client_id=second["id"], **kwargs)
    assert again.token is None
    with pytest.raises(ClientError):
        await services.family_invite(client_id=second["id"], **kwargs)


async def test_an_email_of_staff_or_of_another_facility_cannot_be_invited_as_family(coordinator):
    client = await make_client(facility_id=coordinator["facility_id"], coordinator=coordinator)
    elsewhere = await make_user(facility_id=await make_facility(), role="family")
    messages = []
    for email in (coordinator["email"], elsewhere["email"]):
        with pytest.raises(ClientError) as error:
            await services.family_invite(actor=actor_for(coordinator), facility_id=coordinator["facility_id"],
                                         client_id=client["id"], display_name="x", email=email,
                                         relationship="son", may_see_schedule=False, may_see_visit_summaries=False,
                                         may_message=False)
        assert error.value.field == "email"
        messages.append(error.value.message)
    # Staff of this facility: said plainly. Anyone of another facility: nothing about who they are.
    assert messages == ["An account with this email already exists.",
                        "This email address cannot be used. Use another one."]
    assert await FamilyLink.count().run() == 0


async def test_break_glass_lasts_for_the_session_and_is_audited_with_the_reason(coordinator):
    other = await make_user(facility_id=coordinator["facility_id"], role="coordinator")
    client = await make_client(facility_id=coordinator["facility_id"], coordinator=other)
    await session_create(user_id=coordinator["id"], absolute_hours=1)
    session_ids = [s["id"] for s in await Session.select(Session.id).run()]
    await services.break_glass_open(actor=actor_for(coordinator), client_id=client["id"],
                                    session_id=session_ids[0], reason="Coordinator on leave, GP needs meds list")

    def principal(session_id: int) -> CurrentUser:
        return CurrentUser(id=coordinator["id"], facility_id=coordinator["facility_id"], email="", display_name="",
                           role="coordinator", session_id=session_id, device_id=None, timezone="Europe/London")

    assert (await client_relation(user=principal(session_ids[0]), client_id=client["id"], today=today())).break_glass
    assert not (await client_relation(user=principal(session_ids[0] + 1), client_id=client["id"],
                                      today=today())).break_glass
    [event] = await events("client.break_glass")
    assert event["client_id"] == client["id"] and event["actor_id"] == coordinator["id"]
    assert "reason" not in event["detail"] and event["detail"]["grant_id"]
    with pytest.raises(ClientError):
        await services.break_glass_open(actor=actor_for(coordinator), client_id=client["id"],
                                        session_id=session_ids[0], reason="because")
    assert await BreakGlassGrant.count().run() == 1


async def test_relations_read_together_give_each_role_exactly_its_own_standing(coordinator):
    """One read serves every role: the team role only to staff on the team, the family link only to
    family, an emergency grant only to a coordinator off the team, no client of another facility."""
    facility = coordinator["facility_id"]
    worker = await make_user(facility_id=facility, role="worker")
    family = await make_user(facility_id=facility, role="family")
    admin = await make_user(facility_id=facility, role="admin")
    on_team = await make_client(facility_id=facility, coordinator=coordinator, workers=(worker,))
    off_team = await make_client(facility_id=facility)
    ended = await make_client(facility_id=facility)
    await add_team_member(client_id=ended["id"], user=worker, since=date(2020, 1, 1), until=today() - timedelta(days=1))
    elsewhere = await make_client(facility_id=await make_facility(), coordinator=coordinator)
    await link_family(client_id=on_team["id"], user=family, may_see_schedule=True, may_see_visit_summaries=False,
                      may_message=True)
    ended_link = await link_family(client_id=off_team["id"], user=family)
    await FamilyLink.update({FamilyLink.ended_at: clock.utcnow()}).where(FamilyLink.id == ended_link).run()
    await session_create(user_id=coordinator["id"], absolute_hours=1)
    [session_id] = [s["id"] for s in await Session.select(Session.id).where(Session.user == coordinator["id"]).run()]
    await services.break_glass_open(actor=actor_for(coordinator), client_id=off_team["id"], session_id=session_id,
                                    reason="Coordinator on leave, GP needs meds list")

    def viewer(user: dict, session: int = 0) -> CurrentUser:
        return CurrentUser(id=user["id"], facility_id=facility, email="", display_name="", role=user["role"],
                           session_id=session, device_id=None, timezone="Europe/London")

    ids = [on_team["id"], off_team["id"], ended["id"], elsewhere["id"]]
    expected = {
        viewer(coordinator, session_id): {on_team["id"]: ("coordinator", None, False), off_team["id"]: (None, None, True),
                                          ended["id"]: (None, None, False)},
        viewer(coordinator, session_id + 1): {on_team["id"]: ("coordinator", None, False),
                                              off_team["id"]: (None, None, False), ended["id"]: (None, None, False)},
        viewer(worker): {on_team["id"]: ("worker", None, False), off_team["id"]: (None, None, False),
                         ended["id"]: (None, None, False)},
        viewer(family): {on_team["id"]: (None, FamilyPermissions(may_see_schedule=True, may_see_visit_summaries=False,
                                                                 may_message=True), False),
                         off_team["id"]: (None, None, False), ended["id"]: (None, None, False)},
        viewer(admin): {on_team["id"]: (None, None, False), off_team["id"]: (None, None, False),
                        ended["id"]: (None, None, False)},
    }
    for principal, standing in expected.items():
        together = await client_relations_for(user=principal, client_ids=ids, today=today())
        assert {cid: (r.team_role, r.family, r.break_glass) for cid, r in together.items()} == standing, principal.role
        assert all(r.facility_id == facility and not r.visit_window for r in together.values())
        for client_id in ids:
            assert await client_relation(user=principal, client_id=client_id, today=today()) == together.get(client_id)
