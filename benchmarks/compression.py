"""gzip or brotli for Kinward's answers: bytes on the wire and the server's CPU per answer, measured in one run.

    python benchmarks/compression.py

Renders the main pages of the demo (a throwaway copy of var/bench/demo.sqlite, built by
benchmarks/pages.py) and reads the static files, then compresses each as Litestar's compression
middleware does for the settings compared (gzip level 6, Kinward's; brotli at Litestar's default
quality 5 and at 4). Prints sizes and the median time per answer. Prints only; asserts nothing.
Needs the `brotli` package (`pip install brotli`), which Kinward itself does not use.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = (("coordinator@kinward.example", "/caseload"), ("coordinator@kinward.example", "/clients/1"),
         ("worker@kinward.example", "/my-day"), ("family@kinward.example", "/family"),
         ("coordinator@kinward.example", "/schedule"), ("coordinator@kinward.example", "/dashboard"))
STATIC = ("vendor/htmx-4.0.1.min.js", "css/kinward.css", "js/kinward.js")


def gzip6(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # as Litestar's gzip facade
    return compressor.compress(data) + compressor.flush()


def brotli_at(quality: int):
    import brotli

    def compress(data: bytes) -> bytes:
        compressor = brotli.Compressor(quality=quality, mode=brotli.MODE_TEXT, lgwin=22, lgblock=0)
        return compressor.process(data) + compressor.finish()

    return compress


async def rendered_pages(url: str) -> dict[str, bytes]:
    import httpx

    from app import db
    from app.accounts.tables import User
    from app.main import create_app
    from app.settings import Settings
    from app.web.sessions import session_create

    logging.disable(logging.CRITICAL)
    app = create_app(Settings(database_url=url, env="test", secret_key="x" * 40))
    await db.start()
    bodies = {}
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as browser:
            for email, path in PAGES:
                user = await User.select(User.id).where(User.email == email).first().run()
                token = await session_create(user_id=user["id"], absolute_hours=8)
                answer = await browser.get(path, headers={"Cookie": f"kinward_session={token}",
                                                          "Accept-Encoding": "identity"})
                bodies[path] = answer.content
    finally:
        await db.stop()
    return bodies


def main() -> None:
    source = ROOT / "var" / "bench" / "demo.sqlite"
    if not source.exists():
        sys.exit("run benchmarks/pages.py once first: it builds var/bench/demo.sqlite")
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "demo.sqlite"
        shutil.copy(source, copy)
        bodies = asyncio.run(rendered_pages(f"sqlite:///{copy}"))
    for name in STATIC:
        bodies[name] = (ROOT / "static" / name).read_bytes()
    codecs = {"gzip 6": gzip6, "brotli 5": brotli_at(5), "brotli 4": brotli_at(4)}
    print(f"{'answer':22} {'raw KB':>7} | " + " | ".join(f"{name:>18}" for name in codecs))
    print(f"{'':22} {'':>7} | " + " | ".join(f"{'KB':>8} {'ms':>9}" for _ in codecs))
    totals = {name: [0, 0.0] for name in codecs}
    for name, body in bodies.items():
        cells = []
        for codec, compress in codecs.items():
            times = []
            for _ in range(30):
                began = time.perf_counter()
                out = compress(body)
                times.append(time.perf_counter() - began)
            ms = statistics.median(times) * 1000
            totals[codec][0] += len(out)
            totals[codec][1] += ms
            cells.append(f"{len(out) / 1024:8.1f} {ms:9.2f}")
        print(f"{name:22} {len(body) / 1024:7.1f} | " + " | ".join(cells))
    print(f"{'all':22} {sum(len(b) for b in bodies.values()) / 1024:7.1f} | "
          + " | ".join(f"{t[0] / 1024:8.1f} {t[1]:9.2f}" for t in totals.values()))


if __name__ == "__main__":
    os.environ.setdefault("KINWARD_ENV", "test")
    main()
