"""The package layout holds: no import cycle between packages, domain packages in a strict order,
and no domain package reaching up into Flask or the HTTP layer.

Imports are read statically (ast), so a lazy import inside a function counts as much as one at the
top of a module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "marketplace"

# Modules every package may use; they import only each other.
SHARED = ("i18n", "errors", "db", "countries", "pagination", "spreadsheet_csv")
# Domain packages and the flows above them, bottom up: each imports only those before it.
LAYERS = (
    "accounts",
    "money",
    "catalogue",
    "customs",
    "orders",
    "payments",
    "checkout",
    "paperwork",
)
# Above every domain: the demo loaders, reference-data loading, the model registry, the command
# line, the HTTP layer and the app factory (the package's own __init__).
TOP = ("demo", "reference", "models", "cli", "api", "marketplace")
# What a domain or shared package must never import.
FORBIDDEN = ("flask", "flask_smorest", "flask_cors", "flask_limiter", "werkzeug", "marketplace.api")


def _module_name(path: Path) -> str:
    parts = ("marketplace", *path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _unit(module: str) -> str:
    """The package (or top-level module) of marketplace a module belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "marketplace"


def _imports(path: Path, module: str) -> Iterator[str]:
    """Every module named by an import statement of the file `module`, relative ones resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            yield name
            # `from marketplace import pagination` imports the module marketplace.pagination
            yield from (f"{name}.{alias.name}" for alias in node.names)


def _units() -> set[str]:
    """Every package and top-level module of marketplace, and the app factory itself."""
    packages = {p.name for p in ROOT.iterdir() if p.is_dir() and any(p.rglob("*.py"))}
    modules = {p.stem for p in ROOT.glob("*.py") if p.name != "__init__.py"}
    return packages | modules | {"marketplace"}


def import_graph() -> dict[str, set[str]]:
    """Package -> the other marketplace packages it imports."""
    units = _units()
    graph: dict[str, set[str]] = {unit: set() for unit in units}
    for path in ROOT.rglob("*.py"):
        source = _unit(_module_name(path))
        targets = graph.setdefault(source, set())
        for name in _imports(path, _module_name(path)):
            if name.startswith("marketplace."):
                target = name.split(".")[1]
                if target in units and target != source:
                    targets.add(target)
    return graph


def external_imports() -> dict[str, set[str]]:
    """Package -> every module it imports (inside marketplace or not)."""
    found: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        found.setdefault(_unit(_module_name(path)), set()).update(
            _imports(path, _module_name(path))
        )
    return found


def find_cycle(graph: Mapping[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path that ends where it starts, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def layer_violations(graph: Mapping[str, set[str]]) -> list[str]:
    """Every import of a shared or domain package that reaches sideways or up."""
    problems = []
    for index, package in enumerate(LAYERS):
        allowed = set(SHARED) | set(LAYERS[:index])
        problems += [
            f"{package} imports {target}" for target in sorted(graph.get(package, set()) - allowed)
        ]
    for package in SHARED:
        problems += [
            f"{package} imports {target}"
            for target in sorted(graph.get(package, set()) - set(SHARED))
        ]
    return problems


def test_no_import_cycle_between_packages() -> None:
    assert find_cycle(import_graph()) is None


def test_every_package_has_its_place_in_the_layers() -> None:
    assert _units() == {*SHARED, *LAYERS, *TOP}


def test_domain_packages_import_only_those_below_them() -> None:
    assert layer_violations(import_graph()) == []


def test_domain_packages_never_import_flask_or_the_http_layer() -> None:
    imports = external_imports()
    bad = [
        f"{package} imports {name}"
        for package in (*SHARED, *LAYERS)
        for name in sorted(imports.get(package, set()))
        if any(name == root or name.startswith(f"{root}.") for root in FORBIDDEN)
    ]
    assert bad == []


@pytest.mark.parametrize(
    ("graph", "cycle"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
        ({"a": {"b", "c"}, "b": {"c"}, "c": {"b"}}, ["b", "c", "b"]),
        ({"a": {"a"}}, ["a", "a"]),
        ({"a": {"b"}, "b": set(), "c": {"d"}, "d": {"c"}}, ["c", "d", "c"]),
    ],
)
def test_the_cycle_finder_finds_a_cycle_when_there_is_one(
    graph: dict[str, set[str]], cycle: list[str] | None
) -> None:
    assert find_cycle(graph) == cycle


def test_the_layer_check_refuses_an_import_upwards() -> None:
    graph = {package: set() for package in (*SHARED, *LAYERS)}
    graph["orders"] = {"catalogue", "pagination"}
    assert layer_violations(graph) == []
    graph["catalogue"] = {"customs"}
    graph["money"] = {"accounts"}
    graph["errors"] = {"accounts"}
    assert layer_violations(graph) == ["catalogue imports customs", "errors imports accounts"]


def test_the_import_reader_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    source = tmp_path / "services.py"
    source.write_text(
        "from . import models\n"
        "from ..money import Money\n"
        "def later():\n"
        "    import flask\n"
        "    from marketplace.api import context\n"
    )
    names = set(_imports(source, "marketplace.orders.services"))
    assert {"marketplace.orders.models", "marketplace.money.Money", "flask"} <= names
    assert "marketplace.api.context" in names
    assert _unit("marketplace.orders.services") == "orders"
    assert _unit("marketplace") == "marketplace"
