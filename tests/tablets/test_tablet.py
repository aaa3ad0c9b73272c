"""Shared tablets: registration, the lock screen, PIN unlock, idle lock and revocation."""

import pytest

from app.accounts.tables import Facility, Session, User
from app.audit.tables import AuditEvent
from app.tablets.services import PIN_FAILURE_LIMIT, pin_problem
from tests.conftest import app_client, hashed, login, make_facility, make_user, post_form, session_cookie_value

PIN = "482915"


async def registered_tablet(browser, facility_id):
    """An admin registers the browser as a tablet, then signs out; returns the admin."""
    admin = await make_user(facility_id=facility_id, role="admin")
    await login(browser, admin)
    response = await post_form(browser, "/admin/devices", {"name": "Lounge tablet"})
    assert response.status_code == 303
    assert browser.cookies.get("kinward_device")
    await post_form(browser, "/logout", {})
    return admin


async def staff_with_pin(facility_id, role="worker", pin=PIN):
    user = await make_user(facility_id=facility_id, role=role)
    await User.update({User.pin_hash: await hashed(pin)}).where(User.id == user["id"]).run()
    return user


async def unlock(browser, user, pin=PIN):
    return await post_form(browser, f"/tablet/unlock/{user['id']}", {"pin": pin})


@pytest.mark.parametrize("pin", ["12345", "1234567", "12a456", "111111", "123456", "987654"])
def test_weak_or_malformed_pins_are_refused(pin):
    assert pin_problem(pin) is not None


def test_an_ordinary_six_digit_pin_is_accepted():
    assert pin_problem(PIN) is None


async def test_pins_never_work_on_an_unregistered_device(client):
    facility = await make_facility()
    worker = await staff_with_pin(facility)
    await login(client, worker)
    client.cookies.delete("kinward_session")
    assert (await client.get("/tablet")).status_code == 404
    assert (await unlock(client, worker)).status_code == 404


async def test_only_admins_register_tablets(client):
    worker = await make_user(facility_id=await make_facility(), role="worker")
    await login(client, worker)
    assert (await post_form(client, "/admin/devices", {"name": "Sneaky"})).status_code == 404
    assert "kinward_device" not in client.cookies


async def test_lock_screen_lists_staff_who_signed_in_with_password_on_this_tablet(client, settings):
    facility = await make_facility()
    await registered_tablet(client, facility)
    here = await staff_with_pin(facility)
    elsewhere = await staff_with_pin(facility)
    family = await make_user(facility_id=facility, role="family", name="Family Person")
    await login(client, here)
    await post_form(client, "/tablet/lock", {})
    await login(client, family)
    await post_form(client, "/tablet/lock", {})
    async with app_client(settings) as other_browser:
        await login(other_browser, elsewhere)
    screen = await client.get("/tablet")
    assert screen.status_code == 200
    assert f"/tablet/unlock/{here['id']}" in screen.text
    assert f"/tablet/unlock/{elsewhere['id']}" not in screen.text
    assert "Family Person" not in screen.text


async def test_unlocking_with_the_pin_issues_a_new_session_and_ends_the_previous_one(client):
    facility = await make_facility()
    await registered_tablet(client, facility)
    first, second = await staff_with_pin(facility), await staff_with_pin(facility, pin="739104")
    await login(client, first)
    first_token = session_cookie_value(client)
    await post_form(client, "/tablet/lock", {})
    await login(client, second)
    await post_form(client, "/tablet/lock", {})

    response = await unlock(client, first)
    assert response.status_code == 303 and response.headers["location"] == "/my-day"
    pin_token = session_cookie_value(client)
    assert pin_token not in (None, first_token)
    assert (await client.get("/my-day")).status_code == 200

    switched = await unlock(client, second, pin="739104")  # switching user without locking first
    assert switched.status_code == 303
    assert session_cookie_value(client) != pin_token
    live = await Session.select(Session.user, Session.auth_method).where(Session.revoked_at.is_null()).run()
    assert live == [{"user": second["id"], "auth_method": "pin"}]


