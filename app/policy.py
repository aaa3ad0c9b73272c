"""Who may do what: DESIGN.md section 2 as data, with two questions and no edge between them.

- `can(user, action)`: a rule about a role (may this person open the caseload, manage users?).
- `can_on(user, action, relation)`: a rule about a record (may this person read this client,
  log this visit?), answered from how they stand to it (`ClientRelation`).

Asking a record action without its record is an error, not a quiet role check: each raises
`PolicyQuestionError` when asked the other's kind of action. Every route declares the action it
performs (`opt={"action": ...}`); the guard in app.web.auth asks `route_allows()` before the
handler runs (for a record action: could some relation allow it; the handler then asks
`can_on()` with the record). Record-level rules are added here as relations, never
re-implemented in controllers or queries; a query that filters by role asks `roles_for()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Optional, Protocol

from app.accounts.tables import Role

PUBLIC = "public"
SIGNED_IN = "signed_in"

ALL_ROLES = frozenset(Role)

# action -> roles that may perform it
ROLE_RULES: dict[str, frozenset[Role]] = {
    SIGNED_IN: ALL_ROLES,
    "account.change_password": ALL_ROLES,
    "caseload.view": frozenset({Role.admin, Role.coordinator}),
    "my_day.view": frozenset({Role.worker}),
    "family.home": frozenset({Role.family}),
    "users.manage": frozenset({Role.admin}),
    # Lift a person's sign-in delay or hard stop (NIST rate limiting lets an admin vouch for them).
    "users.unblock_sign_in": frozenset({Role.admin}),
    "audit.view": frozenset({Role.admin}),
    "client.create": frozenset({Role.admin, Role.coordinator}),
    "client.list_all": frozenset({Role.admin}),
    "break_glass.review": frozenset({Role.admin}),
    # Those who take part in client threads choose how they hear about messages by email.
    "account.notifications": frozenset({Role.coordinator, Role.family}),
    "messages.unanswered": frozenset({Role.coordinator}),
    # Unread messages per client on the caseload: those who take part in client threads as staff.
    "caseload.unread_messages": frozenset({Role.coordinator}),
    "devices.manage": frozenset({Role.admin}),
    # Shared tablets are for staff; family members use their own devices.
    "account.set_pin": frozenset({Role.admin, Role.coordinator, Role.worker}),
    # Who visits whom when: a coordinator sees their care teams' clients, an admin the facility's.
    "schedule.team_week": frozenset({Role.admin, Role.coordinator}),
    # A worker's own secret calendar URL.
    "calendar.manage": frozenset({Role.worker}),
    # Today's late and missed visits and open concerns of one's care teams, on the caseload.
    "caseload.visit_alerts": frozenset({Role.coordinator}),
    # Backups, the retention period and purged records are the facility's, like its settings.
    "records.manage": frozenset({Role.admin}),
    # The facility's directory of providers and agencies, and its referrals (each referral's client decides).
    "agencies.view": frozenset({Role.admin, Role.coordinator}),
    "agencies.manage": frozenset({Role.admin, Role.coordinator}),
    "referrals.list": frozenset({Role.admin, Role.coordinator}),
    # Referrals of one's care teams past their answer date, on the caseload.
    "caseload.referral_alerts": frozenset({Role.admin, Role.coordinator}),
    # Reviews due and overdue: a coordinator's care teams, an admin's facility.
    "reviews.list": frozenset({Role.admin, Role.coordinator}),
    # A family member's answers before a review, and the summaries of reviews shared with them.
    "family.reviews": frozenset({Role.family}),
    # The dashboard: the facility for an admin, the caseload for a coordinator.
    "dashboard.view": frozenset({Role.admin, Role.coordinator}),
    # A care worker's own figures, on My day's account area: never anyone else's.
    "reports.staff.own": frozenset({Role.worker}),
    # Referral figures per agency (counts only, no client): admins and coordinators.
    "reports.agencies": frozenset({Role.admin, Role.coordinator}),
}

# After check-out a worker may correct their own visit log for this long; later only a coordinator may.
VISIT_CORRECTION_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class FamilyPermissions:
    may_see_schedule: bool = False
    may_see_visit_summaries: bool = False
    may_message: bool = False


@dataclass(frozen=True)
class ClientRelation:
    """How one signed-in person stands to one client; computed from the database by app.clients.queries."""

    client_id: int
    facility_id: int
    team_role: Optional[str] = None  # active care-team membership today: "coordinator" or "worker"
    family: Optional[FamilyPermissions] = None  # an active family link
    break_glass: bool = False  # emergency access granted to this session
    visit_window: bool = False  # a visit with the client today (± the visits feature's window)
    own_visit: bool = False  # the visit in question is assigned to this person (visit pages only)
    # Visit pages only: when the visit was checked out (None while it is open), and the moment of asking.
    visit_checked_out_at: Optional[datetime] = None
    now: Optional[datetime] = None
    review_shared: bool = False  # review pages only: the review's summary is shared with the family


RelationRule = Callable[[ClientRelation], bool]


def _any(relation: ClientRelation) -> bool:
    return True  # the facility check in can() has already passed


def _on_team(relation: ClientRelation) -> bool:
    return relation.team_role is not None


def _not_on_team(relation: ClientRelation) -> bool:
    return relation.team_role is None


def _break_glass(relation: ClientRelation) -> bool:
    return relation.break_glass


def _visit_window(relation: ClientRelation) -> bool:
    return relation.visit_window


def _family_linked(relation: ClientRelation) -> bool:
    return relation.family is not None


def _family_may_message(relation: ClientRelation) -> bool:
    return relation.family is not None and relation.family.may_message


def _family_may_see_schedule(relation: ClientRelation) -> bool:
    return relation.family is not None and relation.family.may_see_schedule


def _family_may_see_summaries(relation: ClientRelation) -> bool:
    return relation.family is not None and relation.family.may_see_visit_summaries


def _family_shared_review(relation: ClientRelation) -> bool:
    return relation.family is not None and relation.review_shared


def _own_visit(relation: ClientRelation) -> bool:
    return relation.own_visit


def _own_visit_while_theirs(relation: ClientRelation) -> bool:
    """One's own visit while the client is still theirs (on the team, or a visit in the window): a worker
    who has left the team keeps their old visits, not the client's current concerns and notes."""
    return relation.own_visit and (relation.team_role is not None or relation.visit_window)


