"""Layering, packaging and documentation rules that code review alone would let slip."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "dti"
DOCS = Path(__file__).parents[1] / "docs"
PURE = ("framework", "units", "engine", "scoring", "workflow.py")
FORBIDDEN_IN_PURE = ("sqlalchemy", "fastapi", "click", "typer", "rich", "dti.io", "dti.report",
                     "dti.cli", "dti.editions", "dti.store", "dti.web")


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", PURE)
def test_pure_layers_import_no_outer_layer(package):
    offenders = []
    paths = [SRC / package] if package.endswith(".py") else (SRC / package).rglob("*.py")
    for path in paths:
        for name in imports_of(path):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN_IN_PURE):
                offenders.append(f"{path.relative_to(SRC)} imports {name}")
    assert offenders == []


def test_the_package_never_reads_the_shared_folder():
    hits = [p for p in SRC.rglob("*.py") if "../shared" in p.read_text(encoding="utf-8")]
    assert hits == []


def problem_codes_in_source() -> set[str]:
    # codes are written literally where a Problem is made (directly or through a local helper)
    pattern = re.compile(r'(?:Problem|add|bad)\(\s*"([a-z_]+\.[a-z_]+)"|return "([a-z_]+\.[a-z_]+)"')
    codes: set[str] = set()
    for path in SRC.rglob("*.py"):
        for direct, returned in pattern.findall(path.read_text(encoding="utf-8")):
            codes.add(direct or returned)
    return codes


def test_every_problem_code_is_documented():
    documented = set(re.findall(r"`([a-z_]+\.[a-z_]+)`", (DOCS / "issue-codes.md").read_text("utf-8")))
    codes = problem_codes_in_source()
    assert len(codes) > 20
    assert sorted(codes - documented) == []
    assert sorted(documented - codes) == []


def test_shipped_data_carries_source_notes():
    for folder in ("units/data", "editions"):
        assert (SRC / folder / "SOURCES.md").is_file()


def test_every_data_file_is_packaged():
    """An editable install hides missing package-data; a wheel would ship without the files."""
    import fnmatch
    import tomllib

    config = tomllib.loads((SRC.parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]
    missing = []
    for path in SRC.rglob("*"):
        if path.is_dir() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
            continue
        package_dir = next(p for p in path.parents if (p / "__init__.py").exists())
        package = ".".join(package_dir.relative_to(SRC.parent).parts)
        relative = path.relative_to(package_dir).as_posix()
        # setuptools globs do not cross folders: "*.yaml" does not ship "frameworks/x.yaml"
        if not any(fnmatch.fnmatch(relative, g) and relative.count("/") == g.count("/")
                   for g in patterns.get(package, [])):
            missing.append(f"{package}: {relative}")
    assert missing == []


@pytest.mark.parametrize("package, forbidden", [
    ("analysis", ("dti.web", "dti.cli", "dti.report", "click", "rich", "fastapi")),
    ("report", ("dti.web", "dti.cli", "click", "fastapi")),
    ("io", ("dti.web", "dti.cli", "dti.report", "dti.analysis", "dti.store", "sqlalchemy")),
    ("store", ("dti.web", "dti.cli", "fastapi", "click")),
])
def test_dependencies_point_one_way(package, forbidden):
    offenders = [f"{path.relative_to(SRC)} imports {name}"
                 for path in (SRC / package).rglob("*.py") for name in imports_of(path)
                 if any(name == f or name.startswith(f + ".") for f in forbidden)]
    assert offenders == []


def test_every_assessment_app_route_is_documented():
    import importlib

    from dti.web.assessment import ROUTERS

    documented = set(re.findall(r"^\| (GET|POST) \| `([^`]+)`", (DOCS / "app.md").read_text("utf-8"),
                                re.M))
    routes = set()
    for name in ROUTERS:
        for route in importlib.import_module(f"dti.web.assessment.{name}").router.routes:
            path = re.sub(r"\{(\w+):\w+\}", r"{\1}", "/app" + route.path)
            routes.update((method, path) for method in route.methods if method != "HEAD")
    assert len(routes) > 30
    assert sorted(routes - documented) == []
    assert sorted(documented - routes) == []


# -- the store, the services above it and the clock below everything ----------------------------

STORE_MAY_NOT_IMPORT = ("dti.engine", "dti.analysis", "dti.io", "dti.editions", "dti.report",
                        "dti.web", "dti.cli", "dti.services")


@pytest.mark.parametrize("forbidden", STORE_MAY_NOT_IMPORT)
def test_the_store_imports_no_layer_above_it(forbidden):
    """The store keeps tables, migrations, sessions, queries and the audit writer: computing,
    reading files and the shipped editions are the services' work (late imports count too)."""
    offenders = [f"{path.relative_to(SRC)} imports {name}"
                 for path in (SRC / "store").rglob("*.py") for name in imports_of(path)
                 if name == forbidden or name.startswith(forbidden + ".")]
    assert offenders == []


