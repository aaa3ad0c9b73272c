"""The three-way merge of an edit made on an older version: each field as whichever person changed it."""

from __future__ import annotations

import html
import re

from litestar.datastructures import MultiDict

from app.web.forms import merge_three_way, with_choices

NAMES = ("phone", "allergies", "risks")
BASE = {"phone": "01632 960000", "allergies": "None known", "risks": ""}


def drawn_form(page: str, form_id: str) -> dict[str, str]:
    """What a browser tab holds of a versioned form: its version (or revision) and the base of each field."""
    form = re.search(rf'<form id="{form_id}".*?</form>', page, re.S).group(0)
    fields = {name: html.unescape(value) for name, value in re.findall(r'name="base\.([a-z_]+)" value="([^"]*)"', form)}
    for name in ("version", "revision"):
        found = re.search(rf'name="{name}" value="(\d+)"', form)
        if found:
            fields[name] = found.group(1)
    return fields


def as_post(tab: dict[str, str], **changes: str) -> dict[str, str]:
    """The tab's form sent with `changes` typed: every field as drawn, plus its base."""
    values = {name: value for name, value in tab.items()}
    values.update({f"base.{name}": value for name, value in tab.items() if name not in ("version", "revision")})
    values.update(changes)
    return values


def test_a_field_only_the_other_person_changed_takes_their_value():
    merge = merge_three_way(base=BASE, mine={**BASE, "allergies": "Penicillin"},
                            stored={**BASE, "phone": "07700 900123"}, names=NAMES)
    assert merge.values == {"phone": "07700 900123", "allergies": "Penicillin", "risks": ""}
    assert merge.conflicts == ()


def test_only_a_field_both_changed_differently_is_a_conflict():
    merge = merge_three_way(base=BASE, mine={**BASE, "phone": "1", "risks": "Falls"},
                            stored={**BASE, "phone": "2", "risks": "Falls"}, names=NAMES)
    assert merge.conflicts == ("phone",)
    assert merge.values["phone"] == "1" and merge.values["risks"] == "Falls"


def test_a_form_without_a_base_treats_every_difference_as_a_conflict():
    merge = merge_three_way(base={}, mine={**BASE, "allergies": "Penicillin"}, stored={**BASE, "phone": "2"},
                            names=NAMES)
    assert set(merge.conflicts) == {"phone", "allergies"}


def test_the_same_change_made_by_both_is_no_conflict():
    merge = merge_three_way(base=BASE, mine={**BASE, "phone": " 2 "}, stored={**BASE, "phone": "2"}, names=NAMES)
    assert merge.conflicts == () and merge.values["phone"] == "2"


def test_choosing_theirs_puts_the_stored_value_back_in_the_form():
    data = MultiDict([("phone", "mine"), ("base.phone", "theirs"), ("choice.phone", "theirs"),
                      ("weekdays", "1"), ("base.weekdays", "2,3"), ("choice.weekdays", "theirs")])
    chosen = with_choices(data, ("phone", "weekdays"))
    assert chosen.get("phone") == "theirs" and chosen.getall("weekdays") == ["2", "3"]
    kept = with_choices(MultiDict([("phone", "mine"), ("base.phone", "theirs"), ("choice.phone", "mine")]), ("phone",))
    assert kept.get("phone") == "mine"
