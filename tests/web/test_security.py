"""CSRF, security headers and error pages on every response."""

import logging

import pytest

from app.main import create_app
from tests.conftest import app_client, csrf_token, login, make_facility, make_user, post_form


async def test_unsafe_request_without_csrf_token_is_refused_with_403(client):
    user = await make_user(facility_id=await make_facility())
    await login(client, user)
    response = await client.post("/logout")
    assert response.status_code == 403
    assert (await client.get("/account/password")).status_code == 200  # still signed in


async def test_csrf_token_in_the_htmx_header_is_accepted(client):
    user = await make_user(facility_id=await make_facility())
    await login(client, user)
    response = await client.post("/logout", headers={"x-csrftoken": await csrf_token(client)})
    assert response.status_code == 303


async def test_a_forged_csrf_token_is_refused(client):
    user = await make_user(facility_id=await make_facility())
    await login(client, user)
    await csrf_token(client)
    response = await client.post("/logout", data={"_csrf_token": "f" * 128})
    assert response.status_code == 403


async def test_pages_carry_the_csrf_token_for_htmx_on_body(client):
    user = await make_user(facility_id=await make_facility())
    await login(client, user)
    page = await client.get("/account/password")
    assert f'hx-headers:inherited=\'{{"x-csrftoken": "{client.cookies["csrftoken"]}"}}\'' in page.text


@pytest.mark.parametrize("path", ["/login", "/healthz", "/no-such-page", "/static/css/kinward.css"])
async def test_every_response_has_the_security_headers(client, path):
    response = await client.get(path)
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"]


async def test_authenticated_pages_are_no_store(client):
    user = await make_user(facility_id=await make_facility(), role="admin")
    await login(client, user)
    for path in ("/admin/users", "/admin/audit", "/account/password"):
        assert (await client.get(path)).headers["cache-control"] == "no-store"


async def test_templates_contain_no_inline_script(client):
    page = await client.get("/login")
    assert "<script>" not in page.text
    assert "<script src=" in page.text


async def test_unknown_page_is_a_friendly_404(client):
    response = await client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.text


async def test_server_error_shows_a_friendly_page_without_a_trace(settings):
    from litestar import get
    
    @get("/boom", opt={"action": "public"}, sync_to_thread=False)
    def boom() -> str:
        raise RuntimeError("internal detail that must not leak")

    app = create_app(settings)
    app.register(boom)
    async with app_client(settings, app=app) as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "internal detail" not in response.text and "Traceback" not in response.text


async def test_each_request_is_logged_as_one_structured_line_without_secrets(client, caplog):
    import json

    user = await make_user(facility_id=await make_facility())
    caplog.set_level("INFO", logger="kinward.request")
    # The request lines go to their own handler, not up to the root logger where caplog listens.
    request_log = logging.getLogger("kinward.request")
    assert not request_log.propagate and request_log.handlers
    request_log.addHandler(caplog.handler)
    try:
        await post_form(client, "/login", {"email": user["email"], "password": user["password"]})
        await client.get("/account/password")
    finally:
        request_log.removeHandler(caplog.handler)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "kinward.request"]
    posted = [line for line in lines if line["method"] == "POST"][0]
    assert posted["route"] == "/login" and posted["status"] == 303 and "duration_ms" in posted
    caseload = [line for line in lines if line["route"] == "/account/password"][0]
    assert caseload["user_id"] == user["id"]
    text = caplog.text
    assert user["password"] not in text and user["email"] not in text


async def test_production_cookies_are_secure_and_host_prefixed(settings):
    from tests.conftest import settings_for_tests

    app = create_app(settings_for_tests(env="production"))
    user = await make_user(facility_id=await make_facility())
    async with app_client(settings, app=app, base_url="https://testserver.local") as client:
        page = await client.get("/login")
        csrf_cookie = page.headers["set-cookie"]
        assert csrf_cookie.startswith("__Host-csrftoken=") and "Secure" in csrf_cookie
        token = client.cookies["__Host-csrftoken"]
        response = await client.post("/login", data={"_csrf_token": token, "email": user["email"],
                                                     "password": user["password"]})
        cookie = [v for k, v in response.headers.multi_items() if k == "set-cookie" and "kinward_session" in v][0]
        assert cookie.startswith("__Host-kinward_session=") and "Secure" in cookie and "HttpOnly" in cookie
