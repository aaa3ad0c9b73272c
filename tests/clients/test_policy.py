"""The policy's record-level rules for clients, as pure functions of role and relation."""

from __future__ import annotations

import pytest

from app.accounts.tables import Role
from app.policy import ROLE_RULES, can, can_on, known_action, route_allows
from tests.policy_helpers import Person, relation


ON_TEAM_COORDINATOR = relation(team_role="coordinator")
ON_TEAM_WORKER = relation(team_role="worker")
NOT_ON_TEAM = relation()
LINKED_FAMILY = relation(family=True)
BREAK_GLASS = relation(break_glass=True)
OTHER_FACILITY = relation(facility_id=2, team_role="coordinator", family=True, break_glass=True)

RECORD_ACTIONS = ("client.view", "client.view_confidential", "client.edit", "client.team.manage",
                  "client.family.manage", "client.access_log.view", "client.access_log.details",
                  "client.break_glass")


def test_every_client_action_is_known_to_the_route_guard():
    for action in RECORD_ACTIONS + ("client.create", "client.list_all", "break_glass.review", "caseload.view"):
        assert known_action(action)


@pytest.mark.parametrize("role", ["admin", "coordinator", "worker", "family"])
@pytest.mark.parametrize("action", RECORD_ACTIONS)
def test_nothing_of_another_facility_is_allowed_whatever_the_relation(role, action):
    assert not can_on(Person(role), action, OTHER_FACILITY)


def test_admins_see_and_edit_every_client_of_their_facility():
    for action in RECORD_ACTIONS[:-1]:
        assert can_on(Person("admin"), action, NOT_ON_TEAM)
    assert not can_on(Person("admin"), "client.break_glass", NOT_ON_TEAM)


def test_a_coordinator_on_the_team_does_everything_with_the_record():
    for action in RECORD_ACTIONS[:-1]:
        assert can_on(Person("coordinator"), action, ON_TEAM_COORDINATOR)
    assert not can_on(Person("coordinator"), "client.break_glass", ON_TEAM_COORDINATOR)


def test_a_coordinator_off_the_team_sees_nothing_but_may_break_the_glass():
    for action in RECORD_ACTIONS[:-1]:
        assert not can_on(Person("coordinator"), action, NOT_ON_TEAM)
    assert can_on(Person("coordinator"), "client.break_glass", NOT_ON_TEAM)


def test_break_glass_lets_a_coordinator_read_but_not_change_the_record():
    assert can_on(Person("coordinator"), "client.view", BREAK_GLASS)
    assert can_on(Person("coordinator"), "client.view_confidential", BREAK_GLASS)
    for action in ("client.edit", "client.team.manage", "client.family.manage", "client.access_log.view"):
        assert not can_on(Person("coordinator"), action, BREAK_GLASS)


def test_a_worker_on_the_team_sees_need_to_know_fields_only():
    worker = Person("worker")
    assert can_on(worker, "client.view", ON_TEAM_WORKER)
    assert not can_on(worker, "client.view_confidential", ON_TEAM_WORKER)
    for action in ("client.edit", "client.team.manage", "client.family.manage", "client.access_log.view",
                   "client.break_glass"):
        assert not can_on(worker, action, ON_TEAM_WORKER)


def test_a_worker_with_a_visit_today_may_open_the_client():
    assert can_on(Person("worker"), "client.view", relation(visit_window=True))
    assert not can_on(Person("worker"), "client.view", NOT_ON_TEAM)


def test_break_glass_is_not_for_workers_or_family():
    assert not can_on(Person("worker"), "client.view", BREAK_GLASS)
    assert not can_on(Person("family"), "client.view", BREAK_GLASS)


def test_a_linked_family_member_sees_the_access_log_without_details_and_nothing_else():
    family = Person("family")
    assert can_on(family, "client.access_log.view", LINKED_FAMILY)
    assert not can_on(family, "client.access_log.details", LINKED_FAMILY)
    for action in ("client.view", "client.view_confidential", "client.edit"):
        assert not can_on(family, action, LINKED_FAMILY)
    assert not can_on(family, "client.access_log.view", NOT_ON_TEAM)


def test_at_route_level_a_role_passes_when_some_relation_could_allow_it():
    assert route_allows(Person("family"), "client.access_log.view")
    assert not route_allows(Person("family"), "client.view")
    assert not route_allows(Person("worker"), "client.edit")
    assert ROLE_RULES["client.break_glass"] == frozenset({Role.coordinator})


def test_only_admins_list_every_client_of_the_facility():
    assert can(Person("admin"), "client.list_all")
    assert not can(Person("coordinator"), "client.list_all")
