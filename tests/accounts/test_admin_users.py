"""The admin's user pages, one's own password, and one-time links."""

import re

import pytest

from app.accounts.tables import OneTimeToken, User
from app.audit.tables import AuditEvent
from tests.conftest import FakeClock, app_client, login, make_facility, make_user, post_form

LINK = re.compile(r'value="https?://[^"]*/set-password/([^"]+)"')


async def admin_client(client):
    facility = await make_facility()
    admin = await make_user(facility_id=facility, role="admin")
    await login(client, admin)
    return facility, admin


async def test_admin_sees_the_people_of_their_facility_only(client):
    facility, _ = await admin_client(client)
    mine = await make_user(facility_id=facility, name="Mine Person")
    other = await make_user(facility_id=await make_facility(), name="Other Facility Person")
    page = await client.get("/admin/users")
    assert page.status_code == 200
    assert mine["email"] in page.text
    assert other["email"] not in page.text


@pytest.mark.parametrize("role", ["coordinator", "worker", "family"])
async def test_other_roles_get_not_found_on_admin_pages(client, role):
    user = await make_user(facility_id=await make_facility(), role=role)
    await login(client, user)
    assert (await client.get("/admin/users")).status_code == 404
    assert (await client.get("/admin/audit")).status_code == 404
    target = await make_user(facility_id=user["facility_id"])
    assert (await post_form(client, f"/admin/users/{target['id']}/deactivate", {})).status_code == 404


async def test_admin_creates_an_account_and_gets_a_one_time_link_that_works_once(client):
    facility, _ = await admin_client(client)
    response = await post_form(client, "/admin/users", {"display_name": "New Worker", "email": "New.Worker@Example.org",
                                                       "role": "worker"})
    assert response.status_code == 201
    token = LINK.search(response.text).group(1)
    created = await User.select().where(User.email == "new.worker@example.org").first().run()
    assert created["facility"] == facility and created["role"] == "worker" and created["password_hash"] == ""

    client.cookies.clear()
    assert (await client.get(f"/set-password/{token}")).status_code == 200
    weak = await post_form(client, f"/set-password/{token}", {"new_password": "short", "confirm_password": "short"})
    assert weak.status_code == 422 and "at least 15 characters" in weak.text
    good = "a long and quiet morning walk"
    done = await post_form(client, f"/set-password/{token}", {"new_password": good, "confirm_password": good})
    assert done.status_code == 303
    assert (await client.get(f"/set-password/{token}")).status_code == 404
    assert (await post_form(client, "/login", {"email": "new.worker@example.org", "password": good})).status_code == 303


async def test_one_time_links_expire_after_a_day(client, fake_clock: FakeClock):
    facility, admin = await admin_client(client)
    target = await make_user(facility_id=facility)
    response = await post_form(client, f"/admin/users/{target['id']}/reset-link", {})
    token = LINK.search(response.text).group(1)
    fake_clock.advance(hours=24, seconds=1)
    assert (await client.get(f"/set-password/{token}")).status_code == 404
    assert await OneTimeToken.count().run() == 1


async def test_invalid_new_user_form_keeps_input_and_names_the_field(client):
    await admin_client(client)
    response = await post_form(client, "/admin/users", {"display_name": "Kept Name", "email": "not-an-email",
                                                       "role": "worker"})
    assert response.status_code == 422
    assert 'value="Kept Name"' in response.text
    assert 'id="email-error"' in response.text


async def test_duplicate_email_is_refused_next_to_the_field(client):
    facility, admin = await admin_client(client)
    response = await post_form(client, "/admin/users", {"display_name": "Again", "email": admin["email"],
                                                       "role": "worker"})
    assert response.status_code == 422
    assert "already exists" in response.text


async def test_an_email_of_another_facility_only_cannot_be_used(client):
    """One facility's admin does not learn that an address has an account in another facility."""
    await admin_client(client)
    elsewhere = await make_user(facility_id=await make_facility(name="Hillside Care"), role="family")
    response = await post_form(client, "/admin/users", {"display_name": "Someone", "email": elsewhere["email"].upper(),
                                                       "role": "worker"})
    assert response.status_code == 422 and 'value="Someone"' in response.text
    assert "This email address cannot be used" in response.text
    assert "exists" not in response.text and "Hillside" not in response.text
    assert await User.count().where(User.email == elsewhere["email"]).run() == 1


async def test_deactivation_ends_the_persons_sessions_at_once(client, settings):
    facility, _ = await admin_client(client)
    worker = await make_user(facility_id=facility, role="worker")
    async with app_client(settings) as worker_browser:
        await login(worker_browser, worker)
        assert (await worker_browser.get("/my-day")).status_code == 200
        assert (await post_form(client, f"/admin/users/{worker['id']}/deactivate", {})).status_code == 303
        assert (await worker_browser.get("/my-day")).status_code == 303


async def test_admin_cannot_act_on_another_facilitys_user(client):
    await admin_client(client)
    stranger = await make_user(facility_id=await make_facility())
    for action in ("deactivate", "reactivate", "reset-link"):
        assert (await post_form(client, f"/admin/users/{stranger['id']}/{action}", {})).status_code == 404
    assert (await User.select(User.active).where(User.id == stranger["id"]).first().run())["active"]


async def test_admin_cannot_deactivate_themselves(client):
    _, admin = await admin_client(client)
    response = await post_form(client, f"/admin/users/{admin['id']}/deactivate", {})
    assert response.status_code == 409
    assert (await User.select(User.active).where(User.id == admin["id"]).first().run())["active"]


async def test_admin_actions_are_audited_with_actor_and_address(client):
    facility, admin = await admin_client(client)
    target = await make_user(facility_id=facility)
    await post_form(client, f"/admin/users/{target['id']}/deactivate", {})
    event = await AuditEvent.select().where(AuditEvent.action == "user.deactivated").first().run()
    assert event["actor_id"] == admin["id"]
    assert event["facility_id"] == facility
    assert event["object_id"] == str(target["id"])
    assert event["address"]


async def test_changing_ones_password_ends_other_sessions_but_not_this_one(client, settings):
    user = await make_user(facility_id=await make_facility())
    async with app_client(settings) as other_device:
        await login(other_device, user)
        await login(client, user)
        new = "my new and much longer password"
        response = await post_form(client, "/account/password", {"current_password": user["password"],
                                                                 "new_password": new, "confirm_password": new})
        assert response.status_code == 303
        assert (await client.get("/account/password")).status_code == 200
        assert (await other_device.get("/account/password")).status_code == 303


async def test_password_change_needs_the_current_password(client):
    user = await make_user(facility_id=await make_facility())
    await login(client, user)
    new = "my new and much longer password"
    response = await post_form(client, "/account/password", {"current_password": "wrong wrong wrong",
                                                             "new_password": new, "confirm_password": new})
    assert response.status_code == 422
    assert "current password is not correct" in response.text
    assert new not in response.text
