"""The same form sent twice at once (a double click, two tabs, two people): one change, and a clear answer to the other."""

from __future__ import annotations

import asyncio

from app.accounts.tables import User
from app.audit.tables import AuditEvent
from app.careplans.tables import CarePlan
from tests.careplans.factories import make_plan
from tests.clients.factories import make_world
from tests.conftest import app_client, login, post_form

TIMES = 6


async def browsers(settings, person: dict, count: int):
    """`count` signed-in browsers of one person on one served app (their requests run at once)."""
    return [await login_browser(settings, person) for _ in range(count)]


async def login_browser(settings, person):
    context = app_client(settings)
    browser = await context.__aenter__()
    await login(browser, person)
    browser._kinward_context = context  # type: ignore[attr-defined]
    return browser


async def close_all(browsers_):
    for browser in browsers_:
        await browser._kinward_context.__aexit__(None, None, None)


async def test_two_admins_adding_the_same_email_at_once_get_one_account_and_a_message(settings):
    world = await make_world()
    admins = await browsers(settings, world.admin, 2)
    try:
        answers = await asyncio.gather(*[
            post_form(browser, "/admin/users", {"email": "new.worker@example.org", "display_name": "New Worker",
                                                "role": "worker"})
            for browser in admins for _ in range(TIMES // 2)])
    finally:
        await close_all(admins)
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [422] * (TIMES - 1)
    assert all("An account with this email already exists." in a.text for a in answers if a.status_code == 422)
    assert await User.count().where(User.email == "new.worker@example.org") == 1


async def test_inviting_the_same_new_family_member_twice_at_once_links_once(settings):
    world = await make_world()
    coordinators = await browsers(settings, world.coordinator, 2)
    url = f"/clients/{world.own['id']}/family"
    try:
        answers = await asyncio.gather(*[
            post_form(browser, url, {"display_name": "Sam Son", "email": "sam.son@example.org",
                                     "relationship": "son", "may_message": "on"})
            for browser in coordinators for _ in range(TIMES // 2)])
    finally:
        await close_all(coordinators)
    assert sorted(a.status_code for a in answers) == [201] + [422] * (TIMES - 1)
    assert await User.count().where(User.email == "sam.son@example.org") == 1


async def test_closing_a_plan_twice_at_once_closes_it_once_and_says_so_to_the_other(settings):
    world = await make_world()
    plan = await make_plan(client_id=world.own["id"], status="active")
    coordinators = await browsers(settings, world.coordinator, 2)
    url = f"/clients/{world.own['id']}/plan/close"
    try:
        answers = await asyncio.gather(*[post_form(browser, url, {"reason": "Moved to residential care"})
                                         for browser in coordinators for _ in range(TIMES // 2)])
        again = await post_form(coordinators[0], url, {"reason": "Moved to residential care"})
    finally:
        await close_all(coordinators)
    assert sorted(a.status_code for a in answers) == [303] + [409] * (TIMES - 1)
    assert again.status_code == 409
    assert all("already closed" in a.text for a in answers + [again] if a.status_code == 409)
    assert (await CarePlan.select(CarePlan.status).where(CarePlan.id == plan).first().run())["status"] == "closed"
    assert await AuditEvent.count().where(AuditEvent.action == "careplan.closed") == 1


async def test_discarding_a_draft_twice_at_once_discards_it_once_and_says_so_to_the_other(settings):
    world = await make_world()
    await make_plan(client_id=world.own["id"], status="active")
    await make_plan(client_id=world.own["id"], status="draft", version=2)
    coordinators = await browsers(settings, world.coordinator, 2)
    url = f"/clients/{world.own['id']}/plan/discard"
    try:
        answers = await asyncio.gather(*[post_form(browser, url, {}) for browser in coordinators
                                         for _ in range(TIMES // 2)])
        again = await post_form(coordinators[0], url, {})
    finally:
        await close_all(coordinators)
    assert sorted(a.status_code for a in answers) == [303] + [409] * (TIMES - 1)
    assert again.status_code == 409
    assert all("already discarded" in a.text for a in answers + [again] if a.status_code == 409)
    assert await AuditEvent.count().where(AuditEvent.action == "careplan.draft_discarded") == 1
