"""The planner for logged-in users: where a province is losing points it could still earn, and
what-if on its own answers (issue #6 in the assessment app).

Scoping comes from the store: the page reads the assessment through
:func:`dti.store.assessments.view`, so a province user reaches only their own province.  Ranks
are never computed from other provinces' unpublished answers — that would leak them: the other
provinces are taken as published (the edition's frozen snapshot once published; for the
illustrative edition, the illustrative demo values that follow the published 2022 ranks).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from dti.analysis.planner.answers import points_to_gain, what_if_answers
from dti.editions import load_edition
from dti.messages import bilingual
from dti.store import assessments
from dti.services.publication import published_editions
from dti.units import load_unit_set
from dti.web.assessment.deps import FormDep, PostDep, StoreDep, UserDep, render, wants_json

router = APIRouter()

TEXT = bilingual("app.plan")


def _others(session, view):
    """(dataset, framework, recipe, note key) of the other provinces as published, or None."""
    edition = view.edition
    base = load_edition(edition.base_edition)
    if edition.status == "published":
        frozen = next(e for e in published_editions(session) if e.id == edition.code)
        return frozen.dataset(), base.framework, base.recipe, "plan_others"
    if edition.illustrative and edition.unit_set.startswith("provinces-"):
        # the demo's other provinces follow the published 2022 ranks; there is no such record
        # of the ministries' scores to stand in for theirs
        from dti.editions.demo import demo_dataset

        return demo_dataset(edition.base_edition), base.framework, base.recipe, "plan_others_demo"
    return None


def _page(request: Request, ctx, store, edition: str, province: str,
          changes: dict[str, dict[str, Any]] | None) -> Any:
    with store.reading() as session:
        view = assessments.view(session, ctx.actor, edition, province)
        points = view.points("final")
        gaps = points_to_gain(view.catalogue, points)
        others = _others(session, view)
    result = None
    if changes and others is not None:
        data, framework, recipe, _ = others
        result = what_if_answers(data, framework, recipe, province, view.catalogue, points, changes)
    if wants_json(request):
        return JSONResponse({"edition": edition, "province": province,
                             "gaps": [g.__dict__ for g in gaps],
                             "what_if": result.as_dict() if result else None})
    unit = load_unit_set(view.edition.unit_set).get(province)
    standing = {row["node"]: row for row in result.result.standing()} if result else {}
    return render(request, ctx, "app/plan.html", {
        "view": view, "unit": unit, "gaps": gaps, "total_gain": round(sum(g.missing for g in gaps), 4),
        "result": result, "standing": standing, "others_note": others[3] if others else None,
        "changes": changes or {}, "illustrative": view.edition.illustrative}, extra_text=TEXT)


@router.get("/plan/{edition}/{province}")
def plan_page(request: Request, ctx: UserDep, store: StoreDep, edition: str, province: str):
    return _page(request, ctx, store, edition, province, None)


@router.post("/plan/{edition}/{province}")
def plan_what_if(request: Request, ctx: PostDep, store: StoreDep, form: FormDep, edition: str,
                 province: str):
    """Form fields ``a_<code>__<field>``: the answers to try (blank = unchanged).  A plain ``def``
    (a worker thread): the rebuild is CPU work and must not hold up the other requests."""
    changes: dict[str, dict[str, Any]] = {}
    for key, value in form.items():
        if key.startswith("a_") and isinstance(value, str) and value.strip():
            code, _, field = key[2:].rpartition("__")
            changes.setdefault(code, {})[field] = value
    return _page(request, ctx, store, edition, province, changes)
