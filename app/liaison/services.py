"""Writes and rules for liaison: the directory, providers, referrals and their agency links, share links
and the disclosure log. Every change is audited; every email goes through the outbox in the same
transaction as the change it tells about."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Optional

from app import clock, db
from app.accounts.queries import facility_by_id
from app.audit.services import Actor, audit_record
from app.clients.queries import search_key
from app.errors import FieldError, VersionConflict
from app.i18n import _
from app.liaison.queries import SECTIONS
from app.liaison.rules import (CLOSED, LINK_LIFETIME, ReferralStatus, TransitionRefused, agency_path, link_open,
                               referral_transition)
from app.liaison.tables import Agency, ClientProvider, Disclosure, Referral, ReferralEvent, ShareLink
from app.mail.services import outbox_enqueue
from app.web.links import absolute_link
from app.web.tokens import token_hash, token_new

SHARE_LINK_LONGEST = timedelta(days=30)
SHARE_LINK_SHORTEST = timedelta(hours=1)
REASON_MIN = 3


class LiaisonError(FieldError):
    """A rule refused the change; `field` names the form field the message belongs next to."""


class AgencyVersionConflict(VersionConflict):
    """Someone saved the agency since this edit began; `stored` is the agency as it is now."""


def transition_message(reason: str) -> str:
    """The words for why a referral cannot move to the status asked for."""
    return {
        "closed": _("This referral is closed: its status can no longer change."),
        "not_next": _("This status cannot follow the referral's current one."),
        "outcome_required": _("Write the outcome: what the agency did, or why it declined."),
    }.get(reason, _("Choose one of the options."))


@dataclass(frozen=True)
class AgencyDetails:
    name: str
    kind: str
    address: str = ""
    phone: str = ""
    email: str = ""
    notes: str = ""


AGENCY_FIELDS = ("name", "kind", "address", "phone", "email", "notes")


async def agency_create(*, actor: Actor, facility_id: int, details: AgencyDetails) -> int:
    async with db.transaction():
        rows = await Agency.insert(Agency(facility=facility_id, search_name=search_key(details.name),
                                          **{f: getattr(details, f) for f in AGENCY_FIELDS})).run()
        agency_id = rows[0]["id"]
        await audit_record(actor=actor, action="agency.created", facility_id=facility_id, object_type="agency",
                           object_id=agency_id)
    return agency_id


async def agency_update(*, actor: Actor, facility_id: int, agency_id: int, version: int,
                        details: AgencyDetails) -> None:
    """Save an edit made on `version`; refused with AgencyVersionConflict if the agency changed meanwhile."""
    async with db.transaction():
        stored = await Agency.select().where((Agency.id == agency_id) & (Agency.facility == facility_id)).first().run()
        values = {getattr(Agency, f): getattr(details, f) for f in AGENCY_FIELDS}
        values[Agency.search_name] = search_key(details.name)
        await db.update_versioned(Agency, values, where=(Agency.id == agency_id) & (Agency.facility == facility_id),
                                  version=version, conflict=AgencyVersionConflict(stored or {}))
        await audit_record(actor=actor, action="agency.updated", facility_id=facility_id, object_type="agency",
                           object_id=agency_id, detail={"version": version + 1})


async def agency_archive(*, actor: Actor, facility_id: int, agency_id: int, archived: bool) -> None:
    """Archive (or bring back) an agency: it leaves the directory's lists; its referrals keep pointing at it."""
    async with db.transaction():
        await Agency.update({Agency.archived_at: clock.utcnow() if archived else None,
                             Agency.version: Agency.version + 1}).where(
            (Agency.id == agency_id) & (Agency.facility == facility_id)).run()
        await audit_record(actor=actor, action="agency.archived" if archived else "agency.restored",
                           facility_id=facility_id, object_type="agency", object_id=agency_id)


async def provider_add(*, actor: Actor, client_id: int, agency_id: int, role: str, contact_name: str = "") -> int:
    async with db.transaction():
        if await ClientProvider.exists().where(
                (ClientProvider.client == client_id) & (ClientProvider.agency == agency_id)
                & (ClientProvider.role == role) & ClientProvider.ended_at.is_null()).run():
            raise LiaisonError("agency_id", _("This agency is already listed in this role."))
        rows = await ClientProvider.insert(ClientProvider(client=client_id, agency=agency_id, role=role,
                                                          contact_name=contact_name, added_by=actor.user_id)).run()
        provider_id = rows[0]["id"]
        await audit_record(actor=actor, action="client.provider_added", client_id=client_id,
                           object_type="client_provider", object_id=provider_id,
                           detail={"agency_id": agency_id, "role": role})
    return provider_id


