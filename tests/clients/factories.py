"""Clients, care teams and family links for tests, inserted directly (services are tested on their own)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Optional

from app import clock
from app.accounts.tables import Role
from app.clients.queries import search_key
from app.clients.tables import CareTeamMember, Client, ClientContact, FamilyLink
from tests.conftest import make_facility, make_user

_names = {"n": 0}


async def make_client(*, facility_id: int, coordinator: Optional[dict] = None, workers: tuple[dict, ...] = (),
                      first_name: Optional[str] = None, last_name: str = "Example", status: str = "active",
                      since: Optional[date] = None, **fields) -> dict:
    """A client (active by default), with the coordinator and workers on its care team from `since`."""
    _names["n"] += 1
    first_name = first_name or f"Client{_names['n']}"
    values = dict(first_name=first_name, last_name=last_name, date_of_birth=date(1940, 5, 17),
                  address="1 Example Street", phone="01632 960000", allergies="Penicillin",
                  care_instructions="Knock loudly", confidential_notes="Confidential: family dispute",
                  email="client@example.org")
    values.update(fields)
    rows = await Client.insert(Client(
        facility=facility_id, status=status, status_since=date(2026, 1, 1),
        search_name=search_key(first_name, last_name, values.get("preferred_name", "")), **values,
    )).run()
    client_id = rows[0]["id"]
    since = since or date(2020, 1, 1)
    if coordinator is not None:
        await add_team_member(client_id=client_id, user=coordinator, since=since)
    for worker in workers:
        await add_team_member(client_id=client_id, user=worker, since=since)
    return {"id": client_id, "facility_id": facility_id, "first_name": first_name, "last_name": last_name, **values}


async def add_team_member(*, client_id: int, user: dict, since: date = date(2020, 1, 1),
                          until: Optional[date] = None) -> int:
    rows = await CareTeamMember.insert(CareTeamMember(
        client=client_id, user=user["id"], role=user["role"], since=since, until=until,
    )).run()
    return rows[0]["id"]


async def link_family(*, client_id: int, user: dict, may_see_schedule: bool = True,
                      may_see_visit_summaries: bool = True, may_message: bool = True) -> int:
    rows = await FamilyLink.insert(FamilyLink(
        client=client_id, user=user["id"], relationship="daughter", may_see_schedule=may_see_schedule,
        may_see_visit_summaries=may_see_visit_summaries, may_message=may_message,
    )).run()
    return rows[0]["id"]


async def add_contact(*, client_id: int, name: str = "Sam Neighbour") -> int:
    rows = await ClientContact.insert(ClientContact(client=client_id, name=name, relationship="neighbour",
                                                    phone="01632 960111")).run()
    return rows[0]["id"]


@dataclass
class World:
    """Two coordinators' caseloads in one facility, and a second facility, with a person of every role."""

    facility: int
    other_facility: int
    admin: dict
    coordinator: dict
    coordinator2: dict
    worker: dict
    worker2: dict
    family: dict
    family2: dict
    foreign_coordinator: dict
    own: dict  # on coordinator's and worker's team, linked to family
    others: dict  # coordinator2's client, worker2 on the team, family2 linked
    foreign: dict  # a client of the other facility

    def person(self, role: str) -> dict:
        return {"admin": self.admin, "coordinator": self.coordinator, "worker": self.worker,
                "family": self.family}[role]

    def target(self, name: str) -> dict:
        return {"own": self.own, "other": self.others, "foreign": self.foreign}[name]


async def make_world() -> World:
    facility = await make_facility()
    other_facility = await make_facility()
    people = {}
    for key, role, fac in (("admin", Role.admin, facility), ("coordinator", Role.coordinator, facility),
                           ("coordinator2", Role.coordinator, facility), ("worker", Role.worker, facility),
                           ("worker2", Role.worker, facility), ("family", Role.family, facility),
                           ("family2", Role.family, facility), ("foreign_coordinator", Role.coordinator, other_facility)):
        people[key] = await make_user(facility_id=fac, role=role, name=key.replace("_", " ").title())
    own = await make_client(facility_id=facility, coordinator=people["coordinator"], workers=(people["worker"],),
                            first_name="Olive", last_name="Owens")
    others = await make_client(facility_id=facility, coordinator=people["coordinator2"], workers=(people["worker2"],),
                               first_name="Otto", last_name="Other")
    foreign = await make_client(facility_id=other_facility, coordinator=people["foreign_coordinator"],
                                first_name="Fern", last_name="Faraway")
    await link_family(client_id=own["id"], user=people["family"])
    await link_family(client_id=others["id"], user=people["family2"])
    return World(facility=facility, other_facility=other_facility, own=own, others=others, foreign=foreign, **people)


def today() -> date:
    return clock.today_in("Europe/London")
