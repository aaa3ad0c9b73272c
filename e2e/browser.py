"""A Chromium for the end-to-end tests: Playwright's own where it can be downloaded, otherwise the system's.

`python -m e2e.browser --ensure` makes sure one exists (installing it when it can) and says which;
the e2e conftest asks `launch_options()` how to launch it.

Two builds of the same Chromium serve the tests. Most tests run in the headless shell, Chromium without
its desktop shell, which does the same page work with about a third less CPU than the whole browser
in headless mode (measured: the foundation's browser tests 42 s against 27 s); Playwright's own download
launches it for headless runs by itself, and Debian ships it as `chromium-headless-shell`. The tests of
the back/forward cache need the whole browser: the headless shell has no such cache.
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
# use other names. Debian's `chromium-headless-shell` installs the headless shell beside it.
SYSTEM_CHROMIUM_NAMES = ("chromium", "chromium-browser")
SYSTEM_CHROMIUM_PATHS = ("/usr/bin/chromium",)
SYSTEM_SHELL_NAMES = ("chromium-headless-shell",)
SYSTEM_PACKAGES = ("chromium", "chromium-headless-shell")


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


def _system(paths: Sequence[str], names: Sequence[str]) -> Optional[str]:
    for candidate in paths:
        if os.access(candidate, os.X_OK):
            return candidate
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


def system_chromium() -> Optional[str]:
    return _system(SYSTEM_CHROMIUM_PATHS, SYSTEM_CHROMIUM_NAMES)


def system_headless_shell() -> Optional[str]:
    return _system((), SYSTEM_SHELL_NAMES)


@functools.lru_cache(maxsize=1)
def _choice() -> tuple[bool, Optional[str]]:
    """(found, path of the whole browser): path None means Playwright's own Chromium."""
    if playwright_chromium():
        return True, None
    system = system_chromium()
    return (system is not None), system


def chromium_found() -> bool:
    return _choice()[0]


def launch_options(*, whole_browser: bool = False) -> dict:
    """How Playwright launches the tests' Chromium: the headless shell where there is one, or with
    `whole_browser` the whole browser (for the back/forward cache)."""
    found, system = _choice()
    if not found or system is None:
        # Playwright's own: headless runs take its headless shell; the channel asks for the whole browser.
        return {"channel": "chromium"} if whole_browser else {}
    shell = None if whole_browser else system_headless_shell()
    return {"executable_path": shell or system}


def _is_debian_like() -> bool:
    try:
        release = Path("/etc/os-release").read_text()
    except OSError:
        return False
    fields = dict(line.split("=", 1) for line in release.splitlines() if "=" in line)
    names = {fields.get("ID", "").strip('"')} | set(fields.get("ID_LIKE", "").strip('"').split())
    return bool(names & {"debian", "ubuntu"})


def _run(command: list[str], env: Optional[dict] = None) -> bool:
    print("e2e.browser: running", " ".join(command), flush=True)
    return subprocess.run(command, env=env, check=False).returncode == 0


def _can_apt_install() -> bool:
    return bool(hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get") and _is_debian_like())


def _apt_knows(package: str) -> bool:
    """Whether the package lists, as they are, offer the package (no `apt-get update`)."""
    shown = subprocess.run(["apt-cache", "policy", package], capture_output=True, text=True, check=False,
                           env={**os.environ, "LC_ALL": "C"})  # its words are translated otherwise
    return shown.returncode == 0 and "Candidate:" in shown.stdout and "Candidate: (none)" not in shown.stdout


def _apt_install(packages: Sequence[str], *, update: bool = True) -> bool:
    """Install the distribution's packages (Debian or Ubuntu, as root); True if done."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", *packages]
    return _run(install, env) or (update and _run(["apt-get", "update"], env) and _run(install, env))


def _say_system() -> None:
    shell = system_headless_shell()
    print(f"e2e.browser: using the system's Chromium at {system_chromium()}"
          + (f" and its headless shell at {shell}" if shell else
             " (no headless shell: every test runs in the whole browser, which is slower)"))


def ensure() -> int:
    """Find or install a Chromium; 0 when there is one to use."""
    own = playwright_chromium()
    if own:
        print(f"e2e.browser: using Playwright's Chromium at {own}")
        return 0
    if system_chromium():
        # The headless shell is a saving, not a need: installed only where the package lists offer it, so a
        # machine without it does not update its lists on every run.
        if not system_headless_shell() and _can_apt_install() and _apt_knows(SYSTEM_PACKAGES[1]):
            print("e2e.browser: installing the distribution's package `chromium-headless-shell`", flush=True)
            _apt_install(SYSTEM_PACKAGES[1:], update=False)
        _say_system()
        return 0
    if _can_apt_install():
        print("e2e.browser: no Chromium found; installing the distribution's packages "
              + ", ".join(f"`{name}`" for name in SYSTEM_PACKAGES), flush=True)
        if _apt_install(SYSTEM_PACKAGES) or _apt_install(SYSTEM_PACKAGES[:1], update=False):
            if system_chromium():
                _say_system()
                return 0
    if _run([sys.executable, "-m", "playwright", "install", "chromium"]):
        own = playwright_chromium()
        if own:
            print(f"e2e.browser: using Playwright's Chromium at {own}")
            return 0
    print(
        "e2e.browser: no Chromium for the end-to-end tests. Neither Playwright's own browser "
        "(`python -m playwright install chromium`) nor a system Chromium (Debian/Ubuntu: "
        "`apt-get install chromium chromium-headless-shell`) could be found or installed; install one of them "
        "and retry.",
        file=sys.stderr,
    )
    return 1


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m e2e.browser", description=__doc__.splitlines()[0])
    parser.add_argument("--ensure", action="store_true", help="find or install a Chromium for Playwright")
    args = parser.parse_args(argv)
    if args.ensure:
        return ensure()
    for what, options in (("most tests", launch_options()),
                          ("the back/forward cache's tests", launch_options(whole_browser=True))):
        own = "Playwright's own Chromium" + (f" (channel {options['channel']})" if "channel" in options else "")
        print(f"{what}: {options.get('executable_path') or own}")
    return 0 if chromium_found() else 1


if __name__ == "__main__":
    sys.exit(main())
