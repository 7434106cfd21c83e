"""The audit of the published record as a page: every check, whether it holds, why, and the
sources behind it — the failing ones first (JSON, CSV and XLSX twins like every page)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from dti.editions.record import shipped_record
from dti.editions.record_audit import audit
from dti.editions.record_text import CHECKS
from dti.units import load_unit_set, unit_set_ids
from dti.editions import load_edition
from dti.messages import Words, bilingual
from dti.web.i18n import name, text
from dti.web.pages import FORMATS, lang_of, respond
from dti.web.render_gate import offloaded

router = APIRouter(include_in_schema=False)

LABELS = bilingual("portal.record")   # labels() adds the checks' names (record.checks)


def labels(lang: str) -> dict[str, Any]:
    lang = "en" if lang == "en" else "vi"
    return Words(LABELS.address, {**LABELS[lang], "checks": CHECKS[lang]})


def _unit_name(code: str, basis: str, lang: str, year: int) -> str:
    """A unit's name as of the edition, on the finding's basis, else on the other basis (a merged
    province's former provinces are on the 63-province basis)."""
    edition = load_edition(f"dti-province-{year}")
    for b in dict.fromkeys((basis, *unit_set_ids())):
        units = {u.code: u for u in (edition.units(b) if b in edition.bases else load_unit_set(b))}
        if code in units:
            return name({"name_vi": units[code].name_vi, "name_en": units[code].name_en}, lang)
    return code


@lru_cache(maxsize=2)
def findings(lang: str) -> tuple[dict[str, Any], ...]:
    """The audit's findings, the failing ones first, with unit names, each fact's source, and the
    reason in ``lang`` (its stable code and values kept for the JSON twin)."""
    out = []
    for f in sorted(audit(shipped_record()), key=lambda f: (f.holds, f.year, f.check, f.units)):
        names = [_unit_name(u, f.basis, lang, f.year) for u in f.units]
        out.append({"check": f.check, "holds": f.holds, "year": f.year, "basis": f.basis,
                    "units": list(f.units), "names": names, "code": f.code, "values": dict(f.values),
                    "message": f.text(lang), "where": f.where,
                    "sources": [{"measure": x.measure, "value": x.value, "url": x.url,
                                 "quote": x.quote, "kind": x.kind, "source_class": x.source,
                                 "third_party": x.third_party, "derived": x.derived,
                                 "where": x.where} for x in f.facts]})
    return tuple(out)


@router.get("/record")
@router.get("/record.{fmt}")
@offloaded("pages")
def record_page(request: Request, fmt: str = "html") -> Response:
    if fmt not in ("html", *FORMATS):
        raise HTTPException(404, f"no format {fmt!r}")
    lang = lang_of(request)
    rows = list(findings(lang))
    data = {"findings": rows, "failing": sum(not r["holds"] for r in rows), "checked": len(rows),
            "licence": text(lang)["licence"]}
    flat = [{"check": r["check"], "holds": r["holds"], "year": r["year"], "basis": r["basis"],
             "provinces": "; ".join(r["names"]), "code": r["code"], "message": r["message"],
             "sources": " | ".join(dict.fromkeys(s["url"] for s in r["sources"]))} for r in rows]
    return respond(request, "record.html", {"data": data, "s": labels(lang)}, fmt, flat)
