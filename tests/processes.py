"""Server processes that a test, a browser test or a benchmark starts: free ports for them, waiting until they
answer, and stopping them."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import urllib.error
import urllib.request


def free_ports(count: int) -> list[int]:
    """Ports nothing listens on, all different: each is held until all are found (servers started side by side
    would otherwise be given the same one, and one of them answer for both)."""
    with contextlib.ExitStack() as held:
        ports = []
        for _ in range(count):
            sock = held.enter_context(socket.socket())
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
        return ports


def free_port() -> int:
    return free_ports(1)[0]


def process_stop(process: subprocess.Popen, *, timeout: float = 10) -> None:
    """Ask it to stop (SIGTERM, so it shuts down as it would under a supervisor); kill it if it has not
    within `timeout` seconds. Stopping one that has already ended does nothing."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def until_healthy(url: str, process: subprocess.Popen, *, seconds: float) -> bool:
    """Wait until the `kinward serve` at `url` answers /healthz with 200: True; False if its process ends or
    `seconds` pass first (the caller stops it and says why)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200 and process.poll() is None:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    return False
