"""dti.scoring: rules, answers, the catalogue loader/writer and the illustrative catalogue."""

from __future__ import annotations

import csv
import io
import json
import unicodedata

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dti.errors import CatalogueError, InputError
from dti.scoring import (
    ILLUSTRATIVE,
    CatalogueInfo,
    MainIndicator,
    ScoringCatalogue,
    SubIndicator,
    catalogue_csv,
    catalogue_from_bytes,
    illustrative_catalogue,
    load_catalogue,
    parse_answer,
    parse_number,
    parse_rule,
    split_cell,
    write_catalogue_xlsx,
)

HEADER = ["STT", "Chỉ số/Chỉ số thành phần", "Điểm tối đa", "Cách xác định và tính điểm",
          "Tài liệu kiểm chứng", "Nguồn thu thập dữ liệu", "Đơn vị phối hợp xác minh số liệu"]
INFO = CatalogueInfo("test", "Thử", "Test", "qd-922-btttt")
STEPS = "steps x: >=4 -> 20; >=3 -> 15; >=2 -> 10; >=1 -> 5; else 0"


def rule(text, max_points=20):
    parsed, problems = parse_rule(text, max_points)
    assert problems == [], [str(p) for p in problems]
    return parsed


def codes(text, max_points=20):
    parsed, problems = parse_rule(text, max_points)
    assert parsed is None
    return sorted(p.code for p in problems)


def item(text, max_points=20.0, code="X.01"):
    return SubIndicator(code, "X", "1.1", "Thử", "Test", max_points, rule(text, max_points), "", False,
                        "", "")


# -- rules, by hand -----------------------------------------------------------------------------


def test_ratio_points_cap_and_incomplete():
    r = rule("ratio a/b; a = Số TTHC trực tuyến toàn trình; b = Tổng số TTHC")
    assert r.points({"a": 45, "b": 60}, 20) == 15.0
    assert r.points({"a": 1, "b": 3}, 10) == 3.3333  # rounded to 4 decimals
    assert r.points({"a": 90, "b": 60}, 20) == 20.0  # a > b is capped at max
    assert r.points({"a": 0, "b": 60}, 20) == 0.0
    assert r.points({"a": 45}, 20) is None
    assert r.points({"a": 45, "b": 0}, 20) is None
    assert r.points(None, 20) is None
    assert [f.label_vi for f in r.fields] == ["Số TTHC trực tuyến toàn trình", "Tổng số TTHC"]


def test_ratio_custom_field_names_and_english_labels():
    r = rule("ratio dung_han/tong; dung_han = Hồ sơ đúng hạn | Files on time")
    assert [f.name for f in r.fields] == ["dung_han", "tong"]
    assert r.fields[0].label_en == "Files on time"
    assert r.points({"dung_han": 3, "tong": 4}, 8) == 6.0


@pytest.mark.parametrize("x, expected", [(0, 0.0), (0.99, 0.0), (1, 5.0), (1.5, 5.0), (2, 10.0),
                                         (2.999, 10.0), (3, 15.0), (4, 20.0), (100, 20.0)])
def test_steps_boundaries(x, expected):
    assert rule(STEPS).points({"x": x}, 20) == expected


def test_steps_strict_threshold_and_order_free():
    r = rule("steps n: >2 -> 8; >=1 -> 4")
    assert [r.points({"n": n}, 8) for n in (0, 1, 2, 2.5)] == [0.0, 4.0, 4.0, 8.0]


def test_options_are_fractions_of_max_with_ascii_keys():
    r = rule("options: Chủ tịch UBND = 1; Phó Chủ tịch = 0,5; Không có = 0")
    keys = [o.key for o in r.fields[0].options]
    assert keys == ["chu_tich_ubnd", "pho_chu_tich", "khong_co"]
    assert r.fields[0].options[1].label == "Phó Chủ tịch"
    assert r.points({"choice": "pho_chu_tich"}, 10) == 5.0
    assert r.points({"choice": "chu_tich_ubnd"}, 8) == 8.0
    assert r.points({"choice": "khong_co"}, 8) == 0.0
    assert r.points({"choice": "nope"}, 8) is None


