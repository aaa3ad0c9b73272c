"""A Chromium for the end-to-end tests: Playwright's own where it can be downloaded, otherwise the system's.

`python -m e2e.browser --ensure` makes sure one exists (installing it when it can) and says which;
the e2e conftest asks `chromium_executable()` which one to launch.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional, Sequence

# Debian's package `chromium` installs /usr/bin/chromium; Ubuntu's snap and other distributions
# use other names.
SYSTEM_CHROMIUM_NAMES = ("chromium", "chromium-browser")
SYSTEM_CHROMIUM_PATHS = ("/usr/bin/chromium",)


# Asked in a child process: the sync API refuses to start inside a running Playwright or asyncio
# loop, which is where the e2e fixtures ask.
_PROBE = (
    "from playwright.sync_api import sync_playwright\n"
    "with sync_playwright() as playwright:\n"
    "    print(playwright.chromium.executable_path)\n"
)


def playwright_chromium() -> Optional[str]:
    """The path of Playwright's own Chromium when it has been downloaded, else None."""
    probe = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=False)
    path = probe.stdout.strip()
    return path if probe.returncode == 0 and path and Path(path).is_file() else None


def system_chromium() -> Optional[str]:
    for candidate in SYSTEM_CHROMIUM_PATHS:
        if os.access(candidate, os.X_OK):
            return candidate
    for name in SYSTEM_CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@functools.lru_cache(maxsize=1)
def _choice() -> tuple[bool, Optional[str]]:
    """(found, path): path None means Playwright's own Chromium."""
    if playwright_chromium():
        return True, None
    system = system_chromium()
    return (system is not None), system


def chromium_executable() -> Optional[str]:
    """The Chromium to launch: None means Playwright's own (also when none is found: Playwright then says so)."""
    return _choice()[1]


def chromium_found() -> bool:
    return _choice()[0]


def _is_debian_like() -> bool:
    try:
        release = Path("/etc/os-release").read_text()
    except OSError:
        return False
    fields = dict(line.split("=", 1) for line in release.splitlines() if "=" in line)
    names = {fields.get("ID", "").strip('"')} | set(fields.get("ID_LIKE", "").strip('"').split())
    return bool(names & {"debian", "ubuntu"})


def _run(command: list[str]) -> bool:
    print("e2e.browser: running", " ".join(command), flush=True)
    return subprocess.run(command, check=False).returncode == 0


def ensure() -> int:
    """Find or install a Chromium; 0 when there is one to use."""
    own = playwright_chromium()
    if own:
        print(f"e2e.browser: using Playwright's Chromium at {own}")
        return 0
    system = system_chromium()
    if system:
        print(f"e2e.browser: using the system's Chromium at {system}")
        return 0
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get") and _is_debian_like():
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        print("e2e.browser: no Chromium found; installing the distribution's package `chromium`", flush=True)
        if (subprocess.run(["apt-get", "update"], env=env, check=False).returncode == 0
                and subprocess.run(["apt-get", "install", "-y", "chromium"], env=env, check=False).returncode == 0):
            system = system_chromium()
            if system:
                print(f"e2e.browser: using the system's Chromium at {system}")
                return 0
    if _run([sys.executable, "-m", "playwright", "install", "chromium"]):
        own = playwright_chromium()
        if own:
            print(f"e2e.browser: using Playwright's Chromium at {own}")
            return 0
    print(
        "e2e.browser: no Chromium for the end-to-end tests. Neither Playwright's own browser "
        "(`python -m playwright install chromium`) nor a system Chromium (Debian/Ubuntu: "
        "`apt-get install chromium`) could be found or installed; install one of them and retry.",
        file=sys.stderr,
    )
    return 1


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m e2e.browser", description=__doc__.splitlines()[0])
    parser.add_argument("--ensure", action="store_true", help="find or install a Chromium for Playwright")
    args = parser.parse_args(argv)
    if args.ensure:
        return ensure()
    path = chromium_executable()
    print(path or "Playwright's own Chromium")
    return 0 if chromium_found() else 1


if __name__ == "__main__":
    sys.exit(main())
