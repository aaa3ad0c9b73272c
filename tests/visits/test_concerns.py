"""Concerns reach someone: a high one is emailed to the team's coordinators at once (through the outbox),
acknowledged (who, when), actioned (what), resolved; one nobody acknowledges escalates to the admins."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from app.audit.tables import AuditEvent
from app.mail.tables import Outbox
from app.messages.services import digests_enqueue
from app.messages.tables import MessagePreference
from app.visits.forms import TEXT_MAX
from app.visits.services import concern_escalations_enqueue
from app.visits.tables import Visit
from tests.conftest import post_form, sign_in
from tests.visits.test_logging import check_in, logging_world, open_log, save

TEXT = "Bruise on the left arm; says she fell in the night"


async def make_world_with_preference(mode: str):
    world, visit = await logging_world()
    await MessagePreference.insert(MessagePreference(user=world.coordinator["id"], email=mode)).run()
    return world, visit


async def raised(client, monday_morning, severity: str = "high", world=None):
    world, visit = world or await logging_world()
    monday_morning.advance(hours=2)
    await sign_in(client, world.worker)
    await check_in(client, visit)
    seen = await open_log(client, visit, "concern")
    saved = await save(client, visit, "concern", {"concern": "on", "concern_severity": severity, "concern_text": TEXT},
                       seen)
    assert saved.status_code in (200, 303)
    return world, visit


async def outbox(kind: str) -> list[dict]:
    return await Outbox.select(Outbox.to_address, Outbox.subject, Outbox.body).where(Outbox.kind == kind).run()


async def test_a_high_concern_is_emailed_to_the_teams_coordinators_once_without_its_text(client, monday_morning):
    world, visit = await raised(client, monday_morning)
    [mail] = await outbox("concern")
    assert mail["to_address"] == world.coordinator["email"]  # coordinator2 is not on this client's team
    assert "Olive" in mail["subject"] and TEXT not in mail["body"] and f"/visits/{visit['id']}/concern" in mail["body"]
    # Typing on in the concern sends nothing more.
    seen = await open_log(client, visit, "concern")
    await save(client, visit, "concern", {"concern": "on", "concern_severity": "high",
                                          "concern_text": TEXT + ", and the GP is away"}, seen)
    assert len(await outbox("concern")) == 1
    row = await Visit.select(Visit.concern_raised_at, Visit.concern_emailed_at).where(Visit.id == visit["id"]).first().run()
    assert row["concern_raised_at"] is not None and row["concern_emailed_at"] is not None


async def test_a_medium_concern_is_emailed_to_coordinators_who_hear_of_each_message_and_again_if_raised_to_high(
        client, monday_morning):
    world, visit = await raised(client, monday_morning, severity="medium")
    [mail] = await outbox("concern")  # no preference chosen: every message, so every concern
    assert mail["to_address"] == world.coordinator["email"] and "A concern about Olive" in mail["subject"]
    assert "Medium: needs a look soon" in mail["body"] and TEXT not in mail["body"]
    seen = await open_log(client, visit, "concern")
    await save(client, visit, "concern", {"concern": "on", "concern_severity": "medium", "concern_text": TEXT + "."},
               seen)
    assert len(await outbox("concern")) == 1
    seen = await open_log(client, visit, "concern")
    await save(client, visit, "concern", {"concern": "on", "concern_severity": "high", "concern_text": TEXT}, seen)
    assert [m["subject"] for m in await outbox("concern")][1] == "A high concern about Olive needs action today"
    await sign_in(client, world.coordinator)
    alerts = (await client.get("/caseload/visits")).text
    assert f'href="/visits/{visit["id"]}/concern"' in alerts and "not acknowledged" in alerts


async def test_a_low_concern_follows_the_coordinators_preference_a_digest_lists_it_none_sends_nothing(
        client, monday_morning):
    world = await make_world_with_preference("digest")
    world, visit = await raised(client, monday_morning, severity="low", world=world)
    assert await outbox("concern") == []
    monday_morning.advance(days=1)
    assert await digests_enqueue() == 1
    [digest] = await outbox("digest")
    assert digest["to_address"] == world.coordinator["email"]
    assert f"/visits/{visit['id']}/concern" in digest["body"] and "Low: worth knowing" in digest["body"]
    assert TEXT not in digest["body"]


async def test_a_coordinator_who_chose_no_emails_gets_none_for_a_low_concern_but_always_one_for_a_high(
        client, monday_morning):
    world = await make_world_with_preference("none")
    world, visit = await raised(client, monday_morning, severity="low", world=world)
    assert await outbox("concern") == []
    seen = await open_log(client, visit, "concern")
    await save(client, visit, "concern", {"concern": "on", "concern_severity": "high", "concern_text": TEXT}, seen)
    [mail] = await outbox("concern")
    assert mail["to_address"] == world.coordinator["email"] and "needs action today" in mail["subject"]


async def test_the_coordinator_opens_the_concern_acknowledges_it_records_what_was_done_and_resolves_it(
        client, monday_morning):
    world, visit = await raised(client, monday_morning)
    url = f"/visits/{visit['id']}/concern"
    assert (await client.get(url)).status_code == 404  # the worker acts in the log, not here
    await sign_in(client, world.coordinator)
    page = (await client.get(url)).text
    assert TEXT in page and 'id="log-concern"' not in page  # the concern, not the worker's editable log
    assert (await post_form(client, url + "/acknowledge", {})).status_code == 303
    refused = await post_form(client, url + "/action", {"action_note": "  "})
    assert refused.status_code == 422 and 'href="#action_note"' in refused.text
    assert (await post_form(client, url + "/action", {"action_note": "GP asked to visit today"})).status_code == 303
    assert (await post_form(client, url + "/resolve", {"key": "resolve-key-0123456789", "resolution": "Seen"})
            ).status_code == 303
    row = await Visit.select().where(Visit.id == visit["id"]).first().run()
    assert row["concern_acknowledged_by"] == world.coordinator["id"] and row["concern_acknowledged_at"] is not None
    assert row["concern_action_note"] == "GP asked to visit today" and row["concern_resolved_at"] is not None
    actions = [e["action"] for e in await AuditEvent.select(AuditEvent.action).order_by(AuditEvent.seq).run()]
    for action in ("visit.concern_acknowledged", "visit.concern_actioned", "visit.concern_resolved"):
        assert action in actions
    assert "GP asked to visit today" in (await client.get(url)).text


async def test_an_unacknowledged_high_concern_escalates_to_the_admins_once_after_two_hours(client, monday_morning):
    world, visit = await raised(client, monday_morning)
    row = await Visit.select(Visit.concern_raised_at).where(Visit.id == visit["id"]).first().run()
    assert await concern_escalations_enqueue(now=row["concern_raised_at"] + timedelta(minutes=119)) == 0
    later = row["concern_raised_at"] + timedelta(minutes=121)
    # Every process runs the mail worker: two at once escalate it once.
    counts = await asyncio.gather(concern_escalations_enqueue(now=later), concern_escalations_enqueue(now=later))
    assert sorted(counts) == [0, 1]
    [mail] = await outbox("concern_escalation")
    assert mail["to_address"] == world.admin["email"] and TEXT not in mail["body"]


async def test_an_acknowledged_concern_does_not_escalate(client, monday_morning):
    world, visit = await raised(client, monday_morning)
    await sign_in(client, world.coordinator)
    await post_form(client, f"/visits/{visit['id']}/concern/acknowledge", {})
    row = await Visit.select(Visit.concern_raised_at).where(Visit.id == visit["id"]).first().run()
    assert await concern_escalations_enqueue(now=row["concern_raised_at"] + timedelta(hours=5)) == 0


async def test_what_was_done_that_is_too_long_or_has_control_characters_is_refused_and_nothing_is_stored(
        client, monday_morning):
    world, visit = await raised(client, monday_morning)
    await sign_in(client, world.coordinator)
    url = f"/visits/{visit['id']}/concern/action"
    for note in ("x" * (TEXT_MAX + 1), "Called the GP\x00"):
        refused = await post_form(client, url, {"action_note": note})
        assert refused.status_code == 422 and 'href="#action_note"' in refused.text, repr(note[:20])
    row = await Visit.select().where(Visit.id == visit["id"]).first().run()
    assert row["concern_action_note"] == "" and row["concern_actioned_at"] is None
    assert (await post_form(client, url, {"action_note": "Called the GP\r\nVisit tomorrow"})).status_code == 303
    row = await Visit.select().where(Visit.id == visit["id"]).first().run()
    assert row["concern_action_note"] == "Called the GP\nVisit tomorrow"



async def test_postgresql_can_read_a_clients_open_concerns_through_their_partial_index_in_a_generic_plan():
    """The handover asks for a client's open concerns on every visit page. PostgreSQL plans a prepared statement
    once for any values after a few runs; that plan can use the partial index `visit_open_concern` only if the
    query says `concern = true` as the index does (not `concern = $1`). SQLite plans with the values bound."""
    from app import db
    from app.visits.queries import _OPEN_CONCERNS

    if not db.is_postgres():
        pytest.skip("a question about PostgreSQL's generic plans; SQLite plans each statement with its values")
    sql, args, slots = _OPEN_CONCERNS._compile(db.engine())
    types = ", ".join("integer" if i in slots else "unknown" for i in range(len(args)))
    values = ", ".join("7" if i in slots else repr(a) for i, a in enumerate(args))
    connection = await db.engine().get_new_connection()
    undone = connection.transaction()
    await undone.start()
    try:
        await connection.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        # Only the partial index or a scan of every visit are left to choose from (rolled back below).
        await connection.execute("DROP INDEX visit_client_start")
        await connection.execute(f"PREPARE open_concerns ({types}) AS {sql}")
        plan = "\n".join(r[0] for r in await connection.fetch(f"EXPLAIN EXECUTE open_concerns ({values})"))
    finally:
        await undone.rollback()
        await connection.close()
    assert "visit_open_concern" in plan, plan
