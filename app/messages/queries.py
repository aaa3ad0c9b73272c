"""Reads about messages: a client's thread with read receipts, unread counts, unanswered family messages."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Optional

from piccolo.columns.combination import WhereRaw
from piccolo.querystring import QueryString

from app import db
from app.accounts.tables import Role
from app.messages.tables import EmailMode, Message, MessagePreference, MessageRead, Visibility

THREAD_SIZE = 100
FAMILY_HOME_THREAD_SIZE = 20
# The team's latest notes on a visit's handover.
HANDOVER_NOTES = 5

# A family message counts as answered once a member of the care team writes to the family after it;
# a team-only note is not an answer, the family cannot see it.
_ANSWERED = ("EXISTS (SELECT 1 FROM message answer WHERE answer.client = message.client AND answer.id > message.id "
             "AND answer.visibility = 'family' AND answer.author_role <> 'family')")


@dataclass(frozen=True)
class Receipt:
    name: str
    role: str
    read_at: datetime


@dataclass
class ThreadMessage:
    id: int
    author_id: int
    author_name: str
    author_role: str
    team_only: bool
    body: str
    created_at: datetime
    mine: bool
    new: bool = False  # unread by the viewer until this view
    seen: bool = False  # read by the viewer before this view
    receipts: list[Receipt] = field(default_factory=list)


def _visible(team: bool) -> list[Any]:
    return [] if team else [Message.visibility == Visibility.family.value]


@functools.cache
def _thread_query(*, team: bool, earlier: bool, limit: int) -> db.Prebuilt:
    """A thread page's query, one per shape: the team's or the family's view, the latest or earlier messages, the size."""
    def build(client_id, **before):
        where = [Message.client == client_id, *_visible(team)]
        if earlier:
            where.append(Message.id < before["before"])
        return Message.select(
            Message.id, Message.author, Message.author_role, Message.visibility, Message.body, Message.created_at,
            Message.author.display_name.as_alias("author_name"),
        ).where(*where).order_by(Message.id, ascending=False).limit(limit)

    if earlier:
        return db.Prebuilt(lambda client_id, before: build(client_id, before=before))
    return db.Prebuilt(lambda client_id: build(client_id))


# The receipts of the messages shown (those between two ids; a message the viewer may not see is left out after).
_RECEIPTS = db.Prebuilt(lambda client_id, from_id, to_id: MessageRead.select(
    MessageRead.message, MessageRead.read_at, MessageRead.user.id.as_alias("user_id"),
    MessageRead.user.display_name.as_alias("name"), MessageRead.user.role.as_alias("role"),
).where((MessageRead.message.client == client_id) & (MessageRead.message >= from_id)
        & (MessageRead.message <= to_id)).order_by(MessageRead.read_at).order_by(MessageRead.id))


async def thread_messages(*, client_id: int, viewer_id: int, team: bool, before: Optional[int] = None,
                          limit: int = THREAD_SIZE) -> tuple[list[ThreadMessage], Optional[int]]:
    """The latest `limit` messages the viewer may see (before `before`), oldest first, with receipts."""
    query = _thread_query(team=team, earlier=before is not None, limit=limit + 1)
    rows = await (query.rows(client_id=client_id, before=before) if before is not None
                  else query.rows(client_id=client_id))
    earlier = rows[limit - 1]["id"] if len(rows) > limit else None
    rows = list(reversed(rows[:limit]))
    messages = [ThreadMessage(id=r["id"], author_id=r["author"], author_name=r["author_name"],
                              author_role=r["author_role"], team_only=r["visibility"] == Visibility.team.value,
                              body=r["body"], created_at=r["created_at"], mine=r["author"] == viewer_id)
                for r in rows]
    if messages:
        by_id = {m.id: m for m in messages}
        for read in await _RECEIPTS.rows(client_id=client_id, from_id=messages[0].id, to_id=messages[-1].id):
            message = by_id.get(read["message"])
            if message is None:
                continue
            if read["user_id"] == viewer_id:
                message.seen = True
            if read["user_id"] != message.author_id:
                message.receipts.append(Receipt(name=read["name"], role=read["role"], read_at=read["read_at"]))
    return messages, earlier


@functools.cache
def _team_notes(limit: int) -> db.Prebuilt:
    return db.Prebuilt(lambda client_id: Message.select(
        Message.id, Message.body, Message.created_at, Message.author.display_name.as_alias("author_name"),
    ).where((Message.client == client_id) & (Message.visibility == Visibility.team.value)).order_by(
        Message.id, ascending=False).limit(limit))


async def team_notes_for(*, client_id: int, limit: int = HANDOVER_NOTES) -> list[dict]:
    """The latest team-only notes about the client, newest first: for the team, never for the family."""
    return await _team_notes(limit).rows(client_id=client_id)


async def thread_state(*, client_id: int, team: bool) -> str:
    """Changes whenever a message the viewer may see is written or read: what live updates compare."""
    family_only = "" if team else " AND message.visibility = 'family'"
    rows = await Message.raw(
        "SELECT (SELECT MAX(message.id) FROM message WHERE message.client = {}" + family_only + ") AS last_message, "
        "(SELECT MAX(message_read.id) FROM message_read JOIN message ON message.id = message_read.message "
        "WHERE message.client = {}" + family_only + ") AS last_read",
        client_id, client_id,
    ).run()
    row = rows[0] if rows else {}
    return f"{row.get('last_message') or 0}.{row.get('last_read') or 0}"


