"""Writes and rules for clients: intake, versioned edits, status, contacts, care teams, family, break-glass."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any, Awaitable, Callable, Optional

from app import clock, db
from app.accounts.queries import facility_by_id, user_by_email, user_in_facility
from app.accounts.services import AccountError, email_taken, one_time_link_create, user_create
from app.accounts.tables import Role
from app.audit.services import Actor, audit_record
from app.clients.queries import EDITABLE_FIELDS, search_key
from app.clients.tables import (BreakGlassGrant, CareTeamMember, Client, ClientContact, ClientStatus,
                                ClientStatusChange, FamilyLink, TeamRole)
from app.errors import FieldError, VersionConflict
from app.i18n import _
from app.mail.services import outbox_enqueue
from app.web.links import absolute_link

# Which status may follow which: a discharged client can only come back as a new referral.
STATUS_TRANSITIONS: dict[ClientStatus, tuple[ClientStatus, ...]] = {
    ClientStatus.referral: (ClientStatus.active, ClientStatus.discharged),
    ClientStatus.active: (ClientStatus.paused, ClientStatus.discharged),
    ClientStatus.paused: (ClientStatus.active, ClientStatus.discharged),
    ClientStatus.discharged: (ClientStatus.referral,),
}
BREAK_GLASS_REASON_MIN = 10

# A client's visits follow their status and their active plan. Visits stand above clients and care
# plans, so neither imports them: the assembly registers the schedule's update (app/wiring.py), and
# a change calls it inside its own transaction, so the change and its visits are stored together or
# not at all. Unregistered, it raises: a schedule left behind is never a silent skip.
ScheduleUpdate = Callable[..., Awaitable[Any]]  # (now, client_ids) -> what changed: created, removed, updated
_schedule_update: list[ScheduleUpdate] = []


def schedule_update_register(update: ScheduleUpdate) -> None:
    _schedule_update[:] = [update]


async def schedule_update(*, client_id: int) -> Any:
    """Bring the client's visits still to come in step with their status and plan, in the caller's transaction."""
    if not _schedule_update:
        raise RuntimeError("No schedule update is registered.")
    if not db.in_transaction():
        raise RuntimeError("The schedule follows a change inside that change's transaction.")
    return await _schedule_update[0](now=clock.utcnow(), client_ids=[client_id])


class ClientError(FieldError):
    """A rule refused the change; `field` names the form field the message belongs next to."""


class ClientVersionConflict(VersionConflict):
    """Someone saved the client since this edit began; `stored` is the record as it is now."""


class StaleRemoval(Exception):
    """The contact, membership or link is not at the version the person's page showed: nothing was done."""


@dataclass(frozen=True)
class ClientDetails:
    """The fields a person types about a client, validated (see forms.client_form)."""

    first_name: str
    last_name: str
    preferred_name: str = ""
    date_of_birth: Optional[date] = None
    address: str = ""
    phone: str = ""
    email: str = ""
    language: str = ""
    allergies: str = ""
    mobility: str = ""
    communication: str = ""
    what_matters: str = ""
    risks: str = ""
    care_instructions: str = ""
    flag: str = ""
    review_due: Optional[date] = None
    confidential_notes: str = ""


assert tuple(f.name for f in fields(ClientDetails)) == EDITABLE_FIELDS


@dataclass(frozen=True)
class FamilyInvitation:
    user_id: int
    link_id: int
    # A one-time set-password token for a new account; None when an existing family account was linked.
    token: Optional[str]


async def client_create(*, actor: Actor, facility_id: int, details: ClientDetails, today: date) -> int:
    """Intake: a new client in referral status; a coordinator taking the intake joins the care team."""
    now = clock.utcnow()
    values = {f: getattr(details, f) for f in EDITABLE_FIELDS}
    async with db.transaction():
        rows = await Client.insert(Client(
            facility=facility_id, search_name=search_key(details.first_name, details.last_name, details.preferred_name),
            status=ClientStatus.referral.value, status_since=today, created_at=now, updated_at=now, **values,
        )).run()
        client_id = rows[0]["id"]
        await ClientStatusChange.insert(ClientStatusChange(
            client=client_id, from_status="", to_status=ClientStatus.referral.value, effective_on=today,
            reason=_("Intake"), changed_by=actor.user_id, changed_at=now,
        )).run()
        if actor.role == Role.coordinator.value:
            await CareTeamMember.insert(CareTeamMember(
                client=client_id, user=actor.user_id, role=TeamRole.coordinator.value, since=today,
                added_by=actor.user_id,
            )).run()
        await audit_record(actor=actor, action="client.created", facility_id=facility_id, client_id=client_id,
                           object_type="client", object_id=client_id,
                           detail={"fields": [f for f in EDITABLE_FIELDS if values[f] not in ("", None)]})
    return client_id