def _own_visit_correctable(relation: ClientRelation) -> bool:
    """One's own visit, while it is open and for 24 hours after its check-out."""
    if not relation.own_visit:
        return False
    if relation.visit_checked_out_at is None:
        return True
    return relation.now is not None and relation.now < relation.visit_checked_out_at + VISIT_CORRECTION_WINDOW


# action -> role -> relations that allow it (any one suffices). DESIGN.md section 2.
RELATION_RULES: dict[str, dict[Role, tuple[RelationRule, ...]]] = {
    "client.view": {Role.admin: (_any,), Role.coordinator: (_on_team, _break_glass),
                    Role.worker: (_on_team, _visit_window)},
    # Workers see need-to-know fields only (care instructions, risks, contacts).
    "client.view_confidential": {Role.admin: (_any,), Role.coordinator: (_on_team, _break_glass)},
    "client.edit": {Role.admin: (_any,), Role.coordinator: (_on_team,)},
    "client.team.manage": {Role.admin: (_any,), Role.coordinator: (_on_team,)},
    "client.family.manage": {Role.admin: (_any,), Role.coordinator: (_on_team,)},
    "client.access_log.view": {Role.admin: (_any,), Role.coordinator: (_on_team,), Role.family: (_family_linked,)},
    # Family members see who and when, not what was done or from where.
    "client.access_log.details": {Role.admin: (_any,), Role.coordinator: (_on_team,)},
    "client.break_glass": {Role.coordinator: (_not_on_team,)},
    # The thread between the care team and the family; admins are not part of the conversation,
    # and emergency access opens the record, not the family's messages.
    "client.messages.view": {Role.coordinator: (_on_team,), Role.worker: (_on_team,),
                             Role.family: (_family_may_message,)},
    "client.messages.post": {Role.coordinator: (_on_team,), Role.family: (_family_may_message,)},
    # Team-only notes: seen by the team (workers read them), never by family.
    "client.messages.team_notes": {Role.coordinator: (_on_team,), Role.worker: (_on_team,)},
    # Visit summaries the team marked as shared, on the family home; the team's own reading of
    # summaries comes with visit logging.
    "visit.summaries.shared": {Role.family: (_family_may_see_summaries,)},
    # The care plan: workers read it (goals, services, instructions) for their own clients only.
    "plan.view": {Role.admin: (_any,), Role.coordinator: (_on_team, _break_glass),
                  Role.worker: (_on_team, _visit_window)},
    "plan.edit": {Role.admin: (_any,), Role.coordinator: (_on_team,)},
    # The client's visit schedule; family members only when their link allows it.
    "schedule.view": {Role.admin: (_any,), Role.coordinator: (_on_team, _break_glass),
                      Role.worker: (_on_team, _visit_window), Role.family: (_family_may_see_schedule,)},
    # Within the schedule: instructions, checklists, cancellation reasons, double bookings.
    "schedule.details": {Role.admin: (_any,), Role.coordinator: (_on_team, _break_glass),
                         Role.worker: (_on_team, _visit_window)},
    "visit.view": {Role.admin: (_any,), Role.coordinator: (_on_team, _break_glass),
                   Role.worker: (_own_visit, _on_team)},
    # The handover on a visit's page (the need-to-know record, the last visit's note, open concerns and
    # the team's notes): for the worker going to the visit and the team's coordinators who plan it.
    "visit.handover": {Role.coordinator: (_on_team,), Role.worker: (_own_visit_while_theirs,)},
    # Cancel, move or give one visit to another worker, or add an extra visit.
    "visit.manage": {Role.admin: (_any,), Role.coordinator: (_on_team,)},
    # What was done at a visit: the notes, the family summary, the concern.
    "visit.log.view": {Role.admin: (_any,), Role.coordinator: (_on_team, _break_glass),
                       Role.worker: (_own_visit,)},
    # Check in, log, check out and correct: the worker their own visits (corrections for 24 hours
    # after check-out), a coordinator of the team at any time, on the worker's behalf.
    "visit.log": {Role.coordinator: (_on_team,), Role.worker: (_own_visit_correctable,)},
    # A concern's own page (what was raised, who acknowledged, what was done): those who act on it, and
    # the admins it escalates to; acknowledging, actioning and resolving it are the team coordinators'.
    "visit.concern.view": {Role.admin: (_any,), Role.coordinator: (_on_team, _break_glass)},
    "visit.concern.resolve": {Role.coordinator: (_on_team,)},
    # Subject access (UK GDPR art. 15/20): everything held about the client, for the client or
    # their representative. Not by emergency access: that opens a record to give care, not to hand it out.
    "client.export": {Role.admin: (_any,), Role.coordinator: (_on_team,)},
    # The agencies involved in the client's care. Workers see the GP's and pharmacy's phone numbers
    # (need to know); family members see names only, when their link shows the schedule.
    "client.providers.view": {Role.admin: (_any,), Role.coordinator: (_on_team, _break_glass),
                              Role.worker: (_on_team, _visit_window), Role.family: (_family_may_see_schedule,)},
    "client.providers.details": {Role.admin: (_any,), Role.coordinator: (_on_team, _break_glass)},
    "client.providers.phones": {Role.worker: (_on_team, _visit_window)},
    "client.providers.manage": {Role.admin: (_any,), Role.coordinator: (_on_team,)},
    # Referrals: the team follows them; family members see the ones the team marked shareable.
    "client.referrals.view": {Role.admin: (_any,), Role.coordinator: (_on_team, _break_glass),
                              Role.family: (_family_linked,)},
    "client.referrals.details": {Role.admin: (_any,), Role.coordinator: (_on_team, _break_glass)},
    "client.referrals.manage": {Role.admin: (_any,), Role.coordinator: (_on_team,)},
    # What was shared with whom: the team in full, the family in plain words (no addresses, no tokens).
    "client.disclosures.view": {Role.admin: (_any,), Role.coordinator: (_on_team,), Role.family: (_family_linked,)},
    "client.disclosures.details": {Role.admin: (_any,), Role.coordinator: (_on_team,)},
    # Giving information to providers: printing, the FHIR export and share links each record a disclosure.
    "client.disclose": {Role.admin: (_any,), Role.coordinator: (_on_team,)},
    # Care reviews are client records: the care team and the facility's admins, nobody else (no
    # emergency access: a review is not needed to give care now).
    "client.reviews.view": {Role.admin: (_any,), Role.coordinator: (_on_team,)},
    "client.reviews.edit": {Role.admin: (_any,), Role.coordinator: (_on_team,)},
    # Before a review, the family members whose link shows them the schedule are asked for their view.
    "client.review.family_input": {Role.family: (_family_may_see_schedule,)},
    # The family reads a review's summary only when the coordinator shared it.
    "client.review.summary": {Role.family: (_family_shared_review,)},
}
# At route level (no record yet) a role passes when some relation could allow it; the record decides.
for _action, _by_role in RELATION_RULES.items():
    ROLE_RULES[_action] = frozenset(_by_role)


