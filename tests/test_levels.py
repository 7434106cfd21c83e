"""The ministry-level and national DTI: bodies by date and the 2025 restructuring, the editions as
published (through the API, the static export and ``dti editions``), and refused results files."""

from __future__ import annotations

import csv
import json
import unicodedata
from importlib import resources
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dti.cli import main
from dti.editions.levels import level_edition_ids, load_level_edition, read_level_results
from dti.errors import DataError, UnknownUnitError
from dti.units import load_unit_set
from dti.units.bodies import bodies, change_text, find_body, successor
from dti.web import create_app
from dti.web.settings import Settings

MINISTRIES_CSV = Path(str(resources.files("dti.units"))) / "data" / "ministries.csv"
HEADER = "unit_vi,group,rank,score,note_vi,note,source_url,quote\n"
SOURCE = "https://example.org/dti"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(Settings()))


def results(client: TestClient, edition: str) -> dict:
    response = client.get(f"/api/v1/editions/{edition}/results")
    assert response.status_code == 200, response.text
    return response.json()


def row(payload: dict, name: str) -> dict:
    return next(r for r in payload["results"] if r["name_vi"] == name)


# -- acceptance figures through the API ---------------------------------------------------------

def test_ministry_2021_leads_each_group_as_published(client):
    payload = results(client, "dti-ministry-2021")
    assert payload["level"] == "ministry" and payload["basis"] == "ministries-2021"
    finance = row(payload, "Bộ Tài chính")
    assert (finance["value"], finance["rank"], finance["group"]) == (0.6321, 1, "with_public_services")
    vast = row(payload, "Viện Hàn lâm Khoa học và Công nghệ Việt Nam")
    assert (vast["value"], vast["rank"], vast["group"]) == (0.4736, 1, "without_public_services")
    assert "hanoimoi.vn" in finance["source_note"]


def test_ranks_are_within_each_group_and_follow_the_scores(client):
    payload = results(client, "dti-ministry-2021")
    for group in ("with_public_services", "without_public_services"):
        rows = [r for r in payload["results"] if r["group"] == group]
        ranks = [r["rank"] for r in rows]
        assert ranks == sorted(ranks) and ranks[0] == 1 and len(set(ranks)) == len(ranks)
        scores = [r["value"] for r in rows if r["value"] is not None]
        assert scores == sorted(scores, reverse=True)
    # a rank published without its score keeps the rank and an empty score
    mic = row(payload, "Bộ Thông tin và Truyền thông")
    assert (mic["rank"], mic["value"]) == (6, None)


def test_group_averages_are_carried_with_their_sources(client):
    payload = results(client, "dti-ministry-2021")
    averages = {(f["group"], f["measure"]): f for f in payload["group_figures"]}
    assert averages["with_public_services", "average_score"]["value"] == 0.4595
    assert averages["without_public_services", "average_score"]["value"] == 0.2151
    assert all(s["url"].startswith("https://") for f in payload["group_figures"] for s in f["sources"])
    assert [g["group"] for g in payload["groups"]] == ["with_public_services", "without_public_services"]
    assert payload["not_published"]["vi"] and payload["not_published"]["en"]


def test_the_national_series_as_published(client):
    values = {year: results(client, f"dti-national-{year}")["results"] for year in range(2020, 2025)}
    assert values[2020] == [] and values[2021] == []   # not published: no row, never 0
    assert [values[y][0]["value"] for y in (2022, 2023, 2024)] == [0.71, 0.7326, 0.7955]
    assert "as printed" in values[2022][0]["source_note"]
    national = results(client, "dti-national-2024")
    assert national["level"] == "national" and national["results"][0]["code"] == "VN"
    assert ("national", "change_pct_vs_prev") in {(f["group"], f["measure"])
                                                  for f in national["group_figures"]}


def test_a_rank_change_follows_the_same_group_across_editions(client):
    mpi = row(results(client, "dti-ministry-2022"), "Bộ Kế hoạch và Đầu tư")
    assert (mpi["previous_rank"], mpi["rank"], mpi["change"]) == (2, 1, 1)   # "tăng 1 bậc"


def test_a_level_edition_on_a_province_basis_is_not_found(client):
    response = client.get("/api/v1/editions/dti-ministry-2021/results?basis=provinces-63")
    assert response.status_code == 404 and "error" in response.json()


def test_structure_is_what_the_sources_state():
    assert dict(load_level_edition("dti-ministry-2021").structure) | {"source": ""} == {
        "main_indicators": 6, "sub_indicators": 70, "source": ""}
    ministry_2024 = load_level_edition("dti-ministry-2024").structure
    assert (ministry_2024["main_indicators"], ministry_2024["sub_indicators"],
            ministry_2024["max_points"]) == (6, 31, 1000)
    national_2024 = load_level_edition("dti-national-2024").structure
    assert national_2024["indicators"] == 12 and sum(national_2024["pillars"].values()) == 1000
    assert "max_points" not in load_level_edition("dti-ministry-2021").structure   # not published


