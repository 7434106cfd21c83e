"""Rebuild the portal's map files from the project's shared boundary files (run by hand; the portal
never imports it, so it lives outside the package).

    python tools/geo_build.py SHARED/data/geo    # SHARED: the project's shared folder

The files are written into the package's map folder, ``src/dti/web/geo`` (or into the folder given
as a second argument).

Reads ``vn_provinces_63_odv.topo.json`` (+ its GeoJSON twin, for the GSO codes) and
``vn_provinces_34_bando.simplified.topo.json`` and writes ``provinces_63.topo.json`` and
``provinces_34.topo.json``: the same topology with every arc simplified (Douglas-Peucker, shared
borders simplified once so neighbours still meet), islets below ``MIN_AREA`` dropped except in the
Hoàng Sa and Trường Sa boxes (kept whatever their size), coordinates re-quantised, and only the
GSO code (``id``) and the Vietnamese name kept as properties.  Standard library only.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

# The package's map folder, wherever the script is run from: tools/ sits beside src/.
GEO = Path(__file__).resolve().parents[1] / "src" / "dti" / "web" / "geo"
TOLERANCE = 0.012          # degrees (~1.3 km): under half a pixel on a ~360 px wide national map
MIN_AREA = 0.0004          # square degrees (~5 km²): smaller islets vanish at that scale anyway
QUANTISATION = 4000        # grid steps across the bounding box (~0.004°, ~400 m)
ISLET_GRID = 0.25          # degrees: one marker (the first islet's centre) per occupied cell
ARCHIPELAGOS = {           # lon/lat boxes whose islets are kept whatever their size
    "Hoàng Sa": (110.5, 15.4, 113.2, 17.3),
    "Trường Sa": (111.0, 6.5, 118.0, 12.0),
}


def decode(topology: dict) -> list[list[tuple[float, float]]]:
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def _distance(p, a, b) -> float:
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    if dx == 0 and dy == 0:
        return math.hypot(px - ax, py - ay)
    return abs(dy * px - dx * py + bx * ay - by * ax) / math.hypot(dx, dy)


def _dp(points, tolerance: float, force: bool = False) -> list:
    """Douglas-Peucker keeping both ends; ``force`` keeps the farthest point even under tolerance."""
    if len(points) < 3:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1, force)]
    while stack:
        i, j, must = stack.pop()
        if j - i < 2:
            continue
        far, index = -1.0, i
        for k in range(i + 1, j):
            d = _distance(points[k], points[i], points[j])
            if d > far:
                far, index = d, k
        if far > tolerance or must:
            keep[index] = True
            stack.append((i, index, False))
            stack.append((index, j, False))
    return [p for p, k in zip(points, keep) if k]


def simplify(arc, tolerance: float) -> list:
    if arc[0] != arc[-1] or len(arc) < 4:
        return _dp(arc, tolerance)
    # A closed arc (an island or an unshared ring): split at the point farthest from the start and
    # keep one point in each half, so the ring stays a polygon however small it is.
    split = max(range(len(arc)), key=lambda k: math.hypot(arc[k][0] - arc[0][0], arc[k][1] - arc[0][1]))
    return _dp(arc[: split + 1], tolerance, True)[:-1] + _dp(arc[split:], tolerance, True)


def _ring(arcs, indices) -> list:
    out = []
    for i in indices:
        points = arcs[i] if i >= 0 else arcs[~i][::-1]
        out.extend(points if not out else points[1:])
    return out


def _area(ring) -> float:
    return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:]))) / 2


def _centre(ring) -> tuple[float, float]:
    return sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)


def _archipelago(ring) -> str | None:
    x, y = _centre(ring)
    return next((name for name, (x0, y0, x1, y1) in ARCHIPELAGOS.items()
                 if x0 <= x <= x1 and y0 <= y <= y1), None)


def _in_archipelago(ring) -> bool:
    return _archipelago(ring) is not None


def build(topology: dict, object_name: str, props) -> dict:
    """``props(geometry, index)`` → (gso_code, name)."""
    arcs = decode(topology)
    geometries = []
    islets: dict[str, dict[tuple[int, int], tuple[float, float]]] = {name: {} for name in ARCHIPELAGOS}
    for n, geometry in enumerate(topology["objects"][object_name]["geometries"]):
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        kept = [p for p in polygons
                if _area(ring := _ring(arcs, p[0])) >= MIN_AREA or _in_archipelago(ring)]
        for p in kept:
            ring = _ring(arcs, p[0])
            if (group := _archipelago(ring)) is not None:
                x, y = _centre(ring)
                islets[group].setdefault((round(x / ISLET_GRID), round(y / ISLET_GRID)), (x, y))
        code, name = props(geometry, n)
        geometries.append({"type": "MultiPolygon", "id": code, "properties": {"name": name},
                           "arcs": kept})
    used = sorted({i if i >= 0 else ~i for g in geometries for p in g["arcs"] for r in p for i in r})
    new_index = {old: new for new, old in enumerate(used)}
    simplified = [simplify(arcs[i], TOLERANCE) for i in used]
    for g in geometries:
        g["arcs"] = [[[new_index[i] if i >= 0 else ~new_index[~i] for i in r] for r in p]
                     for p in g["arcs"]]
    xs = [x for a in simplified for x, _ in a]
    ys = [y for a in simplified for _, y in a]
    x0, y0 = min(xs), min(ys)
    sx, sy = (max(xs) - x0) / (QUANTISATION - 1), (max(ys) - y0) / (QUANTISATION - 1)
    encoded = []
    for arc in simplified:
        q = [(round((x - x0) / sx), round((y - y0) / sy)) for x, y in arc]
        q = [p for k, p in enumerate(q) if k == 0 or p != q[k - 1]]
        if len(q) == 1:
            q.append(q[0])
        px = py = 0
        deltas = []
        for x, y in q:
            deltas.append([x - px, y - py])
            px, py = x, y
        encoded.append(deltas)
    # One marker per grid cell holding islets of each archipelago (quantised, not delta-encoded).
    markers = [{"type": "MultiPoint", "id": group, "properties": {"name": group},
                "coordinates": [[round((x - x0) / sx), round((y - y0) / sy)]
                                for _, (x, y) in sorted(cells.items())]}
               for group, cells in islets.items()]
    return {"type": "Topology", "bbox": [round(v, 6) for v in (x0, y0, max(xs), max(ys))],
            "transform": {"scale": [sx, sy], "translate": [x0, y0]},
            "objects": {"provinces": {"type": "GeometryCollection",
                                      "geometries": sorted(geometries, key=lambda g: g["id"])},
                        "islands": {"type": "GeometryCollection", "geometries": markers}},
            "arcs": encoded}


def main(source: Path, target: Path = GEO) -> None:
    odv = json.loads((source / "vn_provinces_63_odv.topo.json").read_text(encoding="utf-8"))
    odv_geo = json.loads((source / "vn_provinces_63_odv.geojson").read_text(encoding="utf-8"))
    codes = [(f["properties"]["gso_code"], f["properties"]["ten_tinh"]) for f in odv_geo["features"]]
    names = [g["properties"]["ten_tinh"] for g in odv["objects"]["diaphantinh_63_fixednames"]["geometries"]]
    assert names == [n for _, n in codes], "the ODV TopoJSON and GeoJSON must list the same provinces"
    bando = json.loads((source / "vn_provinces_34_bando.simplified.topo.json").read_text(encoding="utf-8"))
    outputs = {
        "provinces_63.topo.json": build(odv, "diaphantinh_63_fixednames", lambda g, n: codes[n]),
        "provinces_34.topo.json": build(bando, "data",
                                        lambda g, n: (g["id"], g["properties"]["name"])),
    }
    for name, topology in outputs.items():
        (target / name).write_text(json.dumps(topology, ensure_ascii=False, separators=(",", ":")),
                                   encoding="utf-8")
        print(name, (target / name).stat().st_size, "bytes,", len(topology["arcs"]), "arcs,",
              sum(len(a) for a in topology["arcs"]), "points,", {
                  g["id"]: len(g["coordinates"]) for g in topology["objects"]["islands"]["geometries"]},
              "island markers")


if __name__ == "__main__":
    if not 2 <= len(sys.argv) <= 3:
        raise SystemExit("usage: python tools/geo_build.py SHARED/data/geo [TARGET, default src/dti/web/geo]")
    main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) == 3 else GEO)
