"""Pages and static files are gzipped above a small size; static files pages link to are versioned
by their content and kept for a year; anything else is never cached."""

from __future__ import annotations

import gzip
import re

from app.web.templating import STATIC, static_version
from tests.clients.factories import make_world
from tests.conftest import login

ASSETS = re.compile(r'(?:href|src)="(/static/[^"?]+)\?v=([0-9a-f]+)"')


async def test_a_page_is_gzipped_for_a_browser_that_accepts_it_and_plain_for_one_that_does_not(client):
    world = await make_world()
    await login(client, world.coordinator)
    page = await client.get("/caseload", headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200 and page.headers["content-encoding"] == "gzip"
    assert "Olive" in page.text  # httpx undid the gzip
    assert page.headers["cache-control"] == "no-store"
    plain = await client.get("/caseload", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and "Olive" in plain.text


async def test_a_tiny_answer_is_not_compressed(client):
    health = await client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert health.status_code == 200 and "content-encoding" not in health.headers


async def test_every_asset_a_page_links_to_is_versioned_by_its_content_gzipped_and_immutable(client):
    page = await client.get("/login")
    assets = dict(ASSETS.findall(page.text))
    assert {"/static/css/kinward.css", "/static/js/kinward.js", "/static/icons/kinward.svg"} <= set(assets)
    assert any(a.startswith("/static/vendor/htmx-") for a in assets)
    for path, version in assets.items():
        relative = path.removeprefix("/static/")
        assert version == static_version(relative)
        answer = await client.get(f"{path}?v={version}", headers={"Accept-Encoding": "gzip"})
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable", path
        assert answer.content == (STATIC / relative).read_bytes()
        if len(answer.content) > 500:
            assert answer.headers["content-encoding"] == "gzip", path
    htmx = next(a for a in assets if "htmx" in a)
    raw = await client.get(f"{htmx}?v={assets[htmx]}", headers={"Accept-Encoding": "gzip"})
    assert int(raw.headers["content-length"]) < len((STATIC / htmx.removeprefix("/static/")).read_bytes()) / 2


async def test_a_static_address_without_the_current_version_is_revalidated_not_kept(client):
    for query in ("", "?v=000000000000"):
        answer = await client.get(f"/static/css/kinward.css{query}")
        assert answer.status_code == 200 and answer.headers["cache-control"] == "no-cache"


def test_the_version_changes_when_the_content_does(tmp_path, monkeypatch):
    from app.web import templating

    (tmp_path / "a.css").write_text("body{}")
    monkeypatch.setattr(templating, "STATIC", tmp_path)
    templating.static_version.cache_clear()
    try:
        first = templating.static_version("a.css")
        (tmp_path / "a.css").write_text("body{color:red}")
        templating.static_version.cache_clear()
        assert templating.static_version("a.css") != first
    finally:
        templating.static_version.cache_clear()