def test_yesno():
    r = rule("yesno")
    assert r.points({"value": True}, 6) == 6.0
    assert r.points({"value": False}, 6) == 0.0
    assert r.points({"value": 1}, 6) is None  # a typed answer holds a bool; parse_answer makes one


def test_formula_clamps_both_ends():
    r = rule("formula x: 2 * x - 10 clamp 0..max")
    assert r.points({"x": 3}, 20) == 0.0  # -4 clamped up
    assert r.points({"x": 8}, 20) == 6.0
    assert r.points({"x": 100}, 20) == 20.0  # 190 clamped down to max
    r = rule("formula x, y: min(x, y) / 2 + max(1, 2) clamp 1..5")
    assert r.points({"x": 0, "y": 3}, 20) == 2.0
    assert r.points({"x": 100, "y": 100}, 20) == 5.0
    assert r.points({"x": 0, "y": 0}, 20) == 2.0
    assert rule("formula a, b: a / b").points({"a": 1, "b": 0}, 20) is None


def test_rule_found_in_brackets_or_bare_with_prose_kept():
    assert split_cell("Điểm = tỷ lệ × điểm tối đa.\n[[ ratio  a/b ]]") == \
        ("ratio a/b", "Điểm = tỷ lệ × điểm tối đa.")
    assert split_cell("yesno") == ("yesno", "")
    assert split_cell("Chỉ có lời văn") == (None, "Chỉ có lời văn")


@pytest.mark.parametrize("text, expected", [
    ("sum a+b", ["rule.unknown_kind"]),
    ("steps x: >=4 -> 30; else 0", ["rule.steps_exceed_max"]),
    ("steps x: >=4 -> 5; >=2 -> 10", ["rule.steps_not_monotone"]),
    ("steps x: >=4 -> 5; else 10", ["rule.steps_not_monotone"]),
    ("steps x: four -> 5", ["rule.syntax"]),
    ("options: A = 2; B = 0", ["rule.option_fraction"]),
    ("options: Có = 1; có = 0,5", ["rule.duplicate_option"]),
    ("ratio a/b; c = Thừa", ["rule.unknown_field"]),
    ("ratio a b", ["rule.syntax"]),
    ("formula x: 2 * x clamp 0..30", ["rule.bad_clamp"]),
    ("formula x: 2 * x clamp 5..2", ["rule.bad_clamp"]),
    ("formula x: 2 * y", ["rule.formula_unknown_name"]),
    ("formula x: x * 0,8", ["rule.syntax"]),
    ("formula x: (x", ["rule.syntax"]),
])
def test_malformed_rules_have_stable_codes(text, expected):
    assert codes(text) == expected


@pytest.mark.parametrize("expression", [
    "x.__class__", "__import__('os').system('true')", "open('f')", "abs(x)", "x ** 2",
    "[x][0]", "x if x else 1", "min(x, key=x)", "'a'", "lambda: 1", "x < 1", "min(*x)",
    "().__class__.__bases__", "True + x",
])
def test_formula_refuses_anything_but_arithmetic(expression):
    assert codes(f"formula x: {expression}") == ["rule.formula_forbidden"]


def test_formula_refuses_undeclared_names():
    assert codes("formula x: x + os") == ["rule.formula_unknown_name"]
    assert codes("formula x: __builtins__") == ["rule.formula_unknown_name"]


# -- rules, properties --------------------------------------------------------------------------

counts = st.floats(min_value=0, max_value=1e9, allow_nan=False)
maxima = st.sampled_from([0.0, 5.0, 8.0, 10.0, 15.0, 20.0, 200.0])


