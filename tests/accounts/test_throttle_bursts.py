"""Sign-in and current-password limits hold when 50 guesses arrive at once, across two served processes."""

from __future__ import annotations

from app.accounts.tables import LoginThrottle, User
from app.accounts.throttle import ACCOUNT_FAILURE_LIMIT, ADDRESS_FAILURE_LIMIT
from app.audit.tables import AuditEvent
from app.web.sessions import session_create
from tests.accounts.bursts import BURST, at_once, browsers_for, close_all, servers, statuses, tablet_cookie  # noqa: F401
from tests.conftest import make_facility, make_user

WRONG = "definitely the wrong one"
NEW_PASSWORD = "a brand new long passphrase"


async def test_fifty_guesses_at_one_account_at_once_check_five_and_the_right_password_then_waits(servers):
    user = await make_user(facility_id=await make_facility())
    browsers = await browsers_for(servers)
    try:
        answers = await at_once(browsers, [("/login", {"email": user["email"], "password": WRONG})] * BURST)
        [right] = await at_once(browsers, [("/login", {"email": user["email"], "password": user["password"]})])
    finally:
        await close_all(browsers)
    assert statuses(answers) == {401: ACCOUNT_FAILURE_LIMIT, 429: BURST - ACCOUNT_FAILURE_LIMIT}
    assert all(int(a.headers["retry-after"]) > 0 for a in answers if a.status_code == 429)
    assert right.status_code == 429 and "Too many sign-in attempts" in right.text
    assert await AuditEvent.count().where(AuditEvent.action == "login.failed") == ACCOUNT_FAILURE_LIMIT


async def test_fifty_guesses_at_fifty_accounts_from_one_address_at_once_check_only_the_addresss_allowance(servers):
    facility = await make_facility()
    users = [await make_user(facility_id=facility) for _ in range(BURST)]
    fresh = await make_user(facility_id=facility)
    worker = await make_user(facility_id=facility, role="worker")
    _, device = await tablet_cookie(facility)
    browsers = await browsers_for(servers)
    tablets = await browsers_for(servers, cookies=device)
    try:
        answers = await at_once(browsers, [("/login", {"email": u["email"], "password": WRONG}) for u in users])
        [right] = await at_once(browsers, [("/login", {"email": fresh["email"], "password": fresh["password"]})])
        [on_tablet] = await at_once(tablets, [("/login", {"email": worker["email"], "password": worker["password"]})])
    finally:
        await close_all(browsers + tablets)
    assert statuses(answers) == {401: ADDRESS_FAILURE_LIMIT, 429: BURST - ADDRESS_FAILURE_LIMIT}
    assert right.status_code == 429
    # The facility's own tablet is not held back by what its shared address did.
    assert on_tablet.status_code == 303
    # A guess the address refused was never checked, and costs its account nothing.
    charged = await LoginThrottle.select(LoginThrottle.failures).where(LoginThrottle.key.like("account:%")).run()
    assert sum(row["failures"] for row in charged) == ADDRESS_FAILURE_LIMIT


async def test_fifty_current_password_guesses_at_once_check_five_on_both_forms_that_ask_for_it(servers):
    worker = await make_user(facility_id=await make_facility(), role="worker")
    token = await session_create(user_id=worker["id"], absolute_hours=12)
    before = await User.select(User.password_hash, User.pin_hash).where(User.id == worker["id"]).first().run()
    browsers = await browsers_for(servers, cookies={"kinward_session": token})
    guesses = [("/account/password", {"current_password": WRONG, "new_password": NEW_PASSWORD,
                                      "confirm_password": NEW_PASSWORD}),
               ("/account/pin", {"current_password": WRONG, "pin": "482915", "confirm_pin": "482915"})]
    try:
        answers = await at_once(browsers, guesses * (BURST // 2))
        [right] = await at_once(browsers, [("/account/password", {
            "current_password": worker["password"], "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})])
    finally:
        await close_all(browsers)
    assert statuses(answers) == {422: ACCOUNT_FAILURE_LIMIT, 429: BURST - ACCOUNT_FAILURE_LIMIT}
    assert all("Your current password is not correct." in a.text for a in answers if a.status_code == 422)
    assert all("Too many wrong passwords" in a.text and int(a.headers["retry-after"]) > 0
               for a in answers if a.status_code == 429)
    assert right.status_code == 429
    after = await User.select(User.password_hash, User.pin_hash).where(User.id == worker["id"]).first().run()
    assert after == before
