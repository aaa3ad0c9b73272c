"""Sign-in throttling per account and per address, kept in the database."""

from datetime import timedelta


from app.accounts.services import one_time_link_create
from app.accounts.tables import LoginThrottle
from app.accounts.throttle import (ACCOUNT_FAILURE_LIMIT, ACCOUNT_HARD_STOP, ADDRESS_FAILURE_LIMIT, THROTTLE_MAX_DELAY,
                                   account_key, throttle_delay)
from app.audit.services import Actor
from app.audit.tables import AuditEvent
from tests.conftest import app_client, login, make_facility, make_user, post_form
from tests.tablets.test_tablet import registered_tablet


async def fail(client, email, times=1):
    response = None
    for _ in range(times):
        response = await post_form(client, "/login", {"email": email, "password": "definitely the wrong one"})
    return response


def test_delay_starts_at_the_limit_and_doubles_up_to_a_cap():
    assert throttle_delay(failures=ACCOUNT_FAILURE_LIMIT - 1, limit=ACCOUNT_FAILURE_LIMIT) == timedelta(0)
    first = throttle_delay(failures=ACCOUNT_FAILURE_LIMIT, limit=ACCOUNT_FAILURE_LIMIT)
    second = throttle_delay(failures=ACCOUNT_FAILURE_LIMIT + 1, limit=ACCOUNT_FAILURE_LIMIT)
    assert first > timedelta(0)
    assert second == 2 * first
    assert throttle_delay(failures=ACCOUNT_FAILURE_LIMIT + 30, limit=ACCOUNT_FAILURE_LIMIT) == THROTTLE_MAX_DELAY


async def test_five_failures_then_429_with_retry_after_even_for_the_right_password(client):
    user = await make_user(facility_id=await make_facility())
    for _ in range(ACCOUNT_FAILURE_LIMIT):
        assert (await fail(client, user["email"])).status_code == 401
    response = await post_form(client, "/login", {"email": user["email"], "password": user["password"]})
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert f'value="{user["email"]}"' in response.text
    assert "Too many sign-in attempts" in response.text


async def test_throttle_message_does_not_reveal_whether_the_email_exists(client):
    user = await make_user(facility_id=await make_facility())
    known = await fail(client, user["email"], times=ACCOUNT_FAILURE_LIMIT + 1)
    unknown = await fail(client, "ghost@example.org", times=ACCOUNT_FAILURE_LIMIT + 1)
    assert known.status_code == unknown.status_code == 429
    assert known.text.replace(user["email"], "X") == unknown.text.replace("ghost@example.org", "X")


async def test_delays_grow_with_each_further_failure(client, fake_clock):
    user = await make_user(facility_id=await make_facility())
    await fail(client, user["email"], times=ACCOUNT_FAILURE_LIMIT)
    first_wait = int((await fail(client, user["email"])).headers["retry-after"])
    fake_clock.advance(seconds=first_wait + 1)
    assert (await fail(client, user["email"])).status_code == 401  # allowed again, and wrong again
    second_wait = int((await fail(client, user["email"])).headers["retry-after"])
    assert second_wait > first_wait


async def test_a_successful_sign_in_resets_the_count(client, fake_clock):
    user = await make_user(facility_id=await make_facility())
    await fail(client, user["email"], times=ACCOUNT_FAILURE_LIMIT - 1)
    ok = await post_form(client, "/login", {"email": user["email"], "password": user["password"]})
    assert ok.status_code == 303
    client.cookies.delete("kinward_session")
    for _ in range(ACCOUNT_FAILURE_LIMIT - 1):
        assert (await fail(client, user["email"])).status_code == 401
    ok = await post_form(client, "/login", {"email": user["email"], "password": user["password"]})
    assert ok.status_code == 303


async def test_one_address_trying_many_accounts_is_throttled(client):
    facility = await make_facility()
    users = [await make_user(facility_id=facility) for _ in range(ADDRESS_FAILURE_LIMIT)]
    for user in users:
        await fail(client, user["email"])
    fresh = await make_user(facility_id=facility)
    response = await post_form(client, "/login", {"email": fresh["email"], "password": fresh["password"]})
    assert response.status_code == 429


async def test_throttling_holds_across_app_processes(settings):
    """Two app instances (as two worker processes would be) share the counters through the database."""
    user = await make_user(facility_id=await make_facility())
    async with app_client(settings) as first, app_client(settings) as second:
        await fail(first, user["email"], times=ACCOUNT_FAILURE_LIMIT)
        response = await post_form(second, "/login", {"email": user["email"], "password": user["password"]})
        assert response.status_code == 429


