"""Every route has a declared rule in the policy; no page can be added unprotected."""

from litestar import get

from app.main import create_app
from tests.conftest import app_client, app_for
from app.web.auth import undeclared_routes


def test_every_route_of_the_app_declares_an_action_the_policy_knows(settings):
    app = app_for(settings)
    assert len(app.routes) > 10
    assert undeclared_routes(app) == []


def test_a_route_without_a_rule_is_detected_and_refused(settings):
    @get("/unprotected", sync_to_thread=False)
    def unprotected() -> str:
        return "secret"

    @get("/unknown-action", opt={"action": "no.such.rule"}, sync_to_thread=False)
    def unknown() -> str:
        return "secret"

    app = create_app(settings)
    app.register(unprotected)
    app.register(unknown)
    assert sorted(undeclared_routes(app)) == ["GET,HEAD /unknown-action", "GET,HEAD /unprotected"] or \
        sorted(undeclared_routes(app)) == ["GET /unknown-action", "GET /unprotected"]


async def test_the_guard_answers_404_for_a_route_without_a_rule(settings):
    
    @get("/unprotected", sync_to_thread=False)
    def unprotected() -> str:
        return "secret"

    app = create_app(settings)
    app.register(unprotected)
    async with app_client(settings, app=app) as client:
        response = await client.get("/unprotected")
        assert response.status_code == 404
        assert "secret" not in response.text


def test_no_handler_is_typed_any(settings):
    """Litestar serves a handler typed Any as JSON, so a re-rendered form would reach the browser as text."""
    from typing import Any

    app = app_for(settings)
    untyped = [
        f"{handler.handler_name} {route.path}"
        for route in app.routes
        for handler in getattr(route, "route_handlers", ())
        if handler.parsed_fn_signature.return_type.annotation is Any
    ]
    assert untyped == []
