"""The assessment workbook on its own: template, reading back, and every bad input located."""

from __future__ import annotations

import io

import openpyxl
import pytest

from dti.io.assessment_xlsx import ANSWERS, COVER, LISTS, VALUE_HEAD, read_import, template
from dti.scoring import illustrative_catalogue, parse_answer

EDITION, PROVINCE, NAME = "dti-test-2022", "48", "Đà Nẵng"
CATALOGUE = illustrative_catalogue()
ANSWERS_NOW = {"NTS.01": {"choice": "pho_chu_tich_ubnd_tinh"}, "NTS.02": {"value": True},
               "NTS.03": {"x": 3.0}, "NTS.04": {"a": 12.0, "b": 40.5}, "NTS.05": {"value": False}}
VERSIONS = {item.code: 2 for item in CATALOGUE.items}


def book_bytes(answers=None) -> bytes:
    return template(CATALOGUE, EDITION, PROVINCE, NAME, answers or {}, VERSIONS)


def edit(data: bytes, change) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(data))
    change(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def row_of(book, code: str) -> int:
    sheet = book[ANSWERS]
    return next(c.row for c in sheet["A"] if c.value == code)


def column_of(book, header: str) -> int:
    return next(c.column for c in book[ANSWERS][1] if c.value == header)


def put(code: str, n: int, value):
    def change(book):
        book[ANSWERS].cell(row=row_of(book, code), column=column_of(book, VALUE_HEAD.format(n=n)),
                           value=value)
    return change


def read(data: bytes, province: str = PROVINCE):
    return read_import(data, "phieu.xlsx", CATALOGUE, EDITION, province)


def test_template_has_the_sheets_cover_cells_and_one_row_per_sub_indicator():
    book = openpyxl.load_workbook(io.BytesIO(book_bytes()))
    assert book.sheetnames == [COVER, ANSWERS, LISTS]
    cover = book[COVER]
    assert (cover["B4"].value, cover["B5"].value, cover["B6"].value) == (EDITION, PROVINCE, NAME)
    assert "MINH HOẠ" in cover["A2"].value and cover.protection.sheet
    codes = [c.value for c in book[ANSWERS]["A"][1:]]
    assert codes == [i.code for i in CATALOGUE.items]
    assert book[ANSWERS].freeze_panes == "H2"


def test_template_bytes_are_deterministic():
    assert book_bytes(ANSWERS_NOW) == book_bytes(ANSWERS_NOW)
    assert book_bytes(ANSWERS_NOW) != book_bytes()


def test_filled_cells_are_read_back_as_raw_text():
    data = book_bytes()
    for change in (put("NTS.01", 1, "Chủ tịch UBND tỉnh"), put("NTS.02", 1, "Không"),
                   put("NTS.03", 1, "1.234,5"), put("NTS.04", 1, 7), put("NTS.04", 2, 9.25)):
        data = edit(data, change)
    rows, problems = read(data)
    assert problems == []
    assert {r.code: r.raw for r in rows} == {
        "NTS.01": {"choice": "Chủ tịch UBND tỉnh"}, "NTS.02": {"value": "Không"},
        "NTS.03": {"x": "1.234,5"}, "NTS.04": {"a": "7", "b": "9.25"}}
    assert all(r.version == 2 and r.sheet == ANSWERS for r in rows)
    assert rows[0].row == 2


def test_prefilled_answers_round_trip_to_the_same_answers():
    rows, problems = read(book_bytes(ANSWERS_NOW))
    assert problems == []
    parsed = {r.code: parse_answer(CATALOGUE.item(r.code), r.raw)[0] for r in rows}
    assert parsed == ANSWERS_NOW


def test_blank_cells_are_not_rows():
    rows, problems = read(book_bytes())
    assert rows == [] and problems == []


@pytest.mark.parametrize("data", [b"\x00\x01garbage", b"PK\x03\x04 broken zip",
                                  "Mã,Giá trị 1\nNTS.01,5\n".encode()],
                         ids=["garbage", "broken-zip", "csv-renamed"])
def test_a_file_that_is_not_a_workbook_is_one_located_problem(data):
    rows, problems = read(data)
    assert rows == []
    assert [(p.code, p.file) for p in problems] == [("import.not_xlsx", "phieu.xlsx")]


def test_unknown_province_code_on_the_cover_is_located():
    data = edit(book_bytes(), lambda b: b[COVER].__setitem__("B5", "99"))
    _, problems = read(data)
    assert [(p.code, p.row, p.column, p.unit) for p in problems] == [
        ("import.unknown_province", 5, f"{COVER}!B5", "99")]


def test_another_provinces_workbook_is_refused_with_the_province_named():
    _, problems = read(book_bytes(), province="01")
    assert {(p.code, p.column, p.unit) for p in problems} == {
        ("import.wrong_province", f"{COVER}!B5", "48"), ("import.wrong_province", f"{COVER}!B6", "48")}


def test_wrong_edition_and_missing_sheet_are_located():
    def change(book):
        book[COVER]["B4"] = "dti-2019"
        del book[ANSWERS]
    _, problems = read(edit(book_bytes(), change))
    assert {(p.code, p.column) for p in problems} == {
        ("import.wrong_edition", f"{COVER}!B4"), ("import.missing_sheet", ANSWERS)}


def test_text_in_a_number_cell_is_located_by_sheet_row_column_and_indicator():
    data = edit(book_bytes(), put("NTS.03", 1, "mười"))
    rows, problems = read(data)
    assert [(p.code, p.row, p.column, p.indicator, p.value) for p in problems] == [
        ("answer.not_a_number", 4, f"{ANSWERS}!Giá trị 1 / Value 1", "NTS.03", "mười")]


def test_negative_number_unknown_option_and_bad_yes_no_are_each_located():
    data = book_bytes()
    for change in (put("NTS.04", 2, -3), put("NTS.01", 1, "Bí thư"), put("NTS.02", 1, "có lẽ")):
        data = edit(data, change)
    _, problems = read(data)
    assert sorted((p.code, p.row, p.indicator) for p in problems) == [
        ("answer.negative", 5, "NTS.04"), ("answer.not_yes_no", 3, "NTS.02"),
        ("answer.unknown_option", 2, "NTS.01")]


def test_unknown_code_duplicate_row_extra_value_and_bad_version():
    def change(book):
        sheet = book[ANSWERS]
        sheet.cell(row=2, column=1, value="XYZ.99")
        sheet.cell(row=2, column=8, value="5")
        last = sheet.max_row + 1
        for column in range(1, sheet.max_column + 1):
            sheet.cell(row=last, column=column, value=sheet.cell(row=3, column=column).value)
        sheet.cell(row=last, column=8, value="có")
        sheet.cell(row=3, column=9, value="có")          # NTS.02 takes one value
        sheet.cell(row=4, column=8, value=2)
        sheet.cell(row=4, column=sheet.max_column, value="hai")   # NTS.03's version
    _, problems = read(edit(book_bytes(), change))
    found = sorted((p.code, p.row, p.column, p.indicator) for p in problems)
    last = len(CATALOGUE.items) + 2
    assert found == [
        ("import.bad_version", 4, f"{ANSWERS}!Phiên bản (không sửa) / Version (do not edit)", "NTS.03"),
        ("import.duplicate_row", last, f"{ANSWERS}!Mã / Code", "NTS.02"),
        ("import.extra_value", 3, f"{ANSWERS}!Giá trị 2 / Value 2", "NTS.02"),
        ("import.unknown_indicator", 2, f"{ANSWERS}!Mã / Code", "XYZ.99")]


def test_data_validation_lists_on_choice_and_yes_no_cells_and_decimals_on_numbers():
    book = openpyxl.load_workbook(io.BytesIO(book_bytes()))
    sheet = book[ANSWERS]
    validations = sheet.data_validations.dataValidation

    def rule_for(code: str):
        cell = sheet.cell(row=row_of(book, code), column=8).coordinate
        return next(v for v in validations if cell in v.sqref)

    choice, yes_no, number = rule_for("NTS.01"), rule_for("NTS.02"), rule_for("NTS.03")
    assert choice.type == "list" and LISTS in choice.formula1
    listed = [c.value for c in book[LISTS]["B"] if c.value]
    assert "Phó Chủ tịch UBND tỉnh" in listed and {"Có", "Không"} <= set(listed)
    assert yes_no.type == "list" and yes_no.formula1 != choice.formula1
    assert (number.type, number.operator, number.formula1) == ("decimal", "greaterThanOrEqual", "0")
