"""The ILLUSTRATIVE ministry-level framework and catalogue, checked against each other."""

from __future__ import annotations

import io
import unicodedata

import pytest

from dti.editions import _load_framework
from dti.scoring import (
    ILLUSTRATIVE_MINISTRY,
    catalogue_csv,
    catalogue_from_bytes,
    illustrative_catalogue,
    illustrative_catalogue_for,
    illustrative_ministry_catalogue,
    write_catalogue_xlsx,
)

FRAMEWORK_FILE = "frameworks/ministry-minh-hoa.yaml"


@pytest.fixture(scope="module")
def framework():
    return _load_framework(FRAMEWORK_FILE)


def mains_of(framework):
    return {n.code: n for n in framework.nodes if n.role == "main"}


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from strings(v)


def looks_like_mojibake(text: str) -> bool:
    """UTF-8 read as cp1252 ("Nháº­n thá»©c") turns back into other text when re-encoded."""
    if "\ufffd" in text or "áº" in text or "á»" in text or "Ä‘" in text:
        return True
    try:
        return text.encode("cp1252").decode("utf-8") != text
    except UnicodeError:
        return False


def test_the_mojibake_check_can_fail():
    good = "Nhận thức số — Hoạt động chính phủ số"
    assert not looks_like_mojibake(good) and not looks_like_mojibake("ATTT.01")
    assert looks_like_mojibake(good.encode("utf-8").decode("cp1252", errors="replace"))


def test_framework_is_six_mains_adding_to_the_total(framework):
    mains = mains_of(framework)
    assert list(mains) == ["NTS", "TCS", "HTS", "NLS", "ATTT", "HDCPS"]
    assert all(n.level == 1 and n.scale == "ratio" and n.parents == ("DTI",) for n in mains.values())
    root = framework.root
    assert (root.code, root.role, root.method, root.max_points) == ("DTI", "total", "points", 1000)
    assert (root.name_vi, root.name_en) == ("Chỉ số DTI cấp bộ", "Ministry DTI")
    assert sum(n.max_points for n in mains.values()) == root.max_points
    assert not [n for n in framework.nodes if n.role == "pillar"]
    assert framework.meta["sub_indicators"] == 31
    assert "MINH HOẠ" in framework.meta["unknown"] and "ILLUSTRATIVE" in framework.meta["unknown_en"]


def test_catalogue_structure_follows_the_framework(framework):
    c = illustrative_ministry_catalogue()
    mains = mains_of(framework)
    assert (c.id, c.framework_id, c.illustrative) == ("dti-bo-minh-hoa", "ministry-minh-hoa", True)
    assert c.note_vi == "Bộ chỉ số thành phần cấp bộ minh hoạ — không phải bộ chỉ số chính thức"
    assert c.note_en == ("Illustrative ministry-level sub-indicator catalogue — not the official "
                         "catalogue")
    assert len(c.items) == framework.meta["sub_indicators"] == 31
    assert [m.code for m in c.mains] == list(mains)
    for main in c.mains:
        items = c.by_main()[main.code]
        assert items, main.code
        assert main.max_points == mains[main.code].max_points
        assert sum(i.max_points for i in items) == mains[main.code].max_points
        assert [i.code for i in items] == [f"{main.code}.{k:02d}" for k in range(1, len(items) + 1)]
    assert sum(m.max_points for m in c.mains) == framework.root.max_points == 1000
    assert all(i.scored and i.main_code in mains for i in c.items)
    assert {i.rule.kind for i in c.items} == {"ratio", "steps", "options", "yesno", "formula"}
    required = [i.evidence_required for i in c.items]
    assert any(required) and not all(required)


def test_every_string_is_nfc_and_readable():
    c = illustrative_ministry_catalogue()
    texts = list(strings(c.to_dict()))
    assert len(texts) > 300
    assert [t for t in texts if not unicodedata.is_normalized("NFC", t)] == []
    assert [t for t in texts if looks_like_mojibake(t)] == []
    english = [i.name_en for i in c.items] + [m.name_en for m in c.mains]
    assert all(e.isascii() for e in english)
    assert len(set(english)) == len(english)  # every English name written, none left as the Vietnamese


def test_round_trips_through_xlsx_and_csv(tmp_path):
    c = illustrative_ministry_catalogue()
    buffer = io.BytesIO()
    write_catalogue_xlsx(c, buffer)
    back = catalogue_from_bytes(buffer.getvalue(), "bo.xlsx", ILLUSTRATIVE_MINISTRY)
    assert back.to_dict() == c.to_dict() and back.checksum() == c.checksum()
    again = catalogue_from_bytes(catalogue_csv(c).encode("utf-8"), "bo.csv", ILLUSTRATIVE_MINISTRY)
    assert again.checksum() == c.checksum() != illustrative_catalogue().checksum()


def test_shipped_csv_is_what_the_writer_writes():
    from importlib import resources

    shipped = resources.files("dti.scoring").joinpath("data", "illustrative-ministry.csv").read_text(
        encoding="utf-8")
    assert shipped == catalogue_csv(illustrative_ministry_catalogue())


def test_illustrative_catalogue_for_picks_by_framework():
    assert illustrative_catalogue_for("ministry-minh-hoa") is illustrative_ministry_catalogue()
    assert illustrative_catalogue_for("qd-922-btttt") is illustrative_catalogue()
    assert illustrative_catalogue_for("qd-405-bkhcn") is None
    assert illustrative_catalogue_for("") is None


def best_answer(item):
    """The answer that earns the most points under the item's rule, built from the rule alone."""
    rule, fields = item.rule, item.rule.fields
    if rule.kind == "ratio":
        return {fields[0].name: 1, fields[1].name: 1}
    if rule.kind == "yesno":
        return {"value": True}
    if rule.kind == "steps":
        return {fields[0].name: 1e6}
    if rule.kind == "options":
        return {"choice": max(fields[0].options, key=lambda o: o.fraction).key}
    # formula: the best of a few candidate values for each (single) field
    assert len(fields) == 1, item.code
    return max(({fields[0].name: v} for v in (0, 1, 10, 100, 1e6)),
               key=lambda a: item.points(a) or 0.0)


def test_best_answers_score_every_main_full_and_total_1000(framework):
    c = illustrative_ministry_catalogue()
    points = c.points({i.code: best_answer(i) for i in c.items})
    assert all(points[i.code] == i.max_points for i in c.items), \
        {i.code: points[i.code] for i in c.items if points[i.code] != i.max_points}
    values = c.main_values(points)
    assert values == {code: 1.0 for code in mains_of(framework)}
    mains = mains_of(framework)
    assert sum(values[code] * mains[code].max_points for code in values) == 1000


def test_a_worse_answer_scores_less():
    c = illustrative_ministry_catalogue()
    answers = {i.code: best_answer(i) for i in c.items}
    answers["HDCPS.01"] = {"a": 30, "b": 60}  # half the procedures fully online: 40 of 80 points
    answers["NTS.01"] = {"choice": "chua_thanh_lap"}
    points = c.points(answers)
    assert (points["HDCPS.01"], points["NTS.01"]) == (40.0, 0.0)
    assert sum(p for p in points.values() if p is not None) == 1000 - 40 - 20
