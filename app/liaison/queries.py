"""Reads about liaison: the agency directory, a client's providers, referrals, share links, disclosures
and the summary given to providers. Other features (reviews, reports) read referrals through here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Optional

from piccolo.querystring import QueryString

from app import db
from app.careplans.queries import goals_of, plan_in_status, services_of
from app.careplans.tables import PlanStatus
from app.clients.queries import care_team_for, client_record, display_name, search_terms
from app.i18n import _
from app.liaison.rules import AWAITING_ANSWER, CLOSED, ReferralStatus, referral_overdue
from app.policy import ClientRelation, Principal, can_on
from app.liaison.tables import Agency, ClientProvider, Disclosure, Referral, ReferralEvent, ShareLink
from app.visits.queries import visits_with_outcomes
from app.web.templating import local_datetime
from app.web.tokens import token_hash

# The parts of the summary a coordinator chooses from, in the order they are shown.
SECTIONS = ("needs", "plan", "team", "visits", "referrals", "family_summaries")
# Shared unless the coordinator leaves them out; family-shared visit summaries only if chosen.
DEFAULT_SECTIONS = ("needs", "plan", "team", "visits", "referrals")
RECENT_VISIT_DAYS = 14
# The providers a care worker needs the phone number of (DESIGN.md section 2).
NEED_TO_KNOW_ROLES = ("gp", "pharmacy")
OPEN_STATUSES = tuple(s.value for s in ReferralStatus if s not in CLOSED)

_REFERRAL_COLUMNS = (
    Referral.id, Referral.client, Referral.reason, Referral.request, Referral.urgency, Referral.consent_by,
    Referral.consent_on, Referral.expected_by, Referral.status, Referral.outcome, Referral.shareable,
    Referral.created_at, Referral.sent_at, Referral.answered_at, Referral.closed_at, Referral.reminded_at,
    Referral.link_expires_at, Referral.link_revoked_at, Referral.link_uses, Referral.link_last_used_at,
    Referral.version, Referral.agency.id.as_alias("agency_id"), Referral.agency.name.as_alias("agency_name"),
    Referral.agency.kind.as_alias("agency_kind"), Referral.agency.email.as_alias("agency_email"),
    Referral.agency.phone.as_alias("agency_phone"), Referral.client.first_name.as_alias("client_first_name"),
    Referral.client.last_name.as_alias("client_last_name"),
    Referral.client.preferred_name.as_alias("client_preferred_name"),
    Referral.client.facility.as_alias("facility_id"), Referral.created_by.display_name.as_alias("created_by_name"),
)


def _referral_row(row: dict, today: Optional[date]) -> dict:
    row["client_name"] = display_name({"first_name": row["client_first_name"], "last_name": row["client_last_name"],
                                       "preferred_name": row["client_preferred_name"]})
    row["overdue"] = today is not None and referral_overdue(status=row["status"], expected_by=row["expected_by"],
                                                            today=today)
    row["closed"] = row["status"] in {s.value for s in CLOSED}
    return row


# --- the directory ------------------------------------------------------------------------------


# The whole directory (what the referrals page's agency filter and a referral's form list), prebuilt.
def _directory(*, archived: bool) -> db.Prebuilt:
    return db.Prebuilt(lambda facility_id: Agency.select().where(
        (Agency.facility == facility_id) & (Agency.archived_at.is_not_null() if archived else Agency.archived_at.is_null())
    ).order_by(Agency.name))


_DIRECTORY = {archived: _directory(archived=archived) for archived in (False, True)}


async def agencies_for(*, facility_id: int, q: str = "", kind: str = "", archived: bool = False) -> list[dict]:
    """The facility's agencies matching a name and a kind; archived ones only when asked for."""
    if not q and not kind:
        return await _DIRECTORY[archived].rows(facility_id=facility_id)
    where: list[Any] = [Agency.facility == facility_id]
    where.append(Agency.archived_at.is_not_null() if archived else Agency.archived_at.is_null())
    if kind:
        where.append(Agency.kind == kind)
    for word in search_terms(q):
        where.append(Agency.search_name.like(f"%{word}%"))
    return await Agency.select().where(*where).order_by(Agency.name).run()