@dataclass(frozen=True)
class WorkerRelation:
    """How one signed-in person stands to one care worker; computed by app.reports.queries."""

    worker_id: int
    facility_id: int
    self: bool = False  # the worker is the person asking
    coordinates: bool = False  # the person asking coordinates a care team the worker is on today


WorkerRule = Callable[[WorkerRelation], bool]


def _coordinates_worker(relation: WorkerRelation) -> bool:
    return relation.coordinates


def _is_self(relation: WorkerRelation) -> bool:
    return relation.self


# Figures about people are for those who supervise them: an admin, the worker's coordinators; a
# worker sees their own and nobody else's.
WORKER_RULES: dict[str, dict[Role, tuple[WorkerRule, ...]]] = {
    "reports.staff": {Role.admin: (_any,), Role.coordinator: (_coordinates_worker,)},
    "reports.staff.figures": {Role.admin: (_any,), Role.coordinator: (_coordinates_worker,),
                              Role.worker: (_is_self,)},
    # The supervision note: coordinators and admins only, never the worker.
    "supervision.edit": {Role.admin: (_any,), Role.coordinator: (_coordinates_worker,)},
}
for _action, _by_role in WORKER_RULES.items():
    ROLE_RULES[_action] = frozenset(_by_role)

HOME_BY_ROLE: dict[Role, str] = {
    Role.admin: "/admin/users",
    Role.coordinator: "/caseload",
    Role.worker: "/my-day",
    Role.family: "/family",
}