async def test_five_wrong_pins_require_the_full_password(client):
    facility = await make_facility()
    await registered_tablet(client, facility)
    worker = await staff_with_pin(facility)
    await login(client, worker)
    await post_form(client, "/tablet/lock", {})
    for attempt in range(PIN_FAILURE_LIMIT):
        response = await unlock(client, worker, pin="000001")
        assert response.status_code == 401
    assert "full password" in response.text
    refused = await unlock(client, worker)  # even the right PIN now
    assert refused.status_code == 401 and session_cookie_value(client) is None
    await login(client, worker)  # the password resets the count
    await post_form(client, "/tablet/lock", {})
    assert (await unlock(client, worker)).status_code == 303
    failed = await AuditEvent.count().where(AuditEvent.action == "tablet.unlock_failed").run()
    assert failed == PIN_FAILURE_LIMIT


async def test_tablet_sessions_lock_after_the_facility_idle_minutes_on_the_server(client, settings, fake_clock):
    facility = await make_facility()
    await Facility.update({Facility.idle_lock_minutes: 2}).where(Facility.id == facility).run()
    await registered_tablet(client, facility)
    worker = await staff_with_pin(facility)
    await login(client, worker)
    page = await client.get("/my-day")
    assert 'data-idle-lock-seconds="120"' in page.text and 'action="/tablet/lock"' in page.text
    async with app_client(settings) as desktop:
        office = await make_user(facility_id=facility, role="coordinator")
        await login(desktop, office)
        fake_clock.advance(minutes=1, seconds=50)
        assert (await client.get("/my-day")).status_code == 200
        fake_clock.advance(minutes=2, seconds=1)
        locked = await client.get("/my-day")
        assert locked.status_code == 303 and locked.headers["location"] == "/tablet"
        assert (await desktop.get("/account/password")).status_code == 200  # not a tablet: 30 minutes


async def test_locking_ends_the_session_clears_the_screen_and_keeps_the_device(client):
    facility = await make_facility()
    await registered_tablet(client, facility)
    worker = await staff_with_pin(facility)
    await login(client, worker)
    token = session_cookie_value(client)
    response = await post_form(client, "/tablet/lock", {})
    assert response.status_code == 303 and response.headers["location"] == "/tablet"
    assert "cache" in response.headers["clear-site-data"] and "cookies" not in response.headers["clear-site-data"]
    assert (await Session.select(Session.revoked_at).where(Session.user == worker["id"]).first().run())["revoked_at"]
    assert (await client.get("/tablet")).status_code == 200
    assert token != session_cookie_value(client)


async def test_a_revoked_tablet_stops_working_and_its_sessions_end(client, settings):
    facility = await make_facility()
    admin = await registered_tablet(client, facility)
    worker = await staff_with_pin(facility)
    await login(client, worker)
    device_id = (await Session.select(Session.device).where(Session.user == worker["id"]).first().run())["device"]
    assert device_id is not None
    async with app_client(settings) as office:
        await login(office, admin)
        assert (await post_form(office, f"/admin/devices/{device_id}/revoke", {})).status_code == 303
    assert (await client.get("/my-day")).status_code == 303
    assert (await client.get("/tablet")).status_code == 404
    assert (await unlock(client, worker)).status_code == 404


async def test_a_tablet_of_another_facility_does_not_list_or_unlock_its_visitors(client):
    home, other = await make_facility(), await make_facility()
    await registered_tablet(client, home)
    stranger = await staff_with_pin(other)
    await login(client, stranger)
    await post_form(client, "/logout", {})
    assert f"/tablet/unlock/{stranger['id']}" not in (await client.get("/tablet")).text
    assert (await unlock(client, stranger)).status_code == 404


async def test_setting_a_pin_needs_the_password_and_a_good_pin(client):
    worker = await make_user(facility_id=await make_facility(), role="worker")
    await login(client, worker)
    wrong = await post_form(client, "/account/pin", {"current_password": "nope nope nope", "pin": PIN,
                                                     "confirm_pin": PIN})
    assert wrong.status_code == 422 and "current password is not correct" in wrong.text
    weak = await post_form(client, "/account/pin", {"current_password": worker["password"], "pin": "123456",
                                                    "confirm_pin": "123456"})
    assert weak.status_code == 422 and "too easy" in weak.text
    ok = await post_form(client, "/account/pin", {"current_password": worker["password"], "pin": PIN,
                                                  "confirm_pin": PIN})
    assert ok.status_code == 303
    stored = (await User.select(User.pin_hash).where(User.id == worker["id"]).first().run())["pin_hash"]
    assert stored.startswith("$argon2id$") and PIN not in stored


