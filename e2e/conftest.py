"""The real Kinward server, on a fresh database, and a Chromium to drive it.

A session fixture migrates a new database, seeds the demo facility and serves it with the `kinward`
CLI in a subprocess, exactly as `make run` does (prepared in a thread as the tests begin);
Playwright's `base_url` points at it. The database
is a temporary SQLite file, or, when KINWARD_TEST_DATABASE_URL names PostgreSQL, a database of the
same name with `_e2e` appended, dropped and created anew for each run. These tests do not use
tests/conftest.py: they only talk HTTP to the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional
from urllib.parse import urlsplit, urlunsplit

import pytest
from playwright.sync_api import Browser, BrowserType, Response
from playwright.sync_api import Error as PlaywrightError

from e2e.browser import chromium_found, launch_options
from e2e.html_check import VisitedPages
from tests.mail.smtp import Inbox, SMTPServer
from tests.processes import free_port, process_stop, until_healthy

ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 30
SECRET_KEY = "e2e-secret-key-" + "x" * 32
CHROMIUM_ARGS = [
    # Chromium's sandbox refuses to start as root, as in containers and CI.
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TABLET = {"width": 768, "height": 1024}
# The server's output is shown with a failed browser test: whether the request the browser waited for
# arrived, and how it was answered.
SERVER_LOG = pytest.StashKey[Path]()
SERVER_LOG_LINES = 40


def e2e_database_url(test_url: str, scratch: Path) -> str:
    """A temporary SQLite file, or `<name>_e2e` beside the PostgreSQL test database."""
    if not test_url.startswith(("postgresql://", "postgres://")):
        return f"sqlite:///{scratch / 'e2e.sqlite'}"
    parts = urlsplit(test_url)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_e2e"))


def postgres_database_recreate(url: str) -> None:
    import asyncpg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres"))

    async def recreate() -> None:
        connection = await asyncpg.connect(maintenance)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    # In a loop of its own: the server is prepared in a thread beside the tests, and when it is not, by the time
    # the fixture runs Playwright's sync API owns this thread's loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, recreate()).result()


class ServerFailed(Exception):
    """The demo server could not be prepared; the message holds what it printed."""


def kinward(*args: str, env: dict[str, str]) -> None:
    """Run a `kinward` CLI command from this venv; raise with its output if it fails."""
    done = subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise ServerFailed(f"kinward {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def wait_until_healthy(url: str, server: subprocess.Popen, log: Path) -> None:
    if until_healthy(url, server, seconds=STARTUP_SECONDS):
        return
    process_stop(server)
    raise ServerFailed(f"the Kinward server did not answer {url}/healthz with 200 within {STARTUP_SECONDS} s "
                       f"(exit code {server.returncode}); its output:\n{log.read_text()}")


@dataclass
class DemoServer:
    """A real Kinward server with the demo facility, and the SMTP server it sends its email to."""

    url: str
    process: subprocess.Popen
    log: Path
    mail: SMTPServer
    scratch: Path  # its SQLite database and log, removed when it stops

    def stop(self) -> None:
        _stop(self.process, self.mail, self.scratch)


def _stop(process: Optional[subprocess.Popen], mail: SMTPServer, scratch: Path) -> None:
    """The server (when started), its SMTP server and its scratch directory: stopped twice is harmless."""
    if process is not None:
        process_stop(process)
    mail.stop()
    shutil.rmtree(scratch, ignore_errors=True)


def demo_server_start(scratch: Path, environ: dict[str, str]) -> DemoServer:
    """Migrate a new database, seed the demo and serve it with the `kinward` CLI, as `make run` does.
    `environ` is this process's environment as the session began (tests under tests/ change it for a while)."""
    mail = SMTPServer()
    mail.start()
    server: Optional[subprocess.Popen] = None
    try:
        database_url = e2e_database_url(environ.get("KINWARD_TEST_DATABASE_URL", ""), scratch)
        if database_url.startswith("postgres"):
            postgres_database_recreate(database_url)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        # development: the settings of `make run`, so the login page lists the demo accounts; passwords hashed
        # with argon2id's cheapest parameters, as in the tests under tests/ (the hashing's own tests are there).
        env = {**environ, "KINWARD_DATABASE_URL": database_url, "KINWARD_ENV": "development",
               "KINWARD_PASSWORD_HASHING": "test",
               "KINWARD_SECRET_KEY": SECRET_KEY, "PYTHONUNBUFFERED": "1",
               "KINWARD_SMTP_HOST": "127.0.0.1", "KINWARD_SMTP_PORT": str(mail.port),
               "KINWARD_SMTP_STARTTLS": "no", "KINWARD_BASE_URL": url}
        kinward("migrate", env=env)
        kinward("demo", env=env)
        log = scratch / "server.log"
        # A file, not a pipe: the server logs every request, and a full pipe would stall it.
        with log.open("w") as output:
            server = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1",
                                       "--port", str(port)], cwd=ROOT, env=env, stdout=output,
                                      stderr=subprocess.STDOUT)
        wait_until_healthy(url, server, log)
    except BaseException:
        _stop(server, mail, scratch)
        raise
    return DemoServer(url=url, process=server, log=log, mail=mail, scratch=scratch)


