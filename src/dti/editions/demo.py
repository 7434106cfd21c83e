"""A synthetic, illustrative 63-province data set for DTI 2022 — labelled as such everywhere.

Only the top five provinces' main-indicator values were published; the other 58 provinces have a
published rank but no values.  The demo keeps the five published rows as they are and draws
values for the others (seeded) so that the totals follow the published 2022 ranking exactly,
ties included (Thanh Hóa and Yên Bái share 15th).  It exists so that the analyses and the
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
    ranks = published.ranks.get(edition.framework.root.code, {}) if published else {}
    floor = min((published.score(edition.framework.root.code, u) or 1.0) for u in ranks)
    rng = np.random.default_rng(seed)
    worst = max(ranks.values(), default=1)
    for code in sorted(ranks, key=lambda u: (ranks[u], u)):
        row = base.units.index(code)
        if not np.isnan(values[row, columns]).any():
            continue  # published values stay as published
        target = floor - 0.004 - (floor - 0.004 - LOWEST_TOTAL) * (ranks[code] - 6) / max(worst - 6, 1)
        values[row, columns] = _profile(rng, points, round(target, 4))
    region = tuple(units.get(u).region for u in base.units)
    return Dataset(base.units, base.columns, values, {"region": region}, base.unit_set, DEMO_NOTE)


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
