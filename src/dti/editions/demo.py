"""A synthetic, illustrative 63-province data set for DTI 2022 — labelled as such everywhere.

Only the top five provinces' main-indicator values were published; the other 58 provinces have a
published rank but no values.  The demo keeps the five published rows as they are and draws
values for the others (seeded) so that the totals follow the published 2022 ranking exactly,
ties included (Thanh Hóa and Yên Bái share 15th), and equal the published total where one is
known without its indicators (Trà Vinh, 0.6077).  It exists so that the analyses and the
planner can be shown on a full ranking; it is never a published figure.
"""

from __future__ import annotations

import numpy as np

from dti.editions import load_edition
from dti.engine.data import Dataset
from dti.units import load_unit_set

DEMO_NOTE = ("Dữ liệu minh họa (tổng hợp ngẫu nhiên theo thứ hạng công bố 2022), không phải số liệu "
             "công bố / Synthetic illustrative data following the published 2022 ranks, not "
             "published figures")
LOWEST_TOTAL = 0.42


def demo_dataset(edition_id: str = "dti-province-2022", seed: int = 2022) -> Dataset:
    """Published values where they exist; synthetic values in published rank order elsewhere."""
    edition = load_edition(edition_id)
    published = edition.results()
    units = load_unit_set(edition.unit_set)
    base = edition.dataset()
    values = base.values.copy()
    scored = [n for n in edition.framework.data_nodes if n.scored and n.max_points]
    columns = [base.columns.index(n.data_column) for n in scored]
    points = np.array([n.max_points for n in scored])
    root = edition.framework.root.code
    ranks = published.ranks.get(root, {}) if published else {}
    targets = _targets(ranks, published.scores.get(root, {}) if published else {})
    rng = np.random.default_rng(seed)
    for code in sorted(ranks, key=lambda u: (ranks[u], u)):
        row = base.units.index(code)
        if not np.isnan(values[row, columns]).any():
            continue  # published values stay as published
        values[row, columns] = _profile(rng, points, targets[ranks[code]])
    region = tuple(units.get(u).region for u in base.units)
    return Dataset(base.units, base.columns, values, {"region": region}, base.unit_set, DEMO_NOTE)


def _targets(ranks: dict[str, int], totals: dict[str, float]) -> dict[int, float]:
    """A total per rank: published totals where known (e.g. Trà Vinh 0.6077 at 25th), linear
    between them, down to ``LOWEST_TOTAL`` at the last rank; tied ranks share one total."""
    worst = max(ranks.values(), default=1)
    anchors = sorted({ranks[u]: totals[u] for u in totals if u in ranks}.items())
    if not anchors or anchors[-1][0] < worst:
        anchors.append((worst, LOWEST_TOTAL))
    known = dict(anchors)
    xs, ys = zip(*anchors)
    return {r: known.get(r, round(float(np.interp(r, xs, ys)), 4)) for r in range(1, worst + 1)}


def _profile(rng: np.random.Generator, points: np.ndarray, total: float) -> np.ndarray:
    """Ratios in [0.05, 1], 4 decimals, whose points sum to ``total`` × Σ points exactly."""
    ratios = rng.beta(5, 3, size=len(points))
    for _ in range(50):
        ratios = np.clip(ratios * total * points.sum() / (ratios @ points), 0.05, 1.0)
    ratios = np.round(ratios, 4)
    # put the rounding remainder on the largest indicator so the total is exact at 4 decimals
    gap = total * points.sum() - ratios @ points
    k = int(np.argmax(points * (ratios < 1)))
    ratios[k] = round(ratios[k] + gap / points[k], 6)
    return ratios