def test_the_static_export_holds_the_level_results(tmp_path, capsys):
    out = tmp_path / "site"
    code, _, err = run(capsys, "export-site", "--edition", "dti-province-2020", "--out", str(out))
    assert code == 0, err
    ministry = json.loads((out / "api/v1/editions/dti-ministry-2020/results.json").read_text("utf-8"))
    assert row(ministry, "Bộ Tài chính")["value"] == 0.4944
    assert not (out / "api/v1/editions/dti-ministry-2021").exists()   # not published by then
    # no body appears among the provincial pages
    assert "Bộ Tài chính" not in (out / "editions/dti-province-2020/index.html").read_text("utf-8")


# -- the resolver ---------------------------------------------------------------------------------

def test_every_listed_spelling_resolves_to_its_body():
    with MINISTRIES_CSV.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(bodies()) > 20
    for r in rows:
        for spelling in [r["name_vi"], r["name_en"], r["name_ascii"], r["code"],
                         *r["also_known_as"].split(";")]:
            assert find_body(spelling).code == r["code"], spelling
        assert unicodedata.is_normalized("NFC", r["name_vi"])


@pytest.mark.parametrize("spelling, name", [
    ("BTC", "Bộ Tài chính"), ("Bộ TC", "Bộ Tài chính"), ("mof", "Bộ Tài chính"),
    ("NHNN", "Ngân hàng Nhà nước Việt Nam"), ("SBV", "Ngân hàng Nhà nước Việt Nam"),
    ("BHXH VN", "Bảo hiểm xã hội Việt Nam"), ("VAST", "Viện Hàn lâm Khoa học và Công nghệ Việt Nam"),
    ("VASS", "Viện Hàn lâm Khoa học xã hội Việt Nam"), ("Bo Tai chinh", "Bộ Tài chính"),
    ("Viện Hàn lâm KH&CN VN", "Viện Hàn lâm Khoa học và Công nghệ Việt Nam"),
])
def test_common_spellings(spelling, name):
    assert find_body(spelling).name_vi == name


@pytest.mark.parametrize("old, new", [
    ("Bộ Kế hoạch và Đầu tư", "Bộ Tài chính"),
    ("Bộ Thông tin và Truyền thông", "Bộ Khoa học và Công nghệ"),
    ("Bộ Giao thông vận tải", "Bộ Xây dựng"),
    ("Bộ Tài nguyên và Môi trường", "Bộ Nông nghiệp và Môi trường"),
    ("Bộ Nông nghiệp và Phát triển nông thôn", "Bộ Nông nghiệp và Môi trường"),
    ("Bộ Lao động - Thương binh và Xã hội", "Bộ Nội vụ"),
    ("Ủy ban Dân tộc", "Bộ Dân tộc và Tôn giáo"),
])
def test_a_merged_body_reports_its_successor(old, new):
    body = find_body(old)
    assert successor(body).name_vi == new
    assert change_text(body, "en").endswith("from 1 March 2025")
    assert f"→ {new} từ ngày 1/3/2025" in change_text(body, "vi")


def test_unit_sets_by_date():
    in_2021 = load_unit_set("ministries-2021")
    assert in_2021.resolve("MPI") == "BKHDT"
    assert in_2021.get("BTC").groups["group"] == "with_public_services"
    assert "BNNMT" not in in_2021 and "BNNMT" in load_unit_set("ministries-2025")
    assert "BKHDT" not in load_unit_set("ministries-2025")
    assert load_unit_set("national").codes == ("VN",)
    with pytest.raises(UnknownUnitError):
        find_body("Bộ Tài chánh và Ngân khố")


# -- dti editions and dti unit ----------------------------------------------------------------------

def test_dti_editions_lists_every_level(capsys):
    code, out, _ = run(capsys, "editions", "--format", "json")
    listed = {e["id"]: e for e in json.loads(out)}
    assert code == 0
    assert listed["dti-ministry-2021"]["level"] == "ministry"
    assert listed["dti-national-2024"]["level"] == "national"
    assert listed["dti-province-2022"]["level"] == "province"
    assert listed["dti-ministry-2021"]["main_indicators"] == 6
    assert set(level_edition_ids()) <= set(listed)
    code, out, _ = run(capsys, "editions")
    assert code == 0 and "dti-ministry-2021" in out and "national" in out


