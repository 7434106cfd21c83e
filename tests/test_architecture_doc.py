"""docs/architecture.md's layer table is the code's import graph: no layer imports one its row does
not name, and no row names a layer the code does not use."""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SRC = ROOT / "src" / "dti"
DOC = ROOT / "docs" / "architecture.md"


@lru_cache(maxsize=1)
def documented() -> dict[str, set[str]]:
    """layer -> the layers its row allows, from the table's rows (first cell a `name`)."""
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and re.fullmatch(r"`[a-z_]+`", cells[0]):
            rows[cells[0].strip("`")] = set(re.findall(r"`([a-z_]+)`", cells[2]))
    return rows


def layer_of(module: str) -> str:
    return module.split(".")[1]


def imported_layers(path: Path) -> set[str]:
    """Every dti layer a file imports, at module level or inside functions."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.update([f"dti.{a.name}" for a in node.names] if node.module == "dti"
                         else [node.module])
    return {layer_of(n) for n in names if n.startswith("dti.")}


@lru_cache(maxsize=1)
def actual() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        if parts == ("__init__",):
            continue
        layer = parts[0]
        graph.setdefault(layer, set()).update(imported_layers(path) - {layer})
    return graph


def test_the_table_lists_every_layer_once():
    layers = {p.stem for p in SRC.iterdir()
              if (p.suffix == ".py" or (p / "__init__.py").exists()) and p.stem != "__init__"}
    assert set(documented()) == layers


@pytest.mark.parametrize("layer", sorted(documented()))
def test_a_layer_imports_exactly_what_its_row_names(layer):
    code = actual().get(layer, set())
    allowed = documented()[layer]
    assert sorted(code - allowed) == [], f"{layer} imports layers docs/architecture.md does not allow"
    assert sorted(allowed - code) == [], f"docs/architecture.md allows {layer} layers it does not use"


def test_the_reader_finds_an_import_inside_a_function(tmp_path):
    """A late import counts: the table cannot be met by hiding one in a function."""
    module = tmp_path / "m.py"
    module.write_text("import os\n\ndef f():\n    from dti.web.app import create_app\n"
                      "    from dti import clock\n", encoding="utf-8")
    assert imported_layers(module) == {"web", "clock"}
    assert "web" not in documented()["store"]
