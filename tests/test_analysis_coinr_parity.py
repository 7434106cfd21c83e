"""Uncertainty and sensitivity as COINr does them (issue 13): one weights factor over several
levels, a geometric mean over a zero or negative value failing its run with the reason, runs
rounded for a Sobol design said aloud, ``--out`` checked before any run, and the units screened
out listed in every output.

Data: small hand-built frameworks whose values are read as they are (normalisation ``none``), so
a zero or a negative value is placed by hand; and the synthetic 63-province demo data written to
a file with one province emptied, so the DTI recipe's screening leaves it out.
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace

import numpy as np
import openpyxl
import pytest
from SALib.sample import sobol as salib_sample

import dti.cli.analyse as analyse_cli
from dti.analysis.failures import (NEGATIVE_IN_MEAN, NO_SCORE, ZERO_IN_MEAN, Failures,
                                   classify_failures, failure_warnings)
from dti.analysis.sensitivity import rounding_note, sensitivity
from dti.analysis.spec import AnalysisSpec, AnalysisSpecError, runs_from_inputs
from dti.analysis.uncertainty import uncertainty, uncertainty_records
from dti.cli import main
from dti.editions.demo import demo_dataset
from dti.engine import Dataset, build
from dti.engine.aggregate import compile_plan
from dti.engine.recipe import AggregateSpec, NormaliseSpec, Recipe, ScreenSpec
from dti.framework.load import framework_from_dict


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def four_levels():
    """Indicators (level 1) → sub-pillars S0–S2 (level 2) → pillars P0, P1 (level 3) → R."""
    nodes = [{"code": f"i{j}", "name_vi": f"i{j}", "parents": [f"S{j % 3}"], "weight": 1}
             for j in range(6)]
    nodes += [{"code": f"S{k}", "name_vi": f"S{k}", "type": "aggregate", "level": 2,
               "parents": [f"P{k % 2}"], "weight": 1 + k} for k in range(3)]
    nodes += [{"code": f"P{k}", "name_vi": f"P{k}", "type": "aggregate", "level": 3,
               "parents": ["R"], "weight": 1} for k in range(2)]
    nodes.append({"code": "R", "name_vi": "R", "type": "aggregate", "level": 4})
    return framework_from_dict({"id": "four", "precision": 4, "nodes": nodes})


FW4 = four_levels()


def spec_of(choices: list[dict], runs: int = 64, seed: int = 3, framework=FW4) -> AnalysisSpec:
    return AnalysisSpec.from_dict({"choices": choices, "runs": runs, "seed": seed},
                                  framework=framework)


# ------------------------------------------------------------ weights noise over several levels

def test_several_levels_are_one_choice_that_reads_back_as_written():
    spec = spec_of([{"name": "weights", "noise": 0.25, "level": [2, 3]}])
    (choice,) = spec.choices
    assert choice.levels == (2, 3) and choice.label() == "weights ±25% (levels 2, 3)"
    assert spec.to_dict()["choices"] == [{"name": "weights", "noise": 0.25, "level": [2, 3]}]
    assert AnalysisSpec.from_dict(spec.to_dict(), framework=FW4) == spec
    # one level stays a number, as published snapshots carry it (their checksums must not move)
    one = spec_of([{"name": "weights", "noise": 0.25, "level": 2}])
    assert one.to_dict()["choices"] == [{"name": "weights", "noise": 0.25, "level": 2}]
    assert one.choices[0].label() == "weights ±25% (level 2)"


def test_the_noise_falls_on_the_listed_levels_as_one_factor():
    spec = spec_of([{"name": "weights", "noise": 0.25, "level": [2, 3]}], runs=200)
    codes = compile_plan(FW4, Recipe()).codes
    rng = np.random.default_rng(spec.seed)
    U = np.random.default_rng(0).random((200, 1))
    runs = runs_from_inputs(U, spec, Recipe(), codes, FW4, rng, fresh_weights=False)
    level = {c: FW4[c].level for c in codes}
    M = runs.multipliers
    moved = {c for j, c in enumerate(codes) if (M[:, j] != 1.0).any()}
    assert moved == {"S0", "S1", "S2", "P0", "P1"}             # levels 2 and 3, not 1 (nor R)
    assert ((M >= 0.75) & (M <= 1.25)).all()
    # one factor: the run's single pick fixes the weights of both levels together
    picks = np.array([v[0] for v in runs.values])
    first = {}
    for r, pick in enumerate(picks):
        np.testing.assert_array_equal(M[r], first.setdefault(pick, M[r]))
    assert len(first) > 50
    assert all(level[c] in (2, 3) for c in moved)


def test_a_weights_factor_over_two_levels_has_one_sobol_index():
    fw = FW4
    rng = np.random.default_rng(5)
    data = Dataset(tuple(f"u{i:02d}" for i in range(12)), tuple(f"i{j}" for j in range(6)),
                   rng.uniform(1, 10, (12, 6)))
    spec = spec_of([{"name": "weights", "noise": 0.5, "level": [2, 3]},
                    {"name": "rank.method", "alternatives": ["competition", "dense"]}])
    result = sensitivity(data, fw, Recipe(), spec, 64, resamples=20)
    assert result.choices == ("weights ±50% (levels 2, 3)", "rank.method")
    assert result.ranking.first.shape == (2,) and result.runs == 64 * 4
    assert result.ranking.total[0] > 0.5 > result.ranking.total[1]


@pytest.mark.parametrize("choices, bad, words", [
    ([{"name": "weights", "noise": 0.2, "level": [2, 2]}], [0], "level 2 is listed twice"),
    ([{"name": "weights", "noise": 0.2, "level": [2, 7]}], [0],
     "weights level 7 matches no node that carries weight; levels with weighted nodes: 1, 2, 3"),
    ([{"name": "weights", "noise": 0.2, "level": [2, 3]},
      {"name": "weights", "noise": 0.1, "level": 3}], [1],
     "weights noise on level 3 overlaps choices[0] (on levels 2, 3)"),
    ([{"name": "weights", "noise": 0.2, "level": 1},
      {"name": "weights", "noise": 0.1}], [1], "overlaps choices[0] (on level 1)"),
    ([{"name": "weights", "noise": 0.2, "level": []}], [0], "or a list of them"),
    ([{"name": "weights", "noise": 0.2, "level": [2, "x"]}], [0], "or a list of them"),
])
def test_level_problems_are_located_at_their_choice(choices, bad, words):
    with pytest.raises(AnalysisSpecError) as caught:
        AnalysisSpec.from_dict({"choices": choices}, file="s.yaml", framework=FW4)
    problems = caught.value.problems
    assert [(p.code, p.column, p.file) for p in problems] == [
        ("analysis.bad_choice", f"choices[{i}]", "s.yaml") for i in bad]
    assert words in problems[0].message


def test_disjoint_levels_in_two_choices_are_fine():
    spec = spec_of([{"name": "weights", "noise": 0.2, "level": 1},
                    {"name": "weights", "noise": 0.1, "level": [2, 3]}])
    assert [c.levels for c in spec.choices] == [(1,), (2, 3)]


# -------------------------------------------------- a geometric mean over a zero or a negative

def flat():
    """Two indicators under R; values read as they are (normalisation none)."""
    return framework_from_dict({"id": "flat", "precision": 4, "nodes": [
        {"code": "a", "name_vi": "a", "parents": ["R"], "weight": 1},
        {"code": "b", "name_vi": "b", "parents": ["R"], "weight": 1},
        {"code": "R", "name_vi": "R", "type": "aggregate", "level": 2}]})


FLAT = flat()
AS_IS = Recipe(normalise=NormaliseSpec("none"), aggregate=AggregateSpec("arithmetic"))


def flat_data(a1: float = 0.0) -> Dataset:
    """u1 has ``a1`` on a (0: the engine's geometric mean gives it 0 whatever its b)."""
    values = np.array([[4.0, 1.0], [a1, 9.0], [2.0, 3.0], [3.0, 2.0]])
    return Dataset(("u0", "u1", "u2", "u3"), ("a", "b"), values)


METHOD = {"name": "aggregate.method", "alternatives": ["arithmetic", "geometric"]}


def test_a_geometric_mean_over_a_zero_fails_its_runs_instead_of_ranking_a_quiet_zero():
    data = flat_data()
    geometric = build(data, FLAT, replace(AS_IS, aggregate=AggregateSpec("geometric")))
    assert geometric.score()[1] == 0.0         # what the engine's limit would have ranked
    spec = spec_of([METHOD], runs=64, framework=FLAT)
    result = uncertainty(data, FLAT, AS_IS, spec)
    is_geometric = np.array([s[0] == "geometric" for s in result.samples])
    assert 0 < is_geometric.sum() < 64
    np.testing.assert_array_equal(result.failed, is_geometric)
    assert result.failures == {ZERO_IN_MEAN: int(is_geometric.sum())}
    assert result.used == int((~is_geometric).sum())
    assert np.isnan(result.ranks[is_geometric]).all()
    # the statistics are those of the arithmetic runs alone: u1 is 1st (4.5), not last (0)
    arithmetic = build(data, FLAT, AS_IS).rank()
    np.testing.assert_array_equal(result.stats["median_rank"], arithmetic)
    np.testing.assert_array_equal(result.stats["rank_p95"], arithmetic)


@pytest.mark.parametrize("choices, recipe, fails", [
    # dropping the indicator with the zero leaves a defined geometric mean
    ([{"name": "exclude", "alternatives": ["none", "a"]}], "geometric", "keeps a"),
    # a power mean with p > 0 over a zero is defined (0 ** p = 0)
    ([{"name": "aggregate.p", "range": [0.5, 2.0]}], "generalised", "none"),
    # the value at 0 moved above 0: nothing to fail
    ([METHOD], "above zero", "none"),
])
def test_only_a_zero_that_counts_fails_a_run(choices, recipe, fails):
    data = flat_data(0.5 if recipe == "above zero" else 0.0)
    method = "geometric" if recipe == "above zero" else recipe
    nominal = replace(AS_IS, aggregate=AggregateSpec(method, p=1.5))
    result = uncertainty(data, FLAT, nominal, spec_of(choices, runs=40, framework=FLAT))
    expected = np.array([s[0] == () for s in result.samples]) if fails == "keeps a" else \
        np.zeros(40, dtype=bool)
    np.testing.assert_array_equal(result.failed, expected)
    assert result.failures == ({ZERO_IN_MEAN: int(expected.sum())} if expected.any() else {})


def test_a_zero_of_a_unit_screened_out_fails_nothing_and_the_unit_is_listed():
    values = np.array([[4.0, 1.0, 2.0], [0.0, np.nan, np.nan], [2.0, 3.0, 1.0], [3.0, 2.0, 5.0]])
    fw = framework_from_dict({"id": "three", "precision": 4, "nodes": [
        *({"code": c, "name_vi": c, "parents": ["R"], "weight": 1} for c in "abc"),
        {"code": "R", "name_vi": "R", "type": "aggregate", "level": 2}]})
    data = Dataset(("u0", "u1", "u2", "u3"), ("a", "b", "c"), values)
    recipe = replace(AS_IS, screen=ScreenSpec(0.9), aggregate=AggregateSpec("geometric"))
    result = uncertainty(data, fw, recipe, spec_of([METHOD], runs=20, framework=fw))
    assert not result.failed.any() and result.failures == {}
    assert result.screened_out == ("u1",)
    rows = {r["code"]: r for r in uncertainty_records(result)}
    assert rows["u1"]["screened_out"] is True and rows["u1"]["median_rank"] is None
    assert not any(rows[u]["screened_out"] for u in ("u0", "u2", "u3"))


def test_negative_values_fail_with_their_own_reason_before_a_zero():
    # z-scores are negative below the mean; min-max gives the lowest unit 0
    data = flat_data(1.0)
    spec = spec_of([{"name": "normalise.method", "alternatives": ["zscore", "minmax"]}],
                   runs=40, framework=FLAT)
    result = uncertainty(data, FLAT, replace(AS_IS, aggregate=AggregateSpec("geometric")), spec)
    zscore = np.array([s[0] == "zscore" for s in result.samples])
    assert result.failed.all()
    assert result.failures == {NEGATIVE_IN_MEAN: int(zscore.sum()),
                               ZERO_IN_MEAN: int((~zscore).sum())}


def test_reasons_are_counted_once_per_run_in_a_fixed_order():
    build_failed = np.array([True, False, False, False, False])
    undefined = {NEGATIVE_IN_MEAN: np.array([True, True, False, False, False]),
                 ZERO_IN_MEAN: np.array([True, True, True, False, False])}
    scores = np.array([[np.nan], [np.nan], [np.nan], [np.nan], [1.0]])
    failures = classify_failures(build_failed, {0: "no goalposts"}, np.zeros(5, dtype=int),
                                 scores, undefined)
    assert failures.failed.tolist() == [True, True, True, True, False]
    assert failures.counts() == {"cannot build: no goalposts": 1, NEGATIVE_IN_MEAN: 1,
                                 ZERO_IN_MEAN: 1, NO_SCORE: 1}


def test_the_choice_that_makes_most_runs_fail_is_named_and_bystanders_are_not():
    data = flat_data()
    spec = spec_of([METHOD, {"name": "rank.method", "alternatives": ["competition", "dense"]}],
                   runs=400, framework=FLAT)
    result = uncertainty(data, FLAT, AS_IS, spec)
    geometric = np.array([s[0] == "geometric" for s in result.samples])
    dense = np.array([s[1] == "dense" for s in result.samples])
    # about half of the dense runs fail too, by chance (they are geometric half the time)
    assert 0.4 < (result.failed & dense).sum() / dense.sum() < 0.6
    (warning,) = result.warnings
    assert warning.startswith(f"aggregate.method = geometric: {geometric.sum()} of "
                              f"{geometric.sum()} runs fail (100%), mostly for {ZERO_IN_MEAN}")


@pytest.mark.parametrize("failed_by_pick, warned", [
    ({0: (90, 100), 1: (5, 100)}, [0]),           # clearly worse and above half: named
    ({0: (52, 100), 1: (48, 100)}, []),           # above half by chance only: not named
    ({0: (60, 100), 1: (55, 100)}, []),           # most runs fail, no alternative to blame
    ({0: (40, 100), 1: (0, 100)}, []),            # clearly worse but not most of its runs
    ({0: (3, 4)}, []),                            # the only alternative: nothing to compare
])
def test_a_warning_needs_most_runs_failing_and_clearly_more_than_without(failed_by_pick, warned):
    picks, failed = [], []
    for pick, (bad, total) in failed_by_pick.items():
        picks += [pick] * total
        failed += [True] * bad + [False] * (total - bad)
    failed = np.array(failed)
    failures = Failures(failed, np.where(failed, 0, -1), (ZERO_IN_MEAN,))
    spec = spec_of([{"name": "aggregate.method", "alternatives": ["geometric", "arithmetic"]}],
                   framework=FLAT)
    warnings = failure_warnings(spec, np.array(picks, dtype=float)[:, None], failures)
    named = [w.split(":")[0] for w in warnings]
    # most runs failing with no alternative to blame: one warning for the whole analysis
    overall = ["most runs fail"] if not warned and failed.mean() > 0.5 else []
    assert named == [f"aggregate.method = {['geometric', 'arithmetic'][k]}" for k in warned] \
        + overall


def test_sobol_indices_rest_on_the_blocks_whose_runs_all_succeeded():
    data = flat_data()
    spec = spec_of([METHOD, {"name": "weights", "noise": 0.3}], framework=FLAT, seed=7)
    result = sensitivity(data, FLAT, AS_IS, spec, 64, resamples=20)
    U = salib_sample.sample({"num_vars": 2, "names": ["m", "w"], "bounds": [[0, 1]] * 2}, 64,
                            calc_second_order=False, seed=7)
    geometric = U[:, 0] >= 0.5
    assert result.failures == {ZERO_IN_MEAN: int(geometric.sum())}
    assert result.samples_used == int((~geometric.reshape(64, 4).any(axis=1)).sum())
    assert result.warnings and result.warnings[0].startswith("aggregate.method = geometric")


def test_the_command_counts_failed_runs_says_what_is_left_and_warns(capsys, tmp_path):
    # min-max onto [0, 100] gives each indicator's lowest province 0: every geometric run fails
    spec = tmp_path / "spec.yaml"
    spec.write_text("runs: 200\nseed: 6\nchoices:\n  - {name: weights, noise: 0.1}\n"
                    "  - {name: normalise.method, alternatives: [minmax]}\n"
                    "  - {name: aggregate.method, alternatives: [arithmetic, geometric]}\n",
                    encoding="utf-8")
    code, out, err = run(capsys, "analyse", "uncertainty", "--demo", "--spec", str(spec),
                         "--format", "json")
    assert code == 0, err
    payload = json.loads(out)
    geometric = [r["aggregate.method"] == "geometric" for r in payload["samples"]]
    assert [r["failed"] for r in payload["samples"]] == geometric
    assert payload["failures"] == {ZERO_IN_MEAN: sum(geometric)}
    assert (payload["failed_runs"], payload["runs_used"]) == (sum(geometric), 200 - sum(geometric))
    (warning,) = payload["warnings"]
    assert warning.startswith(f"aggregate.method = geometric: {sum(geometric)} of ")
    assert err == f"warning: {warning}\n"
    # the table says it too, in Vietnamese
    code, out, _ = run(capsys, "analyse", "uncertainty", "--demo", "--spec", str(spec),
                       "--runs", "40", "--seed", "1")
    assert code == 0 and f"runs failed: {ZERO_IN_MEAN}" in out


def test_the_table_says_how_many_runs_are_left_when_few_failed(capsys, tmp_path):
    # one alternative in 20 (min-max onto [0, 100]) leaves a geometric mean over a zero
    spec = tmp_path / "spec.yaml"
    spec.write_text("runs: 300\nseed: 2\ndesign: random\nchoices:\n"
                    "  - {name: weights, noise: 0.1}\n"
                    "  - {name: normalise, alternatives: ["
                    + ", ".join(["{method: minmax, lower: 1}"] * 19) + ", {method: minmax}]}\n"
                    "  - {name: aggregate.method, alternatives: [geometric]}\n",
                    encoding="utf-8")
    code, out, err = run(capsys, "analyse", "uncertainty", "--demo", "--spec", str(spec),
                         "--format", "json")
    payload = json.loads(out)
    used, runs = payload["runs_used"], payload["runs"]
    assert code == 0 and 0.9 * runs <= used < runs
    (warning,) = payload["warnings"]           # the one alternative that always fails
    assert warning.startswith(f"normalise = method=minmax: {runs - used} of {runs - used} runs")
    code, out, _ = run(capsys, "analyse", "uncertainty", "--demo", "--spec", str(spec))
    assert f"Thống kê dựa trên {used} lượt chạy thành công trong tổng số {runs} lượt" in out


# ------------------------------------------------------------- runs rounded for a Sobol design

def test_the_rounding_of_runs_to_a_power_of_two_is_said():
    assert rounding_note(1000, 1024, 4) == ("runs: 1,000 asked for, rounded up to N = 1,024 base "
                                            "samples (a Sobol design needs a power of two), so "
                                            "6,144 runs for 4 choices")
    assert "rounded down to N = 4,096" in rounding_note(5000, 4096, 2)
    assert rounding_note(1024, 1024, 4) is None and rounding_note(None, 64, 2) is None
    data = flat_data(1.0)
    spec = spec_of([METHOD, {"name": "weights", "noise": 0.3}], runs=100, framework=FLAT)
    asked = sensitivity(data, FLAT, AS_IS, spec, resamples=10)
    assert (asked.N, asked.requested, asked.rounded) == (128, 100, True)
    assert rounding_note(100, 128, 2) in asked.notes
    exact = sensitivity(data, FLAT, AS_IS, replace(spec, runs=128), resamples=10)
    assert not exact.rounded and not any(n.startswith("runs:") for n in exact.notes)
    given = sensitivity(data, FLAT, AS_IS, spec, 64, resamples=10)
    assert given.requested is None and not given.rounded


def test_the_command_warns_on_standard_error_and_keeps_both_numbers(capsys, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("seed: 4\nchoices:\n  - {name: weights, noise: 0.25}\n"
                    "  - {name: exclude, alternatives: [none, HDCQS]}\n", encoding="utf-8")
    code, out, err = run(capsys, "analyse", "sensitivity", "--demo", "--spec", str(spec),
                         "--runs", "100", "--format", "json")
    assert code == 0, err
    note = rounding_note(100, 128, 2)
    assert f"warning: {note}\n" in err
    payload = json.loads(out)
    assert (payload["runs_requested"], payload["N"], payload["runs"]) == (100, 128, 100)
    assert payload["evaluated_runs"] == 128 * 4 and note in payload["warnings"]
    code, out, err = run(capsys, "analyse", "sensitivity", "--demo", "--spec", str(spec),
                         "--runs", "128", "--format", "json")
    assert code == 0 and "warning" not in err and json.loads(out)["warnings"] == []


# ------------------------------------------------------------ --out checked before computing

@pytest.fixture
def nothing_computed(monkeypatch):
    """Fail the test if a command gets as far as loading its inputs."""
    def loaded(**options):
        raise AssertionError("inputs loaded before --out was checked")

    monkeypatch.setattr(analyse_cli, "load_inputs", loaded)


@pytest.mark.parametrize("command, setup, args, words", [
    ("uncertainty", None, ["--format", "json", "--out", "{tmp}/missing/u.json"],
     "{tmp}/missing/u.json: --out: the folder {tmp}/missing does not exist"),
    ("sensitivity", "dir:taken", ["--format", "json", "--out", "{tmp}/taken"],
     "{tmp}/taken: --out: is a folder; give a file name"),
    ("audit", "file:result", ["--format", "csv", "--out", "{tmp}/result"],
     "{tmp}/result: --out: is a file; several CSV tables need a folder"),
    ("uncertainty", "file:plain", ["--format", "csv", "--out", "{tmp}/plain/inner"],
     "{tmp}/plain/inner: --out: {tmp}/plain is a file, not a folder"),
    ("uncertainty", None, ["--chart", "{tmp}/nowhere/c.svg"],
     "{tmp}/nowhere/c.svg: --chart: the folder {tmp}/nowhere does not exist"),
    ("sensitivity", None, ["--format", "xlsx"], "--format xlsx needs --out FILE.xlsx"),
    ("audit", None, ["--format", "csv", "--out", "{tmp}/audit.csv"],
     "this result has 7 tables (indicators, correlations, flags, cronbach, pca, main_effects, "
     "leave_one_out); give --out a folder"),
])
def test_an_output_that_cannot_be_written_is_refused_before_anything_runs(
        capsys, tmp_path, nothing_computed, command, setup, args, words):
    if setup:
        kind, name = setup.split(":")
        (tmp_path / name).mkdir() if kind == "dir" else (tmp_path / name).write_text("x")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code, out, err = run(capsys, "analyse", command, "--demo", *args)
    assert code == 1 and out == ""
    (line,) = err.strip().splitlines()
    assert line.startswith("error: ") and words.replace("{tmp}", str(tmp_path)) in line
    assert line.endswith(("[cli.bad_out]", "[cli.xlsx_needs_out]", "[cli.csv_needs_table]"))


def test_a_csv_folder_that_does_not_exist_yet_is_created(capsys, tmp_path):
    folder = tmp_path / "new" / "run"
    code, _, err = run(capsys, "analyse", "uncertainty", "--demo", "--runs", "20", "--format",
                       "csv", "--out", str(folder))
    assert code == 0, err
    assert sorted(p.name for p in folder.iterdir()) == ["about.csv", "samples.csv", "units.csv"]


# ------------------------------------------------------- the units screened out, in every output

@pytest.fixture
def screened_data(tmp_path):
    """The demo data with Bắc Kạn (06) emptied but for one value, and a recipe that screens."""
    data = demo_dataset()
    path = tmp_path / "v.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["code", *data.columns])
        for unit, row in zip(data.units, data.values):
            cells = ["" if np.isnan(v) else f"{v:.6f}" for v in row]
            if unit == "06":
                cells = [cells[0]] + [""] * (len(cells) - 1)
            writer.writerow([unit, *cells])
    recipe = tmp_path / "r.yaml"
    recipe.write_text("screen: {min_availability: 0.9}\n", encoding="utf-8")
    return ["--edition", "dti-province-2022", "--data", str(path), "--recipe", str(recipe)]


SPEC = "runs: 64\nseed: 2\nchoices:\n  - {name: weights, noise: 0.2}\n" \
       "  - {name: exclude, alternatives: [none, HDCQS]}\n"


@pytest.mark.parametrize("command", ["uncertainty", "sensitivity", "audit"])
def test_every_output_lists_the_units_screened_out(capsys, tmp_path, screened_data, command):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    extra = [] if command == "audit" else ["--spec", str(spec)]
    base = ["analyse", command, *screened_data, *extra]
    listed = [{"code": "06", "name": "Bắc Kạn"}]

    code, out, err = run(capsys, *base, "--format", "json")
    assert code == 0, err
    assert json.loads(out)["screened_out"] == listed

    folder = tmp_path / "csv"
    assert run(capsys, *base, "--format", "csv", "--out", str(folder))[0] == 0
    with (folder / "about.csv").open(encoding="utf-8-sig") as f:
        about = {r["key"]: r["value"] for r in csv.DictReader(f)}
    assert json.loads(about["screened_out"]) == listed

    book = tmp_path / "a.xlsx"
    assert run(capsys, *base, "--format", "xlsx", "--out", str(book))[0] == 0
    sheet = openpyxl.load_workbook(book)["about"]
    about = {r[0]: r[1] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert json.loads(about["screened_out"]) == listed

    code, out, _ = run(capsys, *base)
    assert code == 0 and "Bị loại khi sàng lọc dữ liệu (1), không được xếp hạng: Bắc Kạn" in out
    code, out, _ = run(capsys, *base, "--lang", "en")
    assert code == 0 and "Screened out (1), not ranked: Bac Kan Province" in out


def test_no_unit_screened_out_is_an_empty_list(capsys):
    code, out, _ = run(capsys, "analyse", "uncertainty", "--demo", "--runs", "20",
                       "--format", "json")
    payload = json.loads(out)
    assert code == 0 and payload["screened_out"] == []
    assert not any(r["screened_out"] for r in payload["units"])


def test_asking_for_a_screened_out_unit_says_why_it_has_no_indices(capsys, tmp_path,
                                                                    screened_data):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    code, out, err = run(capsys, "analyse", "sensitivity", *screened_data, "--spec", str(spec),
                         "--unit", "bac kan")
    assert code == 0, err
    assert "Bắc Kạn bị loại khi sàng lọc dữ liệu: không có chỉ số riêng" in out
    code, out, _ = run(capsys, "analyse", "sensitivity", *screened_data, "--spec", str(spec),
                       "--unit", "bac kan", "--lang", "en")
    assert "Bac Kan Province is screened out: it has no indices of its own" in out
