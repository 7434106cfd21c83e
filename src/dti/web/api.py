"""The read-only, versioned open-data API under ``/api/v1`` (published editions only).

Routes are thin: each looks up one precomputed answer in :class:`ApiSnapshot`, built once per
:class:`~dti.web.snapshot.Catalogue` (drafts are already left out there) and kept on
the app's :class:`~dti.web.context.AppContext`, which routes take as a dependency.  Responses are typed ``*Public`` schemas; every one carries a ``licence`` and a
``source``.  Errors answer the application's one envelope ``{"error": {"status", "message"}}``
(:class:`ErrorEnvelope`) — request validation errors included, through :class:`EnvelopeRoute`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from dti.editions import Edition
from dti.editions.levels import LevelEdition
from dti.units import load_unit_set, normalise_name, unit_set_ids
from dti.units.bodies import group_name
from dti.web.context import app_context
from dti.web.i18n import TEXT
from dti.web.snapshot import (Catalogue, NodeFigure, Ranking, RankingRow, ShownNode,
                              province_history)

# ---------------------------------------------------------------- Public schemas


class ErrorPublic(BaseModel):
    status: int = Field(description="The HTTP status code, repeated")
    message: str = Field(description="What went wrong, in one sentence")


class ErrorEnvelope(BaseModel):
    """The one error shape of the portal's JSON answers."""

    error: ErrorPublic


class LicencePublic(BaseModel):
    name: str = Field(description="Licence of the open data")
    url: str
    notice_vi: str
    notice_en: str


class SourceReferencePublic(BaseModel):
    edition: str
    published_on: str = Field(description="Publication date of the official results (ISO)")
    legal_basis: str
    note: str = Field(description="Where the published figures were read")
    files: list[str] = Field(description="The shipped published-results files behind the figures")


class SourcePublic(BaseModel):
    description: str
    references: list[SourceReferencePublic]


class Provenance(BaseModel):
    licence: LicencePublic
    source: SourcePublic


class IndicatorPublic(BaseModel):
    code: str
    name_vi: str
    name_en: str
    role: str = Field(description="total, pillar or main")
    max_points: float | None = Field(description="Points the node is worth; null when not known")


Origin = Literal["published", "computed", "published+computed", "not_published"]


SourceClass = Literal["official", "provincial_portal", "national_press", "provincial_press", "third_party"]


class FigureSourcePublic(BaseModel):
    """One source of a published figure, as the record holds it."""

    measure: str = Field(description="The record's measure, e.g. rank, total_score, score_cqs")
    value: float = Field(description="The figure as this source prints it")
    url: str = Field(description="The page the figure was read on")
    host: str = Field(description="The site of that page")
    quote: str = Field(description="A short quote from that page")
    kind: Literal["stated", "derived_from_change"] = Field(
        description="stated, or derived_from_change (an earlier rank read from a stated rank and change)")
    source_class: SourceClass = Field(description="official (the ministry's own table), "
                                      "provincial_portal, national_press, provincial_press or "
                                      "third_party (a compilation, not a publisher)")
    third_party: bool
    derived: bool
    chosen: bool = Field(description="True for the source whose value the figure shows (precedence: "
                         "stated before derived, then the source class)")
    agrees: bool = Field(description="False when this source prints another value than the chosen one")


class FigurePublic(BaseModel):
    value: float | None = Field(description="Score on 0..1; null = not published (never 0)")
    rank: int | None = Field(description="Rank as published (ties share a rank); null = not published")
    origin: Origin = Field(description="published; computed (value recomputed from published "
                           "indicators); published+computed (rank published, value recomputed); "
                           "not_published")
    sources: list[FigureSourcePublic] = Field(
        default_factory=list, description="Every source of the score and the rank in the record")


class ProvinceResultPublic(BaseModel):
    code: str = Field(description="GSO province code on the ranking's basis")
    name_vi: str
    name_en: str
    region: str
    rank: int | None
    value: float | None = Field(description="Total score; null = not published")
    previous_rank: int | None = Field(description="Rank in the previous edition on the same basis")
    change: int | None = Field(description="previous_rank − rank (positive = moved up)")
    change_sources: list[FigureSourcePublic] = Field(
        default_factory=list, description="Sources that state the rank change themselves")
    figures: dict[str, FigurePublic] = Field(description="Per indicator code of `indicators`")
    source_note: str = Field(description="Where this row's published figures were read")
    group: str | None = Field(None, description="Ministry level: with_public_services or "
                              "without_public_services (the rank is within the group); national: "
                              "national; null for provinces")


