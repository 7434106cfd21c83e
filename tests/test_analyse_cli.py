"""`dti analyse …`: reproducible outputs, charts, and one-line errors."""

from __future__ import annotations

import json

import openpyxl

from dti.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_uncertainty_same_seed_same_bytes(capsys, tmp_path):
    args = ("analyse", "uncertainty", "--demo", "--runs", "300", "--seed", "7", "--format", "json")
    first, second = run(capsys, *args), run(capsys, *args)
    assert first[0] == 0 and first[1] == second[1]
    other = run(capsys, "analyse", "uncertainty", "--demo", "--runs", "300", "--seed", "8",
                "--format", "json")
    assert other[1] != first[1]
    payload = json.loads(first[1])
    assert (payload["seed"], payload["runs"], payload["design"]) == (7, 300, "random")
    assert payload["choices"][:3] == ["weights ±25%", "normalise", "aggregate.method"]
    assert payload["failed_runs"] == 0   # z-scores centred on 100: the geometric mean is defined
    assert payload["recipe"]["aggregate"]["method"] == "points"
    top = payload["units"][0]
    assert (top["code"], top["name"], top["nominal_rank"]) == ("48", "Đà Nẵng", 1)
    assert top["rank_p05"] <= top["median_rank"] <= top["rank_p95"]