def _stop_when_started(started: Future) -> None:
    if not started.cancelled() and started.exception() is None:
        started.result().stop()


# The demo server is prepared in a thread as the tests begin, while the tests under tests/ run first (they leave
# a core idle a third of the time): its seeding and start took 8 to 11 s of the first browser test's time.
# In a parallel run the first processes, as many as there are parts, prepare one each. Each part goes to the
# first process that is free once every other test is given out: with as many processes as parts, one to each;
# with more, a process that gets a part without a server ready starts one then, and one that prepared a server
# and ran no browser test stops it, unused, at the end of the session.
_DEMO_SERVER = pytest.StashKey[Future]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    config = session.config
    worker = getattr(config, "workerinput", {}).get("workerid", "")
    if (config.option.collectonly or (session.testsfailed and not config.option.continue_on_collection_errors)
            or (worker and int(worker.removeprefix("gw")) >= len(PARTS))
            or not any(item.nodeid.startswith("e2e/") for item in session.items)):
        return
    scratch = Path(tempfile.mkdtemp(prefix="kinward-e2e-"))
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kinward-e2e-server")
    config.stash[_DEMO_SERVER] = pool.submit(demo_server_start, scratch, dict(os.environ))
    pool.shutdown(wait=False)


def pytest_sessionfinish(session: pytest.Session) -> None:
    early = session.config.stash.get(_DEMO_SERVER, None)
    if early is not None:
        early.add_done_callback(_stop_when_started)  # now, or when a start still under way ends


@pytest.fixture(scope="session")
def demo_server(pytestconfig: pytest.Config) -> Iterator[DemoServer]:
    """The demo server for the whole session: the one prepared as the tests began, or a new one."""
    early = pytestconfig.stash.get(_DEMO_SERVER, None)
    try:
        server = (early.result() if early is not None
                  else demo_server_start(Path(tempfile.mkdtemp(prefix="kinward-e2e-")), dict(os.environ)))
    except ServerFailed as failed:
        pytest.fail(str(failed), pytrace=False)
    pytestconfig.stash[SERVER_LOG] = server.log
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mail_server(demo_server: DemoServer) -> SMTPServer:
    """A real SMTP server the Kinward server sends its email to, so a test can follow an emailed link."""
    return demo_server.mail


@pytest.fixture
def inbox(mail_server: SMTPServer) -> Inbox:
    return mail_server.inbox


@pytest.fixture(scope="session")
def kinward_server(demo_server: DemoServer) -> str:
    """The base URL of a real Kinward server with the demo facility, for the whole session."""
    return demo_server.url