class LevelSourcePublic(BaseModel):
    url: str = Field(description="The page the figure was read on")
    quote: str = Field(description="A short quote from that page")


class LevelFigurePublic(BaseModel):
    """A figure of a ministry-level or national edition that belongs to a group, not a unit."""

    group: str = Field(description="with_public_services, without_public_services, all_ministries "
                       "(as the source says), provinces or national")
    measure: str = Field(description="average_score, max_score, min_score, change_pct_vs_prev or "
                         "change_pct_vs_2020")
    value: float = Field(description="As published")
    sources: list[LevelSourcePublic]


class LevelGroupPublic(BaseModel):
    group: str
    name_vi: str
    name_en: str
    count: int = Field(description="Bodies of the group with a published rank or score")


class RankingPublic(Provenance):
    edition: str
    year: int
    basis: str = Field(description="Unit set of the ranking: provinces-63 or provinces-34")
    previous_edition: str | None
    region: str | None = Field(description="The region filter applied, if any")
    regions: list[str] = Field(description="Regions present on this basis (values for ?region=)")
    indicators: list[IndicatorPublic]
    count: int
    results: list[ProvinceResultPublic]
    level: Literal["province", "ministry", "national"] = Field(
        "province", description="The DTI level: provinces, ministries and government bodies (ranked "
        "within two groups) or the nation")
    groups: list[LevelGroupPublic] = Field(default_factory=list,
                                           description="Ministry and national levels: the groups")
    group_figures: list[LevelFigurePublic] = Field(
        default_factory=list, description="Ministry and national levels: group averages and other "
        "group figures as published, each with its sources")
    not_published: dict[str, str] = Field(
        default_factory=dict, description="Ministry and national levels: what our sources do not "
        "publish (keys vi, en)")


class ProvinceFigurePublic(IndicatorPublic, FigurePublic):
    provinces_with_value: int = Field(description="How many provinces of the basis have a value")
    mean: float | None = Field(description="Mean over the provinces with a value")
    national_mean: float | None = Field(description="Mean over every province; null unless all have a value")
    best: float | None = Field(description="Highest value among the provinces with a value")


class ProvinceEditionPublic(Provenance):
    edition: str
    year: int
    basis: str
    code: str
    name_vi: str
    name_en: str
    region: str
    rank: int | None
    value: float | None
    previous_edition: str | None
    previous_rank: int | None
    change: int | None
    change_sources: list[FigureSourcePublic] = Field(
        default_factory=list, description="Sources that state the rank change themselves")
    of: int = Field(description="Number of units on the basis")
    figures: list[ProvinceFigurePublic]


class HistoryEntryPublic(BaseModel):
    edition: str
    year: int
    basis: str
    code: str
    name_vi: str
    name_en: str
    value: float | None
    rank: int | None
    of: int
    same_unit: bool = Field(description="False when the row is a former or successor unit "
                            "(through the 63 → 34 crosswalk); ranks across bases do not compare")


class ProvinceHistoryPublic(Provenance):
    code: str
    basis: str
    name_vi: str
    name_en: str
    history: list[HistoryEntryPublic]


class FrameworkSummaryPublic(BaseModel):
    id: str
    name_vi: str
    name_en: str
    pillars: list[str]
    main_indicators: int
    sub_indicators: int | None
    max_points: float | None


class BasisPublic(BaseModel):
    basis: str
    units: int
    published_ranks: int


class EditionSummaryPublic(BaseModel):
    id: str
    year: int
    name_vi: str
    name_en: str
    unit_set: str
    bases: list[str]
    published_on: str
    legal_basis: str
    previous: str | None
    links: dict[str, str]


class EditionListPublic(Provenance):
    editions: list[EditionSummaryPublic]


