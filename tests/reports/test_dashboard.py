"""The dashboard: server-drawn charts with a table and a CSV each, filters, scope, and a fixed number of
queries whatever the length of the history."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, time, timedelta, timezone
from html import unescape

import pytest

from app.reports import queries
from app.visits.tables import Visit
from tests.careplans.factories import add_service, make_plan
from tests.clients.factories import make_world
from tests.conftest import login, queries_for

NOW = datetime(2026, 6, 3, 12, 0, tzinfo=timezone.utc)  # a Wednesday


@pytest.fixture
def at_now(fake_clock):
    fake_clock.now = NOW
    return fake_clock


async def history(world, *, days: int, service_id: int = 0) -> int:
    """A visit a day to the coordinator's client for `days` days before NOW: every fourth late, every
    seventh missed, every tenth cancelled, the rest delivered; one concern left open. The service's id."""
    if not service_id:
        plan_id = await make_plan(client_id=world.own["id"], starts_on=date(2020, 1, 1))
        service_id = await add_service(plan_id=plan_id, worker=world.worker, start_time=time(9))
    rows = []
    for n in range(1, days + 1):
        start = datetime.combine((NOW - timedelta(days=n)).date(), time(8), tzinfo=timezone.utc)
        columns = dict(status="completed", check_in_at=start + timedelta(minutes=45 if n % 4 == 0 else 5),
                       check_out_at=start + timedelta(minutes=35))
        if n % 7 == 0:
            columns = dict(status="scheduled")
        elif n % 10 == 0:
            columns = dict(status="cancelled", cancel_reason="Away")
        rows.append(Visit(client=world.own["id"], service=service_id, worker=world.worker["id"], scheduled_start=start,
                          scheduled_end=start + timedelta(minutes=30), concern=n == 3,
                          concern_severity="high" if n == 3 else "", **columns))
    for n in range(0, len(rows), 300):  # within both engines' limit of parameters per statement
        await Visit.insert(*rows[n:n + 300]).run()
    return service_id


def table_of(html: str, chart_id: str) -> list[list[str]]:
    table = re.search(rf'<table class="figures chart-table" data-chart="{chart_id}">(.*?)</table>', html, re.S).group(1)
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        rows.append([unescape(re.sub(r"<[^>]+>", "", cell)).strip()
                     for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)])
    return rows


async def test_the_dashboard_draws_each_chart_as_svg_with_a_table_and_the_csv_has_the_same_data(client, at_now):
    world = await make_world()
    await history(world, days=100)
    await login(client, world.coordinator)
    page = await client.get("/dashboard")
    assert page.status_code == 200
    for chart_id in ("delivered", "missed-late", "reviews", "messages", "concerns", "referrals"):
        assert f'data-chart="{chart_id}"' in page.text
        table = table_of(page.text, chart_id)
        download = await client.get(f"/dashboard/csv/{chart_id}")
        assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
        assert list(csv.reader(io.StringIO(download.text))) == table
    delivered = table_of(page.text, "delivered")
    assert len(delivered) == 13  # the header and 12 weeks
    assert len(re.findall(r'<g class="bar">', page.text)) == 12 * 2 + 12 * 2 + 4 + 2 + 4 + 1  # no referral overdue: one "None" bar
    concerns = dict(tuple(row) for row in table_of(page.text, "concerns")[1:])
    assert concerns["1 to 7 days"] == "1"  # the visit three days ago


async def test_the_weekly_figures_follow_the_visit_rules(at_now):
    world = await make_world()
    await history(world, days=14)
    weekly = await queries.weekly_visits(facility_id=world.facility, client_ids=[world.own["id"]], tz="Europe/London",
                                         today=NOW.date(), weeks=3, now=NOW, grace=timedelta(minutes=30))
    # This week (Mon 1 June to now): days 1 and 2 ago; last week: days 3 to 9; the week before: 10 to 14.
    assert [w["week"] for w in weekly] == [date(2026, 5, 18), date(2026, 5, 25), date(2026, 6, 1)]
    this_week, last_week, before = weekly[2], weekly[1], weekly[0]
    assert this_week == {"week": date(2026, 6, 1), "planned": 2, "delivered": 2, "missed": 0, "late": 0}
    # Days 3-9: 4 and 8 late, 7 missed, the rest delivered.
    assert last_week == {"week": date(2026, 5, 25), "planned": 7, "delivered": 6, "missed": 1, "late": 2}
    # Days 10-14: 10 cancelled (not planned any more), 12 late, 14 missed.
    assert before == {"week": date(2026, 5, 18), "planned": 4, "delivered": 3, "missed": 1, "late": 1}


@pytest.mark.parametrize("role", ["admin", "coordinator"])
async def test_the_dashboard_runs_the_same_number_of_queries_for_a_month_and_for_three_years(client, at_now, role):
    world = await make_world()
    service_id = await history(world, days=30)
    await login(client, world.person(role))
    month = await queries_for(client, "/dashboard?weeks=52")
    await Visit.delete(force=True).run()
    await history(world, days=3 * 365, service_id=service_id)
    years = await queries_for(client, "/dashboard?weeks=52")
    assert month == years
    assert years <= 9  # the session, the facility, the team, one per chart


async def test_the_filters_answer_as_an_htmx_partial_and_a_bad_period_is_explained(client, at_now):
    world = await make_world()
    await login(client, world.admin)
    partial = await client.get(f"/dashboard?weeks=4&team={world.coordinator['id']}", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.text
    assert len(table_of(partial.text, "delivered")) == 5
    bad = await client.get("/dashboard?weeks=7", headers={"HX-Request": "true"})
    assert bad.status_code == 422 and "Choose one of the periods." in bad.text


async def test_a_team_filter_shows_that_coordinators_clients_only(client, at_now):
    world = await make_world()
    await history(world, days=20)
    await login(client, world.admin)
    theirs = await client.get(f"/dashboard?team={world.coordinator2['id']}")
    assert all(row[1:] == ["0", "0"] for row in table_of(theirs.text, "delivered")[1:])
    mine = await client.get(f"/dashboard?team={world.coordinator['id']}")
    assert any(row[2] != "0" for row in table_of(mine.text, "delivered")[1:])


def test_bar_heights_scale_to_a_round_axis_and_every_bar_carries_its_value():
    chart = queries.Chart(id="x", title="x", columns=["Week", "Planned", "Delivered"], patterns=["hatch", "solid"],
                          rows=[["a", 10, 5], ["b", 0, 0]])
    shape = queries.bar_shapes(chart)
    assert queries.nice_ceiling(7) == 10 and queries.nice_ceiling(11) == 20 and queries.nice_ceiling(0) == 1
    planned_a, delivered_a = shape["bars"][0], shape["bars"][1]
    assert delivered_a["height"] == pytest.approx(planned_a["height"] / 2, abs=0.1)
    assert [b["value"] for b in shape["bars"]] == [10, 5, 0, 0]
    assert planned_a["pattern"] == "hatch"
