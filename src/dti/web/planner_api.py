"""The province planner on the open-data API: target plan, defence view and strengths (read-only).

``/api/v1/editions/{edition}/provinces/{code}/plan|defence|strengths`` answer typed ``*Public``
schemas with the API's ``licence`` and ``source`` and its one error envelope.  Published editions
only (the :class:`~dti.web.snapshot.Catalogue` leaves drafts out): an unknown or draft edition is
a 404; a province the planner cannot run for (no published main-indicator values) is a 404: there is
no plan to give (a well-formed request, so not a 422).
Answers are pure functions of frozen data, so each is computed once per app and catalogue
(``AppContext.planner``, see :mod:`dti.web.context`); the page ``/provinces/{code}/plan`` reuses the same answers.  Solves run
on the planner pool, never on the event loop, a bounded number at once (beyond: 503 with
``Retry-After``); see :mod:`dti.web.render_gate`.
"""

from __future__ import annotations

from typing import Annotated, Any, Callable, Literal

import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from dti.analysis import planner
from dti.editions import Edition
from dti.engine.build import build
from dti.engine.data import Dataset
from dti.errors import ComputeError, InputError
from dti.units import load_unit_set
from dti.web.api import (ERRORS, LICENCE, SOURCE_TEXT, EditionId, EnvelopeRoute, ProvinceCode,
                         Provenance, SourcePublic, _reference)
from dti.web.context import app_context
from dti.web.render_gate import offloaded

# ---------------------------------------------------------------- Public schemas


class PlanTargetPublic(BaseModel):
    rank: int | None = Field(description="The rank asked for (or better); default: one place up")
    score: float | None = Field(description="The published score asked for (or more), if any")
    node: str = Field(description="The total (e.g. DTI) or the pillar the rank is in")
    strict: bool = Field(description="True: rank not shared (strictly above the unit now at that rank)")


class PlanStepPublic(BaseModel):
    code: str = Field(description="Main indicator")
    name_vi: str
    name_en: str
    points: float = Field(description="Points added to the indicator")
    value_before: float = Field(description="Published value (0..1)")
    value_after: float = Field(description="Value after the plan (0..1)")
    headroom: float = Field(description="Points the indicator could still gain up to its maximum")


class RivalPublic(BaseModel):
    code: str
    name_vi: str
    name_en: str
    score: float = Field(description="The rival's published score in the target's node")
    rank: int
    status: Literal["overtaken", "tied"]


class PlanPublic(Provenance):
    edition: str
    basis: str
    code: str
    name_vi: str
    name_en: str
    target: PlanTargetPublic
    reachable: bool
    reason_code: str = Field(description="Empty when reachable; else beyond_maximum, bounds_too_tight, "
                             "solver or not_confirmed")
    reason: str = Field(description="Why no plan exists (English); empty when reachable")
    needed: float | None = Field(description="The published score the target needs")
    threshold: float | None = Field(description="The exact (unrounded) score the target needs")
    maximum: float | None = Field(description="Best published score possible (unreachable targets)")
    points: float = Field(description="Least total points added (0 when the target is already met)")
    score_before: float | None
    score_after: float | None
    rank_before: int | None
    rank_after: int | None
    steps: list[PlanStepPublic]
    scores_after: dict[str, float | None] = Field(description="Total and pillars after the plan")
    ranks_after: dict[str, int | None]
    rivals: list[RivalPublic] = Field(description="Units the plan overtakes or ties")


class ThreatStepPublic(BaseModel):
    code: str
    points: float


class ThreatPublic(BaseModel):
    code: str
    name_vi: str
    name_en: str
    score: float
    rank: int
    gap: float = Field(description="Published score difference to the defended province")
    reachable: bool
    points_needed: float | None = Field(description="Least points to end strictly above; null if unreachable")
    reason: str
    steps: list[ThreatStepPublic]


class DefencePublic(Provenance):
    edition: str
    basis: str
    code: str
    name_vi: str
    name_en: str
    node: str
    score: float
    rank: int
    threats: list[ThreatPublic] = Field(description="The provinces just below, nearest first")


class StandingPublic(BaseModel):
    code: str
    name_vi: str
    name_en: str
    value: float | None
    points: float | None
    max_points: float | None
    rank: int | None
    ranked: int = Field(description="Provinces with a value on this indicator")
    missing_to_max: float | None = Field(description="Points missing against the maximum")
    missing_to_best: float | None = Field(description="Points missing against the best province")
    best_value: float | None
    best_units: list[str]


class PeerPublic(BaseModel):
    code: str
    name_vi: str
    name_en: str
    score: float | None
    rank: int | None
    distance: float | None


class StrengthsPublic(Provenance):
    edition: str
    basis: str
    code: str
    name_vi: str
    name_en: str
    node: str
    score: float | None
    rank: int | None
    region: str
    indicators: list[StandingPublic]
    strongest: list[str]
    weakest: list[str]
    region_peers: list[PeerPublic]
    nearest_peers: list[PeerPublic]


