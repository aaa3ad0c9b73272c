"""Logging a visit over HTTP: check in and out, sections saved as entered, idempotent submissions,
own visits only, coordinators on a worker's behalf, the 24-hour correction window, conflicts, audit."""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from app.accounts.tables import Facility, Session
from app.audit.tables import AuditEvent
from app.policy import VISIT_CORRECTION_WINDOW
from app.visits.services import schedule_sync
from app.visits.tables import Visit
from app.web.tables import FormSubmission
from tests.careplans.factories import add_service, make_plan
from tests.clients.factories import add_team_member, make_world
from tests.conftest import app_client, login, post_form, sign_in
from tests.visits.conftest import MONDAY_MORNING

LONDON = ZoneInfo("Europe/London")
NOW = MONDAY_MORNING
NINE = datetime(2026, 6, 1, 9, 0, tzinfo=LONDON).astimezone(timezone.utc)
HX = {"HX-Request": "true"}
KEY = "first-tap-key-0123456789"


async def logging_world():
    """Olive's 09:00-10:00 care by `worker`, with a checklist; Otto's 10:00 care by `worker2`."""
    world = await make_world()
    plan = await make_plan(client_id=world.own["id"])
    await add_service(plan_id=plan, worker=world.worker, start_time=time(9), duration_minutes=60,
                      tasks=("Wash", "Dress", "Breakfast"))
    other = await make_plan(client_id=world.others["id"])
    await add_service(plan_id=other, worker=world.worker2, start_time=time(10))
    await schedule_sync(now=NOW, horizon_days=2)
    visit = await Visit.select().where((Visit.client == world.own["id"]) & (Visit.scheduled_start == NINE)).first().run()
    return world, visit


async def stored(visit: dict) -> dict:
    return await Visit.select().where(Visit.id == visit["id"]).first().run()


def screen_state(page: str, section: str) -> dict[str, str]:
    """What the page's form for one section sends back with its next save: what it showed of each field."""
    block = re.search(rf'id="log-{section}-state".*?</div>', page, re.S).group(0)
    return {name: html.unescape(value) for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', block)}


async def open_log(client, visit: dict, section: str) -> dict[str, str]:
    page = await client.get(f"/visits/{visit['id']}")
    assert page.status_code == 200
    return screen_state(page.text, section)


async def check_in(client, visit: dict, key: str = KEY, **kwargs):
    return await post_form(client, f"/visits/{visit['id']}/check-in", {"key": key}, **kwargs)


async def save(client, visit: dict, section: str, data: dict, seen: dict, **kwargs):
    return await post_form(client, f"/visits/{visit['id']}/log/{section}", {**seen, **data}, **kwargs)


async def audit_of(action: str) -> list[dict]:
    rows = await AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.id).run()
    for row in rows:
        row["detail"] = json.loads(row["detail"]) if row["detail"] else {}
    return rows


async def test_checking_in_twice_with_the_same_form_counts_once(client, monday_morning):
    world, visit = await logging_world()
    monday_morning.advance(hours=2)  # 09:00
    await sign_in(client, world.worker)
    first = await check_in(client, visit, headers=HX)
    assert first.status_code == 200 and "<html" not in first.text and "Checked in" in first.text
    checked_in_at = (await stored(visit))["check_in_at"]
    monday_morning.advance(seconds=5)
    again = await check_in(client, visit, headers=HX)  # a double tap, or a retry after a lost answer
    assert again.status_code == 200 and "Checked in" in again.text
    row = await stored(visit)
    assert row["check_in_at"] == checked_in_at and row["check_in_by"] == world.worker["id"]
    assert row["status"] == "in_progress" and row["version"] == visit["version"] + 1
    assert len(await audit_of("visit.checked_in")) == 1
    assert await FormSubmission.count().where(FormSubmission.form == f"visit_check_in:{visit['id']}") == 1
    other_form = await check_in(client, visit, key="another-form-key-987654", headers=HX)
    assert other_form.status_code == 409 and "already checked in" in other_form.text


