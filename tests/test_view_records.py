"""The frozen view records that the CLI, pages, PDF reports and API all render: each cannot be
changed once built, and each renders as the mapping its outputs show."""

from __future__ import annotations

import csv
import dataclasses
import io
import json

import pytest
from fastapi.testclient import TestClient

from dti.cli import main
from dti.editions import load_edition
from dti.engine.build import build
from dti.io.export import to_json
from dti.report.compare import EditionComparison, UnitChange, compare_editions
from dti.report.profile import HistoryEntry, RankChange, province_profile
from dti.report.results import Gap, Published, ResultRow, result_table
from dti.web import create_app
from dti.web.context import context_of
from dti.web.maps import MapRow, map_rows
from dti.web.snapshot import (ComparedFigure, HistoryRow, NodeFigure, NodeStats, RankingRow,
                              ScoreChange, ShownNode, province_history)
from dti.web.story import StoryEntry, StoryFigure, story

E2021 = "dti-province-2021"
E2022 = "dti-province-2022"


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


@pytest.fixture(scope="module")
def table_2022():
    edition = load_edition(E2022)
    return result_table(build(edition.dataset(), edition.framework, edition.recipe),
                        edition.units(), edition)


def _json_of(capsys, *argv: str) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


# ---------------------------------------------------------------- dti compute


def test_result_rows_and_gaps_are_frozen(table_2022):
    row, gap = table_2022.rows[0], table_2022.gaps[0]
    assert isinstance(row, ResultRow) and isinstance(gap, Gap)
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.name = "changed"
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.published.source = "changed"
    with pytest.raises(dataclasses.FrozenInstanceError):
        gap.difference = 0.0


def test_compute_json_is_the_records_mappings(capsys, table_2022):
    payload = _json_of(capsys, "compute", "--edition", E2022, "--format", "json")
    assert payload["results"] == [r.as_dict() for r in table_2022.rows]
    assert payload["gaps_to_published"] == [g.as_dict() for g in table_2022.gaps]
    # Hồ Chí Minh City: computed 0.7164 beside the published 0.7163, and the gap says so
    hcm = next(r for r in table_2022.rows if r.code == "79")
    assert (hcm.scores["DTI"], hcm.published_score("DTI")) == (0.7164, 0.7163)
    gap = next(g for g in table_2022.gaps if g.code == "79")
    assert (gap.node, gap.difference) == ("DTI", 0.0001)


def test_published_set_but_empty_stays_apart_from_not_set(capsys, table_2022):
    # 2022 published only a rank for most provinces: their published scores are set but empty
    rank_only = next(r for r in table_2022.rows if r.published.ranks and not r.published.scores)
    shown = rank_only.as_dict()
    assert shown["published"] == {} and shown["published_ranks"] == dict(rank_only.published.ranks)
    assert rank_only.published_score("DTI") is None
    # the synthetic data set sets no published figures: no published keys at all
    demo = _json_of(capsys, "compute", "--demo", "--format", "json")
    assert all(set(r) == {"code", "name", "included", "scores", "ranks"} for r in demo["results"])
    bare = ResultRow("01", "Hà Nội", True, {"DTI": 0.5}, {"DTI": 1})
    assert "published" not in bare.as_dict() and bare.published_rank("DTI") is None
    assert "published" in dataclasses.replace(bare, published=Published({}, {}, "")).as_dict()


def test_compute_csv_columns_read_the_records(capsys, table_2022):
    assert main(["compute", "--edition", E2022, "--format", "csv"]) == 0
    lines = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    by_code = {r.code: r for r in table_2022.rows}
    for line in lines:
        row = by_code[line["code"]]
        assert line["source"] == row.published.source
        assert line["published_rank_DTI"] == str(row.published_rank("DTI") or "")
        assert line["rank_DTI"] == str(row.ranks["DTI"] or "")


# ---------------------------------------------------------------- portal rankings


def test_ranking_rows_are_frozen_and_render_as_the_api_shows_them(client):
    ranking = context_of(client.app).catalogue.ranking(E2022)
    row = ranking.row("48")
    assert isinstance(row, RankingRow)
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.rank = 2
    api = client.get(f"/api/v1/editions/{E2022}/results").json()["results"]
    assert [r["code"] for r in api] == [r.code for r in ranking.rows]
    for shown, record in zip(api, ranking.rows):
        assert (shown["rank"], shown["value"], shown["previous_rank"], shown["change"]) == (
            record.rank, record.value, record.previous_rank, record.change)
        assert {k: f["value"] for k, f in shown["figures"].items()} == {
            k: f.value for k, f in record.figures.items()}
    # Đà Nẵng, first in 2021 and in 2022: no change, the total's figure repeated on the row
    assert (row.rank, row.previous_rank, row.change) == (1, 1, 0)
    assert row.value == row.figures["DTI"].value == 0.8002
    assert list(row.as_dict()) == ["code", "name_vi", "name_en", "name_ascii", "region",
                                   "figures", "rank", "value", "previous_rank", "change",
                                   "sources", "change_sources"]


