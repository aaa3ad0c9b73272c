"""The demo facility's visit logs: completed visits with notes, one open concern per coordinator."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from app.accounts.queries import user_by_email
from app.accounts.demo import demo_password
from app.visits.tables import Visit
from tests.conftest import demo_seeded, login, post_form

HX = {"HX-Request": "true"}


async def test_the_demo_has_logged_visits_and_one_open_concern_per_coordinator(client, fake_clock):
    fake_clock.now = datetime(2026, 6, 3, 13, 0, tzinfo=ZoneInfo("Europe/London")).astimezone(timezone.utc)
    await demo_seeded()
    people = {name: await user_by_email(email=f"{name}@kinward.example")
              for name in ("worker", "worker2", "coordinator", "coordinator2", "family")}
    for worker in ("worker", "worker2"):
        logged = await Visit.select().where((Visit.worker == people[worker]["id"])
                                            & (Visit.status == "completed")).run()
        assert len(logged) >= 3 and all(v["internal_note"] and v["check_out_at"] for v in logged)
    concerns = await Visit.select(Visit.client).where((Visit.concern == True)  # noqa: E712
                                                      & Visit.concern_resolved_at.is_null()).run()
    assert len(concerns) == 2

    async def sign_in(name: str) -> None:
        await login(client, {**people[name], "password": demo_password(people[name]["email"])})

    for coordinator in ("coordinator", "coordinator2"):
        await sign_in(coordinator)
        alerts = await client.get("/caseload/visits", headers=HX)
        assert alerts.status_code == 200
        assert alerts.text.count('href="/visits/') >= 1 and "Open concerns" in alerts.text
        open_concerns = alerts.text.split('id="concerns-heading"')[1]
        assert open_concerns.count("<li>") == 1
        await post_form(client, "/logout", {})
    await sign_in("family")
    home = await client.get("/family")
    assert "The care team has not shared a visit summary yet." not in home.text
    assert "Recent visit summaries" in home.text


async def test_todays_visits_already_over_are_logged_except_those_left_for_trying_the_demo(fake_clock):
    fake_clock.now = datetime(2026, 6, 3, 13, 0, tzinfo=ZoneInfo("Europe/London")).astimezone(timezone.utc)
    await demo_seeded()
    over = await Visit.select(Visit.client, Visit.status, Visit.client.first_name.as_alias("name")).where(
        (Visit.scheduled_start >= datetime(2026, 6, 3, tzinfo=ZoneInfo("Europe/London")))
        & (Visit.scheduled_end < fake_clock.now) & Visit.worker.is_not_null()).run()
    left = {v["name"] for v in over if v["status"] == "scheduled"}
    assert len(left) == 2  # the two demo families' relatives: missed, on their coordinators' homes
    assert sum(v["status"] == "completed" for v in over) >= 10