async def test_throttling_and_failures_are_audited(client):
    user = await make_user(facility_id=await make_facility())
    await fail(client, user["email"], times=ACCOUNT_FAILURE_LIMIT + 1)
    actions = [r["action"] for r in await AuditEvent.select(AuditEvent.action).order_by(AuditEvent.id).run()]
    assert actions.count("login.failed") == ACCOUNT_FAILURE_LIMIT
    assert actions[-1] == "login.throttled"


async def test_block_lifts_after_its_delay(client, fake_clock):
    user = await make_user(facility_id=await make_facility())
    await fail(client, user["email"], times=ACCOUNT_FAILURE_LIMIT)
    wait = int((await fail(client, user["email"])).headers["retry-after"])
    fake_clock.advance(seconds=wait + 1)
    ok = await post_form(client, "/login", {"email": user["email"], "password": user["password"]})
    assert ok.status_code == 303


# NIST SP 800-63B rev. 4: growing delays instead of a lockout, a hard stop at 100 consecutive
# failures, and ways through for the real person.

WRONG = "definitely the wrong one"


def test_delays_stay_capped_up_to_the_hard_stop_and_reaching_it_takes_a_guesser_days():
    delays = [throttle_delay(failures=n, limit=ACCOUNT_FAILURE_LIMIT) for n in range(1, ACCOUNT_HARD_STOP)]
    assert delays == sorted(delays)
    assert throttle_delay(failures=ACCOUNT_HARD_STOP, limit=ACCOUNT_FAILURE_LIMIT) == THROTTLE_MAX_DELAY
    assert sum(delays, timedelta(0)) > timedelta(days=1)


async def fail_until_stopped(client, fake_clock, email) -> tuple[int, object]:
    """Guess at an account, waiting out each delay, until it answers without a delay to wait."""
    checked = 0
    for _ in range(3 * ACCOUNT_HARD_STOP):
        response = await fail(client, email)
        if response.status_code == 401:
            checked += 1
        elif "retry-after" in response.headers:
            fake_clock.advance(seconds=int(response.headers["retry-after"]) + 1)
        else:
            return checked, response
    raise AssertionError(f"still answering after {checked} checked guesses")


async def test_the_hundredth_consecutive_failure_stops_the_account_until_someone_vouches(client, fake_clock):
    user = await make_user(facility_id=await make_facility())
    checked, stopped = await fail_until_stopped(client, fake_clock, user["email"])
    assert checked == ACCOUNT_HARD_STOP
    assert stopped.status_code == 429 and "Ask your administrator" in stopped.text
    fake_clock.advance(days=30)
    right = await post_form(client, "/login", {"email": user["email"], "password": user["password"]})
    assert right.status_code == 429 and "retry-after" not in right.headers
    assert await AuditEvent.count().where(AuditEvent.action == "login.failed") == ACCOUNT_HARD_STOP


async def test_a_stopped_unknown_address_reads_exactly_like_a_stopped_account(client):
    user = await make_user(facility_id=await make_facility())
    for email in (user["email"], "ghost@example.org"):
        await LoginThrottle.insert(LoginThrottle(key=account_key(email), failures=ACCOUNT_HARD_STOP)).run()
    known = await fail(client, user["email"])
    unknown = await fail(client, "ghost@example.org")
    assert known.status_code == unknown.status_code == 429
    assert known.text.replace(user["email"], "X") == unknown.text.replace("ghost@example.org", "X")


async def test_failures_an_hour_apart_are_still_consecutive_for_the_account(client, fake_clock):
    user = await make_user(facility_id=await make_facility())
    for _ in range(ACCOUNT_FAILURE_LIMIT):
        fake_clock.advance(days=1)
        assert (await fail(client, user["email"])).status_code == 401
    fake_clock.advance(seconds=1)
    assert (await fail(client, user["email"])).status_code == 429


async def test_an_address_quiet_for_an_hour_starts_again(client, fake_clock):
    facility = await make_facility()
    for _ in range(ADDRESS_FAILURE_LIMIT):
        await fail(client, (await make_user(facility_id=facility))["email"])
    fresh = await make_user(facility_id=facility)
    assert (await post_form(client, "/login", {"email": fresh["email"], "password": fresh["password"]})).status_code == 429
    fake_clock.advance(hours=1, seconds=1)
    assert (await post_form(client, "/login", {"email": fresh["email"], "password": fresh["password"]})).status_code == 303


