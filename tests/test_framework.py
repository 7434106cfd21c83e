"""Framework loading (YAML, CSV, XLSX) and checks, and the shipped editions' structure."""

from __future__ import annotations

import math
from pathlib import Path

import openpyxl
import pytest

from dti.editions import edition_ids, load_edition
from dti.errors import FrameworkError
from dti.framework.checks import check_framework
from dti.framework.load import load_framework

GOOD_TABLE = """code,name,level,parent,weight,direction,type
pop,Population,,,,,denominator
region,Region,,,,,group
i1,Broadband,1,P1,1,1,indicator
i2,Cost of access,1,P1;P2,2,-1,indicator
i3,E-services,1,P2,1,1,indicator
P1,Access,2,INDEX,1,,aggregate
P2,Use,2,INDEX,1,,aggregate
INDEX,Index,3,,,,aggregate
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_table_framework_loads_with_several_parents(tmp_path):
    fw = load_framework(write(tmp_path, "fw.csv", GOOD_TABLE))
    assert [n.code for n in fw.indicators] == ["i1", "i2", "i3"]
    assert fw["i2"].parents == ("P1", "P2")
    assert fw["i2"].direction == -1 and fw["i2"].weight == 2.0
    assert fw.root.code == "INDEX"
    assert [n.code for n in fw.aggregates][-1] == "INDEX"
    assert fw.children["P1"] == ("i1", "i2")
    assert [d.code for d in fw.denominators] == ["pop"] and [g.code for g in fw.groups] == ["region"]


def test_coinr_column_names_are_accepted(tmp_path):
    text = GOOD_TABLE.replace("code,name,level,parent,weight,direction,type",
                              "iCode,iName,Level,Parent,Weight,Direction,Type")
    fw = load_framework(write(tmp_path, "imeta.csv", text))
    assert fw["i3"].parents == ("P2",) and fw["P1"].level == 2


def test_xlsx_framework_loads(tmp_path):
    book = openpyxl.Workbook()
    for line in GOOD_TABLE.strip().splitlines():
        book.active.append([c if c else None for c in line.split(",")])
    path = tmp_path / "fw.xlsx"
    book.save(path)
    fw = load_framework(path)
    assert fw["i2"].parents == ("P1", "P2") and fw["INDEX"].level == 3


def test_every_problem_is_reported_at_once_with_rows(tmp_path):
    text = """code,name,level,parent,weight,direction,type