async def provider_end(*, actor: Actor, client_id: int, provider_id: int) -> None:
    """The agency no longer takes part in the client's care; the history of who did stays."""
    async with db.transaction():
        await ClientProvider.update({ClientProvider.ended_at: clock.utcnow()}).where(
            (ClientProvider.id == provider_id) & (ClientProvider.client == client_id)).run()
        await audit_record(actor=actor, action="client.provider_ended", client_id=client_id,
                           object_type="client_provider", object_id=provider_id)


# --- the disclosure log ---------------------------------------------------------------------------


async def disclosure_record(*, actor: Actor, client_id: int, kind: str, sections: list[str] | tuple[str, ...],
                            recipient: str, reason: str, agency_id: Optional[int] = None,
                            referral_id: Optional[int] = None, share_link_id: Optional[int] = None) -> int:
    """Write down that information about the client left Kinward: what, to whom, why, when, by whom."""
    async with db.transaction():
        rows = await Disclosure.insert(Disclosure(
            client=client_id, kind=kind, sections=json.dumps([s for s in SECTIONS if s in sections]),
            recipient=recipient, agency=agency_id, reason=reason, by_user=actor.user_id, by_label=actor.label,
            referral=referral_id, share_link=share_link_id, at=clock.utcnow(),
        )).run()
        await audit_record(actor=actor, action=f"disclosure.{kind}", client_id=client_id, object_type="disclosure",
                           object_id=rows[0]["id"], detail={"sections": list(sections), "recipient": recipient})
    return rows[0]["id"]


def reason_checked(reason: str) -> str:
    reason = reason.strip()
    if len(reason) < REASON_MIN:
        raise LiaisonError("reason", _("Say why this information is shared, for example: hospital appointment."))
    return reason


# --- referrals --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralDetails:
    agency_id: int
    reason: str
    request: str
    urgency: str
    consent_by: str
    consent_on: date
    expected_by: date
    shareable: bool = False


REFERRAL_SECTIONS = ("referral",)


async def _event(*, referral_id: int, from_status: str, to_status: str, note: str, channel: str,
                 actor: Actor, at: datetime) -> None:
    await ReferralEvent.insert(ReferralEvent(referral=referral_id, from_status=from_status, to_status=to_status,
                                             note=note, channel=channel, by_user=actor.user_id, by_label=actor.label,
                                             at=at)).run()


async def referral_create(*, actor: Actor, client_id: int, details: ReferralDetails, send: bool) -> int:
    """A referral of the client to an agency, with the consent recorded; sent at once unless kept as a draft."""
    if not details.consent_by.strip():
        raise LiaisonError("consent_by", _("Record who gave consent to this referral."))
    now = clock.utcnow()
    async with db.transaction():
        rows = await Referral.insert(Referral(
            client=client_id, agency=details.agency_id, reason=details.reason, request=details.request,
            urgency=details.urgency, consent_by=details.consent_by.strip(), consent_on=details.consent_on,
            expected_by=details.expected_by, shareable=details.shareable, status=ReferralStatus.draft.value,
            created_by=actor.user_id, created_at=now, updated_at=now,
        )).run()
        referral_id = rows[0]["id"]
        await _event(referral_id=referral_id, from_status="", to_status=ReferralStatus.draft.value,
                     note=_("Consent given by {who} on {day}").format(who=details.consent_by.strip(),
                                                                     day=details.consent_on.isoformat()),
                     channel="kinward", actor=actor, at=now)
        await audit_record(actor=actor, action="referral.created", client_id=client_id, object_type="referral",
                           object_id=referral_id, detail={"agency_id": details.agency_id, "urgency": details.urgency})
        if send:
            await referral_send(actor=actor, referral_id=referral_id)
    return referral_id


async def _referral_for_update(referral_id: int) -> dict:
    row = await Referral.select(
        Referral.id, Referral.client, Referral.status, Referral.version, Referral.reason,
        Referral.agency.id.as_alias("agency_id"), Referral.agency.name.as_alias("agency_name"),
        Referral.agency.email.as_alias("agency_email"), Referral.client.facility.as_alias("facility_id"),
        Referral.link_expires_at, Referral.link_revoked_at,
    ).where(Referral.id == referral_id).first().run()
    if row is None:
        raise LiaisonError("referral", _("This referral does not exist."))
    return row


