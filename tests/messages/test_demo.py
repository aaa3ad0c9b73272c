"""The demo facility has a short conversation in each family's thread, one of them waiting for an answer."""

from __future__ import annotations

from app import clock
from app.accounts.queries import user_by_email
from app.messages import queries
from app.messages.tables import Message
from tests.conftest import demo_seeded


async def test_each_demo_family_has_a_conversation_and_one_waits_for_an_answer():
    assert await demo_seeded()
    family = await user_by_email(email="family@kinward.example")
    family2 = await user_by_email(email="family2@kinward.example")
    threads = await Message.select(Message.client, Message.author).run()
    by_client: dict[int, set[int]] = {}
    for row in threads:
        by_client.setdefault(row["client"], set()).add(row["author"])
    assert len(by_client) == 2
    assert any(family["id"] in authors for authors in by_client.values())
    assert any(family2["id"] in authors for authors in by_client.values())

    overdue = await queries.overdue_for(client_ids=list(by_client), now=clock.utcnow())
    assert len(overdue) == 1 and overdue[0]["author_name"] == "Frank Family"