async def test_check_in_uses_the_servers_time_and_marks_a_late_arrival(client, monday_morning):
    world, visit = await logging_world()
    monday_morning.advance(hours=2, minutes=31)  # 09:31: one minute past the 30-minute grace
    await sign_in(client, world.worker)
    assert (await check_in(client, visit)).status_code == 303
    assert (await stored(visit))["check_in_at"] == monday_morning.now
    [event] = await audit_of("visit.checked_in")
    assert event["detail"] == {"late": True} and event["client_id"] == world.own["id"]
    page = await client.get(f"/visits/{visit['id']}")
    assert "late</span>" in page.text


async def test_a_visit_cannot_be_checked_in_before_its_day(client, monday_morning):
    world, visit = await logging_world()
    tomorrow = await Visit.select().where((Visit.client == world.own["id"])
                                          & (Visit.scheduled_start == NINE + timedelta(days=1))).first().run()
    await sign_in(client, world.worker)
    refused = await check_in(client, tomorrow, headers=HX)
    assert refused.status_code == 409 and "Check-in opens on the day of the visit" in refused.text
    assert (await stored(tomorrow))["check_in_at"] is None


async def test_workers_log_only_their_own_visits(client, monday_morning):
    world, visit = await logging_world()
    await add_team_member(client_id=world.own["id"], user=world.worker2)
    await sign_in(client, world.worker2)
    page = await client.get(f"/visits/{visit['id']}")  # a team member sees the visit, not its log
    assert page.status_code == 200 and 'id="visit-log"' not in page.text
    assert (await check_in(client, visit)).status_code == 404
    assert (await save(client, visit, "note", {"internal_note": "x"}, {"version": "1", "basis": ""})).status_code == 404
    await post_form(client, "/logout", {})
    for person in (world.family, world.admin, world.coordinator2, world.foreign_coordinator):
        await sign_in(client, person)
        assert (await check_in(client, visit)).status_code == 404, person["email"]
        await post_form(client, "/logout", {})
    assert (await stored(visit))["check_in_at"] is None


async def test_a_coordinator_logs_on_the_workers_behalf_and_it_is_recorded_as_such(client, monday_morning):
    world, visit = await logging_world()
    monday_morning.advance(hours=2)
    await sign_in(client, world.coordinator)
    page = await client.get(f"/visits/{visit['id']}")
    assert "on behalf of" in page.text
    assert (await check_in(client, visit)).status_code == 303
    seen = await open_log(client, visit, "note")
    saved = await save(client, visit, "note", {"internal_note": "Phoned in by Wendy: all well."}, seen, headers=HX)
    assert saved.status_code == 200
    row = await stored(visit)
    assert row["check_in_by"] == world.coordinator["id"] and row["worker"] == world.worker["id"]
    [checked_in] = await audit_of("visit.checked_in")
    assert checked_in["actor_id"] == world.coordinator["id"]
    assert checked_in["detail"]["on_behalf_of"] == world.worker["id"]
    [changed] = await audit_of("visit.log_changed")
    assert changed["detail"]["on_behalf_of"] == world.worker["id"]
    page = await client.get(f"/visits/{visit['id']}")
    assert "(on behalf of Worker)" in page.text


async def test_a_visit_cannot_be_checked_out_before_check_in_nor_twice(client, monday_morning):
    world, visit = await logging_world()
    monday_morning.advance(hours=2)
    await sign_in(client, world.worker)
    early = await post_form(client, f"/visits/{visit['id']}/check-out", {"key": KEY}, headers=HX)
    assert early.status_code == 409 and "Check in first" in early.text
    await check_in(client, visit)
    seen = await open_log(client, visit, "location")
    await save(client, visit, "location", {"location": "home"}, seen)
    done = await post_form(client, f"/visits/{visit['id']}/check-out", {"key": "check-out-key-123456789"}, headers=HX)
    assert done.status_code == 200 and "Checked out" in done.text
    checked_out_at = (await stored(visit))["check_out_at"]
    repeat = await post_form(client, f"/visits/{visit['id']}/check-out", {"key": "check-out-key-123456789"},
                             headers=HX)
    assert repeat.status_code == 200
    twice = await post_form(client, f"/visits/{visit['id']}/check-out", {"key": "another-check-out-12345"},
                            headers=HX)
    assert twice.status_code == 409 and "already checked out" in twice.text
    row = await stored(visit)
    assert row["status"] == "completed" and row["check_out_at"] == checked_out_at
    assert len(await audit_of("visit.checked_out")) == 1