async def _move(*, referral: dict, path: list[ReferralStatus], note: str, outcome: str, channel: str,
                actor: Actor, extra: Optional[dict] = None) -> None:
    """Take the referral along `path` in one guarded update (refused if someone moved it meanwhile)."""
    now = clock.utcnow()
    final = path[-1]
    values = {Referral.status: final.value, Referral.updated_at: now}
    if final in (ReferralStatus.accepted, ReferralStatus.declined):
        values[Referral.answered_at] = now
    if final in CLOSED:
        values[Referral.closed_at] = now
    if outcome.strip():
        values[Referral.outcome] = outcome.strip()
    for column, value in (extra or {}).items():
        values[column] = value
    await db.update_versioned(Referral, values, where=(Referral.id == referral["id"])
                              & (Referral.status == referral["status"]), version=referral["version"],
                              conflict=LiaisonError("to_status", _("The referral changed while you were on this "
                                                                   "page. Check it, then choose again.")))
    previous = referral["status"]
    for step in path:
        await _event(referral_id=referral["id"], from_status=previous, to_status=step.value,
                     note=(outcome.strip() or note) if step == final and step.value in ("completed", "declined")
                     else note, channel=channel, actor=actor, at=now)
        previous = step.value


async def referral_send(*, actor: Actor, referral_id: int) -> str:
    """Send the referral: the agency is emailed a link to answer it without an account (returns its token)."""
    async with db.transaction():
        referral = await _referral_for_update(referral_id)
        try:
            referral_transition(referral["status"], ReferralStatus.sent.value)
        except TransitionRefused as refused:
            raise LiaisonError("to_status", transition_message(str(refused))) from None
        if not referral["agency_email"]:
            raise LiaisonError("agency_id", _("This agency has no email address for referrals: add one first, "
                                              "or record the referral by phone."))
        token = token_new()
        now = clock.utcnow()
        await _move(referral=referral, path=[ReferralStatus.sent], note="", outcome="", channel="email", actor=actor,
                    extra={Referral.sent_at: now, Referral.link_token_hash: token_hash(token),
                           Referral.link_expires_at: now + LINK_LIFETIME, Referral.link_revoked_at: None})
        await _referral_email(referral=referral, token=token, reminder=False)
        await disclosure_record(actor=actor, client_id=referral["client"], kind="referral_sent",
                                sections=REFERRAL_SECTIONS, recipient=referral["agency_name"],
                                reason=referral["reason"], agency_id=referral["agency_id"], referral_id=referral_id)
        await audit_record(actor=actor, action="referral.sent", client_id=referral["client"], object_type="referral",
                           object_id=referral_id)
    return token


async def _referral_email(*, referral: dict, token: str, reminder: bool) -> None:
    facility = await facility_by_id(facility_id=referral["facility_id"])
    values = {"agency": referral["agency_name"], "facility": facility["name"], "link": absolute_link(f"/r/{token}"),
              "days": LINK_LIFETIME.days}
    # The email names no client: the details are behind the link, which can expire and be revoked.
    if reminder:
        subject = _("Reminder: a referral from {facility} is waiting for your answer").format(**values)
        body = _("Hello {agency},\n\n{facility} is waiting for your answer to a referral. Open it with this link "
                 "(an earlier link no longer works):\n{link}\n\nThe link opens this referral only and stops "
                 "working when the referral closes.\n").format(**values)
    else:
        subject = _("A referral from {facility}").format(**values)
        body = _("Hello {agency},\n\n{facility} has referred a client to you. See the referral and answer it "
                 "(received, accepted or declined, and later the outcome) with this link:\n{link}\n\n"
                 "The link opens this referral only. It works for {days} days, or until the referral closes.\n"
                 ).format(**values)
    await outbox_enqueue(kind="referral_reminder" if reminder else "referral_link", to_address=referral["agency_email"],
                         subject=subject, body=body)


async def referral_status_change(*, actor: Actor, referral_id: int, version: int, to_status: str, note: str = "",
                                 outcome: str = "", channel: str = "kinward") -> None:
    """A coordinator moves the referral on (or records an answer the agency gave by phone)."""
    if to_status == ReferralStatus.sent.value:
        await referral_send(actor=actor, referral_id=referral_id)
        return
    async with db.transaction():
        referral = await _referral_for_update(referral_id)
        if referral["version"] != version:
            raise LiaisonError("to_status", _("The referral changed while you were on this page. Check it, then "
                                              "choose again."))
        try:
            final = referral_transition(referral["status"], to_status, outcome=outcome)
        except TransitionRefused as refused:
            field = "outcome" if str(refused) == "outcome_required" else "to_status"
            raise LiaisonError(field, transition_message(str(refused))) from None
        await _move(referral=referral, path=[final], note=note.strip(), outcome=outcome, channel=channel, actor=actor)
        await audit_record(actor=actor, action="referral.status_changed", client_id=referral["client"],
                           object_type="referral", object_id=referral_id,
                           detail={"from": referral["status"], "to": final.value, "channel": channel})