def test_the_ranking_pages_json_twin_lists_the_rows_in_order(client):
    ranking = context_of(client.app).catalogue.ranking(E2022)
    data = client.get(f"/en/editions/{E2022}.json").json()
    assert [(r["code"], r["name"], r["rank"]) for r in data["results"]] == [
        (r.code, r.name_en, r.rank) for r in ranking.rows]


def test_shown_nodes_and_figures_are_frozen_and_are_what_the_json_twin_serves(client):
    ranking = context_of(client.app).catalogue.ranking(E2022)
    node, figure = ranking.columns[0], ranking.row("48").figures["DTI"]
    assert isinstance(node, ShownNode) and isinstance(figure, NodeFigure)
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.code = "X"
    with pytest.raises(dataclasses.FrozenInstanceError):
        figure.value = 0.0
    data = client.get(f"/editions/{E2022}.json").json()
    assert data["columns"] == [c.as_dict() for c in ranking.columns]
    assert list(data["columns"][0]) == ["code", "name_vi", "name_en", "short", "role", "max_points"]
    for shown, row in zip(data["results"], ranking.rows):
        assert shown["figures"] == {k: f.as_dict() for k, f in row.figures.items()}
        assert all(list(f) == ["value", "rank", "source", "sources"]
                   for f in shown["figures"].values())
    # a row's mapping is plain data all the way down: it needs no encoder of records
    assert json.loads(json.dumps(ranking.row("48").as_dict()))["figures"]["DTI"]["value"] == 0.8002
    assert ranking.column("DTI") is node and ranking.column("nothing") is None


def test_column_stats_are_records_over_the_values_present(client):
    ranking = context_of(client.app).catalogue.ranking(E2022)
    stats = ranking.column_stats["DTI"]
    assert isinstance(stats, NodeStats)
    with pytest.raises(dataclasses.FrozenInstanceError):
        stats.n = 0
    # Đà Nẵng's 0.8002 is the best total of 2022; only the units with a value are counted
    assert stats.best == 0.8002
    assert 0 < stats.n < len(ranking.rows) and stats.as_dict() == {
        "mean": stats.mean, "best": 0.8002, "n": stats.n}
    assert stats.mean < stats.best


def test_compared_figures_are_flat_records_and_the_profile_twins_read_them(client):
    ranking = context_of(client.app).catalogue.ranking(E2021)
    compared = ranking.compared("19")
    assert all(isinstance(f, ComparedFigure) for f in compared)
    with pytest.raises(dataclasses.FrozenInstanceError):
        compared[0].mean = 0.0
    keys = ["code", "name_vi", "name_en", "short", "role", "max_points", "value", "rank",
            "source", "sources", "mean", "best", "n"]
    assert all(list(f.as_dict()) == keys for f in compared)
    page = client.get(f"/provinces/19.json?edition={E2021}").json()
    assert page["figures"] == [f.as_dict() for f in compared]
    lines = list(csv.DictReader(io.StringIO(
        client.get(f"/provinces/19.csv?edition={E2021}").content.decode("utf-8-sig"))))
    assert list(lines[0]) == keys and [x["code"] for x in lines] == [f.code for f in compared]
    # Thái Nguyên 2021: total 0.496, rank 8, beside the best of the year
    total = compared[0]
    assert (total.code, total.value, total.rank) == ("DTI", 0.496, 8)
    assert total.best == ranking.column_stats["DTI"].best > total.value


def test_map_rows_are_frozen_and_the_map_twin_lists_their_summaries(client):
    catalogue = context_of(client.app).catalogue
    ranking = catalogue.ranking(E2022)
    by_rank = map_rows(ranking, "DTI", "en", "rank")
    assert all(isinstance(r, MapRow) for r in by_rank)
    with pytest.raises(dataclasses.FrozenInstanceError):
        by_rank[0].drawn = 0
    # drawn is the rank on the rank view and the score on the score view
    da_nang = next(r for r in by_rank if r.code == "48")
    assert (da_nang.drawn, da_nang.rank, da_nang.value) == (1, 1, 0.8002)
    assert next(r for r in map_rows(ranking, "DTI", "en") if r.code == "48").drawn == 0.8002
    data = client.get(f"/en/editions/{E2022}/map.json?show=rank").json()
    assert data["maps"][0]["results"] == [r.summary() for r in by_rank]
    assert list(data["maps"][0]["results"][0]) == ["code", "name", "value", "rank", "source", "href"]
    assert list(da_nang.as_dict()) == ["code", "name", "value", "drawn", "rank", "source",
                                       "sources", "href", "tip"]


