"""Two people editing one client record: neither reverts the other's change (the two-tab scenario)."""

from __future__ import annotations

from app.clients.tables import Client
from tests.clients.factories import make_world
from tests.conftest import login, post_form
from tests.web.test_merge import as_post, drawn_form


async def stored(client_id: int) -> dict:
    return await Client.select(Client.phone, Client.allergies, Client.version).where(Client.id == client_id).first().run()


async def test_a_stale_tab_saving_allergies_keeps_the_phone_the_other_tab_saved(client):
    world = await make_world()
    cid = world.own["id"]
    await login(client, world.coordinator)
    tab_a = drawn_form((await client.get(f"/clients/{cid}/edit")).text, "client-form")
    tab_b = dict(tab_a)  # the same form, opened in a second tab before A saved
    assert (await post_form(client, f"/clients/{cid}/edit", as_post(tab_a, phone="07700 900123"))).status_code == 303
    saved = await post_form(client, f"/clients/{cid}/edit", as_post(tab_b, allergies="Penicillin, latex"))
    assert saved.status_code == 303  # nothing both changed: no question to ask
    assert await stored(cid) == {"phone": "07700 900123", "allergies": "Penicillin, latex", "version": 3}


async def test_a_field_both_tabs_changed_is_asked_and_their_value_can_be_kept(client):
    world = await make_world()
    cid = world.own["id"]
    await login(client, world.coordinator)
    tab_a = drawn_form((await client.get(f"/clients/{cid}/edit")).text, "client-form")
    tab_b = dict(tab_a)
    await post_form(client, f"/clients/{cid}/edit", as_post(tab_a, phone="07700 900123", allergies="Latex"))
    refused = await post_form(client, f"/clients/{cid}/edit", as_post(tab_b, phone="01632 960999", risks="Falls"))
    assert refused.status_code == 409
    assert 'name="choice.phone"' in refused.text and 'name="choice.allergies"' not in refused.text
    # The form now holds A's allergies (B never touched them), B's phone and B's risks; B chooses A's phone.
    tab_b2 = drawn_form(refused.text, "client-form")
    assert tab_b2["allergies"] == "Latex" and tab_b2["phone"] == "07700 900123"  # the base is what is stored
    again = await post_form(client, f"/clients/{cid}/edit",
                            {**as_post(tab_b2, phone="01632 960999", risks="Falls"), "choice.phone": "theirs"})
    assert again.status_code == 303
    row = await Client.select(Client.phone, Client.allergies, Client.risks).where(Client.id == cid).first().run()
    assert row == {"phone": "07700 900123", "allergies": "Latex", "risks": "Falls"}
