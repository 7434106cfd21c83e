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

    from dti.web.workspace import ROUTERS

    documented = set(re.findall(r"^\| (GET|POST) \| `([^`]+)`", (DOCS / "app.md").read_text("utf-8"),
                                re.M))
    routes = set()
    for name in ROUTERS:
        for route in importlib.import_module(f"dti.web.workspace.{name}").router.routes:
            path = re.sub(r"\{(\w+):\w+\}", r"{\1}", "/app" + route.path)
            routes.update((method, path) for method in route.methods if method != "HEAD")
    assert len(routes) > 30
    assert sorted(routes - documented) == []
    assert sorted(documented - routes) == []