def test_story_entries_are_frozen_and_the_story_twin_serves_their_mappings(client):
    told = story(context_of(client.app).catalogue, "19", "en")
    entries = told["entries"]
    assert entries and all(isinstance(e, StoryEntry) for e in entries)
    assert all(isinstance(f, StoryFigure) for e in entries for f in e.figures)
    with pytest.raises(dataclasses.FrozenInstanceError):
        entries[0].of = 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        entries[0].figures[0].rank = 0
    data = client.get("/en/provinces/19/story.json").json()
    assert data["entries"] == [e.as_dict() for e in entries]
    assert list(data["entries"][0]) == ["edition", "year", "basis", "name", "of", "previous_rank",
                                        "change", "figures"]
    assert list(data["entries"][0]["figures"][0]) == ["code", "value", "rank", "derived",
                                                      "sources", "third_party"]
    lines = client.get("/en/provinces/19/story.csv").content.decode("utf-8-sig").splitlines()
    assert len(lines) - 1 == sum(len(e.figures) for e in entries)
    # Thái Nguyên, 8th of 63 in 2021
    e2021 = next(e for e in entries if e.edition == E2021)
    assert (e2021.figures[0].code, e2021.figures[0].rank, e2021.of) == ("DTI", 8, 63)


# ---------------------------------------------------------------- dti compare


def test_an_edition_comparison_is_frozen_and_its_mapping_is_the_cli_output(capsys):
    comparison = compare_editions(E2021, E2022)
    assert isinstance(comparison, EditionComparison)
    assert all(isinstance(r, UnitChange) for r in comparison.results)
    with pytest.raises(dataclasses.FrozenInstanceError):
        comparison.results[0].rank_change = 0
    shown = _json_of(capsys, "compare", E2021, E2022, "--format", "json")
    assert shown == comparison.as_dict()
    assert list(shown) == ["before", "after", "basis", "method", "node", "results", "compared"]
    assert shown["compared"] == sum(r.rank_before is not None and r.rank_after is not None
                                    for r in comparison.results)
    # Thái Nguyên: 8th in 2021, 8th in 2022 (as its profile says)
    tn = next(r for r in comparison.results if r.code == "19")
    assert (tn.rank_before, tn.rank_after, tn.rank_change) == (8, 8, 0)


def test_a_unit_change_is_known_only_where_both_figures_are():
    moved = UnitChange.of("01", "Hà Nội", (0.5, 10, "published"), (0.625, 7, "computed"))
    assert (moved.score_change, moved.rank_change) == (0.125, 3)   # up three places
    half = UnitChange.of("01", "Hà Nội", (None, None, ""), (0.6, 2, "published"))
    assert (half.score_change, half.rank_change) == (None, None)
    assert list(moved.as_dict()) == ["code", "name", "score_before", "score_after",
                                     "score_change", "rank_before", "rank_after", "rank_change",
                                     "source_before", "source_after"]


# ---------------------------------------------------------------- history and score change


def test_history_rows_are_frozen_and_are_what_the_page_and_api_show(client):
    catalogue = context_of(client.app).catalogue
    history = province_history(catalogue, "19", "provinces-63")
    assert history and all(isinstance(h, HistoryRow) for h in history)
    with pytest.raises(dataclasses.FrozenInstanceError):
        history[0].rank = 99
    page = client.get(f"/provinces/19.json?edition={E2022}").json()
    assert page["history"] == [h.as_dict() for h in history]
    api = client.get("/api/v1/provinces/19/history?basis=provinces-63").json()["history"]
    assert api == [h.as_dict() for h in history]
    assert {h.year for h in history} >= {2021, 2022}
    # 2024 also ranked the 34 merged provinces: Thái Nguyên's successor, marked as another unit
    assert {(h.basis, h.of, h.same_unit) for h in history} == {
        ("provinces-63", 63, True), ("provinces-34", 34, False)}


def test_a_score_change_is_frozen_and_written_as_its_mapping():
    moved = ScoreChange("NTS", "Nhận thức số", "Digital awareness", 0.5, 0.6, 0.005)
    with pytest.raises(dataclasses.FrozenInstanceError):
        moved.contribution = 0.0
    assert json.loads(to_json({"score_change": [moved]})) == {"score_change": [
        {"code": "NTS", "name_vi": "Nhận thức số", "name_en": "Digital awareness",
         "before": 0.5, "after": 0.6, "contribution": 0.005}]}
    with pytest.raises(TypeError):   # anything else stays unserialisable, as json says
        to_json({"x": object()})


# ---------------------------------------------------------------- dti province


def test_profile_history_and_change_are_frozen_and_their_json_is_the_cli_output(capsys):
    profile = province_profile("Bình Phước", E2022)
    assert all(isinstance(h, HistoryEntry) for h in profile.history)
    assert isinstance(profile.change, RankChange)
    with pytest.raises(dataclasses.FrozenInstanceError):
        profile.history[0].value = 0.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        profile.change.places = 0
    shown = _json_of(capsys, "province", "Bình Phước", "--edition", E2022, "--format", "json")
    assert shown["history"] == [h.as_dict() for h in profile.history]
    assert shown["change"] == profile.change.as_dict()
    assert (profile.change.rank_before, profile.change.rank_after, profile.change.places) == (9, 12, -3)


def test_a_change_without_a_common_rank_says_why_in_four_keys(capsys):
    shown = _json_of(capsys, "province", "Hà Giang", "--edition", E2021, "--format", "json")
    change = province_profile("Hà Giang", E2021).change
    assert change.reason is not None and change.places is None
    assert shown["change"] == change.as_dict() == {
        "previous": change.previous, "basis": None, "places": None, "reason": change.reason}
