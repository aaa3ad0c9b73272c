"""Kinward's main pages against a floor that renders the same template, measured in one run.

    python benchmarks/pages.py [--seconds 1.5] [--scale 1] [--postgres postgresql://user@host:5432/prefix]

For each page below, on SQLite (and on PostgreSQL when --postgres or KINWARD_BENCH_POSTGRES names a
server; databases <prefix>_demo and <prefix>_scale are created there), at the demo's size and
after `kinward demo --scale N`: one `uvicorn` worker serves both Kinward and the floor; 16
keep-alive connections ask for the page for a few seconds, real and floor in alternating rounds.
Prints req/s, p50 and p99, the page/floor ratio, and p50 at scale over p50 at demo size.

The floor is the least a page can cost: the page's main query as prebuilt raw SQL, then the SAME
template rendered with the context the real page produced (so the same HTML, gzipped the same
way), with no session, authentication, policy, audit or other middleware. To add a page, add a
Page(...) to PAGES: who views it, its address and its main query. Prints only; asserts nothing.
"""



import argparse
import asyncio
import contextvars
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VAR = ROOT / "var" / "bench"
CONNECTIONS = 16
TARGET_FLOOR_RATIO = 0.5
TARGET_SCALE_RATIO = 1.2


@dataclass(frozen=True)
class Page:
    name: str
    who: str  # the demo account that views it
    path: str  # with {client}, {visit} filled from ids_for()
    floor_sql: str  # the page's main read, ? placeholders; arguments from the same ids


PAGES = (
    Page("caseload", "coordinator@kinward.example", "/caseload",
         "SELECT c.id, c.first_name, c.last_name, c.status FROM client c JOIN care_team_member t ON t.client = c.id "
         "WHERE t.user = ? AND t.until IS NULL ORDER BY c.last_name"),
    Page("client record", "coordinator@kinward.example", "/clients/{client}",
         "SELECT * FROM client WHERE id = ?"),
    Page("client thread", "coordinator@kinward.example", "/clients/{client}/messages",
         "SELECT * FROM message WHERE client = ? ORDER BY created_at DESC LIMIT 50"),
    Page("my day", "worker@kinward.example", "/my-day",
         "SELECT v.*, c.first_name, c.last_name FROM visit v JOIN client c ON c.id = v.client "
         "WHERE v.worker = ? AND v.scheduled_start >= ? AND v.scheduled_start < ? ORDER BY v.scheduled_start"),
    Page("family home", "family@kinward.example", "/family",
         "SELECT c.id, c.first_name FROM family_link f JOIN client c ON c.id = f.client WHERE f.user = ?"),
    Page("team week", "coordinator@kinward.example", "/schedule",
         "SELECT v.*, c.first_name FROM visit v JOIN client c ON c.id = v.client JOIN care_team_member t "
         "ON t.client = c.id WHERE t.user = ? AND v.scheduled_start >= ? AND v.scheduled_start < ? "
         "ORDER BY v.scheduled_start"),
    Page("visit page", "worker@kinward.example", "/visits/{visit}",
         "SELECT v.*, s.instructions, s.tasks FROM visit v JOIN care_service s ON s.id = v.service WHERE v.id = ?"),
)


def floor_arguments(page: Page, ids: dict) -> list:
    person = ids["users"][page.who]
    if page.name in ("caseload", "family home"):
        return [person]
    if page.name in ("client record", "client thread"):
        return [ids["client"]]
    if page.name == "my day":
        return [person, ids["day_start"], ids["day_end"]]
    if page.name == "team week":
        return [person, ids["week_start"], ids["week_end"]]
    return [ids["visit"]]


def demo_password(email: str) -> str:
    from app.demo import demo_password as password

    return password(email)


# --- the server: Kinward and the floor in one process -----------------------------------------

_recording: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar("bench_recording", default=None)
_recorded: dict[str, tuple[str, dict, Any]] = {}


