"""PIN unlock holds its limit of five when 50 wrong PINs arrive at once, across two served processes."""

from __future__ import annotations

from app.accounts.tables import User
from app.audit.tables import AuditEvent
from app.tablets.services import PIN_FAILURE_LIMIT
from app.web.sessions import session_create
from tests.accounts.bursts import BURST, at_once, browsers_for, close_all, servers, tablet_cookie  # noqa: F401
from tests.conftest import make_facility
from tests.tablets.test_tablet import PIN, staff_with_pin


async def test_fifty_wrong_pins_at_once_check_five_then_only_the_password_unlocks(servers):
    facility = await make_facility()
    worker = await staff_with_pin(facility)
    device_id, device = await tablet_cookie(facility)
    # The worker signed in with their password on this tablet earlier in the shift.
    await session_create(user_id=worker["id"], absolute_hours=12, device_id=device_id)
    browsers = await browsers_for(servers, cookies=device)
    unlock = f"/tablet/unlock/{worker['id']}"
    try:
        answers = await at_once(browsers, [(unlock, {"pin": "000001"})] * BURST)
        [right] = await at_once(browsers, [(unlock, {"pin": PIN})])
    finally:
        await close_all(browsers)
    assert [a.status_code for a in answers] == [401] * BURST
    assert sum("That PIN is not correct." in a.text for a in answers) == PIN_FAILURE_LIMIT - 1
    assert right.status_code == 401 and "full password" in right.text
    assert await AuditEvent.count().where(AuditEvent.action == "tablet.unlock_failed") == PIN_FAILURE_LIMIT
    stored = await User.select(User.failed_pin_attempts).where(User.id == worker["id"]).first().run()
    assert stored["failed_pin_attempts"] == PIN_FAILURE_LIMIT
