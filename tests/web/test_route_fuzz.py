"""Generated bad input against every route of the app: never a 5xx, always a clear message, nothing stored.

Each route of the route table (new ones are found by themselves) is sent, by a person the policy
allows, on records that exist, the form its page shows with fields dropped, oversized, of the wrong
type, in odd Unicode, with boundary numbers and dates, or sent twice; GET routes get the same in
their query. A refused request (4xx) must say why and leave every stored row as it was.

`make test` runs a few examples per route; `make fuzz` raises KINWARD_FUZZ_EXAMPLES for a long run.
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any, Coroutine

from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from tests.web.routes import UNSAFE, RouteCase, RouteWorld, route_world, stored_state

URL_VALUE_MAX = 1000
EXAMPLES = int(os.environ.get("KINWARD_FUZZ_EXAMPLES", "4"))

BOUNDARY_NUMBERS = ["0", "-1", "1.5", "2147483647", "2147483648", "-2147483649", "9223372036854775807",
                    "9223372036854775808", "1" * 40, "1e309", "NaN", "²", "¹²", "١٢", "٣", "𝟘", "Ⅻ", " 7 "]
BOUNDARY_DATES = ["0001-01-01", "9999-12-31", "0000-00-00", "2026-02-30", "10000-01-01", "2026-W01-1",
                  "2026-13-01", "1899-12-31", "2101-01-01", "24:00", "23:59:60", "-1 day"]
ODD_TEXT = ["\x00", "a\x00b", "\u202eevil", "\ufdfa" * 40, "ß" * 200, "\ufeff", "🧑‍🧑‍🧒" * 30, "\r\n" * 20,
            "<script>alert(1)</script>", "%", "_", "\\", "' OR 1=1 --", "ǅ" * 101, "ﬃ" * 120, "\u0301" * 50]


def oversized() -> st.SearchStrategy[str]:
    return st.builds(lambda char, n: char * n, st.sampled_from(["x", "é", "\ufdfa", "0"]),
                     st.sampled_from([101, 201, 255, 2001, 4001, 10_000, 300_000]))


def bad_value() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(BOUNDARY_NUMBERS), st.sampled_from(BOUNDARY_DATES), st.sampled_from(ODD_TEXT),
        oversized(), st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
    )


@st.composite
def form_fields(draw: st.DrawFn, baseline: dict[str, list[str]]) -> list[tuple[str, str]]:
    """The page's form, each field kept, dropped, replaced by a bad value or sent twice; sometimes a stranger.

    Half the time one bad value goes into every field at once, so a few examples reach every field.
    """
    fields: list[tuple[str, str]] = []
    everywhere = draw(st.one_of(st.none(), bad_value()))
    for name, values in baseline.items():
        if name == "_csrf_token":
            fields.extend((name, v) for v in values)
            continue
        if everywhere is not None:
            fields.append((name, everywhere))
            continue
        fate = draw(st.sampled_from(["keep", "drop", "bad", "twice"]))
        if fate == "keep":
            fields.extend((name, v) for v in values)
        elif fate == "bad":
            fields.append((name, draw(bad_value())))
        elif fate == "twice":
            fields.extend([(name, draw(bad_value())), (name, values[0] if values else "")])
    if draw(st.booleans()):
        fields.append((draw(st.sampled_from(["version", "key", "id", "weekdays", "task", "since", "q"])),
                       draw(bad_value())))
    return fields


class Served:
    """The app and its database on a loop of their own, so hypothesis (synchronous) can drive it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


async def send(world: RouteWorld, case: RouteCase, fields: list[tuple[str, str]], htmx: bool) -> tuple[int, str, bool]:
    """One request; its status, its text, and whether the stored rows changed."""
    browser = world.browser(case)
    headers = {"HX-Request": "true"} if htmx else {}
    before = await stored_state()
    if case.method in UNSAFE:
        headers["x-csrftoken"] = browser.cookies["csrftoken"]
        response = await browser.request(case.method, world.path_for(case), data=_multi(fields), headers=headers)
    else:
        # A URL is bounded on the way (browsers and proxies cut it at some tens of kilobytes).
        params = [(name, value[:URL_VALUE_MAX]) for name, value in fields]
        response = await browser.request(case.method, world.path_for(case), params=params, headers=headers)
    return response.status_code, response.text, await stored_state() != before


def _short(fields: list[tuple[str, str]]) -> str:
    return repr([(name, value if len(value) <= 40 else f"{value[:20]!r}... ({len(value)} characters)")
                 for name, value in fields])


def _multi(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in fields:
        grouped.setdefault(name, []).append(value)
    return grouped


def test_generated_bad_input_on_every_route_answers_4xx_with_a_message_and_changes_nothing(settings):
    served = Served()
    context = route_world(settings)
    world: RouteWorld = served.run(context.__aenter__())
    figures = {"requests": 0, "5xx": 0, "routes": 0}
    try:
        for case in world.cases:
            if case.handler.opt.get("without_form"):
                continue  # signing out or locking ends the session the walk runs in
            figures["routes"] += 1
            path = world.path_for(case)
            if case.method in UNSAFE:
                baseline = world.forms.get(path) or {"_csrf_token": [world.browser(case).cookies["csrftoken"]]}
            else:
                baseline = {name: [""] for name in case.query_names}

            @hypothesis_settings(max_examples=EXAMPLES, deadline=None, database=None,
                                 suppress_health_check=list(HealthCheck))
            @given(fields=form_fields(baseline), htmx=st.booleans())
            def walk(fields: list[tuple[str, str]], htmx: bool) -> None:
                status, text, changed = served.run(send(world, case, fields, htmx))
                figures["requests"] += 1
                figures["5xx"] += status >= 500
                assert status < 500, f"{case.name} answered {status} to {_short(fields)}"
                if 400 <= status < 500 and status != 401:
                    assert text.strip(), f"{case.name} answered {status} without a message"
                    assert not changed, f"{case.name} refused ({status}) but changed stored rows: {_short(fields)}"

            walk()
    finally:
        served.run(context.__aexit__(None, None, None))
        served.close()
        print(f"route fuzz: {figures['requests']} requests on {figures['routes']} routes, {figures['5xx']} answers 5xx")
    assert figures["routes"] >= 80
