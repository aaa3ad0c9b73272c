"""Signing in and out, session rotation and expiry."""

import pytest

from app.accounts.tables import Session, User
from tests.conftest import (
    csrf_token, login, make_facility, make_user, post_form, session_cookie_value, use_session_token,
)

HOMES = {"admin": "/admin/users", "coordinator": "/caseload", "worker": "/my-day", "family": "/family"}


@pytest.mark.parametrize("role", sorted(HOMES))
async def test_each_role_lands_on_its_home_after_signing_in(client, role):
    user = await make_user(facility_id=await make_facility(), role=role)
    response = await login(client, user)
    assert response.headers["location"] == HOMES[role]
    assert (await client.get(HOMES[role])).status_code == 200


async def test_wrong_password_is_refused_with_message_and_email_kept(client):
    user = await make_user(facility_id=await make_facility())
    response = await post_form(client, "/login", {"email": user["email"], "password": "not the right password"})
    assert response.status_code == 401
    assert "do not match an active account" in response.text
    assert f'value="{user["email"]}"' in response.text
    assert session_cookie_value(client) is None


async def test_unknown_email_gets_the_same_answer_as_a_wrong_password(client):
    user = await make_user(facility_id=await make_facility())
    wrong = await post_form(client, "/login", {"email": user["email"], "password": "not the right password"})
    unknown = await post_form(client, "/login", {"email": "nobody@example.org", "password": "not the right password"})
    assert unknown.status_code == wrong.status_code == 401
    assert wrong.text.replace(user["email"], "X") == unknown.text.replace("nobody@example.org", "X")


async def test_empty_fields_are_named_next_to_the_form(client):
    response = await post_form(client, "/login", {"email": "", "password": ""})
    assert response.status_code == 422
    assert "Enter your email address." in response.text
    assert "Enter your password." in response.text


async def test_deactivated_account_cannot_sign_in(client):
    user = await make_user(facility_id=await make_facility(), active=False)
    response = await post_form(client, "/login", {"email": user["email"], "password": user["password"]})
    assert response.status_code == 401


async def test_signed_out_visitor_is_sent_to_sign_in_with_return_path(client):
    response = await client.get("/account/password")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/account/password"


async def test_sign_in_returns_to_a_local_next_path_only(client):
    user = await make_user(facility_id=await make_facility())
    local = await post_form(client, "/login", {"email": user["email"], "password": user["password"], "next": "/account/password"})
    assert local.headers["location"] == "/account/password"
    client.cookies.clear()
    offsite = await post_form(client, "/login", {"email": user["email"], "password": user["password"],
                                                 "next": "//evil.example/steal"})
    assert offsite.headers["location"] == "/caseload"


async def test_a_token_presented_before_login_is_dead_after_it(client):
    facility = await make_facility()
    first = await make_user(facility_id=facility)
    await login(client, first)
    old_token = session_cookie_value(client)
    assert (await client.get("/account/password")).status_code == 200

    await login(client, first)
    new_token = session_cookie_value(client)
    assert new_token and new_token != old_token

    use_session_token(client, old_token)
    assert (await client.get("/account/password")).status_code == 303
    use_session_token(client, new_token)
    assert (await client.get("/account/password")).status_code == 200


async def test_a_planted_session_id_is_never_adopted(client):
    user = await make_user(facility_id=await make_facility())
    use_session_token(client, "attacker-chosen-value")
    await login(client, user)
    assert session_cookie_value(client) != "attacker-chosen-value"
    assert await Session.count().run() == 1


async def test_only_a_hash_of_the_token_is_stored(client):
    user = await make_user(facility_id=await make_facility())
    await login(client, user)
    token = session_cookie_value(client)
    stored = await Session.select(Session.token_hash).first().run()
    assert token not in stored["token_hash"]
    assert len(stored["token_hash"]) == 64


async def test_session_cookie_is_httponly_and_samesite_lax(client):
    user = await make_user(facility_id=await make_facility())
    response = await login(client, user)
    cookie = [v for k, v in response.headers.multi_items() if k == "set-cookie" and "kinward_session" in v][0]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development/test over plain http


async def test_idle_session_expires_on_the_server(client, fake_clock, settings):
    user = await make_user(facility_id=await make_facility())
    await login(client, user)
    fake_clock.advance(minutes=settings.session_idle_minutes - 1)
    assert (await client.get("/account/password")).status_code == 200
    fake_clock.advance(minutes=settings.session_idle_minutes - 1)
    assert (await client.get("/account/password")).status_code == 200  # activity kept it alive
    fake_clock.advance(minutes=settings.session_idle_minutes + 1)
    assert (await client.get("/account/password")).status_code == 303


async def test_session_ends_after_twelve_hours_even_when_active(client, fake_clock):
    user = await make_user(facility_id=await make_facility())
    await login(client, user)
    for _ in range(11 * 4):
        fake_clock.advance(minutes=15)
        assert (await client.get("/account/password")).status_code == 200
    fake_clock.advance(minutes=61)
    assert (await client.get("/account/password")).status_code == 303


async def test_sign_out_ends_the_session_on_the_server_and_clears_the_site(client):
    user = await make_user(facility_id=await make_facility())
    await login(client, user)
    token = session_cookie_value(client)
    response = await post_form(client, "/logout", {})
    assert response.status_code == 303
    assert "cookies" in response.headers["clear-site-data"]
    assert "cache" in response.headers["clear-site-data"]
    use_session_token(client, token)
    assert (await client.get("/account/password")).status_code == 303


async def test_sign_out_requires_a_post(client):
    user = await make_user(facility_id=await make_facility())
    await login(client, user)
    assert (await client.get("/logout")).status_code == 405


@pytest.mark.real_argon2
async def test_password_is_rehashed_on_login_when_parameters_change(client, monkeypatch):
    from argon2 import PasswordHasher

    from app.accounts import passwords

    facility = await make_facility()
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    password = "an old but long enough password"
    user = await make_user(facility_id=facility, password=password)
    await User.update({User.password_hash: weak.hash(password)}).where(User.id == user["id"]).run()
    await login(client, user)
    stored = (await User.select(User.password_hash).where(User.id == user["id"]).first().run())["password_hash"]
    assert "m=65536,t=3,p=4" in stored
    assert passwords.HASHER.verify(stored, password)


async def test_csrf_token_is_needed_to_sign_in(client):
    user = await make_user(facility_id=await make_facility())
    await csrf_token(client)
    response = await client.post("/login", data={"email": user["email"], "password": user["password"]})
    assert response.status_code == 403
