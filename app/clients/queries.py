"""Reads about clients: relations for the policy, the caseload, records, teams, links and the access log."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo
from typing import Any, Awaitable, Callable, Mapping, Optional

from piccolo.columns import Column
from piccolo.columns.combination import WhereRaw
from piccolo.querystring import QueryString

from app.accounts.tables import Role, User
from app.audit.tables import AuditEvent
from app import db
from app.db import as_utc
from app.clients.tables import (BreakGlassGrant, CareTeamMember, Client, ClientContact, ClientStatus,
                                ClientStatusChange, FamilyLink, TeamRole)
from app.policy import ClientRelation, FamilyPermissions, Principal

# What a care worker needs to give care safely (DESIGN.md section 2); everything else on the
# record is for the care team and admins only.
NEED_TO_KNOW_FIELDS = (
    "first_name", "last_name", "preferred_name", "address", "phone", "language", "status", "status_since",
    "allergies", "mobility", "communication", "what_matters", "risks", "care_instructions", "flag",
)
CONFIDENTIAL_FIELDS = ("date_of_birth", "email", "confidential_notes", "review_due")
# The fields a person edits on the client form, in form order.
EDITABLE_FIELDS = (
    "first_name", "last_name", "preferred_name", "date_of_birth", "address", "phone", "email", "language",
    "allergies", "mobility", "communication", "what_matters", "risks", "care_instructions", "flag",
    "review_due", "confidential_notes",
)

CASELOAD_PAGE_SIZE = 25
ACCESS_LOG_PAGE_SIZE = 50

# The audit actions that make up a client's access log: who opened or changed the record.
ACCESS_LOG_ACTIONS = (
    "client.created", "client.viewed", "client.updated", "client.status_changed", "client.contact_added",
    "client.contact_removed", "client.team_member_added", "client.team_member_ended", "client.family_invited",
    "client.family_link_ended", "client.break_glass", "client.exported",
)
# The family's view also says who read the visits and messages and who changed the plan and visits.
FAMILY_ACCESS_LOG_ACTIONS = ACCESS_LOG_ACTIONS + (
    "client.visits_viewed", "client.messages_viewed", "client.message_posted",
    "careplan.activated", "careplan.closed", "careplan.draft_started", "careplan.draft_discarded",
    "careplan.updated", "careplan.goal_added", "careplan.goal_updated", "careplan.goal_removed",
    "careplan.service_added", "careplan.service_updated", "careplan.service_removed", "careplan.review_due_set",
    "visit.checked_in", "visit.checked_out", "visit.log_changed", "visit.times_recorded", "visit.cancelled",
    "visit.restored", "visit.moved", "visit.reassigned", "visit.extra_added",
)
# A family page of the access log ends at a day's end after this many entries; at most this many audit
# events are read for one page (a day with more reads than that is cut there).
FAMILY_ACCESS_LOG_ENTRIES = 30
FAMILY_ACCESS_LOG_SCAN = 2000
_PAGES_OF = {"plan": "plan", "visit": "visit", "visits": "visit", "team_week": "visit"}


def access_kind(action: str, detail: dict) -> tuple[str, str]:
    """What an audited event was, in a family's words: ("viewed" or "changed", "record", "plan", "visit" or
    "messages")."""
    if action.startswith("careplan."):
        return "changed", "plan"
    if action.startswith("visit."):
        return "changed", "visit"
    if action == "client.message_posted":
        return "changed", "messages"
    if action == "client.messages_viewed":
        return "viewed", "messages"
    if action == "client.visits_viewed":
        return "viewed", "visit"
    if action in ("client.viewed", "client.break_glass", "client.exported"):
        return "viewed", _PAGES_OF.get(str(detail.get("page", "")), "record")
    return "changed", "record"


@dataclass
class AccessEntry:
    """One person's reads (or changes) of one part of the record on one day: one line of the family's log."""
    day: date
    first_at: datetime
    last_at: datetime
    actor_name: str
    role: str
    verb: str
    what: str


# Only these actions' detail says which page was viewed (access_kind); the others' detail is not read.
_DETAIL_READ_FOR = ("client.viewed", "client.break_glass", "client.exported")


def _access_groups_sql(*, before: bool) -> str:
    """The latest events of a client's family log (at most a scan's worth), grouped by who, what and quarter hour:
    a page reloaded all day is a few rows, not one per reload."""
    actions = ", ".join(f"'{a}'" for a in FAMILY_ACCESS_LOG_ACTIONS)
    pages = ", ".join(f"'{a}'" for a in _DETAIL_READ_FOR)
    return ("SELECT actor_id, actor_label, role, action, detail, MIN(at) AS first_at, MAX(at) AS last_at, "
            "MIN(id) AS first_id, MAX(id) AS last_id, COUNT(*) AS events FROM ("
            f"SELECT id, at, actor_id, actor_label, role, action, CASE WHEN action IN ({pages}) THEN detail ELSE '' "
            f"END AS detail, {db.quarter_hour_sql('at')} AS quarter FROM audit_event "
            f"WHERE facility_id = {{}} AND client_id = {{}} AND action IN ({actions})"
            + (" AND id < {}" if before else "") + " ORDER BY id DESC LIMIT {}) latest "
            "GROUP BY actor_id, actor_label, role, action, detail, quarter ORDER BY last_id DESC")


async def family_access_log_for(*, facility_id: int, client_id: int, tz: str, before: Optional[int] = None,
                                entries: int = FAMILY_ACCESS_LOG_ENTRIES) -> tuple[list[AccessEntry], Optional[int]]:
    """The access log as the family reads it, newest first: each person's views of a part of the record
    count once a day (a list page reloaded is still one access), and so do their changes of it. The audit
    trail keeps every event. Returns at least `entries` entries (all of the last day's) or all there are, and
    the cursor for older ones (None when there are none)."""
    zone = ZoneInfo(tz)
    args = [facility_id, client_id, *([before] if before is not None else []), FAMILY_ACCESS_LOG_SCAN]
    groups = await AuditEvent.raw(_access_groups_sql(before=before is not None), *args).run()
    actor_ids = sorted({g["actor_id"] for g in groups if g["actor_id"] is not None})
    names = {}
    if actor_ids:
        people = await User.select(User.id, User.display_name).where(
            User.id.is_in(actor_ids) & (User.facility == facility_id)).run()
        names = {p["id"]: p["display_name"] for p in people}
    found: dict[tuple, AccessEntry] = {}
    for group in groups:  # newest first; a quarter hour lies within one local day
        first_at, last_at = as_utc(group["first_at"]), as_utc(group["last_at"])
        day = last_at.astimezone(zone).date()
        if len(found) >= entries and day != next(reversed(found.values())).day:
            return list(found.values()), group["last_id"] + 1
        verb, what = access_kind(group["action"], json.loads(group["detail"]) if group["detail"] else {})
        key = (group["actor_id"] or group["actor_label"], day, verb, what)
        entry = found.get(key)
        if entry is None:
            found[key] = AccessEntry(day=day, first_at=first_at, last_at=last_at, role=group["role"] or "", verb=verb,
                                     what=what, actor_name=names.get(group["actor_id"], group["actor_label"]))
        else:
            entry.first_at, entry.last_at = min(entry.first_at, first_at), max(entry.last_at, last_at)
    if sum(g["events"] for g in groups) < FAMILY_ACCESS_LOG_SCAN:
        return list(found.values()), None
    # A whole scan read: the next page begins after its oldest event, if anything is older.
    oldest = min(g["first_id"] for g in groups)
    older = await AuditEvent.raw(_access_groups_sql(before=True), facility_id, client_id, oldest, 1).run()
    return list(found.values()), oldest if older else None


def search_key(*parts: str) -> str:
    """Names folded for searching: lower case, accents removed ("Zoë" -> "zoe")."""
    text = " ".join(p.strip() for p in parts if p and p.strip())
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# A search folds to at most this many words of at most this many letters: folding can spell one
# character out into many words ("\ufdfa" is four), and each word is one more LIKE for the database.
SEARCH_TERMS_MAX = 6
SEARCH_TERM_LENGTH_MAX = 40


def search_terms(q: str) -> list[str]:
    """The words a name search looks for, folded as names are; LIKE wildcards typed are dropped, and so are the
    brackets a name is shown with around a preferred name ("Margaret Ellison (Peggy)" finds her)."""
    words = (w.replace("%", "").replace("_", "").replace("\\", "").strip("()") for w in search_key(q).split())
    return [w[:SEARCH_TERM_LENGTH_MAX] for w in words if w][:SEARCH_TERMS_MAX]


def display_name(row: dict) -> str:
    name = f"{row['first_name']} {row['last_name']}".strip()
    preferred = row.get("preferred_name") or ""
    if preferred and preferred != row["first_name"]:
        return f"{name} ({preferred})"
    return name


def team_active_on(day: date) -> Any:
    """Membership counts from `since` to `until`, both inclusive, in facility days."""
    return (CareTeamMember.since <= day) & (CareTeamMember.until.is_null() | (CareTeamMember.until >= day))


# Whether a worker off the care team has a visit with the client near today is known to visits,
# which stands above clients: the app registers that question when it is assembled (app/main.py).
# Unregistered, no worker gets a visit window: access fails closed.
VisitWindow = Callable[..., Awaitable[set]]  # (worker_id, client_ids, today, tz) -> the clients within it
_visit_window: list[VisitWindow] = []


def visit_window_register(lookup: VisitWindow) -> None:
    _visit_window[:] = [lookup]


async def client_relation(*, user: Any, client_id: int, today: date) -> Optional[ClientRelation]:
    """The policy's view of how `user` stands to the client; None when no such client in their facility."""
    return (await client_relations_for(user=user, client_ids=[client_id], today=today)).get(client_id)


# Every page about a client asks this before anything else: the SQL is written once rather than built by
# the ORM per request (measured: building the three selects this replaces cost more than running them,
# about a millisecond a page). Whatever the viewer's role, one read: the client in the viewer's
# facility, their team role today, an emergency grant for this session, their family link.
RELATIONS_SQL = (
    "SELECT c.id, c.facility, "
    "(SELECT t.role FROM care_team_member t WHERE t.client = c.id AND t.\"user\" = {} AND t.since <= {} "
    " AND (t.until IS NULL OR t.until >= {}) ORDER BY t.id LIMIT 1) AS team_role, "
    "EXISTS (SELECT 1 FROM break_glass_grant g WHERE g.client = c.id AND g.\"user\" = {} AND g.session = {}) "
    " AS break_glass, "
    "f.id AS family_link, f.may_see_schedule, f.may_see_visit_summaries, f.may_message "
    "FROM client c LEFT JOIN family_link f ON f.id = (SELECT l.id FROM family_link l WHERE l.client = c.id "
    " AND l.\"user\" = {} AND l.ended_at IS NULL ORDER BY l.id LIMIT 1) "
    "WHERE c.facility = {} AND c.id IN ({})"
)


async def client_relations_for(*, user: Any, client_ids: list[int], today: date) -> dict[int, ClientRelation]:
    """client_relation for many clients in one query, whatever their number (My day's list)."""
    ids = list(dict.fromkeys(client_ids))
    if not ids:
        return {}
    role = Role(user.role)
    session_id = getattr(user, "session_id", None) if role == Role.coordinator else None
    template = RELATIONS_SQL.replace("IN ({})", "IN (" + ", ".join(["{}"] * len(ids)) + ")")
    rows = await db.fetch(QueryString(template, user.id, today, today, user.id, session_id, user.id,
                                      user.facility_id, *ids))
    on_team = role in (Role.coordinator, Role.worker)
    team = {r["id"]: r["team_role"] for r in rows if on_team and r["team_role"] is not None}
    outside_team = [r["id"] for r in rows if r["id"] not in team]
    # Only a coordinator breaks the glass, and only where they are not on the team.
    break_glass = {r["id"] for r in rows if role == Role.coordinator and r["id"] not in team and r["break_glass"]}
    family = {r["id"]: FamilyPermissions(may_see_schedule=bool(r["may_see_schedule"]),
                                         may_see_visit_summaries=bool(r["may_see_visit_summaries"]),
                                         may_message=bool(r["may_message"]))
              for r in rows if role == Role.family and r["family_link"] is not None}
    visit_window: set[int] = set()
    if role == Role.worker and outside_team and _visit_window:
        visit_window = await _visit_window[0](worker_id=user.id, client_ids=outside_team, today=today,
                                              tz=user.timezone)
    return {r["id"]: ClientRelation(client_id=r["id"], facility_id=r["facility"], team_role=team.get(r["id"]),
                                    family=family.get(r["id"]), break_glass=r["id"] in break_glass,
                                    visit_window=r["id"] in visit_window) for r in rows}


_TEAM_RELATIONS = db.Prebuilt(lambda user_id, day, facility_id: CareTeamMember.select(
    CareTeamMember.client, CareTeamMember.role, CareTeamMember.client.facility.as_alias("facility_id"),
).where((CareTeamMember.user == user_id) & team_active_on(day)
        & (CareTeamMember.client.facility == facility_id)).order_by(CareTeamMember.client))

_FAMILY_RELATIONS = db.Prebuilt(lambda user_id, facility_id: FamilyLink.select(
    FamilyLink.client, FamilyLink.may_see_schedule, FamilyLink.may_see_visit_summaries, FamilyLink.may_message,
    FamilyLink.client.facility.as_alias("facility_id"),
).where((FamilyLink.user == user_id) & FamilyLink.ended_at.is_null()
        & (FamilyLink.client.facility == facility_id)).order_by(FamilyLink.client))


async def client_relations_of(*, user: Principal, today: date) -> list[ClientRelation]:
    """The policy's view of every client the user is on the care team of or linked to as family.

    For pages and digests across clients (the family home, daily emails); break-glass and
    visit-window access are per record and not listed here.
    """
    role = Role(user.role)
    if role in (Role.coordinator, Role.worker):
        rows = await _TEAM_RELATIONS.rows(user_id=user.id, day=today, facility_id=user.facility_id)
        return [ClientRelation(client_id=r["client"], facility_id=r["facility_id"], team_role=r["role"]) for r in rows]
    if role == Role.family:
        rows = await _FAMILY_RELATIONS.rows(user_id=user.id, facility_id=user.facility_id)
        return [ClientRelation(client_id=r["client"], facility_id=r["facility_id"], family=FamilyPermissions(
            may_see_schedule=r["may_see_schedule"], may_see_visit_summaries=r["may_see_visit_summaries"],
            may_message=r["may_message"])) for r in rows]
    return []


def _columns(names: tuple[str, ...]) -> list[Column]:
    return [getattr(Client, name) for name in names]


def _record_columns(confidential: bool) -> list[Column]:
    names = NEED_TO_KNOW_FIELDS + (CONFIDENTIAL_FIELDS + ("version", "updated_at") if confidential else ())
    return [Client.id, *_columns(names)]


def _record_query(confidential: bool) -> db.Prebuilt:
    return db.Prebuilt(lambda client_id: Client.select(*_record_columns(confidential)).where(Client.id == client_id))


_RECORD = {confidential: _record_query(confidential) for confidential in (False, True)}


async def client_record(*, client_id: int, confidential: bool) -> dict:
    """The client's fields: all of them, or only the need-to-know ones (never fetched otherwise)."""
    row = await _RECORD[confidential].first(client_id=client_id)
    if row is None:
        raise KeyError(client_id)
    row["name"] = display_name(row)
    return row


def _records_query(confidential: bool) -> db.PrebuiltForIds:
    return db.PrebuiltForIds(lambda ids: Client.select(*_record_columns(confidential)).where(Client.id.is_in(ids)))


_RECORDS = {confidential: _records_query(confidential) for confidential in (False, True)}


async def client_records(*, client_ids: list[int], confidential: bool) -> dict[int, dict]:
    """client_record for many clients in one query."""
    if not client_ids:
        return {}
    rows = await _RECORDS[confidential].rows(ids=list(client_ids))
    for row in rows:
        row["name"] = display_name(row)
    return {row["id"]: row for row in rows}


_NAME = db.Prebuilt(lambda client_id: Client.select(
    Client.id, Client.first_name, Client.last_name, Client.preferred_name, Client.status).where(Client.id == client_id))


async def client_name(*, client_id: int) -> dict:
    row = await _NAME.first(client_id=client_id)
    row["name"] = display_name(row)
    return row


async def client_names(*, facility_id: int, client_ids: list[int]) -> dict[int, str]:
    """The names of these clients of the facility, for pages that list events about many (one query)."""
    ids = sorted(set(client_ids))
    if not ids:
        return {}
    rows = await Client.select(Client.id, Client.first_name, Client.last_name, Client.preferred_name).where(
        Client.id.is_in(ids) & (Client.facility == facility_id)).run()
    return {row["id"]: display_name(row) for row in rows}


async def client_for_edit(*, client_id: int) -> dict:
    return await Client.select(Client.id, Client.version, Client.status, Client.status_since,
                               *_columns(EDITABLE_FIELDS)).where(Client.id == client_id).first().run()


_CONTACTS = db.Prebuilt(lambda client_id: ClientContact.select().where(
    (ClientContact.client == client_id) & ClientContact.removed_at.is_null()
).order_by(ClientContact.emergency, ascending=False).order_by(ClientContact.name))


async def contacts_for(*, client_id: int) -> list[dict]:
    return await _CONTACTS.rows(client_id=client_id)


async def contact_of(*, client_id: int, contact_id: int) -> Optional[dict]:
    return await ClientContact.select().where(
        (ClientContact.id == contact_id) & (ClientContact.client == client_id) & ClientContact.removed_at.is_null()
    ).first().run()


_TEAM = db.Prebuilt(lambda client_id: CareTeamMember.select(
    CareTeamMember.id, CareTeamMember.role, CareTeamMember.since, CareTeamMember.until, CareTeamMember.version,
    CareTeamMember.user.id.as_alias("user_id"), CareTeamMember.user.display_name.as_alias("display_name"),
    CareTeamMember.user.email.as_alias("email"),
).where(CareTeamMember.client == client_id).order_by(CareTeamMember.role).order_by(CareTeamMember.since))


async def care_team_for(*, client_id: int, today: date) -> dict[str, list[dict]]:
    """The team today, people who will join later, and people who have left."""
    rows = await _TEAM.rows(client_id=client_id)
    team: dict[str, list[dict]] = {"current": [], "future": [], "past": []}
    for row in rows:
        if row["since"] > today:
            team["future"].append(row)
        elif row["until"] is not None and row["until"] < today:
            team["past"].append(row)
        else:
            team["current"].append(row)
    return team


async def team_member_of(*, client_id: int, member_id: int) -> Optional[dict]:
    return await CareTeamMember.select().where(
        (CareTeamMember.id == member_id) & (CareTeamMember.client == client_id)
    ).first().run()


async def team_candidates(*, facility_id: int) -> list[dict]:
    """Active coordinators and workers of the facility, who can join a care team."""
    return await User.select(User.id, User.display_name, User.role).where(
        (User.facility == facility_id) & (User.active == True)  # noqa: E712 (Piccolo builds SQL from ==)
        & User.role.is_in([Role.coordinator.value, Role.worker.value])
    ).order_by(User.role).order_by(User.display_name).run()


_FAMILY_LINKS = db.Prebuilt(lambda client_id: FamilyLink.select(
    FamilyLink.id, FamilyLink.relationship, FamilyLink.may_see_schedule, FamilyLink.may_see_visit_summaries,
    FamilyLink.may_message, FamilyLink.created_at, FamilyLink.version,
    FamilyLink.user.display_name.as_alias("display_name"),
    FamilyLink.user.email.as_alias("email"), FamilyLink.user.active.as_alias("active"),
    FamilyLink.user.id.as_alias("user_id"),
    FamilyLink.approved_by.display_name.as_alias("approved_by_name"),
).where((FamilyLink.client == client_id) & FamilyLink.ended_at.is_null()).order_by(FamilyLink.created_at))


async def family_links_for(*, client_id: int) -> list[dict]:
    return await _FAMILY_LINKS.rows(client_id=client_id)


async def family_link_of(*, client_id: int, link_id: int) -> Optional[dict]:
    return await FamilyLink.select().where(
        (FamilyLink.id == link_id) & (FamilyLink.client == client_id) & FamilyLink.ended_at.is_null()
    ).first().run()


_STATUS_HISTORY = db.Prebuilt(lambda client_id: ClientStatusChange.select(
    ClientStatusChange.from_status, ClientStatusChange.to_status, ClientStatusChange.effective_on,
    ClientStatusChange.reason, ClientStatusChange.changed_at,
    ClientStatusChange.changed_by.display_name.as_alias("changed_by_name"),
).where(ClientStatusChange.client == client_id).order_by(ClientStatusChange.id, ascending=False))


async def status_history_for(*, client_id: int) -> list[dict]:
    return await _STATUS_HISTORY.rows(client_id=client_id)


# --- the caseload ---------------------------------------------------------------------------

CASELOAD_STATUSES = ("", "all") + tuple(s.value for s in ClientStatus)  # "": everyone not discharged
CASELOAD_SORTS = ("name", "status", "review")  # and, descending, each count the composing page passes in
# "due": the review date is past or within the reviews' "due soon" days; "overdue": past.
CASELOAD_REVIEW_FILTERS = ("", "due", "overdue")

_STATUS_ORDER = QueryString(
    "CASE status WHEN 'referral' THEN 0 WHEN 'active' THEN 1 WHEN 'paused' THEN 2 ELSE 3 END"
)
_REVIEW_MISSING_LAST = QueryString("CASE WHEN review_due IS NULL THEN 1 ELSE 0 END")


@dataclass(frozen=True)
class CaseloadFilter:
    q: str = ""
    status: str = ""
    review: str = ""
    flagged: bool = False
    # Names of the counts passed to caseload_for that must be above zero (unread messages, concerns...).
    needs: tuple[str, ...] = ()
    sort: str = "name"
    page: int = 1


@dataclass
class CaseloadRow:
    id: int
    name: str
    status: str
    review_due: Optional[date]
    review_overdue: bool
    flag: str
    coordinators: list[str] = field(default_factory=list)
    # Columns of the page query the caseload page passes in (app/pages/caseload.py).
    next_visit: Optional[datetime] = None
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CaseloadPage:
    rows: list[CaseloadRow]
    total: int
    page: int
    pages: int
    # How many clients of the caseload (searched and by status, before the other filters) have each
    # count above zero, a review due or overdue and a flag: the filters' own numbers.
    tallies: dict[str, int] = field(default_factory=dict)


def _caseload_scope(*, user: Principal, all_clients: bool, filters: CaseloadFilter, today: date) -> list[Any]:
    where: list[Any] = [Client.facility == user.facility_id]
    if not all_clients:
        where.append(Client.id.is_in(
            CareTeamMember.select(CareTeamMember.client).where((CareTeamMember.user == user.id) & team_active_on(today))
        ))
    if filters.status == "":
        where.append(Client.status != ClientStatus.discharged.value)
    elif filters.status != "all":
        where.append(Client.status == filters.status)
    for word in search_terms(filters.q):
        where.append(Client.search_name.like(f"%{word}%"))
    return where


def _caseload_conditions(*, counts: Mapping[str, QueryString], today: date,
                         review_soon: date) -> dict[str, QueryString]:
    """Each filter as a condition on a client row: the review due or overdue, the flag, each count above zero."""
    conditions = {"review": QueryString("review_due <= {}", review_soon), "overdue": QueryString("review_due < {}", today),
                  "flagged": QueryString("flag <> ''")}
    conditions.update({name: QueryString("({}) > 0", sql) for name, sql in counts.items()})
    return conditions


async def caseload_for(*, user: Principal, all_clients: bool, filters: CaseloadFilter, today: date,
                       review_soon: date, next_visit: Any = None,
                       counts: Optional[Mapping[str, QueryString]] = None) -> CaseloadPage:
    """One page of the caseload in a fixed number of queries, whatever its size.

    `counts` are SQL columns over `client` the composing page passes in (clients stand below
    visits, messages and liaison): unread messages, open concerns... one number per client. Each
    can be shown, required above zero (`filters.needs`) and sorted on (highest first). One query
    counts the clients matching and, for the filters' labels, those with each count above zero;
    one returns the page; an admin's page adds one batched query for the coordinators.
    """
    counts = dict(counts or {})
    scope = _caseload_scope(user=user, all_clients=all_clients, filters=filters, today=today)
    conditions = _caseload_conditions(counts=counts, today=today, review_soon=review_soon)
    required = [conditions[name] for name in filters.needs if name in conditions]
    if filters.review:
        required.append(conditions["review" if filters.review == "due" else "overdue"])
    if filters.flagged:
        required.append(conditions["flagged"])
    matching = QueryString(" AND ".join("{}" for _ in required), *required) if required else QueryString("1 = 1")

    tally_columns = [QueryString("SUM(CASE WHEN {} THEN 1 ELSE 0 END)", matching).as_alias("total")]
    tally_columns += [QueryString("SUM(CASE WHEN {} THEN 1 ELSE 0 END)", condition).as_alias(name)
                      for name, condition in conditions.items()]
    tallied = (await Client.select(*tally_columns).where(*scope).run() or [{}])[0]
    total = int(tallied.get("total") or 0)
    tallies = {name: int(tallied.get(name) or 0) for name in conditions}

    pages = max(1, -(-total // CASELOAD_PAGE_SIZE))
    page = min(max(filters.page, 1), pages)
    columns: list[Any] = [Client.id, Client.first_name, Client.last_name, Client.preferred_name, Client.status,
                          Client.review_due, Client.flag]
    columns += [sql.as_alias(name) for name, sql in counts.items()]
    if next_visit is not None:
        columns.append(next_visit.as_alias("next_visit"))
    query = Client.select(*columns).where(*scope, WhereRaw("{}", matching))
    if filters.sort == "status":
        query = query.order_by(_STATUS_ORDER)
    elif filters.sort == "review":
        query = query.order_by(_REVIEW_MISSING_LAST).order_by(Client.review_due)
    elif filters.sort in counts:
        query = query.order_by(counts[filters.sort], ascending=False)
    query = query.order_by(Client.last_name).order_by(Client.first_name).order_by(Client.id)
    records = await query.limit(CASELOAD_PAGE_SIZE).offset((page - 1) * CASELOAD_PAGE_SIZE).run()
    rows = [
        CaseloadRow(id=r["id"], name=display_name(r), status=r["status"], review_due=r["review_due"],
                    review_overdue=r["review_due"] is not None and r["review_due"] < today, flag=r["flag"],
                    next_visit=as_utc(r.get("next_visit")), counts={name: int(r.get(name) or 0) for name in counts})
        for r in records
    ]
    if rows and all_clients:
        by_id = {row.id: row for row in rows}
        coordinators = await CareTeamMember.select(
            CareTeamMember.client, CareTeamMember.user.display_name.as_alias("display_name")
        ).where(
            CareTeamMember.client.is_in(list(by_id)) & (CareTeamMember.role == "coordinator") & team_active_on(today)
        ).order_by(CareTeamMember.since).run()
        for member in coordinators:
            by_id[member["client"]].coordinators.append(member["display_name"])
    return CaseloadPage(rows=rows, total=total, page=page, pages=pages, tallies=tallies)


async def clients_find(*, facility_id: int, q: str, limit: int = 20) -> list[dict]:
    """Clients of the facility by name, for emergency (break-glass) access: names and status only."""
    words = search_terms(q)
    if not words:
        return []
    rows = await Client.select(Client.id, Client.first_name, Client.last_name, Client.preferred_name,
                               Client.status).where(
        Client.facility == facility_id, *[Client.search_name.like(f"%{w}%") for w in words]
    ).order_by(Client.last_name).order_by(Client.first_name).limit(limit).run()
    for row in rows:
        row["name"] = display_name(row)
    return rows


_FAMILY_CLIENTS = db.Prebuilt(lambda user_id, facility_id: FamilyLink.select(
    FamilyLink.client.id.as_alias("id"), FamilyLink.client.first_name.as_alias("first_name"),
    FamilyLink.client.last_name.as_alias("last_name"), FamilyLink.client.preferred_name.as_alias("preferred_name"),
    FamilyLink.relationship,
).where((FamilyLink.user == user_id) & FamilyLink.ended_at.is_null() & (FamilyLink.client.facility == facility_id)))


async def clients_for_family(*, user: Principal) -> list[dict]:
    rows = await _FAMILY_CLIENTS.rows(user_id=user.id, facility_id=user.facility_id)
    for row in rows:
        row["name"] = display_name(row)
    return rows


_WORKER_CLIENTS = db.Prebuilt(lambda user_id, day, facility_id: CareTeamMember.select(
    CareTeamMember.client.id.as_alias("id"), CareTeamMember.client.first_name.as_alias("first_name"),
    CareTeamMember.client.last_name.as_alias("last_name"),
    CareTeamMember.client.preferred_name.as_alias("preferred_name"),
    CareTeamMember.client.status.as_alias("status"),
).where((CareTeamMember.user == user_id) & team_active_on(day) & (CareTeamMember.client.facility == facility_id)
        & (CareTeamMember.client.status != ClientStatus.discharged.value)))


async def clients_for_worker(*, user: Principal, today: date) -> list[dict]:
    rows = await _WORKER_CLIENTS.rows(user_id=user.id, day=today, facility_id=user.facility_id)
    for row in rows:
        row["name"] = display_name(row)
    return sorted(rows, key=lambda r: (r["last_name"], r["first_name"]))


# --- the access log ---------------------------------------------------------------------------

async def access_log_for(*, facility_id: int, client_id: int, page: int) -> tuple[list[dict], bool]:
    """Who opened or changed the record, newest first; the flag says whether older entries exist."""
    events = await AuditEvent.select(
        AuditEvent.at, AuditEvent.actor_id, AuditEvent.actor_label, AuditEvent.role, AuditEvent.action,
        AuditEvent.address, AuditEvent.device_id, AuditEvent.detail,
    ).where(
        (AuditEvent.facility_id == facility_id) & (AuditEvent.client_id == client_id)
        & AuditEvent.action.is_in(list(ACCESS_LOG_ACTIONS))
    ).order_by(AuditEvent.id, ascending=False).limit(ACCESS_LOG_PAGE_SIZE + 1).offset(
        (page - 1) * ACCESS_LOG_PAGE_SIZE
    ).run()
    actor_ids = sorted({e["actor_id"] for e in events if e["actor_id"] is not None})
    names = {}
    if actor_ids:
        people = await User.select(User.id, User.display_name).where(
            User.id.is_in(actor_ids) & (User.facility == facility_id)
        ).run()
        names = {p["id"]: p["display_name"] for p in people}
    for event in events:
        detail = json.loads(event["detail"]) if event["detail"] else {}
        event["actor_name"] = names.get(event["actor_id"], event["actor_label"])
        event["fields"] = detail.get("fields", [])
        event["detail_data"] = detail
    return events[:ACCESS_LOG_PAGE_SIZE], len(events) > ACCESS_LOG_PAGE_SIZE


async def break_glass_grants_for(*, facility_id: int, limit: int = 200) -> list[dict]:
    """Emergency accesses in the facility, newest first, for admins to review."""
    rows = await BreakGlassGrant.select(
        BreakGlassGrant.id, BreakGlassGrant.reason, BreakGlassGrant.created_at,
        BreakGlassGrant.client.id.as_alias("client_id"), BreakGlassGrant.client.first_name.as_alias("first_name"),
        BreakGlassGrant.client.last_name.as_alias("last_name"),
        BreakGlassGrant.client.preferred_name.as_alias("preferred_name"),
        BreakGlassGrant.user.display_name.as_alias("user_name"), BreakGlassGrant.user.email.as_alias("user_email"),
    ).where(BreakGlassGrant.client.facility == facility_id).order_by(
        BreakGlassGrant.created_at, ascending=False
    ).limit(limit).run()
    for row in rows:
        row["name"] = display_name(row)
    return rows


# --- review dates, for the reviews list and the dashboard ------------------------------------------

REVIEW_SORTS = ("due", "name")


def _in_scope(*, user: Principal, all_clients: bool, today: date) -> list[Any]:
    where: list[Any] = [Client.facility == user.facility_id, Client.status != ClientStatus.discharged.value]
    if not all_clients:
        where.append(Client.id.is_in(
            CareTeamMember.select(CareTeamMember.client).where((CareTeamMember.user == user.id) & team_active_on(today))
        ))
    return where


async def reviews_due_for(*, user: Principal, all_clients: bool, today: date, until: date, sort: str = "due",
                          page: int = 1, page_size: int = CASELOAD_PAGE_SIZE) -> tuple[list[dict], int, int]:
    """The clients whose review date is on or before `until` (overdue first when sorted by date): rows, total, page."""
    where = _in_scope(user=user, all_clients=all_clients, today=today) + [Client.review_due <= until]
    total = await Client.count().where(*where).run()
    pages = max(1, -(-total // page_size))
    page = min(max(page, 1), pages)
    query = Client.select(Client.id, Client.first_name, Client.last_name, Client.preferred_name,
                          Client.review_due).where(*where)
    if sort == "due":
        query = query.order_by(Client.review_due)
    rows = await query.order_by(Client.last_name).order_by(Client.first_name).order_by(Client.id).limit(
        page_size).offset((page - 1) * page_size).run()
    for row in rows:
        row["name"] = display_name(row)
        row["overdue"] = row["review_due"] < today
    return rows, total, page


async def review_due_counts(*, user: Principal, all_clients: bool, today: date, soon: date) -> dict[str, int]:
    """How many clients' reviews are overdue, due by `soon`, later, or have no date: one query."""
    where = _in_scope(user=user, all_clients=all_clients, today=today)
    rows = await Client.select(
        QueryString("SUM(CASE WHEN review_due < {} THEN 1 ELSE 0 END)", today).as_alias("overdue"),
        QueryString("SUM(CASE WHEN review_due >= {} AND review_due <= {} THEN 1 ELSE 0 END)", today,
                    soon).as_alias("due"),
        QueryString("SUM(CASE WHEN review_due > {} THEN 1 ELSE 0 END)", soon).as_alias("later"),
        QueryString("SUM(CASE WHEN review_due IS NULL THEN 1 ELSE 0 END)").as_alias("none"),
    ).where(*where).run()
    row = rows[0] if rows else {}
    return {key: int(row.get(key) or 0) for key in ("overdue", "due", "later", "none")}


# --- care teams, for the staff report and the dashboard ----------------------------------------------


async def coordinator_client_ids(*, user_id: int, today: date) -> list[int]:
    """The clients whose care team this person coordinates today."""
    rows = await CareTeamMember.select(CareTeamMember.client).where(
        (CareTeamMember.user == user_id) & (CareTeamMember.role == TeamRole.coordinator.value)
        & team_active_on(today)).run()
    return sorted({row["client"] for row in rows})


def team_members_of_coordinator(*, user_id: int, today: date) -> Any:
    """A subquery of the people on the care teams this person coordinates today (for `User.id.is_in`)."""
    mine = CareTeamMember.select(CareTeamMember.client).where(
        (CareTeamMember.user == user_id) & (CareTeamMember.role == TeamRole.coordinator.value) & team_active_on(today))
    return CareTeamMember.select(CareTeamMember.user).where(CareTeamMember.client.is_in(mine) & team_active_on(today))


async def family_with_review_between(*, start: date, end: date) -> list[dict]:
    """Family members whose active link shows the schedule, of clients whose review date is from `start`
    to `end`: who to ask for their view before the review."""
    return await FamilyLink.select(
        FamilyLink.client.id.as_alias("client_id"), FamilyLink.client.first_name.as_alias("client_first_name"),
        FamilyLink.client.review_due.as_alias("review_due"), FamilyLink.user.id.as_alias("user_id"),
        FamilyLink.user.email.as_alias("email"), FamilyLink.user.display_name.as_alias("display_name"),
    ).where(FamilyLink.ended_at.is_null() & (FamilyLink.may_see_schedule == True)  # noqa: E712
            & (FamilyLink.user.active == True) & (FamilyLink.client.status != ClientStatus.discharged.value)  # noqa: E712
            & (FamilyLink.client.review_due >= start) & (FamilyLink.client.review_due <= end)).order_by(
        FamilyLink.client).order_by(FamilyLink.user).run()


async def client_facility_id(*, client_id: int) -> Optional[int]:
    row = await Client.select(Client.facility).where(Client.id == client_id).first().run()
    return row["facility"] if row else None
