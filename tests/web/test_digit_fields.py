"""Numbers typed into forms are ASCII digits only: "²" and other Unicode digits pass str.isdigit()
but not int(), and must be refused as bad input, never reach int() and answer 500."""

from __future__ import annotations

import pytest

from app.reports.forms import dashboard_form, note_form
from app.reviews.forms import version_of
from app.tablets.services import pin_problem
from app.web.forms import Form

UNICODE_DIGITS = ["²", "١٢", "৩", "１２"]


@pytest.mark.parametrize("text", UNICODE_DIGITS)
def test_a_review_version_in_other_digits_is_no_version(text):
    assert version_of(Form.from_data({"version": text}, ("version",))) is None


@pytest.mark.parametrize("text", UNICODE_DIGITS)
def test_dashboard_filters_in_other_digits_are_refused_or_ignored(text):
    form, weeks, team = dashboard_form({"weeks": text, "team": text})
    assert "weeks" in form.errors and team is None


@pytest.mark.parametrize("text", UNICODE_DIGITS)
def test_a_supervision_note_based_on_other_digits_asks_for_a_reload(text):
    form, based_on, _body = note_form({"body": "Fine", "based_on": text})
    assert based_on is None and not form.ok


def test_a_pin_of_other_digits_is_refused():
    assert pin_problem("²²²²²²") is not None
    assert pin_problem("١٢٣٤٥٧") is not None