def serve(url: str, port: int) -> None:
    """One uvicorn worker: /__floor/<page> is the floor, everything else is Kinward."""
    import uvicorn
    from litestar import Litestar, Request, get
    from litestar.config.compression import CompressionConfig
    from litestar.response import Template
    from litestar.response import template as template_module

    from app.main import COMPRESS_MIN_BYTES, create_app
    from app.settings import Settings
    from app.web.templating import template_config

    os.environ["KINWARD_DATABASE_URL"] = url
    kinward = create_app(Settings.from_env())
    original_init = template_module.Template.__init__

    def recording_init(self, template_name=None, *args, **kwargs):
        name = _recording.get()
        if name is not None:
            _recorded[name] = (template_name, kwargs.get("context") or {}, None)
        original_init(self, template_name, *args, **kwargs)

    template_module.Template.__init__ = recording_init  # type: ignore[method-assign]
    run_sql = _raw_reader(url)

    @get("/__floor/{name:str}")
    async def floor(request: Request, name: str) -> Template:
        template_name, context, user = _recorded[name]
        request.scope["user"] = user
        await run_sql(request.query_params.get("sql", ""), request.query_params.getall("arg", []))
        return Template(template_name, context=context)

    floor_app = Litestar(route_handlers=[floor], template_config=template_config(),
                         compression_config=CompressionConfig(backend="gzip", minimum_size=COMPRESS_MIN_BYTES),
                         openapi_config=None)

    async def app(scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith("/__floor/"):
            name = scope["path"].removeprefix("/__floor/")
            entry = _recorded.get(name.replace("%20", " "))
            if entry is None:
                await send({"type": "http.response.start", "status": 404, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
            return await floor_app(scope, receive, send)
        if scope["type"] == "http":
            for key, value in scope.get("headers", ()):
                if key == b"x-bench-record":
                    token = _recording.set(value.decode())
                    try:
                        async def capture_user(message, _send=send, _scope=scope):
                            if message["type"] == "http.response.start":
                                name = value.decode()
                                if name in _recorded:
                                    t, c, _ = _recorded[name]
                                    _recorded[name] = (t, c, _scope.get("user"))
                            await _send(message)

                        return await kinward(scope, receive, capture_user)
                    finally:
                        _recording.reset(token)
        return await kinward(scope, receive, send)

    uvicorn.run(app, host="127.0.0.1", port=port, workers=1, log_level="warning", access_log=False, lifespan="on")


def _raw_reader(url: str):
    """The floor's read: prebuilt SQL with bound values, straight to the driver."""
    if url.startswith("sqlite:///"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"), check_same_thread=False)

        async def run_sqlite(sql: str, args: list) -> list:
            return connection.execute(sql, [_typed(a) for a in args]).fetchall()

        return run_sqlite
    import asyncpg

    pool: dict[str, Any] = {}

    async def run_postgres(sql: str, args: list) -> list:
        if "pool" not in pool:
            pool["pool"] = await asyncpg.create_pool(url, min_size=1, max_size=4)
        n = iter(range(1, 100))
        statement = re.sub(r"\?", lambda _m: f"${next(n)}", sql).replace("t.user", 't."user"').replace(
            "f.user", 'f."user"')
        return await pool["pool"].fetch(statement, *[_typed(a, postgres=True) for a in args])

    return run_postgres


def _typed(value: str, postgres: bool = False):
    from datetime import datetime

    if value.isdigit():
        return int(value)
    if postgres and "T" in value:
        return datetime.fromisoformat(value)
    return value


# --- the driver -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(url: str, *args: str) -> str:
    env = {**os.environ, "KINWARD_DATABASE_URL": url, "KINWARD_ENV": "production",
           "KINWARD_SECRET_KEY": "benchmark-secret-" + "x" * 32}
    done = subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"kinward {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def prepare(url: str, scale: int) -> None:
    """A database with the demo (and the scale data): built once, reused by later runs."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if path.exists():
            run_cli(url, "migrate")  # built by an earlier run: brought up to date
            return
        path.parent.mkdir(parents=True, exist_ok=True)
    else:
        import asyncpg

        async def create() -> bool:
            name = url.rsplit("/", 1)[1]
            admin = await asyncpg.connect(url.rsplit("/", 1)[0] + "/postgres")
            try:
                if await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                    return False
                await admin.execute(f'CREATE DATABASE "{name}"')
                return True
            finally:
                await admin.close()

        if not asyncio.run(create()):
            run_cli(url, "migrate")
            return
    started = time.monotonic()
    run_cli(url, "migrate")
    run_cli(url, "demo")
    if scale:
        print(run_cli(url, "demo", "--scale", str(scale)).strip().splitlines()[-1])
    print(f"  prepared {url} in {time.monotonic() - started:.0f} s")


async def load(port: int, path: str, headers: dict[str, str], seconds: float) -> tuple[list[float], float]:
    """16 keep-alive connections asking for `path` for `seconds`; the latency of every answer."""
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip\r\n"
               + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    failures = {"n": 0}

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = re.search(rb"(?i)content-length: *(\d+)", head)
                if length:
                    await reader.readexactly(int(length.group(1)))
                else:  # chunked
                    while True:
                        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                        await reader.readexactly(size + 2)
                        if size == 0:
                            break
                if status != 200:
                    failures["n"] += 1
                latencies.append(time.perf_counter() - began)
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(CONNECTIONS)))
    if failures["n"]:
        print(f"    ! {failures['n']} answers other than 200 for {path}")
    return latencies, time.perf_counter() - began


def summary(latencies: list[float], seconds: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {"rps": len(ordered) / seconds, "p50": statistics.median(ordered) * 1000,
            "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000}


async def measure(url: str, seconds: float, rounds: int) -> dict[str, dict[str, dict[str, float]]]:
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", url, str(port)], cwd=ROOT,
                              env={**os.environ, "KINWARD_DATABASE_URL": url, "KINWARD_ENV": "production",
                                   "KINWARD_SECRET_KEY": "benchmark-secret-" + "x" * 32,
                                   "FORWARDED_ALLOW_IPS": "127.0.0.1"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    from app import db

    db.configure(url)
    try:
        import httpx

        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit("the benchmark server did not start")
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        # Production cookies are Secure __Host- ones; the benchmark speaks plain HTTP, so it reads them itself.
        cookies = {email: await sign_in_cookie(base, email) for email in {p.who for p in PAGES}}
        ids = await ids_for_production(base, cookies)
        results: dict[str, dict[str, dict[str, float]]] = {}
        for page in PAGES:
            path = page.path.format(**ids)
            headers = {"Cookie": f"__Host-kinward_session={cookies[page.who]}"}
            async with httpx.AsyncClient(base_url=base) as c:
                warm = await c.get(path, headers={**headers, "x-bench-record": page.name})
                if warm.status_code != 200:
                    print(f"    ! {page.name}: {warm.status_code}")
                    continue
            args = floor_arguments(page, {**ids, "users": ids["users"]})
            from urllib.parse import urlencode

            floor_path = f"/__floor/{page.name.replace(' ', '%20')}?" + urlencode(
                [("sql", page.floor_sql)] + [("arg", str(a)) for a in args])
            real, floor, real_time, floor_time = [], [], 0.0, 0.0
            for _ in range(rounds):
                latencies, elapsed = await load(port, path, headers, seconds)
                real, real_time = real + latencies, real_time + elapsed
                latencies, elapsed = await load(port, floor_path, {}, seconds)
                floor, floor_time = floor + latencies, floor_time + elapsed
            results[page.name] = {"page": summary(real, real_time), "floor": summary(floor, floor_time)}
        return results
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


async def sign_in_cookie(base: str, email: str) -> str:
    """Sign in over plain HTTP against a production-mode server (its cookies say Secure)."""
    import httpx

    async with httpx.AsyncClient(base_url=base) as browser:
        login = await browser.get("/login")
        csrf = re.search(r"__Host-csrftoken=([^;]+)", login.headers.get("set-cookie", "")).group(1)
        answer = await browser.post("/login", data={"_csrf_token": csrf, "email": email,
                                                    "password": demo_password(email)},
                                    headers={"Cookie": f"__Host-csrftoken={csrf}"})
        if answer.status_code != 303:
            sys.exit(f"sign-in of {email} failed: {answer.status_code}")
        return re.search(r"__Host-kinward_session=([^;]+)", answer.headers["set-cookie"]).group(1)


async def ids_for_production(base: str, cookies: dict[str, str]) -> dict:
    import httpx
    from datetime import datetime, timedelta, timezone

    ids: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=base) as c:
        home = (await c.get("/family", headers={"Cookie": f"__Host-kinward_session={cookies['family@kinward.example']}"})).text
        ids["client"] = int(re.search(r"/clients/(\d+)", home).group(1))
        day = (await c.get("/my-day", headers={"Cookie": f"__Host-kinward_session={cookies['worker@kinward.example']}"})).text
        ids["visit"] = int(re.search(r"/visits/(\d+)", day).group(1))
    now = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    ids["day_start"], ids["day_end"] = now.isoformat(), (now + timedelta(days=1)).isoformat()
    monday = now - timedelta(days=now.weekday())
    ids["week_start"], ids["week_end"] = monday.isoformat(), (monday + timedelta(days=7)).isoformat()
    ids["users"] = await user_ids()
    return ids


async def user_ids() -> dict[str, int]:
    from app import db
    from app.accounts.tables import User

    await db.start()
    try:
        return {r["email"]: r["id"] for r in await User.select(User.id, User.email).where(
            User.email.like("%@kinward.example")).run()}
    finally:
        await db.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=1.5, help="per round, per page, real and floor each")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--postgres", default=os.environ.get("KINWARD_BENCH_POSTGRES", ""),
                        help="postgresql://user@host:port/prefix: <prefix>_demo and <prefix>_scale are used")
    parser.add_argument("--only", default="", help="sqlite or postgresql")
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    engines = {"SQLite": lambda size: f"sqlite:///{VAR / f'{size}.sqlite'}"}
    if args.postgres:
        engines["PostgreSQL"] = lambda size: f"{args.postgres}_{size}"
    if args.only:
        engines = {k: v for k, v in engines.items() if k.lower().startswith(args.only.lower())}
    print(f"{CONNECTIONS} connections, one uvicorn worker, {args.rounds} x {args.seconds} s per page and floor; "
          f"{os.cpu_count()} cores")
    for engine, url_of in engines.items():
        by_size = {}
        for size, scale in (("demo", 0), ("scale", args.scale)):
            url = url_of(size)
            prepare(url, scale)
            by_size[size] = asyncio.run(measure(url, args.seconds, args.rounds))
        report(engine, by_size)


def report(engine: str, by_size: dict) -> None:
    print(f"\n{engine}")
    print(f"{'page':14} {'size':6} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} | {'floor/s':>7} {'p50 ms':>7} "
          f"{'p99 ms':>7} | {'page/floor':>10} {'p50 scale/demo':>14}")
    for name in [p.name for p in PAGES]:
        for size in ("demo", "scale"):
            r = by_size[size].get(name)
            if r is None:
                continue
            page, floor = r["page"], r["floor"]
            ratio = page["rps"] / floor["rps"] if floor["rps"] else 0
            scaled = ""
            if size == "scale" and name in by_size["demo"]:
                scaled = f"{page['p50'] / by_size['demo'][name]['page']['p50']:.2f}x"
            flag = "" if ratio >= TARGET_FLOOR_RATIO else " <"
            print(f"{name:14} {size:6} {page['rps']:7.0f} {page['p50']:7.1f} {page['p99']:7.1f} | "
                  f"{floor['rps']:7.0f} {floor['p50']:7.1f} {floor['p99']:7.1f} | {ratio:9.2f}x{flag:2} {scaled:>12}")


if __name__ == "__main__":
    main()
