"""The pages of this run, as the server sent them, are valid HTML (the Nu Html Checker; see e2e/html_check.py)."""

from __future__ import annotations

import pytest

from e2e.html_check import VisitedPages, unavailable


def test_every_page_this_run_visited_is_valid_html(visited_pages: VisitedPages) -> None:
    """Runs after every other end-to-end test (e2e/conftest.py orders it last) and reads what they opened."""
    reason = unavailable()
    if reason:
        pytest.skip(f"HTML validity not checked: {reason}")
    if not visited_pages.bodies:
        pytest.skip("HTML validity not checked: no other end-to-end test ran, so no page was visited")
    errors = visited_pages.errors()
    assert errors == [], f"{len(errors)} HTML errors in {len(visited_pages.bodies)} pages:\n" + "\n".join(errors)


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
