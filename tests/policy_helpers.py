"""The people and relations the policy's tests ask about: the policy is pure, so no database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from app.accounts.tables import Role
from app.policy import ClientRelation, FamilyPermissions

CLIENT_ID = 7
FACILITY_ID = 1


@dataclass(frozen=True)
class Person:
    """A signed-in person as the policy sees them (app.policy.Principal)."""

    role: str
    id: int = 1
    facility_id: int = FACILITY_ID

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", Role(self.role).value)


def relation(*, facility_id: int = FACILITY_ID, family: Union[bool, FamilyPermissions, None] = None,
             **values: Any) -> ClientRelation:
    """How a person stands to client 7; `family=True` is a family link with no extra permissions."""
    if family is True:
        family = FamilyPermissions()
    return ClientRelation(client_id=CLIENT_ID, facility_id=facility_id, family=family or None, **values)