async def agency_of(*, facility_id: int, agency_id: int) -> Optional[dict]:
    return await Agency.select().where((Agency.id == agency_id) & (Agency.facility == facility_id)).first().run()


# --- a client's providers ------------------------------------------------------------------------


def providers_view(user: Principal, relation: ClientRelation) -> str:
    """What this viewer may see of the client's providers: "full" (the team: contacts, phones, emails),
    "phones" (a care worker: the GP's and the pharmacy's name and phone), "names" (family: who, in what
    role, nothing else), or "" (nothing)."""
    if not can_on(user, "client.providers.view", relation):
        return ""
    if can_on(user, "client.providers.details", relation):
        return "full"
    if can_on(user, "client.providers.phones", relation):
        return "phones"
    return "names"


async def providers_for(*, user: Principal, relation: ClientRelation) -> list[dict]:
    """The agencies involved in the client's care, as this viewer may see them (see providers_view)."""
    view = providers_view(user, relation)
    return await _providers(client_id=relation.client_id, view=view) if view else []


async def _providers(*, client_id: int, view: str) -> list[dict]:
    where = (ClientProvider.client == client_id) & ClientProvider.ended_at.is_null()
    if view == "phones":
        where = where & ClientProvider.role.is_in(list(NEED_TO_KNOW_ROLES))
    rows = await ClientProvider.select(
        ClientProvider.id, ClientProvider.role, ClientProvider.contact_name, ClientProvider.created_at,
        ClientProvider.agency.id.as_alias("agency_id"), ClientProvider.agency.name.as_alias("agency_name"),
        ClientProvider.agency.kind.as_alias("agency_kind"), ClientProvider.agency.phone.as_alias("phone"),
        ClientProvider.agency.email.as_alias("email"), ClientProvider.agency.address.as_alias("address"),
    ).where(where).order_by(ClientProvider.role).order_by(ClientProvider.id).run()
    keep = {"full": None, "phones": ("id", "role", "agency_name", "phone"), "names": ("id", "role", "agency_name")}[view]
    return rows if keep is None else [{k: row[k] for k in keep} for row in rows]


async def provider_of(*, client_id: int, provider_id: int) -> Optional[dict]:
    return await ClientProvider.select().where(
        (ClientProvider.id == provider_id) & (ClientProvider.client == client_id) & ClientProvider.ended_at.is_null()
    ).first().run()


# --- referrals ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralFilter:
    status: str = ""  # "" = open ones, "all", or one status
    overdue: bool = False
    agency_id: Optional[int] = None
    client_id: Optional[int] = None


async def referral_of(*, facility_id: int, referral_id: int, today: Optional[date] = None) -> Optional[dict]:
    row = await Referral.select(*_REFERRAL_COLUMNS).where(
        (Referral.id == referral_id) & (Referral.client.facility == facility_id)).first().run()
    return _referral_row(row, today) if row else None


async def referral_events_of(*, referral_id: int) -> list[dict]:
    return await ReferralEvent.select(
        ReferralEvent.id, ReferralEvent.from_status, ReferralEvent.to_status, ReferralEvent.note,
        ReferralEvent.channel, ReferralEvent.by_label, ReferralEvent.at,
        ReferralEvent.by_user.display_name.as_alias("by_name"),
    ).where(ReferralEvent.referral == referral_id).order_by(ReferralEvent.id).run()


async def referrals_for_client(*, client_id: int, today: Optional[date] = None,
                               shareable_only: bool = False) -> list[dict]:
    """The client's referrals, open ones first, newest first; only the shareable ones for family."""
    where = Referral.client == client_id
    if shareable_only:
        where = where & (Referral.shareable == True)  # noqa: E712 (Piccolo builds SQL from ==)
    rows = await Referral.select(*_REFERRAL_COLUMNS).where(where).order_by(Referral.id, ascending=False).run()
    rows = [_referral_row(row, today) for row in rows]
    return sorted(rows, key=lambda r: r["closed"])