async def stopped_user(facility_id: int, **kwargs) -> dict:
    user = await make_user(facility_id=facility_id, **kwargs)
    await LoginThrottle.insert(LoginThrottle(key=account_key(user["email"]), failures=ACCOUNT_HARD_STOP)).run()
    return user


async def test_an_admin_of_the_facility_clears_a_stopped_account_from_the_users_page(client, settings):
    facility = await make_facility()
    user = await stopped_user(facility, name="Stopped Person")
    admin = await make_user(facility_id=facility, role="admin")
    await login(client, admin)
    page = await client.get("/admin/users")
    assert f"Sign-in stopped after {ACCOUNT_HARD_STOP} failed attempts" in page.text
    assert 'aria-label="Clear the sign-in block of Stopped Person"' in page.text
    unblock = f"/admin/users/{user['id']}/unblock-sign-in"
    assert (await client.post(unblock, data={})).status_code == 403  # no CSRF token: refused, nothing cleared
    assert (await post_form(client, unblock, {})).status_code == 303
    assert "Sign-in stopped" not in (await client.get("/admin/users")).text
    event = await AuditEvent.select(AuditEvent.actor_id, AuditEvent.object_id, AuditEvent.detail).where(
        AuditEvent.action == "user.sign_in_unblocked").first().run()
    assert event["actor_id"] == admin["id"] and event["object_id"] == str(user["id"])
    assert str(ACCOUNT_HARD_STOP) in event["detail"]
    async with app_client(settings) as browser:
        assert (await post_form(browser, "/login", {"email": user["email"], "password": user["password"]})).status_code == 303


async def test_only_an_admin_of_the_persons_own_facility_can_clear_their_sign_in(client):
    facility = await make_facility()
    user = await stopped_user(facility)
    other_admin = await make_user(facility_id=await make_facility(), role="admin")
    coordinator = await make_user(facility_id=facility, role="coordinator")
    for person in (other_admin, coordinator):
        await login(client, person)
        assert (await post_form(client, f"/admin/users/{user['id']}/unblock-sign-in", {})).status_code == 404
        client.cookies.delete("kinward_session")
    assert await LoginThrottle.count().where(LoginThrottle.key == account_key(user["email"])) == 1


async def test_a_password_link_opens_a_stopped_account_with_the_new_password(client):
    facility = await make_facility()
    user = await stopped_user(facility)
    token = await one_time_link_create(actor=Actor(), user_id=user["id"], purpose="reset_password")
    new = "a brand new long passphrase"
    assert (await post_form(client, f"/set-password/{token}", {"new_password": new, "confirm_password": new})).status_code == 303
    assert (await post_form(client, "/login", {"email": user["email"], "password": new})).status_code == 303


async def test_a_facility_tablet_is_not_held_back_by_its_shared_address_and_counts_its_own_guesses(client, settings):
    facility = await make_facility()
    async with app_client(settings) as tablet:
        await registered_tablet(tablet, facility)
        for _ in range(ADDRESS_FAILURE_LIMIT):  # guesses from the facility's shared address, not on the tablet
            await fail(client, (await make_user(facility_id=facility))["email"])
        worker = await make_user(facility_id=facility, role="worker")
        assert (await post_form(client, "/login", {"email": worker["email"], "password": worker["password"]})).status_code == 429
        assert (await post_form(tablet, "/login", {"email": worker["email"], "password": worker["password"]})).status_code == 303
        await post_form(tablet, "/logout", {})
        for _ in range(ADDRESS_FAILURE_LIMIT):  # guesses on the tablet itself
            await fail(tablet, (await make_user(facility_id=facility))["email"])
        assert (await post_form(tablet, "/login", {"email": worker["email"], "password": worker["password"]})).status_code == 429


async def test_wrong_current_passwords_are_throttled_with_a_message_next_to_the_field(client, settings):
    user = await make_user(facility_id=await make_facility())
    await login(client, user)
    new = "a brand new long passphrase"
    form = {"current_password": WRONG, "new_password": new, "confirm_password": new}
    for _ in range(ACCOUNT_FAILURE_LIMIT):
        assert (await post_form(client, "/account/password", form)).status_code == 422
    held = await post_form(client, "/account/password", {**form, "current_password": user["password"]})
    assert held.status_code == 429 and int(held.headers["retry-after"]) > 0
    assert '<p class="error" id="current_password-error">Too many wrong passwords. Try again in 1 minute.</p>' in held.text
    # The same count as signing in: a guesser at an unlocked screen gets no extra tries.
    async with app_client(settings) as browser:
        assert (await post_form(browser, "/login", {"email": user["email"], "password": user["password"]})).status_code == 429