async def referral_remind(*, actor: Actor, referral_id: int) -> str:
    """Email the agency again with a fresh link; the earlier link stops working (only one hash is kept)."""
    async with db.transaction():
        referral = await _referral_for_update(referral_id)
        if referral["status"] not in (ReferralStatus.sent.value, ReferralStatus.received.value):
            raise LiaisonError("remind", _("Only a referral waiting for an answer can be chased."))
        token = token_new()
        now = clock.utcnow()
        await Referral.update({Referral.link_token_hash: token_hash(token), Referral.reminded_at: now,
                               Referral.link_revoked_at: None,
                               Referral.link_expires_at: max(referral["link_expires_at"] or now, now + timedelta(days=7))
                               }).where(Referral.id == referral_id).run()
        await _referral_email(referral=referral, token=token, reminder=True)
        await audit_record(actor=actor, action="referral.reminded", client_id=referral["client"],
                           object_type="referral", object_id=referral_id)
    return token


async def referral_link_revoke(*, actor: Actor, referral_id: int) -> None:
    async with db.transaction():
        referral = await _referral_for_update(referral_id)
        await Referral.update({Referral.link_revoked_at: clock.utcnow()}).where(Referral.id == referral_id).run()
        await audit_record(actor=actor, action="referral.link_revoked", client_id=referral["client"],
                           object_type="referral", object_id=referral_id)


def link_actor(*, referral: dict, address: str) -> Actor:
    """The agency acting through its link: no account, named by the agency, with its address."""
    return Actor(label=_("{agency} (referral link)").format(agency=referral["agency_name"]),
                 facility_id=referral["facility_id"], address=address)


async def referral_link_use(*, token: str, address: str, to_status: Optional[str] = None, note: str = "",
                            outcome: str = "") -> Optional[dict]:
    """The agency opens its link (to_status None) or takes one step with it; None when the link does not work.

    Each use is counted and audited in one transaction with the step; a step works once, since the
    referral has moved on (a replay, or two answers at the same moment, finds it changed).
    """
    async with db.transaction():
        row = await Referral.select(
            Referral.id, Referral.client, Referral.status, Referral.version, Referral.reason,
            Referral.link_expires_at, Referral.link_revoked_at, Referral.agency.id.as_alias("agency_id"),
            Referral.agency.name.as_alias("agency_name"), Referral.client.facility.as_alias("facility_id"),
        ).where(Referral.link_token_hash == token_hash(token)).first().run()
        now = clock.utcnow()
        if row is None or not link_open(expires_at=row["link_expires_at"], revoked_at=row["link_revoked_at"],
                                        status=row["status"], now=now):
            return None
        actor = link_actor(referral=row, address=address)
        await Referral.update({Referral.link_uses: Referral.link_uses + 1, Referral.link_last_used_at: now}).where(
            Referral.id == row["id"]).run()
        if to_status is None:
            await audit_record(actor=actor, action="referral.link_opened", client_id=row["client"],
                               object_type="referral", object_id=row["id"])
            return row
        path = agency_path(row["status"], to_status)
        if not path:
            raise LiaisonError("to_status", _("This answer has already been given, or cannot follow the last one."))
        if path[-1].value in ("completed", "declined") and not outcome.strip():
            raise LiaisonError("outcome", _("Write the outcome: what you did, or why you cannot take the referral."))
        await _move(referral=row, path=path, note=note.strip(), outcome=outcome, channel="link", actor=actor)
        await audit_record(actor=actor, action="referral.link_answered", client_id=row["client"],
                           object_type="referral", object_id=row["id"],
                           detail={"from": row["status"], "to": path[-1].value})
        await disclosure_record(actor=actor, client_id=row["client"], kind="referral_answered",
                                sections=REFERRAL_SECTIONS, recipient=row["agency_name"], reason=row["reason"],
                                agency_id=row["agency_id"], referral_id=row["id"])
        return {**row, "status": path[-1].value}


