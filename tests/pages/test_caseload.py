"""The caseload's attention filters and sorts: unread messages, open concerns, missed today, review due,
referral overdue, flagged; as query parameters, with and without htmx, refused with a message when bad."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest

from app.careplans.tables import Service
from app.visits import rules
from app.visits.tables import Visit
from tests.careplans.factories import add_service, make_plan
from tests.clients.factories import make_client, today
from tests.clients.test_caseload import many_clients, names
from tests.conftest import make_facility, make_user, queries_for, sign_in
from tests.liaison.factories import make_agency, make_referral
from tests.messages.factories import add_message, mark_read

# Noon in London in June (11:00 UTC): the morning's visits are over, the afternoon's to come.
NOW = datetime(2026, 6, 10, 11, 0, tzinfo=timezone.utc)


def at(hour: int, minute: int = 0, days: int = 0) -> datetime:
    return NOW.replace(hour=hour, minute=minute) + timedelta(days=days)


async def add_visit(*, client_id: int, worker: dict | None, start: datetime, minutes: int = 30, **columns) -> int:
    service = await Service.select(Service.id).where(Service.plan.client == client_id).first().run()
    service = service["id"] if service else await add_service(plan_id=await make_plan(client_id=client_id))
    rows = await Visit.insert(Visit(client=client_id, service=service, worker=worker["id"] if worker else None,
                                    scheduled_start=start, scheduled_end=start + timedelta(minutes=minutes),
                                    **columns)).run()
    return rows[0]["id"]


@pytest.fixture
async def caseload(fake_clock):
    """A coordinator's six clients, each needing attention for one reason, and one needing none."""
    fake_clock.now = NOW
    facility = await make_facility()
    coordinator = await make_user(facility_id=facility, role="coordinator")
    worker = await make_user(facility_id=facility, role="worker")
    family = await make_user(facility_id=facility, role="family")
    made = {}
    for first in ("Calm", "Unread", "Concerned", "Missed", "Review", "Referred", "Flagged"):
        made[first] = await make_client(facility_id=facility, first_name=first, coordinator=coordinator,
                                        workers=(worker,), review_due=today() + timedelta(days=60))
    # Two unread family messages; one read and one of the coordinator's own do not count.
    for body in ("How is she?", "Any news?"):
        await add_message(client_id=made["Unread"]["id"], author=family, body=body)
    read = await add_message(client_id=made["Calm"]["id"], author=family)
    await mark_read(message_id=read, user=coordinator)
    await add_message(client_id=made["Calm"]["id"], author=coordinator)
    # Two open concerns; a resolved one elsewhere does not count.
    for hour in (7, 8):
        await add_visit(client_id=made["Concerned"]["id"], worker=worker, start=at(hour, days=-1), status="completed",
                        concern=True, concern_severity="medium", concern_text="Unsteady")
    await add_visit(client_id=made["Calm"]["id"], worker=worker, start=at(7, days=-2), status="completed", concern=True,
                    concern_severity="low", concern_resolved_at=at(9, days=-1))
    # Missed this morning; yesterday's miss, a later visit and one without a worker do not count today.
    await add_visit(client_id=made["Missed"]["id"], worker=worker, start=at(7))
    await add_visit(client_id=made["Calm"]["id"], worker=worker, start=at(7, days=-1))
    await add_visit(client_id=made["Calm"]["id"], worker=worker, start=at(15))
    await add_visit(client_id=made["Calm"]["id"], worker=None, start=at(7))
    # A review due within two weeks.
    from app.clients.tables import Client
    await Client.update({Client.review_due: today() + timedelta(days=5)}).where(
        Client.id == made["Review"]["id"]).run()
    # A referral past its answer date; an accepted one past it does not count.
    agency = await make_agency(facility_id=facility)
    await make_referral(client_id=made["Referred"]["id"], agency=agency, expected_by=today() - timedelta(days=2))
    await make_referral(client_id=made["Calm"]["id"], agency=agency, status="accepted",
                        expected_by=today() - timedelta(days=2))
    await Client.update({Client.flag: "Two falls this month"}).where(Client.id == made["Flagged"]["id"]).run()
    return {"coordinator": coordinator, "facility": facility, "clients": made}


def tally(html: str, name: str) -> int:
    return int(re.search(rf'id="tally-{name}"[^>]*>(\d+)<', html).group(1))


@pytest.mark.parametrize("query, expected", [
    ("unread=1", ["Unread Example"]),
    ("concerns=1", ["Concerned Example"]),
    ("missed=1", ["Missed Example"]),
    ("review=due", ["Review Example"]),
    ("referrals=1", ["Referred Example"]),
    ("flagged=1", ["Flagged Example"]),
    ("unread=1&concerns=1", []),
])
async def test_each_attention_filter_shows_the_clients_needing_that_attention(client, caseload, query, expected):
    await sign_in(client, caseload["coordinator"])
    page = await client.get(f"/caseload?{query}")
    assert page.status_code == 200
    assert names(page.text) == expected


async def test_the_filters_say_how_many_clients_each_would_show(client, caseload):
    await sign_in(client, caseload["coordinator"])
    page = await client.get("/caseload")
    assert {name: tally(page.text, name) for name in ("unread", "concerns", "missed", "referrals", "review",
                                                      "flagged")} == dict.fromkeys(
        ("unread", "concerns", "missed", "referrals", "review", "flagged"), 1)
    assert len(names(page.text)) == 7
    # The numbers follow the search: none of these needs anything.
    assert tally((await client.get("/caseload?q=calm")).text, "unread") == 0


