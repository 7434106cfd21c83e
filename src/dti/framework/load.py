"""Load a framework from YAML (the shipped editions) or from a table (CSV/XLSX, one row per node).

The table layout is the one JRC and COINr users know (``iCode, iName, Level, Parent, Weight,
Direction, Type``), with our own names accepted too; several parents are separated by ``;``.
Every problem is collected and located; nothing is returned unless the whole file is valid.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from dti.errors import FrameworkError, Problem
from dti.framework.checks import check_framework
from dti.framework.model import NODE_TYPES, SCALES, Framework, Node
from dti.tabular import check_file, read_table

# Column aliases (lower-cased) -> field.  COINr's iMeta names are accepted as they are.
COLUMN_ALIASES: dict[str, str] = {
    "code": "code", "icode": "code", "ma": "code", "mã": "code",
    "name": "name_vi", "name_vi": "name_vi", "iname": "name_vi", "ten": "name_vi", "tên": "name_vi",
    "name_en": "name_en",
    "level": "level", "cap": "level",
    "parent": "parents", "parents": "parents", "parent_code": "parents",
    "weight": "weight", "max_points": "max_points", "points": "max_points",
    "direction": "direction", "type": "type", "unit": "unit",
    "goalpost_lower": "goal_lower", "goal_lower": "goal_lower", "goalpost_min": "goal_lower",
    "goalpost_upper": "goal_upper", "goal_upper": "goal_upper", "goalpost_max": "goal_upper",
    "target": "target", "denominator": "denominator", "scale": "scale", "scored": "scored",
    "method": "method", "compute": "compute", "column": "column", "short": "short", "role": "role", "note": "note",
}
REQUIRED_COLUMNS = ("code", "name_vi", "level", "type")
# COINr's iMeta is told apart by its code column, ``iCode``: its ``iName`` is optional (a node
# without one is named by its code, as COINr names it).
COINR_CODE_COLUMN = "icode"
COINR_REQUIRED_COLUMNS = ("code", "level", "type")
# The Problem.column a check writes -> the row field it is about, to name the column as the
# file heads it ("Parent" in an iMeta, "parent" in our own tables).
PROBLEM_FIELDS = {"name": "name_vi", "parent": "parents"}
TYPE_ALIASES = {t: t for t in NODE_TYPES} | {"other": "group"}
TRUE_WORDS = ("true", "yes", "1", "có", "co")
FALSE_WORDS = ("false", "no", "0", "không", "khong")
MAX_PRECISION = 12


def load_framework(path: str | Path, framework_id: str | None = None) -> Framework:
    """Load and check a framework file; raise FrameworkError listing every problem."""
    path = Path(path)
    problems = check_file(path)
    if problems:
        raise FrameworkError(problems)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return framework_from_yaml(path)
    rows, problems = read_table(path)
    if problems:
        raise FrameworkError(problems)
    return framework_from_rows(rows, file=path.name, framework_id=framework_id or path.stem)


def framework_from_yaml(path: Path) -> Framework:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FrameworkError(check_file(path) or [Problem(
            "file.unreadable", f"the file cannot be read ({exc.strerror or type(exc).__name__}); "
            "check that you may read it", file=path.name)]) from None
    except UnicodeDecodeError:
        raise FrameworkError([Problem("file.encoding", "the file is not UTF-8 text; save it as "
                                      "UTF-8", file=path.name)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise FrameworkError([Problem("yaml.syntax", f"not valid YAML: {getattr(exc, 'problem', exc)}",
                                      file=path.name, row=mark.line + 1 if mark else None)]) from None
    if not isinstance(raw, Mapping):
        raise FrameworkError([Problem("yaml.not_mapping", "the file must be a YAML mapping with a "
                                      "'nodes' list", file=path.name)])
    return framework_from_dict(raw, file=path.name)


def framework_from_dict(raw: Mapping[str, Any], file: str | None = None) -> Framework:
    if not isinstance(raw, Mapping):
        raise FrameworkError([Problem("yaml.not_mapping", "the framework must be a mapping with a "
                                      "'nodes' list", file=file)])
    nodes_raw = raw.get("nodes")
    if not isinstance(nodes_raw, list) or not nodes_raw:
        raise FrameworkError([Problem("framework.no_nodes", "the framework has no 'nodes' list",
                                      file=file)])
    rows = [{"__row__": i + 1, **n} if isinstance(n, Mapping) else {"__row__": i + 1}
            for i, n in enumerate(nodes_raw)]
    meta = {k: v for k, v in raw.items() if k not in ("nodes", "id", "name_vi", "name_en", "precision")}
    return framework_from_rows(rows, file=file, framework_id=str(raw.get("id") or "framework"),
                               name_vi=str(raw.get("name_vi", "")), name_en=str(raw.get("name_en", "")),
                               precision=raw.get("precision"), meta=meta, aliases=False)


def framework_from_rows(rows: Iterable[Mapping[str, Any]], *, file: str | None, framework_id: str,
                        name_vi: str = "", name_en: str = "", precision: int | None = None,
                        meta: Mapping[str, Any] | None = None, aliases: bool = True) -> Framework:
    """Build nodes from row mappings, then check the whole; raise with every problem."""
    problems: list[Problem] = []
    nodes: list[Node] = []
    seen: dict[str, int] = {}
    rows = list(rows)
    precision = _precision(precision, file, problems)
    headers: dict[str, str] = {}
    coinr = False
    if aliases and rows:
        headers = {str(k).strip().lower(): k for k in rows[0] if k != "__row__"}
        coinr = COINR_CODE_COLUMN in headers
        required = COINR_REQUIRED_COLUMNS if coinr else REQUIRED_COLUMNS
        missing = [c for c in required
                   if not any(COLUMN_ALIASES.get(h) == c for h in headers)]
        if missing:
            raise FrameworkError([Problem("table.missing_column", f"missing column {c!r}; the table "
                                          "needs code, name, level, parent, weight, direction, type",
                                          file=file, column=c) for c in missing])
        if coinr:
            meta = dict(meta or {}) | {"layout": "coinr"}
    for raw in rows:
        row_no = raw.get("__row__")
        fields = _rename(raw) if aliases else {k: v for k, v in raw.items() if k != "__row__"}
        if coinr and fields.get("code") and not fields.get("name_vi"):
            fields["name_vi"] = str(fields["code"])
        node = _node_from_fields(fields, file, row_no, problems)
        if node is None:
            continue
        if node.code in seen:
            problems.append(Problem("node.duplicate_code", f"code {node.code!r} is used twice (first "
                                    f"at row {seen[node.code]}); every node needs its own code",
                                    file=file, row=row_no, column="code", indicator=node.code))
            continue
        seen[node.code] = row_no
        nodes.append(node)
    framework = Framework(id=framework_id, nodes=tuple(nodes), name_vi=name_vi, name_en=name_en,
                          precision=precision,
                          meta=dict(meta or {}) | {"file": file})
    # A node whose parents could not be read has none here: its orphan report, and an aggregate
    # left without children by it, would only repeat the node.bad_parents problem.
    unparented = {p.indicator for p in problems if p.code == "node.bad_parents"}
    problems.extend(p for p in check_framework(framework, file=file)
                    if not (p.code == "node.orphan" and p.indicator in unparented)
                    and not (p.code == "aggregate.no_children" and unparented))
    if problems:
        raise FrameworkError(_as_headed(problems, headers))
    return framework


def _as_headed(problems: list[Problem], headers: Mapping[str, str]) -> list[Problem]:
    """Name each problem's column as the table heads it (``Parent``, ``Weight`` in an iMeta)."""
    written = {COLUMN_ALIASES[h]: str(original).strip() for h, original in headers.items()
               if h in COLUMN_ALIASES}
    out = []
    for problem in problems:
        field = PROBLEM_FIELDS.get(problem.column or "", problem.column)
        if field in written:
            problem = replace(problem, column=written[field])
        out.append(problem)
    return out


