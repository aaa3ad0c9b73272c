"""The policy's entry points, whatever the feature: who is asked, about what, on which record.

Each feature's own rules are tested beside it (tests/<feature>/test_policy.py, test_rules.py),
with the people and relations of tests/policy_helpers.py.
"""

from __future__ import annotations

import pytest

from app.accounts.tables import Role
from app.policy import (HOME_BY_ROLE, PUBLIC, RELATION_RULES, ROLE_RULES, SIGNED_IN, PolicyQuestionError, can,
                        can_on, home_for, is_record_action, known_action, roles_for, route_allows)
from tests.policy_helpers import Person, relation

ROLES = [role.value for role in Role]
ROUTE_ACTIONS = sorted(action for action in ROLE_RULES if not is_record_action(action))


def test_public_is_for_everyone_and_signed_in_for_every_role():
    assert can(None, PUBLIC) and route_allows(None, PUBLIC)
    assert not can(None, SIGNED_IN)
    assert all(can(Person(role), SIGNED_IN) for role in ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_an_unknown_action_is_refused_and_unknown_to_the_route_guard(role):
    assert not known_action("client.delete_everything")
    assert not can(Person(role), "client.delete_everything")
    assert not route_allows(Person(role), "client.delete_everything")


def test_nobody_signed_out_may_do_anything_but_public_actions():
    assert not any(can(None, action) for action in ROUTE_ACTIONS)
    assert not any(route_allows(None, action) for action in ROLE_RULES)
    assert not any(can_on(None, action, relation(team_role="coordinator")) for action in RELATION_RULES)


@pytest.mark.parametrize("action", sorted(RELATION_RULES))
def test_a_record_action_asked_without_its_record_is_an_error_not_a_role_check(action):
    with pytest.raises(PolicyQuestionError):
        can(Person("admin"), action)
    with pytest.raises(PolicyQuestionError):
        can_on(Person("admin"), action, None)  # type: ignore[arg-type]
    with pytest.raises(PolicyQuestionError):
        roles_for(action)


@pytest.mark.parametrize("action", ROUTE_ACTIONS)
def test_a_role_rule_asked_about_a_record_is_an_error(action):
    with pytest.raises(PolicyQuestionError):
        can_on(Person("admin"), action, relation())


def test_the_route_guard_lets_through_a_role_some_relation_could_allow_and_the_record_decides():
    for action, by_role in RELATION_RULES.items():
        assert ROLE_RULES[action] == frozenset(by_role), action
        for role in ROLES:
            assert route_allows(Person(role), action) is (Role(role) in by_role), (action, role)
    assert route_allows(Person("worker"), "client.view")
    assert not can_on(Person("worker"), "client.view", relation())


def test_a_role_outside_the_rule_is_refused_whatever_the_relation():
    everything = relation(team_role="coordinator", family=True, break_glass=True, visit_window=True, own_visit=True)
    assert not can_on(Person("family"), "client.edit", everything)
    assert not can_on(Person("worker"), "visit.manage", everything)


def test_roles_for_a_role_rule_are_the_rule():
    assert roles_for("account.set_pin") == frozenset({Role.admin, Role.coordinator, Role.worker})
    assert all(can(Person(role), "account.set_pin") is (Role(role) in roles_for("account.set_pin")) for role in ROLES)


def test_every_role_has_a_home():
    assert set(HOME_BY_ROLE) == set(Role)
    assert home_for("worker") == "/my-day" and home_for("family") == "/family"
