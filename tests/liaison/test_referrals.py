"""Referrals from the coordinator's desk: consent required, answer date from urgency, every step with who,
when and a note, outcomes, phone answers, reminders, filters and the caseload's "needs attention"."""

from __future__ import annotations

from datetime import date, timedelta

from app.liaison.tables import Referral, ReferralEvent
from app.mail.tables import Outbox
from tests.clients.factories import make_world, today
from tests.conftest import login, post_form
from tests.liaison.factories import make_agency, make_referral


def _form(agency, **extra):
    values = {"agency_id": str(agency["id"]), "reason": "Falls at night", "request": "Assessment",
              "urgency": "soon", "consent_by": "Olive Owens", "consent_on": today().isoformat()}
    values.update(extra)
    return values


async def test_a_referral_needs_consent_and_keeps_what_was_typed(client):
    world = await make_world()
    agency = await make_agency(facility_id=world.facility)
    await login(client, world.coordinator)
    refused = await post_form(client, f"/clients/{world.own['id']}/referrals", _form(agency, consent_by=""))
    assert refused.status_code == 422
    assert "Record who gave consent" in refused.text and "Falls at night" in refused.text
    assert await Referral.count().run() == 0


async def test_the_answer_date_defaults_from_the_urgency_and_a_draft_sends_nothing(client):
    world = await make_world()
    agency = await make_agency(facility_id=world.facility)
    await login(client, world.coordinator)
    created = await post_form(client, f"/clients/{world.own['id']}/referrals", _form(agency, urgency="urgent"))
    assert created.status_code == 303
    stored = (await Referral.select().run())[0]
    assert stored["status"] == "draft" and stored["expected_by"] == today() + timedelta(days=2)
    assert stored["consent_by"] == "Olive Owens" and stored["link_token_hash"] is None
    assert await Outbox.count().run() == 0


async def test_every_change_is_timestamped_by_whom_with_a_note_and_illegal_ones_are_refused(client):
    world = await make_world()
    agency = await make_agency(facility_id=world.facility)
    referral = await make_referral(client_id=world.own["id"], agency=agency, status="sent")
    await login(client, world.coordinator)
    illegal = await post_form(client, f"/referrals/{referral['id']}/status",
                              {"version": "1", "to_status": "completed", "outcome": "x"})
    assert illegal.status_code == 422 and "cannot follow" in illegal.text
    phoned = await post_form(client, f"/referrals/{referral['id']}/status",
                             {"version": "1", "to_status": "received", "note": "Rang to say it arrived",
                              "channel": "phone"})
    assert phoned.status_code == 303
    stale = await post_form(client, f"/referrals/{referral['id']}/status",
                            {"version": "1", "to_status": "accepted"})
    assert stale.status_code == 422 and "changed while you were on this page" in stale.text
    no_outcome = await post_form(client, f"/referrals/{referral['id']}/status",
                                 {"version": "2", "to_status": "declined"})
    assert no_outcome.status_code == 422 and "Write the outcome" in no_outcome.text
    declined = await post_form(client, f"/referrals/{referral['id']}/status",
                               {"version": "2", "to_status": "declined", "outcome": "Waiting list closed"})
    assert declined.status_code == 303
    events = await ReferralEvent.select(ReferralEvent.to_status, ReferralEvent.channel, ReferralEvent.note,
                                        ReferralEvent.by_user, ReferralEvent.at).order_by(ReferralEvent.id).run()
    assert [(e["to_status"], e["channel"]) for e in events] == [("received", "phone"), ("declined", "kinward")]
    assert events[0]["note"] == "Rang to say it arrived" and events[0]["by_user"] == world.coordinator["id"]
    assert all(e["at"] is not None for e in events)
    stored = (await Referral.select().run())[0]
    assert stored["outcome"] == "Waiting list closed" and stored["closed_at"] is not None
    page = await client.get(f"/referrals/{referral['id']}")
    assert "The loop is closed" in page.text and "Rang to say it arrived" in page.text


async def test_a_reminder_emails_a_fresh_link_and_the_old_one_stops(client):
    world = await make_world()
    agency = await make_agency(facility_id=world.facility)
    referral = await make_referral(client_id=world.own["id"], agency=agency, status="sent")
    await login(client, world.coordinator)
    assert (await post_form(client, f"/referrals/{referral['id']}/remind", {})).status_code == 303
    mail = await Outbox.select().where(Outbox.kind == "referral_reminder").run()
    assert len(mail) == 1
    fresh = mail[0]["body"].split("/r/")[1].split()[0]
    client.cookies.clear()
    assert (await client.get(f"/r/{referral['token']}")).status_code == 404
    assert (await client.get(f"/r/{fresh}")).status_code == 200


async def test_overdue_referrals_show_on_the_caseload_and_the_filtered_list(client):
    world = await make_world()
    agency = await make_agency(facility_id=world.facility, name="Oak Tree Day Centre")
    other_agency = await make_agency(facility_id=world.facility, name="Mill Lane Pharmacy")
    late = date.today() - timedelta(days=3)
    await make_referral(client_id=world.own["id"], agency=agency, status="sent", expected_by=late)
    await make_referral(client_id=world.own["id"], agency=other_agency, status="accepted", expected_by=late)
    await make_referral(client_id=world.others["id"], agency=agency, status="sent", expected_by=late,
                        reason="Other coordinator's")
    await login(client, world.coordinator)
    alerts = await client.get("/caseload/referrals", headers={"hx-request": "true"})
    assert "Oak Tree Day Centre" in alerts.text and "Mill Lane" not in alerts.text and "Otto" not in alerts.text
    assert 'hx-get="/caseload/referrals"' in (await client.get("/caseload")).text
    overdue = (await client.get("/referrals?overdue=1")).text.split("<tbody>")[1]
    assert "Oak Tree Day Centre" in overdue and "Mill Lane" not in overdue
    by_agency = await client.get(f"/referrals?agency={other_agency['id']}&status=all")
    assert "Mill Lane" in by_agency.text and "Oak Tree" not in by_agency.text.split("<tbody>")[1]
    assert "Otto" not in (await client.get("/referrals?status=all")).text
    await login(client, world.admin)
    assert "Otto" in (await client.get("/referrals?overdue=1")).text


async def test_the_family_sees_only_referrals_marked_shareable(client):
    world = await make_world()
    agency = await make_agency(facility_id=world.facility, name="Oak Tree Day Centre")
    hidden = await make_agency(facility_id=world.facility, name="Secret Clinic")
    await make_referral(client_id=world.own["id"], agency=agency, shareable=True)
    await make_referral(client_id=world.own["id"], agency=hidden, reason="Private matter")
    await login(client, world.family)
    page = await client.get(f"/clients/{world.own['id']}/referrals")
    assert page.status_code == 200
    assert "Oak Tree Day Centre" in page.text and "Secret Clinic" not in page.text
    assert "Private matter" not in page.text and "Refer to an agency" not in page.text
    home = (await client.get("/family")).text
    assert f'hx-get="/clients/{world.own["id"]}/referrals"' in home
    assert f'hx-get="/clients/{world.own["id"]}/providers"' in home