def changed_fields(details: ClientDetails, stored: dict) -> list[str]:
    return [f for f in EDITABLE_FIELDS if getattr(details, f) != stored[f]]


async def client_update(*, actor: Actor, client_id: int, version: int, details: ClientDetails) -> list[str]:
    """Save an edit made on `version`; refused with ClientVersionConflict if the record moved on.

    Returns the names of the fields that changed (the audit trail keeps names, never values).
    """
    async with db.transaction():
        stored = await Client.select(Client.id, Client.version, Client.facility, *[
            getattr(Client, f) for f in EDITABLE_FIELDS
        ]).where(Client.id == client_id).first().run()
        if stored is None:
            raise ClientError("client", _("This client does not exist."))
        if stored["version"] != version:
            raise ClientVersionConflict(stored)
        changed = changed_fields(details, stored)
        if not changed:
            return []
        values = {getattr(Client, f): getattr(details, f) for f in changed}
        values[Client.search_name] = search_key(details.first_name, details.last_name, details.preferred_name)
        values[Client.updated_at] = clock.utcnow()
        await db.update_versioned(Client, values, where=Client.id == client_id, version=version,
                                  conflict=ClientVersionConflict(stored))
        await audit_record(actor=actor, action="client.updated", facility_id=stored["facility"], client_id=client_id,
                           object_type="client", object_id=client_id,
                           detail={"fields": changed, "version": version + 1})
    return changed


def status_choices(current: str) -> list[str]:
    """The statuses that may follow `current`, in lifecycle order."""
    return [s.value for s in STATUS_TRANSITIONS[ClientStatus(current)]]


def status_change_problem(*, current: str, to: str, effective_on: date, last_on: Optional[date],
                          today: date) -> Optional[tuple[str, str]]:
    """Why this status change may not be made, as (field, message), or None."""
    allowed = STATUS_TRANSITIONS[ClientStatus(current)]
    if to not in {s.value for s in allowed}:
        return "to_status", _("This status cannot follow the current one.")
    if effective_on > today:
        return "effective_on", _("The date cannot be in the future.")
    if last_on is not None and effective_on < last_on:
        return "effective_on", _("The date cannot be before the previous status change.")
    return None


async def client_status_change(*, actor: Actor, client_id: int, version: int, to_status: str,
                               effective_on: date, reason: str, today: date) -> Any:
    """Move the client along referral -> active -> paused -> discharged, with a date and a reason.

    The visits still to come follow in the same transaction (planned when Active, removed otherwise);
    returns what the schedule changed.
    """
    async with db.transaction():
        stored = await Client.select(Client.status, Client.version, Client.facility).where(
            Client.id == client_id
        ).first().run()
        if stored is None:
            raise ClientError("client", _("This client does not exist."))
        if stored["version"] != version:
            raise ClientVersionConflict(stored)
        last = await ClientStatusChange.select(ClientStatusChange.effective_on).where(
            ClientStatusChange.client == client_id
        ).order_by(ClientStatusChange.id, ascending=False).first().run()
        problem = status_change_problem(current=stored["status"], to=to_status, effective_on=effective_on,
                                        last_on=last["effective_on"] if last else None, today=today)
        if problem:
            raise ClientError(*problem)
        now = clock.utcnow()
        await db.update_versioned(Client, {Client.status: to_status, Client.status_since: effective_on,
                                           Client.updated_at: now},
                                  where=Client.id == client_id, version=version, conflict=ClientVersionConflict(stored))
        await ClientStatusChange.insert(ClientStatusChange(
            client=client_id, from_status=stored["status"], to_status=to_status, effective_on=effective_on,
            reason=reason, changed_by=actor.user_id, changed_at=now,
        )).run()
        await audit_record(actor=actor, action="client.status_changed", facility_id=stored["facility"],
                           client_id=client_id, object_type="client", object_id=client_id,
                           detail={"fields": ["status"], "from": stored["status"], "to": to_status,
                                   "version": version + 1})
        return await schedule_update(client_id=client_id)


async def contact_add(*, actor: Actor, client_id: int, name: str, relationship: str = "", phone: str = "",
                      email: str = "", notes: str = "", emergency: bool = False) -> int:
    async with db.transaction():
        rows = await ClientContact.insert(ClientContact(
            client=client_id, name=name, relationship=relationship, phone=phone, email=email, notes=notes,
            emergency=emergency,
        )).run()
        contact_id = rows[0]["id"]
        await audit_record(actor=actor, action="client.contact_added", client_id=client_id,
                           object_type="client_contact", object_id=contact_id)
    return contact_id


