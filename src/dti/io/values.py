"""Read indicator values (one file per edition or per province) into a :class:`Dataset`.

Two layouts are accepted, as CSV or XLSX:

* **wide** — one row per unit: a unit column (``code``, ``province``, ``tỉnh``, ``name`` …),
  then one column per data node, headed by its data column, its code or its Vietnamese name
  (case-insensitive);
* **long** — one row per unit and indicator: a unit column, an ``indicator`` (``chỉ số``)
  column and a ``value`` (``giá trị``) column.

Grouping columns (the framework's ``group`` nodes and ``region``) become ``Dataset.groups``;
note columns (``source_note``, ``note``, ``ghi_chu``) are ignored; any other column is a problem.

Validation follows :mod:`dti.errors`: every problem in the file is collected, each located by
file, row (as a spreadsheet numbers it: the header is row 1), column, province and indicator,
and raised together as one :class:`~dti.errors.DataError`.  Nothing is returned unless the whole
file is valid.

In the wide layout a row whose value cells are all empty is skipped: a template lists every unit
of the set, and an officer fills in only the row of their own province.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from dti.engine.data import Dataset
from dti.errors import DataError, Problem, UnknownUnitError
from dti.framework.model import Framework, Node
from dti.io.cells import cell_text, header_key, join_or, parse_number, short_number
from dti.tabular import read_table
from dti.units import MergedUnitError, UnitSet
from dti.units.unit_set import AmbiguousUnitError
from dti.workbook_limits import open_workbook

__all__ = ["read_values", "required_codes", "value_nodes", "values_from_rows"]

# Header keys (see _key) of the columns that name the unit, in order of preference: when a file
# has several (a template has ``code`` and ``name``), the first non-empty one names the row's
# unit and the others must agree with it.
UNIT_COLUMNS: tuple[str, ...] = (
    "code", "ucode", "ma", "mã", "province", "province_vi", "tinh", "tỉnh", "unit", "name",
    "uname", "don_vi", "đơn_vị", "name_vi", "ten", "tên", "province_en", "name_en",
)
# COINr's iData names the period of each row in ``Time``; dti.io.periods splits a file on it.
TIME_COLUMNS: tuple[str, ...] = ("time",)
COINR_UNIT_COLUMN = "ucode"
INDICATOR_COLUMNS: tuple[str, ...] = ("indicator", "chi_so", "chỉ_số")
VALUE_COLUMNS: tuple[str, ...] = ("value", "gia_tri", "giá_trị")
NOTE_COLUMNS: tuple[str, ...] = ("source_note", "note", "ghi_chu", "ghi_chú")
REGION_COLUMN = "region"



# -- what counts ----------------------------------------------------------------------------------


def required_codes(framework: Framework) -> tuple[str, ...]:
    """Codes of the data nodes every unit needs a value for (``Framework.required_codes``)."""
    return framework.required_codes


# -- reading --------------------------------------------------------------------------------------


@dataclass
class _Context:
    """What every check needs: the framework, the unit set, where problems go."""

    framework: Framework
    unit_set: UnitSet
    file: str
    allow_missing: bool
    required: frozenset[str]
    problems: list[Problem] = field(default_factory=list)
    text_groups: frozenset[str] = frozenset()   # see _coinr_text_groups

    def add(self, problem: Problem) -> None:
        """Keep ``problem``, located in this file.  Callers write ``Problem("code", …)`` in full
        so that the check of documented problem codes finds every code in the source."""
        self.problems.append(replace(problem, file=self.file))


@dataclass
class _Header:
    """The columns of a file, sorted by role."""

    unit: list[str] = field(default_factory=list)          # in order of preference
    values: dict[str, Node] = field(default_factory=dict)  # column -> data node or denominator
    groups: dict[str, str] = field(default_factory=dict)   # column -> group key in the Dataset


@dataclass(frozen=True)
class _Unit:
    """A row's unit, once resolved."""

    code: str
    label: str  # for Problem.unit: as written, plus the official name when it differs