async def referrals_for(*, user: Principal, relation: ClientRelation, today: date) -> list[dict]:
    """The client's referrals as this viewer may see them, open ones first, newest first.

    The team gets every referral, whole; a family member only those the team marked shareable, and of
    each only the agency, where it stands and, once it is closed, its outcome: never the reason, the
    request, the consent or the agency's contacts. Nobody else gets anything.
    """
    if not can_on(user, "client.referrals.view", relation):
        return []
    if can_on(user, "client.referrals.details", relation):
        return await referrals_for_client(client_id=relation.client_id, today=today)
    rows = await referrals_for_client(client_id=relation.client_id, today=today, shareable_only=True)
    return [{"agency_name": row["agency_name"], "status": row["status"], "closed": row["closed"],
             "outcome": row["outcome"] if row["closed"] else ""} for row in rows]


async def referrals_list(*, facility_id: int, client_ids: Optional[list[int]], filters: ReferralFilter,
                         today: date) -> list[dict]:
    """The referrals of the facility (or of these clients), most urgent to follow up first."""
    status = filters.status if filters.status in ("", "all") else "one"
    shape = (status, filters.overdue, filters.agency_id is not None, filters.client_id is not None,
             client_ids is not None)
    query = _REFERRALS_LIST.get(shape) or _REFERRALS_LIST.setdefault(shape, _referrals_list_query(*shape))
    values = {"facility_id": facility_id, "status": filters.status, "today": today, "agency_id": filters.agency_id,
              "client_id": filters.client_id}
    rows = await (query.rows(ids=client_ids, **values) if client_ids is not None else query.rows(**values))
    return [_referral_row(row, today) for row in rows]


# The referrals list's statement for each shape of filters, built once: (status "", "all" or "one",
# overdue, by agency, by client, for a list of clients rather than the whole facility).
_REFERRALS_LIST: dict[tuple, Any] = {}


def _referrals_list_query(status: str, overdue: bool, by_agency: bool, by_client: bool,
                          by_ids: bool) -> db.Prebuilt | db.PrebuiltForIds:
    names = ("facility_id",) + (("status",) if status == "one" else ()) + (("today",) if overdue else ()) + (
        ("agency_id",) if by_agency else ()) + (("client_id",) if by_client else ())

    def build(ids: Optional[list] = None, **v: Any) -> Any:
        where: list[Any] = [Referral.client.facility == v["facility_id"]]
        if ids is not None:
            where.append(Referral.client.is_in(ids))
        if status == "":
            where.append(Referral.status.is_in(list(OPEN_STATUSES)))
        elif status == "one":
            where.append(Referral.status == v["status"])
        if overdue:
            where.append(Referral.status.is_in([s.value for s in AWAITING_ANSWER]) & (Referral.expected_by < v["today"]))
        if by_agency:
            where.append(Referral.agency == v["agency_id"])
        if by_client:
            where.append(Referral.client == v["client_id"])
        return Referral.select(*_REFERRAL_COLUMNS).where(*where).order_by(Referral.expected_by).order_by(Referral.id)

    # For a list of clients, one statement per padded length of the list (db.PrebuiltForIds).
    return db.PrebuiltForIds(build, names=names) if by_ids else db.Prebuilt(build, names=names)


async def overdue_referrals_for(*, client_ids: list[int], today: date) -> list[dict]:
    """Referrals of these clients past their expected answer date with no answer yet: "needs attention"."""
    if not client_ids:
        return []
    rows = await Referral.select(*_REFERRAL_COLUMNS).where(
        Referral.client.is_in(client_ids) & Referral.status.is_in([s.value for s in AWAITING_ANSWER])
        & (Referral.expected_by < today)).order_by(Referral.expected_by).run()
    return [_referral_row(row, today) for row in rows]


def overdue_referrals_count_sql(*, today: date) -> QueryString:
    """A column for a select over `client`: its referrals past their expected answer date with no answer
    yet (rules.referral_overdue)."""
    awaiting = ", ".join(f"'{s.value}'" for s in sorted(AWAITING_ANSWER))
    return QueryString(
        "(SELECT COUNT(*) FROM referral waiting WHERE waiting.client = client.id "
        f"AND waiting.status IN ({awaiting}) AND waiting.expected_by < {{}})", today,
    )


