"""Who may do what: DESIGN.md section 2 as data, with one `can()` entry point.

Every route declares the action it performs (`opt={"action": ...}`); the guard in
app.web.auth asks `can()` before the handler runs. Record-level rules (a client on one's care
team, one's own visit) are added here as relations, never re-implemented in controllers.
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
    "audit.view": frozenset({Role.admin}),
    "client.create": frozenset({Role.admin, Role.coordinator}),
    "client.list_all": frozenset({Role.admin}),
    "break_glass.review": frozenset({Role.admin}),
    # Those who take part in client threads choose how they hear about messages by email.
    "account.notifications": frozenset({Role.coordinator, Role.family}),
    "messages.unanswered": frozenset({Role.coordinator}),
    "devices.manage": frozenset({Role.admin}),
    # Shared tablets are for staff; family members use their own devices.
    "account.set_pin": frozenset({Role.admin, Role.coordinator, Role.worker}),
    # Who visits whom when: a coordinator sees their care teams' clients, an admin the facility's.
    "schedule.team_week": frozenset({Role.admin, Role.coordinator}),
    # A worker's own secret calendar URL.
    "calendar.manage": frozenset({Role.worker}),
    # Today's late and missed visits and open concerns of one's care teams, on the caseload.
    "caseload.visit_alerts": frozenset({Role.coordinator}),
    # The facility's directory of providers and agencies, and its referrals (each referral's client decides).
    "agencies.view": frozenset({Role.admin, Role.coordinator}),
    "agencies.manage": frozenset({Role.admin, Role.coordinator}),
    "referrals.list": frozenset({Role.admin, Role.coordinator}),
    # Referrals of one's care teams past their answer date, on the caseload.
    "caseload.referral_alerts": frozenset({Role.admin, Role.coordinator}),
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


def _own_visit(relation: ClientRelation) -> bool:
    return relation.own_visit


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
    # Cancel one visit or give it to another worker.
    "visit.manage": {Role.admin: (_any,), Role.coordinator: (_on_team,)},
    # What was done at a visit: the notes, the family summary, the concern.
    "visit.log.view": {Role.admin: (_any,), Role.coordinator: (_on_team, _break_glass),
                       Role.worker: (_own_visit,)},
    # Check in, log, check out and correct: the worker their own visits (corrections for 24 hours
    # after check-out), a coordinator of the team at any time, on the worker's behalf.
    "visit.log": {Role.coordinator: (_on_team,), Role.worker: (_own_visit_correctable,)},
    "visit.concern.resolve": {Role.coordinator: (_on_team,)},
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
}
# At route level (no record yet) a role passes when some relation could allow it; the record decides.
for _action, _by_role in RELATION_RULES.items():
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


def known_action(action: str) -> bool:
    return action == PUBLIC or action in ROLE_RULES


def can(user: Optional[Principal], action: str, obj: Optional[object] = None) -> bool:
    """May `user` perform `action` (on `obj`, where the action concerns a record)?"""
    if action == PUBLIC:
        return True
    if user is None:
        return False
    roles = ROLE_RULES.get(action)
    if roles is None:
        return False
    if Role(user.role) not in roles:
        return False
    facility_id = getattr(obj, "facility_id", None)
    if obj is not None and facility_id is not None and facility_id != user.facility_id:
        return False
    if isinstance(obj, ClientRelation) and action in RELATION_RULES:
        return any(rule(obj) for rule in RELATION_RULES[action].get(Role(user.role), ()))
    return True


def home_for(role: str) -> str:
    return HOME_BY_ROLE[Role(role)]
