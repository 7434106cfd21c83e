"""The published record: facts with sources, precedence, located refusals, and the audit."""

from __future__ import annotations

from pathlib import Path

import pytest

from click.testing import CliRunner

from dti.cli import main
from dti.cli.app import app
from dti.editions.record import load_facts, shipped_record, source_class
from dti.editions.record_audit import audit
from dti.errors import DataError

HEADER = "year,basis,province_vi,measure,value,kind,source_url,quote\n"
OFFICIAL = "https://dti.gov.vn/xep-hang"
PRESS = "https://vnexpress.net/a"
LOCAL = "https://baothainguyen.vn/b"


def facts_file(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "facts.csv"
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


# -- the shipped record ------------------------------------------------------------------------------

def test_thai_nguyen_2021_story_is_in_the_record_with_official_sources():
    record = shipped_record()
    figure = record.figure(2021, "provinces-63", "19", "rank")
    assert figure.value == 8 and figure.winner.source == "official"
    assert record.value(2020, "provinces-63", "19", "rank") == 12
    assert record.value(2021, "provinces-63", "19", "rank_change") == 4
    pillars = {m: record.value(2021, "provinces-63", "19", m)
               for m in ("score_cqs", "rank_cqs", "score_kts", "rank_kts", "score_xhs", "rank_xhs")}
    assert pillars == {"score_cqs": 0.5496, "rank_cqs": 9, "score_kts": 0.5364, "rank_kts": 5,
                       "score_xhs": 0.5137, "rank_xhs": 8}
    assert all(f.url.startswith("http") and f.quote for f in record.facts)


def test_2020_rank_stated_beats_the_one_derived_from_a_change():
    figure = shipped_record().figure(2020, "provinces-63", "19", "rank")
    assert [f.kind for f in figure.sources] == ["stated", "derived_from_change"]
    assert figure.conflicts == ()          # both say 12: corroboration, not conflict


def test_official_table_wins_and_the_disagreeing_press_stays_visible():
    figure = shipped_record().figure(2021, "provinces-63", "22", "rank_xhs")   # Quảng Ninh
    assert figure.value == 14 and figure.winner.source == "official"
    assert [c.value for c in figure.conflicts] == [3]


def test_the_2020_edition_has_at_least_fourteen_ranks_and_third_party_rows_are_labelled():
    record = shipped_record()
    assert len(record.of(2020, "provinces-63")["rank"]) >= 14
    third = [f for f in record.facts if "huggingface.co" in f.url]
    assert third and all(f.third_party and f.source == "third_party" for f in third)


def test_source_classes_follow_the_precedence_rule():
    assert [source_class(u) for u in (OFFICIAL, "https://thainguyen.gov.vn/x", PRESS, LOCAL,
                                      "https://huggingface.co/datasets/x")] == [
        "official", "provincial_portal", "national_press", "provincial_press", "third_party"]


def test_a_stated_figure_beats_a_derived_one_whatever_its_source(tmp_path):
    record = load_facts(facts_file(
        tmp_path, f"2020,63,Thái Nguyên,rank,11,derived_from_change,{OFFICIAL},q",
        f"2020,63,Thái Nguyên,rank,12,stated,{LOCAL},q"))
    figure = record.figure(2020, "provinces-63", "19", "rank")
    assert figure.value == 12 and [c.value for c in figure.conflicts] == [11]


# -- the audit ---------------------------------------------------------------------------------------

def test_audit_of_the_shipped_record_covers_every_edition_and_names_what_does_not_hold():
    findings = audit(shipped_record())
    assert {f.year for f in findings} == {2020, 2021, 2022, 2023, 2024}
    assert {f.check for f in findings} == {"foundation", "ranks_vs_scores", "rank_change",
                                           "total_2020", "merged_mean"}
    failing = sorted((f.check, f.year, f.units) for f in findings if not f.holds)
    # both are in the sources themselves (editions/SOURCES.md, "The published record")
    assert failing == [("foundation", 2023, ("08",)), ("rank_change", 2021, ("15",))]


def test_foundation_points_by_hand_for_thai_nguyen_2021():
    finding = next(f for f in audit(shipped_record())
                   if f.check == "foundation" and f.year == 2021 and f.units == ("19",))
    # F = (700·0.5496 + 650·0.5364 + 650·0.5137 − 1000·0.496) / 2 = 285.6425
    # CQS (384.72 − 285.6425)/200 = 0.4954; KTS (348.66 − 285.6425)/150 = 0.4201;
    # XHS (333.905 − 285.6425)/150 = 0.3218
    assert finding.holds
    assert finding.message == "F = 285.64 points, activity ratios CQS 0.4954, KTS 0.4201, XHS 0.3218"
    assert finding.text("vi") == ("F (điểm nhóm chỉ số nền tảng chung) = 285,64 điểm; tỷ lệ các chỉ số "
                                  "hoạt động: HĐCQS 0,4954, HĐKTS 0,4201, HĐXHS 0,3218")


def test_a_corrupted_figure_is_caught_with_its_location(tmp_path):
    rows = [f"2021,63,Thái Nguyên,{m},{v},stated,{OFFICIAL},q" for m, v in
            (("total_score", "0.496"), ("score_cqs", "0.5496"), ("score_kts", "0.5364"),
             ("score_xhs", "0.5137"))]
    assert all(f.holds for f in audit(load_facts(facts_file(tmp_path, *rows))))
    rows[1] = rows[1].replace("0.5496", "0.9496")   # row 3 of the file
    (finding,) = [f for f in audit(load_facts(facts_file(tmp_path, *rows))) if not f.holds]
    assert finding.check == "foundation" and finding.units == ("19",)
    assert "activity ratio" in finding.message and "facts.csv, row 3" in finding.where
    # F = (700·0.9496 + 650·0.5364 + 650·0.5137 − 496) / 2 = 425.6425 is within 0–500, but
    # CQS (664.72 − 425.6425)/200 = 1.1954, KTS −0.5132 and XHS −0.6116 are not within 0–1
    assert finding.code == "foundation.outside" and finding.values["outside"] == ("cqs", "kts", "xhs")
    assert finding.text("vi").split("; ")[0] == "tỷ lệ chỉ số hoạt động HĐCQS 1,1954 nằm ngoài khoảng 0–1"
    assert finding.message.split("; ")[0] == "the CQS activity ratio 1.1954 is outside 0–1"


def test_ranks_that_contradict_scores(tmp_path):
    rows = [f"2022,63,{p},{m},{v},stated,{OFFICIAL},q" for p, m, v in (
        ("Đà Nẵng", "total_score", "0.8002"), ("Đà Nẵng", "rank", "2"),
        ("Quảng Ninh", "total_score", "0.7024"), ("Quảng Ninh", "rank", "1"))]
    (finding,) = [f for f in audit(load_facts(facts_file(tmp_path, *rows))) if not f.holds]
    assert finding.check == "ranks_vs_scores" and finding.units == ("48", "22")
    assert "0.8002 > 0.7024" in finding.message
    # in Vietnamese the measure is named as the framework names it
    assert finding.text("vi") == "Chỉ số DTI cấp tỉnh: 0,8002 > 0,7024 nhưng hạng 2 không cao hơn hạng 1"


def test_a_2024_merged_province_against_the_mean_of_its_former_provinces(tmp_path):
    # Thái Nguyên (19) and Bắc Kạn (06) became Thái Nguyên on the 34-province basis
    rows = [f"2024,63,Thái Nguyên,total_score,0.7000,stated,{OFFICIAL},q",
            f"2024,63,Bắc Kạn,total_score,0.6000,stated,{OFFICIAL},q",
            f"2024,34,Thái Nguyên,total_score,0.6500,stated,{OFFICIAL},q"]
    (finding,) = [f for f in audit(load_facts(facts_file(tmp_path, *rows))) if f.check == "merged_mean"]
    assert finding.holds and set(finding.units) == {"19", "06"}
    rows[2] = rows[2].replace("0.6500", "0.6600")
    (finding,) = [f for f in audit(load_facts(facts_file(tmp_path, *rows))) if f.check == "merged_mean"]
    assert not finding.holds and "0.6500" in finding.message
    assert finding.text("vi") == "trung bình của các tỉnh trước sắp xếp 0,6500, số công bố 0,6600"


def test_2020_totals_against_the_pillar_weights(tmp_path):
    # Bắc Ninh as published: 0.4·0.4449 + 0.3·0.3668 + 0.3·0.4052 = 0.40956 → 0.4096
    rows = [f"2020,63,Bắc Ninh,{m},{v},stated,{OFFICIAL},q" for m, v in (
        ("total_score", "0.4096"), ("score_cqs", "0.4449"), ("score_kts", "0.3668"), ("score_xhs", "0.4052"))]
    assert [f.holds for f in audit(load_facts(facts_file(tmp_path, *rows)))
            if f.check == "total_2020"] == [True]
    rows[0] = rows[0].replace("0.4096", "0.4196")
    assert [f.holds for f in audit(load_facts(facts_file(tmp_path, *rows)))
            if f.check == "total_2020"] == [False]


# -- bad input: refused whole, every problem located ------------------------------------------------

def test_bad_facts_are_refused_with_file_row_and_column(tmp_path):
    path = facts_file(
        tmp_path,
        f"2021,63,Thái Nguyên,rank,8,stated,{OFFICIAL},q",       # row 2: fine
        f"2021,63,Tỉnh Không Có,rank,8,stated,{OFFICIAL},q",     # row 3: unknown province
        f"2021,63,Thái Nguyên,rank_of_moon,8,stated,{OFFICIAL},q",  # row 4: unknown measure
        f"1999,63,Thái Nguyên,rank,8,stated,{OFFICIAL},q",       # row 5: unknown year
        f"2021,63,Thái Nguyên,total_score,không,stated,{OFFICIAL},q",  # row 6: not a number
        "2021,63,Thái Nguyên,rank,8,stated,,q")                  # row 7: no source
    with pytest.raises(DataError) as caught:
        load_facts(path)
    located = sorted((p.code, p.row, p.column) for p in caught.value.problems)
    assert located == [("record.missing_source", 7, "source_url"),
                       ("record.not_a_number", 6, "value"),
                       ("record.unknown_measure", 4, "measure"),
                       ("record.unknown_unit", 3, "province_vi"),
                       ("record.unknown_year", 5, "year")]
    assert all(p.file == "facts.csv" for p in caught.value.problems)


def test_cli_refuses_a_bad_facts_file_in_one_located_line_per_problem(tmp_path, capsys):
    path = facts_file(tmp_path, f"2021,63,Tỉnh Không Có,rank,8,stated,{OFFICIAL},q")
    assert main(["record", "audit", "--facts", str(path)]) == 1
    err = capsys.readouterr().err
    assert "facts.csv, row 2, column 'province_vi'" in err and "[record.unknown_unit]" in err
    assert "Traceback" not in err


def test_cli_audit_lists_what_does_not_hold_with_its_sources_and_exits_1(capsys):
    assert main(["record", "audit", "--failing", "--format", "csv"]) == 1
    out, err = capsys.readouterr()
    assert "tuyenquang.gov.vn" in out and "yenbai.gov.vn" in out
    assert "2 kiểm tra của bản ghi không đạt" in err
    assert main(["record", "audit", "--failing", "--format", "csv", "--lang", "en"]) == 1
    assert "2 check(s) of the record do not hold" in capsys.readouterr().err


def test_cli_audit_speaks_vietnamese_by_default_and_english_with_lang_en():
    vi = CliRunner().invoke(app, ["record", "audit", "--year", "2021", "--failing"])
    en = CliRunner().invoke(app, ["record", "audit", "--year", "2021", "--failing", "--lang", "en"])
    assert vi.exit_code == en.exit_code == 1          # the Yên Bái rank change does not hold
    assert "Kiểm tra bản ghi số liệu công bố: 0 đạt, 1 không đạt" in vi.output
    assert "Thay đổi hạng" in vi.output and "KHÔNG ĐẠT" in vi.output
    assert "Audit of the published record" not in vi.output and "is a change of" not in vi.output
    assert "Audit of the published record: 0 hold, 1 do not" in en.output
    assert "Rank changes" in en.output and "Thay đổi hạng" not in en.output and "bậc" not in en.output


@pytest.mark.parametrize("lang, sentence", [
    ("vi", "hạng 40 (2020) → 27 (2021) là thay đổi +13 bậc; số công bố +17"),
    ("en", "rank 40 (2020) → 27 (2021) is a change of +13; stated +17")])
def test_cli_audit_reasons_and_codes_in_csv_and_json(lang, sentence):
    import json

    result = CliRunner().invoke(app, ["record", "audit", "--year", "2021", "--failing", "--format", "json",
                                      "--lang", lang])
    (row,) = json.loads(result.stdout)
    assert (row["code"], row["units"], row["message"]) == ("rank_change.against_ranks", "15", sentence)
    result = CliRunner().invoke(app, ["record", "audit", "--year", "2021", "--failing", "--format", "csv",
                                      "--lang", lang])
    assert sentence in result.stdout and "rank_change.against_ranks" in result.stdout


def test_every_finding_code_has_both_sentences_and_is_documented():
    from dti.editions.record_text import SENTENCES

    docs = (Path(__file__).parents[1] / "docs" / "cli.md").read_text(encoding="utf-8")
    assert {f.code for f in audit(shipped_record())} <= set(SENTENCES)
    assert all(set(words) == {"vi", "en"} for words in SENTENCES.values())
    assert [code for code in SENTENCES if f"`{code}`" not in docs] == []


def test_measures_are_named_in_vietnamese_as_the_frameworks_name_them():
    from dti.editions.record_text import measure_name

    assert measure_name("score_cqs", 2022, "vi") == "Trụ cột Chính quyền số"
    assert measure_name("ind_hd_kinh_te_so", 2024, "vi") == "Chỉ số Hoạt động kinh tế số"
    assert measure_name("ind_an_toan_thong_tin_mang", 2021, "vi") == "Chỉ số An toàn thông tin mạng"
    assert measure_name("score_cqs", 2022, "en") == "score_cqs"     # English keeps the record's identifier


def test_cli_show_gives_every_figure_of_a_province_with_its_source(capsys):
    assert main(["record", "show", "thai nguyen", "--year", "2021", "--format", "json"]) == 0
    import json

    rows = {r["measure"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["rank"]["value"] == 8 and rows["rank"]["source_class"] == "official"
    assert rows["rank_change"]["value"] == 4 and rows["rank_change"]["source"].startswith("https://")


def test_cli_show_speaks_one_language_per_run():
    vi = CliRunner().invoke(app, ["record", "show", "thai nguyen", "--year", "2021"],
                            terminal_width=400)
    assert vi.exit_code == 0, vi.output
    for words in ("Số liệu đã công bố", "Hạng DTI", "Thay đổi hạng", "Hạng Trụ cột Chính quyền số",
                  "nêu trực tiếp", "chính thức: https://dti.gov.vn/", "0,5496"):
        assert words in vi.output, words
    assert "stated" not in vi.output and "0.5496" not in vi.output
    en = CliRunner().invoke(app, ["record", "show", "thai nguyen", "--year", "2021", "--lang", "en"],
                            terminal_width=400)
    assert en.exit_code == 0 and "Published figures" in en.output and "0.5496" in en.output
    assert "Hạng" not in en.output and "nêu trực tiếp" not in en.output
    missing = CliRunner().invoke(app, ["record", "show", "nowhere"])
    assert missing.exit_code != 0 and "không có số liệu công bố" in missing.output


# -- the shipped results and the record ---------------------------------------------------------------

def test_every_shipped_figure_has_a_source_in_the_record_and_agrees_with_it():
    from importlib import resources

    from dti.editions import RANK_COLUMNS, SCORE_COLUMNS, edition_ids, load_edition, read_published

    record = shipped_record()
    measures = {("score", v): k for k, v in SCORE_COLUMNS.items()} | {
        ("rank", v): k for k, v in RANK_COLUMNS.items()}
    unsourced, disagreeing = [], []
    for edition_id in edition_ids():
        edition = load_edition(edition_id)
        for merged in edition.published:
            if merged.file == "facts":
                continue
            folder = Path(str(resources.files("dti.editions"))) / "published"
            table = read_published(folder / merged.file, merged.basis)   # the file alone
            for kind, figures in (("score", table.scores), ("rank", table.ranks)):
                for code, units in figures.items():
                    for unit, value in units.items():
                        figure = record.figure(edition.year, merged.basis, unit, measures[(kind, code)])
                        if figure is None:
                            unsourced.append((edition_id, unit, code, value))
                        elif figure.value != value:
                            disagreeing.append((edition_id, unit, code, value, figure.value))
    assert unsourced == [] and disagreeing == []


def test_editions_carry_the_record_s_stated_figures():
    from dti.editions import load_edition

    r2021 = load_edition("dti-province-2021").results()
    assert (r2021.rank("DTI", "19"), r2021.score("DTI", "19")) == (8, 0.496)
    assert (r2021.score("CQS", "19"), r2021.rank("CQS", "19"), r2021.rank("KTS", "19"),
            r2021.rank("XHS", "19")) == (0.5496, 9, 5, 8)
    assert len(r2021.ranks["DTI"]) >= 21
    r2020 = load_edition("dti-province-2020").results()
    assert len(r2020.ranks["DTI"]) >= 14 and r2020.rank("DTI", "19") == 12
    derived = [f for f in shipped_record().facts if f.year == 2020 and f.derived and f.measure == "rank"
               and shipped_record().figure(2020, f.basis, f.unit, "rank").winner.derived]
    assert derived and all(r2020.rank("DTI", f.unit) is None for f in derived)
