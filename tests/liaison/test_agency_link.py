"""The agency's link: one referral, each step once, refused after expiry, revocation and closing, counted
and audited at every use, and it reaches nothing else of Kinward."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from app.audit.tables import AuditEvent
from app.liaison.tables import Disclosure, Referral, ReferralEvent
from app.mail.tables import Outbox
from tests.clients.factories import make_world
from tests.conftest import csrf_token, login, post_form
from tests.liaison.factories import make_agency, make_referral


async def _referral(world, status="sent", **kwargs):
    agency = await make_agency(facility_id=world.facility, name="Riverside GP")
    return await make_referral(client_id=world.own["id"], agency=agency, status=status, **kwargs)


async def _stored(referral_id):
    return await Referral.select().where(Referral.id == referral_id).first().run()


async def test_the_agency_sees_minimum_details_and_answers_each_step_once(client):
    world = await make_world()
    referral = await _referral(world)
    page = await client.get(f"/r/{referral['token']}")
    assert page.status_code == 200
    assert "Olive" in page.text and "Falls assessment" in page.text
    # Minimum necessary: nothing of the record beyond the referral (no allergies, notes, date of birth).
    assert "Penicillin" not in page.text and "family dispute" not in page.text and "1940" not in page.text
    assert (await post_form(client, f"/r/{referral['token']}", {"to_status": "received"})).status_code == 200
    again = await post_form(client, f"/r/{referral['token']}", {"to_status": "received"})
    assert again.status_code == 422 and "already been given" in again.text
    assert (await post_form(client, f"/r/{referral['token']}", {"to_status": "accepted", "note": "Tuesday"})).status_code == 200
    assert (await post_form(client, f"/r/{referral['token']}", {"to_status": "accepted"})).status_code == 422
    stored = await _stored(referral["id"])
    assert stored["status"] == "accepted" and stored["answered_at"] is not None
    events = await ReferralEvent.select().where(ReferralEvent.referral == referral["id"]).order_by(ReferralEvent.id).run()
    assert [(e["to_status"], e["channel"]) for e in events] == [("received", "link"), ("accepted", "link")]
    assert events[1]["note"] == "Tuesday" and "Riverside GP" in events[1]["by_label"]


async def test_the_outcome_closes_the_referral_and_with_it_the_link(client):
    world = await make_world()
    referral = await _referral(world, status="accepted")
    missing = await post_form(client, f"/r/{referral['token']}", {"to_status": "completed", "outcome": " "})
    assert missing.status_code == 422 and "outcome" in missing.text.lower()
    done = await post_form(client, f"/r/{referral['token']}", {"to_status": "completed", "outcome": "Assessed at home"})
    assert done.status_code == 200 and "closed" in done.text
    stored = await _stored(referral["id"])
    assert stored["status"] == "completed" and stored["outcome"] == "Assessed at home" and stored["closed_at"]
    steps = [e["to_status"] for e in await ReferralEvent.select().where(ReferralEvent.referral == referral["id"]).run()]
    assert steps == ["in_progress", "completed"]
    assert (await client.get(f"/r/{referral['token']}")).status_code == 404
    assert (await post_form(client, f"/r/{referral['token']}", {"to_status": "completed", "outcome": "x"})).status_code == 404


async def test_the_link_is_refused_after_expiry_and_revocation(client, fake_clock):
    world = await make_world()
    referral = await _referral(world)
    assert (await client.get(f"/r/{referral['token']}")).status_code == 200
    fake_clock.advance(days=30, seconds=1)
    expired = await client.get(f"/r/{referral['token']}")
    assert expired.status_code == 404 and "does not work" in expired.text
    assert (await post_form(client, f"/r/{referral['token']}", {"to_status": "received"})).status_code == 404
    assert (await _stored(referral["id"]))["status"] == "sent"

    other = await _referral(world)
    await login(client, world.coordinator)
    assert (await post_form(client, f"/referrals/{other['id']}/link/revoke", {})).status_code == 303
    client.cookies.clear()
    assert (await client.get(f"/r/{other['token']}")).status_code == 404


async def test_every_use_is_counted_and_audited_with_its_address(client):
    world = await make_world()
    referral = await _referral(world)
    await client.get(f"/r/{referral['token']}")
    await client.get(f"/r/{referral['token']}")
    await post_form(client, f"/r/{referral['token']}", {"to_status": "received"})
    stored = await _stored(referral["id"])
    assert stored["link_uses"] == 3 and stored["link_last_used_at"] is not None
    audit = await AuditEvent.select(AuditEvent.action, AuditEvent.address, AuditEvent.client_id).where(
        AuditEvent.action.like("referral.link%")).order_by(AuditEvent.id).run()
    assert [a["action"] for a in audit] == ["referral.link_opened", "referral.link_opened", "referral.link_answered"]
    assert {a["address"] for a in audit} == {"127.0.0.1"} and {a["client_id"] for a in audit} == {world.own["id"]}
    disclosed = await Disclosure.select().where(Disclosure.referral == referral["id"]).run()
    assert [d["kind"] for d in disclosed] == ["referral_answered"]


async def test_two_answers_at_the_same_moment_take_one_step(client):
    world = await make_world()
    referral = await _referral(world, status="received")
    token = await csrf_token(client)
    answers = await asyncio.gather(*[
        client.post(f"/r/{referral['token']}", data={"_csrf_token": token, "to_status": to, "outcome": "No capacity"})
        for to in ("accepted", "declined") * 5])
    assert sorted(r.status_code for r in answers).count(200) == 1
    events = await ReferralEvent.select().where(ReferralEvent.referral == referral["id"]).run()
    assert len(events) == 1


async def test_the_link_reaches_no_other_referral_client_or_page(client):
    world = await make_world()
    mine = await _referral(world)
    agency = await make_agency(facility_id=world.facility)
    theirs = await make_referral(client_id=world.others["id"], agency=agency, reason="Other client's need")
    page = await client.get(f"/r/{mine['token']}")
    assert "Other client's need" not in page.text and "Otto" not in page.text
    # No session comes with it: every page of Kinward still asks to sign in.
    for path in (f"/clients/{world.own['id']}", f"/referrals/{mine['id']}", "/referrals", "/agencies",
                 f"/clients/{world.own['id']}/summary"):
        assert (await client.get(path)).status_code in (302, 303, 401), path
    assert (await client.get(f"/r/{mine['token']}x")).status_code == 404
    assert (await client.get(f"/r/{theirs['token'][:-1]}")).status_code == 404


async def test_sending_emails_the_agency_a_link_that_only_its_hash_is_kept_of(client):
    world = await make_world()
    agency = await make_agency(facility_id=world.facility, email="gp@example.org")
    await login(client, world.coordinator)
    created = await post_form(client, f"/clients/{world.own['id']}/referrals", {
        "agency_id": str(agency["id"]), "reason": "Medication review", "urgency": "urgent",
        "consent_by": "Olive Owens", "consent_on": "2026-01-02", "send": "on"})
    assert created.status_code == 303
    mail = await Outbox.select().where(Outbox.kind == "referral_link").run()
    assert len(mail) == 1 and mail[0]["to_address"] == "gp@example.org"
    token = mail[0]["body"].split("/r/")[1].split()[0]
    assert "Olive" not in mail[0]["body"] and "Medication" not in mail[0]["body"]
    stored = (await Referral.select().run())[0]
    assert stored["link_token_hash"] != token and len(stored["link_token_hash"]) == 64
    assert stored["link_expires_at"] - stored["sent_at"] == timedelta(days=30)
    client.cookies.clear()
    assert (await client.get(f"/r/{token}")).status_code == 200
