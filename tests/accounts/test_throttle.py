"""Sign-in throttling per account and per address, kept in the database."""

from datetime import timedelta


from app.accounts.services import ACCOUNT_FAILURE_LIMIT, ADDRESS_FAILURE_LIMIT, THROTTLE_MAX_DELAY, throttle_delay
from app.audit.tables import AuditEvent
from tests.conftest import app_client, make_facility, make_user, post_form


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
