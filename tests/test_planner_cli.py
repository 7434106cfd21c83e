"""`dti plan …`: JSON pinned on the published 2022 top five, tables in both languages, scenarios
saved and compared, and one located `error:` line with exit code 1 for every bad input."""

from __future__ import annotations

import json
import unicodedata

import pytest

from dti.cli import main

E2022 = ("--edition", "dti-province-2022")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_whatif_json_is_the_rebuild(capsys):
    code, out, err = run(capsys, "plan", "whatif", "Cần Thơ", "--set", "HDXHS=0,5", *E2022,
                         "--format", "json")
    assert code == 0, err
    payload = json.loads(out)
    assert (payload["unit"], payload["name"], payload["saved"]) == ("92", "Cần Thơ", None)
    assert payload["changes"] == [{"code": "HDXHS", "before": 0.2947, "after": 0.5}]
    assert [(s["node"], s["score_before"], s["score_after"], s["rank_before"], s["rank_after"])
            for s in payload["standing"]] == [
        ("DTI", 0.6924, 0.7232, 5, 2), ("CQS", 0.7641, 0.7641, 5, 5),
        ("KTS", 0.7718, 0.7718, 2, 2), ("XHS", 0.6655, 0.7128, 4, 2)]
    assert [(a["node"], a["name"], a["rank_change"]) for a in payload["affected"]] == [
        ("DTI", "Cần Thơ", 3), ("DTI", "TP. Hồ Chí Minh", -1), ("DTI", "Quảng Ninh", -1),
        ("DTI", "Thừa Thiên Huế", -1), ("XHS", "Cần Thơ", 2), ("XHS", "Quảng Ninh", -1),
        ("XHS", "TP. Hồ Chí Minh", -1)]


def test_target_json_pins_the_least_points(capsys):
    code, out, err = run(capsys, "plan", "target", "can tho", "--rank", "4", "--strict", *E2022,
                         "--format", "json")
    assert code == 0, err
    plan = json.loads(out)["plan"]
    assert (plan["reachable"], plan["points"], plan["needed"]) == (True, 5.155, 0.6976)
    assert plan["steps"] == [{"code": "HDXHS", "points": 5.155, "value_before": 0.2947,
                              "value_after": 0.329067, "cost": 5.155, "headroom": 105.795}]
    assert plan["scores_after"]["DTI"] == 0.6976 and plan["ranks_after"]["DTI"] == 4
    assert plan["rivals"] == [{"unit": "46", "name": "Thừa Thiên Huế", "score": 0.6975, "rank": 4,
                               "status": "overtaken"}]


def test_target_table_in_vietnamese_and_english(capsys):
    code, out, _ = run(capsys, "plan", "target", "Cần Thơ", "--above", "TT Huế", *E2022)
    assert code == 0
    assert unicodedata.is_normalized("NFC", out)
    assert "Mục tiêu cho Cần Thơ: vượt Thừa Thiên Huế" in out and "5,1550" in out
    assert "Kết quả (Chỉ số DTI cấp tỉnh): điểm 0,6976, hạng 4" in out
    assert "Cần vượt: Thừa Thiên Huế 0,6975 (vượt qua)" in out
    code, out, _ = run(capsys, "plan", "target", "Cần Thơ", "--rank", "4", *E2022, "--lang", "en")
    assert code == 0
    assert "Total points added: 5.0550" in out and "Thua Thien Hue Province 0.6975 (tied)" in out


def test_unreachable_target_is_reported_not_an_error(capsys):
    code, out, _ = run(capsys, "plan", "target", "Cần Thơ", "--score", "1,01", *E2022)
    assert code == 0
    assert ("Không thể đạt: dù mọi chỉ số đạt tối đa, Chỉ số DTI cấp tỉnh chỉ đạt 1,0000, thấp "
            "hơn mức cần 1,0100") in out
    code, out, _ = run(capsys, "plan", "target", "Cần Thơ", "--rank", "1", "--max", "HDXHS=5",
                       "--max", "HDCQS=5", "--max", "hdkts=0", "--max", "NTS=0", "--max", "TCS=0",
                       "--max", "HTS=0", "--max", "NLS=0", "--max", "ATTT=0", *E2022,
                       "--format", "json", "--integer")
    plan = json.loads(out)["plan"]
    assert code == 0 and (plan["reachable"], plan["reason_code"]) == (False, "bounds_too_tight")
    assert plan["target"]["bounds"]["HDKTS"] == 0