def _precision(value: Any, file: str | None, problems: list[Problem]) -> int | None:
    """The framework's number of decimals: a whole number from 0 to MAX_PRECISION, or None."""
    if value is None or value == "":
        return None
    number = value
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if isinstance(number, (int, float)) and not isinstance(number, bool) \
            and math.isfinite(number) and float(number).is_integer() \
            and 0 <= number <= MAX_PRECISION:
        return int(number)
    problems.append(Problem("framework.bad_precision", f"precision must be a whole number of "
                            f"decimals from 0 to {MAX_PRECISION}, got {value!r}", file=file,
                            column="precision", value=value))
    return None


def _rename(raw: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "__row__":
            continue
        name = COLUMN_ALIASES.get(str(key).strip().lower())
        if name is None:
            continue
        if isinstance(value, str):
            value = value.strip()
        if value in ("", None):
            continue
        if name == "parents" and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(int(value)) if float(value).is_integer() else str(value)  # a numeric cell
        out[name] = value
    if "goal_lower" in out or "goal_upper" in out:
        out["goalposts"] = [out.pop("goal_lower", None), out.pop("goal_upper", None)]
    return out


def _node_from_fields(f: Mapping[str, Any], file: str | None, row: int | None,
                      problems: list[Problem]) -> Node | None:
    def bad(code: str, column: str, message: str, value: Any = None) -> None:
        problems.append(Problem(code, message, file=file, row=row, column=column,
                                indicator=str(f.get("code") or "") or None, value=value))

    code = str(f.get("code") or "").strip()
    if not code:
        bad("node.missing_code", "code", "the row has no code; give every node a unique code")
        return None
    name_vi = str(f.get("name_vi") or "").strip()
    if not name_vi:
        bad("node.missing_name", "name", f"node {code!r} has no name")
    type_ = TYPE_ALIASES.get(str(f.get("type") or "indicator").strip().lower())
    if type_ is None:
        bad("node.bad_type", "type", f"type {f.get('type')!r} is not one of indicator, aggregate, "
            "denominator, group (or COINr's other); correct the type", f.get("type"))
        type_ = "indicator"
    level = _number(f.get("level", 1 if type_ != "aggregate" else None), "level", bad, integer=True)
    if level is None and type_ in ("indicator", "aggregate"):
        bad("node.missing_level", "level", f"node {code!r} has no level (1 = indicator)")
    parents = _parents(f.get("parents"), code, bad)
    direction = _number(f.get("direction", 1), "direction", bad, integer=True)
    if direction not in (1, -1, None):
        bad("node.bad_direction", "direction", f"direction of {code!r} must be 1 or -1, got "
            f"{f.get('direction')!r}; write 1 when a higher value is better, -1 when it is worse",
            f.get("direction"))
    scale = str(f.get("scale", "value"))
    if scale not in SCALES:
        bad("node.bad_scale", "scale", f"scale {scale!r} is not one of {', '.join(SCALES)}", scale)
    goalposts = _goalposts(f.get("goalposts"), code, bad)
    compute = str(f.get("compute", "children"))
    if compute not in ("children", "data"):
        bad("node.bad_compute", "compute", f"compute must be 'children' or 'data', got {compute!r}")
    return Node(
        code=code, name_vi=name_vi, name_en=str(f.get("name_en") or ""), type=type_,
        level=level or 1, parents=parents,
        weight=_number(f.get("weight"), "weight", bad),
        max_points=_number(f.get("max_points"), "max_points", bad),
        direction=direction if direction in (1, -1) else 1, unit=str(f.get("unit") or ""),
        goalposts=goalposts, target=_number(f.get("target"), "target", bad),
        denominator=str(f["denominator"]) if f.get("denominator") else None, scale=scale,
        scored=_boolean(f.get("scored", True), code, bad), method=str(f["method"]) if f.get("method") else None,
        compute=compute, column=str(f["column"]) if f.get("column") else None,
        short=str(f.get("short") or ""), role=str(f.get("role") or ""), note=str(f.get("note") or ""), source_row=row,
    )


def _parents(value: Any, code: str, bad) -> tuple[str, ...]:
    """Parent codes: text separated by ';' (or ','), or a list of codes."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        value = value.replace(",", ";").split(";")
    elif not isinstance(value, (list, tuple)) or not all(
            isinstance(p, (str, int)) and not isinstance(p, bool) for p in value):
        bad("node.bad_parents", "parent", f"the parents of {code!r} must be parent codes (one "
            f"code, codes separated by ';', or a list of codes), got {value!r}", value)
        return ()
    return tuple(str(p).strip() for p in value if str(p).strip())


def _goalposts(value: Any, code: str, bad) -> tuple[float, float] | None:
    """Goalposts: a pair [lower, upper] of numbers (a table gives them as two columns)."""
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        bad("node.bad_goalposts", "goalposts", f"goalposts of {code!r} must be two numbers "
            f"[lower, upper], got {value!r}", value)
        return None
    lo = _number(value[0], "goalpost_lower", bad)
    hi = _number(value[1], "goalpost_upper", bad)
    if lo is None or hi is None:
        if (value[0] is None or value[0] == "") != (value[1] is None or value[1] == ""):
            missing = "goalpost_upper" if lo is not None else "goalpost_lower"
            bad("node.bad_goalposts", missing, f"goalposts of {code!r} need both a lower and an "
                f"upper value; {missing} is missing", value)
        return None
    return (lo, hi)


def _number(value: Any, column: str, bad, integer: bool = False) -> Any:
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool):
            raise TypeError
        number = float(str(value).replace(",", ".")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError, OverflowError):
        bad("node.not_a_number", column, f"{column} must be a number, got {value!r}", value)
        return None
    if not math.isfinite(number):
        bad("node.not_a_number", column, f"{column} must be a finite number, got {value!r}", value)
        return None
    if integer:
        if not number.is_integer():
            bad("node.not_an_integer", column, f"{column} must be a whole number, got {value!r}", value)
            return None
        return int(number)
    return number


def _boolean(value: Any, code: str, bad) -> bool:
    """``scored``: true/false, yes/no, 1/0 or có/không; anything else is reported (and true)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = unicodedata.normalize("NFC", value).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    bad("node.bad_scored", "scored", f"scored of {code!r} must be true or false (yes/no, 1/0, "
        f"có/không), got {value!r}", value)
    return True
