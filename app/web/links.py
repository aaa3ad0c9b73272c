"""Absolute links (in emails, one-time links shown on a page, calendar feeds): built from KINWARD_BASE_URL.

Never from a request's Host header: whoever sends the request chooses it, and a set-password link
shown to an administrator (or emailed to a family member) would then point at the sender's host.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from app.settings import DEFAULT_BASE_URL

_base_url = DEFAULT_BASE_URL


def links_configure(*, base_url: str) -> None:
    """Where people reach Kinward; set once when the app or a command starts."""
    global _base_url
    _base_url = base_url.rstrip("/")


def absolute_link(path: str) -> str:
    return f"{_base_url}{path}"


def links_host() -> str:
    """This installation's host (and port), as people reach it: names what it makes for other systems."""
    return urlsplit(_base_url).netloc