class EditionPublic(Provenance, EditionSummaryPublic):
    note: str
    results: list[BasisPublic]
    framework: FrameworkSummaryPublic


class FrameworkNodePublic(BaseModel):
    code: str
    name_vi: str
    name_en: str
    type: str
    role: str
    level: int
    parents: list[str]
    max_points: float | None
    scored: bool
    note: str


class FrameworkPublic(Provenance):
    edition: str
    id: str
    name_vi: str
    name_en: str
    legal_basis: str
    formula: str | None
    unknown: str | None = Field(description="What the sources do not say (e.g. points not published)")
    sub_indicators: int | None
    precision: int | None
    nodes: list[FrameworkNodePublic]


# ---------------------------------------------------------------- the precomputed answers

LICENCE = LicencePublic(name="CC BY 4.0", url="https://creativecommons.org/licenses/by/4.0/",
                        notice_vi=TEXT["vi"]["licence"], notice_en=TEXT["en"]["licence"])
SOURCE_TEXT = ("The official DTI results as published (see each reference and each row's "
               "source_note); an empty published cell is null, never 0.")


def _reference(edition: Edition) -> SourceReferencePublic:
    return SourceReferencePublic(edition=edition.id, published_on=edition.published_on,
                                 legal_basis=edition.legal_basis, note=edition.note,
                                 files=[p.file for p in edition.published])


def _origin(source: str) -> Origin:
    return source if source in ("published", "computed", "published+computed") else "not_published"


@dataclass
class ApiSnapshot:
    """Every answer of the API, computed once from a catalogue (editions are frozen)."""

    catalogue: Catalogue
    editions: EditionListPublic | None = None
    edition: dict[str, EditionPublic] = field(default_factory=dict)
    rankings: dict[tuple[str, str], RankingPublic] = field(default_factory=dict)
    provinces: dict[tuple[str, str, str], ProvinceEditionPublic] = field(default_factory=dict)
    frameworks: dict[str, FrameworkPublic] = field(default_factory=dict)
    histories: dict[tuple[str, str], ProvinceHistoryPublic] = field(default_factory=dict)
    history_bases: tuple[str, ...] = ()   # the default basis of a history first: the latest's

    @classmethod
    def build(cls, catalogue: Catalogue) -> "ApiSnapshot":
        snap = cls(catalogue)
        ordered = sorted(catalogue.editions, key=lambda e: e.year)
        everything = SourcePublic(description=SOURCE_TEXT, references=[_reference(e) for e in ordered])
        snap.editions = EditionListPublic(licence=LICENCE, source=everything,
                                          editions=[_summary(e, catalogue) for e in ordered])
        for e in ordered:
            source = SourcePublic(description=SOURCE_TEXT, references=[_reference(e)])
            snap.edition[e.id] = _edition(e, catalogue, source)
            snap.frameworks[e.id] = _framework(e, source)
            for basis in e.bases:
                ranking = catalogue.ranking(e.id, basis)
                snap.rankings[e.id, basis] = _ranking(ranking, source)
                stats = _column_stats(ranking)
                for row in ranking.rows:
                    snap.provinces[e.id, basis, row.code] = _province(ranking, row, source, stats)
        for level in catalogue.levels:
            source = SourcePublic(description=SOURCE_TEXT, references=[_level_reference(level)])
            snap.rankings[level.id, level.unit_set] = _level_ranking(level, catalogue, source)
        latest = ordered[-1] if ordered else None
        snap.history_bases = tuple(dict.fromkeys(
            [*([latest.unit_set, *latest.bases] if latest else []), *(b for e in ordered for b in e.bases)]))
        for basis in snap.history_bases:
            for unit in load_unit_set(basis):
                history = province_history(catalogue, unit.code, basis)
                snap.histories[unit.code, basis] = ProvinceHistoryPublic(
                    licence=LICENCE, source=everything, code=unit.code, basis=basis,
                    name_vi=unit.name_vi, name_en=unit.name_en,
                    history=[HistoryEntryPublic(**h.as_dict()) for h in history])
        return snap


def _level_reference(e: LevelEdition) -> SourceReferencePublic:
    return SourceReferencePublic(edition=e.id, published_on=e.published_on,
                                 legal_basis=e.legal_basis, note=e.note_en,
                                 files=[e.file] if e.file else [])


