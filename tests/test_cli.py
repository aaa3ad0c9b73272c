"""The kinward command and its settings."""

import os
import sqlite3
import subprocess
import sys

import httpx
import pytest

from app.accounts.demo import DEMO_EMAILS
from app.accounts.tables import Facility, User
from app.settings import DEVELOPMENT_SECRET_FILE, Settings, SettingsError
from tests.conftest import make_facility, make_user
from tests.messages.test_two_processes import two_servers


def run_cli(*args, env_overrides=None, input_text=None):
    env = dict(os.environ)
    env.update(env_overrides or {})
    return subprocess.run([sys.executable, "-m", "app.cli", *args], env=env, capture_output=True, text=True,
                          input=input_text, timeout=120)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("KINWARD_DATABASE_URL", "mysql://x/y", "KINWARD_DATABASE_URL must start with sqlite:///"),
    ("KINWARD_ENV", "staging", "KINWARD_ENV must be one of"),
    ("KINWARD_SECRET_KEY", "short", "at least 32 characters"),
    ("KINWARD_SESSION_IDLE_MINUTES", "soon", "must be a whole number"),
    ("KINWARD_SESSION_ABSOLUTE_HOURS", "48", "between 1 and 24"),
    ("KINWARD_PASSWORD_HASHING", "fast", "KINWARD_PASSWORD_HASHING must be one of standard, test"),
])
def test_bad_settings_are_refused_with_a_message_naming_the_variable(name, value, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({name: value})


def test_production_requires_a_secret_key():
    with pytest.raises(SettingsError, match="KINWARD_SECRET_KEY must be set"):
        Settings.from_env({"KINWARD_ENV": "production"})


def test_production_refuses_the_tests_password_hashing():
    with pytest.raises(SettingsError, match="KINWARD_PASSWORD_HASHING=test is for servers that tests drive"):
        Settings.from_env({"KINWARD_ENV": "production", "KINWARD_SECRET_KEY": "k" * 32,
                           "KINWARD_PASSWORD_HASHING": "test"})
    assert Settings.from_env({"KINWARD_PASSWORD_HASHING": "test"}).password_hashing == "test"
    assert Settings.from_env({}).password_hashing == "standard"


def test_production_never_makes_a_development_secret(tmp_path):
    kept = tmp_path / "var" / "development-secret-key"
    with pytest.raises(SettingsError, match="KINWARD_SECRET_KEY must be set"):
        Settings.from_env({"KINWARD_ENV": "production"}, development_secret_file=kept)
    assert not kept.exists()


def test_without_a_secret_key_processes_starting_at_once_share_one_secret_readable_by_its_owner_only(tmp_path):
    """`serve --workers 2` in development: every process reads the one secret the first one made."""
    kept = tmp_path / "var" / "development-secret-key"
    program = ("import sys; from pathlib import Path; from app.settings import Settings; "
               "print(Settings.from_env({}, development_secret_file=Path(sys.argv[1])).secret_key)")
    starts = [subprocess.Popen([sys.executable, "-c", program, str(kept)], stdout=subprocess.PIPE, text=True)
              for _ in range(6)]
    keys = {start.communicate(timeout=60)[0].strip() for start in starts}
    assert len(keys) == 1 and len(keys.pop()) >= 32
    assert kept.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in kept.parent.iterdir()] == ["development-secret-key"]  # no drafts left behind
    given = Settings.from_env({"KINWARD_SECRET_KEY": "k" * 40}, development_secret_file=kept)
    assert given.secret_key == "k" * 40


async def test_a_form_served_by_one_development_process_is_accepted_by_another(tmp_path):
    """Two `kinward serve` processes with no KINWARD_SECRET_KEY: the sign-in form of one signs in at the other."""
    person = await make_user(facility_id=await make_facility())
    async with two_servers(tmp_path, secret=None) as (first, second):
        async with httpx.AsyncClient() as browser:
            await browser.get(f"{first}/login")
            response = await browser.post(f"{second}/login", data={
                "_csrf_token": browser.cookies["csrftoken"], "email": person["email"], "password": person["password"]})
    assert response.status_code == 303, response.text
    assert DEVELOPMENT_SECRET_FILE.stat().st_mode & 0o777 == 0o600


