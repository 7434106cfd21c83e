"""The `dti` command: golden DTI figures, province names, and one-line errors with exit code 1."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from dti.cli import main
from dti.editions import load_edition


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def results_by_code(payload: dict) -> dict[str, dict]:
    return {r["code"]: r for r in payload["results"]}


def test_compute_2022_reproduces_published_totals(capsys):
    code, out, _ = run(capsys, "compute", "--edition", "dti-province-2022", "--format", "json")
    assert code == 0
    payload = json.loads(out)
    rows = results_by_code(payload)
    published = load_edition("dti-province-2022").results()
    # Đà Nẵng, Quảng Ninh, Thừa Thiên Huế, Cần Thơ: exactly the published totals and ranks.
    for unit, expected in (("48", 0.8002), ("22", 0.7024), ("46", 0.6975), ("92", 0.6924)):
        assert rows[unit]["scores"]["DTI"] == expected == published.score("DTI", unit)
        assert rows[unit]["published"]["DTI"] == expected
    assert [rows[u]["ranks"]["DTI"] for u in ("48", "79", "22", "46", "92")] == [1, 2, 3, 4, 5]
    # Quảng Ninh's pillars as published.
    assert rows["22"]["scores"]["CQS"] == 0.7804 == published.score("CQS", "22")
    assert rows["22"]["scores"]["KTS"] == 0.7187 == published.score("KTS", "22")


def test_hcm_gap_is_reported_not_fudged(capsys):
    _, out, _ = run(capsys, "compute", "--edition", "dti-province-2022", "--format", "json")
    payload = json.loads(out)
    hcm = results_by_code(payload)["79"]
    assert hcm["scores"]["DTI"] == 0.7164 and hcm["published"]["DTI"] == 0.7163
    assert payload["gaps_to_published"] == [
        {"code": "79", "name": "TP. Hồ Chí Minh", "node": "DTI", "computed": 0.7164,
         "published": 0.7163, "difference": 0.0001}]


def test_compute_table_uses_vietnamese_number_format(capsys):
    code, out, _ = run(capsys, "compute", "--edition", "dti-province-2022")
    assert code == 0
    assert "0,8002 (1)" in out and "Đà Nẵng" in out
    assert "tính được 0,7164, công bố 0,7163" in out
    assert "computed" not in out and "published" not in out   # one language per run


def test_compute_in_english_is_english_throughout(capsys):
    code, out, _ = run(capsys, "compute", "--edition", "dti-province-2022", "--lang", "en")
    assert code == 0
    assert "0.8002 (1)" in out and "computed 0.7164, published 0.7163" in out
    assert "tính được" not in out and "Tỉnh, thành phố" not in out


def test_compute_of_an_edition_without_values_shows_the_published_ranking_with_sources(capsys):
    code, out, _ = run(capsys, "compute", "--edition", "dti-province-2021")
    assert code == 0
    row = next(line for line in out.splitlines() if "Thái Nguyên" in line)
    assert "0,4960 (8)" in row and "dti.gov.vn" in row
    shown = [line for line in out.splitlines() if "(" in line and ".vn" in line]
    assert len(shown) >= 21
    assert f"{len(shown)}/63 đơn vị có thứ hạng công bố" in out


def test_editions_are_listed_by_year(capsys):
    code, out, _ = run(capsys, "editions", "--format", "json")
    import json

    years = [e["year"] for e in json.loads(out)]
    assert code == 0 and years == sorted(years)


def test_compute_csv_and_xlsx(capsys, tmp_path):
    code, out, _ = run(capsys, "compute", "--edition", "dti-province-2022", "--format", "csv")
    assert code == 0
    header, first = out.splitlines()[:2]
    assert header.startswith("code,name,DTI,rank_DTI,")
    assert first.startswith("48,Đà Nẵng,0.8002,1,")
    target = tmp_path / "out.xlsx"
    assert run(capsys, "compute", "--edition", "dti-province-2022", "--format", "xlsx",
               "--out", str(target))[0] == 0
    import openpyxl
    sheet = openpyxl.load_workbook(target).active
    assert sheet["A2"].value == "48" and sheet["C2"].value == 0.8002


@pytest.mark.parametrize("name, code, official", [
    ("thai nguyen", "19", "Thái Nguyên"),
    ("TP HCM", "79", "TP. Hồ Chí Minh"),
    ("Khánh Hoà", "56", "Khánh Hòa"),
])
def test_province_names_resolve(capsys, name, code, official):
    exit_code, out, _ = run(capsys, "province", name, "--format", "json")
    assert exit_code == 0
    profile = json.loads(out)
    assert profile["code"] == code and profile["name"] == official


def test_unknown_province_fails_with_suggestions(capsys):
    code, out, err = run(capsys, "province", "Hà Nam Ninh", "--edition", "dti-province-2022")
    assert code == 1 and out == ""
    assert err.strip() == ("error: unknown province 'Hà Nam Ninh' in provinces-63; did you mean "
                           "Nam Định, Hà Nam, Quảng Ninh?")
    assert "Traceback" not in err


def test_province_profile_history_and_change(capsys):
    code, out, _ = run(capsys, "province", "Đà Nẵng", "--edition", "dti-province-2022",
                       "--format", "json")
    assert code == 0
    profile = json.loads(out)
    total = profile["figures"][0]
    assert total["code"] == "DTI" and total["value"] == 0.8002 and total["rank"] == 1
    assert total["source"] == "published"
    cqs = next(f for f in profile["figures"] if f["code"] == "CQS")
    # rank published, value not: the value is recomputed from the published indicators
    assert (cqs["value"], cqs["rank"], cqs["source"]) == (0.8638, 1, "published+computed")
    nts = next(f for f in profile["figures"] if f["code"] == "NTS")
    assert (nts["value"], nts["rank"]) == (1.0, None)  # no rank among only 5 units with data
    assert profile["change"]["previous"] == "dti-province-2021"
    assert profile["change"]["rank_before"] == 1 and profile["change"]["places"] == 0


def test_province_profile_rose_places(capsys):
    # Thái Nguyên: 8th in 2021 and 8th in 2022 (published); Bình Phước: 9th → 12th.
    code, out, _ = run(capsys, "province", "Bình Phước", "--edition", "dti-province-2022",
                       "--format", "json")
    change = json.loads(out)["change"]
    assert (change["rank_before"], change["rank_after"], change["places"]) == (9, 12, -3)


def test_merged_province_in_2024_falls_back_to_old_basis(capsys):
    code, out, _ = run(capsys, "province", "Quảng Nam", "--format", "json")
    assert code == 0
    profile = json.loads(out)
    assert profile["basis"] == "provinces-63" and profile["code"] == "49"
    assert profile["figures"][0]["value"] == 0.5803 and profile["figures"][0]["rank"] == 57


def test_editions_lists_all(capsys):
    code, out, _ = run(capsys, "editions", "--format", "json")
    ids = [e["id"] for e in json.loads(out)]
    # each year: the provinces, then the ministries and the nation (tests/test_levels.py)
    assert code == 0 and ids == [f"dti-{level}-{y}" for y in range(2020, 2025)
                                 for level in ("province", "ministry", "national")]


def test_framework_show_tree_with_points(capsys):
    code, out, _ = run(capsys, "framework", "show", "dti-province-2022")
    assert code == 0
    assert "HDCQS  Hoạt động chính quyền số  — 200 điểm" in out
    assert "DTTM  Đô thị thông minh  — 0 điểm (không tính điểm)" in out


def test_framework_check_reports_every_problem(capsys, tmp_path):
    path = tmp_path / "fw.csv"
    path.write_text("code,name,level,parent,weight,direction,type\n"
                    "a,A,1,X,1,1,indicator\nb,B,1,X,1,1,indicator\nP,P,2,,1,,aggregate\n",
                    encoding="utf-8")
    code, out, err = run(capsys, "framework", "check", str(path))
    assert code == 1
    lines = err.strip().splitlines()
    assert lines == [
        "error: fw.csv, row 2, column 'parent', indicator 'a': parent 'X' of 'a' is not a code in "
        "this framework; correct it, or add a row for that aggregate [node.unknown_parent]",
        "error: fw.csv, row 3, column 'parent', indicator 'b': parent 'X' of 'b' is not a code in "
        "this framework; correct it, or add a row for that aggregate [node.unknown_parent]",
        "error: fw.csv, row 4, column 'parent', indicator 'P': aggregate 'P' has no children and "
        "no data (set compute: data, or give nodes this parent) [aggregate.no_children]",
    ]


def test_compare_editions(capsys):
    code, out, _ = run(capsys, "compare", "dti-province-2021", "dti-province-2022", "--format", "json")
    assert code == 0
    rows = results_by_code(json.loads(out))
    assert rows["70"]["rank_change"] == -3  # Bình Phước 9 → 12
    assert rows["48"]["rank_change"] == 0
    assert rows["68"]["rank_before"] == 20 and rows["68"]["rank_after"] is not None


def test_unknown_edition_is_one_line(capsys):
    code, _, err = run(capsys, "compute", "--edition", "dti-province-1999")
    assert code == 1
    assert err.startswith("error: unknown edition 'dti-province-1999'; known editions: ")
    assert len(err.strip().splitlines()) == 1


def test_help_lists_every_documented_command(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    docs = (Path(__file__).parents[1] / "docs" / "cli.md").read_text(encoding="utf-8")
    for command in ("editions", "framework", "validate", "compute", "compare", "province", "template",
                    "analyse"):
        assert command in out
        assert f"dti {command}" in docs


# -- malformed inputs through the command: one located line each, exit code 1 --------------------

HEADER = "province,NTS,TCS,HTS,NLS,ATTT,HDCQS,HDKTS,HDXHS"
GOOD = "0.9,0.8,0.7,0.6,0.5,0.8,0.7,0.3"
POINTS_FRAMEWORK = ("code,name,level,parent,max_points,direction,type,scale,method\n"
                    "A,Chỉ số A,1,T,100,1,indicator,points,\nB,Chỉ số B,1,T,100,1,indicator,points,\n"
                    "T,Tổng,2,,,,aggregate,,points\n")


def bad_file(tmp_path: Path, case: str) -> tuple[list[str], str]:
    """Write the malformed file of ``case``; return the extra arguments and its file name."""
    edition = ["--edition", "dti-province-2022"]
    if case == "encoding":
        text = unicodedata.normalize("NFD", f"{HEADER}\nKhánh Hòa,{GOOD}\n")  # Windows-1258
        (tmp_path / "v.csv").write_bytes(text.encode("cp1258"))
    elif case == "empty":
        (tmp_path / "v.csv").write_bytes(b"")
    elif case == "sheet":
        import openpyxl
        book = openpyxl.Workbook()
        book.active.title = "DTI 2022"
        book.save(tmp_path / "v.xlsx")
        return [*edition, "--sheet", "Sheet1"], "v.xlsx"
    elif case == "text":
        (tmp_path / "v.csv").write_text(f"{HEADER}\nĐà Nẵng,0.9,abc,0.7,0.6,0.5,0.8,0.7,0.3\n", "utf-8")
    elif case == "duplicate":
        (tmp_path / "v.csv").write_text(f"{HEADER}\nHà Nội,{GOOD}\nHN,{GOOD}\n", "utf-8")
    elif case == "unknown":
        (tmp_path / "v.csv").write_text(f"{HEADER}\nHà Nam Ninh,{GOOD}\n", "utf-8")
    elif case == "ratio":
        (tmp_path / "v.csv").write_text(f"{HEADER}\nĐà Nẵng,0.9,1.3,0.7,0.6,0.5,0.8,0.7,0.3\n", "utf-8")
    elif case in ("points", "negative"):
        (tmp_path / "fw.csv").write_text(POINTS_FRAMEWORK, "utf-8")
        value = "120" if case == "points" else "-5"
        (tmp_path / "v.csv").write_text(f"code,A,B\n01,{value},50\n", "utf-8")
        # a custom framework takes its units from the data unless told: these are provinces
        return ["--framework", str(tmp_path / "fw.csv"), "--units", "provinces-63"], "v.csv"
    return edition, "v.csv"


MALFORMED = {
    "encoding": "error: v.csv, row 2: the file is not UTF-8 (bad byte 0xec at line 2); save it as "
                "'CSV UTF-8' [file.encoding]",
    "empty": "error: v.csv: the file is empty; it needs a header row and data rows [file.empty]",
    "sheet": "error: v.xlsx: there is no sheet 'Sheet1'; the sheets are 'DTI 2022'; name one of them "
             "with --sheet [file.no_sheet]",
    "text": "error: v.csv, row 2, column 'TCS', province 'Đà Nẵng', indicator 'TCS': 'abc' is not a "
            "number; write a number such as 0.8002 (a decimal point or a decimal comma), or leave "
            "the cell empty if the value is missing [data.not_a_number]",
    "duplicate": "error: v.csv, row 3, column 'province', province 'HN (Hà Nội)': Hà Nội already has "
                 "a row (row 2, written 'Hà Nội'); keep one row per province and delete the other "
                 "[data.duplicate_unit]",
    "unknown": "error: v.csv, row 2, column 'province', province 'Hà Nam Ninh': 'Hà Nam Ninh' matches "
               "no province of provinces-63; did you mean Nam Định, Hà Nam or Quảng Ninh? Correct "
               "the name or write the province code [data.unknown_unit]",
    "ratio": "error: v.csv, row 2, column 'TCS', province 'Đà Nẵng', indicator 'TCS': ratio 1.3 is "
             "outside 0..1; main-indicator values are ratios (0.9000 = 90 of 100 points) "
             "[data.ratio_out_of_range]",
    "points": "error: v.csv, row 2, column 'A', province '01 (Hà Nội)', indicator 'A': 120 points is "
              "above the maximum of 100; A is scored from 0 to 100 points [data.points_above_max]",
    "negative": "error: v.csv, row 2, column 'A', province '01 (Hà Nội)', indicator 'A': -5 points is "
                "negative; A is scored from 0 to 100 points [data.negative_points]",
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_input_gives_one_located_line_and_exit_1(capsys, tmp_path, case):
    extra, name = bad_file(tmp_path, case)
    for command in ("validate", "compute"):
        argv = [command, str(tmp_path / name), *extra] if command == "validate" else \
            [command, "--data", str(tmp_path / name), *extra]
        code, out, err = run(capsys, *argv)
        assert code == 1, command
        assert err.strip() == MALFORMED[case], command
        assert "Traceback" not in err and out == ""


def test_valid_file_validates_and_computes(capsys, tmp_path):
    path = tmp_path / "v.csv"
    path.write_text(f"{HEADER}\nĐà Nẵng,1.0000,0.9000,0.8253,0.8487,0.7578,0.8575,0.7836,0.5197\n"
                    f"Cần Thơ,0.9000,0.8000,0.7233,0.7376,0.7226,0.7325,0.7556,0.2947\n", "utf-8")
    code, out, _ = run(capsys, "validate", str(path), "--edition", "dti-province-2022")
    assert code == 0 and "v.csv: OK — 2 units" in out
    code, out, _ = run(capsys, "compute", "--edition", "dti-province-2022", "--data", str(path),
                       "--format", "json")
    rows = results_by_code(json.loads(out))
    assert (rows["48"]["scores"]["DTI"], rows["92"]["scores"]["DTI"]) == (0.8002, 0.6924)


def test_compute_rebases_63_values_onto_34_provinces(capsys, tmp_path):
    # Ninh Bình (34) = plain mean of Hà Nam, Nam Định and Ninh Bình (63), indicator by indicator.
    values = {"Hà Nam": 0.3, "Nam Định": 0.6, "Ninh Bình": 0.9, "Hà Nội": 0.5}
    header = "province,NTS,TCS,HTS,NLS,ATTT,HDCQS,HDKTS,HDXHS"
    lines = [header] + [f"{name},{','.join([str(v)] * 8)}" for name, v in values.items()]
    path = tmp_path / "v63.csv"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    code, out, _ = run(capsys, "compute", "--edition", "dti-province-2022", "--data", str(path),
                       "--basis", "provinces-63", "--to", "provinces-34", "--format", "json")
    assert code == 0
    payload = json.loads(out)
    rows = results_by_code(payload)
    assert payload["basis"] == "provinces-34"
    assert rows["37"]["scores"]["NTS"] == 0.6 and rows["37"]["scores"]["DTI"] == 0.6
    assert rows["01"]["scores"]["DTI"] == 0.5
    assert rows["37"]["ranks"]["DTI"] == 1 and rows["01"]["ranks"]["DTI"] == 2


def test_os_errors_are_one_line(capsys, tmp_path):
    code, out, err = run(capsys, "compute", "--edition", "dti-province-2022", "--format", "csv",
                         "--out", str(tmp_path / "missing" / "out.csv"))
    assert code == 1 and "Traceback" not in err
    assert err.startswith(f"error: {tmp_path / 'missing' / 'out.csv'}: No such file or directory")
    assert err.strip().endswith("[file.os_error]")


def test_user_text_is_not_read_as_markup(capsys, tmp_path):
    path = tmp_path / "fw.csv"
    path.write_text("code,name,level,parent,weight,direction,type\n"
                    "a,Chỉ số [/] [bold]A,1,T,1,1,indicator\nT,Tổng [red],2,,,,aggregate\n", "utf-8")
    code, out, err = run(capsys, "framework", "show", str(path))
    assert code == 0, err
    assert "a  Chỉ số [/] [bold]A  — weight 1,0000" in out and "T  Tổng [red]" in out


def test_edition_without_that_basis(capsys):
    code, _, err = run(capsys, "compute", "--edition", "dti-province-2022", "--basis", "provinces-34")
    assert code == 1
    assert err.strip() == ("error: dti-province-2022 has no published values on provinces-34 (it has "
                           "provinces-63); give --data, or --to to rebase [cli.no_published_basis]")


def test_own_data_is_not_set_against_the_published_figures(capsys, tmp_path):
    path = tmp_path / "v.csv"
    path.write_text(f"{HEADER}\nĐà Nẵng,{GOOD}\n", "utf-8")
    code, out, _ = run(capsys, "compute", "--edition", "dti-province-2022", "--data", str(path),
                       "--format", "json")
    payload = json.loads(out)
    assert code == 0 and payload["gaps_to_published"] == []
    assert "published" not in payload["results"][0]


def test_compare_unknown_node(capsys):
    code, _, err = run(capsys, "compare", "dti-province-2021", "dti-province-2022", "--node", "XYZ")
    assert code == 1 and err.startswith("error: 'XYZ' is not a node of dti-province-2021; its nodes are NTS")


def test_every_command_and_option_is_documented():
    import click

    from dti.cli.app import load_all

    app = load_all()

    docs = (Path(__file__).parents[1] / "docs" / "cli.md").read_text(encoding="utf-8")
    missing = []

    def walk(command: click.Command, path: str) -> None:
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, f"{path} {name}".strip())
            return
        words = path.split()
        if f"dti {path}" not in docs and not (len(words) > 1 and words[-1] in docs
                                              and f"dti {words[0]}" in docs):
            missing.append(f"command: dti {path}")
        for param in command.params:
            for flag in getattr(param, "opts", []):
                if flag.startswith("--") and f"`{flag}" not in docs:
                    missing.append(f"option: dti {path} {flag}")

    walk(app, "")
    assert missing == []


def test_the_lazy_command_table_names_every_command_with_its_own_help():
    from dti.cli.app import COMMANDS, load_all

    commands = load_all().commands
    assert sorted(commands) == sorted(COMMANDS)
    assert {n: COMMANDS[n].help for n in commands} == {
        n: c.get_short_help_str(150) for n, c in commands.items()}


def test_help_and_light_commands_import_neither_the_web_app_nor_scipy_nor_the_store():
    """What makes `dti --help` slow is importing what it does not use; checked by module, not by
    the clock."""
    import subprocess
    import sys

    heavy = ("fastapi", "scipy", "sqlalchemy", "dti.web", "dti.store", "weasyprint")
    script = ("import sys; from dti.cli import main; main(sys.argv[1:]); "
              f"print([m for m in {heavy!r} if m in sys.modules], file=sys.stderr)")
    for argv in (["--help"], ["editions"], ["record", "--help"]):
        done = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stderr.strip().splitlines()[-1] == "[]", (argv, done.stderr)
