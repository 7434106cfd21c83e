"""Tests of dti.io.values: reading indicator values (wide and long, CSV and XLSX) into a Dataset
with every problem located, and the template a provincial officer fills in."""

from __future__ import annotations

import csv
import math
import unicodedata
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from dti.editions import load_edition
from dti.engine.data import Dataset
from dti.errors import DataError, InputError, Problem
from dti.framework.load import framework_from_dict
from dti.framework.model import Framework
from dti.io import read_values, required_codes, write_template
from dti.units import UnitSet, load_unit_set

MAIN = ("NTS", "TCS", "HTS", "NLS", "ATTT", "DTTM", "HDCQS", "HDKTS", "HDXHS")
REQUIRED = ("NTS", "TCS", "HTS", "NLS", "ATTT", "HDCQS", "HDKTS", "HDXHS")
HEADER = "province," + ",".join(MAIN)
# Đà Nẵng's published 2022 main-indicator ratios (DTTM is listed but not scored: left empty).
DA_NANG = "1.0000,0.9000,0.8253,0.8487,0.7578,,0.8575,0.7836,0.5197"
HCM = "0.8917,0.9000,0.8258,0.6267,0.5580,,0.8406,0.7611,0.3590"
GOOD = "0.5,0.5,0.5,0.5,0.5,,0.5,0.5,0.5"


@pytest.fixture(scope="module")
def fw() -> Framework:
    return load_edition("dti-province-2022").framework


@pytest.fixture(scope="module")
def units() -> UnitSet:
    return load_unit_set("provinces-63")


@pytest.fixture(scope="module")
def points_fw() -> Framework:
    """A user framework with points-scale indicators, a denominator and a grouping column."""
    return framework_from_dict({"id": "user-points", "aggregation": "points", "nodes": [
        {"code": "P1", "name_vi": "Điểm một", "type": "indicator", "level": 1, "scale": "points",
         "max_points": 100, "parents": ["TOTAL"]},
        {"code": "P2", "name_vi": "Điểm hai", "type": "indicator", "level": 1, "scale": "points",
         "max_points": 50, "parents": ["TOTAL"], "column": "p2_score"},
        {"code": "POP", "name_vi": "Dân số", "type": "denominator"},
        {"code": "nhom", "name_vi": "Nhóm", "type": "group"},
        {"code": "TOTAL", "name_vi": "Tổng", "type": "aggregate", "level": 2, "method": "points",
         "max_points": 150},
    ]})