@given(a1=counts, a2=counts, b=st.floats(min_value=1e-3, max_value=1e9), m=maxima)
def test_ratio_points_monotone_in_a_and_within_bounds(a1, a2, b, m):
    r = rule("ratio a/b", m)
    lo, hi = sorted([a1, a2])
    p_lo, p_hi = r.points({"a": lo, "b": b}, m), r.points({"a": hi, "b": b}, m)
    assert 0 <= p_lo <= p_hi <= m


@given(x1=counts, x2=counts)
def test_steps_monotone(x1, x2):
    r = rule(STEPS)
    lo, hi = sorted([x1, x2])
    assert 0 <= r.points({"x": lo}, 20) <= r.points({"x": hi}, 20) <= 20


@given(x=counts, y=counts, lo=st.integers(0, 100), span=st.integers(0, 100))
def test_formula_result_always_within_clamp(x, y, lo, span):
    lo, hi = lo / 10, (lo + span) / 10
    r = rule(f"formula x, y: (x - 3 * y) / (y + 1) * 7 clamp {lo}..{hi}", 20)
    points = r.points({"x": x, "y": y}, 20)
    assert points is not None and lo <= points <= hi


@given(st.integers(0, 10**9), st.integers(0, 9))
def test_parse_number_reads_vi_and_en_decimals_alike(whole, tenth):
    vi = f"{whole:,}".replace(",", ".") + f",{tenth}"
    en = f"{whole}.{tenth}"
    assert parse_number(vi) == parse_number(en) == float(en)


def test_parse_number_examples():
    assert parse_number("1.234,5") == parse_number("1234.5") == parse_number("1,234.5") == 1234.5
    assert parse_number("0,5") == 0.5
    assert parse_number("1 234") == 1234.0
    assert parse_number("1.234.567") == 1234567.0
    for bad in ("abc", "1e5", "1_000", "", "nan", "inf", True, None):
        assert parse_number(bad) is None


# -- answers ------------------------------------------------------------------------------------


def test_parse_answer_types_and_blanks():
    assert parse_answer(item("ratio a/b"), {"a": "1.234,5", "b": "2469"}) == \
        ({"a": 1234.5, "b": 2469.0}, [])
    assert parse_answer(item("ratio a/b"), {"a": "45", "b": " "}) == ({"a": 45.0}, [])
    for word, flag in [("có", True), ("Không", False), ("x", True), ("yes", True), ("0", False),
                       ("TRUE", True), ("khong", False), (True, True)]:
        assert parse_answer(item("yesno"), {"value": word}) == ({"value": flag}, [])
    options = item("options: Chủ tịch UBND = 1; Phó Chủ tịch = 0,5")
    for raw in ("pho_chu_tich", "Phó Chủ tịch", "PHO CHU TICH",
                unicodedata.normalize("NFD", "phó chủ tịch")):
        assert parse_answer(options, {"choice": raw}) == ({"choice": "pho_chu_tich"}, [])


def test_parse_answer_problems_are_located():
    answer, problems = parse_answer(item("ratio a/b", code="HDCQS.01"), {"a": "nhiều", "b": "-3"})
    assert answer == {}
    assert [(p.code, p.indicator, p.column) for p in problems] == [
        ("answer.not_a_number", "HDCQS.01", "a"), ("answer.negative", "HDCQS.01", "b")]
    _, problems = parse_answer(item("ratio a/b"), {"a": "3", "b": "0"})
    assert [(p.code, p.column) for p in problems] == [("answer.zero_denominator", "b")]
    _, problems = parse_answer(item("formula a, b: a / b"), {"a": "3", "b": "0"})
    assert [p.code for p in problems] == ["answer.zero_denominator"]
    _, problems = parse_answer(item("options: A = 1; B = 0"), {"choice": "C"})
    assert [p.code for p in problems] == ["answer.unknown_option"]
    _, problems = parse_answer(item("yesno"), {"value": "có lẽ"})
    assert [p.code for p in problems] == ["answer.not_yes_no"]


# -- the illustrative catalogue -----------------------------------------------------------------

