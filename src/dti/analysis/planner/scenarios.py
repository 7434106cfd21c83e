"""Named what-if scenarios, kept as small YAML files in a folder, and compared side by side.

A scenario file (``var/scenarios/<name>.yaml`` by default)::

    name: can-tho-xhs
    unit: '92'
    changes: {HDXHS: 0.35, HDKTS: 0.8}
    note: free text

This is the planner's only file I/O, kept apart from the pure planner modules: a scenario is
written whole or not at all (a temporary file renamed into place), and a file that cannot be read
is reported with its name, never half-used.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import yaml

from dti.analysis.planner.inputs import check_changes, parse_number
from dti.analysis.planner.whatif import WhatIf, what_if
from dti.engine.data import Dataset
from dti.engine.recipe import Recipe
from dti.errors import InputError, Problem
from dti.framework.model import Framework

DEFAULT_FOLDER = Path("var/scenarios")
_NAME = re.compile(r"[^\W_][\w.-]{0,99}")   # letters (any script), digits, '-', '_', '.'


@dataclass(frozen=True)
class Scenario:
    """A named set of changes to one unit's values; ``changes`` may be given as a mapping."""

    name: str
    unit: str
    changes: Any
    note: str = ""
    source: str | None = field(default=None, compare=False)   # the file it was read from

    def __post_init__(self) -> None:
        pairs = self.changes.items() if isinstance(self.changes, Mapping) else self.changes
        object.__setattr__(self, "changes", tuple((str(k), v) for k, v in pairs))
        object.__setattr__(self, "unit", str(self.unit))

    def as_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "unit": self.unit, "changes": dict(self.changes)}
        return {**out, "note": self.note} if self.note else out


@dataclass(frozen=True)
class ScenarioComparison:
    results: tuple[tuple[Scenario, WhatIf], ...]

    def rows(self) -> list[dict[str, Any]]:
        """One row per scenario: its changes and the unit's score and rank in every node."""
        out = []
        for scenario, result in self.results:
            changes = "; ".join(f"{c.code}={c.after:g}" for c in result.changes)
            row: dict[str, Any] = {"scenario": scenario.name, "unit": scenario.unit,
                                   "changes": changes}
            for s in result.standing():
                node = s["node"]
                row |= {f"{node}_before": s["score_before"], f"{node}_after": s["score_after"],
                        f"{node}_rank_before": s["rank_before"], f"{node}_rank_after": s["rank_after"],
                        f"{node}_rank_change": s["rank_change"]}
            root = result.nodes[0]
            row["others_moved"] = sum(1 for a in result.affected()
                                      if a["node"] == root and a["unit"] != scenario.unit
                                      and a["rank_change"])
            out.append(row)
        return out


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InputError([Problem("plan.bad_scenario_name", f"{name!r} cannot name a scenario: use "
                                  "letters, digits, '-', '_' or '.' (up to 100), starting with a "
                                  "letter or digit", value=str(name))])
    return name


def scenario_path(name: str, folder: Path = DEFAULT_FOLDER) -> Path:
    return Path(folder) / f"{check_name(name)}.yaml"


def save_scenario(scenario: Scenario, folder: Path = DEFAULT_FOLDER) -> Path:
    """Write ``scenario`` to ``folder/<name>.yaml`` (whole or not at all); returns the path."""
    path = scenario_path(scenario.name, folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(scenario.as_dict(), allow_unicode=True, sort_keys=False)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def load_scenario(path: Path) -> Scenario:
    """Read one scenario file; InputError listing every problem in it."""
    path = Path(path)
    where = {"file": path.name}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError([Problem("plan.bad_scenario", f"cannot read the scenario: {exc}",
                                  **where)]) from None
    if not isinstance(raw, Mapping):
        raise InputError([Problem("plan.bad_scenario", "a scenario must be a YAML mapping with "
                                  "name, unit and changes", **where)])
    problems = []
    unit, changes = raw.get("unit"), raw.get("changes")
    if not isinstance(unit, (str, int)) or isinstance(unit, bool) or not str(unit).strip():
        problems.append(Problem("plan.bad_scenario", "the scenario needs a unit (a province code)",
                                column="unit", **where))
    if not isinstance(changes, Mapping) or not changes:
        problems.append(Problem("plan.bad_scenario", "the scenario needs changes: a mapping of "
                                "indicator code to new value", column="changes", **where))
    else:
        for code, value in changes.items():
            if parse_number(value) is None:
                problems.append(Problem("plan.bad_scenario", f"the new value of {code} is not a "
                                        "number", column="changes", indicator=str(code),
                                        value=str(value), **where))
    if problems:
        raise InputError(problems)
    name = str(raw.get("name") or path.stem)
    return Scenario(name, str(unit).strip(), {str(k): parse_number(v) for k, v in changes.items()},
                    str(raw.get("note") or ""), source=path.name)


def load_scenarios(folder: Path = DEFAULT_FOLDER, names: Sequence[str] = ()) -> list[Scenario]:
    """The named scenarios of ``folder`` (all of them, by name, when ``names`` is empty)."""
    folder = Path(folder)
    known = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
    wanted = list(names) or known
    problems = []
    for name in wanted:
        check_name(name)
        if name not in known:
            listed = ", ".join(known) if known else "none"
            problems.append(Problem("plan.unknown_scenario", f"no scenario {name!r} in {folder} "
                                    f"(saved scenarios: {listed})", value=name))
    if not wanted:
        problems.append(Problem("plan.unknown_scenario", f"no saved scenarios in {folder}; save "
                                "one with dti plan whatif … --save NAME"))
    if problems:
        raise InputError(problems)
    return _load_all(folder / f"{name}.yaml" for name in wanted)


def _load_all(paths: Iterable[Path]) -> list[Scenario]:
    loaded, problems = [], []
    for path in paths:
        try:
            loaded.append(load_scenario(path))
        except InputError as error:
            problems += error.problems
    if problems:
        raise InputError(problems)
    return loaded


def compare_scenarios(data: Dataset, framework: Framework, recipe: Recipe,
                      scenarios: Sequence[Scenario]) -> ScenarioComparison:
    """Each scenario rebuilt on the same data, side by side; every bad scenario reported."""
    problems = []
    for s in scenarios:
        try:
            check_changes(framework, dict(s.changes), option=f"scenario {s.name}:", file=s.source)
        except InputError as error:
            problems += error.problems
        if s.unit not in data.units:
            problems.append(Problem("plan.unknown_unit", f"scenario {s.name}: {s.unit!r} is not a "
                                    "unit of the data", file=s.source, unit=s.unit))
    if problems:
        raise InputError(problems)
    return ScenarioComparison(tuple((s, what_if(data, framework, recipe, s.unit, dict(s.changes)))
                                    for s in scenarios))
