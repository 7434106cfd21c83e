"""The read-only, versioned open-data API under ``/api/v1`` (published editions only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from dti.web.pages import flat_rows, ranking_data

router = APIRouter(prefix="/api/v1", tags=["open data"])


@router.get("/editions", summary="The published editions")
def editions(request: Request) -> list[dict[str, Any]]:
    return [{"id": e.id, "year": e.year, "name_vi": e.name_vi, "name_en": e.name_en,
             "bases": list(e.bases), "published_on": e.published_on,
             "legal_basis": e.legal_basis} for e in request.app.state.catalogue.editions]


@router.get("/editions/{edition}/results", summary="An edition's ranking with every figure")
def results(request: Request, edition: str, basis: str = "", lang: str = "vi") -> dict[str, Any]:
    ranking = request.app.state.catalogue.ranking(edition, basis or None)
    if ranking is None:
        raise HTTPException(404, f"no published edition {edition!r}" + (f" on {basis}" if basis else ""))
    return ranking_data(ranking, list(ranking.rows), "en" if lang == "en" else "vi")


@router.get("/editions/{edition}/results/flat", summary="The ranking as flat rows (CSV layout)")
def results_flat(request: Request, edition: str, basis: str = "") -> list[dict[str, Any]]:
    ranking = request.app.state.catalogue.ranking(edition, basis or None)
    if ranking is None:
        raise HTTPException(404, f"no published edition {edition!r}")
    return flat_rows(ranking, list(ranking.rows), "vi")
