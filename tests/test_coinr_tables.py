"""COINr's own tables, iMeta and iData, taken as they are (COINr 1.1.14's ASEM example).

The tables are read as a COINr user has them (tests/data/coinr-asem, with its SOURCE note): the
framework from iMeta, units, names, periods, groups and denominators from iData, and the same
files refused alike by ``dti framework check --data`` and ``dti compute``.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from dti.cli import main
from dti.errors import DataError, FrameworkError
from dti.framework.load import load_framework
from dti.io.data_units import units_in_data
from dti.io.periods import read_periods
from dti.io.values import read_values

ASEM = Path(__file__).parent / "data" / "coinr-asem"
IMETA = ASEM / "ASEM_iMeta.csv"
IDATA = ASEM / "ASEM_iData.csv"

# COINr's build_example_coin() order, in this package's recipe keys.
COINR_ORDER = """\
denominate: {}
impute: {method: group_mean, group: EurAsia_group}
screen: {min_availability: 0.9, after: impute}
treat: {method: jrc, max_points: 5, skew: 2, kurtosis: 3.5, fallback: log_ct}
normalise: {method: minmax, lower: 0, upper: 100}
aggregate: {method: arithmetic}
"""
# The same without the two engine options COINr's order needs (screening after imputation and
# the log_CT fallback): what the table reading alone must make computable.
PLAIN = """\
impute: {method: group_mean, group: EurAsia_group}
treat: {method: jrc}
normalise: {method: minmax, lower: 0, upper: 100}
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def table(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def write_table(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def recipe(tmp_path: Path, text: str = PLAIN) -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def edited_imeta(tmp_path: Path, edits: dict[tuple[str, str], str]) -> Path:
    """iMeta with cells changed: {(iCode, column): new value}."""
    header, rows = table(IMETA)
    for row in rows:
        for (code, column), value in edits.items():
            if row["iCode"] == code:
                row[column] = value
    return write_table(tmp_path / "iMeta.csv", header, rows)


def panel(tmp_path: Path, change: tuple[str, str, float] = ("AUT", "LPI", 1.1)) -> Path:
    """ASEM as two periods: 2018 as shipped, 2019 with one value of one unit multiplied."""
    header, rows = table(IDATA)
    later = []
    for row in rows:
        copy = dict(row, Time="2019")
        if row["uCode"] == change[0]:
            copy[change[1]] = str(float(row[change[1]]) * change[2])
        later.append(copy)
    return write_table(tmp_path / "panel.csv", header, rows + later)


# -- iMeta -----------------------------------------------------------------------------------------


def test_imeta_loads_unchanged():
    fw = load_framework(IMETA)
    _, rows = table(IMETA)
    by_type = {t: {r["iCode"] for r in rows if r["Type"] == t} for t in
               ("Indicator", "Aggregate", "Denominator", "Group")}
    assert len(fw.indicators) == 49
    assert {n.code for n in fw.indicators} == by_type["Indicator"]
    assert {n.code for n in fw.denominators} == by_type["Denominator"] == {
        "Area", "Energy", "GDP", "Population"}
    assert {n.code for n in fw.groups} == by_type["Group"] == {
        "GDP_group", "GDPpc_group", "Pop_group", "EurAsia_group"}
    assert {n.code: n.level for n in fw.aggregates} == {
        "Physical": 2, "ConEcFin": 2, "Political": 2, "Instit": 2, "P2P": 2, "Environ": 2,
        "Social": 2, "SusEcFin": 2, "Conn": 3, "Sust": 3, "Index": 4}
    assert fw.root.code == "Index" and fw.children["Conn"] == (
        "Physical", "ConEcFin", "Political", "Instit", "P2P")
    assert fw["Flights"].denominator == "Population" and fw["LPI"].denominator is None
    assert fw["CostImpEx"].direction == -1 and fw["LPI"].direction == 1
    assert fw["LPI"].weight == 1.0 and fw["LPI"].unit == "Score 1-5"
    assert fw["LPI"].name_vi == "Logistics Performance Index"
    assert fw.meta["layout"] == "coinr"


def test_imeta_without_iname_names_nodes_by_code(tmp_path):
    header, rows = table(IMETA)
    header.remove("iName")
    for row in rows:
        del row["iName"]
    fw = load_framework(write_table(tmp_path / "iMeta.csv", header, rows))
    assert fw["LPI"].name_vi == "LPI" and fw["Index"].name_vi == "Index"


def test_broken_imeta_rows_are_located_with_their_columns(tmp_path):
    path = edited_imeta(tmp_path, {
        ("LPI", "Parent"): "Physicl", ("Ship", "Direction"): "2", ("Bord", "Type"): "Indicatr",
        ("Elec", "Weight"): "", ("Physical", "Level"): "1", ("Flights", "Denominator"): "Pop"})
    with pytest.raises(FrameworkError) as caught:
        load_framework(path)
    found = {(p.code, p.file, p.row, p.column, p.indicator) for p in caught.value.problems}
    # rows as a spreadsheet numbers them: the header is row 1, LPI row 2
    assert found == {
        ("node.unknown_parent", "iMeta.csv", 2, "Parent", "LPI"),
        ("node.unknown_denominator", "iMeta.csv", 3, "Denominator", "Flights"),
        ("node.bad_direction", "iMeta.csv", 4, "Direction", "Ship"),
        ("node.bad_type", "iMeta.csv", 5, "Type", "Bord"),
        ("node.missing_weight", "iMeta.csv", 6, "Weight", "Elec"),
        ("aggregate.bad_level", "iMeta.csv", 51, "Level", "Physical"),
    }
    said = {p.code: p.message for p in caught.value.problems}
    assert "write 1 when a higher value is better" in said["node.bad_direction"]
    assert "level 2 or above" in said["aggregate.bad_level"]
    assert "give it a weight" in said["node.missing_weight"]


# -- iData -----------------------------------------------------------------------------------------


def test_idata_reads_unchanged_with_units_names_groups_and_denominators():
    fw = load_framework(IMETA)
    units = units_in_data(IDATA)
    (period,) = read_periods(IDATA, fw, units, allow_missing=True)
    data = period.dataset
    _, rows = table(IDATA)
    assert period.time == "2018"
    assert len(units) == 51 and data.units == tuple(r["uCode"] for r in rows)
    assert units.get("AUT").name("en") == "Austria" and units.get("AUT").name("vi") == "Austria"
    assert set(data.groups) == {"GDP_group", "GDPpc_group", "Pop_group", "EurAsia_group"}
    assert dict(zip(data.units, data.groups["EurAsia_group"]))["AUT"] == "Europe"
    assert set(data.groups["EurAsia_group"]) == {"Europe", "Asia"}
    aut = data.units.index("AUT")
    assert data.column("Area")[aut] == 83871.0 and data.column("Population")[aut] == 8735.453
    assert data.column("LPI")[aut] == 4.097985
    ita = data.units.index("ITA")
    assert math.isnan(data.column("Poverty")[ita])   # empty in iData, kept missing


def test_without_group_rows_the_text_columns_of_idata_group_units(tmp_path):
    header, rows = table(IMETA)
    no_groups = write_table(tmp_path / "iMeta.csv", header,
                            [r for r in rows if r["Type"] != "Group"])
    fw = load_framework(no_groups)
    assert fw.groups == ()
    (period,) = read_periods(IDATA, fw, units_in_data(IDATA), allow_missing=True)
    assert set(period.dataset.groups) == {"GDP_group", "GDPpc_group", "Pop_group", "EurAsia_group"}


def test_a_numeric_column_unknown_to_the_framework_is_still_refused(tmp_path):
    header, rows = table(IMETA)
    fw = load_framework(write_table(tmp_path / "iMeta.csv", header,
                                    [r for r in rows if r["Type"] != "Group" and r["iCode"] != "LPI"
                                     and r["iCode"] != "NEET"]))
    with pytest.raises(DataError) as caught:
        read_periods(IDATA, fw, units_in_data(IDATA), allow_missing=True)
    assert {(p.code, p.column) for p in caught.value.problems} == {
        ("data.unknown_column", "LPI"), ("data.unknown_column", "NEET")}


# -- through the command -----------------------------------------------------------------------------


def test_compute_runs_on_the_tables_as_they_are(capsys, tmp_path):
    code, out, err = run(capsys, "compute", "--framework", IMETA, "--data", IDATA,
                         "--recipe", recipe(tmp_path), "--format", "json")
    assert code == 0, err
    payload = json.loads(out)
    names = {r["code"]: r["name"] for r in payload["results"]}
    assert len(names) == 51 and names["AUT"] == "Austria"
    assert payload["basis"] == "ASEM_iData"
    ranks = sorted(r["ranks"]["Index"] for r in payload["results"] if r["ranks"]["Index"])
    assert ranks == list(range(1, len(ranks) + 1)) and len(ranks) >= 40


@pytest.mark.parametrize("lang, unit, province", [("en", "Unit", "Province"),
                                                   ("vi", "Đơn vị", "Tỉnh")])
def test_the_table_of_a_custom_framework_heads_its_units_unit(capsys, tmp_path, lang, unit, province):
    code, out, err = run(capsys, "compute", "--framework", IMETA, "--data", IDATA,
                         "--recipe", recipe(tmp_path), "--lang", lang)
    assert code == 0, err
    assert unit in out and province not in out
    assert "Austria" in out and "Conn" in out and "Sust" in out


def test_coinr_build_order_keeps_all_51_units(capsys, tmp_path):
    """The acceptance of issue #13: COINr's build_example_coin() order on its own tables."""
    code, out, err = run(capsys, "compute", "--framework", IMETA, "--data", IDATA,
                         "--recipe", recipe(tmp_path, COINR_ORDER), "--format", "json")
    assert code == 0, err
    results = json.loads(out)["results"]
    assert len(results) == 51
    assert all(r["included"] and r["scores"]["Index"] is not None for r in results)


def test_custom_framework_does_not_default_to_the_provinces(capsys, tmp_path):
    """uCode AUT is no province code: with the 63 provinces named, every row is refused."""
    code, _, err = run(capsys, "compute", "--framework", IMETA, "--data", IDATA,
                       "--recipe", recipe(tmp_path), "--units", "provinces-63")
    assert code == 1 and "[data.unknown_unit]" in err
    code, _, err = run(capsys, "compute", "--framework", IMETA, "--data", IDATA,
                       "--recipe", recipe(tmp_path))
    assert code == 0, err


# -- panel data ----------------------------------------------------------------------------------


def test_panel_data_gives_one_result_per_time_in_order(capsys, tmp_path):
    path = panel(tmp_path)
    code, out, err = run(capsys, "compute", "--framework", IMETA, "--data", path,
                         "--recipe", recipe(tmp_path), "--format", "json")
    assert code == 0, err
    periods = json.loads(out)["periods"]
    assert [p["time"] for p in periods] == ["2018", "2019"]
    code, single, _ = run(capsys, "compute", "--framework", IMETA, "--data", IDATA,
                          "--recipe", recipe(tmp_path), "--format", "json")
    first = {r["code"]: r["scores"]["Index"] for r in periods[0]["results"]}
    alone = {r["code"]: r["scores"]["Index"] for r in json.loads(single)["results"]}
    assert first == alone   # 2018 is the shipped table, computed on its own
    later = {r["code"]: r["scores"]["Index"] for r in periods[1]["results"]}
    assert later["AUT"] != first["AUT"]   # 2019 has Austria's changed LPI


def test_panel_data_table_and_csv_show_the_time(capsys, tmp_path):
    path = panel(tmp_path)
    code, out, err = run(capsys, "compute", "--framework", IMETA, "--data", path,
                         "--recipe", recipe(tmp_path), "--lang", "en")
    assert code == 0, err
    assert 0 <= out.index("Time 2018") < out.index("Time 2019")
    code, out, _ = run(capsys, "compute", "--framework", IMETA, "--data", path,
                       "--recipe", recipe(tmp_path), "--lang", "vi")
    assert out.index("Kỳ 2018") < out.index("Kỳ 2019")
    code, out, _ = run(capsys, "compute", "--framework", IMETA, "--data", path,
                       "--recipe", recipe(tmp_path), "--format", "csv")
    lines = out.splitlines()
    assert lines[0].startswith("time,code,name,")
    assert [line.split(",")[0] for line in lines[1:]] == ["2018"] * 51 + ["2019"] * 51


def test_a_unit_twice_within_one_time_is_refused_with_both_rows(tmp_path):
    header, rows = table(IDATA)
    twice = write_table(tmp_path / "twice.csv", header,
                        rows + [dict(rows[0], Time="2019"), dict(rows[0], Time="2019")])
    with pytest.raises(DataError) as caught:
        read_periods(twice, load_framework(IMETA), units_in_data(twice), allow_missing=True)
    (problem,) = caught.value.problems
    assert (problem.code, problem.file, problem.row, problem.column) == (
        "data.duplicate_unit", "twice.csv", 54, "uCode")
    assert "row 53" in problem.message


def test_a_time_that_is_not_a_number_is_located(tmp_path):
    header, rows = table(IDATA)
    rows[2]["Time"] = "last year"
    rows[4]["Time"] = ""
    path = write_table(tmp_path / "bad_time.csv", header, rows)
    with pytest.raises(DataError) as caught:
        read_periods(path, load_framework(IMETA), units_in_data(path), allow_missing=True)
    assert [(p.code, p.row, p.column) for p in caught.value.problems] == [
        ("data.bad_time", 4, "Time"), ("data.missing_time", 6, "Time")]


def test_reading_one_period_refuses_a_panel(tmp_path):
    path = panel(tmp_path)
    with pytest.raises(DataError) as caught:
        read_values(path, load_framework(IMETA), units_in_data(path), allow_missing=True)
    assert [(p.code, p.column) for p in caught.value.problems] == [("data.several_periods", "Time")]


def test_commands_that_take_one_period_refuse_a_panel(capsys, tmp_path):
    code, _, err = run(capsys, "analyse", "audit", "--framework", IMETA, "--data", panel(tmp_path),
                       "--recipe", recipe(tmp_path))
    assert code == 1
    assert err.strip() == ("error: panel.csv: the data holds 2 periods (Time 2018, 2019); this "
                           "command takes one: keep the rows of one Time, or use dti compute, "
                           "which computes each [cli.several_periods]")


# -- framework check agrees with compute ------------------------------------------------------------


def _broken_inputs(tmp_path: Path) -> dict[str, tuple[Path, Path, Path]]:
    """Pairs of files each with one kind of problem, and the recipe to use with them."""
    header, rows = table(IDATA)
    plain = recipe(tmp_path)
    no_imputation = tmp_path / "no_imputation.yaml"
    no_imputation.write_text("normalise: {method: minmax}\n", encoding="utf-8")
    wrong_group = tmp_path / "wrong_group.yaml"
    wrong_group.write_text("impute: {method: group_mean, group: Continent}\n", encoding="utf-8")
    no_area = [h for h in header if h != "Area"]
    return {
        "bad iMeta": (edited_imeta(tmp_path, {("LPI", "Parent"): "Nowhere"}), IDATA, plain),
        "unit twice in a time": (IMETA, write_table(tmp_path / "twice.csv", header,
                                                    rows + [dict(rows[5])]), plain),
        "text in a value": (IMETA, write_table(tmp_path / "text.csv", header,
                                               [dict(rows[0], LPI="n/a"), *rows[1:]]), plain),
        "gaps and no imputation": (IMETA, IDATA, no_imputation),
        "group the data lacks": (IMETA, IDATA, wrong_group),
        "missing denominator": (IMETA, write_table(
            tmp_path / "no_area.csv", no_area,
            [{k: v for k, v in r.items() if k != "Area"} for r in rows]), plain),
        "aggregate given as data": (IMETA, write_table(
            tmp_path / "aggregate.csv", [*header, "Conn"], [dict(r, Conn="1") for r in rows]),
            plain),
    }


def test_check_and_compute_refuse_the_same_problems(capsys, tmp_path):
    for case, (framework, data, a_recipe) in _broken_inputs(tmp_path).items():
        check = run(capsys, "framework", "check", "--framework", framework, "--data", data,
                    "--recipe", a_recipe)
        compute = run(capsys, "compute", "--framework", framework, "--data", data,
                      "--recipe", a_recipe)
        assert check[0] == compute[0] == 1, case
        assert check[2] == compute[2] and check[2].startswith("error: "), case
        assert check[1] == compute[1] == "", case


def test_check_and_compute_pass_the_same_files(capsys, tmp_path):
    for data in (IDATA, panel(tmp_path)):
        check = run(capsys, "framework", "check", IMETA, "--data", data,
                    "--recipe", recipe(tmp_path))
        compute = run(capsys, "compute", "--framework", IMETA, "--data", data,
                      "--recipe", recipe(tmp_path), "--format", "json")
        assert check[0] == compute[0] == 0, (check[2], compute[2])
    assert "51 units, Time 2018, 2019" in check[1]


def test_check_without_data_still_checks_the_framework_alone(capsys, tmp_path):
    code, out, _ = run(capsys, "framework", "check", IMETA)
    assert code == 0 and "49 indicators, 11 aggregates, 4 levels, root Index" in out
    code, _, err = run(capsys, "framework", "check")
    assert code == 2 and "give the framework file" in err


def test_check_without_data_checks_the_recipe_against_the_framework(capsys, tmp_path):
    path = tmp_path / "weights.yaml"
    path.write_text("weights: {Physicl: 2}\n", encoding="utf-8")
    code, _, err = run(capsys, "framework", "check", IMETA, "--recipe", path)
    assert code == 1 and err.startswith("error: weights.yaml, column 'weights', indicator "
                                        "'Physicl'") and "[recipe.unknown_node]" in err


def test_validate_reads_idata_as_it_is(capsys, tmp_path):
    code, out, err = run(capsys, "validate", IDATA, "--framework", IMETA)
    assert code == 1 and "[data.missing_value]" in err   # validate does not impute: gaps count
    header, rows = table(IDATA)
    full = [r for r in rows if all(r[h] != "" for h in header)]
    path = write_table(tmp_path / "full.csv", header, full)
    code, out, err = run(capsys, "validate", path, "--framework", IMETA)
    assert code == 0, err
    assert f"full.csv: OK — {len(full)} units, 53 columns, Time 2018, valid for ASEM_iMeta.csv" \
        in out
