"""The house stands one way: features import only features below them (docs/architecture.md).

The import graph is read from the source with `ast` (imports inside functions count too), so
a lazy import cannot hide a dependency against the order.
"""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"

# Features from the bottom up: each may import the ones before it, never the ones after it.
# A new feature takes its place here (liaison, reviews and reports go after tablets), and
# `pages`, which composes several features into one page, stays last.
FEATURES = ["accounts", "clients", "careplans", "visits", "messages", "tablets", "liaison", "reviews", "reports",
            "records", "pages"]

# What every feature uses; it imports no feature, except who the people are (accounts' tables
# and reads: the policy's roles, the sessions' rows, the audit page's names).
BASE = {"clock", "i18n", "errors", "settings", "db", "policy", "audit", "mail", "web"}
BASE_MAY_IMPORT = {"app.accounts.tables", "app.accounts.queries"}

# Where the app is put together: it may import anything, and nothing else imports it.
ASSEMBLY = {"main", "cli", "demo", "demo_scale", "piccolo_app", "migrations_state", "health", "wiring"}
# The engine binds every table to itself when it is configured.
ASSEMBLY_IMPORTED_BY = {("app.db.binding", "app.piccolo_app")}


def module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "app":
                found.update(f"app.{alias.name}" for alias in node.names)
            elif node.module.startswith("app."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("app."))
    return found


def import_graph() -> dict[str, set[str]]:
    return {module_name(path): imports_of(path) for path in sorted(APP.rglob("*.py"))}


def area(module: str) -> str:
    """The feature, base piece or assembly module a module belongs to: `app.visits.queries` -> `visits`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def problems(graph: dict[str, set[str]]) -> list[str]:
    found = []
    known = set(FEATURES) | BASE | ASSEMBLY
    for module, targets in graph.items():
        source = area(module)
        if source and source not in known:
            found.append(f"{module}: app/{source} is in no layer; add it to FEATURES in order")
        for target in sorted(targets):
            other = area(target)
            if other == source or not other:
                continue
            if other in ASSEMBLY and source not in ASSEMBLY and (module, target) not in ASSEMBLY_IMPORTED_BY:
                found.append(f"{module} imports {target}: only the assembly imports the assembly")
            elif source in BASE and other in FEATURES and target not in BASE_MAY_IMPORT:
                found.append(f"{module} imports {target}: what every feature uses imports no feature")
            elif source in FEATURES and other in FEATURES and FEATURES.index(other) > FEATURES.index(source):
                found.append(f"{module} imports {target}: against the order {' -> '.join(FEATURES)}")
    return found


def feature_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Cycles between features in the package graph (depth-first search, each cycle once)."""
    edges: dict[str, set[str]] = {name: set() for name in FEATURES}
    for module, targets in graph.items():
        if area(module) in edges:
            edges[area(module)].update(area(t) for t in targets if area(t) in edges and area(t) != area(module))
    cycles, done = [], set()

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(edges[node]):
            if nxt in path:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in done:
                visit(nxt, path + [nxt])
        done.add(node)

    for name in FEATURES:
        if name not in done:
            visit(name, [name])
    return cycles


def test_every_import_follows_the_order_of_features():
    assert problems(import_graph()) == []


def test_no_cycle_between_features():
    assert feature_cycles(import_graph()) == []


def test_the_check_sees_an_import_against_the_order_and_a_cycle():
    """The rule itself can fail: a clients module reading visits is caught, and so is the cycle."""
    graph = {"app.clients.queries": {"app.visits.queries"}, "app.visits.queries": {"app.clients.queries"},
             "app.web.auth": {"app.tablets.queries"}, "app.accounts.controller": {"app.demo"}}
    found = problems(graph)
    assert any(line.startswith("app.clients.queries imports app.visits.queries") for line in found)
    assert any(line.startswith("app.web.auth imports app.tablets.queries") for line in found)
    assert any(line.startswith("app.accounts.controller imports app.demo") for line in found)
    assert feature_cycles(graph) == [["clients", "visits", "clients"]]


def test_the_graph_reads_lazy_imports_inside_functions():
    graph = import_graph()
    assert "app.piccolo_app" in graph["app.db.binding"]  # imported inside configure()