def _level_ranking(e: LevelEdition, catalogue: Catalogue, source: SourcePublic) -> RankingPublic:
    """A ministry-level or national edition in the results shape: one row per body, ranked within
    its group, rank changes against the previous edition's rank in the same group."""
    previous = catalogue.level(e.previous or "")
    before = {(r.code, r.group): r.rank for r in previous.results} if previous else {}
    order = {g: i for i, g in enumerate(e.groups)}
    rows = sorted(e.results, key=lambda r: (order[r.group], r.rank or 10**6, -(r.score or 0)))
    results = []
    for r in rows:
        was = before.get((r.code, r.group))
        figure = FigurePublic(value=r.score, rank=r.rank, sources=[],
                              origin="published" if r.score is not None or r.rank is not None
                              else "not_published")
        note = " ; ".join(r.sources) + (f" — {r.quote}" if r.quote else "") + (f" ({r.note})" if r.note else "")
        results.append(ProvinceResultPublic(
            code=r.code, name_vi=r.name_vi, name_en=r.name_en, region="", rank=r.rank, value=r.score,
            previous_rank=was, change=None if was is None or r.rank is None else was - r.rank,
            figures={"DTI": figure}, source_note=note, group=r.group))
    total = IndicatorPublic(code="DTI", name_vi=e.name_vi, name_en=e.name_en, role="total",
                            max_points=e.structure.get("max_points"))
    groups = [LevelGroupPublic(group=g, name_vi=group_name(g, "vi") or "Quốc gia",
                               name_en=group_name(g, "en") or "The nation", count=len(e.in_group(g)))
              for g in e.groups]
    figures = [LevelFigurePublic(group=f.group, measure=f.measure, value=f.value,
                                 sources=[LevelSourcePublic(url=u, quote=q) for u, q in f.sources])
               for f in e.figures]
    return RankingPublic(licence=LICENCE, source=source, edition=e.id, year=e.year, basis=e.unit_set,
                         previous_edition=previous.id if previous else None, region=None, regions=[],
                         indicators=[total], count=len(results), results=results, level=e.level,
                         groups=groups, group_figures=figures,
                         not_published={"vi": e.not_published, "en": e.not_published_en})


def _summary(e: Edition, catalogue: Catalogue) -> dict[str, Any]:
    base = f"/api/v1/editions/{e.id}"
    previous = e.previous if catalogue.edition(e.previous or "") else None   # never a draft's id
    return dict(id=e.id, year=e.year, name_vi=e.name_vi, name_en=e.name_en, unit_set=e.unit_set,
                bases=list(e.bases), published_on=e.published_on, legal_basis=e.legal_basis,
                previous=previous, links={"self": base, "results": f"{base}/results",
                                            "framework": f"{base}/framework"})


def _edition(e: Edition, catalogue: Catalogue, source: SourcePublic) -> EditionPublic:
    fw = e.framework
    results = [BasisPublic(basis=b, units=len(catalogue.ranking(e.id, b).rows),
                           published_ranks=len(r.ranks.get(fw.root.code, {})) if (r := e.results(b)) else 0)
               for b in e.bases]
    framework = FrameworkSummaryPublic(
        id=fw.id, name_vi=fw.name_vi, name_en=fw.name_en,
        pillars=[n.code for n in fw.nodes if n.role == "pillar"],
        main_indicators=sum(1 for n in fw.indicators if n.role == "main" and n.scored),
        sub_indicators=fw.meta.get("sub_indicators"), max_points=fw.root.max_points)
    return EditionPublic(**_summary(e, catalogue), licence=LICENCE, source=source, note=e.note, results=results,
                         framework=framework)


def _figure(f: NodeFigure) -> FigurePublic:
    return FigurePublic(value=f.value, rank=f.rank, origin=_origin(f.source),
                        sources=list(f.sources))