def read_values(path: str | Path, framework: Framework, unit_set: UnitSet, *,
                sheet: str | None = None, allow_missing: bool = False) -> Dataset:
    """Read the indicator values in ``path`` (CSV or XLSX, wide or long) for ``framework``.

    Units are named by code or by any spelling ``unit_set`` resolves.  Returns one row per unit
    in file order; columns are the data columns of ``framework.data_nodes`` then of its
    denominators (all-NaN for a column the file lacks, allowed only for nodes not in
    :func:`required_codes`).  Raises :class:`DataError` listing every problem in the file.
    ``allow_missing`` accepts empty values of required nodes as NaN (for imputation); a
    required column that is absent altogether is still a problem.  A file whose ``Time`` column
    holds several periods (COINr panel data) is refused: :func:`dti.io.periods.read_periods`
    reads each period.
    """
    from dti.io.periods import split_by_time

    path = Path(path)
    rows, problems = read_table(path, sheet)
    if problems:
        raise DataError(problems)
    file = _file_label(path, sheet)
    periods = split_by_time(rows, file)
    if len(periods) > 1:
        raise DataError([Problem(
            "data.several_periods",
            f"the file holds {len(periods)} periods (Time {', '.join(t for t, _ in periods)}); "
            "this reads one: keep the rows of one Time, or use dti compute, which computes each",
            file=file, row=1, column=_time_column(rows))])
    return values_from_rows(rows, framework, unit_set, file=file, source=path.name,
                            allow_missing=allow_missing)


def values_from_rows(rows: list[dict[str, Any]], framework: Framework, unit_set: UnitSet, *,
                     file: str, source: str, allow_missing: bool = False) -> Dataset:
    """:func:`read_values` on rows already read (``read_table`` rows, with their ``__row__``):
    one period of a panel file keeps the row numbers of the whole file."""
    ctx = _Context(framework, unit_set, file, allow_missing,
                   frozenset(required_codes(framework)))
    columns = [c for c in rows[0] if c != "__row__"]
    ctx.text_groups = _coinr_text_groups(rows, columns, framework)
    keys = {header_key(c): c for c in columns}
    indicator = next((keys[k] for k in INDICATOR_COLUMNS if k in keys), None)
    value = next((keys[k] for k in VALUE_COLUMNS if k in keys), None)
    if indicator is not None and value is not None:
        units, matrix, groups = _read_long(rows, columns, indicator, value, ctx)
    else:
        units, matrix, groups = _read_wide(rows, columns, ctx)
    if ctx.problems:
        raise DataError(ctx.problems)
    nodes = value_nodes(framework)
    values = np.array([[matrix[u].get(n.code, math.nan) for n in nodes] for u in units],
                      dtype=float).reshape(len(units), len(nodes))
    labels = {g: tuple(by_unit.get(u, "") for u in units) for g, by_unit in groups.items()}
    for column in unit_set.group_columns:
        # The unit set's own groups (region …) fill in where the file has no such column, so a
        # recipe that imputes or ranks by region works on a file of values alone.
        if column not in labels:
            known = unit_set.group_of(column)
            labels[column] = tuple(known.get(u, "") for u in units)
    return Dataset(tuple(units), tuple(n.data_column for n in nodes), values, labels,
                   unit_set.id, source)


def _time_column(rows: list[dict[str, Any]]) -> str | None:
    return next((c for c in rows[0] if c != "__row__" and header_key(c) in TIME_COLUMNS), None)


def _coinr_text_groups(rows: list[dict[str, Any]], columns: list[str],
                       framework: Framework) -> frozenset[str]:
    """Columns of a COINr iData (it has ``uCode``) that group units when the framework declares
    no groups: every column the framework does not name whose cells are all text, as COINr
    keeps such columns beside the indicators.  Other files keep their strict header."""
    if framework.groups or not any(header_key(c) == COINR_UNIT_COLUMN for c in columns):
        return frozenset()
    lookup = _column_lookup(framework)
    special = UNIT_COLUMNS + TIME_COLUMNS + NOTE_COLUMNS
    return frozenset(
        c for c in columns
        if header_key(c) not in special and header_key(c) not in lookup
        and any(cell_text(row[c]) for row in rows)
        and all(isinstance(parse_number(row[c]), (str, type(None))) for row in rows))


