"""Every liaison route, for every role, against another coordinator's client and another facility's: 404."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import clock
from app.liaison.tables import ShareLink
from app.web.tokens import token_hash
from tests.clients.factories import make_world
from tests.conftest import app_for, login, post_form
from tests.liaison.factories import make_agency, make_provider, make_referral

CLIENT_ROUTES = (
    ("GET", "/clients/{client}/providers"), ("POST", "/clients/{client}/providers"),
    ("POST", "/clients/{client}/providers/{provider}/end"),
    ("GET", "/clients/{client}/referrals"), ("POST", "/clients/{client}/referrals"),
    ("GET", "/clients/{client}/disclosures"),
    ("GET", "/clients/{client}/summary"), ("POST", "/clients/{client}/summary"),
    ("GET", "/clients/{client}/fhir"), ("POST", "/clients/{client}/fhir"),
    ("GET", "/clients/{client}/share"), ("POST", "/clients/{client}/share"),
    ("POST", "/clients/{client}/share/{share}/revoke"),
    ("GET", "/referrals/{referral}"), ("POST", "/referrals/{referral}/status"),
    ("POST", "/referrals/{referral}/remind"), ("POST", "/referrals/{referral}/link/revoke"),
)
AGENCY_ROUTES = (("GET", "/agencies/{agency}"), ("POST", "/agencies/{agency}"),
                 ("POST", "/agencies/{agency}/archive"))
STAFF_ROUTES = (("GET", "/agencies"), ("POST", "/agencies"), ("GET", "/referrals"), ("GET", "/caseload/referrals"))
PUBLIC_ROUTES = (("GET", "/r/{token}"), ("POST", "/r/{token}"), ("GET", "/share/{token}"),
                 ("GET", "/share/{token}/fhir"))


def _template(path: str) -> str:
    for name in ("client", "provider", "share", "referral", "agency", "token"):
        path = path.replace("{" + name + "}", "{x}")
    return path


def test_the_matrix_covers_every_liaison_route(settings):
    app = app_for(settings)
    liaison = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if handler.fn.__module__ == "app.liaison.controller":
                for method in handler.http_methods:
                    if method != "HEAD":
                        path = route.path
                        for part in path.split("/"):
                            if part.startswith("{"):
                                path = path.replace(part, "{x}")
                        liaison.add((method, path))
    covered = {(m, _template(p)) for m, p in CLIENT_ROUTES + AGENCY_ROUTES + STAFF_ROUTES + PUBLIC_ROUTES}
    assert liaison == covered


async def _targets(world) -> dict[str, dict]:
    targets = {}
    for name, client_row, facility in (("other", world.others, world.facility),
                                       ("foreign", world.foreign, world.other_facility)):
        agency = await make_agency(facility_id=facility)
        provider = await make_provider(client_id=client_row["id"], agency=agency)
        referral = await make_referral(client_id=client_row["id"], agency=agency)
        rows = await ShareLink.insert(ShareLink(client=client_row["id"], recipient_name="X", reason="x",
                                                token_hash=token_hash(f"t-{name}"),
                                                expires_at=clock.utcnow() + timedelta(days=1))).run()
        targets[name] = {"client": client_row["id"], "provider": provider, "referral": referral["id"],
                         "share": rows[0]["id"], "agency": agency["id"]}
    return targets


async def _status(client, method: str, path: str) -> int:
    if method == "GET":
        return (await client.get(path)).status_code
    return (await post_form(client, path, {"reason": "x", "to_status": "cancelled", "version": "1"})).status_code


@pytest.mark.parametrize("role", ["admin", "coordinator", "worker", "family"])
async def test_another_facilitys_records_answer_404_to_every_role(client, role):
    world = await make_world()
    target = (await _targets(world))["foreign"]
    await login(client, world.person(role))
    for method, path in CLIENT_ROUTES + AGENCY_ROUTES:
        assert await _status(client, method, path.format(**target)) == 404, (role, method, path)


@pytest.mark.parametrize("role", ["coordinator", "worker", "family"])
async def test_a_client_not_ones_own_answers_404(client, role):
    world = await make_world()
    target = (await _targets(world))["other"]
    await login(client, world.person(role))
    for method, path in CLIENT_ROUTES:
        assert await _status(client, method, path.format(**target)) == 404, (role, method, path)


async def test_an_admin_reaches_every_client_route_of_the_facility(client):
    world = await make_world()
    target = (await _targets(world))["other"]
    await login(client, world.admin)
    for method, path in CLIENT_ROUTES + AGENCY_ROUTES:
        assert await _status(client, method, path.format(**target)) != 404, (method, path)


@pytest.mark.parametrize("role", ["worker", "family"])
async def test_workers_and_family_have_no_directory_or_referral_desk(client, role):
    world = await make_world()
    await login(client, world.person(role))
    for method, path in STAFF_ROUTES:
        assert await _status(client, method, path) == 404, (role, method, path)
    own = world.own["id"]
    for path in (f"/clients/{own}/summary", f"/clients/{own}/fhir", f"/clients/{own}/share"):
        assert (await client.get(path)).status_code == 404, (role, path)
    if role == "worker":
        assert (await client.get(f"/clients/{own}/referrals")).status_code == 404
        assert (await client.get(f"/clients/{own}/disclosures")).status_code == 404
