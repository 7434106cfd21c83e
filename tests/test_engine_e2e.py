"""End to end: a user's own framework table, unit list, values and recipe, as real files.

The pipeline: denominate (per 1,000 inhabitants) → group-mean imputation by region → screen at
90 % availability → JRC winsorisation (up to 5 points) → min-max 0–100 → weighted arithmetic mean
over four levels (6 indicators → 4 sub-pillars → 2 pillars → index) → competition ranks.  The
expected numbers are worked out below in plain Python, step by step, from the same table; no
engine stage function is called for them.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from dti.engine import Recipe, build
from dti.framework.load import load_framework
from dti.io.values import read_values
from dti.units import UnitSet

# ------------------------------------------------------------------------------------ the files

FRAMEWORK_CSV = """\
code,name,level,parent,weight,direction,type,denominator
pop,Dân số,,,,,denominator,
region,Vùng,,,,,group,
i1,Thuê bao internet trên 1.000 dân,1,S1,2,1,indicator,pop
i2,Tỷ lệ dịch vụ công trực tuyến,1,S1,1,1,indicator,
i3,Sự cố an toàn thông tin,1,S2,1,-1,indicator,
i4,Doanh nghiệp công nghệ số,1,S3,1,1,indicator,
i5,Thương mại điện tử,1,S3,1,1,indicator,
i6,Kỹ năng số,1,S4,1,1,indicator,
S1,Hạ tầng,2,P1,1,,aggregate,
S2,An toàn,2,P1,1,,aggregate,
S3,Kinh tế số,2,P2,3,,aggregate,
S4,Xã hội số,2,P2,1,,aggregate,
P1,Chính quyền số,3,INDEX,2,,aggregate,
P2,Kinh tế và xã hội số,3,INDEX,1,,aggregate,
INDEX,Chỉ số chuyển đổi số,4,,,,aggregate,
"""

RECIPE_YAML = """\
denominate: {enabled: true, scale: 1000}
impute: {method: group_mean, group: region}
screen: {min_availability: 0.9}
treat: {method: jrc, max_points: 5}
normalise: {method: minmax, lower: 0, upper: 100}
aggregate: {method: arithmetic}
rank: {method: competition, decimals: 2, groups: [region]}
"""

UNITS = ["U01", "U02", "U03", "U04", "U05", "U06", "U07", "U08", "U09", "U10"]
REGION = dict(zip(UNITS, ["Bắc", "Bắc", "Bắc", "Nam", "Nam", "Nam", "Trung", "Trung", "Trung",
                          "Trung"]))
POP = dict(zip(UNITS, [100, 200, 50, 400, 250, 80, 120, 300, 150, 0]))   # U10: zero population
RAW = {   # None = an empty cell
    "i1": [30, 50, 20, 60, 75, 40, 30, 90, 60, 10],
    "i2": [55, 70, 40, 85, 60, 45, 90, 65, 50, 30],
    "i3": [12, 5, 20, 3, 8, 15, 2, 9, 11, 25],
    "i4": [1, 2, 2, 3, 3, 4, 40, 5, 2, 3],          # U07's 40: skewed, winsorised
    "i5": [20, 35, 15, 50, None, 25, 45, 30, 28, 10],   # U05 has a gap
    "i6": [0.6, 0.7, 0.5, 0.9, 0.8, 0.4, 0.95, 0.75, 0.65, 0.3],
}
INDICATORS = list(RAW)
DIRECTION = {"i1": 1, "i2": 1, "i3": -1, "i4": 1, "i5": 1, "i6": 1}
TREE = {  # aggregate -> [(child, weight)], children first
    "S1": [("i1", 2), ("i2", 1)], "S2": [("i3", 1)], "S3": [("i4", 1), ("i5", 1)],
    "S4": [("i6", 1)], "P1": [("S1", 1), ("S2", 1)], "P2": [("S3", 3), ("S4", 1)],
    "INDEX": [("P1", 2), ("P2", 1)],
}


def write_files(folder: Path, recipe_yaml: str = RECIPE_YAML) -> dict[str, Path]:
    paths = {name: folder / name for name in ("framework.csv", "units.csv", "values.csv",
                                               "recipe.yaml")}
    paths["framework.csv"].write_text(FRAMEWORK_CSV, encoding="utf-8")
    with paths["units.csv"].open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code", "name", "region"])
        for i, unit in enumerate(UNITS):
            writer.writerow([unit, f"Đơn vị {i + 1}", REGION[unit]])
    with paths["values.csv"].open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code", "region", "pop", *INDICATORS])
        for i, unit in enumerate(UNITS):
            cells = ["" if RAW[c][i] is None else RAW[c][i] for c in INDICATORS]
            writer.writerow([unit, REGION[unit], POP[unit], *cells])
    paths["recipe.yaml"].write_text(recipe_yaml, encoding="utf-8")
    return paths


def run(paths: dict[str, Path]):
    framework = load_framework(paths["framework.csv"])
    units = UnitSet.from_csv(paths["units.csv"], "my-units")
    data = read_values(paths["values.csv"], framework, units, allow_missing=True)
    recipe = Recipe.from_dict(yaml.safe_load(paths["recipe.yaml"].read_text(encoding="utf-8")),
                              file="recipe.yaml")
    return build(data, framework, recipe)


# ------------------------------------------------------------------- the same, by hand, in Python

def mean(xs):
    return sum(xs) / len(xs)


def excel_skew_kurt(xs):
    n, m = len(xs), mean(xs)
    s = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1))
    skew = n / ((n - 1) * (n - 2)) * sum(((x - m) / s) ** 3 for x in xs)
    kurt = (n * (n + 1) / ((n - 1) * (n - 2) * (n - 3)) * sum(((x - m) / s) ** 4 for x in xs)
            - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)))
    return skew, kurt


def fails(xs):
    skew, kurt = excel_skew_kurt(xs)
    return abs(skew) >= 2 and kurt >= 3.5


def by_hand(min_availability: float):
    # 1. denominate: i1 per 1,000 inhabitants; zero population → missing
    cols = {c: list(RAW[c]) for c in INDICATORS}
    cols["i1"] = [None if POP[u] == 0 else RAW["i1"][k] / POP[u] * 1000
                  for k, u in enumerate(UNITS)]
    # 2. availability on the data before imputation: share of the 6 indicators present
    availability = {u: sum(cols[c][k] is not None for c in INDICATORS) / 6
                    for k, u in enumerate(UNITS)}
    included = [u for u in UNITS if availability[u] >= min_availability]
    # 3. impute each gap with the mean of the unit's region
    imputed = {}
    for c in INDICATORS:
        imputed[c] = [
            x if x is not None else mean([cols[c][i] for i, v in enumerate(UNITS)
                                          if REGION[v] == REGION[u] and cols[c][i] is not None])
            for x, u in zip(cols[c], UNITS)]
    # 4. JRC: winsorise the highest value to the next one while |skew| ≥ 2 and kurtosis ≥ 3.5
    #    (statistics over the units kept by the screen; only a positive skew occurs here)
    treated = {c: list(v) for c, v in imputed.items()}
    winsorised = set()
    for c in INDICATORS:
        rows = [UNITS.index(u) for u in included]
        for _ in range(5):
            xs = [treated[c][k] for k in rows]
            if not fails(xs):
                break
            top = max(xs)
            below = max(x for x in xs if x < top)
            for k in rows:
                if treated[c][k] == top:
                    treated[c][k] = below
                    winsorised.add((UNITS[k], c))
    # 5. min-max to 0..100 over the kept units, direction respected
    normalised = {}
    for c in INDICATORS:
        kept = [treated[c][UNITS.index(u)] for u in included]
        lo, hi = min(kept), max(kept)
        normalised[c] = {u: 100 * ((x - lo) if DIRECTION[c] == 1 else (hi - x)) / (hi - lo)
                         for u, x in zip(UNITS, treated[c])}
    # 6. weighted arithmetic means, level by level
    score = dict(normalised)
    for node, children in TREE.items():
        score[node] = {u: sum(score[c][u] * w for c, w in children) / sum(w for _, w in children)
                       for u in UNITS}
    # 7. competition ranks of the index at 2 decimals, over the kept units
    rounded = {u: math.floor(round(score["INDEX"][u] * 100, 6) + 0.5) / 100 for u in included}
    rank = {u: 1 + sum(rounded[v] > rounded[u] for v in included) for u in included}
    return dict(cols=cols, availability=availability, included=included, imputed=imputed,
                treated=treated, winsorised=winsorised, normalised=normalised, score=score,
                rank=rank)


# -------------------------------------------------------------------------------------- the tests

@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return write_files(tmp_path)


def test_the_files_load_as_a_four_level_framework(files):
    fw = load_framework(files["framework.csv"])
    assert fw.levels == (1, 2, 3, 4)
    assert fw.root.code == "INDEX"
    assert [d.code for d in fw.denominators] == ["pop"] and [g.code for g in fw.groups] == ["region"]
    assert fw["i1"].denominator == "pop" and fw["i3"].direction == -1
    assert fw.children["P2"] == ("S3", "S4") and fw["S3"].weight == 3


def test_skewed_indicator_fails_the_jrc_test_before_and_passes_after_one_point():
    kept = [1, 2, 2, 3, 4, 40, 5, 2]                  # i4 of the units kept at 90 %
    skew, kurt = excel_skew_kurt(kept)
    assert skew >= 2 and kurt >= 3.5                   # ≈ 2.78 and 7.78
    assert not fails([1, 2, 2, 3, 4, 5, 5, 2])         # 40 → 5, the next value down


def test_pipeline_step_by_step_at_90_percent(files):
    b = run(files)
    expect = by_hand(0.9)
    row = {u: b.unit_row(u) for u in UNITS}
    col = {c: b.plan.data_codes.index(c) for c in INDICATORS}

    # denominate
    assert b.denominated[row["U01"], col["i1"]] == pytest.approx(30 / 100 * 1000)   # 300
    assert math.isnan(b.denominated[row["U10"], col["i1"]])                        # 0 inhabitants
    for c in INDICATORS:
        for u in UNITS:
            x = expect["cols"][c][UNITS.index(u)]
            got = b.denominated[row[u], col[c]]
            assert (math.isnan(got) if x is None else got == pytest.approx(x))
    # impute: U10 and U05 are screened out at 90 %, so their gaps stay empty (a unit out of the
    # index is not imputed) — the 80 % run below imputes them
    assert math.isnan(b.imputed[row["U10"], col["i1"]])
    assert math.isnan(b.imputed[row["U05"], col["i5"]])
    assert not b.imputed_mask.any()
    # screen: 5 of 6 indicators (0.83) is below 0.9
    assert b.availability.tolist() == pytest.approx([expect["availability"][u] for u in UNITS])
    assert [u for u in UNITS if b.included[row[u]]] == expect["included"]
    assert expect["included"] == ["U01", "U02", "U03", "U04", "U06", "U07", "U08", "U09"]
    # treat: only U07's i4 is winsorised, 40 → 5
    assert expect["winsorised"] == {("U07", "i4")}
    assert b.treatment.values[row["U07"], col["i4"]] == 5.0
    assert set(zip(*np.nonzero(b.treatment.winsorised))) == {(row["U07"], col["i4"])}
    assert b.treatment.n_winsorised.tolist() == [0, 0, 0, 1, 0, 0]
    assert not b.treatment.log_transformed.any()
    # normalise: over the kept units; i3 reversed (fewest incidents = 100)
    kept = [row[u] for u in expect["included"]]
    assert b.normalised[row["U07"], col["i4"]] == pytest.approx(100.0)   # the treated max
    assert b.normalised[row["U01"], col["i4"]] == pytest.approx(0.0)
    assert b.normalised[row["U08"], col["i4"]] == pytest.approx((5 - 1) / (5 - 1) * 100)
    assert b.normalised[row["U07"], col["i3"]] == pytest.approx(100.0)   # 2 incidents
    assert b.normalised[row["U03"], col["i3"]] == pytest.approx(0.0)     # 20 incidents
    for c in INDICATORS:
        np.testing.assert_allclose(b.normalised[kept, col[c]],
                                   [expect["normalised"][c][u] for u in expect["included"]],
                                   rtol=0, atol=1e-9)
    # aggregate at every level, and the screened-out units have no score
    for node in ("S1", "S2", "S3", "S4", "P1", "P2", "INDEX"):
        np.testing.assert_allclose(b.score(node)[kept],
                                   [expect["score"][node][u] for u in expect["included"]],
                                   rtol=0, atol=1e-9)
        assert np.isnan(b.score(node)[[row["U05"], row["U10"]]]).all()
    # rank
    assert {u: b.rank()[row[u]] for u in expect["included"]} == expect["rank"]
    assert np.isnan(b.rank()[[row["U05"], row["U10"]]]).all()


def test_hand_checked_index_of_two_units(files):
    # U04 by hand: i1 150 (min of 150..500 → 0), i2 85 (range 40..90 → 90), i3 3 (range 2..20,
    # reversed → 17/18·100), i4 3 (range 1..5 → 50), i5 50 (the max → 100), i6 0.9 (0.4..0.95 →
    # 0.5/0.55·100)
    i3, i6 = 17 / 18 * 100, 0.5 / 0.55 * 100
    s1, s2, s3, s4 = (2 * 0 + 90) / 3, i3, (50 + 100) / 2, i6
    u04 = (2 * (s1 + s2) / 2 + (3 * s3 + s4) / 4) / 3
    b = run(files)
    assert b.score("S1")[b.unit_row("U04")] == pytest.approx(30.0)
    assert b.score()[b.unit_row("U04")] == pytest.approx(u04)
    assert round(u04, 2) == 67.81      # (2·62.22 + 78.98) / 3
    # U07 after treatment: i1 250, i2 90, i3 2, i4 5 (was 40), i5 45, i6 0.95
    i1 = (250 - 150) / 350 * 100
    s1, s2, s3, s4 = (2 * i1 + 100) / 3, 100.0, (100 + (45 - 15) / 35 * 100) / 2, 100.0
    u07 = (2 * (s1 + s2) / 2 + (3 * s3 + s4) / 4) / 3
    assert b.score()[b.unit_row("U07")] == pytest.approx(u07)
    assert b.rank()[b.unit_row("U07")] == 1


def test_ranks_within_regions(files):
    b = run(files)
    expect = by_hand(0.9)
    within = b.group_ranks["region"][:, b.index("INDEX")]
    for region in ("Bắc", "Nam", "Trung"):
        members = [u for u in expect["included"] if REGION[u] == region]
        order = sorted(members, key=lambda u: -expect["score"]["INDEX"][u])
        assert [within[b.unit_row(u)] for u in order] == list(range(1, len(order) + 1))


def test_at_80_percent_the_imputed_units_are_ranked_too(tmp_path):
    b = run(write_files(tmp_path, RECIPE_YAML.replace("0.9", "0.8")))
    expect = by_hand(0.8)
    assert expect["included"] == UNITS and b.included.all()
    # the imputed U10 i1 (316.67) now sits inside the min-max range of i1
    i1 = b.plan.data_codes.index("i1")
    assert b.normalised[b.unit_row("U10"), i1] == pytest.approx((950 / 3 - 150) / 350 * 100)
    assert expect["winsorised"] == {("U07", "i4")}   # 10 values of i4 still fail once
    np.testing.assert_allclose(b.score(), [expect["score"]["INDEX"][u] for u in UNITS],
                               rtol=0, atol=1e-9)
    assert {u: b.rank()[b.unit_row(u)] for u in UNITS} == expect["rank"]


def test_a_screened_out_unit_does_not_change_the_outlier_treatment(tmp_path):
    # U05 (screened out: a gap in i5) gets i4 = 30.  Over the kept units i4 still fails the JRC
    # test and U07's 40 must still become 5; with U05's 30 counted the column would pass.
    RAW["i4"][4], original = 30, RAW["i4"][4]
    try:
        b = run(write_files(tmp_path))
    finally:
        RAW["i4"][4] = original
    assert not b.included[b.unit_row("U05")]
    assert b.treatment.values[b.unit_row("U07"), b.plan.data_codes.index("i4")] == 5.0
