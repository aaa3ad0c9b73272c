"""Does a heavy read stall every other request? A small page's latency alone, then while the dashboard
(a year of figures for the whole facility, at `kinward demo --scale` size) is asked for again and again.

    python benchmarks/loop_stall.py [--seconds 5] [--postgres postgresql://user@host:5432/prefix]

One uvicorn worker serves the scale database built by benchmarks/pages.py (built here if missing).
4 keep-alive connections ask for the small page (the agencies list) for a few seconds; then the same
while 2 more connections keep asking for /dashboard?weeks=52 as the admin. Prints p50 and p99 of the
small page in both phases and how long each dashboard took. Prints only; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pages  # noqa: E402  (the page benchmark's server, sign-in and load generator)

SMALL = "/agencies"
HEAVY = "/dashboard?weeks=52"


async def timed_loop(port: int, path: str, headers: dict, stop: asyncio.Event, latencies: list[float]) -> None:
    """One keep-alive connection asking for `path` until `stop` is set."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip\r\n"
               + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()
    try:
        while not stop.is_set():
            began = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(pages.re.search(rb"(?i)content-length: *(\d+)", head).group(1))
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - began)
    finally:
        writer.close()


async def phase(port: int, cookies: dict, seconds: float, heavy: bool) -> tuple[list[float], list[float]]:
    small: list[float] = []
    dashboards: list[float] = []
    stop = asyncio.Event()
    coordinator = {"Cookie": cookies["coordinator@kinward.example"]}
    admin = {"Cookie": cookies["admin@kinward.example"]}
    tasks = [asyncio.create_task(timed_loop(port, SMALL, coordinator, stop, small)) for _ in range(4)]
    if heavy:
        tasks += [asyncio.create_task(timed_loop(port, HEAVY, admin, stop, dashboards)) for _ in range(2)]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks)
    return small, dashboards


def quantiles(latencies: list[float]) -> str:
    if not latencies:
        return "no answers"
    ordered = sorted(latencies)
    p50 = ordered[len(ordered) // 2] * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    return f"{len(ordered):5d} answers  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  max {ordered[-1] * 1000:7.1f} ms"


async def measure(url: str, seconds: float) -> None:
    port = pages.free_port()
    server = subprocess.Popen([sys.executable, pages.__file__, "--serve", url, str(port)], cwd=pages.ROOT,
                              env={**os.environ, "KINWARD_DATABASE_URL": url, "KINWARD_ENV": "production",
                                   "KINWARD_SECRET_KEY": "benchmark-secret-" + "x" * 32},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import httpx

        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit("the benchmark server did not start")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        base = f"http://127.0.0.1:{port}"
        cookies = {e: await pages.sign_in_cookie(base, e) for e in ("coordinator@kinward.example", "admin@kinward.example")}
        await phase(port, cookies, 1.0, heavy=True)  # warm: templates compiled, caches filled
        alone, _ = await phase(port, cookies, seconds, heavy=False)
        busy, dashboards = await phase(port, cookies, seconds, heavy=True)
        print(f"  {SMALL} alone:            {quantiles(alone)}")
        print(f"  {SMALL} while dashboards: {quantiles(busy)}")
        print(f"  {HEAVY}:       {quantiles(dashboards)}")
    finally:
        pages.stop_serving(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--postgres", default=os.environ.get("KINWARD_BENCH_POSTGRES", ""))
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    engines = {"SQLite": f"sqlite:///{pages.VAR / 'scale.sqlite'}"}
    if args.postgres:
        engines["PostgreSQL"] = f"{args.postgres}_scale"
    for engine, url in engines.items():
        if args.only and not engine.lower().startswith(args.only.lower()):
            continue
        pages.prepare(url, args.scale)
        print(f"{engine}, scale {args.scale}, one uvicorn worker, {os.cpu_count()} cores")
        asyncio.run(measure(url, args.seconds))


if __name__ == "__main__":
    main()