def write(tmp_path: Path, text: str, name: str = "values.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path, fw: Framework, units: UnitSet, **kwargs) -> list[Problem]:
    with pytest.raises(DataError) as info:
        read_values(path, fw, units, **kwargs)
    return info.value.problems


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def write_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


# -- what is required -----------------------------------------------------------------------------


def test_required_codes_are_the_scored_main_indicators(fw):
    assert required_codes(fw) == REQUIRED  # DTTM is listed but not scored


def test_required_codes_of_a_user_framework(points_fw):
    assert required_codes(points_fw) == ("P1", "P2")  # not the denominator, not the group


def test_required_codes_count_data_valued_aggregates_and_skip_unscored():
    fw = framework_from_dict({"id": "d", "nodes": [
        {"code": "A", "name_vi": "A", "level": 1, "weight": 1, "parents": ["G"]},
        {"code": "B", "name_vi": "B", "level": 1, "weight": 1, "parents": ["G"], "scored": False},
        {"code": "G", "name_vi": "G", "type": "aggregate", "level": 2, "weight": 1,
         "parents": ["T"]},
        {"code": "H", "name_vi": "H", "type": "aggregate", "level": 2, "weight": 1,
         "parents": ["T"], "compute": "data"},
        {"code": "T", "name_vi": "T", "type": "aggregate", "level": 3},
    ]})
    assert required_codes(fw) == ("A", "H")


# -- valid files ----------------------------------------------------------------------------------


def test_wide_csv_with_codes_gives_the_cells(tmp_path, fw, units):
    path = write(tmp_path, f"code,{','.join(MAIN)}\n48,{DA_NANG}\n79,{HCM}\n")
    data = read_values(path, fw, units)
    assert isinstance(data, Dataset)
    assert data.units == ("48", "79")
    assert data.columns == MAIN
    assert data.unit_set == "provinces-63"
    assert data.source == "values.csv"
    expected = [[float(x) if x else math.nan for x in line.split(",")] for line in (DA_NANG, HCM)]
    np.testing.assert_array_equal(data.values, np.array(expected))
    assert math.isnan(data.column("DTTM")[0])  # an empty cell of a node that is not required
    # no grouping column in the file: the unit set's own groups fill in
    assert data.groups["region"] == ("Bắc Trung Bộ và duyên hải miền Trung", "Đông Nam Bộ")


def test_wide_csv_with_names_in_any_spelling(tmp_path, fw, units):
    nfd = unicodedata.normalize("NFD", "Quảng Ninh")
    assert nfd != "Quảng Ninh"
    path = write(tmp_path, f"Tỉnh,{','.join(MAIN)}\nTP HCM,{HCM}\nKhánh Hoà,{GOOD}\n"
                           f"{nfd},{DA_NANG}\nthanh pho Ha Noi,{GOOD}\n")
    data = read_values(path, fw, units)
    assert data.units == ("79", "56", "22", "01")
    assert data.column("TCS")[0] == 0.9


def test_wide_headers_may_be_vietnamese_names_or_codes_in_any_case(tmp_path, fw, units):
    names = [fw[c].name_vi for c in MAIN]
    names[1] = "tcs"
    names[2] = unicodedata.normalize("NFD", "HẠ TẦNG SỐ")
    path = write(tmp_path, f"Mã,{','.join(names)},ghi_chu\n22,{GOOD},checked\n")
    data = read_values(path, fw, units)
    assert data.units == ("22",)
    assert data.column("TCS")[0] == 0.5
    assert data.column("HTS")[0] == 0.5


def test_region_and_group_columns_become_groups(tmp_path, points_fw, units):
    path = write(tmp_path, "province,region,Nhóm,P1,p2_score,POP,source_note\n"
                           "Hà Nội,Đồng bằng sông Hồng,A,80,40,8.4,so lieu 2022\n"
                           "Lào Cai,,B,60,25,,\n")
    data = read_values(path, points_fw, units)
    assert data.units == ("01", "10")
    assert data.columns == ("P1", "p2_score", "POP")
    assert data.groups["region"] == ("Đồng bằng sông Hồng", "")  # the file's own labels win
    assert data.groups["nhom"] == ("A", "B")
    np.testing.assert_array_equal(data.values, [[80, 40, 8.4], [60, 25, math.nan]])


def test_long_csv(tmp_path, fw, units):
    lines = ["tinh,chỉ số,giá trị,region"]
    for unit, values in (("Đà Nẵng", DA_NANG), ("HCM", HCM)):
        for code, value in zip(MAIN, values.split(",")):
            lines.append(f"{unit},{code.lower()},{value},Nam")
    data = read_values(write(tmp_path, "\n".join(lines) + "\n"), fw, units)
    assert data.units == ("48", "79")
    assert data.column("HDXHS").tolist() == [0.5197, 0.3590]
    assert math.isnan(data.column("DTTM")[1])
    assert data.groups["region"] == ("Nam", "Nam")


def test_long_csv_accepts_vietnamese_indicator_names(tmp_path, fw, units):
    lines = ["province,indicator,value"] + [f"Hà Nội,{fw[c].name_vi},0.25" for c in REQUIRED]
    data = read_values(write(tmp_path, "\n".join(lines) + "\n"), fw, units)
    assert data.units == ("01",)
    assert data.column("ATTT")[0] == 0.25


def test_xlsx_wide_with_numbers_and_a_numeric_code(tmp_path, fw, units):
    path = write_xlsx(tmp_path / "dti.xlsx", {
        "DTI 2022": [["code", *MAIN], [48, 1, 0.9, 0.8253, 0.8487, 0.7578, None, 0.8575,
                                       0.7836, 0.5197], ["79", *[0.5] * 9]],
        "Ghi chú": [["nguồn"], ["dti.gov.vn"]],
    })
    data = read_values(path, fw, units)
    assert data.units == ("48", "79")
    assert data.values[0].tolist()[:5] == [1.0, 0.9, 0.8253, 0.8487, 0.7578]
    assert math.isnan(data.values[0][5])
    assert data.source == "dti.xlsx"


def test_xlsx_other_sheet_and_missing_sheet(tmp_path, fw, units):
    path = write_xlsx(tmp_path / "dti.xlsx", {
        "Ghi chú": [["nguồn"], ["dti.gov.vn"]],
        "DTI 2022": [["code", *MAIN], ["22", *[0.5] * 9]],
    })
    assert read_values(path, fw, units, sheet="DTI 2022").units == ("22",)
    problem = only(problems_of(path, fw, units, sheet="Nope"))
    assert problem.code == "file.no_sheet"
    assert str(problem) == ("dti.xlsx: there is no sheet 'Nope'; the sheets are 'Ghi chú', "
                            "'DTI 2022'; name one of them with --sheet [file.no_sheet]")


def test_xlsx_problems_name_the_sheet(tmp_path, fw, units):
    path = write_xlsx(tmp_path / "dti.xlsx", {"DTI 2022": [["code", *MAIN],
                                                           ["22", 0.5, 1.3, *[0.5] * 7]]})
    problem = only(problems_of(path, fw, units))
    assert problem.code == "data.ratio_out_of_range"
    assert (problem.file, problem.row, problem.column, problem.value) == (
        "dti.xlsx[DTI 2022]", 2, "TCS", 1.3)


def test_decimal_comma_and_spaces(tmp_path, fw, units):
    # Excel in the vi-VN locale writes ';' between cells and ',' for decimals.
    cells = ";".join(["0,8002", " 0.5 ", "1", "0", "0,25", "", ".5", "0,9", "1,0"])
    data = read_values(write(tmp_path, f"province;{';'.join(MAIN)}\nĐà Nẵng;{cells}\n"), fw, units)
    assert data.values[0][:5].tolist() == [0.8002, 0.5, 1.0, 0.0, 0.25]
    assert data.values[0][6:].tolist() == [0.5, 0.9, 1.0]


def test_allow_missing_reads_empty_required_values_as_nan(tmp_path, fw, units):
    path = write(tmp_path, f"{HEADER}\nHà Nội,0.5,,0.5,0.5,0.5,,0.5,0.5,0.5\n")
    data = read_values(path, fw, units, allow_missing=True)
    assert math.isnan(data.column("TCS")[0])
    assert data.column("NTS")[0] == 0.5


def test_a_column_of_a_node_that_is_not_required_may_be_absent(tmp_path, fw, units):
    header = "province," + ",".join(REQUIRED)
    data = read_values(write(tmp_path, f"{header}\nHà Nội,{','.join(['0.5'] * 8)}\n"), fw, units)
    assert data.columns == MAIN
    assert math.isnan(data.column("DTTM")[0])


def test_rows_without_any_value_are_skipped(tmp_path, fw, units):
    path = write(tmp_path, f"{HEADER}\nHà Nội,,,,,,,,,\nHà Nội,{GOOD}\nHuế,,,,,,,,,\n")
    data = read_values(path, fw, units)
    assert data.units == ("01",)  # no duplicate: the blank row is not a row of values


# -- file-level problems pass through -------------------------------------------------------------


@pytest.mark.parametrize("encoding, name, byte", [("cp1258", "Khánh Hoà", "0xe1"),
                                                  ("latin-1", "Cà Mau", "0xe0")])
def test_a_file_not_in_utf8(tmp_path, fw, units, encoding, name, byte):
    path = tmp_path / "values.csv"
    path.write_bytes(f"{HEADER}\n{name},{GOOD}\n".encode(encoding))
    problem = only(problems_of(path, fw, units))
    assert problem.code == "file.encoding"
    assert str(problem) == (f"values.csv, row 2: the file is not UTF-8 (bad byte {byte} at line 2);"
                            " save it as 'CSV UTF-8' [file.encoding]")


def test_empty_file(tmp_path, fw, units):
    problem = only(problems_of(write(tmp_path, "\n \n"), fw, units))
    assert str(problem) == ("values.csv: the file is empty; it needs a header row and data rows "
                            "[file.empty]")


def test_missing_file(tmp_path, fw, units):
    problem = only(problems_of(tmp_path / "nowhere.csv", fw, units))
    assert problem.code == "file.not_found"


def test_header_without_rows(tmp_path, fw, units):
    assert only(problems_of(write(tmp_path, HEADER + "\n"), fw, units)).code == "file.no_rows"


def test_template_never_filled_in(tmp_path, fw, units):
    problem = only(problems_of(write(tmp_path, f"{HEADER}\nHà Nội,,,,,,,,,\n"), fw, units))
    assert str(problem) == ("values.csv: no row has any value; fill in the values of at least one "
                            "province [data.no_values]")


# -- one problem kind at a time -------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["n/a", "abc", "1.2.3", "1,2,3", "0,5.1", "nan", "inf", "--1"])
def test_text_in_a_number(tmp_path, fw, units, cell):
    path = write(tmp_path, f'{HEADER}\nHà Nội,0.5,"{cell}",0.5,0.5,0.5,,0.5,0.5,0.5\n')
    problem = only(problems_of(path, fw, units))
    assert (problem.code, problem.row, problem.column, problem.unit, problem.indicator,
            problem.value) == ("data.not_a_number", 2, "TCS", "Hà Nội", "TCS", cell)
    assert problem.message == (f"{cell!r} is not a number; write a number such as 0.8002 (a "
                               "decimal point or a decimal comma), or leave the cell empty if the "
                               "value is missing")


def test_a_percentage_in_a_ratio(tmp_path, fw, units):
    path = write(tmp_path, f"{HEADER}\nHà Nội,0.5,80%,0.5,0.5,0.5,,0.5,0.5,0.5\n")
    problem = only(problems_of(path, fw, units))
    assert str(problem) == ("values.csv, row 2, column 'TCS', province 'Hà Nội', indicator 'TCS': "
                            "'80%' is not a number; write percentages as ratios (80% = 0.8) "
                            "[data.not_a_number]")


def test_a_boolean_or_date_from_a_workbook_is_not_a_number(tmp_path, fw, units):
    import datetime

    path = write_xlsx(tmp_path / "v.xlsx", {"S": [["code", *MAIN], ["01", True, 0.5, 0.5, 0.5,
                                                                     0.5, None, 0.5, 0.5,
                                                                     datetime.date(2022, 5, 1)]]})
    problems = problems_of(path, fw, units)
    assert [(p.code, p.column) for p in problems] == [("data.not_a_number", "NTS"),
                                                      ("data.not_a_number", "HDXHS")]


def test_ratio_out_of_range(tmp_path, fw, units):
    rows = [f"{name},{GOOD}" for name in ("Hà Nội", "Hải Phòng", "Huế", "Đà Nẵng", "Cần Thơ")]
    rows.append("Quảng Ninh,0.5,1.3,0.5,0.5,0.5,,-0.1,0.5,1.05")
    problems = problems_of(write(tmp_path, "\n".join([HEADER, *rows]) + "\n"), fw, units)
    assert [str(p) for p in problems] == [
        "values.csv, row 7, column 'TCS', province 'Quảng Ninh', indicator 'TCS': ratio 1.3 is "
        "outside 0..1; main-indicator values are ratios (0.9000 = 90 of 100 points) "
        "[data.ratio_out_of_range]",
        "values.csv, row 7, column 'HDCQS', province 'Quảng Ninh', indicator 'HDCQS': ratio -0.1 "
        "is outside 0..1; main-indicator values are ratios (0.9000 = 180 of 200 points) "
        "[data.ratio_out_of_range]",
        "values.csv, row 7, column 'HDXHS', province 'Quảng Ninh', indicator 'HDXHS': ratio 1.05 "
        "is outside 0..1; main-indicator values are ratios (0.9000 = 135 of 150 points) "
        "[data.ratio_out_of_range]",
    ]
    assert problems[0].value == "1.3"


def test_points_above_max_and_negative_points(tmp_path, points_fw, units):
    path = write(tmp_path, "code,P1,p2_score\n01,120,50\n02,100,-5\n04,0,50.5\n")
    problems = problems_of(path, points_fw, units)
    assert [str(p) for p in problems] == [
        "values.csv, row 2, column 'P1', province '01 (Hà Nội)', indicator 'P1': 120 points is "
        "above the maximum of 100; P1 is scored from 0 to 100 points [data.points_above_max]",
        "values.csv, row 3, column 'p2_score', province '02 (Hà Giang)', indicator 'P2': -5 "
        "points is negative; P2 is scored from 0 to 50 points [data.negative_points]",
        "values.csv, row 4, column 'p2_score', province '04 (Cao Bằng)', indicator 'P2': 50.5 "
        "points is above the maximum of 50; P2 is scored from 0 to 50 points "
        "[data.points_above_max]",
    ]


def test_points_at_the_bounds_are_accepted(tmp_path, points_fw, units):
    data = read_values(write(tmp_path, "code,P1,p2_score\n01,100,0\n"), points_fw, units)
    np.testing.assert_array_equal(data.values, [[100.0, 0.0, math.nan]])


def test_missing_required_value(tmp_path, fw, units):
    path = write(tmp_path, f"{HEADER}\nHà Nội,{GOOD}\nHà Giang,0.5,0.5,0.5,0.5,0.5,,,0.5,0.5\n")
    problem = only(problems_of(path, fw, units))
    assert str(problem) == (
        "values.csv, row 3, column 'HDCQS', province 'Hà Giang', indicator 'HDCQS': the value is "
        "empty; HDCQS (Hoạt động chính quyền số) counts in the score, so every province needs it; "
        "fill it in, or use a recipe that imputes missing values [data.missing_value]")


def test_missing_required_column(tmp_path, fw, units):
    header = "province," + ",".join(c for c in MAIN if c != "NLS")
    problem = only(problems_of(write(tmp_path, f"{header}\nHà Nội,{GOOD[:-4]}\n"), fw, units,
                               allow_missing=True))
    assert str(problem) == (
        "values.csv, row 1, column 'NLS', indicator 'NLS': there is no column for NLS (Nhân lực "
        "số), which counts in the score; add a column headed 'NLS' with one value per province "
        "[data.missing_column]")


def test_duplicate_province(tmp_path, fw, units):
    path = write(tmp_path, f"{HEADER}\nHà Nội,{GOOD}\nLào Cai,{GOOD}\nHà Nội,{GOOD}\n")
    problem = only(problems_of(path, fw, units))
    assert str(problem) == ("values.csv, row 4, column 'province', province 'Hà Nội': Hà Nội "
                            "already has a row (row 2); keep one row per province and delete the "
                            "other [data.duplicate_unit]")


def test_duplicate_province_under_two_spellings(tmp_path, fw, units):
    path = write(tmp_path, f"{HEADER}\nHà Nội,{GOOD}\nHN,{GOOD}\n")
    problem = only(problems_of(path, fw, units))
    assert str(problem) == ("values.csv, row 3, column 'province', province 'HN (Hà Nội)': Hà Nội "
                            "already has a row (row 2, written 'Hà Nội'); keep one row per "
                            "province and delete the other [data.duplicate_unit]")


def test_unknown_province_with_suggestions(tmp_path, fw, units):
    path = write(tmp_path, f"{HEADER}\nHa Noii,{GOOD}\nParis,{GOOD}\n99,{GOOD}\n")
    problems = problems_of(path, fw, units)
    assert [str(p) for p in problems] == [
        "values.csv, row 2, column 'province', province 'Ha Noii': 'Ha Noii' matches no province "
        "of provinces-63; did you mean Hà Nội, Thanh Hóa or Khánh Hòa? Correct the name or write "
        "the province code [data.unknown_unit]",
        "values.csv, row 3, column 'province', province 'Paris': 'Paris' matches no province of "
        "provinces-63; correct the name or write the province code [data.unknown_unit]",
        "values.csv, row 4, column 'province', province '99': '99' matches no province of "
        "provinces-63; correct the name or write the province code [data.unknown_unit]",
    ]


def test_a_province_merged_away_gets_the_resolvers_explanation(tmp_path, fw):
    path = write(tmp_path, f"{HEADER}\nHà Giang,{GOOD}\n")
    problem = only(problems_of(path, fw, load_unit_set("provinces-34")))
    assert str(problem) == (
        "values.csv, row 2, column 'province', province 'Hà Giang': 'Hà Giang' is not a unit of "
        "provinces-34: Hà Giang (old code 02) merged into Tuyên Quang on 1 July 2025; use Tuyên "
        "Quang (code 08) [data.unknown_unit]")


def test_problems_in_a_row_of_an_unknown_province_still_name_it(tmp_path, fw, units):
    path = write(tmp_path, f"{HEADER}\nHa Noii,0.5,abc,0.5,0.5,0.5,,0.5,0.5,0.5\n")
    problems = problems_of(path, fw, units)
    assert [(p.code, p.unit) for p in problems] == [("data.unknown_unit", "Ha Noii"),
                                                    ("data.not_a_number", "Ha Noii")]


def test_unknown_and_computed_columns(tmp_path, fw, units):
    path = write(tmp_path, f"{HEADER},DTI,Thẻ chế số,ind_the_che_so\nHà Nội,{GOOD},0.6,0.5,0.5\n")
    problems = problems_of(path, fw, units)
    assert [str(p) for p in problems] == [
        "values.csv, row 1, column 'DTI', indicator 'DTI': DTI (Chỉ số DTI cấp tỉnh) is a "
        "computed score, not an input; delete the column [data.unknown_column]",
        "values.csv, row 1, column 'Thẻ chế số': 'Thẻ chế số' is not an indicator of qd-922-btttt "
        "(did you mean TCS?); head each value column with an indicator code (NTS, TCS, HTS, NLS, "
        "ATTT, DTTM, HDCQS, HDKTS, HDXHS) or delete the column [data.unknown_column]",
        "values.csv, row 1, column 'ind_the_che_so': 'ind_the_che_so' is not an indicator of "
        "qd-922-btttt; head each value column with an indicator code (NTS, TCS, HTS, NLS, ATTT, "
        "DTTM, HDCQS, HDKTS, HDXHS) or delete the column [data.unknown_column]",
    ]


def test_the_same_indicator_twice(tmp_path, fw, units):
    path = write(tmp_path, f"{HEADER},Thể chế số\nHà Nội,{GOOD},0.5\n")
    problem = only(problems_of(path, fw, units))
    assert str(problem) == ("values.csv, row 1, column 'Thể chế số', indicator 'TCS': this column "
                            "and column 'TCS' are both TCS (Thể chế số); keep one of them "
                            "[data.duplicate_column]")


def test_no_unit_column(tmp_path, fw, units):
    path = write(tmp_path, f"{HEADER.replace('province', 'place')}\nHà Nội,{GOOD}\n")
    problems = problems_of(path, fw, units)
    assert [(p.code, p.row, p.column) for p in problems] == [
        ("data.unknown_column", 1, "place"), ("data.no_unit_column", 1, None)]
    assert problems[1].message == (
        "no column names the province; head the column of province codes or names 'code' or "
        "'province' (also accepted: ucode, ma, mã, province_vi, tinh, tỉnh, unit, name, uname, "
        "don_vi, đơn_vị, name_vi, ten, tên, province_en, name_en)")


def test_a_row_with_values_but_no_province(tmp_path, fw, units):
    problem = only(problems_of(write(tmp_path, f"{HEADER}\n,{GOOD}\n"), fw, units))
    assert str(problem) == ("values.csv, row 2, column 'province': the row has values but no "
                            "province; write the province code or name in column 'province' "
                            "[data.missing_unit]")


def test_code_and_name_columns_must_agree(tmp_path, fw, units):
    path = write(tmp_path, f"code,name,{','.join(MAIN)}\n01,Hà Nội,{GOOD}\n02,Hà Nam,{GOOD}\n"
                           f"04,Cao Bangg,{GOOD}\n")
    problem = only(problems_of(path, fw, units))
    assert str(problem) == ("values.csv, row 3, column 'name', province '02 (Hà Giang)': the row "
                            "names two provinces: code '02' is Hà Giang (code 02) but name "
                            "'Hà Nam' is Hà Nam (code 35); correct one of them "
                            "[data.unit_mismatch]")


def test_an_indicator_column_without_a_value_column(tmp_path, fw, units):
    path = write(tmp_path, f"{HEADER},indicator\nHà Nội,{GOOD},TCS\n")
    problem = only(problems_of(path, fw, units))
    assert (problem.code, problem.column) == ("data.unknown_column", "indicator")
    assert problem.message.startswith("a file with an indicator column also needs a value column")


# -- long-format problems -------------------------------------------------------------------------


def long_file(tmp_path: Path, extra: list[str], skip: tuple[str, ...] = ()) -> Path:
    lines = ["province,indicator,value"]
    lines += [f"Hà Nội,{c},0.5" for c in REQUIRED if c not in skip]
    lines += [f"Huế,{c},0.5" for c in REQUIRED]
    return write(tmp_path, "\n".join(lines + extra) + "\n")


def test_long_unknown_indicator(tmp_path, fw, units):
    problems = problems_of(long_file(tmp_path, ["Huế,TSC,0.5", "Huế,CQS,0.5", "Huế,,0.5"]),
                           fw, units)
    assert [str(p) for p in problems] == [
        "values.csv, row 18, column 'indicator', province 'Huế': 'TSC' is not an indicator of "
        "qd-922-btttt (did you mean TCS, NTS or HTS?); write one of NTS, TCS, HTS, NLS, ATTT, "
        "DTTM, HDCQS, HDKTS, HDXHS [data.unknown_indicator]",
        "values.csv, row 19, column 'indicator', province 'Huế': CQS (Trụ cột Chính quyền số) is "
        "a computed score, not an input; delete the row [data.unknown_indicator]",
        "values.csv, row 20, column 'indicator', province 'Huế': the indicator is empty; write "
        "one of NTS, TCS, HTS, NLS, ATTT, DTTM, HDCQS, HDKTS, HDXHS [data.unknown_indicator]",
    ]


def test_long_duplicate_value(tmp_path, fw, units):
    problem = only(problems_of(long_file(tmp_path, ["Thừa Thiên Huế,tcs,0.7"]), fw, units))
    assert str(problem) == (
        "values.csv, row 18, column 'indicator', province 'Thừa Thiên Huế (Huế)', indicator "
        "'TCS': TCS of Huế already has a row (row 11); keep one row per province and indicator "
        "and delete the other [data.duplicate_value]")


def test_long_missing_values_and_indicators(tmp_path, fw, units):
    path = long_file(tmp_path, ["Huế,DTTM,"], skip=("NLS",))
    problem = only(problems_of(path, fw, units))
    assert str(problem) == (
        "values.csv, province 'Hà Nội', indicator 'NLS': there is no row for NLS (Nhân lực số) of "
        "this province, and it counts in the score; add the row, or use a recipe that imputes "
        "missing values [data.missing_value]")
    assert math.isnan(read_values(path, fw, units, allow_missing=True).column("NLS")[0])
    lines = ["province,indicator,value"] + [f"Hà Nội,{c},0.5" for c in REQUIRED if c != "NLS"]
    problem = only(problems_of(write(tmp_path, "\n".join(lines) + "\n"), fw, units,
                               allow_missing=True))
    assert str(problem) == (
        "values.csv, column 'indicator', indicator 'NLS': no row has indicator NLS (Nhân lực số), "
        "which counts in the score; add one row per province with NLS in column 'indicator' "
        "[data.missing_indicator]")


def test_long_value_checks(tmp_path, fw, units):
    problems = problems_of(long_file(tmp_path, ["Huế,DTTM,1.3", "Hà Nội,DTTM,abc"],
                                     skip=("TCS",)), fw, units)
    assert [(p.code, p.row, p.column, p.indicator) for p in problems] == [
        ("data.ratio_out_of_range", 17, "value", "DTTM"),
        ("data.not_a_number", 18, "value", "DTTM"),
        ("data.missing_value", None, None, "TCS"),
    ]


# -- everything at once ---------------------------------------------------------------------------


def test_five_problems_in_one_file_are_all_reported(tmp_path, fw, units):
    path = write(tmp_path, "\n".join([
        f"{HEADER},score",
        f"Hà Nội,{GOOD},",
        f"Hà Noi,{GOOD},",                                      # duplicate of row 2
        "Đà Nẵng,0.5,1.3,0.5,0.5,0.5,,0.5,0.5,0.5,",             # ratio out of range
        "Huế,0.5,0.5,x,0.5,0.5,,0.5,0.5,0.5,",                   # not a number
        f"Sài Gonn,{GOOD},",                                     # unknown province
    ]) + "\n")
    with pytest.raises(DataError) as info:
        read_values(path, fw, units)
    error = info.value
    assert isinstance(error, InputError)
    assert [(p.code, p.row, p.column) for p in error.problems] == [
        ("data.unknown_column", 1, "score"),
        ("data.duplicate_unit", 3, "province"),
        ("data.ratio_out_of_range", 4, "TCS"),
        ("data.not_a_number", 5, "HTS"),
        ("data.unknown_unit", 6, "province"),
    ]
    assert str(error).endswith("(and 4 more problems)")
    assert error.problems[4].as_dict() == {
        "code": "data.unknown_unit", "message": error.problems[4].message, "file": "values.csv",
        "row": 6, "column": "province", "unit": "Sài Gonn", "value": "Sài Gonn"}


# -- the template ---------------------------------------------------------------------------------


def test_csv_template(tmp_path, fw, units):
    path = write_template(tmp_path / "mau.csv", fw, units)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # so Excel shows the diacritics
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == ["code", "name", *MAIN]
    assert len(rows) == 1 + 63
    assert rows[1] == ["01", "Hà Nội", *[""] * 9]
    assert ["56", "Khánh Hòa", *[""] * 9] in rows


def test_filled_csv_template_round_trips(tmp_path, fw, units):
    path = write_template(tmp_path / "mau.csv", fw, units)
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    filled = {"48": DA_NANG.split(","), "79": HCM.split(",")}
    for row in rows[1:]:
        row[2:] = filled.get(row[0], row[2:])
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)
    data = read_values(path, fw, units)
    assert data.units == ("48", "79")
    np.testing.assert_array_equal(
        data.values, [[float(x) if x else math.nan for x in filled[u]] for u in data.units])