# ---------------------------------------------------------------- computing (cached)


def _cached(request: Request, key: tuple, compute: Callable[[], Any]) -> Any:
    cache = app_context(request).planner   # the current catalogue's: a publication starts anew
    hit = cache.get(key)
    if hit is None:
        hit = compute()
        cache.put(key, hit)
    return hit


def published_edition(request: Request, edition_id: str) -> Edition:
    edition = app_context(request).catalogue.edition(edition_id)
    if edition is None:
        raise HTTPException(404, f"no published edition {edition_id!r}")
    return edition


def _dataset(edition: Edition, code: str) -> Dataset:
    data = edition.dataset()
    if code not in data.units:
        raise HTTPException(404, f"no published province with code {code!r} in {edition.id}")
    if np.isnan(data.values[data.units.index(code)]).all():
        raise HTTPException(404, f"province {code} has no published main-indicator values in "
                            f"{edition.id}, so the planner cannot run for it")
    return data


def _run(code: str, edition: Edition, compute: Callable[[], Any]) -> Any:
    try:
        return compute()
    except InputError as exc:
        # a well-formed request for a target that does not exist (e.g. no such pillar): 404
        raise HTTPException(404, "; ".join(p.message for p in exc.problems) or str(exc)) from None
    except ComputeError as exc:
        raise HTTPException(404, f"the planner cannot run for province {code} in {edition.id}: "
                            f"{exc}") from None


def _provenance(edition: Edition) -> dict[str, Any]:
    return {"licence": LICENCE, "source": SourcePublic(description=SOURCE_TEXT,
                                                       references=[_reference(edition)])}


def _names(basis: str, code: str) -> dict[str, str]:
    units = load_unit_set(basis)
    unit = units.get(code) if code in units else None
    return {"name_vi": unit.name("vi") if unit else code, "name_en": unit.name("en") if unit else code}


def _node_names(edition: Edition, code: str) -> dict[str, str]:
    fw = edition.framework
    node = fw[code] if code in fw else None
    return {"name_vi": node.name_vi if node else code, "name_en": node.name_en if node else code}


def _head(edition: Edition, data: Dataset, code: str) -> dict[str, Any]:
    return {**_provenance(edition), "edition": edition.id, "basis": data.unit_set, "code": code,
            **_names(data.unit_set, code)}


def compute_plan(request: Request, edition: Edition, code: str, rank: int | None,
                 pillar: str | None, strict: bool, score: float | None = None) -> PlanPublic:
    """The least-points plan for ``code`` to reach ``rank`` and/or ``score`` (default: one place
    up)."""
    data = _dataset(edition, code)
    fw, recipe = edition.framework, edition.recipe

    def current_rank() -> int:
        target = planner.make_target(fw, rank=1, pillar=pillar)   # checks the pillar
        b = build(data, fw, recipe)
        now = b.rank(target.node or fw.root.code)[b.unit_row(code)]
        if np.isnan(now):
            raise ComputeError(f"{code} is not ranked")
        return max(1, int(now) - 1)

    if rank is None and score is None:
        rank = _cached(request, ("rank", edition.id, code, pillar),
                       lambda: _run(code, edition, current_rank))
    key = ("plan", edition.id, code, rank, score, pillar, strict)
    return _cached(request, key, lambda: _run(code, edition, lambda: _plan_public(
        edition, data, code, planner.plan_target(data, fw, recipe, code, rank=rank, pillar=pillar,
                                                 score=score, strict=strict))))


def _plan_public(edition: Edition, data: Dataset, code: str, plan: planner.Plan) -> PlanPublic:
    node = plan.node
    return PlanPublic(
        **_head(edition, data, code),
        target=PlanTargetPublic(rank=plan.target.rank, score=plan.target.score, node=node, strict=plan.target.strict),
        reachable=plan.reachable, reason_code=plan.reason_code, reason=plan.reason,
        needed=plan.needed, threshold=plan.threshold, maximum=plan.maximum,
        points=round(plan.points, 6),
        score_before=plan.scores_before.get(node), score_after=plan.scores_after.get(node),
        rank_before=plan.ranks_before.get(node), rank_after=plan.ranks_after.get(node),
        steps=[PlanStepPublic(code=s.code, **_node_names(edition, s.code), points=round(s.points, 6),
                              value_before=round(s.value_before, 6), value_after=round(s.value_after, 6),
                              headroom=round(s.headroom, 6)) for s in plan.steps],
        scores_after=dict(plan.scores_after), ranks_after=dict(plan.ranks_after),
        rivals=[RivalPublic(code=r.unit, **_names(data.unit_set, r.unit), score=r.score, rank=r.rank,
                            status=r.status) for r in plan.rivals])


