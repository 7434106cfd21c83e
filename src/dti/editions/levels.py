"""The ministry-level and national DTI editions: what was published, as published.

Beside each provincial edition the ministry in charge publishes a ranking of ministries and
government bodies, in two groups (with and without public services), and one national value.  Our
sources give much less for these levels than for the provinces: top lists, a few scores, group
averages, counts of indicators.  So a level edition is not built on a framework and a recipe (the
indicators are not published); it carries what was published — results with a source per row,
ranks within each group, the group averages with their sources, the structure where a source
states it — and says what was not published.

Files: ``dti-ministry-<year>.yaml`` and ``dti-national-<year>.yaml`` beside the provincial editions;
results in ``published/dti_<level>_results_<year>.csv`` (columns ``unit_vi, group, rank, score,
note_vi, note, source_url, quote``; an empty score or rank is *not published*, never 0); group averages
and other figures are read from ``facts/dti_ministry_national.csv`` for the edition's year.

A results file is refused whole, every problem located, when it names a body the package does not
know, a body that did not exist in the edition's year (Bộ Nông nghiệp và Môi trường in 2021), a
body in the wrong group, or ranks a body above one with a higher score in its group.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from dti.errors import DataError, Problem, UnknownEditionError, UnknownUnitError
from dti.tabular import read_table
from dti.units import UnitSet, load_unit_set
from dti.units.bodies import GROUPS, NATIONAL_SET, Body, find_body, predecessors, successor
from dti.units.unit_set import english_date

LEVELS = ("ministry", "national")
FACTS_FILE = "dti_ministry_national.csv"
# The facts' group column → the group of a level edition's figure.
FACT_GROUPS = {"ministry_with_public_services": "with_public_services",
               "ministry_without_public_services": "without_public_services",
               "ministry": "all_ministries", "national": "national", "provincial": "provinces"}
FIGURE_MEASURES = ("average_score", "max_score", "min_score", "change_pct_vs_prev",
                   "change_pct_vs_2020")
# Which figures each level carries: its own groups; the nation also the other levels' averages.
LEVEL_FIGURE_GROUPS = {"ministry": ("with_public_services", "without_public_services", "all_ministries"),
                       "national": ("national", "with_public_services", "without_public_services",
                                    "all_ministries", "provinces")}


@dataclass(frozen=True)
class LevelResult:
    """One body's (or the nation's) published figures in a level edition."""

    code: str
    name_vi: str
    name_en: str
    group: str
    rank: int | None         # within its group, as published
    score: float | None
    note: str
    sources: tuple[str, ...]  # pages
    quote: str
    row: int
    decimals: int = 4         # of the score as printed (the nation's 2022 value: 0,71)
    note_vi: str = ""         # ``note`` in Vietnamese

    def name(self, lang: str = "vi") -> str:
        return self.name_en if lang == "en" else self.name_vi


@dataclass(frozen=True)
class LevelFigure:
    """A figure of the edition that belongs to no one body (a group average), with every source."""

    group: str
    measure: str
    value: float
    sources: tuple[tuple[str, str], ...]   # (page, quote)


@dataclass(frozen=True)
class LevelEdition:
    id: str
    level: str
    year: int
    name_vi: str
    name_en: str
    unit_set: str
    previous: str | None
    published_on: str
    legal_basis: str
    note: str
    note_en: str
    not_published: str
    not_published_en: str
    structure: Mapping[str, Any]
    file: str
    results: tuple[LevelResult, ...]
    figures: tuple[LevelFigure, ...] = field(default=())
    status: str = "published"

    @property
    def is_published(self) -> bool:
        return self.status == "published"

    @property
    def bases(self) -> tuple[str, ...]:
        return (self.unit_set,)

    def name(self, lang: str = "vi") -> str:
        return self.name_en if lang == "en" else self.name_vi

    def units(self) -> UnitSet:
        return load_unit_set(self.unit_set)

    @property
    def groups(self) -> tuple[str, ...]:
        """The groups of the ranking, in the order the ministry publishes them."""
        present = {r.group for r in self.results}
        return tuple(g for g in (*GROUPS, "national") if g in present)

    def in_group(self, group: str) -> tuple[LevelResult, ...]:
        return tuple(r for r in self.results if r.group == group)

    def figure(self, group: str, measure: str) -> LevelFigure | None:
        return next((f for f in self.figures if f.group == group and f.measure == measure), None)


# -- loading --------------------------------------------------------------------------------------

def level_edition_ids() -> tuple[str, ...]:
    from dti.editions import LEVEL_PREFIXES, _package_dir

    return tuple(sorted(p.stem for p in _package_dir().glob("dti-*.yaml")
                        if p.stem.startswith(LEVEL_PREFIXES)))


@lru_cache(maxsize=None)
def load_level_edition(edition_id: str) -> LevelEdition:
    from dti.editions import _package_dir, _yaml

    known = level_edition_ids()
    if edition_id not in known:
        raise UnknownEditionError(edition_id, list(known))
    base = _package_dir()
    raw = _yaml((base / f"{edition_id}.yaml").read_text(encoding="utf-8"))
    year, level = int(raw["year"]), str(raw["level"])
    file = str(raw.get("results", ""))
    results = read_level_results(base / file, raw["unit_set"], year) if file else ()
    return LevelEdition(
        id=raw["id"], level=level, year=year, name_vi=raw["name_vi"], name_en=raw["name_en"],
        unit_set=raw["unit_set"], previous=raw.get("previous"),
        published_on=str(raw.get("published_on", "")), legal_basis=raw.get("legal_basis", ""),
        note=raw.get("note", ""), note_en=raw.get("note_en", ""),
        not_published=raw.get("not_published", ""), not_published_en=raw.get("not_published_en", ""),
        structure=dict(raw.get("structure") or {}), file=Path(file).name if file else "",
        results=results, figures=level_figures(level, year))


def level_figures(level: str, year: int) -> tuple[LevelFigure, ...]:
    """The group averages (and other group figures) of the year that the level carries, each with
    every source that prints it; sources that disagree refuse the facts file."""
    from dti.editions import _package_dir

    path = _package_dir() / "facts" / FACTS_FILE
    rows, problems = read_table(path)
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        group = FACT_GROUPS.get(str(row.get("group", "")))
        measure = str(row.get("measure", ""))
        entity = str(row.get("entity", ""))
        own = entity.startswith("(") or group == "national"
        if (str(row.get("year")) == str(year) and group in LEVEL_FIGURE_GROUPS[level] and own
                and measure in FIGURE_MEASURES and not (group == "provinces" and measure != "average_score")):
            grouped.setdefault((group, measure), []).append(row)
    figures = []
    for (group, measure), found in grouped.items():
        values = {float(r["value"]) for r in found}
        if len(values) > 1:
            problems.append(Problem("published.conflicting_figure", f"the sources give {group} "
                                    f"{measure} of {year} as {sorted(values)}; keep one value per "
                                    "figure or mark the other as a conflict", file=path.name,
                                    row=found[0]["__row__"], column="value"))
            continue
        figures.append(LevelFigure(group, measure, values.pop(),
                                   tuple((str(r["source_url"]), str(r["quote"])) for r in found)))
    if problems:
        raise DataError(problems)
    order = LEVEL_FIGURE_GROUPS[level]
    return tuple(sorted(figures, key=lambda f: (order.index(f.group), FIGURE_MEASURES.index(f.measure))))


# -- reading a results file -----------------------------------------------------------------------

def read_level_results(path: str | Path, unit_set: str, year: int) -> tuple[LevelResult, ...]:
    """Read a ministry or national results file; every body must be one of ``unit_set`` (the
    bodies of the edition's year) in its own group.  Refused whole with every problem located."""
    path = Path(path)
    rows, problems = read_table(path)
    units = load_unit_set(unit_set)
    results: list[LevelResult] = []
    for row in rows:
        result = _result(row, path.name, units, year, problems)
        if result is None:
            continue
        if any(r.code == result.code for r in results):
            problems.append(Problem("published.duplicate_unit", f"{result.name_vi} appears twice",
                                    file=path.name, row=result.row, column="unit_vi",
                                    unit=result.name_vi))
            continue
        results.append(result)
    problems += _rank_against_score(results, path.name)
    if problems:
        raise DataError(problems)
    return tuple(results)


def _result(row: Mapping[str, Any], file: str, units: UnitSet, year: int,
            problems: list[Problem]) -> LevelResult | None:
    where = {"file": file, "row": int(row["__row__"])}
    cell = {c: str(row.get(c) or "").strip() for c in ("unit_vi", "group", "rank", "score", "note",
                                                       "note_vi", "source_url", "quote")}
    found = len(problems)
    code = _code(cell["unit_vi"], units, year, problems, where)
    unit = units.get(code) if code else None
    expected = (unit.groups.get("group", "") if unit else "") or None
    if unit is not None and cell["group"] != expected:
        problems.append(Problem("published.wrong_group", f"{unit.name_vi} is in the group "
                                f"{expected or '(not stated in our sources)'}, not {cell['group']!r}; "
                                "write its group as the unit list has it", column="group",
                                unit=cell["unit_vi"], value=cell["group"], **where))
    rank = _number(cell["rank"], int, "rank", problems, where)
    score = _number(cell["score"], float, "score", problems, where)
    if rank is not None and rank < 1:
        problems.append(Problem("published.not_a_number", f"a rank is a whole number from 1, not "
                                f"{cell['rank']!r}", column="rank", value=cell["rank"], **where))
    sources = tuple(s.strip() for s in cell["source_url"].split(" ; ") if s.strip())
    if not sources or not all(s.startswith(("http://", "https://")) for s in sources):
        problems.append(Problem("published.missing_source", "every row needs the page(s) it comes "
                                "from: full http(s) addresses, separated by ' ; '",
                                column="source_url", value=cell["source_url"] or None, **where))
    if len(problems) > found or unit is None:
        return None
    decimals = len(cell["score"].partition(".")[2]) if score is not None else 4
    return LevelResult(unit.code, unit.name_vi, unit.name_en, cell["group"], rank, score,
                       cell["note"], sources, cell["quote"], where["row"], decimals, cell["note_vi"])


def _code(name: str, units: UnitSet, year: int, problems: list[Problem], where: dict) -> str:
    """The unit's code in the edition's set, or "" with the problem explained: a name the package
    does not know at all, or a body that did not exist in ``year``."""
    try:
        return units.resolve(name)
    except UnknownUnitError as exc:
        unknown = exc
    if units.id == NATIONAL_SET:
        problems.append(Problem("published.unknown_body", f"{unknown}; the national results name "
                                "the nation (Việt Nam)", column="unit_vi", unit=name, value=name,
                                **where))
        return ""
    try:
        other = find_body(name)
    except UnknownUnitError as exc:
        problems.append(Problem("published.unknown_body", f"{name!r} is not a ministry or "
                                "government body the package knows"
                                + (f" (did you mean {', '.join(exc.suggestions)}?)"
                                   if getattr(exc, "suggestions", None) else "")
                                + "; write the name or abbreviation of a body listed in "
                                "dti/units/data/ministries.csv, or add the body there with its "
                                "source", column="unit_vi", unit=name, value=name, **where))
        return ""
    problems.append(Problem("published.body_not_in_year", f"{other.name_vi} did not exist in "
                            f"{year}: {_lifetime(other)}; name the body as it was in {year}",
                            column="unit_vi", unit=name, value=name, **where))
    return ""


def _lifetime(body: Body) -> str:
    """When a body existed, and what it came from or became, in one clause."""
    if body.valid_from:
        before = predecessors(body)
        made = (f", formed from {' and '.join(b.name_vi for b in before)}" if before else "")
        return f"it exists from {english_date(body.valid_from)}{made}"
    after = successor(body)
    return f"it ended on {english_date(body.valid_to)}" + (
        f" and became {after.name_vi}" if after is not None else "")


def _number(text: str, kind: type, column: str, problems: list[Problem], where: dict):
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        problems.append(Problem("published.not_a_number", f"{text!r} is not a "
                                f"{'whole ' if kind is int else ''}number (write it with a decimal "
                                "point, as printed)", column=column, value=text, **where))
        return None


def _rank_against_score(results: list[LevelResult], file: str) -> list[Problem]:
    """Within a group, a better rank never has a lower published score."""
    problems = []
    for a in results:
        for b in results:
            if (a.group == b.group and None not in (a.rank, b.rank, a.score, b.score)
                    and a.rank < b.rank and a.score < b.score):   # type: ignore[operator]
                problems.append(Problem("published.rank_against_score", f"{a.name_vi} is ranked "
                                        f"{a.rank} with {a.score} but {b.name_vi} is ranked {b.rank} "
                                        f"with {b.score}; ranks follow scores within a group",
                                        file=file, row=a.row, column="rank", unit=a.name_vi))
    return problems


def level_summary(edition: LevelEdition) -> dict[str, Any]:
    """What ``dti editions`` lists for a ministry or national edition (the provincial keys, so one
    table holds every level)."""
    return {"id": edition.id, "level": edition.level, "year": edition.year,
            "name_vi": edition.name_vi, "name_en": edition.name_en, "framework": "",
            "legal_basis": edition.legal_basis, "unit_set": edition.unit_set,
            "bases": list(edition.bases),
            "main_indicators": edition.structure.get("main_indicators"),
            "published_on": edition.published_on,
            "published_ranks": sum(1 for r in edition.results if r.rank is not None)}


# -- one body across the level editions ------------------------------------------------------------

@dataclass(frozen=True)
class BodyEntry:
    """A body's published figures in one level edition."""

    edition: str
    year: int
    group: str
    rank: int | None
    score: float | None
    decimals: int = 4
    note: str = ""
    note_vi: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"edition": self.edition, "year": self.year, "group": self.group,
                "rank": self.rank, "score": self.score, "note_vi": self.note_vi,
                "note": self.note}


def body_history(code: str) -> tuple[BodyEntry, ...]:
    """Every level edition that publishes a rank or score of the unit ``code``, oldest first."""
    entries = []
    for edition_id in level_edition_ids():
        edition = load_level_edition(edition_id)
        for r in edition.results:
            if r.code == code:
                entries.append(BodyEntry(edition.id, edition.year, r.group, r.rank, r.score,
                                          r.decimals, r.note, r.note_vi))
    return tuple(sorted(entries, key=lambda e: e.year))
