"""The audit write path: a page view costs at most one write transaction, concurrent requests share
commits, rows are sealed into the keyed chain by one sealer at a time, and verification catches
what the key and the signed checkpoint are there to catch."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import time

import pytest
from piccolo.querystring import QueryString

from app import db
from app.accounts.tables import Session
from app.audit.queries import CheckpointError, audit_chain_verify
from app.audit.services import (AUDIT_COLUMNS, PENDING_CHAINS_SQL, Actor, GENESIS, audit_checkpoint_make, audit_record,
                                audit_seal)
from app.audit.tables import AuditChain, AuditEvent
from app.visits.services import schedule_sync
from tests.careplans.factories import add_service, make_plan
from tests.clients.factories import make_client, make_world
from tests.conftest import login, make_facility, queries_sent, sqlite_plan
from tests.visits.conftest import MONDAY_MORNING


def actor(facility_id):
    return Actor(user_id=1, label="a@example.org", role="admin", facility_id=facility_id, address="127.0.0.1")


async def record(facility_id, count):
    for i in range(count):
        await audit_record(actor=actor(facility_id), action=f"test.action{i}", detail={"n": i})


async def busy_world():
    """The worker has visits to three clients today: My day shows all three."""
    world = await make_world()
    clients = [world.own] + [await make_client(facility_id=world.facility, coordinator=world.coordinator,
                                               workers=(world.worker,)) for _ in range(2)]
    for n, client in enumerate(clients):
        plan = await make_plan(client_id=client["id"])
        await add_service(plan_id=plan, worker=world.worker, start_time=time(9 + n))
    await schedule_sync(now=MONDAY_MORNING)
    return world, clients


async def test_a_page_view_of_my_day_the_caseload_and_a_client_record_makes_at_most_one_write_transaction(
        client, fake_clock):
    fake_clock.now = MONDAY_MORNING
    world, clients = await busy_world()
    for person, url in ((world.worker, "/my-day"), (world.coordinator, "/caseload"),
                        (world.coordinator, f"/clients/{world.own['id']}")):
        await login(client, person)
        # Past the session's last-seen granularity: the view also refreshes it, in the same transaction.
        fake_clock.advance(minutes=5)
        before_rows = await AuditEvent.count().run()
        before = db.write_transactions()
        page = await client.get(url)
        assert page.status_code == 200, url
        assert db.write_transactions() - before <= 1, url
        if url != "/caseload":
            assert await AuditEvent.count().run() > before_rows, url
    viewed = await AuditEvent.select(AuditEvent.client_id).where(
        (AuditEvent.action == "client.viewed") & (AuditEvent.actor_id == world.worker["id"])).run()
    # My day recorded every client it showed, in that one transaction.
    assert {c["id"] for c in clients} <= {v["client_id"] for v in viewed}


async def test_concurrent_writers_share_one_commit():
    facility = await make_facility()
    before = db.write_transactions()
    await asyncio.gather(*(record(facility, 1) for _ in range(20)))
    assert db.write_transactions() - before == 1
    assert await AuditEvent.count().where(AuditEvent.facility_id == facility).run() == 20


async def test_concurrent_page_views_are_all_recorded_before_they_are_answered_in_shared_commits(client):
    world = await make_world()
    await login(client, world.coordinator)
    before = db.write_transactions()
    pages = await asyncio.gather(*(client.get(f"/clients/{world.own['id']}") for _ in range(16)))
    assert all(p.status_code == 200 for p in pages)
    assert db.write_transactions() - before <= 16
    viewed = await AuditEvent.count().where(
        (AuditEvent.action == "client.viewed") & (AuditEvent.actor_id == world.coordinator["id"])).run()
    assert viewed >= 16


async def test_rows_are_stored_unsealed_and_the_sealer_chains_them_in_order_per_facility():
    first, second = await make_facility(), await make_facility()
    await record(first, 3)
    await record(second, 2)
    assert await AuditEvent.count().where(AuditEvent.seq.is_null()).run() == 5
    assert await audit_seal() == 5
    rows = await AuditEvent.select().where(AuditEvent.facility_id == first).order_by(AuditEvent.id).run()
    assert [r["seq"] for r in rows] == [1, 2, 3]
    assert rows[0]["prev_hash"] == GENESIS and rows[1]["prev_hash"] == rows[0]["hash"]
    await record(first, 2)
    await audit_seal()
    rows = await AuditEvent.select().where(AuditEvent.facility_id == first).order_by(AuditEvent.id).run()
    assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5] and rows[3]["prev_hash"] == rows[2]["hash"]
    assert await audit_chain_verify() is None


async def test_the_sealer_finds_what_is_waiting_without_reading_the_whole_trail():
    """The sealer asks which chains have unsealed rows each time it wakes, many times a second under load.
    Without an index of seq, SQLite answered by reading an index of every event ever recorded (19 ms on the
    benchmark's demo database, more than the page views it sealed)."""
    plan = await sqlite_plan(QueryString(PENDING_CHAINS_SQL))
    assert any(step.startswith("SEARCH audit_event USING") for step in plan), plan
    assert not any(step.startswith("SCAN audit_event") for step in plan), plan


async def test_sealers_running_at_once_give_each_row_one_place_in_the_chain():
    facility = await make_facility()
    await record(facility, 30)
    sealed = await asyncio.gather(*(audit_seal() for _ in range(4)))
    assert sum(sealed) == 30
    seqs = [r["seq"] for r in await AuditEvent.select(AuditEvent.seq).where(
        AuditEvent.facility_id == facility).order_by(AuditEvent.seq).run()]
    assert seqs == list(range(1, 31))
    assert await audit_chain_verify() is None


async def test_rows_rewritten_with_every_later_hash_recomputed_are_found_without_the_key():
    facility = await make_facility()
    await record(facility, 5)
    await audit_seal()
    rows = await AuditEvent.select().where(AuditEvent.facility_id == facility).order_by(AuditEvent.seq).run()
    # Someone with the database but not the key redoes the chain from row 2 with a plain SHA-256.
    prev = rows[0]["hash"]
    for row in rows[1:]:
        if row["seq"] == 2:
            row["detail"] = '{"n": 99}'
        canonical = json.dumps([prev, row["facility_id"], row["seq"], row["at"].isoformat(), *[
            row[c] for c in AUDIT_COLUMNS[2:]]], separators=(",", ":"))
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        await AuditEvent.update({AuditEvent.detail: row["detail"], AuditEvent.prev_hash: prev,
                                 AuditEvent.hash: digest}).where(AuditEvent.id == row["id"]).run()
        prev = digest
    await AuditChain.update({AuditChain.head_hash: prev}).where(AuditChain.chain_key == facility).run()
    broken = await audit_chain_verify()
    assert broken is not None and broken.seq == 2 and broken.reason == "content was altered"


async def test_removing_the_last_rows_is_found_by_the_head_and_by_the_checkpoint():
    facility = await make_facility()
    await record(facility, 5)
    checkpoint = await audit_checkpoint_make()
    await AuditEvent.delete().where((AuditEvent.facility_id == facility) & (AuditEvent.seq >= 4)).run()
    broken = await audit_chain_verify()
    assert broken is not None and broken.seq == 4 and "removed" in broken.reason
    # Also moving the head back: only the checkpoint, kept outside the database, still knows.
    row3 = await AuditEvent.select().where((AuditEvent.facility_id == facility) & (AuditEvent.seq == 3)).first().run()
    await AuditChain.update({AuditChain.seq: 3, AuditChain.head_hash: row3["hash"]}).where(
        AuditChain.chain_key == facility).run()
    assert await audit_chain_verify() is None
    broken = await audit_chain_verify(checkpoint)
    assert broken is not None and broken.facility_id == facility and "last rows were removed" in broken.reason


async def test_removing_a_whole_facilitys_chain_is_found_by_the_checkpoint():
    kept, removed = await make_facility(), await make_facility()
    await record(kept, 2)
    await record(removed, 3)
    checkpoint = await audit_checkpoint_make()
    await AuditEvent.delete().where(AuditEvent.facility_id == removed).run()
    await AuditChain.delete().where(AuditChain.chain_key == removed).run()
    assert await audit_chain_verify() is None
    broken = await audit_chain_verify(checkpoint)
    assert broken is not None and broken.facility_id == removed and "whole chain was removed" in broken.reason


async def test_a_checkpoint_edited_to_match_a_shortened_chain_is_refused():
    facility = await make_facility()
    await record(facility, 3)
    checkpoint = await audit_checkpoint_make()
    checkpoint["chains"][0]["seq"] = 1
    with pytest.raises(CheckpointError):
        await audit_chain_verify(checkpoint)


async def test_a_row_left_unsealed_long_after_it_was_stored_is_reported(fake_clock):
    facility = await make_facility()
    await record(facility, 1)
    assert await audit_chain_verify() is None  # a moment old: the sealer has not come round yet
    fake_clock.advance(minutes=10)
    broken = await audit_chain_verify()
    assert broken is not None and "not sealed" in broken.reason


async def test_a_failed_shared_commit_tells_every_waiter(monkeypatch):
    facility = await make_facility()

    async def refuse(*args, **kwargs):
        raise RuntimeError("disk full")

    original = db.engine().run_in_one_transaction
    monkeypatch.setattr(db.engine(), "run_in_one_transaction", refuse)
    results = await asyncio.gather(*(record(facility, 1) for _ in range(5)), return_exceptions=True)
    monkeypatch.setattr(db.engine(), "run_in_one_transaction", original)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert await AuditEvent.count().where(AuditEvent.facility_id == facility).run() == 0
    await record(facility, 1)  # and the next commit goes through
    assert await AuditEvent.count().where(AuditEvent.facility_id == facility).run() == 1


async def test_an_answer_is_not_sent_when_its_audit_events_cannot_be_stored(client, monkeypatch):
    world = await make_world()
    await login(client, world.coordinator)

    async def refuse(writes):
        raise RuntimeError("disk full")

    monkeypatch.setattr(db, "commit_shared", refuse)
    page = await client.get(f"/clients/{world.own['id']}")
    assert page.status_code == 503 and "Olive" not in page.text


async def test_my_days_queries_do_not_grow_with_the_number_of_clients_on_it(client, fake_clock):
    """Counted in the engine: as many queries for three clients on the list as for one."""
    from app.visits.tables import Visit

    fake_clock.now = MONDAY_MORNING
    world, clients = await busy_world()
    await login(client, world.worker)

    async def queries_of_my_day() -> tuple[int, str]:
        with queries_sent() as sent:
            page = await client.get("/my-day")
        assert page.status_code == 200
        return len(sent), page.text

    three, page = await queries_of_my_day()
    assert all(c["first_name"] in page for c in clients)
    await Visit.delete().where(Visit.client != world.own["id"]).run()
    one, page = await queries_of_my_day()
    assert clients[1]["first_name"] not in page and world.own["first_name"] in page
    assert three == one


async def test_a_page_showing_a_flash_message_clears_it_in_its_one_write_transaction(client, fake_clock):
    from app.web.sessions import flash_push

    world = await make_world()
    await login(client, world.coordinator)
    session = await Session.select(Session.id).where(Session.user == world.coordinator["id"]).first().run()
    await flash_push(session_id=session["id"], message="The plan was saved.")
    fake_clock.advance(minutes=5)  # the view also refreshes the session's last-seen time
    before = db.write_transactions()
    page = await client.get(f"/clients/{world.own['id']}")
    assert page.status_code == 200 and "The plan was saved." in page.text
    assert db.write_transactions() - before == 1
    again = await client.get(f"/clients/{world.own['id']}")
    assert "The plan was saved." not in again.text


async def test_clearing_shown_flash_messages_keeps_one_pushed_meanwhile():
    from app.web.sessions import flash_clear, flash_push, session_create

    world = await make_world()
    await session_create(user_id=world.coordinator["id"], absolute_hours=8)
    session = await Session.select(Session.id).where(Session.user == world.coordinator["id"]).first().run()
    await flash_push(session_id=session["id"], message="First.")
    shown = (await Session.select(Session.flash).where(Session.id == session["id"]).first().run())["flash"]
    await flash_push(session_id=session["id"], message="Second.")  # another request, before this page's commit
    await flash_clear(session_id=session["id"], shown=shown)
    left = (await Session.select(Session.flash).where(Session.id == session["id"]).first().run())["flash"]
    assert [m["message"] for m in json.loads(left)] == ["First.", "Second."]
