"""The shipped DTI editions: framework, recipe, unit set and published results of each year.

Published results are kept as published: an empty cell is *not published* (``None`` / absent),
never 0.  Source notes for every file are in ``SOURCES.md`` beside this module and in each row's
``source_note``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import yaml

from dti.engine.recipe import Recipe
from dti.errors import DataError, Problem, UnknownEditionError, UnknownUnitError
from dti.framework.load import framework_from_dict
from dti.framework.model import Framework
from dti.tabular import read_table
from dti.units import UnitSet, load_unit_set

if TYPE_CHECKING:  # NumPy loads only when a dataset is built: listing editions stays quick
    from dti.engine.data import Dataset

# Layout of the published-results CSVs: column -> node code (scores) and rank column -> node code.
SCORE_COLUMNS = {
    "total_score": "DTI", "score_cqs": "CQS", "score_kts": "KTS", "score_xhs": "XHS",
    "ind_nhan_thuc_so": "NTS", "ind_the_che_so": "TCS", "ind_ha_tang_so": "HTS",
    "ind_nhan_luc_so": "NLS", "ind_an_toan_thong_tin_mang": "ATTT",
    "ind_hd_chinh_quyen_so": "HDCQS", "ind_hd_kinh_te_so": "HDKTS", "ind_hd_xa_hoi_so": "HDXHS",
}
RANK_COLUMNS = {"rank": "DTI", "rank_cqs": "CQS", "rank_kts": "KTS", "rank_xhs": "XHS"} | {
    f"rank_{k}": v for k, v in SCORE_COLUMNS.items() if k.startswith("ind_")}


@dataclass(frozen=True)
class PublishedResults:
    """Figures as published for one unit basis; absent keys mean *not published*."""

    basis: str
    file: str
    units: tuple[str, ...]
    scores: Mapping[str, Mapping[str, float]]
    ranks: Mapping[str, Mapping[str, int]]
    sources: Mapping[str, str] = field(default_factory=dict)

    def score(self, code: str, unit: str) -> float | None:
        return self.scores.get(code, {}).get(unit)

    def rank(self, code: str, unit: str) -> int | None:
        return self.ranks.get(code, {}).get(unit)

    def dataset(self, framework: Framework, unit_set: UnitSet) -> Dataset:
        """The published values of the framework's data nodes, one row per unit of the set."""
        import numpy as np

        from dti.engine.data import Dataset

        nodes = framework.data_nodes
        values = np.array([[self.scores.get(n.code, {}).get(u, math.nan) for n in nodes]
                           for u in unit_set.codes], dtype=float).reshape(len(unit_set), len(nodes))
        return Dataset(unit_set.codes, tuple(n.data_column for n in nodes), values,
                       {"region": tuple(unit_set.get(u).region for u in unit_set.codes)},
                       unit_set.id, self.file)


@dataclass(frozen=True)
class Edition:
    id: str
    year: int
    name_vi: str
    name_en: str
    framework: Framework
    recipe: Recipe
    unit_set: str
    previous: str | None
    published_on: str
    legal_basis: str
    note: str
    merge_rule: str | None
    published: tuple[PublishedResults, ...]
    status: str = "published"   # "draft" for an edition being prepared: never shown publicly
    illustrative: bool = False  # simulated data (the assessment demo): labelled on every page
    # A published uncertainty analysis (rank intervals per unit), frozen with the edition; None
    # when none was published.
    uncertainty: Mapping[str, Any] | None = None
    note_en: str = ""           # the note in English (the portal's English pages)

    @property
    def is_published(self) -> bool:
        return self.status == "published"

    def name(self, lang: str = "vi") -> str:
        return self.name_en if lang == "en" else self.name_vi

    @property
    def names_as_of(self) -> str:
        """Units are named as they were at the end of the assessed year (Thừa Thiên Huế until
        2024, as the ministry's tables write it)."""
        return f"{self.year}-12-31"

    def units(self, basis: str | None = None) -> UnitSet:
        """The edition's unit set (or another basis of it), each unit named as of the edition."""
        return load_unit_set(basis or self.unit_set, as_of=self.names_as_of)

    @property
    def bases(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([self.unit_set, *(p.basis for p in self.published)]))

    def results(self, basis: str | None = None) -> PublishedResults | None:
        basis = basis or self.unit_set
        return next((p for p in self.published if p.basis == basis), None)

    def dataset(self, basis: str | None = None) -> Dataset:
        """The published values as engine input (all-missing when nothing was published)."""
        basis = basis or self.unit_set
        units = load_unit_set(basis)
        results = self.results(basis) or PublishedResults(basis, "", units.codes, {}, {})
        return results.dataset(self.framework, units)


