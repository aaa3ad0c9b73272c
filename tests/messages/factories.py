"""Messages for tests, inserted directly (posting through the service is tested on its own)."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from app import clock
from app.messages.tables import Message, MessageRead


async def add_message(*, client_id: int, author: dict, body: str = "Hello", team_only: bool = False,
                      at: Optional[datetime] = None) -> int:
    rows = await Message.insert(Message(
        client=client_id, author=author["id"], author_role=author["role"],
        visibility="team" if team_only else "family", body=body, created_at=at or clock.utcnow(),
    )).run()
    return rows[0]["id"]


async def mark_read(*, message_id: int, user: dict, at: Optional[datetime] = None) -> None:
    await MessageRead.insert(MessageRead(message=message_id, user=user["id"], read_at=at or clock.utcnow())).run()