async def test_each_count_shows_in_its_clients_row(client, caseload):
    await sign_in(client, caseload["coordinator"])
    page = (await client.get("/caseload")).text
    unread_id = caseload["clients"]["Unread"]["id"]
    assert f'href="/clients/{unread_id}/messages">2 unread' in page
    concerned = re.search(r'>Concerned Example</a></th>(.*?)</tr>', page, re.S).group(1)
    assert '<span class="badge badge-danger">2</span>' in concerned


@pytest.mark.parametrize("sort, first", [
    ("unread", "Unread Example"), ("concerns", "Concerned Example"), ("missed", "Missed Example"),
    ("referrals", "Referred Example"), ("review", "Review Example"), ("name", "Calm Example"),
])
async def test_sorting_puts_the_clients_needing_most_attention_first_then_by_name(client, caseload, sort, first):
    await sign_in(client, caseload["coordinator"])
    listed = names((await client.get(f"/caseload?sort={sort}")).text)
    assert listed[0] == first
    assert listed[1:] == sorted(listed[1:], key=lambda n: n.split()[0]) or sort == "review"


async def test_missed_today_counts_the_visits_the_visit_rule_calls_missed(client, caseload):
    """The caseload's SQL and rules.attendance agree on every visit of the fixture, and on one late now."""
    late = await add_visit(client_id=caseload["clients"]["Calm"]["id"], worker=None, start=at(10, 45))
    await Visit.update({Visit.worker: (await Visit.select(Visit.worker).where(
        Visit.client == caseload["clients"]["Missed"]["id"]).first().run())["worker"]}).where(Visit.id == late).run()
    visits = await Visit.select(Visit.client, Visit.status, Visit.worker, Visit.scheduled_start, Visit.scheduled_end,
                                Visit.check_in_at, Visit.check_out_at).run()
    start, end = NOW.replace(hour=0) - timedelta(hours=1), NOW.replace(hour=23)  # London's 10 June in UTC
    by_rule = {v["client"] for v in visits if start <= v["scheduled_start"] < end and rules.attendance(
        status=v["status"], staffed=v["worker"] is not None, scheduled_start=v["scheduled_start"],
        scheduled_end=v["scheduled_end"], check_in_at=v["check_in_at"], check_out_at=v["check_out_at"], now=NOW,
        grace=timedelta(minutes=30)) == rules.Attendance.missed}
    await sign_in(client, caseload["coordinator"])
    shown = names((await client.get("/caseload?missed=1")).text)
    assert by_rule == {caseload["clients"]["Missed"]["id"]} and shown == ["Missed Example"]


async def test_htmx_gets_the_rows_and_the_filters_numbers_only(client, caseload):
    await sign_in(client, caseload["coordinator"])
    fragment = await client.get("/caseload?concerns=1&sort=concerns", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text and "<form" not in fragment.text
    assert names(fragment.text) == ["Concerned Example"]
    assert re.search(r'id="tally-concerns" class="tally" hx-swap-oob="true">1<', fragment.text)


@pytest.mark.parametrize("query, field, message", [
    ("sort=shoe-size", "sort", "Choose one of the orders offered."),
    ("status=asleep", "status", "Choose one of the statuses offered."),
    ("unread=yes", "unread", "Tick the box or leave it empty."),
    ("review=someday", "review", "Choose one of the care review filters offered."),
    ("page=0", "page", "Give a page number from 1 to 10000."),
    ("page=abc", "page", "Give a page number from 1 to 10000."),
    ("page=99999999999999999999999", "page", "Give a page number from 1 to 10000."),
    ("q=" + "x" * 101, "q", "Use at most 100 characters."),
])
async def test_a_bad_filter_answers_400_with_its_message_and_the_rest_still_applies(client, caseload, query, field,
                                                                                    message):
    await sign_in(client, caseload["coordinator"])
    page = await client.get(f"/caseload?{query}&flagged=1")
    assert page.status_code == 400
    assert message in page.text and 'class="error-summary"' in page.text
    assert names(page.text) == ([] if field == "q" and "x" in query else ["Flagged Example"])
    fragment = await client.get(f"/caseload?{query}&flagged=1", headers={"HX-Request": "true"})
    assert fragment.status_code == 400 and message in fragment.text and "<form" not in fragment.text


async def test_filters_an_admin_is_not_offered_are_refused_and_the_coordinators_column_is_theirs(client, caseload):
    admin = await make_user(facility_id=caseload["facility"], role="admin")
    await sign_in(client, admin)
    page = await client.get("/caseload?unread=1")
    assert page.status_code == 400 and "This filter is not offered to you." in page.text
    assert len(names(page.text)) == 7
    assert ">Coordinator</th>" in page.text and ">Unread</th>" not in page.text
    assert names((await client.get("/caseload?referrals=1")).text) == ["Referred Example"]
    await sign_in(client, caseload["coordinator"])
    own = (await client.get("/caseload")).text
    assert ">Coordinator</th>" not in own and ">Unread</th>" in own


async def test_an_admins_caseload_runs_the_same_number_of_queries_for_5_and_for_500_clients(client):
    facility = await make_facility()
    admin = await make_user(facility_id=facility, role="admin")
    await sign_in(client, admin)
    coordinator = await make_user(facility_id=facility, role="coordinator")
    await many_clients(facility_id=facility, coordinator=coordinator, count=5)
    few = await queries_for(client, "/caseload?referrals=1&sort=referrals&review=due")
    await many_clients(facility_id=facility, coordinator=coordinator, count=495)
    many = await queries_for(client, "/caseload?referrals=1&sort=referrals&review=due")
    assert few == many <= 4  # the session, the counts, the page, the coordinators of the page
