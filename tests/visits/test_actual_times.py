"""A worker who could tap Check in only hours late records when the visit really happened: bounded, with a
reason, flagged for the coordinator, audited, and the family sees the real time."""

from __future__ import annotations

import json
import re

from app.audit.tables import AuditEvent
from app.visits.tables import Visit
from tests.conftest import login, post_form
from tests.visits.test_logging import check_in, logging_world, open_log, save


async def checked_out_late(client, world, visit, monday_morning):
    """The 09:00 visit, tapped in at 18:10 and out at 18:12 (no signal at the house all day)."""
    monday_morning.advance(hours=11, minutes=10)  # 18:10
    await login(client, world.worker)
    await check_in(client, visit)
    await save(client, visit, "location", {"location": "home", "location_note": ""}, await open_log(client, visit, "location"))
    seen = await open_log(client, visit, "summary")
    await save(client, visit, "summary", {"family_summary": "Breakfast and a walk in the garden.",
                                          "family_summary_shared": "on"}, seen)
    monday_morning.advance(minutes=2)
    await post_form(client, f"/visits/{visit['id']}/check-out", {"key": "check-out-key-123456789"})


async def record(client, visit, **values):
    return await post_form(client, f"/visits/{visit['id']}/times",
                           {"actual_start": "2026-06-01T09:05", "actual_end": "2026-06-01T09:55",
                            "actual_reason": "No signal at the house; tapped on the bus.", **values})


async def test_the_real_times_are_recorded_flagged_audited_and_shown_to_the_family(client, monday_morning):
    world, visit = await logging_world()
    await checked_out_late(client, world, visit, monday_morning)
    recorded = await record(client, visit)
    assert recorded.status_code == 303
    row = await Visit.select().where(Visit.id == visit["id"]).first().run()
    assert row["actual_start"].strftime("%H:%M") == "08:05"  # 09:05 in London in June is 08:05 UTC
    assert row["actual_end"].strftime("%H:%M") == "08:55"
    assert row["late_edit_by"] == world.worker["id"]  # after check-out: a late edit
    page = (await client.get(f"/visits/{visit['id']}")).text
    assert "times given later" in page and "No signal at the house" in page
    [event] = await AuditEvent.select().where(AuditEvent.action == "visit.times_recorded").run()
    detail = json.loads(event["detail"])
    assert detail["actual_start"].startswith("2026-06-01T08:05") and detail["late_edit"] is True
    await login(client, world.coordinator)
    alerts = (await client.get("/caseload/visits")).text
    assert "Times given later" in alerts and "Olive" in alerts
    await login(client, world.family)
    family = (await client.get("/family")).text
    summary = re.search(r'<p class="message-meta">([^<]*)', family.split("Recent visit summaries")[1]).group(1)
    assert "09:05" in summary and "18:1" not in summary


async def test_times_in_the_future_or_before_the_visits_day_or_without_a_reason_are_refused(client, monday_morning):
    world, visit = await logging_world()
    await checked_out_late(client, world, visit, monday_morning)
    for values, field in (({"actual_start": "2026-06-01T19:30", "actual_end": ""}, "actual_start"),
                          ({"actual_start": "2026-05-31T23:50"}, "actual_start"),
                          ({"actual_end": "2026-06-01T09:00"}, "actual_end"),
                          ({"actual_reason": " "}, "actual_reason")):
        refused = await record(client, visit, **values)
        assert refused.status_code == 422, values
        assert f'href="#{field}"' in refused.text and f'id="{field}-error"' in refused.text, values
    assert (await Visit.select(Visit.actual_start).where(Visit.id == visit["id"]).first().run())["actual_start"] is None


async def test_a_coordinator_corrects_the_times_too_and_it_is_recorded_as_theirs(client, monday_morning):
    world, visit = await logging_world()
    await checked_out_late(client, world, visit, monday_morning)
    await login(client, world.coordinator)
    assert (await record(client, visit, actual_reason="Confirmed with the family by phone.")).status_code == 303
    row = await Visit.select(Visit.actual_by, Visit.late_edit_by).where(Visit.id == visit["id"]).first().run()
    assert row == {"actual_by": world.coordinator["id"], "late_edit_by": world.coordinator["id"]}
    [event] = await AuditEvent.select().where(AuditEvent.action == "visit.times_recorded").run()
    assert json.loads(event["detail"])["on_behalf_of"] == world.worker["id"]


async def test_another_worker_cannot_record_times_on_a_visit_not_theirs(client, monday_morning):
    world, visit = await logging_world()
    await checked_out_late(client, world, visit, monday_morning)
    await login(client, world.worker2)
    assert (await record(client, visit)).status_code == 404