async def referral_counts_by_agency(*, facility_id: int, since: Optional[datetime] = None,
                                    until: Optional[datetime] = None, today: Optional[date] = None,
                                    client_ids: Optional[list[int]] = None) -> list[dict]:
    """For each agency of the facility: referrals made (created in [since, until)), by status, and overdue;
    only those of `client_ids` when given (a coordinator's clients), every client's when None."""
    where: list[Any] = [Referral.client.facility == facility_id]
    if client_ids is not None:
        if not client_ids:
            return []
        where.append(Referral.client.is_in(client_ids))
    if since is not None:
        where.append(Referral.created_at >= since)
    if until is not None:
        where.append(Referral.created_at < until)
    rows = await Referral.select(
        Referral.status, Referral.expected_by, Referral.sent_at, Referral.answered_at,
        Referral.agency.id.as_alias("agency_id"), Referral.agency.name.as_alias("agency_name"),
        Referral.agency.kind.as_alias("agency_kind"),
    ).where(*where).run()
    counts: dict[int, dict] = {}
    for row in rows:
        entry = counts.setdefault(row["agency_id"], {
            "agency_id": row["agency_id"], "agency_name": row["agency_name"], "agency_kind": row["agency_kind"],
            "total": 0, "by_status": {s.value: 0 for s in ReferralStatus}, "overdue": 0, "answer_days": []})
        entry["total"] += 1
        entry["by_status"][row["status"]] += 1
        if today is not None and referral_overdue(status=row["status"], expected_by=row["expected_by"], today=today):
            entry["overdue"] += 1
        if row["sent_at"] is not None and row["answered_at"] is not None:
            entry["answer_days"].append((row["answered_at"] - row["sent_at"]).total_seconds() / 86400)
    return sorted(counts.values(), key=lambda e: e["agency_name"])


async def referral_by_token(*, token: str) -> Optional[dict]:
    """The referral an agency link opens, whatever its state (the caller decides whether it still works)."""
    row = await Referral.select(*_REFERRAL_COLUMNS).where(Referral.link_token_hash == token_hash(token)).first().run()
    return _referral_row(row, None) if row else None


# --- share links and disclosures -----------------------------------------------------------------


def _share_row(row: dict) -> dict:
    row["section_list"] = json.loads(row["sections"] or "[]")
    return row


async def share_links_for(*, client_id: int) -> list[dict]:
    rows = await ShareLink.select(
        *ShareLink.all_columns(exclude=[ShareLink.token_hash]),
        ShareLink.created_by.display_name.as_alias("created_by_name"),
        ShareLink.agency.name.as_alias("agency_name"),
    ).where(ShareLink.client == client_id).order_by(ShareLink.id, ascending=False).run()
    return [_share_row(row) for row in rows]


async def share_link_of(*, client_id: int, link_id: int) -> Optional[dict]:
    row = await ShareLink.select(*ShareLink.all_columns(exclude=[ShareLink.token_hash])).where(
        (ShareLink.id == link_id) & (ShareLink.client == client_id)).first().run()
    return _share_row(row) if row else None


async def disclosures_for(*, user: Principal, relation: ClientRelation, tz: str, limit: int = 200) -> list[dict]:
    """What of the client's information left Kinward, newest first, as this viewer may see it.

    Those the details are for (the team, an admin) get every row: sections, recipient, reason, who.
    A family member whose link allows it reads each as one sentence (when, and `sentence`): what,
    with whom, about whom, by whom and why, never an address, a link or an internal label. Nobody
    else gets anything.
    """
    if not can_on(user, "client.disclosures.view", relation):
        return []
    rows = await Disclosure.select(
        Disclosure.id, Disclosure.kind, Disclosure.sections, Disclosure.recipient, Disclosure.reason,
        Disclosure.by_label, Disclosure.at, Disclosure.referral, Disclosure.share_link,
        Disclosure.by_user.display_name.as_alias("by_name"), Disclosure.agency.name.as_alias("agency_name"),
        Disclosure.client.first_name.as_alias("client_first_name"),
    ).where(Disclosure.client == relation.client_id).order_by(Disclosure.at, ascending=False).order_by(
        Disclosure.id, ascending=False).limit(limit).run()
    if not can_on(user, "client.disclosures.details", relation):
        return [{"at": row["at"], "sentence": _disclosure_sentence(row, tz=tz)} for row in rows]
    for row in rows:
        row["section_list"] = json.loads(row["sections"] or "[]")
    return rows


