"""`kinward schedule`: plans visits from the active plans; running it again changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys

from app import db
from tests.conftest import demo_seeded


def run_cli(*args: str, database_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KINWARD_DATABASE_URL": database_url}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], env=env, capture_output=True, text=True,
                          timeout=180)


async def test_kinward_schedule_fills_the_horizon_and_is_safe_to_repeat(tmp_path):
    url = f"sqlite:///{tmp_path}/schedule.sqlite"
    assert run_cli("migrate", database_url=url).returncode == 0
    async with db.using(url):
        await demo_seeded()  # the demo's active plans and their visits (`kinward demo` is tested in tests/test_cli.py)
    longer = run_cli("schedule", "--days", "21", database_url=url)
    assert longer.returncode == 0, longer.stderr
    assert "next 21 days" in longer.stdout and " 0 visit(s) planned" not in longer.stdout
    again = run_cli("schedule", "--days", "21", database_url=url)
    assert again.returncode == 0 and "0 visit(s) planned, 0 removed, 0 changed" in again.stdout
    refused = run_cli("schedule", "--days", "0", database_url=url)
    assert refused.returncode == 2 and "--days" in refused.stderr