def _read_wide(rows: list[dict[str, Any]], columns: list[str], ctx: _Context):
    header = _read_header(columns, ctx, long=False)
    for node in value_nodes(ctx.framework):
        if node.code in ctx.required and node not in header.values.values():
            ctx.add(Problem(
                "data.missing_column",
                f"there is no column for {node.code} ({node.name_vi}), which counts in the "
                f"score; add a column headed {node.data_column!r} with one value per province",
                row=1, column=node.data_column, indicator=node.code))
    _missing_denominators(header, ctx)
    units: list[str] = []
    matrix: dict[str, dict[str, float]] = {}
    groups: dict[str, dict[str, str]] = {key: {} for key in header.groups.values()}
    first_row: dict[str, tuple[int, str]] = {}
    for row in rows:
        number = row["__row__"]
        if all(cell_text(row[c]) == "" for c in header.values):
            continue  # a template row nobody filled in
        unit, label = _row_unit(row, header, ctx) if header.unit else (None, None)
        if unit is not None:
            if unit.code in first_row:
                _duplicate_unit(unit, number, first_row[unit.code], header.unit[0], ctx)
                unit = None
            else:
                first_row[unit.code] = (number, unit.label)
                units.append(unit.code)
                matrix[unit.code] = {}
        for column, node in header.values.items():
            number_value = _cell_value(row[column], node, ctx, row=number, column=column,
                                       unit=label)
            if unit is not None and number_value is not None:
                matrix[unit.code][node.code] = number_value
        if unit is not None:
            for column, key in header.groups.items():
                groups[key][unit.code] = cell_text(row[column])
    if not units and not ctx.problems:
        ctx.add(Problem("data.no_values", "no row has any value; fill in the values of at "
                        "least one province"))
    return units, matrix, groups


def _missing_denominators(header: _Header, ctx: _Context) -> None:
    """A denominator some counted indicator divides by must have its column, or every value of
    that indicator would come out missing."""
    present = set(header.values.values())
    for node in ctx.framework.denominators:
        users = [n.code for n in ctx.framework.data_nodes
                 if n.denominator == node.code and n.code in ctx.required]
        if users and node not in present:
            ctx.add(Problem(
                "data.missing_column",
                f"there is no column for the denominator {node.code} ({node.name_vi}), which "
                f"{', '.join(users[:5])}{' …' if len(users) > 5 else ''} "
                f"{'is' if len(users) == 1 else 'are'} divided by; add a column headed "
                f"{node.data_column!r} with one value per unit",
                row=1, column=node.data_column, indicator=node.code))