def compute_defence(request: Request, edition: Edition, code: str, neighbours: int) -> DefencePublic:
    """What the ``neighbours`` provinces just below ``code`` would need to overtake it."""
    data = _dataset(edition, code)

    def compute() -> DefencePublic:
        d = planner.defend(data, edition.framework, edition.recipe, code, neighbours).as_dict()
        threats = [ThreatPublic(code=t["unit"], **_names(data.unit_set, t["unit"]),
                                **{k: t[k] for k in ("score", "rank", "gap", "reachable",
                                                     "points_needed", "reason")},
                                steps=[ThreatStepPublic(**s) for s in t["steps"]])
                   for t in d["threats"]]
        return DefencePublic(**_head(edition, data, code), node=d["node"], score=d["score"],
                             rank=d["rank"], threats=threats)

    return _cached(request, ("defence", edition.id, code, neighbours),
                   lambda: _run(code, edition, compute))


def compute_strengths(request: Request, edition: Edition, code: str) -> StrengthsPublic:
    """The planner's profile: best and worst indicators, points missing, peers."""
    data = _dataset(edition, code)

    def peer(p: dict[str, Any]) -> PeerPublic:
        return PeerPublic(code=p["unit"], **_names(data.unit_set, p["unit"]),
                          **{k: p[k] for k in ("score", "rank", "distance")})

    def compute() -> StrengthsPublic:
        p = planner.profile(data, edition.framework, edition.recipe, code).as_dict()
        if p["score"] is None:
            raise ComputeError(f"{code} has no {p['node']} score (values missing or screened out)")
        return StrengthsPublic(
            **_head(edition, data, code), node=p["node"], score=p["score"], rank=p["rank"],
            region=p["region"], strongest=p["strongest"], weakest=p["weakest"],
            indicators=[StandingPublic(**s, **_node_names(edition, s["code"])) for s in p["indicators"]],
            region_peers=[peer(x) for x in p["region_peers"]],
            nearest_peers=[peer(x) for x in p["nearest_peers"]])

    return _cached(request, ("strengths", edition.id, code), lambda: _run(code, edition, compute))


# ---------------------------------------------------------------- routes

PLANNER_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    404: {"model": ERRORS[404]["model"], "description": "No such edition, province or pillar, or "
          "no plan can be computed for the province (no published main-indicator values)"},
    503: {"model": ERRORS[404]["model"], "description": "Too many solves at once: try again after "
          "the `Retry-After` seconds"},
}
router = APIRouter(prefix="/api/v1", tags=["planner"], route_class=EnvelopeRoute,
                   responses=PLANNER_ERRORS)

RankQuery = Annotated[int | None, Query(ge=1, le=100, description="Target rank (or better); "
                                        "default: one place above the current rank")]
PillarQuery = Annotated[str | None, Query(max_length=32, pattern=r"^[A-Za-z0-9_]+$",
                                          description="A pillar code (e.g. CQS) instead of the total")]
ScoreQuery = Annotated[float | None, Query(ge=0, le=10, description="Target published score "
                                          "(or more) in the node, e.g. 0.75; with or without a rank")]
StrictQuery = Annotated[bool, Query(description="Rank not shared: strictly above the unit now at it")]
NeighboursQuery = Annotated[int, Query(ge=1, le=10, description="How many provinces just below")]


@router.get("/editions/{edition}/provinces/{code}/plan", summary="Least points to reach a rank",
            description="The plan with the least added points for a province to reach rank ≤ `rank` "
                        "overall or in a `pillar` (and/or a published `score`; others fixed), solved exactly and confirmed by a "
                        "rebuild: the indicators, points and values before/after, the resulting score "
                        "and rank, and the rivals overtaken; or `reachable: false` with the reason.")
@offloaded("planner")
def get_plan(request: Request, edition: EditionId, code: ProvinceCode, rank: RankQuery = None,
             pillar: PillarQuery = None, strict: StrictQuery = False,
             score: ScoreQuery = None) -> PlanPublic:
    return compute_plan(request, published_edition(request, edition), code, rank, pillar, strict,
                        score)


@router.get("/editions/{edition}/provinces/{code}/defence", summary="Who could overtake a province",
            description="For the provinces just below (level ones first): the gap, and the least "
                        "points each would need to end strictly above this province, on which "
                        "indicators.")
@offloaded("planner")
def get_defence(request: Request, edition: EditionId, code: ProvinceCode,
                neighbours: NeighboursQuery = 5) -> DefencePublic:
    return compute_defence(request, published_edition(request, edition), code, neighbours)


@router.get("/editions/{edition}/provinces/{code}/strengths", summary="Strengths and weaknesses",
            description="The indicators where a province ranks best and worst, the points it misses "
                        "against each indicator's maximum and against the best province, and its "
                        "peers (same region, nearest score profile).")
@offloaded("planner")
def get_strengths(request: Request, edition: EditionId, code: ProvinceCode) -> StrengthsPublic:
    return compute_strengths(request, published_edition(request, edition), code)