def test_filled_xlsx_template_round_trips(tmp_path, fw, units):
    path = write_template(tmp_path / "mau.xlsx", fw, units)
    book = openpyxl.load_workbook(path)
    sheet = book.active
    assert [c.value for c in sheet[1]] == ["code", "name", *MAIN]
    assert [c.value for c in sheet[2]][:2] == ["01", "Hà Nội"]
    assert sheet.max_row == 64
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == "22":
            for cell, value in zip(row[2:], [0.5, 0.6, 0.7, 0.8, 0.9, None, 0.1, 0.2, 0.3]):
                cell.value = value
    book.save(path)
    data = read_values(path, fw, units)
    assert data.units == ("22",)
    np.testing.assert_array_equal(data.values[0],
                                  [0.5, 0.6, 0.7, 0.8, 0.9, math.nan, 0.1, 0.2, 0.3])


def test_user_framework_template_has_data_and_denominator_columns(tmp_path, points_fw, units):
    path = write_template(tmp_path / "mau.csv", points_fw, units)
    header = path.read_text(encoding="utf-8-sig").splitlines()[0]
    assert header == "code,name,P1,p2_score,POP"


def test_template_needs_a_known_suffix(tmp_path, fw, units):
    with pytest.raises(InputError) as caught:
        write_template(tmp_path / "mau.ods", fw, units)
    assert str(caught.value.problems[0]) == ("mau.ods: cannot write a template as .ods; name it "
                                             ".csv or .xlsx [template.bad_suffix]")
    assert not (tmp_path / "mau.ods").exists()
