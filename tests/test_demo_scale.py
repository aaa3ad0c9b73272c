"""`kinward demo --scale`: the large facility the benchmarks measure, built small here."""

from __future__ import annotations

import pytest

from app import demo_scale
from app.audit.queries import audit_chain_verify
from app.audit.services import audit_seal
from app.clients.tables import Client
from app.messages.services import escalations_enqueue
from app.messages.tables import Message
from tests.conftest import demo_seeded


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (("CLIENTS", 4), ("COORDINATORS", 1), ("WORKERS", 2), ("FAMILY", 2), ("YEARS", 0.06)):
        monkeypatch.setattr(demo_scale, name, value)


async def test_a_scale_build_leaves_the_first_server_no_history_to_catch_up_on(small):
    """Measured: the first benchmark run after a build escalated every weekly family message of three years
    (49,784, a transaction each) while it measured, for minutes. A team answers its messages: so does the
    build, and a server starting on it finds nothing overdue to escalate."""
    await demo_seeded()
    await escalations_enqueue()  # the demo's own overdue message
    await audit_seal()
    clients_before = await Client.count()
    counts = await demo_scale.demo_scale(1, log=lambda *_: None)
    assert counts["clients"] == 4 and await Client.count() == clients_before + 4
    family = await Message.count().where(Message.author_role == "family")
    assert counts["messages"] >= 8 and family >= 4
    assert await escalations_enqueue() == 0
    await audit_seal()  # what planning the next weeks recorded
    assert await audit_chain_verify() is None
