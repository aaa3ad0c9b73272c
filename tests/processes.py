"""Stopping a server process that a test, a browser test or a benchmark started."""

from __future__ import annotations

import subprocess


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
