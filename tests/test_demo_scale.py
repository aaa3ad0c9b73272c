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
    last_client = (await Client.select(Client.id).order_by(Client.id, ascending=False).first().run())["id"]
    counts = await demo_scale.demo_scale(1, log=lambda *_: None)
    added = Message.client > last_client
    assert counts["clients"] == 4 and await Client.count().where(Client.id > last_client) == 4
    family = await Message.count().where(added & (Message.author_role == "family"))
    assert family >= 4 and await Message.count().where(added) == counts["messages"] == 2 * family
    assert await escalations_enqueue() == 0
    await audit_seal()  # what planning the next weeks recorded
    assert await audit_chain_verify() is None
