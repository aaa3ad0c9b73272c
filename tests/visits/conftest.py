"""Visits tests start on a Monday morning in London: 1 June 2026, 07:00, before the day's first visit."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

MONDAY_MORNING = datetime(2026, 6, 1, 7, 0, tzinfo=ZoneInfo("Europe/London")).astimezone(timezone.utc)


@pytest.fixture
def monday_morning(fake_clock):
    fake_clock.now = MONDAY_MORNING
    return fake_clock
