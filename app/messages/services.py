"""Writes and rules for messages: posting, read receipts, email notices, escalation, digests, preferences."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Optional
from zoneinfo import ZoneInfo

from app import clock, db
from app.accounts.queries import facility_by_id
from app.accounts.tables import Role, User
from app.audit.services import Actor, audit_record
from app.clients import queries as clients
from app.errors import FieldError
from app.i18n import _, ngettext
from app.mail.services import outbox_enqueue
from app.web.links import absolute_link
from app.messages import queries
from app.messages.tables import EmailMode, Message, MessagePreference, MessageRead, Visibility
from app.policy import can_on
from app.visits.queries import open_concerns_for
from app.visits.rules import severity_labels

MESSAGE_MAX = 2000
# Daily digests go out once the facility's day has begun, not at midnight.
DIGEST_HOUR = time(7, 0)


class MessageError(FieldError):
    """A rule refused the message; `field` names the form field the message belongs next to."""


@dataclass(frozen=True)
class Person:
    """Someone the policy is asked about outside a request (digests, notices)."""

    id: int
    facility_id: int
    role: str


def message_body_problem(body: str) -> Optional[str]:
    """Why this text cannot be sent, or None. Plain text only: it is always shown escaped."""
    if not body.strip():
        return _("Write a message before sending.")
    if len(body) > MESSAGE_MAX:
        return _("Keep a message to {limit} characters; this one has {count}. Split it into two.").format(
            limit=MESSAGE_MAX, count=len(body))
    return None


def message_body_clean(body: str) -> str:
    """Line breaks made uniform, surrounding blank space and control characters removed."""
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c for c in body if c in "\n\t" or c >= " ").strip()


async def message_post(*, actor: Actor, client_id: int, facility_id: int, body: str, team_only: bool) -> int:
    """Add a message to the client's thread and queue the email notices, in one transaction.

    Messages are never edited or deleted afterwards: a correction is a new message.
    """
    body = message_body_clean(body)
    problem = message_body_problem(body)
    if problem:
        raise MessageError("body", problem)
    if team_only and actor.role == Role.family.value:
        raise MessageError("body", _("Family members cannot write team-only notes."))
    visibility = Visibility.team if team_only else Visibility.family
    now = clock.utcnow()
    async with db.transaction():
        rows = await Message.insert(Message(
            client=client_id, author=actor.user_id, author_role=actor.role, visibility=visibility.value,
            body=body, created_at=now,
        )).run()
        message_id = rows[0]["id"]
        await _notify_new_message(actor=actor, client_id=client_id, facility_id=facility_id, team_only=team_only)
        await audit_record(actor=actor, action="client.message_posted", facility_id=facility_id,
                           client_id=client_id, object_type="message", object_id=message_id,
                           detail={"visibility": visibility.value, "length": len(body)})
    return message_id


async def thread_participants(*, client_id: int, facility_id: int) -> list[dict]:
    """Everyone who may write in the thread today: the coordinators on the team, family allowed to message."""
    facility = await facility_by_id(facility_id=facility_id)
    today = clock.today_in(facility["timezone"])
    team = await clients.care_team_for(client_id=client_id, today=today)
    people = [{"user_id": m["user_id"], "email": m["email"], "name": m["display_name"], "family": False}
              for m in team["current"] if m["role"] == Role.coordinator.value]
    people += [{"user_id": link["user_id"], "email": link["email"], "name": link["display_name"], "family": True}
               for link in await clients.family_links_for(client_id=client_id)
               if link["may_message"] and link["active"]]
    return people


async def _notify_new_message(*, actor: Actor, client_id: int, facility_id: int, team_only: bool) -> None:
    people = [p for p in await thread_participants(client_id=client_id, facility_id=facility_id)
              if p["user_id"] != actor.user_id and not (team_only and p["family"])]
    modes = await queries.email_modes_for(user_ids=[p["user_id"] for p in people])
    client = await clients.client_name(client_id=client_id)
    author = await _display_name(actor)
    for person in people:
        if modes[person["user_id"]] != EmailMode.each.value:
            continue
        # Care details stay in Kinward: the email says who wrote about whom, not what.
        await outbox_enqueue(
            kind="message", to_address=person["email"],
            subject=_("New message about {client} in Kinward").format(client=client["first_name"]),
            body=_("Hello {name},\n\n{author} wrote a new message about {client}.\n\nRead it and reply in Kinward:\n"
                   "{link}\n\nYou receive this email because you take part in {client}'s care. You can choose "
                   "a daily summary or no emails instead: {settings}\n").format(
                name=person["name"], author=author, client=client["first_name"],
                link=absolute_link(f"/clients/{client_id}/messages"), settings=absolute_link("/account/notifications")),
        )


async def _display_name(actor: Actor) -> str:
    row = await User.select(User.display_name).where(User.id == actor.user_id).first().run()
    return row["display_name"] if row else actor.label


async def thread_mark_read(*, user_id: int, client_id: int, team: bool, from_id: int, to_id: int) -> list[int]:
    """Receipts for the messages from `from_id` to `to_id` the user has just been shown; returns those new to them."""
    now = clock.utcnow()
    family_only = "" if team else " AND message.visibility = 'family'"
    rows = await MessageRead.raw(
        "INSERT INTO message_read (message, \"user\", read_at) SELECT message.id, {}, {} FROM message "
        "WHERE message.client = {} AND message.id >= {} AND message.id <= {} AND message.author <> {}" + family_only
        + " AND NOT EXISTS (SELECT 1 FROM message_read seen WHERE seen.message = message.id AND seen.\"user\" = {}) "
        "ON CONFLICT DO NOTHING RETURNING message",
        user_id, now, client_id, from_id, to_id, user_id, user_id,
    ).run()
    return sorted(row["message"] for row in rows)


# --- escalation and digests: run by the mail worker in every process ---------------------------

async def escalations_enqueue(*, now: Optional[datetime] = None) -> int:
    """Email the coordinators about family messages left unanswered past the facility's limit (once each)."""
    now = now or clock.utcnow()
    sent = 0
    for message in await queries.unanswered_family_messages(not_escalated=True):
        if not queries.answer_overdue(asked_at=message["created_at"], now=now, limit_hours=message["limit_hours"]):
            continue
        async with db.transaction():
            # The claim makes one process, and only one, send this escalation.
            claimed = await Message.update({Message.escalated_at: now}).where(
                (Message.id == message["id"]) & Message.escalated_at.is_null()
            ).returning(Message.id).run()
            if not claimed:
                continue
            people = [p for p in await thread_participants(client_id=message["client"],
                                                           facility_id=message["facility_id"]) if not p["family"]]
            modes = await queries.email_modes_for(user_ids=[p["user_id"] for p in people])
            name = message["first_name"]  # as in every email: mailboxes are not the care record
            for person in people:
                if modes[person["user_id"]] != EmailMode.each.value:
                    continue  # digest readers find it in their digest; "none" means none
                await outbox_enqueue(
                    kind="escalation", to_address=person["email"],
                    subject=_("A family message about {client} is waiting for an answer").format(client=name),
                    body=_("Hello {name},\n\n{author} wrote about {client} {hours} hours or more ago and nobody "
                           "on the care team has answered yet.\n\nAnswer in Kinward:\n{link}\n").format(
                        name=person["name"], author=message["author_name"], client=name,
                        hours=message["limit_hours"], link=absolute_link(f"/clients/{message['client']}/messages")),
                )
            await audit_record(actor=Actor(label="kinward mail", facility_id=message["facility_id"]),
                               action="client.message_escalated", facility_id=message["facility_id"],
                               client_id=message["client"], object_type="message", object_id=message["id"])
        sent += 1
    return sent