async def contact_remove(*, actor: Actor, client_id: int, contact_id: int, version: int) -> None:
    """Contacts are retired, not deleted: the record shows who could be called at the time."""
    async with db.transaction():
        await db.update_versioned(ClientContact, {ClientContact.removed_at: clock.utcnow()},
                                  where=(ClientContact.id == contact_id) & (ClientContact.client == client_id)
                                  & ClientContact.removed_at.is_null(), version=version, conflict=StaleRemoval())
        await audit_record(actor=actor, action="client.contact_removed", client_id=client_id,
                           object_type="client_contact", object_id=contact_id)


def periods_overlap(a_since: date, a_until: Optional[date], b_since: date, b_until: Optional[date]) -> bool:
    return (a_until is None or b_since <= a_until) and (b_until is None or a_since <= b_until)


async def team_member_add(*, actor: Actor, facility_id: int, client_id: int, user_id: int, since: date,
                          until: Optional[date] = None) -> int:
    """Put a coordinator or worker of the facility on the client's care team from `since` to `until`."""
    if until is not None and until < since:
        raise ClientError("until", _("The end date is before the start date."))
    person = await user_in_facility(facility_id=facility_id, user_id=user_id)
    if person is None or not person["active"] or person["role"] not in (Role.coordinator.value, Role.worker.value):
        raise ClientError("user_id", _("Choose a coordinator or care worker of this facility."))
    async with db.transaction():
        existing = await CareTeamMember.select(CareTeamMember.since, CareTeamMember.until).where(
            (CareTeamMember.client == client_id) & (CareTeamMember.user == user_id)
        ).run()
        if any(periods_overlap(since, until, m["since"], m["until"]) for m in existing):
            raise ClientError("user_id", _("This person is already on the care team for part of that time."))
        rows = await CareTeamMember.insert(CareTeamMember(
            client=client_id, user=user_id, role=person["role"], since=since, until=until, added_by=actor.user_id,
        )).run()
        member_id = rows[0]["id"]
        await audit_record(actor=actor, action="client.team_member_added", facility_id=facility_id,
                           client_id=client_id, object_type="care_team_member", object_id=member_id,
                           detail={"user_id": user_id, "role": person["role"]})
    return member_id


async def team_member_end(*, actor: Actor, client_id: int, member_id: int, until: date, version: int) -> None:
    """End a membership on `until` (its last day); the history of who was on the team stays."""
    async with db.transaction():
        member = await CareTeamMember.select(CareTeamMember.since, CareTeamMember.until, CareTeamMember.version).where(
            (CareTeamMember.id == member_id) & (CareTeamMember.client == client_id)
        ).first().run()
        if member is None:
            raise ClientError("member", _("This person is not on the care team."))
        if member["version"] != version:
            raise StaleRemoval()
        if until < member["since"]:
            raise ClientError("until", _("The end date is before the start date."))
        if member["until"] is not None and member["until"] < until:
            raise ClientError("until", _("This membership already ends earlier."))
        await db.update_versioned(CareTeamMember, {CareTeamMember.until: until}, where=CareTeamMember.id == member_id,
                                  version=version, conflict=StaleRemoval())
        await audit_record(actor=actor, action="client.team_member_ended", client_id=client_id,
                           object_type="care_team_member", object_id=member_id,
                           detail={"until": until.isoformat()})


async def family_invite(*, actor: Actor, facility_id: int, client_id: int, display_name: str, email: str,
                        relationship: str, may_see_schedule: bool, may_see_visit_summaries: bool,
                        may_message: bool, token: str = "") -> FamilyInvitation:
    """Link a family member to the client; a new account gets a one-time set-password link.

    An existing family account of the same facility is linked as it is (it already has a password).
    """
    email = email.strip().lower()
    chosen_token, token = token, None
    async with db.transaction():
        existing = await user_by_email(email=email)
        if existing is not None:
            if existing["facility"] != facility_id or existing["role"] != Role.family.value:
                raise ClientError("email", email_taken(account=existing, facility_id=facility_id).message)
            user_id = existing["id"]
            linked = await FamilyLink.exists().where(
                (FamilyLink.client == client_id) & (FamilyLink.user == user_id) & FamilyLink.ended_at.is_null()
            ).run()
            if linked:
                raise ClientError("email", _("This family member is already linked to this client."))
        else:
            try:
                user_id = await user_create(actor=actor, facility_id=facility_id, email=email,
                                            display_name=display_name, role=Role.family)
            except AccountError as error:
                raise ClientError(error.field, error.message) from None
            token = await one_time_link_create(actor=actor, user_id=user_id, purpose="set_password",
                                               token=chosen_token)
        rows = await FamilyLink.insert(FamilyLink(
            client=client_id, user=user_id, relationship=relationship, may_see_schedule=may_see_schedule,
            may_see_visit_summaries=may_see_visit_summaries, may_message=may_message, approved_by=actor.user_id,
        )).run()
        link_id = rows[0]["id"]
        await audit_record(actor=actor, action="client.family_invited", facility_id=facility_id, client_id=client_id,
                           object_type="family_link", object_id=link_id,
                           detail={"user_id": user_id, "new_account": token is not None,
                                   "may_see_schedule": may_see_schedule,
                                   "may_see_visit_summaries": may_see_visit_summaries, "may_message": may_message})
        # In the same transaction: the invitation email goes out if and only if the link exists.
        await _family_invitation_email(facility_id=facility_id, client_id=client_id, name=display_name,
                                       email=email, relationship=relationship, token=token)
    return FamilyInvitation(user_id=user_id, link_id=link_id, token=token)