def test_dti_unit_finds_a_body_and_its_2025_successor(capsys):
    code, out, _ = run(capsys, "unit", "MOF")
    assert code == 0 and out.startswith("Bộ Tài chính (BTC)")
    assert "Bộ Kế hoạch và Đầu tư" in out and "0,6321" in out
    code, out, _ = run(capsys, "unit", "MPI", "--lang", "en")
    assert code == 0 and out.startswith("Ministry of Planning and Investment (BKHDT)")
    assert "Ministry of Planning and Investment → Ministry of Finance from 1 March 2025" in out
    code, out, _ = run(capsys, "unit", "VN", "--format", "json")
    assert code == 0 and [h["score"] for h in json.loads(out)["history"]] == [0.71, 0.7326, 0.7955]


def test_dti_unit_unknown_name_is_one_line(capsys):
    code, _, err = run(capsys, "unit", "Bộ Tài chánh và Ngân khố")
    assert code == 1 and err.startswith("error: unknown unit 'Bộ Tài chánh và Ngân khố'")
    assert len(err.strip().splitlines()) == 1


# -- bad input ------------------------------------------------------------------------------------

def refused(tmp_path: Path, body: str, unit_set: str = "ministries-2021", year: int = 2021) -> list:
    path = tmp_path / "dti_ministry_results_2021.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    with pytest.raises(DataError) as caught:
        read_level_results(path, unit_set, year)
    return caught.value.problems


def test_an_unknown_body_is_refused_with_its_location(tmp_path):
    problems = refused(tmp_path, f"Bộ Tài chính,with_public_services,1,0.6321,,,{SOURCE},\n"
                                 f"Bộ Tài chánh và Ngân khố,with_public_services,2,0.6,,,{SOURCE},\n")
    assert len(problems) == 1
    p = problems[0]
    assert (p.code, p.file, p.row, p.column, p.unit) == (
        "published.unknown_body", "dti_ministry_results_2021.csv", 3, "unit_vi", "Bộ Tài chánh và Ngân khố")
    assert "ministries.csv" in p.message   # what to do


def test_a_body_that_did_not_exist_that_year_is_refused(tmp_path):
    problems = refused(tmp_path, f"Bộ Nông nghiệp và Môi trường,with_public_services,1,0.6,,,{SOURCE},\n")
    p = problems[0]
    assert (p.code, p.row, p.column) == ("published.body_not_in_year", 2, "unit_vi")
    assert "did not exist in 2021" in p.message and "1 March 2025" in p.message
    assert "Bộ Tài nguyên và Môi trường" in p.message and "as it was in 2021" in p.message


def test_a_merged_body_in_a_later_year_is_refused_with_its_successor(tmp_path):
    problems = refused(tmp_path, f"MPI,with_public_services,1,0.7,,,{SOURCE},\n",
                       unit_set="ministries-2025", year=2025)
    assert problems[0].code == "published.body_not_in_year"
    assert "Bộ Tài chính" in problems[0].message


def test_every_problem_of_a_file_is_reported_together(tmp_path):
    problems = refused(tmp_path, (
        f"Bộ Tài chính,without_public_services,1,0.6321,,,{SOURCE},\n"     # wrong group
        f"NHNN,with_public_services,first,0.5,,,{SOURCE},\n"                # rank not a number
        "BHXH VN,with_public_services,3,0.5,,,,\n"                          # no source
        f"Bộ Công Thương,with_public_services,4,0.3,,,{SOURCE},\n"
        f"Bộ Y tế,with_public_services,5,0.4,,,{SOURCE},\n"))              # ranked below a lower score
    assert [(p.code, p.row) for p in problems] == [
        ("published.wrong_group", 2), ("published.not_a_number", 3), ("published.missing_source", 4),
        ("published.rank_against_score", 5)]


def test_the_shipped_results_name_each_body_as_it_was():
    for edition_id in level_edition_ids():
        edition = load_level_edition(edition_id)
        units = edition.units()
        for r in edition.results:
            assert r.code in units and r.sources, (edition_id, r.name_vi)
            assert r.rank is not None or r.score is not None


def test_a_level_edition_asked_to_compute_says_what_it_is(capsys):
    code, _, err = run(capsys, "compute", "--edition", "dti-ministry-2021")
    assert code == 1 and "ministry-level or national edition" in err
    assert "dti-province-2022" in err and len(err.strip().splitlines()) == 1


def test_the_shipped_list_check_refuses_a_successor_that_does_not_follow():
    from dataclasses import replace

    from dti.errors import InputError
    from dti.units import bodies as module

    mpi = find_body("MPI")
    broken = (*bodies(), replace(mpi, code="X", successor_code="BNNMT", valid_to="2024-12-31"),
              replace(mpi, code="Y", group="public"))
    with pytest.raises(InputError) as caught:
        module._check(broken)
    assert [(p.code, p.column) for p in caught.value.problems] == [
        ("units.bad_successor", "successor_code"), ("units.unknown_group", "group")]
