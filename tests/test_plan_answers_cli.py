"""``dti plan answers``: what-if on sub-indicator answers read from the province's workbook."""

from __future__ import annotations

import json

import pytest

from dti.cli import main
from dti.io.assessment_xlsx import template
from dti.scoring import illustrative_catalogue

CAT = illustrative_catalogue()
RATIO = next(i for i in CAT.items if i.rule.kind == "ratio" and i.max_points == 10)
YESNO = next(i for i in CAT.items if i.rule.kind == "yesno")


def _workbook(tmp_path, answers):
    path = tmp_path / "dti-48.xlsx"
    path.write_bytes(template(CAT, "dti-2022-minh-hoa", "48", "Đà Nẵng", answers,
                              {i.code: 1 for i in CAT.items}))
    return path


def test_answers_from_the_workbook_and_one_change_move_the_total_by_points_over_1000(tmp_path, capsys):
    a, b = (f.name for f in RATIO.rule.fields)
    book = _workbook(tmp_path, {RATIO.code: {a: 1, b: 4}, YESNO.code: {"value": True}})
    code = main(["plan", "answers", "Đà Nẵng", "--workbook", str(book),
                 "--set", f"{RATIO.code}.{a}=3", "--demo", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    body = json.loads(out)
    change = body["answers"][0]
    assert change["before_points"] == pytest.approx(2.5) and change["after_points"] == pytest.approx(7.5)
    total = next(r for r in body["standing"] if r["node"] == "DTI")
    assert total["score_before"] == pytest.approx(round((2.5 + YESNO.max_points) / 1000, 4))
    assert total["score_after"] - total["score_before"] == pytest.approx(0.005, abs=1e-4)


def test_a_malformed_change_and_a_bad_workbook_are_one_located_line_each(tmp_path, capsys):
    book = _workbook(tmp_path, {})
    assert main(["plan", "answers", "48", "--workbook", str(book), "--set", "NTS04=3",
                 "--demo"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "plan.bad_answer_change" in err and "--set" in err
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a workbook")
    assert main(["plan", "answers", "48", "--workbook", str(broken),
                 "--set", f"{RATIO.code}.a=3", "--demo"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "import.not_xlsx" in err and "broken.xlsx" in err
