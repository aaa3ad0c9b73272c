"""The one source of "now", so rules about time can be tested at their boundaries."""

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