def _yaml(text: str) -> Any:
    """A shipped YAML file, parsed by libyaml where PyYAML has it (ten times faster; the package's
    own files, so the pure-Python loader's friendlier messages are not needed)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _package_dir() -> Path:
    return Path(str(resources.files("dti.editions")))


# The ministry-level and national editions (:mod:`dti.editions.levels`): published figures
# without a framework to compute, so they are listed apart from the provincial editions.
LEVEL_PREFIXES = ("dti-ministry-", "dti-national-")


def edition_ids() -> tuple[str, ...]:
    """The provincial editions (the ministry and national ones: ``levels.level_edition_ids``)."""
    return tuple(sorted(p.stem for p in _package_dir().glob("dti-*.yaml")
                        if not p.stem.startswith(LEVEL_PREFIXES)))


def method_ids() -> tuple[str, ...]:
    """The assessment methods (``methods/*.yaml``): a framework, recipe and unit set that a store
    edition can be opened on (``base_edition``), with no published results of their own — the
    ministry-level assessment, whose official method is not published, is one.  Never listed on
    the portal."""
    return tuple(sorted(p.stem for p in (_package_dir() / "methods").glob("*.yaml")))


def base_ids() -> tuple[str, ...]:
    """Everything an edition in the store can take its method from: the provincial editions and
    the assessment methods."""
    return (*edition_ids(), *method_ids())


def _edition_file(edition_id: str) -> Path:
    folder = _package_dir()
    return folder / f"{edition_id}.yaml" if edition_id in edition_ids() else \
        folder / "methods" / f"{edition_id}.yaml"


@lru_cache(maxsize=None)
def load_edition(edition_id: str) -> Edition:
    """A provincial edition or an assessment method (:func:`method_ids`) by its id."""
    known = base_ids()
    if edition_id not in known:
        error = UnknownEditionError(edition_id, list(known))
        if edition_id.startswith(LEVEL_PREFIXES) and (_package_dir() / f"{edition_id}.yaml").is_file():
            error.args = (f"{edition_id!r} is a ministry-level or national edition: it holds the "
                          "published figures only (dti editions, dti unit, /api/v1/editions/"
                          f"{edition_id}/results); the editions with a framework are: "
                          f"{', '.join(known)}",)
        raise error
    base = _package_dir()
    raw = _yaml(_edition_file(edition_id).read_text(encoding="utf-8"))
    framework = _load_framework(raw["framework"])
    recipe = Recipe.from_dict(raw.get("recipe"), file=f"{edition_id}.yaml")
    published = tuple(read_published(base / p["file"], p["basis"]) for p in raw.get("published", []))
    if edition_id in edition_ids():   # a method has no published record
        published = with_record(published, int(raw["year"]), framework)
    return Edition(
        id=raw["id"], year=int(raw["year"]), name_vi=raw["name_vi"], name_en=raw["name_en"],
        framework=framework, recipe=recipe, unit_set=raw["unit_set"], previous=raw.get("previous"),
        published_on=str(raw.get("published_on", "")), legal_basis=raw.get("legal_basis", ""),
        note=raw.get("note", ""), merge_rule=raw.get("merge_rule"), published=published,
        status=str(raw.get("status", "published")), note_en=str(raw.get("note_en", "")))


def framework_source(edition_id: str) -> dict[str, Any]:
    """The framework file of a shipped edition as data (what a publication freezes)."""
    load_edition(edition_id)   # a clear error for an unknown id
    raw = _yaml(_edition_file(edition_id).read_text(encoding="utf-8"))
    return _yaml((_package_dir() / raw["framework"]).read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def _load_framework(relative: str) -> Framework:
    path = _package_dir() / relative
    return framework_from_dict(_yaml(path.read_text(encoding="utf-8")), file=path.name)


def read_published(path: Path, basis: str) -> PublishedResults:
    """Read a published-results CSV; every province name must resolve in ``basis``."""
    rows, problems = read_table(path)
    units = load_unit_set(basis)
    scores: dict[str, dict[str, float]] = {}
    ranks: dict[str, dict[str, int]] = {}
    sources: dict[str, str] = {}
    order: list[str] = []
    for row in rows:
        where = {"file": path.name, "row": row["__row__"]}
        try:
            unit = units.resolve(str(row.get("province_vi", "")))
        except UnknownUnitError as exc:
            problems.append(Problem("published.unknown_unit", str(exc), column="province_vi",
                                    unit=str(row.get("province_vi", "")), **where))
            continue
        if unit in sources:
            problems.append(Problem("published.duplicate_unit", f"{unit} appears twice",
                                    column="province_vi", unit=unit, **where))
            continue
        order.append(unit)
        sources[unit] = str(row.get("source_note") or "")
        for columns, target, kind in ((SCORE_COLUMNS, scores, float), (RANK_COLUMNS, ranks, int)):
            for column, code in columns.items():
                text = str(row.get(column) or "").strip()
                if not text:
                    continue
                try:
                    target.setdefault(code, {})[unit] = kind(text)
                except ValueError:
                    problems.append(Problem("published.not_a_number", f"{text!r} is not a "
                                            f"{'whole ' if kind is int else ''}number",
                                            column=column, unit=unit, value=text, **where))
    if problems:
        raise DataError(problems)
    return PublishedResults(basis, path.name, tuple(order), scores, ranks, sources)


def with_record(published: tuple[PublishedResults, ...], year: int,
                framework: Framework) -> tuple[PublishedResults, ...]:
    """The results files completed with the published record's stated figures of the same year
    (the winning source of each): more ranks, pillar values and ranks where the record has them,
    and a basis the files lack (2020).  Where both give a figure they agree (a test checks it)."""
    from dti.editions.record import shipped_record

    record = shipped_record()
    nodes = {n.code for n in framework.nodes}
    by_basis = {p.basis: p for p in published}
    for basis in sorted({f.basis for f in record.facts if f.year == year}):
        before = by_basis.get(basis) or PublishedResults(basis, "facts", (), {}, {})
        scores = {code: dict(units) for code, units in before.scores.items()}
        ranks = {code: dict(units) for code, units in before.ranks.items()}
        units = list(before.units)
        for measure, figures in record.of(year, basis).items():
            code, target, kind = ((SCORE_COLUMNS.get(measure), scores, float) if measure in SCORE_COLUMNS
                                  else (RANK_COLUMNS.get(measure), ranks, int))
            if code is None or code not in nodes:
                continue
            for unit, figure in figures.items():
                if figure.winner.derived:
                    continue   # an earlier rank read from a stated change: the record shows it as such
                target.setdefault(code, {}).setdefault(unit, kind(figure.value))
                if unit not in units:
                    units.append(unit)
        by_basis[basis] = PublishedResults(basis, before.file, tuple(units), scores, ranks,
                                           dict(before.sources))
    return tuple(by_basis.values())


def edition_summary(edition: Edition) -> dict[str, Any]:
    """What ``dti editions`` lists for one edition."""
    fw = edition.framework
    return {"id": edition.id, "level": "province", "year": edition.year, "name_vi": edition.name_vi,
            "name_en": edition.name_en, "framework": fw.id, "legal_basis": edition.legal_basis,
            "unit_set": edition.unit_set, "bases": list(edition.bases),
            "main_indicators": sum(1 for n in fw.indicators if n.scored and n.parents),
            "published_on": edition.published_on,
            "published_ranks": sum(len(p.ranks.get("DTI", {})) for p in edition.published)}