def _read_long(rows: list[dict[str, Any]], columns: list[str], indicator: str, value: str,
               ctx: _Context):
    header = _read_header(columns, ctx, long=True)
    lookup = _column_lookup(ctx.framework)
    units: list[str] = []
    matrix: dict[str, dict[str, float]] = {}
    groups: dict[str, dict[str, str]] = {key: {} for key in header.groups.values()}
    labels: dict[str, str] = {}
    first_row: dict[tuple[str, str], int] = {}
    seen_nodes: set[str] = set()
    for row in rows:
        number = row["__row__"]
        unit, label = _row_unit(row, header, ctx) if header.unit else (None, None)
        written = cell_text(row[indicator])
        node = lookup.get(header_key(written)) if written else None
        if node is None or node.type == "group" or (node.is_aggregate and node.compute != "data"):
            _unknown_indicator(written, node, number, indicator, label, ctx)
            node = None
        else:
            seen_nodes.add(node.code)
        if unit is not None and unit.code not in matrix:
            units.append(unit.code)
            matrix[unit.code] = {}
            labels[unit.code] = unit.label
        if unit is not None and node is not None:
            key = (unit.code, node.code)
            if key in first_row:
                ctx.add(Problem(
                    "data.duplicate_value",
                    f"{node.code} of {_official(unit.code, ctx)} already has a row (row "
                    f"{first_row[key]}); keep one row per province and indicator and delete "
                    "the other",
                    row=number, column=indicator, unit=label, indicator=node.code,
                    value=row[value]))
                node = None
            else:
                first_row[key] = number
        if node is not None:
            number_value = _cell_value(row[value], node, ctx, row=number, column=value,
                                       unit=label)
            if unit is not None and number_value is not None:
                matrix[unit.code][node.code] = number_value
        if unit is not None:
            for column, group in header.groups.items():
                if cell_text(row[column]) and not groups[group].get(unit.code):
                    groups[group][unit.code] = cell_text(row[column])
    for node in value_nodes(ctx.framework):
        if node.code not in ctx.required:
            continue
        if node.code not in seen_nodes:
            ctx.add(Problem(
                "data.missing_indicator",
                f"no row has indicator {node.code} ({node.name_vi}), which counts in the "
                f"score; add one row per province with {node.code} in column {indicator!r}",
                column=indicator, indicator=node.code))
        elif not ctx.allow_missing:
            for unit_code in units:
                if (unit_code, node.code) not in first_row:
                    ctx.add(Problem(
                        "data.missing_value",
                        f"there is no row for {node.code} ({node.name_vi}) of this province, "
                        "and it counts in the score; add the row, or use a recipe that imputes "
                        "missing values",
                        unit=labels[unit_code], indicator=node.code))
    return units, matrix, groups


def _read_header(columns: list[str], ctx: _Context, *, long: bool) -> _Header:
    """Sort the columns by role; report the unknown and repeated ones and a missing unit column."""
    header = _Header()
    lookup = _column_lookup(ctx.framework)
    by_node: dict[str, str] = {}
    for column in columns:
        key = header_key(column)
        if key in UNIT_COLUMNS:
            header.unit.append(column)
            continue
        if key in NOTE_COLUMNS + TIME_COLUMNS or (
                long and key in INDICATOR_COLUMNS + VALUE_COLUMNS):
            continue
        if column in ctx.text_groups:
            header.groups[column] = column
            continue
        node = lookup.get(key)
        if node is not None and node.type == "group":
            header.groups[column] = node.data_column
        elif node is not None and (long or (node.is_aggregate and node.compute != "data")):
            _unknown_column(column, node, ctx, long=long)
        elif node is not None and node.code in by_node:
            ctx.add(Problem(
                "data.duplicate_column",
                f"this column and column {by_node[node.code]!r} are both {node.code} "
                f"({node.name_vi}); keep one of them",
                row=1, column=column, indicator=node.code))
        elif node is not None:
            by_node[node.code] = column
            header.values[column] = node
        elif key == REGION_COLUMN:
            header.groups[column] = REGION_COLUMN
        else:
            _unknown_column(column, None, ctx, long=long)
    header.unit.sort(key=lambda c: UNIT_COLUMNS.index(header_key(c)))
    if not header.unit:
        others = ", ".join(c for c in UNIT_COLUMNS if c not in ("code", "province"))
        ctx.add(Problem(
            "data.no_unit_column",
            "no column names the province; head the column of province codes or names 'code' "
            f"or 'province' (also accepted: {others})",
            row=1))
    return header


def _unknown_column(column: str, node: Node | None, ctx: _Context, *, long: bool) -> None:
    fw = ctx.framework
    if node is not None and node.is_aggregate and node.compute != "data":
        message = (f"{node.code} ({node.name_vi}) is a computed score, not an input; delete "
                   "the column")
    elif node is None and header_key(column) in INDICATOR_COLUMNS:
        message = ("a file with an indicator column also needs a value column (headed 'value', "
                   "'gia_tri' or 'giá trị'); add it, or put one column per indicator instead")
    elif node is None and header_key(column) in VALUE_COLUMNS:
        message = ("a file with a value column also needs an indicator column (headed "
                   "'indicator', 'chi_so' or 'chỉ số'); add it, or put one column per indicator "
                   "instead")
    elif node is not None and long:
        message = (f"in a file with an indicator column and a value column, {node.code} goes in "
                   "the indicator column, one row per province; delete this column")
    else:
        message = (f"{column!r} is not an indicator of {fw.id}{_did_you_mean(column, fw)}; "
                   "head each value column with an indicator code "
                   f"({', '.join(_accepted_codes(fw))}) or delete the column")
    ctx.add(Problem("data.unknown_column", message, row=1, column=column,
                    indicator=node.code if node is not None else None))


