"""The published record: every published province figure with its sources, and its audit.

The facts file (``facts/dti_province_facts.csv``, its README beside it) holds one row per figure
per source: edition year, unit basis, the province as the source names it, the measure, the value
as printed, the kind (``stated``, or ``derived_from_change`` — an earlier rank implied by a stated
rank and change) and the source (page and a short quote).  :func:`load_facts` reads it with every
problem located (file, row, column) and refuses the whole file on any; :class:`Record` groups the
rows by figure and applies the precedence rule: a stated figure beats a derived one, then the
ministry's own table → a provincial government portal → national press → provincial press →
third-party compilations.  A losing source that disagrees stays visible as a conflict.

The audit (:mod:`dti.editions.record_audit`) checks the record against what the method allows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Mapping
from urllib.parse import urlparse

from dti.errors import DataError, Problem, UnknownUnitError
from dti.tabular import read_table

COLUMNS = ("year", "basis", "province_vi", "measure", "value", "kind", "source_url", "quote")
KINDS = ("stated", "derived_from_change")
BASES = {"63": "provinces-63", "34": "provinces-34"}
PILLARS = ("cqs", "kts", "xhs")
MAIN_INDICATORS = ("nhan_thuc_so", "the_che_so", "ha_tang_so", "nhan_luc_so", "an_toan_thong_tin_mang",
                   "hd_chinh_quyen_so", "hd_kinh_te_so", "hd_xa_hoi_so")
MEASURES = frozenset({"rank", "total_score", "rank_change", "bottom3_member"}
                     | {f"{kind}_{p}" for p in PILLARS for kind in ("rank", "score")}
                     | {f"{kind}{i}" for i in MAIN_INDICATORS for kind in ("ind_", "rank_ind_")})
MEASURE_2020 = re.compile(r"^rank_ind2020_(cqs|kts|xhs)_[a-z0-9_]+$")
YES_NO = {"yes": 1.0, "no": 0.0}

# Source classes, most authoritative first (the precedence rule of the facts README).
SOURCE_CLASSES = ("official", "provincial_portal", "national_press", "provincial_press", "third_party")
NATIONAL_PRESS = frozenset({
    "vnexpress.net", "vneconomy.vn", "en.vneconomy.vn", "dantri.com.vn", "vietnamnet.vn",
    "nhandan.vn", "en.dangcongsan.vn", "dangcongsan.vn", "baochinhphu.vn", "tuoitre.vn",
    "thanhnien.vn", "vtcnews.vn", "www.sggpnews.org.vn", "sggp.org.vn", "vovworld.vn", "vov.vn",
    "vietnamplus.vn", "ictnews.vn", "daidoanket.vn", "news.laodong.vn", "laodong.vn",
    "kinhdoanhvatiepthi.vn", "baomoi.net.vn", "baomoi.com", "lite.baomoi.com", "theleader.vn",
    "thuonghieucongluan.com.vn", "xahoithongtin.vnmedia.vn", "tacnghiep.tuoitrethudo.vn",
    "nguoihanoi.vn", "opengovasia.com", "thoibaotaichinhvietnam.vn"})


def source_class(url: str) -> str:
    """Which of :data:`SOURCE_CLASSES` a page belongs to, from its host."""
    host = (urlparse(url).hostname or "").lower()
    if host == "dti.gov.vn" or host.endswith(".dti.gov.vn"):
        return "official"
    if host == "huggingface.co" or host.endswith(".huggingface.co"):
        return "third_party"
    if host.endswith(".gov.vn"):
        return "provincial_portal"
    if host in NATIONAL_PRESS:
        return "national_press"
    return "provincial_press"


@dataclass(frozen=True)
class Fact:
    """One figure as one source gives it."""

    file: str
    row: int
    year: int
    basis: str          # the unit set the unit code belongs to (provinces-63 / provinces-34)
    basis_stated: bool  # False where the source does not say which basis
    unit: str           # the unit's code in ``basis``
    printed_name: str   # the province as the source names it
    measure: str
    value: float
    kind: str
    url: str
    quote: str

    @property
    def source(self) -> str:
        return source_class(self.url)

    @property
    def third_party(self) -> bool:
        return self.source == "third_party"

    @property
    def derived(self) -> bool:
        return self.kind == "derived_from_change"

    @property
    def precedence(self) -> tuple[int, int]:
        """Smaller wins: stated before derived, then the source class."""
        return (1 if self.derived else 0, SOURCE_CLASSES.index(self.source))

    @property
    def where(self) -> str:
        return f"{self.file}, row {self.row}"


@dataclass(frozen=True)
class Figure:
    """One published figure (year, basis, unit, measure): the winning value and every source."""

    year: int
    basis: str
    unit: str
    measure: str
    sources: tuple[Fact, ...]   # by precedence, the winner first

    @property
    def winner(self) -> Fact:
        return self.sources[0]

    @property
    def value(self) -> float:
        return self.winner.value

    @property
    def conflicts(self) -> tuple[Fact, ...]:
        """Sources that give another value than the winner."""
        return tuple(f for f in self.sources[1:] if f.value != self.winner.value)


FigureKey = tuple[int, str, str, str]   # year, basis, unit, measure


@dataclass(frozen=True)
class Record:
    facts: tuple[Fact, ...]

    @property
    def figures(self) -> Mapping[FigureKey, Figure]:
        return _figures(self.facts)

    def figure(self, year: int, basis: str, unit: str, measure: str) -> Figure | None:
        return self.figures.get((year, basis, unit, measure))

    def value(self, year: int, basis: str, unit: str, measure: str) -> float | None:
        figure = self.figure(year, basis, unit, measure)
        return None if figure is None else figure.value

    def of(self, year: int, basis: str) -> dict[str, dict[str, Figure]]:
        """measure → unit → figure, for one edition year and basis."""
        out: dict[str, dict[str, Figure]] = {}
        for (y, b, unit, measure), figure in self.figures.items():
            if y == year and b == basis:
                out.setdefault(measure, {})[unit] = figure
        return out

    def years(self) -> tuple[int, ...]:
        return tuple(sorted({f.year for f in self.facts}))


@lru_cache(maxsize=64)
def _figures(facts: tuple[Fact, ...]) -> Mapping[FigureKey, Figure]:
    grouped: dict[FigureKey, list[Fact]] = {}
    for fact in facts:
        grouped.setdefault((fact.year, fact.basis, fact.unit, fact.measure), []).append(fact)
    return {key: Figure(*key, tuple(sorted(group, key=lambda f: (f.precedence, f.row))))
            for key, group in grouped.items()}


# The collection of published figures, and the figures of the earlier results tables that it does
# not hold, each with the source its table row named (see SOURCES.md).
FACTS_FILES = ("dti_province_facts.csv", "dti_province_facts_from_tables.csv")


def facts_paths() -> tuple[Path, ...]:
    folder = Path(str(resources.files("dti.editions"))) / "facts"
    return tuple(folder / name for name in FACTS_FILES)


@lru_cache(maxsize=1)
def shipped_record() -> Record:
    """The record that ships with the package."""
    return Record(tuple(f for path in facts_paths() for f in load_facts(path).facts))


def load_facts(path: str | Path) -> Record:
    """Read a facts file; any problem (unknown year, basis, province or measure, a value that is not
    a number, a missing source) refuses the whole file with every problem located."""
    path = Path(path)
    rows, problems = read_table(path)
    missing = [c for c in COLUMNS if rows and c not in rows[0]]
    if missing:
        raise DataError([Problem("record.missing_column", f"the column {c!r} is missing; a facts "
                                 f"file has the columns {', '.join(COLUMNS)}", file=path.name, row=1)
                         for c in missing])
    facts = []
    for row in rows:
        fact, row_problems = _fact(row, path.name)
        problems += row_problems
        if fact is not None:
            facts.append(fact)
    if problems:
        raise DataError(problems)
    return Record(tuple(facts))


def _fact(row: Mapping[str, object], file: str) -> tuple[Fact | None, list[Problem]]:
    where = {"file": file, "row": int(row["__row__"])}   # type: ignore[arg-type]
    cell = {c: str(row.get(c) or "").strip() for c in COLUMNS}
    problems: list[Problem] = []
    year = _year(cell["year"], problems, where)
    basis = _basis(cell["basis"], year, problems, where)
    unit = _unit(cell["province_vi"], basis, problems, where)
    measure = cell["measure"]
    if measure not in MEASURES and not MEASURE_2020.match(measure):
        problems.append(Problem("record.unknown_measure", f"unknown measure {measure!r}; see the facts "
                                "README for the measures", column="measure", value=measure, **where))
    value = _value(cell["value"], measure, problems, where)
    if cell["kind"] not in KINDS:
        problems.append(Problem("record.unknown_kind", f"kind {cell['kind']!r} is neither "
                                f"{' nor '.join(KINDS)}", column="kind", value=cell["kind"], **where))
    if not urlparse(cell["source_url"]).hostname:
        problems.append(Problem("record.missing_source", "every figure needs the page it comes from "
                                "(a full http(s) address)", column="source_url",
                                value=cell["source_url"] or None, **where))
    if problems:
        return None, problems
    return Fact(file, where["row"], year, basis, cell["basis"] in BASES, unit, cell["province_vi"],
                measure, value, cell["kind"], cell["source_url"], cell["quote"]), []


@lru_cache(maxsize=1)
def edition_years() -> tuple[int, ...]:
    """The years of the shipped province editions."""
    from dti.editions import edition_ids

    return tuple(sorted(int(e.rsplit("-", 1)[1]) for e in edition_ids() if e.startswith("dti-province-")))


def _year(text: str, problems: list[Problem], where: dict) -> int:
    years = edition_years()
    if text.isdigit() and int(text) in years:
        return int(text)
    problems.append(Problem("record.unknown_year", f"no province edition of year {text!r}; the "
                            f"editions are {', '.join(map(str, years))}", column="year", value=text,
                            **where))
    return 0


def _basis(text: str, year: int, problems: list[Problem], where: dict) -> str:
    if text in BASES:
        return BASES[text]
    if text == "unspecified":
        return "provinces-34" if year >= 2024 else "provinces-63"   # the edition's own unit set
    problems.append(Problem("record.unknown_basis", f"basis {text!r} is not 63, 34 or unspecified",
                            column="basis", value=text, **where))
    return ""


def _unit(name: str, basis: str, problems: list[Problem], where: dict) -> str:
    if not basis:
        return ""
    from dti.units import load_unit_set

    try:
        return load_unit_set(basis).resolve(name)
    except UnknownUnitError as exc:
        problems.append(Problem("record.unknown_unit", str(exc), column="province_vi", unit=name,
                                **where))
        return ""


def _value(text: str, measure: str, problems: list[Problem], where: dict) -> float:
    if measure == "bottom3_member" and text.lower() in YES_NO:
        return YES_NO[text.lower()]
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if value != value or value in (float("inf"), float("-inf")):
        problems.append(Problem("record.not_a_number", f"{text!r} is not a number (write it with a "
                                "decimal point, as printed)", column="value", value=text, **where))
        return 0.0
    if (measure.startswith("rank") and measure != "rank_change") and (value < 1 or value != int(value)):
        problems.append(Problem("record.bad_rank", f"a rank is a whole number from 1, not {text!r}",
                                column="value", value=text, **where))
    return value