def _disclosure_words() -> dict[str, str]:
    """How the family's page says what happened, in plain words."""
    return {
        "print": _("A printed care summary was given to {recipient}"),
        "fhir": _("A copy of the care record was sent electronically to {recipient}"),
        "share_created": _("A link to the care summary was made for {recipient}"),
        "share_opened": _("{recipient} opened the shared care summary"),
        "share_fhir": _("{recipient} downloaded the shared care record"),
        "referral_sent": _("A referral was sent to {recipient}"),
        "referral_answered": _("{recipient} answered a referral and saw its details"),
        "subject_access": _("A copy of everything held about your relative was exported for {recipient}"),
    }


def _disclosure_sentence(row: dict, *, tz: str) -> str:
    """One disclosure as the family reads it: what, with whom, when, by whom and why; no addresses or links."""
    what = _disclosure_words().get(row["kind"], _("Information was shared with {recipient}")).format(
        recipient=row["agency_name"] or row["recipient"])
    who = row["by_name"] or row["by_label"]
    return _("{what}, about {client}, on {day} by {who}. Reason: {reason}").format(
        what=what, client=row["client_first_name"], day=local_datetime(row["at"], tz, "%d %b %Y"), who=who,
        reason=row["reason"] or _("not given"))


# --- the summary given to providers ---------------------------------------------------------------

# What of the record goes to a provider: never the confidential notes or the team's internal notes.
IDENTITY_FIELDS = ("first_name", "last_name", "preferred_name", "date_of_birth", "address", "phone", "language")
NEEDS_FIELDS = ("allergies", "mobility", "communication", "what_matters", "risks", "care_instructions")


async def summary_for(*, client_id: int, sections: tuple[str, ...] | list[str], today: date, now: datetime) -> dict:
    """The client's summary with only the chosen sections read from the database."""
    record = await client_record(client_id=client_id, confidential=True)
    fields = IDENTITY_FIELDS + (NEEDS_FIELDS if "needs" in sections else ())
    summary: dict[str, Any] = {"client": {k: record[k] for k in fields} | {"id": record["id"], "name": record["name"]},
                               "sections": [s for s in SECTIONS if s in sections]}
    if "plan" in sections:
        plan = await plan_in_status(client_id=client_id, status=PlanStatus.active)
        if plan is not None:
            plan = {k: plan[k] for k in ("id", "version", "summary", "starts_on", "review_due", "ends_on")}
            plan["goals"] = await goals_of(plan_id=plan["id"])
            plan["services"] = await services_of(plan_id=plan["id"])
        summary["plan"] = plan
    if "team" in sections:
        summary["team"] = (await care_team_for(client_id=client_id, today=today))["current"]
        summary["providers"] = await _providers(client_id=client_id, view="full")
    if "visits" in sections or "family_summaries" in sections:
        visits = await visits_with_outcomes(client_id=client_id, start=now - timedelta(days=RECENT_VISIT_DAYS),
                                            end=now)
        if "visits" in sections:
            summary["visits"] = visits
            summary["visit_counts"] = {
                "planned": len(visits), "delivered": sum(v["status"] == "completed" for v in visits),
                "missed": sum(v["status"] == "missed" for v in visits),
                "concerns": sum(bool(v["concern"]) for v in visits)}
        if "family_summaries" in sections:
            summary["family_summaries"] = [v for v in visits if v["family_summary_shared"] and v["family_summary"]
                                           and v["status"] == "completed"]
    if "referrals" in sections:
        summary["referrals"] = [r for r in await referrals_for_client(client_id=client_id, today=today)
                                if not r["closed"]]
    return summary