def _unknown_indicator(written: str, node: Node | None, number: int, column: str,
                       label: str | None, ctx: _Context) -> None:
    fw = ctx.framework
    if not written:
        message = f"the indicator is empty; write one of {', '.join(_accepted_codes(fw))}"
    elif node is not None and node.type == "group":
        message = (f"{node.code} is a grouping column, not an indicator; give it as a column "
                   "beside the unit column")
    elif node is not None:
        message = (f"{node.code} ({node.name_vi}) is a computed score, not an input; delete "
                   "the row")
    else:
        message = (f"{written!r} is not an indicator of {fw.id}{_did_you_mean(written, fw)}; "
                   f"write one of {', '.join(_accepted_codes(fw))}")
    ctx.add(Problem("data.unknown_indicator", message, row=number, column=column, unit=label,
                    value=written or None))


def _row_unit(row: dict[str, Any], header: _Header,
              ctx: _Context) -> tuple[_Unit | None, str | None]:
    """Resolve the unit of a row from its first non-empty unit column; the others must agree.

    Returns the unit (None when it cannot be resolved) and the label the row's problems carry:
    the name as written, with the official name when it differs.
    """
    number = row["__row__"]
    named = [(c, cell_text(row[c])) for c in header.unit if cell_text(row[c])]
    if not named:
        ctx.add(Problem(
            "data.missing_unit",
            "the row has values but no province; write the province code or name in column "
            f"{header.unit[0]!r}",
            row=number, column=header.unit[0]))
        return None, None
    column, written = named[0]
    try:
        code = ctx.unit_set.resolve(written)
    except UnknownUnitError as error:
        ctx.add(Problem("data.unknown_unit", _unknown_unit_message(written, error, ctx),
                        row=number, column=column, unit=written, value=row[column]))
        return None, written
    official = _official(code, ctx)
    label = written if written == official else f"{written} ({official})"
    for other, text in named[1:]:
        try:
            other_code = ctx.unit_set.resolve(text)
        except UnknownUnitError:
            continue  # a second name column only checks the first; a typo in it is harmless
        if other_code != code:
            ctx.add(Problem(
                "data.unit_mismatch",
                f"the row names two provinces: {column} {written!r} is {official} (code {code}) "
                f"but {other} {text!r} is {_official(other_code, ctx)} (code {other_code}); "
                "correct one of them",
                row=number, column=other, unit=label, value=row[other]))
    return _Unit(code, label), label


def _unknown_unit_message(written: str, error: UnknownUnitError, ctx: _Context) -> str:
    if isinstance(error, (MergedUnitError, AmbiguousUnitError)):
        return str(error)  # the resolver's own explanation, which says what to write instead
    if error.suggestions:
        return (f"{written!r} matches no province of {ctx.unit_set.id}; did you mean "
                f"{join_or(error.suggestions)}? Correct the name or write the province code")
    return (f"{written!r} matches no province of {ctx.unit_set.id}; correct the name or write "
            "the province code")


def _duplicate_unit(unit: _Unit, number: int, first: tuple[int, str], column: str,
                    ctx: _Context) -> None:
    first_number, first_label = first
    as_written = "" if first_label == unit.label else f", written {first_label!r}"
    ctx.add(Problem(
        "data.duplicate_unit",
        f"{_official(unit.code, ctx)} already has a row (row {first_number}{as_written}); keep "
        "one row per province and delete the other",
        row=number, column=column, unit=unit.label))


