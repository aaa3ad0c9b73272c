"""The policy's one entry point, whatever the feature: who is asked, about what, on which record.

Each feature's own rules are tested beside it (tests/<feature>/test_policy.py, test_rules.py),
with the people and relations of tests/policy_helpers.py.
"""

from __future__ import annotations

import pytest

from app.accounts.tables import Role
from app.policy import HOME_BY_ROLE, PUBLIC, RELATION_RULES, ROLE_RULES, SIGNED_IN, can, home_for, known_action
from tests.policy_helpers import Person, relation

ROLES = [role.value for role in Role]


def test_public_is_for_everyone_and_signed_in_for_every_role():
    assert can(None, PUBLIC)
    assert not can(None, SIGNED_IN)
    assert all(can(Person(role), SIGNED_IN) for role in ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_an_unknown_action_is_refused_and_unknown_to_the_route_guard(role):
    assert not known_action("client.delete_everything")
    assert not can(Person(role), "client.delete_everything")
    assert not can(Person(role), "client.delete_everything", relation(team_role="coordinator"))


def test_nobody_signed_out_may_do_anything_but_public_actions():
    assert not any(can(None, action) for action in ROLE_RULES)


def test_every_record_action_is_a_route_action_for_exactly_the_roles_it_names():
    for action, by_role in RELATION_RULES.items():
        assert ROLE_RULES[action] == frozenset(by_role), action


def test_a_role_outside_the_rule_is_refused_whatever_the_relation():
    everything = relation(team_role="coordinator", family=True, break_glass=True, visit_window=True, own_visit=True)
    assert not can(Person("family"), "client.edit", everything)
    assert not can(Person("worker"), "visit.manage", everything)


def test_every_role_has_a_home():
    assert set(HOME_BY_ROLE) == set(Role)
    assert home_for("worker") == "/my-day" and home_for("family") == "/family"