def test_uncertainty_spec_file_chart_and_xlsx(capsys, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("runs: 200\nseed: 3\ndesign: sobol\nchoices:\n"
                    "  - {name: weights, noise: 0.1}\n"
                    "  - {name: exclude, alternatives: [none, HDXHS]}\n", encoding="utf-8")
    chart, book = tmp_path / "ranks.svg", tmp_path / "u.xlsx"
    code, _, err = run(capsys, "analyse", "uncertainty", "--demo", "--spec", str(spec),
                       "--format", "xlsx", "--out", str(book), "--chart", str(chart))
    assert code == 0, err
    assert "Thái Nguyên" in chart.read_text(encoding="utf-8")
    sheets = openpyxl.load_workbook(book)
    assert sheets.sheetnames == ["about", "units", "samples"]
    about = {r[0]: r[1] for r in sheets["about"].iter_rows(min_row=2, values_only=True)}
    assert about["seed"] == 3 and about["design"] == "sobol"


def test_uncertainty_table_in_vietnamese(capsys):
    code, out, _ = run(capsys, "analyse", "uncertainty", "--demo", "--runs", "200")
    assert code == 0
    assert "Độ bất định của thứ hạng — 200 runs, seed 2022" in out
    assert "Đà Nẵng" in out and "0,8002" in out


def test_bad_spec_is_located(capsys, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("choices:\n  - {name: normalise.colour, alternatives: [red]}\n"
                    "  - {name: weights}\n", encoding="utf-8")
    code, out, err = run(capsys, "analyse", "uncertainty", "--demo", "--spec", str(spec))
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert lines[0] == ("error: spec.yaml, column 'choices[0]': 'normalise.colour' is not a recipe "
                        "field (e.g. normalise.method, aggregate.method, treat.max_points), "
                        "'weights' or 'exclude' [analysis.bad_choice]")
    assert lines[1] == ("error: spec.yaml, column 'choices[1]': weights need noise: a fraction in "
                        "[0, 1), e.g. 0.25 for ±25 % [analysis.bad_choice]")


def test_uncertainty_lists_each_runs_choices(capsys, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("runs: 40\nseed: 5\nchoices:\n"
                    "  - {name: normalise, alternatives: [{method: minmax}, "
                    "{method: zscore, mean: 100, sd: 10}]}\n"
                    "  - {name: exclude, alternatives: [none, HDXHS]}\n", encoding="utf-8")
    code, out, _ = run(capsys, "analyse", "uncertainty", "--demo", "--spec", str(spec),
                       "--format", "json")
    runs = json.loads(out)["samples"]
    assert code == 0 and len(runs) == 40 and [r["run"] for r in runs] == list(range(40))
    assert {r["normalise"] for r in runs} == {"method=minmax", "mean=100;method=zscore;sd=10"}
    assert {r["exclude"] for r in runs} == {"", "HDXHS"} and not any(r["failed"] for r in runs)


def test_sensitivity_command(capsys, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("runs: 256\nseed: 11\nchoices:\n  - {name: weights, noise: 0.25}\n"
                    "  - {name: exclude, alternatives: [none, HDCQS]}\n"
                    "  - {name: rank.method, alternatives: [competition, dense]}\n", encoding="utf-8")
    chart = tmp_path / "sobol.png"
    code, out, err = run(capsys, "analyse", "sensitivity", "--demo", "--spec", str(spec),
                         "--unit", "thai nguyen", "--format", "json", "--chart", str(chart))
    assert code == 0, err
    payload = json.loads(out)
    assert (payload["N"], payload["seed"], payload["evaluated_runs"]) == (256, 11, 256 * 5)
    assert payload["design"] == "saltelli" and payload["samples_used"] == 256
    # the whole spec travels with the result, so the analysis can be re-run from its output
    assert payload["spec"]["choices"][1] == {"name": "exclude", "alternatives": ["none", "HDCQS"]}
    assert payload["spec"]["runs"] == 256 and payload["spec"]["seed"] == 11
    ranking = {r["choice"]: r for r in payload["ranking"]}
    assert set(ranking) == {"weights ±25%", "exclude", "rank.method"}
    # dropping the 200-point indicator moves ranks far more than which rank method is used
    assert ranking["exclude"]["ST"] > ranking["rank.method"]["ST"]
    assert {r["code"] for r in payload["units"]} == {"19"}          # Thái Nguyên only
    assert {r["output"] for r in payload["units"]} == {"rank", "score"}
    assert chart.read_bytes()[:4] == b"\x89PNG"
    again = run(capsys, "analyse", "sensitivity", "--demo", "--spec", str(spec), "--unit",
                "thai nguyen", "--format", "json")
    assert again[1] == out                                           # same seed, same bytes


def test_audit_command(capsys, tmp_path):
    code, out, _ = run(capsys, "analyse", "audit", "--demo", "--format", "json",
                       "--chart", str(tmp_path / "heat.svg"))
    assert code == 0
    payload = json.loads(out)
    assert set(payload) >= {"indicators", "correlations", "flags", "cronbach", "pca",
                            "main_effects", "leave_one_out"}
    dropped = {r["code"]: r for r in payload["leave_one_out"]}
    assert dropped["DTTM"]["max_abs_rank_change"] == 0          # 0 points: dropping changes nothing
    assert dropped["HDCQS"]["max_abs_rank_change"] > 0
    assert "HDKTS" in (tmp_path / "heat.svg").read_text(encoding="utf-8")
    code, out, _ = run(capsys, "analyse", "audit", "--demo")
    assert code == 0 and "Hệ số Cronbach α" in out and "Bỏ từng chỉ số" in out


def test_multi_table_csv_needs_a_folder_and_xlsx_is_reproducible(capsys, tmp_path):
    code, _, err = run(capsys, "analyse", "audit", "--demo", "--format", "csv",
                       "--out", str(tmp_path / "audit.csv"))
    assert code == 1 and "give --out a folder" in err and "[cli.csv_needs_table]" in err
    folder = tmp_path / "audit"
    assert run(capsys, "analyse", "audit", "--demo", "--format", "csv", "--out", str(folder))[0] == 0
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["about.csv", "indicators.csv", "correlations.csv", "flags.csv", "cronbach.csv", "pca.csv",
         "main_effects.csv", "leave_one_out.csv"])
    books = [tmp_path / "a.xlsx", tmp_path / "b.xlsx"]
    for book in books:
        assert run(capsys, "analyse", "uncertainty", "--demo", "--runs", "50", "--format", "xlsx",
                   "--out", str(book))[0] == 0
    assert books[0].read_bytes() == books[1].read_bytes()
