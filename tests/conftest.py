"""Test database, app and factories. The suite runs on SQLite by default and on PostgreSQL when
KINWARD_TEST_DATABASE_URL names a PostgreSQL database (created here if missing)."""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from pathlib import Path
from contextlib import asynccontextmanager, contextmanager
from typing import AsyncIterator, Iterator, Optional

import pytest
import httpx
from piccolo.querystring import QueryString

_TEST_URL = os.environ.get("KINWARD_TEST_DATABASE_URL", "")
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _TEST_URL and _WORKER:
    # The suite runs in parallel processes (pytest-xdist): each has a PostgreSQL database of its own.
    _TEST_URL = f"{_TEST_URL}_{_WORKER}"
    os.environ["KINWARD_TEST_DATABASE_URL"] = _TEST_URL
if not _TEST_URL:
    _TEST_URL = f"sqlite:///{Path(tempfile.mkdtemp(prefix='kinward-test-')) / 'test.sqlite'}"
os.environ["KINWARD_DATABASE_URL"] = _TEST_URL
os.environ["KINWARD_ENV"] = "test"

from app import db  # noqa: E402
from app.accounts import passwords  # noqa: E402
from app.accounts.tables import Facility, Role, User  # noqa: E402
from app.main import create_app  # noqa: E402
from app.piccolo_app import APP_CONFIG  # noqa: E402
from app.settings import Settings  # noqa: E402

TEST_SECRET = "test-secret-key-" + "x" * 32
DEFAULT_PASSWORD = "correct horse battery staple"


def _ensure_postgres_database(url: str) -> None:
    import asyncpg

    async def create() -> None:
        name = url.rsplit("/", 1)[1].split("?")[0]
        admin = await asyncpg.connect(url.rsplit("/", 1)[0] + "/postgres")
        try:
            if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()

    asyncio.run(create())


def _migrate() -> None:
    from app.migrations_state import migrations_apply

    async def run() -> None:
        db.configure(_TEST_URL)
        if db.is_postgres():
            # A fresh schema per run: whatever an earlier run left is dropped.
            await db.engine().run_ddl("DROP SCHEMA public CASCADE")
            await db.engine().run_ddl("CREATE SCHEMA public")
        await migrations_apply()
        await db.stop()

    asyncio.run(run())


def pytest_configure(config: pytest.Config) -> None:
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        return  # a parallel run's controller runs no test; each of its processes migrates a database of its own
    if _TEST_URL.startswith("postgres"):
        _ensure_postgres_database(_TEST_URL)
    _migrate()