COUNTS = {"NTS": (100, 10), "TCS": (100, 11), "HTS": (100, 7), "NLS": (100, 13), "ATTT": (100, 12),
          "DTTM": (0, 3), "HDCQS": (200, 22), "HDKTS": (150, 12), "HDXHS": (150, 8)}


def test_illustrative_catalogue_structure():
    c = illustrative_catalogue()
    assert len(c.items) == 98
    assert (c.id, c.framework_id, c.illustrative) == ("dti-2022-minh-hoa", "qd-922-btttt", True)
    assert c.note_vi == "Bộ chỉ số thành phần minh hoạ — không phải bộ chỉ số chính thức của Bộ"
    assert c.note_en == "Illustrative sub-indicator catalogue — not the ministry's official catalogue"
    assert {m.code: (m.max_points, len(c.by_main()[m.code])) for m in c.mains} == COUNTS
    for main in c.mains:
        assert sum(i.max_points for i in c.by_main()[main.code]) == main.max_points
    assert {i.rule.kind for i in c.items} == {"ratio", "steps", "options", "yesno", "formula"}
    assert [i.code for i in c.by_main()["HDXHS"]] == [f"HDXHS.{k:02d}" for k in range(1, 9)]
    assert all(not i.scored and i.max_points == 0 for i in c.by_main()["DTTM"])
    assert all(i.scored for i in c.items if i.main_code != "DTTM")
    assert c.item("NTS.01").number == "1.1" and c.item("NOPE") is None


def test_illustrative_catalogue_strings_are_nfc():
    from test_ministry_catalogue import strings

    texts = list(strings(illustrative_catalogue().to_dict()))
    assert len(texts) > 900
    assert all(unicodedata.is_normalized("NFC", t) for t in texts)


def test_full_marks_give_every_scored_main_the_value_one():
    c = illustrative_catalogue()
    best = {"ratio": lambda f: {f[0].name: 1, f[1].name: 1}, "yesno": lambda f: {"value": True},
            "steps": lambda f: {f[0].name: 1e6},
            "options": lambda f: {"choice": max(f[0].options, key=lambda o: o.fraction).key}}
    answers = {i.code: best[i.rule.kind](i.rule.fields) for i in c.items if i.rule.kind in best}
    formula_best = {"NTS.10": {"d": 100}, "TCS.05": {"p": 2}, "NLS.07": {"a": 1, "b": 10},
                    "ATTT.07": {"n": 0}, "ATTT.10": {"p": 10}, "HDCQS.15": {"s": 100},
                    "HDKTS.01": {"p": 10}, "HDKTS.12": {"p": 10}}
    answers.update(formula_best)
    values = c.main_values(c.points(answers))
    assert values == {m.code: (1.0 if m.max_points else 0.0) for m in c.mains}


# -- main values --------------------------------------------------------------------------------


def small_catalogue():
    mains = (MainIndicator("A", "1", "Một", "One", 30.0), MainIndicator("B", "2", "Hai", "Two", 0.0))
    items = (
        SubIndicator("A.01", "A", "1.1", "Tỷ lệ", "Ratio", 10.0, rule("ratio a/b", 10), "Báo cáo",
                     True, "Sở", "Sở TTTT"),
        SubIndicator("A.02", "A", "1.2", "Bậc", "Steps", 20.0, rule(STEPS), "", False, "", ""),
        SubIndicator("B.01", "B", "2.1", "Không tính", "Unscored", 0.0, rule("yesno", 0), "", False,
                     "", "", scored=False),
    )
    return ScoringCatalogue("small", "Nhỏ", "Small", "qd-922-btttt", False, "", "", mains, items)


def test_main_values_by_hand():
    c = small_catalogue()
    points = c.points({"A.01": {"a": 3, "b": 4}, "A.02": {"x": 2}, "B.01": {"value": True},
                       "ZZ": {"a": 1}})
    assert points == {"A.01": 7.5, "A.02": 10.0, "B.01": 0.0}
    assert c.main_values(points) == {"A": 17.5 / 30, "B": 0.0}
    assert c.main_values(c.points({"A.02": {"x": 4}})) == {"A": 20 / 30, "B": 0.0}
    assert c.main_values({}) == {"A": 0.0, "B": 0.0}