async def test_check_out_asks_where_the_visit_was_and_what_the_concern_is(client, monday_morning):
    world, visit = await logging_world()
    monday_morning.advance(hours=2)
    await sign_in(client, world.worker)
    await check_in(client, visit)
    seen = await open_log(client, visit, "concern")
    await save(client, visit, "concern", {"concern": "on"}, seen)
    refused = await post_form(client, f"/visits/{visit['id']}/check-out", {"key": KEY}, headers=HX)
    assert refused.status_code == 422
    assert "Say where the visit took place." in refused.text and "Say how serious the concern is." in refused.text
    assert (await stored(visit))["check_out_at"] is None


async def test_each_section_is_saved_as_entered_and_every_change_is_audited(client, monday_morning):
    world, visit = await logging_world()
    monday_morning.advance(hours=2)
    await sign_in(client, world.worker)
    await check_in(client, visit)
    page = await client.get(f"/visits/{visit['id']}")
    assert 'hx-post="/visits/%d/log/note"' % visit["id"] in page.text and "input delay:1s" in page.text
    seen = screen_state(page.text, "note")
    saved = await save(client, visit, "note", {"internal_note": "Ate well.\r\nWalked to the gate."}, seen, headers=HX)
    assert saved.status_code == 200 and "Saved" in saved.text
    assert 'hx-swap-oob="true"' in saved.text  # what the form shows moves on
    assert (await stored(visit))["internal_note"] == "Ate well.\nWalked to the gate."
    again = await save(client, visit, "note", {"internal_note": "Ate well.\nWalked to the gate."},
                       screen_state(saved.text, "note"), headers=HX)
    assert again.status_code == 200  # the same text again: nothing to change, nothing to audit
    tasks = await save(client, visit, "tasks", {"task": ["Wash", "Breakfast"]}, screen_state(page.text, "tasks"),
                       headers=HX)
    assert tasks.status_code == 200
    assert json.loads((await stored(visit))["tasks_done"]) == ["Wash", "Breakfast"]
    unknown = await save(client, visit, "tasks", {"task": ["Hoover"]}, screen_state(page.text, "tasks"), headers=HX)
    assert unknown.status_code == 422 and "checklist" in unknown.text
    too_long = await save(client, visit, "summary", {"family_summary": "x" * 2001},
                          screen_state(page.text, "summary"), headers=HX)
    assert too_long.status_code == 422 and "at most 2000" in too_long.text
    events = await audit_of("visit.log_changed")
    assert [e["detail"]["fields"] for e in events] == [["internal_note"], ["tasks_done"]]
    assert all(e["client_id"] == world.own["id"] and e["detail"]["late_edit"] is False for e in events)


async def test_the_log_opens_with_check_in(client, monday_morning):
    world, visit = await logging_world()
    await sign_in(client, world.worker)
    refused = await save(client, visit, "note", {"internal_note": "Too soon"}, {"version": "1", "basis": ""},
                         headers=HX)
    assert refused.status_code == 409 and "Check in first" in refused.text
    assert (await stored(visit))["internal_note"] == ""


async def test_two_people_changing_the_same_section_see_both_values_and_nothing_is_lost(client, settings,
                                                                                         monday_morning):
    world, visit = await logging_world()
    monday_morning.advance(hours=2)
    await sign_in(client, world.worker)
    await check_in(client, visit)
    worker_screen = await client.get(f"/visits/{visit['id']}")
    async with app_client(settings) as coordinator:
        await login(coordinator, world.coordinator)
        seen = await open_log(coordinator, visit, "note")
        assert (await save(coordinator, visit, "note", {"internal_note": "Coordinator: GP visit booked."}, seen,
                           headers=HX)).status_code == 200
        # A change of another section on the worker's (now old) version is saved: no conflict.
        summary = await save(client, visit, "summary", {"family_summary": "A good morning."},
                             screen_state(worker_screen.text, "summary"), headers=HX)
        assert summary.status_code == 200
        conflict = await save(client, visit, "note", {"internal_note": "Worker: she seemed tired."},
                              screen_state(worker_screen.text, "note"), headers=HX)
        assert conflict.status_code == 409
        assert "Coordinator: GP visit booked." in conflict.text and "Save mine instead" in conflict.text
        assert (await stored(visit))["internal_note"] == "Coordinator: GP visit booked."
        kept = await save(client, visit, "note", {"internal_note": "Worker: she seemed tired.", "overwrite": "yes"},
                          screen_state(worker_screen.text, "note"), headers=HX)
        assert kept.status_code == 200
    row = await stored(visit)
    assert row["internal_note"] == "Worker: she seemed tired." and row["family_summary"] == "A good morning."