def _cell_value(cell: Any, node: Node, ctx: _Context, *, row: int, column: str,
                unit: str | None) -> float | None:
    """The number in ``cell`` for ``node``, or None (empty, or a problem was reported)."""
    where = dict(row=row, column=column, unit=unit, indicator=node.code, value=cell)
    number = parse_number(cell)
    if number is None:
        if node.code in ctx.required and not ctx.allow_missing:
            ctx.add(Problem(
                "data.missing_value",
                f"the value is empty; {node.code} ({node.name_vi}) counts in the score, so "
                "every province needs it; fill it in, or use a recipe that imputes missing "
                "values",
                **where))
        return None
    if isinstance(number, str):
        ctx.add(Problem("data.not_a_number", _not_a_number_message(number, node), **where))
        return None
    top = short_number(node.max_points) if node.max_points is not None else "its maximum"
    if node.scale == "ratio" and not 0.0 <= number <= 1.0:
        ctx.add(Problem("data.ratio_out_of_range",
                        f"ratio {short_number(number)} is outside 0..1; {_ratio_example(node)}", **where))
        return None
    if node.scale == "points" and number < 0:
        ctx.add(Problem("data.negative_points", f"{short_number(number)} points is negative; {node.code} "
                        f"is scored from 0 to {top} points", **where))
        return None
    if node.scale == "points" and node.max_points is not None and number > node.max_points:
        ctx.add(Problem("data.points_above_max", f"{short_number(number)} points is above the maximum of "
                        f"{top}; {node.code} is scored from 0 to {top} points", **where))
        return None
    return number


def _not_a_number_message(text: str, node: Node) -> str:
    percent = parse_number(text[:-1]) if text.endswith("%") else None
    if isinstance(percent, float) and node.scale == "ratio":
        return (f"{text!r} is not a number; write percentages as ratios "
                f"({text} = {short_number(percent / 100)})")
    return (f"{text!r} is not a number; write a number such as 0.8002 (a decimal point or a "
            "decimal comma), or leave the cell empty if the value is missing")


def _ratio_example(node: Node) -> str:
    what = "main-indicator values" if node.is_indicator else f"values of {node.code}"
    if node.max_points:
        return (f"{what} are ratios (0.9000 = {short_number(0.9 * node.max_points)} of "
                f"{short_number(node.max_points)} points)")
    return f"{what} are ratios (0.9000 = 90%)"


# -- helpers --------------------------------------------------------------------------------------


def value_nodes(fw: Framework) -> tuple[Node, ...]:
    """The numeric columns of the Dataset: data nodes, then denominators."""
    return fw.data_nodes + fw.denominators


def _column_lookup(fw: Framework) -> dict[str, Node]:
    """Header key -> node, for every node that may head a column or name an indicator.

    Data columns win over codes, codes over Vietnamese names, when two nodes would share a key.
    Computed aggregates are included so that their columns get a specific message.
    """
    lookup: dict[str, Node] = {}
    for attribute in ("data_column", "code", "name_vi"):
        for node in fw.nodes:
            text = getattr(node, attribute)
            if text:
                lookup.setdefault(header_key(text), node)
    return lookup


def _accepted_codes(fw: Framework) -> list[str]:
    return [n.code for n in value_nodes(fw)]


def _did_you_mean(text: str, fw: Framework) -> str:
    candidates = {header_key(n.code): n.code for n in value_nodes(fw)}
    candidates |= {header_key(n.data_column): n.code for n in value_nodes(fw)}
    candidates |= {header_key(n.name_vi): n.code for n in value_nodes(fw) if n.name_vi}
    close = difflib.get_close_matches(header_key(text), list(candidates), n=3, cutoff=0.6)
    codes = list(dict.fromkeys(candidates[c] for c in close))
    return f" (did you mean {join_or(codes)}?)" if codes else ""


def _official(code: str, ctx: _Context) -> str:
    return ctx.unit_set.get(code).name_vi


def _file_label(path: Path, sheet: str | None) -> str:
    """The file as problems name it: with the sheet for a workbook, as read_table does."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return path.name
    if sheet is None:
        book, _ = open_workbook(path, path.name)   # read_table has checked it already
        try:
            sheet = book.worksheets[0].title
        finally:
            book.close()
    return f"{path.name}[{sheet}]"
