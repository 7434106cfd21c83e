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
    assert sheets.sheetnames == ["about", "units"]
    about = {r[0]: r[1] for r in sheets["about"].iter_rows(min_row=2, values_only=True)}
    assert about["seed"] == "3" and about["design"] == "sobol"


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