async def test_without_htmx_a_refused_save_shows_the_page_with_what_was_typed(client, monday_morning):
    world, visit = await logging_world()
    monday_morning.advance(hours=2)
    await sign_in(client, world.worker)
    await check_in(client, visit)
    seen = await open_log(client, visit, "location")
    refused = await save(client, visit, "location", {"location": "moon", "location_note": "Crater 9"}, seen)
    assert refused.status_code == 422 and "<html" in refused.text
    assert 'value="Crater 9"' in refused.text and "Choose one of the options." in refused.text
    done = await save(client, visit, "location", {"location": "other", "location_note": "Day centre"}, seen)
    assert done.status_code == 303 and done.headers["location"] == f"/visits/{visit['id']}#log-location"


async def checked_out_visit(client, world, visit, clock) -> datetime:
    clock.advance(hours=2)
    await sign_in(client, world.worker)
    await check_in(client, visit)
    await save(client, visit, "location", {"location": "home"}, await open_log(client, visit, "location"))
    await post_form(client, f"/visits/{visit['id']}/check-out", {"key": "check-out-key-123456789"})
    return (await stored(visit))["check_out_at"]


async def test_the_worker_corrects_the_log_for_24_hours_after_check_out_then_only_a_coordinator(
        client, settings, monday_morning):
    world, visit = await logging_world()
    checked_out_at = await checked_out_visit(client, world, visit, monday_morning)
    monday_morning.now = checked_out_at + VISIT_CORRECTION_WINDOW - timedelta(seconds=1)
    await sign_in(client, world.worker)  # a fresh sign-in: the earlier session has idled out meanwhile
    seen = await open_log(client, visit, "summary")
    in_time = await save(client, visit, "summary", {"family_summary": "Corrected: she enjoyed the garden."}, seen,
                         headers=HX)
    assert in_time.status_code == 200 and "a correction after check-out" in in_time.text
    row = await stored(visit)
    assert row["late_edit_at"] == monday_morning.now and row["late_edit_by"] == world.worker["id"]
    before, after = await audit_of("visit.log_changed")  # where it was (before check-out), then the correction
    assert before["detail"]["late_edit"] is False
    assert after["detail"]["late_edit"] is True and after["detail"]["fields"] == ["family_summary"]

    monday_morning.now = checked_out_at + VISIT_CORRECTION_WINDOW
    too_late = await save(client, visit, "summary", {"family_summary": "Too late"},
                          screen_state(in_time.text, "summary"), headers=HX)
    assert too_late.status_code == 404
    page = await client.get(f"/visits/{visit['id']}")
    assert page.status_code == 200 and 'hx-post="/visits/%d/log/summary"' % visit["id"] not in page.text
    assert "Corrected: she enjoyed the garden." in page.text and "late edit" in page.text
    async with app_client(settings) as coordinator:
        await login(coordinator, world.coordinator)
        seen = await open_log(coordinator, visit, "summary")
        later = await save(coordinator, visit, "summary", {"family_summary": "Coordinator's correction"}, seen,
                           headers=HX)
        assert later.status_code == 200
    assert (await stored(visit))["late_edit_by"] == world.coordinator["id"]


