"""Bad input never crashes: each case below once raised a Python exception, or was silently
accepted, and must now be a located problem with a stable code inside the documented error type.

``pytest.raises(RecipeError)`` (etc.) fails the test on any other exception, so each test also
proves that nothing else escapes.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
import yaml

from dti.editions import load_edition
from dti.engine.recipe import AGGREGATE_METHODS, Recipe
from dti.errors import DataError, FrameworkError, InputError, Problem, RecipeError
from dti.framework.checks import AGGREGATION_METHODS
from dti.framework.load import framework_from_dict, load_framework
from dti.io import read_values
from dti.io.cells import parse_number
from dti.tabular import read_grid, read_table, table_from_bytes
from dti.units import UnitSet, load_unit_set


def codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]


def recipe_problems(text: str) -> list[Problem]:
    with pytest.raises(RecipeError) as caught:
        Recipe.from_dict(yaml.safe_load(text), file="r.yaml")
    assert all(p.file == "r.yaml" for p in caught.value.problems)
    return caught.value.problems


def one(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


# -- 1. recipes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["- normalise\n- aggregate\n", "minmax\n", "5\n"])
def test_a_recipe_that_is_not_a_mapping(text):
    problem = one(recipe_problems(text))
    assert problem.code == "recipe.not_mapping"
    assert "must be a mapping of sections" in problem.message


def test_numbers_written_as_text_are_read_as_the_declared_type():
    recipe = Recipe.from_dict({"screen": {"min_availability": "0.9"}, "rank": {"decimals": "4"},
                               "weights": {"TCS": "0,5"}})
    assert recipe.screen.min_availability == 0.9
    assert recipe.rank.decimals == 4 and isinstance(recipe.rank.decimals, int)
    assert recipe.weight_overrides() == {"TCS": 0.5}


@pytest.mark.parametrize("text, column, code", [
    ("screen: {min_availability: abc}", "screen.min_availability", "recipe.bad_type"),
    ("screen: {min_availability: 1.5}", "screen.min_availability", "recipe.out_of_range"),
    ("aggregate: {min_availability: -0.1}", "aggregate.min_availability", "recipe.out_of_range"),
    ("exclude: 5", "exclude", "recipe.bad_type"),
    ("exclude: [TCS, {a: 1}]", "exclude", "recipe.bad_type"),
    ("rank: {decimals: 400}", "rank.decimals", "recipe.out_of_range"),
    ("rank: {decimals: -3}", "rank.decimals", "recipe.out_of_range"),
    ("rank: {decimals: 2.5}", "rank.decimals", "recipe.bad_type"),
    ("rank: {decimals: four}", "rank.decimals", "recipe.bad_type"),
    ("rank: {groups: {region: 1}}", "rank.groups", "recipe.bad_type"),
    ("normalise: {lower: .nan}", "normalise.lower", "recipe.out_of_range"),
    ("normalise: {upper: .inf}", "normalise.upper", "recipe.out_of_range"),
    ("normalise: {method: percentile, lower: 10, upper: 5}", "normalise.upper",
     "recipe.out_of_range"),
    ("normalise: {method: zscore, sd: 0}", "normalise.sd", "recipe.out_of_range"),
    ("aggregate: {p: .nan}", "aggregate.p", "recipe.out_of_range"),
    ("aggregate: {p: 1e308}", "aggregate.p", "recipe.out_of_range"),
    ("aggregate: {p: 0}", "aggregate.p", "recipe.out_of_range"),
    ("treat: {max_points: -1}", "treat.max_points", "recipe.out_of_range"),
    ("treat: {max_points: 2.5}", "treat.max_points", "recipe.bad_type"),
    ("treat: {skew: .inf}", "treat.skew", "recipe.out_of_range"),
    ("denominate: {enabled: maybe}", "denominate.enabled", "recipe.bad_type"),
    ("denominate: {scale: 0}", "denominate.scale", "recipe.out_of_range"),
    ("impute: 5", "impute", "recipe.not_mapping"),
    ("weights: [1, 2]", "weights", "recipe.not_mapping"),
])
def test_a_bad_recipe_value_is_a_located_problem(text, column, code):
    problem = one(recipe_problems(text))
    assert (problem.code, problem.column) == (code, column)


@pytest.mark.parametrize("weight", [".nan", ".inf", "-.inf", "-1", "abc", "[1]", "true"])
def test_a_weight_must_be_finite_and_not_negative(weight):
    problem = one(recipe_problems(f"weights: {{TCS: {weight}}}"))
    assert (problem.code, problem.column, problem.indicator) == ("recipe.bad_weight", "weights",
                                                                 "TCS")


def test_every_recipe_problem_is_reported_at_once():
    problems = recipe_problems("rank: {decimals: 400}\naggregate: {p: .nan}\nexclude: 5\n"
                               "weights: {A: -1, B: .inf}\nnormalise: {method: wrong}\nextra: 1\n")
    assert sorted((p.code, p.column) for p in problems) == sorted([
        ("recipe.out_of_range", "rank.decimals"), ("recipe.out_of_range", "aggregate.p"),
        ("recipe.bad_type", "exclude"), ("recipe.bad_weight", "weights"),
        ("recipe.bad_weight", "weights"), ("recipe.bad_choice", "normalise.method"),
        ("recipe.unknown_key", "extra")])


def test_problems_of_a_replaced_recipe_never_compare_the_wrong_types():
    # a what-if or Monte Carlo variant is made with replace(), bypassing from_dict
    base = Recipe()
    recipe = replace(base, screen=replace(base.screen, min_availability="0.9"),
                     rank=replace(base.rank, decimals=2.5),
                     aggregate=replace(base.aggregate, p=float("nan")),
                     weights=(("TCS", float("inf")),), exclude=5)
    found = {(p.code, p.column) for p in recipe.problems("variant")}
    assert found == {("recipe.bad_type", "screen.min_availability"),
                     ("recipe.bad_type", "rank.decimals"), ("recipe.out_of_range", "aggregate.p"),
                     ("recipe.bad_weight", "weights"), ("recipe.bad_type", "exclude")}


def test_the_aggregation_methods_are_one_list():
    assert AGGREGATE_METHODS is AGGREGATION_METHODS


SMALL = {"id": "small", "nodes": [
    {"code": "A", "name_vi": "A", "parents": ["T"], "weight": 1, "goalposts": [0, 1], "target": 1},
    {"code": "B", "name_vi": "B", "parents": ["T"], "weight": 1},
    {"code": "C", "name_vi": "C", "parents": ["T"], "weight": 1, "scored": False},
    {"code": "T", "name_vi": "T", "type": "aggregate", "level": 2},
]}


def test_recipe_problems_for_a_framework():
    fw = framework_from_dict(SMALL, file="small.yaml")
    assert Recipe().problems_for(fw) == []
    recipe = Recipe.from_dict({"weights": {"A": 2, "ZZ": 1}, "exclude": ["YY"],
                               "normalise": "goalposts"})
    found = recipe.problems_for(fw, file="r.yaml")
    assert [(p.code, p.column, p.indicator) for p in found] == [
        ("recipe.unknown_node", "weights", "ZZ"), ("recipe.unknown_node", "exclude", "YY"),
        ("recipe.needs_goalposts", "normalise.method", "B")]  # C is not scored: it needs none
    assert all(p.file == "r.yaml" for p in found)
    assert "(B)" in found[2].message
    target = Recipe.from_dict({"normalise": "distance_to_target"}).problems_for(fw)
    assert [(p.code, p.indicator) for p in target] == [("recipe.needs_target", "B")]
    # an excluded indicator needs no goalposts
    assert Recipe.from_dict({"normalise": "goalposts", "exclude": ["B"]}).problems_for(fw) == []


def test_needs_goalposts_names_every_indicator_of_a_shipped_edition():
    fw = load_edition("dti-province-2022").framework
    problems = Recipe.from_dict({"normalise": "goalposts"}).problems_for(fw)
    problem = one(problems)
    assert problem.code == "recipe.needs_goalposts" and problem.column == "normalise.method"
    assert "TCS" in problem.message


# -- 2. frameworks -------------------------------------------------------------------------------


def framework_problems(tmp_path: Path, text: str, name: str = "fw.yaml") -> list[Problem]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FrameworkError) as caught:
        load_framework(path)
    assert all(p.file == name for p in caught.value.problems)
    return caught.value.problems


def yaml_framework(a: str = "parents: [T]", head: str = "") -> str:
    return (f"id: t\n{head}nodes:\n  - {{code: A, name_vi: A, weight: 1, {a}}}\n"
            "  - {code: B, name_vi: B, weight: 1, parents: [T]}\n"
            "  - {code: T, name_vi: T, level: 2, type: aggregate}\n")


@pytest.mark.parametrize("parents", ["5", "{a: 1}", "[T, [x]]", "true"])
def test_parents_that_are_not_codes(tmp_path, parents):
    problem = one(framework_problems(tmp_path, yaml_framework(f"parents: {parents}")))
    assert (problem.code, problem.row, problem.column, problem.indicator) == (
        "node.bad_parents", 1, "parent", "A")


@pytest.mark.parametrize("goalposts", ["5", "{a: 1}", "[1]", "[1, 2, 3]", "[null, 3]"])
def test_goalposts_that_are_not_a_pair(tmp_path, goalposts):
    problem = one(framework_problems(tmp_path,
                                     yaml_framework(f"parents: [T], goalposts: {goalposts}")))
    assert (problem.code, problem.row, problem.indicator) == ("node.bad_goalposts", 1, "A")


def test_a_table_with_only_one_goalpost(tmp_path):
    table = ("code,name,level,parent,weight,type,goal_lower\nA,A,1,T,1,indicator,5\n"
             "B,B,1,T,1,indicator,\nT,T,2,,,aggregate,\n")
    problem = one(framework_problems(tmp_path, table, "fw.csv"))
    assert (problem.code, problem.row, problem.column, problem.indicator) == (
        "node.bad_goalposts", 2, "goalpost_upper", "A")


@pytest.mark.parametrize("precision", ["abc", "-1", "2.5", "99", "[4]"])
def test_precision_that_is_not_a_number_of_decimals(tmp_path, precision):
    problem = one(framework_problems(tmp_path, yaml_framework(head=f"precision: {precision}\n")))
    assert (problem.code, problem.column) == ("framework.bad_precision", "precision")


def test_precision_as_text_is_read():
    fw = framework_from_dict({**SMALL, "precision": "4"})
    assert fw.precision == 4


@pytest.mark.parametrize("scored", ['"nope"', "maybe", "2", "[true]"])
def test_scored_that_is_not_a_yes_or_no(tmp_path, scored):
    problem = one(framework_problems(tmp_path, yaml_framework(f"parents: [T], scored: {scored}")))
    assert (problem.code, problem.row, problem.column, problem.indicator) == (
        "node.bad_scored", 1, "scored", "A")


@pytest.mark.parametrize("word, value", [("không", False), ("Không", False), ("no", False),
                                         ("0", False), ("có", True), ("YES", True), ("1", True)])
def test_scored_words(tmp_path, word, value):
    path = tmp_path / "fw.csv"
    path.write_text("code,name,level,parent,weight,type,scored\n"
                    f"A,A,1,T,1,indicator,{word}\nB,B,1,T,1,indicator,\nT,T,2,,,aggregate,\n",
                    encoding="utf-8")
    assert load_framework(path)["A"].scored is value


def test_a_numeric_parent_cell_of_a_workbook_is_a_code(tmp_path):
    path = tmp_path / "fw.xlsx"
    book = openpyxl.Workbook()
    for row in (["code", "name", "level", "parent", "weight", "type"],
                ["A", "A", 1, 10, 1, "indicator"], [10, "T", 2, None, None, "aggregate"]):
        book.active.append(row)
    book.save(path)
    assert load_framework(path)["A"].parents == ("10",)


@pytest.mark.parametrize("name", ["missing.yaml", "missing.csv", "missing.xlsx"])
def test_a_missing_framework_file(tmp_path, name):
    with pytest.raises(FrameworkError) as caught:
        load_framework(tmp_path / name)
    problem = one(caught.value.problems)
    assert problem.code == "file.not_found" and problem.file.endswith(name)


@pytest.mark.parametrize("name", ["folder.yaml", "folder.csv", "folder"])
def test_a_framework_path_that_is_a_folder(tmp_path, name):
    (tmp_path / name).mkdir()
    with pytest.raises(FrameworkError) as caught:
        load_framework(tmp_path / name)
    problem = one(caught.value.problems)
    assert problem.code == "file.is_directory" and problem.file.endswith(name)


def test_framework_level_aggregation_and_root_are_checked(tmp_path):
    problems = framework_problems(tmp_path, yaml_framework(head="aggregation: mean\nroot: [T]\n"))
    assert sorted((p.code, p.column) for p in problems) == [
        ("aggregate.bad_method", "aggregation"), ("framework.ambiguous_root", None)]


# -- 3. tables -----------------------------------------------------------------------------------


def table(tmp_path: Path, data: bytes, name: str = "t.csv") -> tuple[list, list[Problem]]:
    path = tmp_path / name
    path.write_bytes(data)
    rows, problems = read_table(path)
    assert not (rows and problems)
    return rows, problems


def test_a_table_path_that_is_a_folder(tmp_path):
    (tmp_path / "values.csv").mkdir()
    rows, problems = read_table(tmp_path / "values.csv")
    assert rows == [] and codes(problems) == ["file.is_directory"]


def test_an_unreadable_table(tmp_path, monkeypatch):
    path = tmp_path / "locked.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")

    def refuse(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", refuse)
    rows, problems = read_table(path)
    problem = one(problems)
    assert rows == [] and problem.code == "file.unreadable" and problem.file == "locked.csv"
    assert "Permission denied" in problem.message


def test_a_cell_over_the_csv_field_limit(tmp_path):
    rows, problems = table(tmp_path, b"a,b\n1,2\n3,\"" + b"x" * 140_000 + b"\"\n")
    problem = one(problems)
    assert (problem.code, problem.row) == ("file.bad_csv", 3)
    assert "131,072" in problem.message


def test_an_unclosed_quote_is_found_where_it_opens(tmp_path):
    text = ("code,province,a,b\n21,Hà Nội,0.9,0.8\n22,\"Quảng Ninh,0.9,0.8\n"
            "23,Hải Phòng,0.9,0.8\n24,Đà Nẵng,0.9,0.8\n")
    rows, problems = table(tmp_path, text.encode())
    problem = one(problems)
    assert (problem.code, problem.row, problem.file) == ("file.bad_csv", 3, "t.csv")
    assert "opened at line 3 is never closed" in problem.message


def test_an_unclosed_quote_after_a_multi_line_cell(tmp_path):
    rows, problems = table(tmp_path, b'a,b\n1,"two\nlines"\n2,"open\n3,x\n')
    problem = one(problems)
    assert (problem.code, problem.row) == ("file.bad_csv", 3)  # row 3 starts at line 4
    assert "opened at line 4" in problem.message


def test_quotes_that_do_not_pair_up(tmp_path):
    rows, problems = table(tmp_path, b'a,b\n1,"x\n2,"y",z\n')
    problem = one(problems)
    assert (problem.code, problem.row) == ("file.bad_csv", 2)
    assert "lines 2 to 3" in problem.message


def test_a_doubled_quote_and_a_multi_line_cell_are_fine(tmp_path):
    rows, problems = table(tmp_path, b'a;b\n"x""y";"two\nlines"\n3;4\n')
    assert problems == []
    assert [(r["__row__"], r["a"], r["b"]) for r in rows] == [(2, 'x"y', "two\nlines"),
                                                              (3, "3", "4")]


def test_blank_lines_above_the_header_are_skipped_and_rows_keep_their_numbers(tmp_path):
    rows, problems = table(tmp_path, b"\n ;\n\na;b\n1;2\n\n3;4\n")
    assert problems == []
    assert [(r["__row__"], r["a"], r["b"]) for r in rows] == [(5, "1", "2"), (7, "3", "4")]
    grid, problems = read_grid(tmp_path / "t.csv")
    assert problems == [] and grid.header_row == 4


def test_blank_rows_above_the_header_of_a_workbook(tmp_path):
    path = tmp_path / "t.xlsx"
    book = openpyxl.Workbook()
    book.active["A3"], book.active["B3"], book.active["A4"], book.active["B4"] = "a", "b", 1, 2
    book.save(path)
    rows, problems = read_table(path)
    assert problems == [] and [(r["__row__"], r["a"], r["b"]) for r in rows] == [(4, 1, 2)]


def test_a_header_problem_names_the_header_row(tmp_path):
    rows, problems = table(tmp_path, b"\n\na,a\n1,2\n")
    problem = one(problems)
    assert (problem.code, problem.row, problem.column) == ("table.duplicate_header", 3, "a")


def test_every_undecodable_line_is_reported(tmp_path):
    data = "a,b\n1,Khánh Hoà\n2,ok\n3,Hà Nội\n".encode("utf-8")
    data = data.replace("Khánh".encode(), b"Kh\xe1nh").replace("Hà".encode(), b"H\xe0")
    rows, problems = table(tmp_path, data)
    assert [(p.code, p.row) for p in problems] == [("file.encoding", 2), ("file.encoding", 4)]
    assert problems[0].message == ("the file is not UTF-8 (bad byte 0xe1 at line 2); save it as "
                                   "'CSV UTF-8'")


@pytest.mark.parametrize("data", ["a,b\n1,2\n".encode("utf-16"), b"a\x00,b\n1,2\n"])
def test_utf16_or_nul_bytes_are_one_problem(tmp_path, data):
    rows, problems = table(tmp_path, data)
    assert codes(problems) == ["file.encoding"]


def test_table_from_bytes_reads_like_read_table():
    rows, problems = table_from_bytes(b"\xef\xbb\xbfcode,name\n01,A\n", "shipped.csv")
    assert problems == [] and rows == [{"__row__": 2, "code": "01", "name": "A"}]
    rows, problems = table_from_bytes(b'code,name\n01,"A\n', "shipped.csv")
    assert rows == [] and [(p.code, p.file) for p in problems] == [("file.bad_csv", "shipped.csv")]


# -- 4. numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["1e400", "-1e400", "nan", "NaN", "inf", "-inf", "Infinity",
                                  float("nan"), float("inf"), 10 ** 400])
def test_non_finite_numbers_are_not_numbers(cell):
    assert isinstance(parse_number(cell), str)


def test_non_finite_values_in_a_data_file_are_reported(tmp_path):
    fw = load_edition("dti-province-2022").framework
    path = tmp_path / "v.csv"
    path.write_text("province,NTS,TCS,HTS,NLS,ATTT,HDCQS,HDKTS,HDXHS\n"
                    "Hà Nội,0.9,1e400,0.7,0.6,nan,0.8,0.7,inf\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        read_values(path, fw, load_unit_set("provinces-63"))
    assert [(p.code, p.row, p.column, p.value) for p in caught.value.problems] == [
        ("data.not_a_number", 2, "TCS", "1e400"), ("data.not_a_number", 2, "ATTT", "nan"),
        ("data.not_a_number", 2, "HDXHS", "inf")]


# -- 5. unit sets read through dti.tabular -------------------------------------------------------


def unit_problems(path: Path) -> list[Problem]:
    with pytest.raises(InputError) as caught:
        UnitSet.from_csv(path, "x")
    return caught.value.problems


def test_a_units_file_with_an_unclosed_quote(tmp_path):
    path = tmp_path / "units.csv"
    path.write_text('code,name\nA,Bộ A\nB,"Bộ B\nC,Bộ C\n', encoding="utf-8")
    problem = one(unit_problems(path))
    assert (problem.code, problem.row, problem.file) == ("file.bad_csv", 3, "units.csv")


def test_a_units_path_that_is_a_folder(tmp_path):
    (tmp_path / "units.csv").mkdir()
    assert codes(unit_problems(tmp_path / "units.csv")) == ["file.is_directory"]


def test_units_rows_are_numbered_like_every_other_table(tmp_path):
    # blank lines above the header, and a multi-line cell: spreadsheet rows, not file lines
    path = tmp_path / "units.csv"
    path.write_text('\n\ncode,name,note\nA,Bộ A,"two\nlines"\nA,Bộ B,\n', encoding="utf-8")
    problem = one(unit_problems(path))
    assert (problem.code, problem.row) == ("units.duplicate_code", 5)
    assert "already used in row 4" in problem.message
    header = tmp_path / "header.csv"
    header.write_text("\nid,name\nX,Y\n", encoding="utf-8")
    assert [(p.code, p.row) for p in unit_problems(header)] == [("units.missing_column", 2)]


def test_units_encoding_messages_are_those_of_every_table(tmp_path):
    path = tmp_path / "units.csv"
    path.write_bytes(b"code,name\nA,B\xf4 A\n")
    problem = one(unit_problems(path))
    rows, problems = read_table(path)
    assert problem == one(problems)


def test_a_units_workbook_is_read(tmp_path):
    path = tmp_path / "units.xlsx"
    book = openpyxl.Workbook()
    for row in (["code", "name", "region"], [1, "Bộ A", "Bắc"], ["B", "Bộ B", "Nam"]):
        book.active.append(row)
    book.save(path)
    units = UnitSet.from_csv(path, "ministries")
    assert units.codes == ("1", "B") and units.resolve("bo a") == "1"


def test_shipped_unit_sets_still_load_through_tabular():
    assert len(load_unit_set("provinces-63")) == 63 and len(load_unit_set("provinces-34")) == 34


# -- more of the same: unreadable files of every kind, recipes that round-trip -------------------


def test_an_unreadable_workbook(tmp_path, monkeypatch):
    path = tmp_path / "t.xlsx"
    openpyxl.Workbook().save(path)

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)
    rows, problems = read_table(path)
    assert [(p.code, p.file) for p in problems] == [("file.unreadable", "t.xlsx")]


def test_an_unreadable_yaml_framework(tmp_path, monkeypatch):
    path = tmp_path / "fw.yaml"
    path.write_text(yaml_framework(), encoding="utf-8")

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_text", refuse)
    with pytest.raises(FrameworkError) as caught:
        load_framework(path)
    assert [(p.code, p.file) for p in caught.value.problems] == [("file.unreadable", "fw.yaml")]


@pytest.mark.parametrize("raw", [["a"], "nodes", 5])
def test_a_framework_that_is_not_a_mapping(raw):
    with pytest.raises(FrameworkError) as caught:
        framework_from_dict(raw, file="fw.yaml")
    assert [(p.code, p.file) for p in caught.value.problems] == [("yaml.not_mapping", "fw.yaml")]


def test_shipped_recipes_round_trip_and_fit_their_frameworks():
    from dti.editions import edition_ids

    for edition_id in edition_ids():
        edition = load_edition(edition_id)
        assert Recipe.from_dict(edition.recipe.to_dict()) == edition.recipe
        assert edition.recipe.problems_for(edition.framework) == []


def test_an_undecodable_header_is_reported_not_replaced_by_the_next_row(tmp_path):
    rows, problems = table(tmp_path, b"m\xe3,t\xean\nA,B\n")
    assert [(p.code, p.row) for p in problems] == [("file.encoding", 1)]
    path = tmp_path / "units.csv"
    path.write_bytes(b"code,t\xean\nA,B\n")
    assert [(p.code, p.row) for p in unit_problems(path)] == [("file.encoding", 1)]


def test_lone_carriage_returns_end_lines(tmp_path):
    rows, problems = table(tmp_path, b"a,b\r1,2\r\n3,4\r5,6")
    assert problems == [] and [(r["__row__"], r["a"]) for r in rows] == [(2, "1"), (3, "3"),
                                                                           (4, "5")]


def test_encoding_and_quote_problems_are_reported_together(tmp_path):
    rows, problems = table(tmp_path, b'a,b\n1,H\xe0\n2,"open\n3,x\n')
    assert [(p.code, p.row) for p in problems] == [("file.encoding", 2), ("file.bad_csv", 3)]
