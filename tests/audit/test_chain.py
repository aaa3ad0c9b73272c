"""The audit trail: append-only, sealed into a keyed hash chain per facility, verifiable against signed checkpoints."""

import subprocess
import sys
import os

from app.audit.queries import audit_chain_verify
from app.audit.services import Actor, audit_record, audit_seal
from app.audit.tables import AuditEvent
from tests.conftest import make_facility


async def record_some(facility_id, count=5):
    for i in range(count):
        await audit_record(actor=Actor(user_id=1, label="a@example.org", role="admin", facility_id=facility_id,
                                       address="127.0.0.1"), action=f"test.action{i}", detail={"n": i})
    await audit_seal()


async def test_events_chain_each_row_to_the_previous_one_per_facility():
    first, second = await make_facility(), await make_facility()
    await record_some(first, 3)
    await record_some(second, 2)
    rows = await AuditEvent.select().where(AuditEvent.facility_id == first).order_by(AuditEvent.seq).run()
    assert [r["seq"] for r in rows] == [1, 2, 3]
    assert rows[1]["prev_hash"] == rows[0]["hash"] and rows[2]["prev_hash"] == rows[1]["hash"]
    assert await audit_chain_verify() is None


async def test_an_altered_row_is_found():
    facility = await make_facility()
    await record_some(facility)
    victim = await AuditEvent.select().where(AuditEvent.seq == 3).first().run()
    await AuditEvent.update({AuditEvent.detail: '{"n": 99}'}).where(AuditEvent.id == victim["id"]).run()
    broken = await audit_chain_verify()
    assert broken is not None and broken.event_id == victim["id"] and broken.seq == 3


async def test_a_removed_row_is_found():
    facility = await make_facility()
    await record_some(facility)
    await AuditEvent.delete().where(AuditEvent.seq == 2).run()
    broken = await audit_chain_verify()
    assert broken is not None and broken.seq == 2


async def test_a_rewritten_row_with_a_fresh_hash_still_breaks_the_next_link():
    from app.audit.services import event_hash

    facility = await make_facility()
    await record_some(facility)
    row = await AuditEvent.select().where(AuditEvent.seq == 2).first().run()
    fields = {k: row[k] for k in ("facility_id", "seq", "at", "actor_id", "actor_label", "role", "object_type",
                                  "object_id", "client_id", "device_id", "address", "detail")}
    forged = event_hash(prev_hash=row["prev_hash"], action="something.else", **fields)
    await AuditEvent.update({AuditEvent.action: "something.else", AuditEvent.hash: forged}).where(
        AuditEvent.id == row["id"]).run()
    broken = await audit_chain_verify()
    assert broken is not None and broken.seq == 3


async def test_cli_audit_checkpoint_with_nowhere_to_write_it_seals_and_prints_it():
    facility = await make_facility()
    for i in range(3):  # stored, not sealed
        await audit_record(actor=Actor(user_id=1, label="a@example.org", role="admin", facility_id=facility,
                                       address="127.0.0.1"), action=f"test.action{i}")
    env = {name: value for name, value in os.environ.items() if name != "KINWARD_AUDIT_CHECKPOINT"}
    done = subprocess.run([sys.executable, "-m", "app.cli", "audit", "checkpoint"], env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert '"seq": 3' in done.stdout and '"signature"' in done.stdout
    assert await AuditEvent.count().where(AuditEvent.seq.is_null()) == 0


async def test_cli_audit_verify_exits_zero_when_intact_and_non_zero_naming_the_row_when_broken():
    facility = await make_facility()
    await record_some(facility)
    env = dict(os.environ)
    ok = subprocess.run([sys.executable, "-m", "app.cli", "audit", "verify"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    victim = await AuditEvent.select().where(AuditEvent.seq == 4).first().run()
    await AuditEvent.update({AuditEvent.actor_label: "someone else"}).where(AuditEvent.id == victim["id"]).run()
    bad = subprocess.run([sys.executable, "-m", "app.cli", "audit", "verify"], env=env, capture_output=True, text=True)
    assert bad.returncode != 0
    assert f"id {victim['id']}" in bad.stderr and "row 4" in bad.stderr