async def thread_relations_of(*, person: Person, today: date) -> list:
    """The client threads this person takes part in, as the policy sees them."""
    relations = await clients.client_relations_of(user=person, today=today)
    return [r for r in relations if can_on(person, "client.messages.view", r)]


async def digests_enqueue(*, now: Optional[datetime] = None) -> int:
    """Each morning, one email per digest reader with unread messages (and, for coordinators, overdue ones)."""
    now = now or clock.utcnow()
    queued = 0
    for candidate in await queries.digest_candidates():
        local = now.astimezone(ZoneInfo(candidate["timezone"]))
        today = local.date()
        if not candidate["active"] or local.time() < DIGEST_HOUR:
            continue
        if candidate["digest_sent_on"] is not None and candidate["digest_sent_on"] >= today:
            continue
        person = Person(id=candidate["user_id"], facility_id=candidate["facility_id"], role=candidate["role"])
        relations = await thread_relations_of(person=person, today=today)
        unread_by_client: dict[int, int] = {}
        for team in (True, False):
            ids = [r.client_id for r in relations if can_on(person, "client.messages.team_notes", r) == team]
            unread_by_client.update(await queries.unread_counts_for(user_id=person.id, client_ids=ids, team=team))
        overdue, concerns = [], []
        if person.role == Role.coordinator.value:
            client_ids = [r.client_id for r in relations]
            overdue = await queries.overdue_for(client_ids=client_ids, now=now)
            # Concerns nobody has acknowledged yet: a digest reader hears of a low or medium one here.
            concerns = [c for c in await open_concerns_for(client_ids=client_ids)
                        if c["concern_acknowledged_at"] is None]
        body = await _digest_body(name=candidate["display_name"], unread_by_client=unread_by_client, overdue=overdue,
                                  concerns=concerns)
        async with db.transaction():
            claimed = await MessagePreference.update({MessagePreference.digest_sent_on: today}).where(
                (MessagePreference.id == candidate["id"])
                & (MessagePreference.digest_sent_on.is_null() | (MessagePreference.digest_sent_on < today))
            ).returning(MessagePreference.id).run()
            if not claimed or body is None:
                continue  # another process sent today's, or there is nothing to tell
            await outbox_enqueue(kind="digest", to_address=candidate["email"],
                                 subject=_("Your daily Kinward summary"), body=body)
        queued += 1
    return queued


