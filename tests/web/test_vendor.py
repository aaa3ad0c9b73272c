"""Vendored front-end files are exactly the pinned releases."""

import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PINNED = {"static/vendor/htmx-4.0.1.min.js": "a0abb04f2f45a1f89d1d4844023245537e5e6014c87b144553e0607b4cc32130"}


def test_vendored_htmx_matches_its_recorded_checksum():
    for path, digest in PINNED.items():
        assert hashlib.sha256((ROOT / path).read_bytes()).hexdigest() == digest
        assert digest in (ROOT / "README.md").read_text()