async def _family_invitation_email(*, facility_id: int, client_id: int, name: str, email: str, relationship: str,
                                   token: Optional[str]) -> None:
    facility = await facility_by_id(facility_id=facility_id)
    client = await Client.select(Client.first_name).where(Client.id == client_id).first().run()
    values = {"name": name, "facility": facility["name"], "client": client["first_name"],
              "relationship": relationship, "email": email}
    if token is None:
        await outbox_enqueue(
            kind="family_link", to_address=email,
            subject=_("You can now follow {client}'s care on Kinward").format(**values),
            body=_("Hello {name},\n\n{facility} has linked your Kinward account to {client}, as their "
                   "{relationship}.\n\nSign in to see what the care team shares with you:\n{link}\n").format(
                link=absolute_link("/family"), **values))
        return
    await outbox_enqueue(
        kind="family_invitation", to_address=email,
        subject=_("You are invited to follow {client}'s care on Kinward").format(**values),
        body=_("Hello {name},\n\n{facility} invites you to follow the care of {client} on Kinward, as their "
               "{relationship}.\n\nChoose your password with this link. It works once, within 24 hours:\n{link}\n\n"
               "You will sign in with this email address, {email}. If you did not expect this email, you can "
               "ignore it.\n").format(link=absolute_link(f"/set-password/{token}"), **values))


async def family_link_end(*, actor: Actor, client_id: int, link_id: int, version: int) -> None:
    """The family member no longer follows this client; their account stays for other links."""
    async with db.transaction():
        await db.update_versioned(FamilyLink, {FamilyLink.ended_at: clock.utcnow()},
                                  where=(FamilyLink.id == link_id) & (FamilyLink.client == client_id)
                                  & FamilyLink.ended_at.is_null(), version=version, conflict=StaleRemoval())
        await audit_record(actor=actor, action="client.family_link_ended", client_id=client_id,
                           object_type="family_link", object_id=link_id)


async def break_glass_open(*, actor: Actor, client_id: int, session_id: int, reason: str) -> int:
    """Emergency access to a client outside one's team, for this session only; admins review it. Returns the grant.

    The reason is free text about the client: it is kept in the grant (purged with the client's
    record), and the audit row points at the grant.
    """
    reason = reason.strip()
    if len(reason) < BREAK_GLASS_REASON_MIN:
        raise ClientError("reason", _("Explain in a sentence why you need to open this record now."))
    async with db.transaction():
        rows = await BreakGlassGrant.insert(BreakGlassGrant(
            client=client_id, user=actor.user_id, session=session_id, reason=reason,
        )).run()
        await audit_record(actor=actor, action="client.break_glass", client_id=client_id, object_type="client",
                           object_id=client_id, detail={"grant_id": rows[0]["id"]})
    return rows[0]["id"]


async def client_review_due_set(*, actor: Actor, client_id: int, review_due: Optional[date]) -> None:
    """Keep the record's review date in step with the active care plan (the caseload sorts and filters on it)."""
    async with db.transaction():
        stored = await Client.select(Client.review_due, Client.version, Client.facility).where(
            Client.id == client_id).first().run()
        if stored is None or stored["review_due"] == review_due:
            return
        # A new version: someone editing the record meanwhile sees the change instead of undoing it.
        await Client.update({Client.review_due: review_due, Client.version: Client.version + 1,
                             Client.updated_at: clock.utcnow()}).where(Client.id == client_id).run()
        await audit_record(actor=actor, action="client.updated", facility_id=stored["facility"], client_id=client_id,
                           object_type="client", object_id=client_id,
                           detail={"fields": ["review_due"], "version": stored["version"] + 1, "source": "care_plan"})