@pytest.fixture(scope="session")
def base_url(kinward_server: str) -> str:
    return kinward_server


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Chromium's headless shell where there is one (e2e/browser.py says why), with the arguments above."""
    if not chromium_found():
        pytest.fail("no Chromium for the end-to-end tests: run `make browser` "
                    "(python -m e2e.browser --ensure)", pytrace=False)
    headed = browser_type_launch_args.get("headless") is False  # --headed: a window needs the whole browser
    return {**browser_type_launch_args, **launch_options(whole_browser=headed),
            "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS]}


@pytest.fixture(scope="session")
def whole_browser_launch_args(browser_type_launch_args: dict) -> dict:
    """The whole Chromium rather than its headless shell, which has no back/forward cache."""
    args = {name: value for name, value in browser_type_launch_args.items()
            if name not in ("executable_path", "channel")}
    return {**args, **launch_options(whole_browser=True)}


@pytest.fixture(scope="module")
def bfcache_browser(browser_type: BrowserType, whole_browser_launch_args: dict) -> Iterator[Browser]:
    """A Chromium with its back/forward cache on, as on a real tablet: Playwright launches Chromium with
    `--disable-back-forward-cache` among its default arguments, and this one leaves that out."""
    browser = browser_type.launch(**whole_browser_launch_args, ignore_default_args=["--disable-back-forward-cache"])
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    """A shared tablet in portrait: the device care workers use."""
    return {**browser_context_args, "viewport": TABLET}


# The browser tests come in two parts of about the same length, so that a parallel run can give each part a
# process, a server and a demo facility of its own; each part's tests stand alone from the other part's. The
# HTML validity check runs once per part, on the pages that part's tests visited.
PARTS = ("1", "2")
SECOND_PART = frozenset({"test_visits.py", "test_visit_changes.py", "test_careplans.py", "test_liaison.py",
                         "test_messages.py", "test_reviews.py"})


def part_of(nodeid: str) -> str:
    if nodeid.startswith("e2e/test_html_validity.py::test_every_page"):
        return nodeid.rsplit("[", 1)[1].rstrip("]")  # its parameter is the part it checks
    return "2" if Path(nodeid.split("::")[0]).name in SECOND_PART else "1"


@pytest.fixture(scope="session")
def visited_pages() -> dict[str, VisitedPages]:
    """Every HTML page the browser received in this run, per part, for the validity checks that run last."""
    return {part: VisitedPages() for part in PARTS}


@pytest.fixture
def context(context, visited_pages: dict[str, VisitedPages], request: pytest.FixtureRequest):
    """A local server answers within milliseconds: fail in seconds rather than Playwright's default 30."""
    context.set_default_timeout(10_000)
    pages = visited_pages[part_of(request.node.nodeid)]

    def keep(response: Response) -> None:
        if (response.request.resource_type == "document" and not 300 <= response.status < 400
                and response.headers.get("content-type", "").startswith("text/html")):
            with contextlib.suppress(PlaywrightError):  # the page was closed before its body was read
                pages.add(response.url, response.text())

    context.on("response", keep)
    return context


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """A failed browser test shows the end of its server's log beside the browser's error."""
    report = yield
    log = item.config.stash.get(SERVER_LOG, None)
    if report.failed and log is not None and log.exists():
        tail = log.read_text(errors="replace").splitlines()[-SERVER_LOG_LINES:]
        report.sections.append(("kinward server log (last lines)", "\n".join(tail)))
    return report


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """In a parallel run (`pytest -n N --dist loadgroup`, as `make test` runs), each part of the browser tests
    goes to one process, as one unit of work after all the others: its tests share that process's server and
    demo data, and its validity check reads the pages they visited. Every other test is a unit of its own."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    config.option.loadscopereorder = False  # units in collection order (not largest first): browser tests last

    class BrowserTestsTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "e2e/" + part_of(nodeid) if nodeid.startswith("e2e/") else nodeid

    return BrowserTestsTogether(config, log)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser tests run after every other test (Playwright's sync API keeps an event loop running in
    the thread, which the async tests cannot share), and the HTML validity check, which reads the pages
    every other browser test visited, runs last."""
    def place(item: pytest.Item) -> tuple[bool, str, bool]:
        browser = item.nodeid.startswith("e2e/")
        return browser, part_of(item.nodeid) if browser else "", item.nodeid.startswith("e2e/test_html_validity.py")
    items.sort(key=place)