def test_dict_round_trip_and_checksum():
    c = small_catalogue()
    d = json.loads(json.dumps(c.to_dict()))
    assert ScoringCatalogue.from_dict(d) == c
    assert ScoringCatalogue.from_dict(d).checksum() == c.checksum()
    ill = illustrative_catalogue()
    assert ScoringCatalogue.from_dict(json.loads(json.dumps(ill.to_dict()))) == ill
    assert ill.checksum() == illustrative_catalogue().checksum() != c.checksum()
    assert len(ill.checksum()) == 64


def test_from_dict_reports_problems():
    d = small_catalogue().to_dict()
    d["items"][0]["rule"] = "ratio a b"
    d["items"][1]["code"] = "A"
    with pytest.raises(CatalogueError) as err:
        ScoringCatalogue.from_dict(d)
    assert {p.code for p in err.value.problems} >= {"rule.syntax", "catalogue.duplicate_code"}
    with pytest.raises(CatalogueError) as err:
        ScoringCatalogue.from_dict({"items": []})
    assert [p.code for p in err.value.problems] == ["catalogue.bad_json"]


# -- importer and writer ------------------------------------------------------------------------


def write_csv(path, rows, header=HEADER):
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    return path


def write_xlsx(path, rows, header=HEADER):
    book = openpyxl.Workbook()
    for row in [header, *rows]:
        book.active.append(row)
    book.save(path)
    return path


GOOD = [["1", "Nhận thức số", "30", "", "", "", ""],
        ["1.1", "Tỷ lệ", "10", "[[ratio a/b]]", "Báo cáo", "UBND", "Sở TTTT"],
        ["1.2", "Bậc", "20", "Lời văn\n[[steps x: >=1 -> 20; else 0]]", "", "", ""]]
BAD = [["1.1", "Trước mục", "5", "[[yesno]]", "", "", ""],                        # row 2
       ["1", "Nhận thức số", "30", "", "", "", ""],                                 # row 3
       ["1.1", "Tỷ lệ", "mười", "[[ratio a/b]]", "", "", ""],                       # row 4
       ["1.2", "Bậc", "20", "[[steps x: >=1 -> 25]]", "", "", ""],                  # row 5
       ["1.3", "Lạ", "5", "[[sum a+b]]", "", "", ""],                               # row 6
       ["1.4", "", "5", "Chỉ có lời văn", "", "", ""],                              # row 7
       ["2", "Thể chế số", "10", "", "", "", ""],                                   # row 8
       ["2.1", "Có", "10", "[[yesno]]", "", "", ""],                                # row 9
       ["x", "Sai số", "5", "[[yesno]]", "", "", ""],                               # row 10
       ["3", "Hạ tầng số", "10", "", "", "", ""],                                   # row 11
       ["3.1", "Có", "5", "[[yesno]]", "", "", ""]]                                 # row 12
BAD_FOUND = [("catalogue.no_section", 2, "STT"), ("catalogue.duplicate_number", 4, "STT"),
             ("catalogue.bad_max_points", 4, "Điểm tối đa"),
             ("rule.steps_exceed_max", 5, "Cách xác định và tính điểm"),
             ("rule.unknown_kind", 6, "Cách xác định và tính điểm"),
             ("catalogue.missing_name", 7, "Chỉ số/Chỉ số thành phần"),
             ("rule.missing", 7, "Cách xác định và tính điểm"),
             ("catalogue.bad_number", 10, "STT"),
             ("catalogue.points_mismatch", 11, "Điểm tối đa")]