def test_settings_are_read_from_the_environment():
    settings = Settings.from_env({"KINWARD_DATABASE_URL": "postgresql://u@h/db", "KINWARD_ENV": "production",
                                  "KINWARD_SECRET_KEY": "k" * 40, "KINWARD_SESSION_IDLE_MINUTES": "15"})
    assert settings.database_url == "postgresql://u@h/db" and settings.is_production
    assert settings.session_idle_minutes == 15 and not settings.is_sqlite


def test_cli_reports_a_bad_setting_and_exits_non_zero():
    result = run_cli("migrate", env_overrides={"KINWARD_ENV": "staging"})
    assert result.returncode != 0
    assert "KINWARD_ENV must be one of" in result.stderr


def test_serve_refuses_to_start_with_unapplied_migrations(tmp_path):
    result = run_cli("serve", "--port", "1", env_overrides={"KINWARD_DATABASE_URL": f"sqlite:///{tmp_path}/new.sqlite"})
    assert result.returncode == 2
    assert "unapplied migration" in result.stderr and "kinward migrate" in result.stderr


def test_migrate_then_demo_creates_the_demo_accounts_once(tmp_path):
    # The commands hash as the settings say: here with the tests' cheapest argon2id parameters.
    env = {"KINWARD_DATABASE_URL": f"sqlite:///{tmp_path}/demo.sqlite", "KINWARD_PASSWORD_HASHING": "test"}
    assert run_cli("migrate", env_overrides=env).returncode == 0
    first = run_cli("demo", "--if-empty", env_overrides=env)
    assert first.returncode == 0 and "coordinator2@kinward.example" in first.stdout
    assert "kinward-demo-coordinator2" in first.stdout
    with sqlite3.connect(tmp_path / "demo.sqlite") as stored:
        hashes = [row[0] for row in stored.execute("SELECT password_hash FROM kinward_user")]
    assert len(hashes) == len(DEMO_EMAILS) and all(h.startswith("$argon2id$v=19$m=8,t=1,p=1$") for h in hashes)
    again = run_cli("demo", "--if-empty", env_overrides=env)
    assert again.returncode == 0 and "already present" in again.stdout
    assert run_cli("audit", "verify", env_overrides=env).returncode == 0


async def test_the_tests_password_hashing_is_refused_beside_any_facility_but_the_demos():
    """Its hashes are cheap to crack and a server with it leaves stronger ones as they are: never on a
    database with real people's accounts (a copy of production, say)."""
    await make_facility("Hillside")
    hashing = {"KINWARD_PASSWORD_HASHING": "test"}
    for command in (("serve", "--host", "256.0.0.1"),  # an address it could not serve on, were it not refused
                    ("create-admin", "--email", "b@example.org", "--name", "B", "--facility", "Hillside")):
        refused = run_cli(*command, env_overrides={**hashing, "KINWARD_ADMIN_PASSWORD": "a long admin password here"})
        assert refused.returncode != 0
        assert "KINWARD_PASSWORD_HASHING=test is for the demo that tests drive" in refused.stderr
    assert await User.count() == 0


async def test_create_admin_creates_facility_and_administrator():
    result = run_cli("create-admin", "--email", "Boss@Example.org", "--name", "The Boss", "--facility", "Hillside",
                     env_overrides={"KINWARD_ADMIN_PASSWORD": "a long admin password for hillside"})
    assert result.returncode == 0, result.stderr
    admin = await User.select(User.role, User.facility.name.as_alias("facility")).where(
        User.email == "boss@example.org").first().run()
    assert admin == {"role": "admin", "facility": "Hillside"}
    assert await Facility.count().where(Facility.name == "Hillside").run() == 1


def test_create_admin_refuses_a_weak_password():
    result = run_cli("create-admin", "--email", "b@example.org", "--name", "B", "--facility", "F",
                     env_overrides={"KINWARD_ADMIN_PASSWORD": "short"})
    assert result.returncode == 2
    assert "15 characters" in result.stderr