async def test_the_coordinator_resolves_a_concern(client, monday_morning):
    world, visit = await logging_world()
    monday_morning.advance(hours=2)
    await sign_in(client, world.worker)
    await check_in(client, visit)
    seen = await open_log(client, visit, "concern")
    await save(client, visit, "concern", {"concern": "on", "concern_severity": "high",
                                          "concern_text": "Bruise on the left arm"}, seen)
    assert "Mark the concern resolved" not in (await client.get(f"/visits/{visit['id']}")).text
    assert (await post_form(client, f"/visits/{visit['id']}/concern/resolve", {"key": KEY})).status_code == 404
    await post_form(client, "/logout", {})
    await sign_in(client, world.coordinator)
    resolved = await post_form(client, f"/visits/{visit['id']}/concern/resolve",
                               {"key": KEY, "resolution": "GP called, seen today."})
    assert resolved.status_code == 303
    row = await stored(visit)
    assert row["concern_resolved_by"] == world.coordinator["id"] and row["concern_resolution"] == "GP called, seen today."
    again = await post_form(client, f"/visits/{visit['id']}/concern/resolve", {"key": KEY})
    assert again.status_code == 303  # the same form again: nothing changes
    assert len(await audit_of("visit.concern_resolved")) == 1


async def test_the_caseload_shows_todays_late_and_missed_visits_and_open_concerns(client, monday_morning):
    world, visit = await logging_world()
    await sign_in(client, world.coordinator)
    caseload = await client.get("/caseload")
    assert 'hx-get="/caseload/visits"' in caseload.text and "every 15s" in caseload.text

    async def alerts() -> str:
        await sign_in(client, world.coordinator)  # hours pass between the looks: the session would idle out
        response = await client.get("/caseload/visits", headers=HX)
        assert response.status_code == 200 and "<html" not in response.text
        return response.text

    def listed(text: str, heading: str) -> str:
        return re.search(rf'id="{heading}-heading".*?</section>', text, re.S).group(0)

    monday_morning.now = NINE + timedelta(minutes=30)  # start + grace: still in time
    assert "Olive Owens" not in await alerts()
    monday_morning.now = NINE + timedelta(minutes=30, seconds=1)
    assert "Olive Owens" in listed(await alerts(), "late")
    monday_morning.now = NINE + timedelta(hours=1)  # the scheduled end: late, not yet missed
    text = await alerts()
    assert "Olive Owens" in listed(text, "late") and "Olive Owens" not in listed(text, "missed")
    monday_morning.now = NINE + timedelta(hours=1, seconds=1)
    text = await alerts()
    assert "Olive Owens" in listed(text, "missed") and "Olive Owens" not in listed(text, "late")
    assert "Otto" not in text  # coordinator2's client

    await sign_in(client, world.worker)
    await check_in(client, visit)  # late, but the same day: still logged
    await save(client, visit, "concern", {"concern": "on", "concern_severity": "medium", "concern_text": "Low mood"},
               await open_log(client, visit, "concern"))
    text = await alerts()
    assert "Olive Owens" not in listed(text, "missed")
    assert "Olive Owens: Medium" in listed(text, "concerns")
    await sign_in(client, world.coordinator2)
    assert "Olive Owens" not in (await client.get("/caseload/visits", headers=HX)).text
    await sign_in(client, world.worker)
    assert (await client.get("/caseload/visits", headers=HX)).status_code == 404


async def test_polling_the_alerts_does_not_keep_the_session_alive(client, monday_morning):
    world, _visit = await logging_world()
    await sign_in(client, world.coordinator)
    before = (await Session.select(Session.last_seen_at).first().run())["last_seen_at"]
    monday_morning.advance(minutes=10)
    assert (await client.get("/caseload/visits", headers=HX)).status_code == 200
    assert (await Session.select(Session.last_seen_at).first().run())["last_seen_at"] == before


