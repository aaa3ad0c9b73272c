"""The one source of "now", so rules about time can be tested at their boundaries."""

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def today_in(tz: str) -> date:
    """Today's date where the facility is: care days start at local midnight, not UTC midnight."""
    return utcnow().astimezone(ZoneInfo(tz)).date()