def _ranking(ranking: Ranking, source: SourcePublic) -> RankingPublic:
    e = ranking.edition
    notes = (e.results(ranking.basis).sources if e.results(ranking.basis) else {})
    results = [ProvinceResultPublic(
        code=r.code, name_vi=r.name_vi, name_en=r.name_en, region=r.region, rank=r.rank,
        value=r.value, previous_rank=r.previous_rank, change=r.change,
        change_sources=list(r.change_sources), figures={k: _figure(f) for k, f in r.figures.items()},
        source_note=notes.get(r.code, ""))
        for r in ranking.rows]
    return RankingPublic(licence=LICENCE, source=source, edition=e.id, year=e.year, basis=ranking.basis,
                         previous_edition=ranking.previous, region=None,
                         regions=sorted({r.region for r in ranking.rows if r.region}),
                         indicators=[IndicatorPublic(**_indicator(c)) for c in ranking.columns],
                         count=len(results), results=results)


def _column_stats(ranking: Ranking) -> dict[str, dict[str, Any]]:
    """The ranking's own column statistics in the API's shape (mean rounded: no float noise)."""
    stats = {}
    for c in ranking.columns:
        own = ranking.column_stats[c.code]
        mean = round(own.mean, 6) if own.mean is not None else None
        stats[c.code] = {**_indicator(c),
                         "provinces_with_value": own.n, "mean": mean,
                         "national_mean": mean if own.n == len(ranking.rows) else None,
                         "best": own.best}
    return stats


def _indicator(node: ShownNode) -> dict[str, Any]:
    """The fields of a shown node that the API's indicator schema publishes, in its order."""
    return {k: getattr(node, k) for k in IndicatorPublic.model_fields}


def _province(ranking: Ranking, row: RankingRow, source: SourcePublic,
              stats: dict[str, dict[str, Any]]) -> ProvinceEditionPublic:
    figures = [ProvinceFigurePublic(**stats[code], **_figure(f).model_dump())
               for code, f in row.figures.items()]
    e = ranking.edition
    return ProvinceEditionPublic(
        licence=LICENCE, source=source, edition=e.id, year=e.year, basis=ranking.basis, code=row.code,
        name_vi=row.name_vi, name_en=row.name_en, region=row.region, rank=row.rank,
        value=row.value, previous_edition=ranking.previous, previous_rank=row.previous_rank,
        change=row.change, change_sources=list(row.change_sources),
        of=len(ranking.rows), figures=figures)


def _framework(e: Edition, source: SourcePublic) -> FrameworkPublic:
    fw = e.framework
    nodes = [FrameworkNodePublic(code=n.code, name_vi=n.name_vi, name_en=n.name_en, type=n.type,
                                 role=n.role, level=n.level, parents=list(n.parents),
                                 max_points=n.max_points, scored=n.scored, note=n.note) for n in fw.nodes]
    return FrameworkPublic(licence=LICENCE, source=source, edition=e.id, id=fw.id, name_vi=fw.name_vi,
                           name_en=fw.name_en, legal_basis=fw.meta.get("legal_basis", e.legal_basis),
                           formula=fw.meta.get("formula"), unknown=fw.meta.get("unknown"),
                           sub_indicators=fw.meta.get("sub_indicators"), precision=fw.precision,
                           nodes=nodes)


def snapshot(request: Request) -> ApiSnapshot:
    """The app's API snapshot, built with its context (again only when a publication replaces
    the catalogue)."""
    return app_context(request).api_v1


SnapshotDep = Annotated[ApiSnapshot, Depends(snapshot)]


# ---------------------------------------------------------------- routes


