"""The shift on a tablet: a refused check-out is summarised where the worker pressed the button, with links to
each field to put right; saves are announced."""

from __future__ import annotations

import re

from tests.conftest import login, post_form
from tests.visits.test_logging import HX, KEY, check_in, logging_world, open_log, save, stored
from tests.web.test_error_summary import summary_links


async def test_a_refused_check_out_is_summarised_beside_the_check_out_button_with_links_to_the_fields(
        client, monday_morning):
    world, visit = await logging_world()
    monday_morning.advance(hours=2)
    await login(client, world.worker)
    await check_in(client, visit)
    await save(client, visit, "concern", {"concern": "on"}, await open_log(client, visit, "concern"))
    refused = await post_form(client, f"/visits/{visit['id']}/check-out", {"key": KEY}, headers=HX)
    assert refused.status_code == 422
    # The summary travels in the block that holds the button the worker pressed, just above it.
    block = re.search(r'<div id="log-check-out" hx-swap-oob="innerHTML">(.*?)<form id="check-out"', refused.text, re.S)
    assert block is not None and "data-error-summary" in block.group(1)
    assert summary_links(refused.text) == [("location-home", "Say where the visit took place."),
                                           ("concern_severity", "Say how serious the concern is.")]
    # The same messages still stand next to their sections.
    assert re.search(r'id="log-location-status".*?Say where the visit took place\.', refused.text, re.S)
    assert (await stored(visit))["check_out_at"] is None


async def test_a_refused_check_out_without_htmx_shows_the_page_with_the_summary(client, monday_morning):
    world, visit = await logging_world()
    monday_morning.advance(hours=2)
    await login(client, world.worker)
    await check_in(client, visit)
    refused = await post_form(client, f"/visits/{visit['id']}/check-out", {"key": KEY})
    assert refused.status_code == 422
    assert ("location-home", "Say where the visit took place.") in summary_links(refused.text)
    assert 'id="location-home"' in refused.text


async def test_the_visit_logs_save_status_is_a_polite_live_region(client, monday_morning):
    world, visit = await logging_world()
    monday_morning.advance(hours=2)
    await login(client, world.worker)
    await check_in(client, visit)
    page = (await client.get(f"/visits/{visit['id']}")).text
    for section in ("location", "tasks", "note", "summary", "concern"):
        assert f'id="log-{section}-status" class="save-status" role="status"' in page
    assert 'id="check-out-status" class="save-status" role="status"' in page
