"""Who may do what: DESIGN.md section 2 as data, with one `can()` entry point.

Every route declares the action it performs (`opt={"action": ...}`); the guard in
app.web.auth asks `can()` before the handler runs. Record-level rules (a client on one's care
team, one's own visit) are added here as relations, never re-implemented in controllers.
"""

from __future__ import annotations

from typing import Optional, Protocol

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
}

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
    return True


def home_for(role: str) -> str:
    return HOME_BY_ROLE[Role(role)]