i1,One,1,P1,1,1,indicator
i1,One again,1,P1,1,1,indicator
i2,Two,1,NOPE,1,1,indicator
i3,Three,1,P1,,1,indicator
i4,Four,1,P1,1,2,indicator
P1,Pillar,2,P2,1,,aggregate
P2,Loop,3,P1,1,,aggregate
E,Empty,2,,1,,aggregate
"""
    with pytest.raises(FrameworkError) as caught:
        load_framework(write(tmp_path, "bad.csv", text))
    found = {(p.code, p.row, p.indicator) for p in caught.value.problems}
    assert ("node.duplicate_code", 3, "i1") in found
    assert ("node.unknown_parent", 4, "i2") in found
    assert ("node.missing_weight", 5, "i3") in found
    assert ("node.bad_direction", 6, "i4") in found
    assert ("node.parent_level", 8, "P2") in found
    assert any(c == "node.cycle" for c, _, _ in found)
    assert ("aggregate.no_children", 9, "E") in found
    messages = [str(p) for p in caught.value.problems]
    assert "bad.csv, row 4, column 'parent', indicator 'i2': parent 'NOPE' of 'i2' is not a code " \
           "in this framework; correct it, or add a row for that aggregate [node.unknown_parent]" \
        in messages
    assert any("the parents form a cycle: P1 → P2 → P1" in m or "P2 → P1 → P2" in m
               for m in messages)


def test_missing_columns_are_named(tmp_path):
    with pytest.raises(FrameworkError) as caught:
        load_framework(write(tmp_path, "fw.csv", "code,parent\ni1,P\n"))
    assert {p.column for p in caught.value.problems} == {"name_vi", "level", "type"}


def test_leaf_without_data_column(tmp_path):
    fw = load_framework(write(tmp_path, "fw.csv", GOOD_TABLE))
    problems = check_framework(fw, file="fw.csv", data_columns=["unit", "i1", "i3", "pop"])
    assert [(p.code, p.indicator) for p in problems] == [("data.missing_column", "i2")]


def test_yaml_syntax_error_is_located(tmp_path):
    with pytest.raises(FrameworkError) as caught:
        load_framework(write(tmp_path, "fw.yaml", "id: x\nnodes:\n  - {code: a, name_vi: A\n"))
    problem = caught.value.problems[0]
    assert problem.code == "yaml.syntax" and problem.file == "fw.yaml" and problem.row == 4


def test_not_utf8_framework(tmp_path):
    path = tmp_path / "fw.csv"
    path.write_bytes(GOOD_TABLE.replace("Cost", "Chi phí").encode("cp1258"))
    with pytest.raises(FrameworkError) as caught:
        load_framework(path)
    assert caught.value.problems[0].code == "file.encoding"
    assert "save it as 'CSV UTF-8'" in caught.value.problems[0].message


@pytest.mark.parametrize("edition_id", edition_ids())
def test_every_shipped_edition_loads_and_names_are_nfc(edition_id):
    import unicodedata

    edition = load_edition(edition_id)
    for node in edition.framework.nodes:
        assert unicodedata.is_normalized("NFC", node.name_vi), node.code
        assert node.name_vi and node.name_en
    assert edition.legal_basis.startswith("Quyết định")


def test_decision_922_points_and_pillars():
    fw = load_edition("dti-province-2022").framework
    scored = [n for n in fw.indicators if n.scored]
    assert sum(n.max_points for n in scored) == 1000
    assert fw["DTTM"].scored is False and fw["DTTM"].max_points == 0
    for pillar, own, total in (("CQS", "HDCQS", 700), ("KTS", "HDKTS", 650), ("XHS", "HDXHS", 650)):
        kids = [fw[c] for c in fw.children[pillar] if fw[c].scored]
        assert sum(k.max_points for k in kids) == total == fw[pillar].max_points
        assert own in fw.children[pillar]
    assert set(fw["NTS"].parents) == {"NEN_TANG", "CQS", "KTS", "XHS"}


def test_unknown_points_are_said_not_invented():
    fw2024 = load_edition("dti-province-2024").framework
    assert all(n.max_points is None for n in fw2024.indicators)
    assert fw2024.root.compute == "data" and "chưa được công bố" in fw2024.meta["unknown"]
    fw2020 = load_edition("dti-province-2020").framework
    assert [fw2020[p].max_points for p in ("CQS", "KTS", "XHS")] == [400, 300, 300]
    assert len(fw2020.indicators) == 21 and all(n.max_points is None for n in fw2020.indicators)


def test_published_empty_cells_stay_not_published():
    results = load_edition("dti-province-2022").results()
    assert len(results.ranks["DTI"]) == 63
    assert results.score("DTI", "48") == 0.8002
    assert results.score("DTI", "20") is None  # Lạng Sơn: rank 6 published, value not
    assert results.rank("DTI", "20") == 6
    dataset = load_edition("dti-province-2022").dataset()
    row = dataset.units.index("20")
    assert all(math.isnan(v) for v in dataset.values[row])


def test_published_ties_in_2022():
    ranks = load_edition("dti-province-2022").results().ranks["DTI"]
    assert sorted(ranks.values()).count(15) == 2 and 16 not in ranks.values()


def test_2024_is_published_on_both_bases():
    edition = load_edition("dti-province-2024")
    assert edition.bases == ("provinces-34", "provinces-63")
    assert edition.results("provinces-34").score("DTI", "01") == 0.8241
    assert edition.results("provinces-63").score("DTI", "48") == 0.8335
    assert edition.merge_rule == "mean_of_main_indicators"