# --- share links ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShareDetails:
    recipient_name: str
    recipient_email: str
    agency_id: Optional[int]
    sections: tuple[str, ...]
    allow_fhir: bool
    reason: str
    lifetime: timedelta


@dataclass(frozen=True)
class ShareCreated:
    link_id: int
    token: str


async def share_link_create(*, actor: Actor, client_id: int, details: ShareDetails, token: str = "") -> ShareCreated:
    """A link to the client's summary for one named recipient, for a while; shown once, emailed if an address is known.

    `token` is the link's secret when the form chose it (`tokens.token_for_form`), else a fresh one.
    """
    reason = reason_checked(details.reason)
    if not details.sections:
        raise LiaisonError("sections", _("Choose at least one part of the summary to share."))
    if not SHARE_LINK_SHORTEST <= details.lifetime <= SHARE_LINK_LONGEST:
        raise LiaisonError("expires", _("Choose how long the link works: from one hour to 30 days."))
    token = token or token_new()
    now = clock.utcnow()
    async with db.transaction():
        rows = await ShareLink.insert(ShareLink(
            client=client_id, agency=details.agency_id, recipient_name=details.recipient_name,
            recipient_email=details.recipient_email, sections=json.dumps(list(details.sections)),
            allow_fhir=details.allow_fhir, reason=reason, token_hash=token_hash(token),
            expires_at=now + details.lifetime, created_by=actor.user_id, created_at=now,
        )).run()
        link_id = rows[0]["id"]
        await disclosure_record(actor=actor, client_id=client_id, kind="share_created", sections=details.sections,
                                recipient=details.recipient_name, reason=reason, agency_id=details.agency_id,
                                share_link_id=link_id)
        if details.recipient_email:
            facility = await facility_by_id(facility_id=actor.facility_id) if actor.facility_id else None
            await outbox_enqueue(
                kind="share_link", to_address=details.recipient_email,
                subject=_("Care information shared with you by {facility}").format(
                    facility=facility["name"] if facility else "Kinward"),
                body=_("Hello {name},\n\n{who} has shared care information with you. Open it with this link; it "
                       "works until {until} (UTC) unless it is withdrawn earlier:\n{link}\n").format(
                    name=details.recipient_name, who=actor.label, until=f"{now + details.lifetime:%d %b %Y %H:%M}",
                    link=absolute_link(f"/share/{token}")))
    return ShareCreated(link_id=link_id, token=token)


async def share_link_open(*, token: str, address: str, fhir: bool = False) -> Optional[dict]:
    """The recipient opens the link: counted, audited (time and address) and logged as a disclosure.

    None when the link does not exist, has expired or was revoked.
    """
    async with db.transaction():
        row = await ShareLink.select(
            ShareLink.id, ShareLink.client, ShareLink.recipient_name, ShareLink.sections, ShareLink.allow_fhir,
            ShareLink.reason, ShareLink.expires_at, ShareLink.revoked_at, ShareLink.agency,
            ShareLink.client.facility.as_alias("facility_id"), ShareLink.created_by.display_name.as_alias("by_name"),
        ).where(ShareLink.token_hash == token_hash(token)).first().run()
        now = clock.utcnow()
        if row is None or not link_open(expires_at=row["expires_at"], revoked_at=row["revoked_at"], status="",
                                        now=now):
            return None
        if fhir and not row["allow_fhir"]:
            return None
        await ShareLink.update({ShareLink.opens: ShareLink.opens + 1, ShareLink.last_opened_at: now}).where(
            ShareLink.id == row["id"]).run()
        actor = Actor(label=_("{name} (share link)").format(name=row["recipient_name"]),
                      facility_id=row["facility_id"], address=address)
        sections = json.loads(row["sections"] or "[]")
        await disclosure_record(actor=actor, client_id=row["client"], kind="share_fhir" if fhir else "share_opened",
                                sections=sections, recipient=row["recipient_name"], reason=row["reason"],
                                agency_id=row["agency"], share_link_id=row["id"])
        return {**row, "section_list": sections}


async def share_link_revoke(*, actor: Actor, client_id: int, link_id: int) -> None:
    async with db.transaction():
        await ShareLink.update({ShareLink.revoked_at: clock.utcnow(), ShareLink.revoked_by: actor.user_id}).where(
            (ShareLink.id == link_id) & (ShareLink.client == client_id) & ShareLink.revoked_at.is_null()).run()
        await audit_record(actor=actor, action="share_link.revoked", client_id=client_id, object_type="share_link",
                           object_id=link_id)