def test_good_csv_loads(tmp_path):
    c = load_catalogue(write_csv(tmp_path / "good.csv", GOOD), INFO)
    assert [i.code for i in c.items] == ["1.1", "1.2"]  # no Mã column: the STT is the code
    assert c.items[1].method_vi == "Lời văn" and c.items[0].evidence_required
    assert not c.items[1].evidence_required


@pytest.mark.parametrize("writer, suffix, file", [(write_csv, "csv", "bad.csv"),
                                                   (write_xlsx, "xlsx", "bad.xlsx[Sheet]")])
def test_every_bad_row_is_reported_at_once(tmp_path, writer, suffix, file):
    path = writer(tmp_path / f"bad.{suffix}", BAD)
    with pytest.raises(CatalogueError) as err:
        load_catalogue(path, INFO)
    found = [(p.code, p.row, p.column) for p in err.value.problems]
    assert sorted(found, key=str) == sorted(BAD_FOUND, key=str)
    assert {p.file for p in err.value.problems} == {file}
    assert isinstance(err.value, InputError)


def test_missing_columns_and_duplicate_codes(tmp_path):
    with pytest.raises(CatalogueError) as err:
        load_catalogue(write_csv(tmp_path / "a.csv", [r[:5] for r in GOOD], HEADER[:5]), INFO)
    assert [(p.code, p.column) for p in err.value.problems] == [
        ("catalogue.missing_column", "Nguồn thu thập dữ liệu"),
        ("catalogue.missing_column", "Đơn vị phối hợp xác minh số liệu")]
    rows = [r + [code] for r, code in zip(GOOD, ["M", "M.1", "M.1"])]
    with pytest.raises(CatalogueError) as err:
        load_catalogue(write_csv(tmp_path / "b.csv", rows, HEADER + ["Mã"]), INFO)
    assert [(p.code, p.row, p.indicator) for p in err.value.problems] == [
        ("catalogue.duplicate_code", 4, "M.1")]


def test_header_variants_are_accepted(tmp_path):
    header = ["stt", "  CHỈ SỐ / chỉ số   thành phần ", unicodedata.normalize("NFD", "Điểm tối đa"),
              "Cach xac dinh va tinh diem", "tài liệu kiểm chứng", "Nguồn thu thập dữ liệu ",
              "ĐƠN VỊ PHỐI HỢP XÁC MINH SỐ LIỆU", "Ghi chú"]
    rows = [r + ["bỏ qua"] for r in GOOD]
    a = load_catalogue(write_csv(tmp_path / "v.csv", rows, header), INFO)
    b = load_catalogue(write_xlsx(tmp_path / "v.xlsx", rows, header), INFO)
    assert a.to_dict() == b.to_dict() == load_catalogue(write_csv(tmp_path / "g.csv", GOOD),
                                                        INFO).to_dict()


def test_write_then_load_round_trips(tmp_path):
    ill = illustrative_catalogue()
    write_catalogue_xlsx(ill, tmp_path / "export.xlsx")
    back = load_catalogue(tmp_path / "export.xlsx", ILLUSTRATIVE)
    assert back.to_dict() == ill.to_dict() and back.checksum() == ill.checksum()
    buffer = io.BytesIO()
    write_catalogue_xlsx(small_catalogue(), buffer)
    info = CatalogueInfo("small", "Nhỏ", "Small", "qd-922-btttt")
    assert catalogue_from_bytes(buffer.getvalue(), "up.xlsx", info) == small_catalogue()
    text = catalogue_csv(ill)
    assert catalogue_from_bytes(text.encode("utf-8"), "up.csv", ILLUSTRATIVE) == ill
    book = openpyxl.load_workbook(tmp_path / "export.xlsx")
    assert book.active["A2"].value == "1" and book.active["A3"].value == "1.1"


def test_shipped_csv_is_what_the_writer_writes():
    from importlib import resources

    shipped = resources.files("dti.scoring").joinpath("data", "illustrative-qd922.csv").read_text(
        encoding="utf-8")
    assert shipped == catalogue_csv(illustrative_catalogue())
