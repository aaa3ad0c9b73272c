"""A change is made only from its form: a POST whose body is empty, garbled or not a form changes nothing.

Walks every unsafe route of the route table as a person allowed to use it, on records that exist.
"""

from __future__ import annotations

import pytest

from tests.web.routes import UNSAFE, route_world, stored_state

# What arrives when a body is lost or mangled on the way; the CSRF header (from the page) is still valid.
BROKEN_BODIES = {
    "empty": (b"", "application/x-www-form-urlencoded"),
    "garbled": (b"\xff\xfe%zz&&=\x00", "application/x-www-form-urlencoded"),
    "multipart without boundary": (b"--x\r\n\r\n", "multipart/form-data"),
    "json": (b'{"version": 1}', "application/json"),
    "no content type": (b"version=1", ""),
}


async def test_no_unsafe_route_acts_on_an_empty_or_unreadable_body(settings):
    async with route_world(settings) as world:
        cases = [c for c in world.cases if c.method in UNSAFE and not c.handler.opt.get("without_form")]
        assert len(cases) >= 40
        acted = []
        for case in cases:
            browser = world.browser(case)
            token = browser.cookies["csrftoken"]
            for kind, (body, content_type) in BROKEN_BODIES.items():
                before = await stored_state()
                headers = {"x-csrftoken": token, **({"content-type": content_type} if content_type else {})}
                response = await browser.request(case.method, world.path_for(case), content=body, headers=headers)
                if not 400 <= response.status_code < 500 or not response.text.strip() \
                        or await stored_state() != before:
                    acted.append(f"{case.name} ({kind}): {response.status_code}")
        assert acted == []


async def test_the_same_request_with_its_form_does_act(settings):
    """The check above can fail: removing a contact with the page's own form removes it."""
    async with route_world(settings) as world:
        case = next(c for c in world.cases if c.path.endswith("/contacts/{contact_id:int}/remove"))
        path = world.path_for(case)
        fields = world.forms[path]
        assert "_csrf_token" in fields
        before = await stored_state()
        response = await world.browser(case).post(path, data=fields)
        assert response.status_code == 303
        assert (await stored_state())["client_contact"] != before["client_contact"]


@pytest.mark.parametrize("route", ["/logout", "/tablet/lock"])
async def test_ending_ones_own_session_needs_no_form(settings, route):
    async with route_world(settings) as world:
        browser = world.browsers["worker"]
        response = await browser.post(route, headers={"x-csrftoken": browser.cookies["csrftoken"]})
        assert response.status_code == 303
        assert (await browser.get("/my-day")).status_code == 303  # signed out
