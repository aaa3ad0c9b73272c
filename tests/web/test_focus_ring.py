"""The focus ring stands out by at least 3:1 (WCAG 2.2, 1.4.11) on every background Kinward paints."""

from __future__ import annotations

import re
from pathlib import Path

CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "kinward.css"


def colours() -> dict[str, str]:
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6});", CSS.read_text()))


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_one_of_the_two_rings_differs_by_three_to_one_from_each_background():
    c = colours()
    for background in ("paper", "wash", "brand", "brand-dark", "danger"):
        best = max(contrast(c["focus-ink"], c[background]), contrast(c["focus"], c[background]))
        assert best >= 3, background


def test_every_focus_rule_draws_both_rings():
    rules = re.findall(r"([^{}]*:focus(?:-visible)?[^{}]*)\{([^}]*)\}", CSS.read_text())
    drawn = [body for selector, body in rules if "outline" in body and "none" not in body]
    assert drawn and all("var(--focus-ink)" in body and "var(--focus)" in body for body in drawn)
