"""The pages of this run, as the server sent them, are valid HTML (the Nu Html Checker; see e2e/html_check.py)."""

from __future__ import annotations

import pytest

from e2e.conftest import PARTS
from e2e.html_check import VisitedPages, unavailable


@pytest.mark.parametrize("part", PARTS)
def test_every_page_this_run_visited_is_valid_html(visited_pages: dict[str, VisitedPages], part: str) -> None:
    """Runs after the other end-to-end tests of its part (e2e/conftest.py orders it last) and reads what they
    opened."""
    reason = unavailable()
    if reason:
        pytest.skip(f"HTML validity not checked: {reason}")
    pages = visited_pages[part]
    if not pages.bodies:
        pytest.skip(f"HTML validity not checked: no other end-to-end test of part {part} ran, so no page was visited")
    errors = pages.errors()
    assert errors == [], f"{len(errors)} HTML errors in {len(pages.bodies)} pages:\n" + "\n".join(errors)


def test_the_check_finds_an_error_and_sets_only_htmx_attributes_aside() -> None:
    reason = unavailable()
    if reason:
        pytest.skip(f"HTML validity not checked: {reason}")
    pages = VisitedPages()
    pages.add("http://kinward.test/valid", '<!doctype html><html lang="en"><head><title>Fine</title></head>'
              '<body><button type="button" hx-post="/x" hx-on:htmx:after-request="1">Go</button></body></html>')
    pages.add("http://kinward.test/invalid", '<!doctype html><html lang="en"><head><title>Bad</title></head>'
              '<body><p><time datetime="2026-03-01T09:30:15.123456+00:00">09:30</time></p></body></html>')
    [error] = pages.errors()
    assert error.startswith("http://kinward.test/invalid line 1:") and "datetime" in error
