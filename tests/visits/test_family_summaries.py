"""From the worker's log to the family home: only summaries marked shareable, of visits checked out,
and only for family members whose link allows visit summaries."""

from __future__ import annotations

from app.clients.tables import FamilyLink
from tests.conftest import post_form, sign_in
from tests.visits.test_logging import HX, KEY, NINE, check_in, logging_world, open_log, save


async def logged_visit(client, world, visit, *, summary: str, shared: bool, check_out: bool = True) -> None:
    await sign_in(client, world.worker)
    await check_in(client, visit)
    await save(client, visit, "location", {"location": "home"}, await open_log(client, visit, "location"))
    await save(client, visit, "note", {"internal_note": "Team only: bruise on the left arm."},
               await open_log(client, visit, "note"))
    await save(client, visit, "concern", {"concern": "on", "concern_severity": "high", "concern_text": "Possible fall"},
               await open_log(client, visit, "concern"))
    data = {"family_summary": summary, **({"family_summary_shared": "on"} if shared else {})}
    assert (await save(client, visit, "summary", data, await open_log(client, visit, "summary"),
                       headers=HX)).status_code == 200
    if check_out:
        assert (await post_form(client, f"/visits/{visit['id']}/check-out", {"key": KEY})).status_code == 303
    await post_form(client, "/logout", {})


async def test_the_family_sees_a_shared_summary_once_the_visit_is_checked_out(client, monday_morning):
    world, visit = await logging_world()
    monday_morning.now = NINE
    await logged_visit(client, world, visit, summary="Mum enjoyed her breakfast in the garden.", shared=True,
                       check_out=False)
    await sign_in(client, world.family)
    assert "Mum enjoyed her breakfast" not in (await client.get("/family")).text
    await post_form(client, "/logout", {})

    await sign_in(client, world.worker)
    assert (await post_form(client, f"/visits/{visit['id']}/check-out", {"key": KEY})).status_code == 303
    await post_form(client, "/logout", {})
    await sign_in(client, world.family)
    home = await client.get("/family")
    assert home.status_code == 200
    assert "Mum enjoyed her breakfast in the garden." in home.text
    assert "bruise" not in home.text and "Possible fall" not in home.text  # the team's note and the concern stay inside
    await post_form(client, "/logout", {})
    await sign_in(client, world.family2)
    assert "Mum enjoyed her breakfast" not in (await client.get("/family")).text


async def test_a_summary_not_marked_shareable_stays_with_the_team(client, monday_morning):
    world, visit = await logging_world()
    monday_morning.now = NINE
    await logged_visit(client, world, visit, summary="Draft words for the family.", shared=False)
    await sign_in(client, world.family)
    home = await client.get("/family")
    assert home.status_code == 200 and "Draft words for the family." not in home.text


async def test_a_family_link_without_visit_summaries_shows_none(client, monday_morning):
    world, visit = await logging_world()
    monday_morning.now = NINE
    await logged_visit(client, world, visit, summary="Shared, but not for this link.", shared=True)
    await FamilyLink.update({FamilyLink.may_see_visit_summaries: False}).where(
        FamilyLink.user == world.family["id"]).run()
    await sign_in(client, world.family)
    home = await client.get("/family")
    assert "Shared, but not for this link." not in home.text and "Recent visit summaries" not in home.text
    assert (await client.get(f"/visits/{visit['id']}")).status_code == 404


async def test_a_correction_after_check_out_reaches_the_family(client, monday_morning):
    world, visit = await logging_world()
    monday_morning.now = NINE
    await logged_visit(client, world, visit, summary="She had porridge.", shared=True)
    monday_morning.advance(hours=3)
    await sign_in(client, world.worker)
    await save(client, visit, "summary", {"family_summary": "She had porridge and a walk.", "family_summary_shared": "on"},
               await open_log(client, visit, "summary"))
    await post_form(client, "/logout", {})
    await sign_in(client, world.family)
    text = (await client.get("/family")).text
    assert "She had porridge and a walk." in text and "She had porridge.<" not in text