class EnvelopeRoute(APIRoute):
    """Request validation errors become ``HTTPException(422)``, so they answer the app's envelope."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def route(request: Request):
            try:
                return await handler(request)
            except RequestValidationError as exc:
                raise HTTPException(422, "; ".join(_explain(e) for e in exc.errors())) from None

        return route


def _explain(error: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "path"))
    return f"{where}: {error.get('msg', 'invalid')}"


ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorEnvelope, "description": "No published edition, basis or province by that name"},
    422: {"model": ErrorEnvelope, "description": "A parameter is malformed"},
}
router = APIRouter(prefix="/api/v1", tags=["open data"], route_class=EnvelopeRoute, responses=ERRORS)

BasisId = Literal[unit_set_ids()]  # the shipped unit sets: provinces-63, provinces-34
EditionId = Annotated[str, Path(description="Edition id, e.g. dti-province-2022", max_length=64,
                                pattern=r"^[a-z0-9][a-z0-9-]*$", examples=["dti-province-2022"])]
ProvinceCode = Annotated[str, Path(description="GSO province code on the basis, e.g. 48 (Đà Nẵng)",
                                   pattern=r"^[0-9]{2}$", examples=["48"])]
BasisQuery = Annotated[BasisId | None, Query(description="Unit basis; default: the edition's own")]
RegionQuery = Annotated[str | None, Query(max_length=100, description="Region name, e.g. Tây Nguyên")]


def _found(answer: Any, what: str, basis: str | None = None) -> Any:
    if answer is None:
        raise HTTPException(404, f"no published {what}" + (f" on {basis}" if basis else ""))
    return answer


@router.get("/editions", summary="List the published editions",
            description="Every published edition, oldest first, with links to its results and "
                        "framework. Draft editions are never listed.")
async def list_editions(snap: SnapshotDep) -> EditionListPublic:
    return snap.editions


@router.get("/editions/{edition}", summary="One edition",
            description="Metadata of a published edition: bases, legal basis, publication date, "
                        "how many ranks were published per basis, and a framework summary.")
async def get_edition(snap: SnapshotDep, edition: EditionId) -> EditionPublic:
    return _found(snap.edition.get(edition), f"edition {edition!r}")


@router.get("/editions/{edition}/results", summary="An edition's results",
            description="Every province on one basis, ordered by published rank (ties as published), "
                        "with total, pillar and main-indicator figures. Filter by `region` (accents "
                        "and case ignored); an unknown region gives an empty list. For a "
                        "ministry-level edition (dti-ministry-2021) every body with a published rank "
                        "or score, ranked within its group (`group`), with the group averages; for "
                        "a national edition (dti-national-2024) the nation's value.")
async def get_results(snap: SnapshotDep, edition: EditionId, basis: BasisQuery = None,
                      region: RegionQuery = None) -> RankingPublic:
    chosen = _found(snap.catalogue.edition(edition) or snap.catalogue.level(edition),
                    f"edition {edition!r}")
    ranking = _found(snap.rankings.get((edition, basis or chosen.unit_set)), f"edition {edition!r}", basis)
    if not region:
        return ranking
    key = normalise_name(region)
    rows = [r for r in ranking.results if r.region and normalise_name(r.region) == key]
    return ranking.model_copy(update={"region": region, "results": rows, "count": len(rows)})


@router.get("/editions/{edition}/provinces/{code}", summary="One province's figures in an edition",
            description="Total, pillar and main-indicator values and ranks of one province, against "
                        "the mean and the best province; rank change vs the previous edition.")
async def get_province(snap: SnapshotDep, edition: EditionId, code: ProvinceCode,
                       basis: BasisQuery = None) -> ProvinceEditionPublic:
    chosen = _found(snap.catalogue.edition(edition), f"edition {edition!r}")
    found = next((p for b in ([basis] if basis else chosen.bases)
                  if (p := snap.provinces.get((edition, b, code)))), None)
    return _found(found, f"province with code {code!r} in {edition}", basis)


@router.get("/provinces/{code}/history", summary="A province across editions",
            description="Total and rank in every published edition. On the 34-unit basis a merged "
                        "province is followed back through its former provinces (same_unit=false); "
                        "default basis: the latest edition's, else the first that has the code.")
async def get_history(snap: SnapshotDep, code: ProvinceCode, basis: BasisQuery = None) -> ProvinceHistoryPublic:
    found = next((h for b in ([basis] if basis else snap.history_bases)
                  if (h := snap.histories.get((code, b)))), None)
    return _found(found, f"province with code {code!r}", basis)


@router.get("/editions/{edition}/framework", summary="An edition's framework and method",
            description="The indicator framework of an edition: every node with its points, parents "
                        "and role, the formula, legal basis and what the sources leave unknown.")
async def get_framework(snap: SnapshotDep, edition: EditionId) -> FrameworkPublic:
    return _found(snap.frameworks.get(edition), f"edition {edition!r}")