async def _digest_body(*, name: str, unread_by_client: dict[int, int], overdue: list[dict],
                       concerns: list[dict]) -> Optional[str]:
    unread = sum(unread_by_client.values())
    if not (unread or overdue or concerns):
        return None
    lines = [_("Hello {name},").format(name=name), "",
             ngettext("You have %(num)d unread message in Kinward.",
                      "You have %(num)d unread messages in Kinward.", unread) % {"num": unread}]
    for client_id, count in sorted(unread_by_client.items()):
        if count:
            client = await clients.client_name(client_id=client_id)
            lines.append(f"- {client['first_name']} ({count}): {absolute_link(f'/clients/{client_id}/messages')}")
    if overdue:
        lines += ["", ngettext("%(num)d family message has waited too long for an answer:",
                               "%(num)d family messages have waited too long for an answer:",
                               len(overdue)) % {"num": len(overdue)}]
        for message in overdue:
            link = absolute_link(f"/clients/{message['client']}/messages")
            lines.append(f"- {message['first_name']}: {link}")
    if concerns:
        # The client's first name and how serious, never what: care details stay in Kinward.
        lines += ["", ngettext("%(num)d concern raised at a visit is not acknowledged yet:",
                               "%(num)d concerns raised at visits are not acknowledged yet:",
                               len(concerns)) % {"num": len(concerns)}]
        severities = severity_labels()
        for concern in concerns:
            link = absolute_link(f"/visits/{concern['id']}/concern")
            lines.append(f"- {concern['client_first_name']} ({severities.get(concern['concern_severity'], '')}): {link}")
    lines += ["", _("Change how often you hear from Kinward: {link}").format(link=absolute_link("/account/notifications"))]
    return "\n".join(lines) + "\n"


async def email_mode_set(*, actor: Actor, user_id: int, mode: str) -> None:
    """Each message, a daily digest, or no emails about messages."""
    mode = EmailMode(mode).value
    async with db.transaction():
        existing = await MessagePreference.select(MessagePreference.id).where(
            MessagePreference.user == user_id).first().run()
        if existing:
            await MessagePreference.update({MessagePreference.email: mode}).where(
                MessagePreference.id == existing["id"]).run()
        else:
            await MessagePreference.insert(MessagePreference(user=user_id, email=mode)).run()
        await audit_record(actor=actor, action="user.message_emails_set", object_type="user", object_id=user_id,
                           detail={"mode": mode})
