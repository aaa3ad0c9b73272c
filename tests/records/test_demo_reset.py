"""Starting the demo afresh: development only, and never over a real facility."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.accounts.tables import Facility, User
from app.audit.queries import audit_chain_verify
from app.clients.tables import Client
from app.demo import DEMO_FACILITY, DemoResetRefused, demo_reset
from tests.clients.factories import make_client
from tests.conftest import _TEST_URL, demo_seeded, make_facility

ROOT = Path(__file__).resolve().parents[2]


async def test_a_reset_empties_the_database_and_seeds_the_demo_again():
    await demo_seeded()  # the run's copy of the demo; the reset below seeds it for real
    demo = await Facility.select(Facility.id).where(Facility.name == DEMO_FACILITY).first().run()
    extra = await make_client(facility_id=demo["id"], first_name="Tried", last_name="Things")
    clients_before = await Client.count().run()

    await demo_reset()

    assert await Facility.select(Facility.name).run() == [{"name": DEMO_FACILITY}]
    assert not await Client.exists().where(Client.id == extra["id"]).run()
    assert await Client.count().run() == clients_before - 1
    assert await User.count().where(User.email == "admin@kinward.example").run() == 1
    assert await audit_chain_verify() is None


async def test_a_reset_refuses_a_database_with_another_facility():
    await make_facility("Real Care Ltd")
    with pytest.raises(DemoResetRefused):
        await demo_reset()
    assert await Facility.count().run() == 1


async def test_the_command_refuses_outside_development():
    await demo_seeded()
    env = {**os.environ, "KINWARD_DATABASE_URL": _TEST_URL, "KINWARD_ENV": "production", "KINWARD_SECRET_KEY": "k" * 40}
    result = subprocess.run([sys.executable, "-m", "app.cli", "demo", "--reset"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "only with KINWARD_ENV=development" in result.stderr
    assert await Facility.count().run() == 1 and await Client.count().run() > 0
