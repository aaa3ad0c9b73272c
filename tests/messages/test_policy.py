"""The policy's rules for threads, as pure functions of role and relation."""

from __future__ import annotations

import pytest

from app.policy import FamilyPermissions, can, can_on
from tests.policy_helpers import Person, relation


MAY_MESSAGE = FamilyPermissions(may_message=True)
NO_MESSAGING = FamilyPermissions(may_see_schedule=True, may_see_visit_summaries=True)


@pytest.mark.parametrize("person,rel,view,post,notes", [
    ("coordinator", relation(team_role="coordinator"), True, True, True),
    ("worker", relation(team_role="worker"), True, False, True),
    ("family", relation(family=MAY_MESSAGE), True, True, False),
    ("family", relation(family=NO_MESSAGING), False, False, False),
    ("admin", relation(), False, False, False),
    ("coordinator", relation(), False, False, False),
    ("coordinator", relation(break_glass=True), False, False, False),
    ("worker", relation(), False, False, False),
])
def test_who_reads_writes_and_sees_team_notes_in_a_thread(person, rel, view, post, notes):
    who = Person(person)
    assert can_on(who, "client.messages.view", rel) is view
    assert can_on(who, "client.messages.post", rel) is post
    assert can_on(who, "client.messages.team_notes", rel) is notes


def test_nothing_of_another_facilitys_thread_is_allowed():
    other = relation(team_role="coordinator", family=MAY_MESSAGE, facility_id=2)
    for role in ("admin", "coordinator", "worker", "family"):
        for action in ("client.messages.view", "client.messages.post", "client.messages.team_notes"):
            assert not can_on(Person(role), action, other)


def test_only_coordinators_see_unanswered_messages_and_only_thread_members_choose_emails():
    assert can(Person("coordinator"), "messages.unanswered")
    assert not any(can(Person(role), "messages.unanswered") for role in ("admin", "worker", "family"))
    assert can(Person("family"), "account.notifications") and can(Person("coordinator"), "account.notifications")
    assert not can(Person("worker"), "account.notifications") and not can(Person("admin"), "account.notifications")


def test_shared_summaries_follow_the_family_link():
    assert can_on(Person("family"), "visit.summaries.shared", relation(family=FamilyPermissions(may_see_visit_summaries=True)))
    assert not can_on(Person("family"), "visit.summaries.shared", relation(family=MAY_MESSAGE))
