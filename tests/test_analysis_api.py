"""The public API of dti.analysis, the spec as data (to_dict round trip), and the pieces the
uncertainty and Sobol analyses share."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from importlib import import_module

import numpy as np
import pytest
import yaml

import dti.analysis
from dti.analysis.failures import NO_SCORE, account_failures, coverage_note
from dti.analysis.spec import AnalysisSpec, plain_value
from dti.editions import load_edition

FW = load_edition("dti-province-2022").framework

PUBLIC = {
    "AnalysisSpec": "spec", "AnalysisSpecError": "spec", "Choice": "spec",
    "UncertaintyResult": "uncertainty", "uncertainty": "uncertainty",
    "uncertainty_records": "uncertainty", "run_records": "uncertainty",
    "SensitivityResult": "sensitivity", "SobolIndices": "sensitivity",
    "sensitivity": "sensitivity", "sensitivity_records": "sensitivity",
    "Audit": "audit", "audit": "audit", "audit_records": "audit",
}

FULL = {
    "runs": 200, "seed": 9, "design": "sobol", "rank_thresholds": [1, 5, 10],
    "choices": [
        {"name": "weights", "noise": 0.25, "level": 1},
        {"name": "weights", "noise": 0.1, "level": 2},
        {"name": "normalise", "alternatives": [{"method": "minmax"},
                                               {"method": "zscore", "mean": 100, "sd": 10}]},
        {"name": "aggregate.method", "alternatives": ["arithmetic", "geometric"]},
        {"name": "treat.max_points", "range": [1, 5]},
        {"name": "exclude", "alternatives": ["none", "HDXHS", "HOAT_DONG"]},
        {"name": "aggregate.p", "range": [0.5, 2.0]},
    ],
}


# ------------------------------------------------------------------------------- public API

def test_the_public_api_is_exactly_this():
    assert sorted(dti.analysis.__all__) == sorted(PUBLIC)
    for name, module in PUBLIC.items():
        assert getattr(dti.analysis, name) is getattr(import_module(f"dti.analysis.{module}"), name)


def test_the_functions_win_over_their_modules_of_the_same_name():
    import dti.analysis.audit  # noqa: F401  (a submodule import must not shadow the function)

    for name in ("audit", "uncertainty", "sensitivity"):
        assert callable(getattr(dti.analysis, name))
    namespace: dict = {}
    exec("from dti.analysis import *", namespace)
    assert set(PUBLIC) <= set(namespace)


def test_importing_the_package_loads_neither_scipy_nor_salib():
    code = "import sys, dti.analysis; print(sorted(m for m in ('scipy', 'SALib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_spec_carries_no_unused_meta():
    assert [f.name for f in dataclasses.fields(AnalysisSpec)] == [
        "choices", "runs", "seed", "design", "rank_thresholds"]


# ------------------------------------------------------------------------ the spec as data

def test_to_dict_gives_back_the_spec_it_was_read_from():
    spec = AnalysisSpec.from_dict(FULL, framework=FW)
    out = spec.to_dict()
    assert out == FULL
    assert AnalysisSpec.from_dict(out, framework=FW) == spec
    # plain data: through JSON and YAML and back, unchanged
    assert AnalysisSpec.from_dict(json.loads(json.dumps(out)), framework=FW) == spec
    assert AnalysisSpec.from_dict(yaml.safe_load(yaml.safe_dump(out)), framework=FW) == spec


def test_a_result_reruns_from_its_spec_dict_to_the_same_bytes():
    from dti.analysis import uncertainty, uncertainty_records
    from dti.engine import Dataset, NormaliseSpec, Recipe

    rng = np.random.default_rng(4)
    columns = tuple(n.data_column for n in FW.data_nodes)
    data = Dataset(tuple(f"p{i:02d}" for i in range(63)), columns,
                   rng.uniform(0.05, 1.0, size=(63, len(columns))))
    recipe = Recipe(normalise=NormaliseSpec("minmax"))
    spec = AnalysisSpec.from_dict({**FULL, "runs": 64}, framework=FW)
    first = uncertainty(data, FW, recipe, spec)
    again = uncertainty(data, FW, recipe, AnalysisSpec.from_dict(
        json.loads(json.dumps(first.spec.to_dict())), framework=FW))
    assert json.dumps(uncertainty_records(first)) == json.dumps(uncertainty_records(again))
    assert first.ranks.tobytes() == again.ranks.tobytes() and first.samples == again.samples


def test_to_dict_of_the_defaults_names_every_field():
    spec = AnalysisSpec.from_dict({"choices": [{"name": "exclude", "alternatives": ["none"]}]})
    assert spec.to_dict() == {"runs": 1000, "seed": 0, "design": "random",
                              "rank_thresholds": [1, 3, 5, 10],
                              "choices": [{"name": "exclude", "alternatives": ["none"]}]}


# ------------------------------------------------------------------- shared result helpers

def test_failure_accounting_counts_build_errors_per_run_and_units_left_without_a_score():
    build_failed = np.array([False, True, False, True, False])
    scores = np.array([[1.0, 2.0], [np.nan, np.nan], [np.nan, 1.0], [np.nan, np.nan], [3, 4]])
    failed, failures = account_failures(build_failed, {1: "no goalposts"},
                                        np.array([0, 1, 0, 1, 2]), scores)
    assert failed.tolist() == [False, True, True, True, False]
    assert failures == {"cannot build: no goalposts": 2, NO_SCORE: 1}


def test_the_coverage_note_appears_below_90_percent():
    assert coverage_note(922, 1024, "indices", "samples", {"x": 3}) is None
    assert coverage_note(448, 1024, "indices", "samples", {"cannot build: y": 2304}) == (
        "indices rest on 448 of 1,024 samples: cannot build: y (2,304 runs)")


@pytest.mark.parametrize("value, kwargs, expected", [
    (np.float64(2.0), {"whole": True}, 2), (np.float64(2.5), {"whole": True}, 2.5),
    (float("nan"), {}, None), (np.float64(0.1234567), {"digits": 6}, 0.123457),
    (np.int64(3), {}, 3), (np.bool_(True), {}, True), ("HDXHS", {}, "HDXHS"),
])
def test_one_plain_value_helper_for_tables(value, kwargs, expected):
    out = plain_value(value, **kwargs)
    assert out == expected and type(out) is type(expected)
