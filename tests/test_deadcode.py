"""No dead code in app/: vulture reads it, with what frameworks call by name set aside.

A handler (Litestar's decorators), a Piccolo column or enum member (in a tables.py), a name a
template reads, and the names in tests/deadcode_whitelist.py count as used; anything else vulture
finds unused fails here, so a function left behind by a change is removed with it.
"""

from __future__ import annotations

import re
from pathlib import Path

import vulture

ROOT = Path(__file__).resolve().parent.parent
HANDLER_DECORATORS = ["@get", "@post", "@put", "@patch", "@delete"]


def template_names() -> set[str]:
    """Every word inside `{{ }}` and `{% %}` in the templates: what Jinja reads or calls."""
    words: set[str] = set()
    for template in (ROOT / "templates").rglob("*.html"):
        for block in re.findall(r"\{[{%](.*?)[%}]\}", template.read_text(), re.S):
            words.update(re.findall(r"\w+", block))
    return words


def unused(paths: list[Path]) -> list[str]:
    check = vulture.Vulture(ignore_decorators=HANDLER_DECORATORS)
    check.scavenge([str(p) for p in paths])
    read_by_templates = template_names()
    found = []
    for item in check.get_unused_code(min_confidence=60):
        if item.typ == "variable" and Path(item.filename).name == "tables.py":
            continue  # a column Piccolo maps, or a choice of an enum stored in one
        if item.name in read_by_templates:
            continue
        found.append(item.get_report(add_size=False))
    return found


def test_app_has_no_dead_code():
    assert unused([ROOT / "app", ROOT / "tests" / "deadcode_whitelist.py"]) == []


def test_the_check_finds_a_function_nobody_calls(tmp_path):
    module = tmp_path / "feature.py"
    module.write_text("def used():\n    return 1\n\n\ndef forgotten_helper():\n    return 2\n\n\nused()\n")
    found = unused([module])
    assert len(found) == 1 and "unused function 'forgotten_helper'" in found[0]