def test_the_services_stand_on_the_store_and_below_web_and_cli():
    imported = {path.name: imports_of(path) for path in (SRC / "services").glob("*.py")}
    assert {"publication.py", "imports.py", "demo.py"} <= set(imported)
    assert any(n.startswith("dti.store") for names in imported.values() for n in names)
    offenders = [f"{module} imports {n}" for module, names in imported.items() for n in names
                 if n.startswith(("dti.web", "dti.cli"))]
    assert offenders == []


def test_only_the_clock_reads_the_time():
    """One clock (dti.clock) that every layer reads at call time: a test moves time in one place."""
    assert not any(n.startswith("dti.") for n in imports_of(SRC / "clock.py"))
    readers = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
               if re.search(r"datetime\.(now|utcnow)\(|def now\(", p.read_text(encoding="utf-8"))]
    assert readers == ["clock.py"]


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_level_imports(path: Path, module: str, known: set[str]) -> set[str]:
    """The ``known`` modules that ``path`` imports when it is loaded: statements at module level
    (also under ``if``/``try``, not under ``if TYPE_CHECKING``); imports inside functions run later
    and cannot make a cycle at import time.  ``from a import b`` names module ``a.b`` when it is one,
    else ``a``; a package's ``__init__`` counts only when it is named itself."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(statements) -> None:
        for node in statements:
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                             for a in node.names)
            elif isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body + node.orelse + node.finalbody)
                for handler in node.handlers:
                    visit(handler.body)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return {name for name in found if name in known and name != module}


def import_cycles(root: Path) -> list[list[str]]:
    """Every group of modules under ``root`` that import one another at module level (Tarjan's
    strongly connected components, iteratively), each sorted."""
    paths = {module_name(p, root): p for p in root.rglob("*.py")}
    graph = {m: sorted(module_level_imports(p, m, set(paths))) for m, p in paths.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        while work:
            node, edges = work[-1]
            nxt = next(edges, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    work.append((nxt, iter(graph[nxt])))
                elif nxt in stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    cycles.append(sorted(group))
    return sorted(cycles)


def test_no_module_level_import_cycle_in_the_package():
    assert import_cycles(SRC) == []


def test_the_cycle_finder_sees_a_cycle_and_ignores_late_imports(tmp_path):
    """The check above would pass on any tree if the finder saw nothing: on a tiny package it must
    report the module-level cycle a → b → c → a and not the late import d ↔ a."""
    root = tmp_path / "pkg"
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "sub" / "__init__.py").write_text("")
    (root / "a.py").write_text("from pkg.sub import b\nimport pkg.d\n")
    (root / "sub" / "b.py").write_text("from ..c import thing\n")
    (root / "c.py").write_text("from pkg import a\nthing = 1\n")
    (root / "d.py").write_text("def late():\n    from pkg import a\n")
    assert import_cycles(root) == [["pkg.a", "pkg.c", "pkg.sub.b"]]
