"""The staff report: per-worker facts over a period against the hand-counted fixture, the visits behind
each figure, the supervision note (versioned, audited), and who sees whose figures."""

from __future__ import annotations

import re

import pytest

from app.audit.tables import AuditEvent
from app.reports import queries
from app.reports.tables import SupervisionNote
from app.reviews.queries import period_bounds
from tests.conftest import login, make_user, post_form
from tests.reviews.factories import GRACE, NOW, PERIOD, review_fixture

PERIOD_QUERY = f"start={PERIOD[0].isoformat()}&end={PERIOD[1].isoformat()}"


@pytest.fixture
def at_now(fake_clock):
    fake_clock.now = NOW
    return fake_clock


async def test_each_workers_figures_are_counted_as_counted_by_hand():
    fixture = await review_fixture()
    start, end = period_bounds(start=PERIOD[0], end=PERIOD[1], tz="Europe/London")
    w, w2 = fixture.world.worker["id"], fixture.world.worker2["id"]
    found = await queries.staff_figures(facility_id=fixture.world.facility, worker_ids=[w, w2], client_ids=None,
                                        start=start, end=end, now=NOW, grace=GRACE)
    mine = found[w]["figures"]
    assert (mine.planned, mine.completed, mine.missed, mine.cancelled, mine.late) == (4, 2, 1, 1, 1)
    assert (mine.concerns, mine.summaries_shared, mine.tasks_done, mine.tasks_planned) == (2, 1, 3, 4)
    assert found[w]["median_lateness"] == 30.0  # 30:00 and 30:01
    theirs = found[w2]["figures"]
    assert (theirs.planned, theirs.completed, theirs.missed, theirs.cancelled, theirs.late) == (3, 2, 0, 1, 0)
    assert theirs.actual_minutes == 92.5  # (65 + 120) / 2, the night across the clock change lasting two hours
    assert found[w2]["median_lateness"] == 10.0  # 5 and 15 minutes


async def test_a_coordinator_sees_the_workers_of_their_teams_only_and_no_ranking(client, at_now):
    fixture = await review_fixture()
    world = fixture.world
    await login(client, world.coordinator)
    page = await client.get(f"/reports/staff?{PERIOD_QUERY}")
    assert page.status_code == 200
    assert "Worker2" not in page.text and ">Worker</a>" in page.text
    assert (await client.get(f"/reports/staff/{world.worker2['id']}?{PERIOD_QUERY}")).status_code == 404
    assert (await client.get(f"/reports/staff/{world.worker2['id']}/visits?figure=late")).status_code == 404
    await login(client, world.admin)
    page = await client.get(f"/reports/staff?{PERIOD_QUERY}")
    assert ">Worker</a>" in page.text and ">Worker2</a>" in page.text


async def test_each_figure_links_to_the_visits_behind_it(client, at_now):
    fixture = await review_fixture()
    world = fixture.world
    await login(client, world.coordinator)
    page = await client.get(f"/reports/staff/{world.worker['id']}?{PERIOD_QUERY}")
    assert f"/reports/staff/{world.worker['id']}/visits?figure=late&amp;{PERIOD_QUERY.replace('&', '&amp;')}" in page.text
    late = await client.get(f"/reports/staff/{world.worker['id']}/visits?figure=late&{PERIOD_QUERY}")
    assert re.findall(r'href="/visits/(\d+)"', late.text) == [str(fixture.visits["late"])]
    missed = await client.get(f"/reports/staff/{world.worker['id']}/visits?figure=missed&{PERIOD_QUERY}")
    assert re.findall(r'href="/visits/(\d+)"', missed.text) == [str(fixture.visits["missed"])]
    bad = await client.get(f"/reports/staff/{world.worker['id']}/visits?figure=score&{PERIOD_QUERY}")
    assert bad.status_code == 404


async def test_a_worker_sees_their_own_figures_and_nobody_elses(client, at_now):
    fixture = await review_fixture()
    world = fixture.world
    await login(client, world.worker)
    mine = await client.get(f"/reports/staff/me?{PERIOD_QUERY}")
    assert mine.status_code == 200 and "My figures" in mine.text
    assert "Supervision note" not in mine.text
    assert (await client.get(f"/reports/staff/{world.worker['id']}/visits?figure=late&{PERIOD_QUERY}")).status_code == 200
    for url in ("/reports/staff", f"/reports/staff/{world.worker['id']}", f"/reports/staff/{world.worker2['id']}",
                f"/reports/staff/{world.worker2['id']}/visits?figure=late", "/dashboard"):
        assert (await client.get(url)).status_code == 404, url


async def test_a_bad_period_is_explained_next_to_the_field(client, at_now):
    fixture = await review_fixture()
    await login(client, fixture.world.coordinator)
    page = await client.get("/reports/staff?start=2026-03-30&end=2026-03-01")
    assert page.status_code == 422 and "The end of the period is before its start." in page.text
    assert 'value="2026-03-30"' in page.text


async def test_the_supervision_note_keeps_every_version_refuses_a_stale_save_and_is_audited(client, at_now):
    fixture = await review_fixture()
    world = fixture.world
    await login(client, world.coordinator)
    url = f"/reports/staff/{world.worker['id']}/note"
    assert (await post_form(client, url, {"body": "Punctual; ask about the 09:00 round.", "based_on": "0"})
            ).status_code == 303
    assert (await post_form(client, url, {"body": "Talked about the 09:00 round.", "based_on": "1"})).status_code == 303
    stale = await post_form(client, url, {"body": "Typed from an old page", "based_on": "1"})
    assert stale.status_code == 409 and "Typed from an old page" in stale.text
    notes = await SupervisionNote.select(SupervisionNote.version, SupervisionNote.body).where(
        SupervisionNote.worker == world.worker["id"]).order_by(SupervisionNote.version).run()
    assert [n["version"] for n in notes] == [1, 2]
    page = await client.get(f"/reports/staff/{world.worker['id']}")
    assert "Punctual; ask about the 09:00 round." in page.text and "Talked about the 09:00 round." in page.text
    assert await AuditEvent.count().where(AuditEvent.action == "supervision.note_saved").run() == 2
    await login(client, world.coordinator2)  # not the worker's coordinator
    assert (await post_form(client, url, {"body": "x", "based_on": "2"})).status_code == 404
    await login(client, world.worker)
    assert (await post_form(client, url, {"body": "x", "based_on": "2"})).status_code == 404


async def test_another_facilitys_admin_finds_no_worker(client, at_now):
    fixture = await review_fixture()
    stranger = await make_user(facility_id=fixture.world.other_facility, role="admin")
    await login(client, stranger)
    assert (await client.get(f"/reports/staff/{fixture.world.worker['id']}")).status_code == 404
    assert ">Worker</a>" not in (await client.get("/reports/staff")).text
