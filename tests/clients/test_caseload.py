"""The caseload: whose clients, search, filters, sort, paging, and a fixed number of queries."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from app.clients.queries import CASELOAD_PAGE_SIZE, search_key
from app.clients.tables import CareTeamMember, Client
from tests.clients.factories import add_team_member, make_client, make_world, today
from tests.conftest import sign_in, make_facility, make_user, queries_for

ROW_LINK = re.compile(r'<th scope="row"><a href="/clients/(\d+)">([^<]+)</a>')


def names(html: str) -> list[str]:
    return [name for _, name in ROW_LINK.findall(html)]


async def many_clients(*, facility_id: int, coordinator: dict, count: int) -> None:
    """Bulk insert: what the query count must not depend on."""
    rows = [Client(facility=facility_id, first_name=f"Bulk{n:04d}", last_name="Client", status="active",
                   search_name=search_key(f"Bulk{n:04d}", "Client"), review_due=today() + timedelta(days=n % 40 - 20),
                   flag="falls" if n % 7 == 0 else "") for n in range(count)]
    inserted = await Client.insert(*rows).returning(Client.id).run()
    await CareTeamMember.insert(*[
        CareTeamMember(client=row["id"], user=coordinator["id"], role="coordinator", since=date(2020, 1, 1))
        for row in inserted
    ]).run()


@pytest.mark.parametrize("url", ["/caseload", "/caseload?q=bulk&sort=review&review=overdue&flagged=1&page=2",
                                 "/caseload?review=due&unread=1&concerns=1&missed=1&referrals=1&sort=concerns",
                                 "/caseload?status=all&sort=missed&page=3"])
async def test_the_caseload_runs_the_same_number_of_queries_for_5_and_for_500_clients(client, url):
    facility = await make_facility()
    small = await make_user(facility_id=facility, role="coordinator")
    large = await make_user(facility_id=facility, role="coordinator")
    await many_clients(facility_id=facility, coordinator=small, count=5)
    await many_clients(facility_id=facility, coordinator=large, count=500)

    await sign_in(client, small)
    few = await queries_for(client, url)
    await sign_in(client, large)
    many = await queries_for(client, url)
    assert few == many
    assert many <= 3  # the session, the counts, the page


async def test_a_coordinator_sees_the_clients_of_their_care_teams_only(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    page = await client.get("/caseload")
    assert names(page.text) == ["Olive Owens"]
    assert "Otto" not in page.text and "Fern" not in page.text


async def test_an_admin_sees_every_client_of_the_facility_and_no_other(client):
    world = await make_world()
    await sign_in(client, world.admin)
    page = await client.get("/caseload")
    assert sorted(names(page.text)) == ["Olive Owens", "Otto Other"]


async def test_membership_counts_only_between_its_dates(client):
    facility = await make_facility()
    coordinator = await make_user(facility_id=facility, role="coordinator")
    await make_client(facility_id=facility, first_name="Current", coordinator=coordinator)
    future = await make_client(facility_id=facility, first_name="Future")
    await add_team_member(client_id=future["id"], user=coordinator, since=today() + timedelta(days=1))
    ended = await make_client(facility_id=facility, first_name="Ended")
    await add_team_member(client_id=ended["id"], user=coordinator, since=date(2020, 1, 1),
                          until=today() - timedelta(days=1))
    await sign_in(client, coordinator)
    assert names((await client.get("/caseload")).text) == ["Current Example"]


async def test_discharged_clients_leave_the_caseload_but_can_still_be_found(client):
    facility = await make_facility()
    coordinator = await make_user(facility_id=facility, role="coordinator")
    await make_client(facility_id=facility, first_name="Staying", coordinator=coordinator)
    await make_client(facility_id=facility, first_name="Gone", coordinator=coordinator, status="discharged")
    await sign_in(client, coordinator)
    assert names((await client.get("/caseload")).text) == ["Staying Example"]
    assert names((await client.get("/caseload?status=discharged")).text) == ["Gone Example"]
    assert sorted(names((await client.get("/caseload?status=all")).text)) == ["Gone Example", "Staying Example"]


async def test_search_finds_part_of_a_name_ignoring_case_and_accents(client):
    facility = await make_facility()
    coordinator = await make_user(facility_id=facility, role="coordinator")
    await make_client(facility_id=facility, first_name="Zoë", last_name="Abara", coordinator=coordinator)
    await make_client(facility_id=facility, first_name="Peter", last_name="Zoeller", coordinator=coordinator)
    await make_client(facility_id=facility, first_name="Harold", last_name="Finch", coordinator=coordinator)
    await sign_in(client, coordinator)
    assert sorted(names((await client.get("/caseload?q=ZOE")).text)) == ["Peter Zoeller", "Zoë Abara"]
    assert names((await client.get("/caseload?q=zoe aba")).text) == ["Zoë Abara"]
    assert len(names((await client.get("/caseload?q=%25")).text)) == 3  # a typed "%" is dropped, not a wildcard


async def test_a_name_searched_as_the_caseload_shows_it_finds_the_client(client):
    """A preferred name is shown in brackets; typing (or pasting) the name as shown finds the client."""
    facility = await make_facility()
    coordinator = await make_user(facility_id=facility, role="coordinator")
    await make_client(facility_id=facility, first_name="Margaret", last_name="Ellison", preferred_name="Peggy",
                      coordinator=coordinator)
    await make_client(facility_id=facility, first_name="Harold", last_name="Finch", coordinator=coordinator)
    await sign_in(client, coordinator)
    shown = names((await client.get("/caseload")).text)
    assert "Margaret Ellison (Peggy)" in shown and len(shown) == 2
    for typed in ("(peggy)", "Margaret Ellison (Peggy)", "(Pegg"):
        assert names((await client.get("/caseload", params={"q": typed})).text) == ["Margaret Ellison (Peggy)"]


async def test_filters_for_overdue_reviews_flags_and_status(client):
    facility = await make_facility()
    coordinator = await make_user(facility_id=facility, role="coordinator")
    await make_client(facility_id=facility, first_name="Overdue", coordinator=coordinator,
                      review_due=today() - timedelta(days=1))
    await make_client(facility_id=facility, first_name="Duetoday", coordinator=coordinator, review_due=today())
    await make_client(facility_id=facility, first_name="Flagged", coordinator=coordinator, flag="Two falls in May")
    await make_client(facility_id=facility, first_name="Referred", coordinator=coordinator, status="referral")
    await sign_in(client, coordinator)
    overdue = await client.get("/caseload?review=overdue")
    assert names(overdue.text) == ["Overdue Example"]
    assert "overdue</span>" in overdue.text
    flagged = await client.get("/caseload?flagged=1")
    assert names(flagged.text) == ["Flagged Example"] and "Two falls in May" in flagged.text
    assert names((await client.get("/caseload?status=referral")).text) == ["Referred Example"]


async def test_sorting_by_review_date_puts_the_soonest_first_and_undated_last(client):
    facility = await make_facility()
    coordinator = await make_user(facility_id=facility, role="coordinator")
    await make_client(facility_id=facility, first_name="Aaron", coordinator=coordinator)
    await make_client(facility_id=facility, first_name="Later", coordinator=coordinator,
                      review_due=today() + timedelta(days=30))
    await make_client(facility_id=facility, first_name="Sooner", coordinator=coordinator,
                      review_due=today() + timedelta(days=3))
    await sign_in(client, coordinator)
    assert names((await client.get("/caseload?sort=review")).text) == ["Sooner Example", "Later Example",
                                                                       "Aaron Example"]
    assert names((await client.get("/caseload")).text)[0] == "Aaron Example"


async def test_pages_of_the_caseload(client):
    facility = await make_facility()
    coordinator = await make_user(facility_id=facility, role="coordinator")
    await many_clients(facility_id=facility, coordinator=coordinator, count=CASELOAD_PAGE_SIZE + 5)
    await sign_in(client, coordinator)
    first = await client.get("/caseload")
    assert len(names(first.text)) == CASELOAD_PAGE_SIZE
    assert "page=2" in first.text and f"{CASELOAD_PAGE_SIZE + 5} clients" in first.text
    second = await client.get("/caseload?page=2")
    assert len(names(second.text)) == 5
    assert not set(names(first.text)) & set(names(second.text))


async def test_htmx_asks_for_the_rows_only_and_a_history_restore_gets_the_page(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    fragment = await client.get("/caseload?q=oli", headers={"HX-Request": "true"})
    assert names(fragment.text) == ["Olive Owens"]
    assert "<html" not in fragment.text and "<form" not in fragment.text
    restored = await client.get("/caseload?q=oli", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restored.text


async def test_the_search_keeps_what_was_typed_in_the_box(client):
    world = await make_world()
    await sign_in(client, world.coordinator)
    page = await client.get("/caseload?q=Oli&flagged=1&sort=status")
    assert 'value="Oli"' in page.text
    assert re.search(r'id="need-flagged" name="flagged" value="1"\s*checked', page.text)
    assert re.search(r'<option value="status"\s*selected>', page.text)
