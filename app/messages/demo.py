"""Demo conversations: one in each demo family's thread, the second family's last message still unanswered.

Written straight into the tables with times in the past (so the unanswered one is already overdue
on Ben Coordinator's home) and without emails: nobody should be mailed about invented people.
"""

from __future__ import annotations

from datetime import timedelta

from app import clock
from app.accounts.queries import user_by_email
from app.clients.queries import clients_for_family
from app.messages.services import Person
from app.messages.tables import Message, MessageRead, Visibility

# (author, hours ago, team-only, text, read by) — every person and word here is invented.
CONVERSATIONS = {
    ("family", "coordinator"): (
        ("family", 50, False, "Hello Anna, Mum mentioned her new tablets make her dizzy in the mornings. "
                              "Could someone keep an eye on it?", ("coordinator",)),
        ("coordinator", 49, False, "Thank you, Fiona. I have asked the morning carers to note any dizziness, "
                                   "and I will raise it with her GP on Friday.", ("family",)),
        ("coordinator", 48.9, True, "GP surgery called back: medication review booked for Friday at 10:00. "
                                    "Morning visits: take her blood pressure if she feels dizzy.", ("worker",)),
        ("family", 26, False, "That is reassuring, thank you.", ("coordinator",)),
        ("coordinator", 25, False, "You are welcome. I will tell you what the GP says on Friday.", ("family",)),
    ),
    ("family2", "coordinator2"): (
        ("coordinator2", 75, False, "Hello Frank, Edith's care review is due next month. "
                                    "Would you like to join it?", ("family2",)),
        ("family2", 73, False, "Yes please. Afternoons suit me best.", ("coordinator2",)),
        ("coordinator2", 72, False, "Noted. I will send you the date once it is fixed.", ("family2",)),
        ("family2", 30, False, "Could Tuesday's visit be moved later? Mum's hospital appointment was changed "
                               "to 9:30.", ()),
    ),
}


async def demo_conversations(*, facility_id: int) -> None:
    now = clock.utcnow()
    people = {}
    for name in ("family", "family2", "coordinator", "coordinator2", "worker", "worker2"):
        people[name] = await user_by_email(email=f"{name}@kinward.example")
    for (family, _coordinator), messages in CONVERSATIONS.items():
        person = people[family]
        linked = await clients_for_family(user=Person(id=person["id"], facility_id=facility_id, role=person["role"]))
        if not linked:
            continue
        client_id = linked[0]["id"]
        for author, hours_ago, team_only, text, readers in messages:
            at = now - timedelta(hours=hours_ago)
            rows = await Message.insert(Message(
                client=client_id, author=people[author]["id"], author_role=people[author]["role"],
                visibility=(Visibility.team if team_only else Visibility.family).value, body=text, created_at=at,
            )).run()
            for reader in readers:
                await MessageRead.insert(MessageRead(message=rows[0]["id"], user=people[reader]["id"],
                                                     read_at=at + timedelta(minutes=20))).run()