def test_defend_and_profile_run(capsys):
    code, out, err = run(capsys, "plan", "defend", "Huế", *E2022, "--format", "json")
    assert code == 0, err
    payload = json.loads(out)
    assert (payload["score"], payload["rank"]) == (0.6975, 4)
    assert [(t["name"], t["points_needed"], t["steps"]) for t in payload["threats"]] == [
        ("Cần Thơ", 5.155, "HDXHS=5.155")]
    code, out, _ = run(capsys, "plan", "defend", "Cần Thơ", "--demo", "--neighbours", "2")
    assert code == 0 and "Phòng thủ cho Cần Thơ" in out and "Lạng Sơn" in out
    code, out, _ = run(capsys, "plan", "profile", "Cần Thơ", "--demo")
    assert code == 0
    assert "Yếu nhất: Hoạt động xã hội số" in out and "Cùng vùng (Đồng bằng sông Cửu Long)" in out
    code, out, _ = run(capsys, "plan", "profile", "Cần Thơ", "--demo", "--format", "csv")
    assert code == 0 and out.splitlines()[0].startswith("code,value,points,max_points,rank")
    assert len(out.splitlines()) == 9


def test_scenarios_saved_and_compared(capsys, tmp_path):
    folder = str(tmp_path / "sc")
    for name, change in (("xhs", "HDXHS=0.5"), ("kts", "HDKTS=0.9")):
        code, _, err = run(capsys, "plan", "whatif", "Cần Thơ", "--set", change, "--save", name,
                           "--scenarios", folder, *E2022)
        assert code == 0, err
    code, out, err = run(capsys, "plan", "scenarios", "--scenarios", folder, *E2022,
                         "--format", "json")
    assert code == 0, err
    rows = json.loads(out)["scenarios"]
    # 692.395 + 150·(0.9 − 0.7556) = 714.055 points → 0.7141; + 150·(0.5 − 0.2947) → 0.7232
    assert [(r["scenario"], r["changes"], r["DTI_after"], r["DTI_rank_after"]) for r in rows] == [
        ("kts", "HDKTS=0.9", 0.7141, 3), ("xhs", "HDXHS=0.5", 0.7232, 2)]
    code, out, _ = run(capsys, "plan", "scenarios", "xhs", "--scenarios", folder, *E2022,
                       "--lang", "en")
    assert code == 0 and "Scenarios side by side" in out and "0.7232 (2, +3)" in out
    code, _, err = run(capsys, "plan", "scenarios", "nope", "--scenarios", folder, *E2022)
    assert code == 1 and "no scenario 'nope'" in err and "kts, xhs" in err


@pytest.mark.parametrize("assignment, message, code", [
    ("XYZ=0.5", "indicator 'XYZ': --set: 'XYZ' is not an indicator of qd-922-btttt",
     "plan.unknown_indicator"),
    ("HDKTS=abc", "indicator 'HDKTS': --set HDKTS=abc: the value is not a number",
     "plan.not_a_number"),
    ("HDXHS=1.3", "indicator 'HDXHS': --set HDXHS=1.3: 1.3 is outside 0..1", "plan.value_out_of_range"),
    ("HDXHS", "--set expects CODE=VALUE", "plan.bad_assignment"),
])
def test_a_bad_set_is_one_located_error_line(capsys, tmp_path, assignment, message, code):
    status, out, err = run(capsys, "plan", "whatif", "Cần Thơ", "--set", assignment, *E2022,
                           "--save", "never", "--scenarios", str(tmp_path))
    assert status == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {message}")
    assert lines[0].endswith(f"[{code}]")
    assert list(tmp_path.iterdir()) == []          # nothing saved


def test_other_bad_inputs_are_one_line_each(capsys, tmp_path):
    status, _, err = run(capsys, "plan", "target", "Cần Thơ", "--rank", "0", "--pillar", "ABC",
                         *E2022)
    assert status == 1 and [line.split("[")[-1] for line in err.strip().splitlines()] == [
        "plan.bad_target]", "plan.unknown_node]"]
    status, _, err = run(capsys, "plan", "whatif", "Cần Thơ", *E2022)
    assert status == 1 and err.strip().endswith("[plan.bad_assignment]")
    status, _, err = run(capsys, "plan", "target", "Atlantis", "--rank", "1", *E2022)
    assert status == 1 and err.startswith("error: unknown province 'Atlantis'")
    recipe = tmp_path / "geo.yaml"
    recipe.write_text("aggregate: {method: geometric}\n", encoding="utf-8")
    status, _, err = run(capsys, "plan", "target", "Cần Thơ", "--rank", "1", "--demo",
                         "--recipe", str(recipe))
    assert status == 1 and len(err.strip().splitlines()) == 1 and "geometric" in err
    status, _, err = run(capsys, "plan", "whatif", "Cần Thơ", "--set", "HDXHS=0.5", *E2022,
                         "--save", "../up", "--scenarios", str(tmp_path))
    assert status == 1 and "[plan.bad_scenario_name]" in err