def unread_count_sql(*, user_id: int, team: bool = True) -> QueryString:
    """A column for a select over `client`: how many messages of each client's thread the user has not read.

    The caseload adds it to its page query, so unread counts cost no query of their own.
    """
    family_only = "" if team else " AND unread.visibility = 'family'"
    return QueryString(
        "(SELECT COUNT(*) FROM message unread WHERE unread.client = client.id AND unread.author <> {}"
        + family_only + " AND NOT EXISTS (SELECT 1 FROM message_read seen WHERE seen.message = unread.id "
        "AND seen.\"user\" = {}))",
        user_id, user_id,
    )


async def unread_counts_for(*, user_id: int, client_ids: list[int], team: bool) -> dict[int, int]:
    """Unread messages per client thread, for the given clients (one query)."""
    if not client_ids:
        return {}
    rows = await Message.select(Message.client, Message.id).where(
        Message.client.is_in(client_ids), Message.author != user_id, *_visible(team),
        WhereRaw("NOT EXISTS (SELECT 1 FROM message_read seen WHERE seen.message = message.id "
                 "AND seen.\"user\" = {})", user_id),
    ).run()
    counts = {client_id: 0 for client_id in client_ids}
    for row in rows:
        counts[row["client"]] += 1
    return counts


def answer_overdue(*, asked_at: datetime, now: datetime, limit_hours: int) -> bool:
    """A family message still unanswered `limit_hours` after it was written is escalated."""
    return now - asked_at >= timedelta(hours=limit_hours)


async def unanswered_family_messages(*, client_ids: Optional[list[int]] = None,
                                     not_escalated: bool = False) -> list[dict]:
    """Family messages no team member has answered yet, oldest first, with the facility's limit."""
    where: list[Any] = [Message.author_role == Role.family.value, Message.visibility == Visibility.family.value,
                        WhereRaw("NOT " + _ANSWERED)]
    if client_ids is not None:
        if not client_ids:
            return []
        where.append(Message.client.is_in(client_ids))
    if not_escalated:
        where.append(Message.escalated_at.is_null())
    return await Message.select(
        Message.id, Message.client, Message.created_at, Message.author.display_name.as_alias("author_name"),
        Message.client.first_name.as_alias("first_name"), Message.client.last_name.as_alias("last_name"),
        Message.client.preferred_name.as_alias("preferred_name"),
        Message.client.facility.id.as_alias("facility_id"),
        Message.client.facility.timezone.as_alias("timezone"),
        Message.client.facility.message_answer_hours.as_alias("limit_hours"),
    ).where(*where).order_by(Message.id).run()


async def overdue_for(*, client_ids: list[int], now: datetime) -> list[dict]:
    """Unanswered family messages past their facility's limit, for these clients (the coordinator's home)."""
    rows = await unanswered_family_messages(client_ids=client_ids)
    return [r for r in rows if answer_overdue(asked_at=r["created_at"], now=now, limit_hours=r["limit_hours"])]


async def email_modes_for(*, user_ids: list[int]) -> dict[int, str]:
    """Each person's email preference; someone who never chose hears of every message."""
    if not user_ids:
        return {}
    rows = await MessagePreference.select(MessagePreference.user, MessagePreference.email).where(
        MessagePreference.user.is_in(user_ids)
    ).run()
    modes = {user_id: EmailMode.each.value for user_id in user_ids}
    modes.update({row["user"]: row["email"] for row in rows})
    return modes


async def email_mode_of(*, user_id: int) -> str:
    return (await email_modes_for(user_ids=[user_id]))[user_id]


async def digest_candidates() -> list[dict]:
    """People who chose a daily digest, with the facility day their last one went out."""
    return await MessagePreference.select(
        MessagePreference.id, MessagePreference.digest_sent_on, MessagePreference.user.id.as_alias("user_id"),
        MessagePreference.user.email.as_alias("email"), MessagePreference.user.role.as_alias("role"),
        MessagePreference.user.active.as_alias("active"),
        MessagePreference.user.display_name.as_alias("display_name"),
        MessagePreference.user.facility.id.as_alias("facility_id"),
        MessagePreference.user.facility.timezone.as_alias("timezone"),
    ).where(MessagePreference.email == EmailMode.digest.value).run()


async def message_counts_for(*, client_id: int, start: datetime, end: datetime) -> dict[str, int]:
    """Messages of the client's thread from `start` to `end`: from the family, from the team, team-only notes."""
    rows = await Message.select(
        QueryString("SUM(CASE WHEN author_role = 'family' THEN 1 ELSE 0 END)").as_alias("from_family"),
        QueryString("SUM(CASE WHEN author_role <> 'family' AND visibility = 'family' THEN 1 ELSE 0 END)").as_alias(
            "to_family"),
        QueryString("SUM(CASE WHEN visibility = 'team' THEN 1 ELSE 0 END)").as_alias("team_notes"),
    ).where((Message.client == client_id) & (Message.created_at >= start) & (Message.created_at < end)).run()
    row = rows[0] if rows else {}
    return {key: int(row.get(key) or 0) for key in ("from_family", "to_family", "team_notes")}
