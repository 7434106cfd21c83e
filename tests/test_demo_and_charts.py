"""The illustrative demo data set, the chart specs and their offline rendering."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dti.editions import load_edition
from dti.editions.demo import demo_dataset
from dti.engine import build
from dti.errors import InputError
from dti.report.charts import (correlation_heatmap_spec, rank_interval_spec, render,
                               sensitivity_spec)


def test_demo_follows_every_published_2022_rank_and_keeps_published_rows():
    edition = load_edition("dti-province-2022")
    data = demo_dataset()
    b = build(data, edition.framework, edition.recipe)
    published = edition.results()
    assert {u: int(b.rank("DTI")[i]) for i, u in enumerate(b.units)} == dict(published.ranks["DTI"])
    for unit in ("48", "79", "22", "46", "92"):
        row = data.units.index(unit)
        assert data.values[row, data.columns.index("HDCQS")] == published.score("HDCQS", unit)
    assert "minh họa" in data.source and "Synthetic" in data.source
    scored = [data.columns.index(c) for c in ("NTS", "TCS", "HTS", "NLS", "ATTT", "HDCQS")]
    assert np.nanmin(data.values[:, scored]) >= 0.05 and np.nanmax(data.values[:, scored]) <= 1.0


def test_demo_is_reproducible_and_seeded():
    assert np.array_equal(demo_dataset().values, demo_dataset().values, equal_nan=True)
    assert not np.array_equal(demo_dataset(seed=1).values, demo_dataset(seed=2).values,
                              equal_nan=True)


ROWS = [{"name": "Đà Nẵng", "nominal_rank": 1, "median_rank": 1.0, "rank_p05": 1, "rank_p95": 2},
        {"name": "Hà Nội", "nominal_rank": 2, "median_rank": 2.5, "rank_p05": 1, "rank_p95": 4},
        {"name": "Không hạng", "nominal_rank": None, "median_rank": None, "rank_p05": None,
         "rank_p95": None}]


def test_rank_interval_spec_has_one_entry_per_ranked_unit():
    spec = rank_interval_spec(ROWS, "vi")
    assert [v["unit"] for v in spec["data"]["values"]] == ["Đà Nẵng", "Hà Nội"]
    assert spec["data"]["values"][1] == {"unit": "Hà Nội", "nominal": 2, "median": 2.5, "low": 1,
                                         "high": 4}
    assert spec["title"] == "Độ bất định của thứ hạng"
    assert rank_interval_spec(ROWS, "en")["title"] == "Rank uncertainty"


def test_sensitivity_and_heatmap_specs():
    spec = sensitivity_spec([{"choice": "weights ±25%", "S1": 0.2, "S1_conf": 0.05, "ST": 0.3,
                              "ST_conf": 0.1}], "en")
    assert [(v["kind"], v["low"], v["high"]) for v in spec["data"]["values"]] == [
        ("First order (S1)", pytest.approx(0.15), pytest.approx(0.25)),
        ("Total (ST)", pytest.approx(0.2), pytest.approx(0.4))]
    heat = correlation_heatmap_spec([{"a": "NTS", "b": "TCS", "r": 0.5}])
    assert heat["layer"][0]["encoding"]["color"]["scale"]["domain"] == [-1, 1]


def test_render_svg_png_json_offline(tmp_path):
    spec = rank_interval_spec(ROWS)
    svg = render(spec, tmp_path / "r.svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "Đà Nẵng" in svg
    assert render(spec, tmp_path / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((render(spec, tmp_path / "r.json")).read_text("utf-8")) == spec
    with pytest.raises(InputError) as caught:
        render(spec, tmp_path / "r.pdf")
    assert caught.value.problems[0].code == "chart.bad_suffix"


def test_demo_meets_the_published_total_known_without_indicators():
    edition = load_edition("dti-province-2022")
    b = build(demo_dataset(), edition.framework, edition.recipe)
    tra_vinh = b.units.index("84")
    assert b.published_score("DTI")[tra_vinh] == edition.results().score("DTI", "84") == 0.6077
