"""Page titles stay in a browser's tab list, history and profile: on a shared tablet they name no client."""

from __future__ import annotations

import re
from pathlib import Path

from app.accounts.tables import Session
from tests.web.routes import route_world

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# The route world's client, Olive Owens.
CLIENT_NAME = re.compile(r"Olive|Owens")


def test_every_title_that_names_a_client_asks_first():
    """A template whose title shows a client's name shows it only where titles may name clients."""
    naming = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        for title in re.findall(r"{% block title %}(.*?){% endblock %}", template.read_text(), re.S):
            # What it prints, other than translated text.
            shown = [value for value in re.findall(r"{{(.*?)}}", title) if not value.strip().startswith("_(")]
            if any("client" in value for value in shown) and "client_names_in_titles()" not in title:
                naming.append(str(template.relative_to(TEMPLATES)))
    assert naming == []


async def test_titles_on_a_tablet_session_name_no_client_and_elsewhere_do(settings):
    """Every page, found in the route table, opened by whoever may open it: on a desktop some titles name
    the client; the same pages opened on a session from a registered tablet name none."""
    async with route_world(settings) as world:
        async def titles() -> dict[str, str]:
            found = {}
            for case in world.cases:
                if case.method != "GET":
                    continue
                page = await world.browser(case).get(world.path_for(case))
                title = re.search(r"<title>(.*?)</title>", page.text, re.S)
                if page.status_code == 200 and title:
                    found[case.name] = title.group(1)
            return found

        naming = {name: title for name, title in (await titles()).items() if CLIENT_NAME.search(title)}
        assert len(naming) >= 20, naming  # the check below can fail: these pages do name Olive Owens
        await Session.update({Session.device: world.ids["device_id"]}).where(Session.revoked_at.is_null()).run()
        on_tablet = await titles()
        assert set(naming) <= set(on_tablet)
        assert {name: title for name, title in on_tablet.items() if CLIENT_NAME.search(title)} == {}
