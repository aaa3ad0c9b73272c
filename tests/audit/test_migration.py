"""The migration that took the audit trail's unused indexes away (a table rebuild on SQLite) keeps every row."""

from __future__ import annotations

from piccolo.apps.migrations.commands.backwards import run_backwards
from piccolo.apps.migrations.commands.forwards import run_forwards

from app.audit.queries import audit_chain_verify
from app.audit.services import Actor, audit_record, audit_seal
from app.audit.tables import AuditEvent
from tests.conftest import make_facility

DROPPED_UNUSED_INDEXES = "2026-12-07T22:10:00:000000"


async def test_sealed_and_unsealed_rows_are_kept_as_they_were_backwards_and_forwards():
    facility = await make_facility()
    actor = Actor(user_id=1, label="a@example.org", role="admin", facility_id=facility, address="127.0.0.1")
    for n in range(3):
        await audit_record(actor=actor, action="test.sealed", client_id=n, detail={"n": n})
    await audit_seal()
    await audit_record(actor=actor, action="test.waiting", client_id=7, detail={"note": "not sealed yet"})
    before = await AuditEvent.select().order_by(AuditEvent.id).run()
    assert [r["seq"] is None for r in before] == [False, False, False, True]

    undone = await run_backwards("kinward", migration_id=DROPPED_UNUSED_INDEXES, auto_agree=True)
    try:
        assert undone.success, undone.message
        assert await AuditEvent.select().order_by(AuditEvent.id).run() == before
    finally:
        redone = await run_forwards("kinward")
    assert redone.success, redone.message
    assert await AuditEvent.select().order_by(AuditEvent.id).run() == before
    assert await audit_chain_verify() is None
    assert await audit_seal() == 1 and await audit_chain_verify() is None