async def test_family_members_have_no_pin_page(client):
    family = await make_user(facility_id=await make_facility(), role="family")
    await login(client, family)
    assert (await client.get("/account/pin")).status_code == 404


async def test_facility_settings_are_validated_and_audited(client):
    admin = await make_user(facility_id=await make_facility(), role="admin")
    await login(client, admin)
    settings = {"idle_lock_minutes": "0", "visit_grace_minutes": "30", "message_answer_hours": "24",
                "concern_escalation_minutes": "120"}
    bad = await post_form(client, "/admin/devices/settings", settings)
    assert bad.status_code == 422 and "from 1 to 60" in bad.text and 'value="0"' in bad.text
    assert (await post_form(client, "/admin/devices/settings", {**settings, "idle_lock_minutes": "7"})).status_code == 303
    assert (await Facility.select(Facility.idle_lock_minutes).first().run())["idle_lock_minutes"] == 7
    event = await AuditEvent.select(AuditEvent.detail).where(AuditEvent.action == "facility.settings_changed").first().run()
    assert event["detail"] == '{"idle_lock_minutes": 7}'


async def test_the_answer_limit_for_family_messages_is_an_admin_setting(client):
    facility = await make_facility()
    admin = await make_user(facility_id=facility, role="admin")
    await login(client, admin)
    settings = {"idle_lock_minutes": "5", "visit_grace_minutes": "30", "message_answer_hours": "0",
                "concern_escalation_minutes": "120"}
    refused = await post_form(client, "/admin/devices/settings", settings)
    assert refused.status_code == 422 and 'id="message_answer_hours-error"' in refused.text
    assert (await post_form(client, "/admin/devices/settings", {**settings, "message_answer_hours": "48"})).status_code == 303
    assert (await Facility.select(Facility.message_answer_hours).where(
        Facility.id == facility).first().run())["message_answer_hours"] == 48


async def test_the_concern_escalation_minutes_are_an_admin_setting_within_bounds(client):
    facility = await make_facility()
    admin = await make_user(facility_id=facility, role="admin")
    await login(client, admin)
    page = await client.get("/admin/devices")
    assert 'name="concern_escalation_minutes"' in page.text and 'value="120"' in page.text
    settings = {"idle_lock_minutes": "5", "visit_grace_minutes": "30", "message_answer_hours": "24"}
    for bad in ("", "10", "1441", "two hours"):
        refused = await post_form(client, "/admin/devices/settings", {**settings, "concern_escalation_minutes": bad})
        assert refused.status_code == 422 and 'id="concern_escalation_minutes-error"' in refused.text, bad
        assert f'value="{bad}"' in refused.text
    assert (await Facility.select(Facility.concern_escalation_minutes).where(
        Facility.id == facility).first().run())["concern_escalation_minutes"] == 120
    saved = await post_form(client, "/admin/devices/settings", {**settings, "concern_escalation_minutes": "45"})
    assert saved.status_code == 303
    assert (await Facility.select(Facility.concern_escalation_minutes).where(
        Facility.id == facility).first().run())["concern_escalation_minutes"] == 45
    event = await AuditEvent.select(AuditEvent.detail).where(AuditEvent.action == "facility.settings_changed").first().run()
    assert event["detail"] == '{"concern_escalation_minutes": 45}'


async def test_a_pin_session_ends_with_the_shift_of_the_password_sign_in(client, fake_clock):
    facility = await make_facility()
    await registered_tablet(client, facility)
    worker = await staff_with_pin(facility)
    await login(client, worker)
    await post_form(client, "/tablet/lock", {})
    fake_clock.advance(hours=11, minutes=58)
    assert (await unlock(client, worker)).status_code == 303
    fake_clock.advance(minutes=3)
    assert (await client.get("/my-day")).status_code == 303
    assert (await unlock(client, worker)).status_code == 404  # off the roster: the shift is over
