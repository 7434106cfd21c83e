"""Vega-Lite chart specs for the analyses, and their rendering to SVG/PNG (vl-convert, offline).

The same spec serves the browser and the reports.  Labels follow the interface language.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dti.errors import InputError, Problem
from dti.messages import bilingual

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
LABELS = bilingual("report.charts")


def _t(lang: str) -> dict[str, str]:
    return LABELS["en" if lang == "en" else "vi"]


def rank_interval_spec(rows: list[dict[str, Any]], lang: str = "vi") -> dict[str, Any]:
    """Nominal (point) and median (tick) rank with the 5–95 % bar, one line per unit."""
    t = _t(lang)
    values = [{"unit": r["name"], "nominal": r["nominal_rank"], "median": r["median_rank"],
               "low": r["rank_p05"], "high": r["rank_p95"]} for r in rows
              if r.get("nominal_rank") is not None]
    y = {"field": "unit", "type": "nominal", "sort": None, "title": t["unit"]}
    x_scale = {"reverse": False, "zero": False}
    return {
        "$schema": SCHEMA, "title": t["rank_title"], "data": {"values": values},
        "height": {"step": 14}, "width": 420,
        "layer": [
            {"mark": {"type": "rule", "strokeWidth": 3, "opacity": 0.5},
             "encoding": {"y": y, "x": {"field": "low", "type": "quantitative", "title": t["rank"],
                                        "scale": x_scale},
                          "x2": {"field": "high"},
                          "tooltip": [{"field": "unit"}, {"field": "low", "title": "5 %"},
                                      {"field": "high", "title": "95 %"}]}},
            {"mark": {"type": "tick", "thickness": 2}, "encoding": {
                "y": y, "x": {"field": "median", "type": "quantitative"},
                "tooltip": [{"field": "median", "title": t["median"]}]}},
            {"mark": {"type": "point", "filled": True, "color": "black"}, "encoding": {
                "y": y, "x": {"field": "nominal", "type": "quantitative"},
                "tooltip": [{"field": "nominal", "title": t["nominal"]}]}},
        ],
    }


def sensitivity_spec(rows: list[dict[str, Any]], lang: str = "vi") -> dict[str, Any]:
    """First-order and total Sobol indices per choice, with their confidence intervals."""
    t = _t(lang)
    values = []
    for r in rows:
        for kind, key in ((t["first"], "S1"), (t["total"], "ST")):
            value, conf = r[key] or 0.0, r[f"{key}_conf"] or 0.0
            values.append({"choice": r["choice"], "kind": kind, "value": value,
                           "low": value - conf, "high": value + conf})
    return {
        "$schema": SCHEMA, "title": t["sens_title"], "data": {"values": values}, "width": 360,
        "encoding": {"y": {"field": "choice", "type": "nominal", "title": t["choice"]},
                     "yOffset": {"field": "kind"},
                     "color": {"field": "kind", "type": "nominal", "title": t["kind"]}},
        "layer": [
            {"mark": "bar", "encoding": {"x": {"field": "value", "type": "quantitative",
                                               "title": t["index"]}}},
            {"mark": {"type": "rule", "color": "black"},
             "encoding": {"x": {"field": "low", "type": "quantitative"}, "x2": {"field": "high"}}},
        ],
    }


def correlation_heatmap_spec(rows: list[dict[str, Any]], lang: str = "vi") -> dict[str, Any]:
    """Rows: {a, b, r}.  A diverging heatmap with the value written in each cell."""
    t = _t(lang)
    encoding = {"x": {"field": "a", "type": "nominal", "sort": None, "title": t["a"]},
                "y": {"field": "b", "type": "nominal", "sort": None, "title": t["b"]}}
    return {
        "$schema": SCHEMA, "title": t["corr_title"], "data": {"values": rows},
        "encoding": encoding,
        "layer": [
            {"mark": "rect", "encoding": {"color": {
                "field": "r", "type": "quantitative", "title": t["r"],
                "scale": {"scheme": "redblue", "domain": [-1, 1]}}}},
            {"mark": {"type": "text", "fontSize": 9},
             "encoding": {"text": {"field": "r", "type": "quantitative", "format": ".2f"}}},
        ],
    }


def render(spec: dict[str, Any], path: Path) -> Path:
    """Write a spec as .json (the spec itself), .svg or .png (rendered offline by vl-convert)."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        path.write_text(json.dumps(spec, ensure_ascii=False, indent=2), encoding="utf-8")
        return path
    import vl_convert as vlc  # imported here: only rendering needs it

    if suffix == ".svg":
        path.write_text(vlc.vegalite_to_svg(spec), encoding="utf-8")
    elif suffix == ".png":
        path.write_bytes(vlc.vegalite_to_png(spec, scale=2))
    else:
        raise InputError([Problem("chart.bad_suffix", f"cannot write a chart as "
                                  f"{suffix or 'a file without suffix'}; name it .svg, .png or "
                                  ".json", file=path.name)])
    return path