async def test_the_grace_time_is_a_facility_setting_for_admins(client):
    world = await make_world()
    await sign_in(client, world.admin)
    page = await client.get("/admin/devices")
    assert 'name="visit_grace_minutes" type="number" value="30"' in page.text
    settings = {"idle_lock_minutes": "5", "visit_grace_minutes": "999", "message_answer_hours": "24",
                "concern_escalation_minutes": "120"}
    refused = await post_form(client, "/admin/devices/settings", settings)
    assert refused.status_code == 422 and 'value="999"' in refused.text
    assert (await post_form(client, "/admin/devices/settings", {**settings, "visit_grace_minutes": "15"})).status_code == 303
    assert (await Facility.select(Facility.visit_grace_minutes).where(
        Facility.id == world.facility).first().run())["visit_grace_minutes"] == 15
    assert await AuditEvent.exists().where(AuditEvent.action == "facility.settings_changed").run()
    await sign_in(client, world.coordinator)
    assert (await post_form(client, "/admin/devices/settings", {**settings, "visit_grace_minutes": "5"})).status_code == 404


async def test_a_changed_grace_time_applies_at_once_to_the_sessions_already_open(client, monday_morning):
    """The grace comes with each request's session: a page asked for after the admin's change judges by it."""
    world, visit = await logging_world()
    monday_morning.now = NINE + timedelta(minutes=20)
    await sign_in(client, world.worker)
    assert "attendance-late" not in (await client.get(f"/visits/{visit['id']}")).text
    assert "attendance-late" not in (await client.get("/my-day")).text
    await Facility.update({Facility.visit_grace_minutes: 15}).where(Facility.id == world.facility).run()
    assert 'class="badge attendance-late"' in (await client.get(f"/visits/{visit['id']}")).text
    assert 'class="badge attendance-late"' in (await client.get("/my-day")).text


async def test_another_facilitys_staff_get_not_found_on_every_visit_route(client, monday_morning):
    from tests.conftest import make_user

    world, visit = await logging_world()
    outsiders = [world.foreign_coordinator,
                 await make_user(facility_id=world.other_facility, role="admin"),
                 await make_user(facility_id=world.other_facility, role="worker")]
    for person in outsiders:
        await sign_in(client, person)
        assert (await client.get(f"/visits/{visit['id']}")).status_code == 404, person["email"]
        assert (await client.get(f"/clients/{world.own['id']}/visits")).status_code == 404, person["email"]
        for action in ("check-in", "check-out", "log/note", "concern/resolve", "cancel", "restore", "reassign"):
            response = await post_form(client, f"/visits/{visit['id']}/{action}", {"key": "k", "reason": "x"})
            assert response.status_code == 404, (person["email"], action)
        await post_form(client, "/logout", {})
    untouched = await stored(visit)
    assert untouched["check_in_at"] is None and untouched["status"] == "scheduled"


async def test_two_tabs_editing_different_fields_of_a_section_keep_both_changes(client, settings, monday_morning):
    """Field-wise three-way merge: the field the later tab did not touch keeps the other person's value."""
    world, visit = await logging_world()
    monday_morning.advance(hours=2)
    await sign_in(client, world.worker)
    await check_in(client, visit)
    stale = screen_state((await client.get(f"/visits/{visit['id']}")).text, "summary")
    async with app_client(settings) as other_tab:
        await login(other_tab, world.coordinator)
        fresh = await open_log(other_tab, visit, "summary")
        assert (await save(other_tab, visit, "summary", {"family_summary": "Olive enjoyed the garden."}, fresh,
                           headers=HX)).status_code == 200
    # The worker's tab, drawn before that save, only ticks "share with the family"; its text box still shows "".
    shared = await save(client, visit, "summary", {"family_summary": "", "family_summary_shared": "on"}, stale,
                        headers=HX)
    assert shared.status_code == 200 and "Saved" in shared.text
    row = await stored(visit)
    assert row["family_summary"] == "Olive enjoyed the garden." and row["family_summary_shared"]
    # The worker's screen still shows the empty text: a later edit of it meets the other change as a conflict.
    after = screen_state(shared.text, "summary")
    assert after["base.family_summary"] == ""
    clash = await save(client, visit, "summary", {"family_summary": "Quiet morning.", "family_summary_shared": "on"},
                       after, headers=HX)
    assert clash.status_code == 409 and "Olive enjoyed the garden." in clash.text
    assert (await stored(visit))["family_summary"] == "Olive enjoyed the garden."
    [event] = [e for e in await audit_of("visit.log_changed") if e["actor_id"] == world.worker["id"]]
    assert event["detail"]["fields"] == ["family_summary_shared"]