# argon2 with its production parameters costs about 120 ms a hash on the reference machine; tests that
# are not about hashing use the same algorithm with the cheapest parameters. Tests marked
# `real_argon2` (the password and rehash tests) keep the production hasher.
@pytest.fixture(autouse=True)
def cheap_password_hasher(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("real_argon2") is None:
        monkeypatch.setattr(passwords, "HASHER", passwords.TEST_HASHER)


@pytest.fixture(autouse=True)
async def clean_database() -> AsyncIterator[None]:
    """Each test starts from empty tables: no test depends on another's leftovers."""
    db.configure(_TEST_URL)
    tables = [t._meta.tablename for t in reversed(APP_CONFIG.table_classes)]
    if db.is_postgres():
        await db.engine().run_ddl(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    else:  # one write transaction: one job of the writer thread, not one per table (0.8 ms against 4.8 ms)
        await db.engine().run_in_one_transaction([QueryString(f"DELETE FROM {table}") for table in tables])
    yield


# The demo facility as `demo_seed()` leaves it, per hour of seeding (the demo's day of visits and
# what is already logged follow "now"): every table's rows, read once and written back for each test.
_demo_snapshots: dict[object, tuple[bool, list[tuple[type, list[dict]]]]] = {}


async def demo_seeded() -> bool:
    """The demo, for tests that read it: the first test of a session (and of each hour, or of each
    fake clock setting) seeds it for real, later tests get a copy of those rows in their emptied
    tables. Returns what `demo_seed()` returned the first time."""
    from app import clock
    from app.demo import demo_seed

    now = clock.utcnow()
    faked = clock.utcnow.__module__ != "app.clock"  # the fake_clock fixture's moment, exactly
    # Per engine too: a test may seed a database of the other kind for a while (`db.using`).
    key = (db.engine().engine_type, now if faked else now.replace(minute=0, second=0, microsecond=0))
    if key not in _demo_snapshots:
        created = await demo_seed()
        rows = [(t, await t.raw(f"SELECT * FROM {t._meta.tablename} ORDER BY id").run())
                for t in APP_CONFIG.table_classes]
        _demo_snapshots[key] = (created, rows)
        return created
    created, snapshot = _demo_snapshots[key]
    async with db.transaction():
        for table, table_rows in snapshot:
            await db.insert_rows(table, table_rows)
            if table_rows and db.is_postgres():
                name = table._meta.tablename
                await table.raw(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                f"(SELECT MAX(id) FROM {name}))").run()
    return created


def settings_for_tests(**overrides) -> Settings:
    # Links in pages and emails start with the address the test browser opens.
    values = dict(database_url=_TEST_URL, env="test", secret_key=TEST_SECRET, base_url="http://testserver.local")
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings() -> Settings:
    return settings_for_tests()


# Building the app costs about 0.2 s (every route's signature parsed), and each new app compiles again the
# templates it renders: the tests share one app per distinct settings. An app keeps nothing of a request
# but its settings (sessions, limits and the rest live in the database, emptied before each test).
_apps: dict[Settings, object] = {}


def app_for(settings: Settings):
    """The app for these settings, built once per run."""
    if settings not in _apps:
        _apps[settings] = create_app(settings)
    return _apps[settings]


@asynccontextmanager
async def app_client(settings: Settings, *, base_url: str = "http://testserver.local",
                     app=None) -> AsyncIterator[httpx.AsyncClient]:
    """A browser talking to one app instance (one per "process"), on the test's own event loop.

    Litestar's test client runs the lifespan on a separate thread's loop, where a PostgreSQL
    pool would be unusable from the test; so the database is opened here, as the lifespan would.
    """
    app = app or app_for(settings)
    await db.start()
    try:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url=base_url, follow_redirects=False) as browser:
            yield browser
    finally:
        await db.stop()


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(settings) as browser:
        yield browser


_hash_cache: dict[tuple[int, str], str] = {}


async def hashed(password: str) -> str:
    """Hash each distinct test password once per run and per hasher in use."""
    key = (id(passwords.HASHER), password)
    if key not in _hash_cache:
        _hash_cache[key] = await passwords.password_hash(password)
    return _hash_cache[key]


_counter = {"n": 0}


def _next() -> int:
    _counter["n"] += 1
    return _counter["n"]


async def make_facility(name: Optional[str] = None, timezone: str = "Europe/London") -> int:
    rows = await Facility.insert(Facility(name=name or f"Facility {_next()}", timezone=timezone)).run()
    return rows[0]["id"]


async def make_user(*, facility_id: int, role: Role | str = Role.coordinator, email: Optional[str] = None,
                    password: str = DEFAULT_PASSWORD, active: bool = True, name: Optional[str] = None) -> dict:
    n = _next()
    email = email or f"{Role(role).value}{n}@example.org"
    rows = await User.insert(
        User(facility=facility_id, email=email, display_name=name or f"Person {n}", role=Role(role).value,
             password_hash=await hashed(password), active=active)
    ).run()
    return {"id": rows[0]["id"], "email": email, "password": password, "facility_id": facility_id,
            "role": Role(role).value}


CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')


async def csrf_token(client: httpx.AsyncClient) -> str:
    """The CSRF token a page gives the browser (GET /login sets the cookie when missing)."""
    if "csrftoken" not in client.cookies:
        await client.get("/login")
    return client.cookies["csrftoken"]


async def post_form(client: httpx.AsyncClient, url: str, data: dict, **kwargs):
    payload = {"_csrf_token": await csrf_token(client), **data}
    return await client.post(url, data=payload, **kwargs)


async def login(client: httpx.AsyncClient, user: dict, password: Optional[str] = None):
    response = await post_form(client, "/login", {"email": user["email"], "password": password or user["password"]})
    assert response.status_code == 303, response.text
    return response


async def sign_in(client: httpx.AsyncClient, user: dict, *, device_id: Optional[int] = None) -> str:
    """Sign a person in directly, as the login service does once their password checked out: a new
    session row, its token in the browser's cookie. For tests that are not about signing in."""
    from app.web.sessions import session_create

    token = await session_create(user_id=user["id"], absolute_hours=Settings.session_absolute_hours,
                                 device_id=device_id)
    use_session_token(client, token)
    return token


class FakeClock:
    def __init__(self) -> None:
        from app import clock

        self.now = clock.utcnow()

    def advance(self, **delta) -> None:
        from datetime import timedelta

        self.now += timedelta(**delta)


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Moves Kinward's notion of "now"; real time is never waited for."""
    fake = FakeClock()
    monkeypatch.setattr("app.clock.utcnow", lambda: fake.now)
    return fake


@contextmanager
def queries_sent() -> Iterator[list[QueryString]]:
    """Every statement sent to the database while it is open (every Piccolo query goes through run_querystring).

    Patched on the class (PostgresEngine instances take no new attributes) and only while open, so the
    test's other patches, such as its clock, stay in place.
    """
    engine_class = type(db.engine())
    original = engine_class.run_querystring
    sent: list[QueryString] = []

    async def recording(self, querystring, *args, **kwargs):
        sent.append(querystring)
        return await original(self, querystring, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine_class, "run_querystring", recording)
        yield sent


async def queries_for(client: httpx.AsyncClient, url: str) -> int:
    """How many statements one request sends to the database."""
    with queries_sent() as sent:
        response = await client.get(url)
    assert response.status_code == 200
    return len(sent)


async def sqlite_plan(querystring: QueryString) -> list[str]:
    """SQLite's plan for a statement, a step a line (EXPLAIN QUERY PLAN). Skips the test on PostgreSQL, which
    chooses by the tables' statistics."""
    if db.is_postgres():
        pytest.skip("SQLite's plan; PostgreSQL chooses by the tables' statistics")
    return [row["detail"] for row in await db.fetch(QueryString("EXPLAIN QUERY PLAN {}", querystring))]


def session_cookie_value(client: httpx.AsyncClient) -> Optional[str]:
    return client.cookies.get("kinward_session")


def use_session_token(client: httpx.AsyncClient, token: str) -> None:
    """Make the browser present exactly this session token (as an attacker or a stale tab would)."""
    jar = client.cookies.jar
    for cookie in list(jar):
        if cookie.name == "kinward_session":
            jar.clear(cookie.domain, cookie.path, cookie.name)
    client.cookies.set("kinward_session", token, domain="testserver.local", path="/")
