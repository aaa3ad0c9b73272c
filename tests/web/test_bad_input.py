"""Values no column can hold are refused in the form, before anything is stored or audited."""

from __future__ import annotations

import pytest

from app.audit.tables import AuditEvent
from app.clients.tables import Client
from app.web.forms import Form, whole
from tests.clients.factories import make_world
from tests.conftest import login, post_form


async def test_a_huge_sign_in_email_never_reaches_the_audit_trail(client):
    await make_world()
    for size in (10_000, 9 * 1024 * 1024):
        response = await post_form(client, "/login", {"email": "a" * size + "@example.org", "password": "x" * 20})
        assert response.status_code in (413, 422) and response.text.strip()
    assert max(len(e["actor_label"]) for e in await AuditEvent.select(AuditEvent.actor_label).run() or
               [{"actor_label": ""}]) <= AuditEvent.actor_label.length


@pytest.mark.parametrize("field,value", [
    ("first_name", "x" * (Client.first_name.length + 1)), ("phone", "0" * 41), ("email", "a" * 250 + "@x.org"),
    ("first_name", "Ann\x00e"), ("first_name", "\ufdfa" * 60), ("date_of_birth", "0001-01-01"),
    ("review_due", "9999-12-31"), ("version", "²"),
])
async def test_a_client_edit_past_what_the_column_holds_is_refused_next_to_the_field(client, field, value):
    world = await make_world()
    await login(client, world.coordinator)
    before = await Client.select().where(Client.id == world.own["id"]).first().run()
    values = {"first_name": "Olive", "last_name": "Owens", "date_of_birth": "1940-05-17", "version": "1",
              field: value}
    response = await post_form(client, f"/clients/{world.own['id']}/edit", values)
    assert response.status_code in (409, 422)
    assert await Client.select().where(Client.id == world.own["id"]).first().run() == before


@pytest.mark.parametrize("path", ["/clients/2147483648", "/clients/9223372036854775808", "/visits/99999999999"])
async def test_ids_no_table_can_hold_answer_404(client, path):
    world = await make_world()
    await login(client, world.coordinator)
    assert (await client.get(path)).status_code == 404


@pytest.mark.parametrize("query", ["page=9223372036854775808", "q=%00", "page=2147483648"])
async def test_queries_no_database_can_take_answer_400_with_a_message(client, query):
    world = await make_world()
    await login(client, world.admin)
    response = await client.get(f"/admin/audit?{query}")
    assert response.status_code == 400
    assert "out of range" in response.text or "cannot be searched" in response.text


def test_only_ascii_digits_make_numbers():
    assert [whole(v) for v in ("12", "²", "١٢", "2147483648", " 7 ", "-1")] == [12, None, None, None, 7, None]


@pytest.mark.parametrize("limit", [1, 200, 4000])
def test_a_form_field_is_refused_one_character_past_its_limit(limit):
    assert Form.from_data({"f": "x" * limit}, ("f",), {"f": limit}).ok
    assert not Form.from_data({"f": "x" * (limit + 1)}, ("f",), {"f": limit}).ok
