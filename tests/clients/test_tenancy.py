"""Facilities are tenants: two facilities side by side, and nothing of one reaches the other's people."""

from __future__ import annotations

from app.clients.tables import CareTeamMember, FamilyLink
from tests.clients.factories import link_family, make_client
from tests.conftest import make_facility, make_user, post_form, sign_in


async def test_two_facilities_share_nothing(client):
    north, south = await make_facility("North"), await make_facility("South")
    people = {}
    for facility, tag in ((north, "n"), (south, "s")):
        for role in ("admin", "coordinator", "worker", "family"):
            people[tag + role] = await make_user(facility_id=facility, role=role, name=f"{tag}-{role}")
    n_client = await make_client(facility_id=north, first_name="Nora", last_name="North",
                                 coordinator=people["ncoordinator"], workers=(people["nworker"],))
    s_client = await make_client(facility_id=south, first_name="Sam", last_name="South",
                                 coordinator=people["scoordinator"], workers=(people["sworker"],))
    await link_family(client_id=n_client["id"], user=people["nfamily"])
    await link_family(client_id=s_client["id"], user=people["sfamily"])
    # Even a care-team row pointing across facilities (a bug or tampering) opens nothing.
    await CareTeamMember.insert(CareTeamMember(client=s_client["id"], user=people["ncoordinator"]["id"],
                                               role="coordinator", since=n_client["date_of_birth"])).run()
    await FamilyLink.insert(FamilyLink(client=s_client["id"], user=people["nfamily"]["id"])).run()

    for role in ("admin", "coordinator", "worker", "family"):
        await sign_in(client, people["n" + role])
        for suffix in ("", "/edit", "/status", "/contacts", "/team", "/family", "/access-log", "/break-glass"):
            assert (await client.get(f"/clients/{s_client['id']}{suffix}")).status_code == 404, (role, suffix)
        assert (await post_form(client, f"/clients/{s_client['id']}/edit", {})).status_code == 404
        if role in ("admin", "coordinator"):
            caseload = await client.get("/caseload?status=all")
            assert "Nora North" in caseload.text and "Sam South" not in caseload.text
        if role == "coordinator":
            assert "Sam" not in (await client.get("/clients/find?q=sam")).text
            team = await client.get(f"/clients/{n_client['id']}/team")
            assert "s-worker" not in team.text and "s-coordinator" not in team.text
            refused = await post_form(client, f"/clients/{n_client['id']}/team",
                                      {"user_id": str(people["sworker"]["id"]), "since": "2026-01-01"})
            assert refused.status_code == 422
        if role == "admin":
            assert "Sam South" not in (await client.get("/admin/break-glass")).text