class Principal(Protocol):
    id: int
    facility_id: int
    role: str


@dataclass(frozen=True)
class Person:
    """A principal read from the database rather than from a session (a calendar feed's owner)."""

    id: int
    facility_id: int
    role: str


def known_action(action: str) -> bool:
    return action == PUBLIC or action in ROLE_RULES


class PolicyQuestionError(Exception):
    """A question the policy cannot answer as asked: a record action without its record, or the reverse."""


def is_record_action(action: str) -> bool:
    return action in RELATION_RULES or action in WORKER_RULES


def _role_allows(user: Optional[Principal], action: str) -> bool:
    if action == PUBLIC:
        return True
    if user is None:
        return False
    roles = ROLE_RULES.get(action)
    return roles is not None and Role(user.role) in roles


def can(user: Optional[Principal], action: str) -> bool:
    """May `user` perform `action`, a rule about roles (no record concerned)?"""
    if is_record_action(action):
        raise PolicyQuestionError(f"{action} concerns a record: ask can_on(user, action, relation)")
    return _role_allows(user, action)


def can_on(user: Optional[Principal], action: str, relation: "ClientRelation | WorkerRelation") -> bool:
    """May `user` perform `action` on the record they stand to as `relation`?"""
    if not is_record_action(action):
        raise PolicyQuestionError(f"{action} concerns no record: ask can(user, action)")
    rules = RELATION_RULES if isinstance(relation, ClientRelation) else WORKER_RULES
    if not isinstance(relation, (ClientRelation, WorkerRelation)) or action not in rules:
        raise PolicyQuestionError(f"{action} needs the person's relation to the record, not {relation!r}")
    if not _role_allows(user, action) or relation.facility_id != user.facility_id:
        return False
    return any(rule(relation) for rule in rules[action].get(Role(user.role), ()))


def route_allows(user: Optional[Principal], action: str) -> bool:
    """The route guard's question, before any record is loaded: a role rule is answered in full; a
    record action passes a role that some relation could allow, and the handler asks `can_on()`."""
    return _role_allows(user, action)


def roles_for(action: str) -> frozenset[Role]:
    """The roles a role rule allows, for a query that selects people (e.g. who may unlock a tablet)."""
    if is_record_action(action):
        raise PolicyQuestionError(f"{action} concerns a record: its roles alone decide nothing")
    return ROLE_RULES[action]


def home_for(role: str) -> str:
    return HOME_BY_ROLE[Role(role)]
