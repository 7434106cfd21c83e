"""The open-data API ``/api/v1`` on the shipped editions: answers, errors, the OpenAPI document,
and a bounded schemathesis run (no 5xx, every answer as documented)."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from hypothesis import settings

from dti.editions import edition_ids, load_edition
from dti.units import load_unit_set
from dti.web import api, create_app
from dti.web.context import context_of

E2022 = "dti-province-2022"
MIDLANDS = "Trung du và miền núi phía Bắc"

# Built at import because schemathesis' pytest plugin needs the schema at collection
# (schemathesis.pytest.from_fixture reads ``request.node._nodeid``, gone in pytest 9).
APP = create_app()


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(APP)


def get(client: TestClient, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200, (url, response.text[:300])
    return response.json()


def envelope(client: TestClient, url: str, status: int, method: str = "GET") -> str:
    response = client.request(method, url)
    assert response.status_code == status, (url, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and body["error"]["status"] == status
    assert set(body["error"]) == {"status", "message"} and body["error"]["message"]
    return body["error"]["message"]


OK_URLS = ["/api/v1/editions", f"/api/v1/editions/{E2022}", f"/api/v1/editions/{E2022}/results",
           f"/api/v1/editions/{E2022}/results?region=x", "/api/v1/editions/dti-province-2024/results"
           "?basis=provinces-63", f"/api/v1/editions/{E2022}/provinces/48", "/api/v1/provinces/19/history",
           f"/api/v1/editions/{E2022}/framework"]


# ---------------------------------------------------------------- answers


def test_editions_lists_the_published_editions_oldest_first(client):
    data = get(client, "/api/v1/editions")
    assert [e["id"] for e in data["editions"]] == list(edition_ids())
    first = data["editions"][2]
    assert first["id"] == E2022 and first["bases"] == ["provinces-63"]
    assert first["links"]["results"] == f"/api/v1/editions/{E2022}/results"
    assert get(client, first["links"]["framework"])["edition"] == E2022


@pytest.mark.parametrize("url", OK_URLS)
def test_every_answer_carries_licence_and_source(client, url):
    data = get(client, url)
    assert data["licence"]["name"] == "CC BY 4.0" and data["licence"]["url"].startswith("https://")
    assert "CC BY 4.0" in data["licence"]["notice_vi"]
    assert data["source"]["description"] and data["source"]["references"]
    assert all(r["published_on"] and r["legal_basis"] for r in data["source"]["references"])


def test_one_edition_has_metadata_bases_legal_basis_and_framework_summary(client):
    data = get(client, "/api/v1/editions/dti-province-2024")
    assert data["bases"] == ["provinces-34", "provinces-63"]
    assert data["legal_basis"] and data["published_on"] == "2025-10-21"
    assert {b["basis"]: b["units"] for b in data["results"]} == {"provinces-34": 34, "provinces-63": 63}
    e2022 = get(client, f"/api/v1/editions/{E2022}")
    assert e2022["results"] == [{"basis": "provinces-63", "units": 63, "published_ranks": 63}]
    assert e2022["framework"]["id"] == "qd-922-btttt"
    assert e2022["framework"]["pillars"] == ["CQS", "KTS", "XHS"]
    assert e2022["framework"]["main_indicators"] == 8 and e2022["framework"]["max_points"] == 1000


def test_2022_results_are_the_published_ranking(client):
    data = get(client, f"/api/v1/editions/{E2022}/results")
    assert data["count"] == len(data["results"]) == 63
    assert {r["code"]: r["rank"] for r in data["results"]} == dict(load_edition(E2022).results().ranks["DTI"])
    ranks = [r["rank"] for r in data["results"]]
    assert ranks == sorted(ranks) and ranks.count(15) == 2 and 16 not in ranks
    da_nang = data["results"][0]
    dti = {k: v for k, v in da_nang["figures"]["DTI"].items() if k != "sources"}
    assert (da_nang["code"], da_nang["value"], dti) == (
        "48", 0.8002, {"value": 0.8002, "rank": 1, "origin": "published"})
    assert "dti.gov.vn" in da_nang["source_note"]
    assert [i["code"] for i in data["indicators"]][:4] == ["DTI", "CQS", "KTS", "XHS"]


def test_not_published_is_null_never_zero(client):
    data = get(client, f"/api/v1/editions/{E2022}/results")
    thai_nguyen = next(r for r in data["results"] if r["code"] == "19")
    assert thai_nguyen["value"] is None and thai_nguyen["rank"] == 8
    assert {k: v for k, v in thai_nguyen["figures"]["DTI"].items() if k != "sources"} == {
        "value": None, "rank": 8, "origin": "published"}
    assert thai_nguyen["figures"]["NTS"] == {"value": None, "rank": None, "origin": "not_published",
                                             "sources": []}
    assert all(f["value"] != 0 for r in data["results"] for f in r["figures"].values())


@pytest.mark.parametrize("region", [MIDLANDS, "trung du va mien nui phia bac"])
def test_region_filter_ignores_accents_and_case(client, region):
    data = get(client, f"/api/v1/editions/{E2022}/results?region={region}")
    expected = [u.code for u in load_unit_set("provinces-63") if u.region == MIDLANDS]
    assert sorted(r["code"] for r in data["results"]) == sorted(expected)
    assert data["count"] == len(expected) and data["region"] == region
    assert MIDLANDS in data["regions"]
    nothing = get(client, f"/api/v1/editions/{E2022}/results?region=atlantis")
    assert nothing["results"] == [] and nothing["count"] == 0


def test_results_per_basis(client):
    own = get(client, "/api/v1/editions/dti-province-2024/results")
    old = get(client, "/api/v1/editions/dti-province-2024/results?basis=provinces-63")
    assert (own["basis"], own["count"]) == ("provinces-34", 34)
    assert (old["basis"], old["count"]) == ("provinces-63", 63)


def test_one_province_in_an_edition(client):
    da_nang = get(client, f"/api/v1/editions/{E2022}/provinces/48")
    assert (da_nang["rank"], da_nang["value"], da_nang["of"]) == (1, 0.8002, 63)
    total = da_nang["figures"][0]
    assert total["code"] == "DTI" and total["best"] == 0.8002 and total["provinces_with_value"] >= 5
    # 5 of 63 totals were published: their mean is no national mean
    assert total["mean"] < 0.8002 and total["national_mean"] is None
    assert total["provinces_with_value"] < 63
    thai_nguyen = get(client, f"/api/v1/editions/{E2022}/provinces/19")
    assert thai_nguyen["rank"] == 8 and thai_nguyen["value"] is None
    assert thai_nguyen["previous_edition"] == "dti-province-2021" and thai_nguyen["change"] == 0


def test_a_province_across_editions(client):
    data = get(client, "/api/v1/provinces/19/history?basis=provinces-63")
    assert data["name_vi"] == "Thái Nguyên" and data["basis"] == "provinces-63"
    ranks = {(h["edition"], h["basis"]): h["rank"] for h in data["history"] if h["same_unit"]}
    assert ranks[("dti-province-2021", "provinces-63")] == 8
    assert ranks[(E2022, "provinces-63")] == 8
    merged = get(client, "/api/v1/provinces/19/history")   # default: the latest edition's basis
    assert merged["basis"] == "provinces-34"
    assert {h["code"] for h in merged["history"] if not h["same_unit"]} == {"06", "19"}


def test_framework_of_an_edition(client):
    data = get(client, f"/api/v1/editions/{E2022}/framework")
    main = {n["code"]: n["max_points"] for n in data["nodes"] if n["role"] == "main"}
    assert main == {"NTS": 100, "TCS": 100, "HTS": 100, "NLS": 100, "ATTT": 100, "DTTM": 0,
                    "HDCQS": 200, "HDKTS": 150, "HDXHS": 150}
    assert "922" in data["legal_basis"] and data["sub_indicators"] == 98 and data["formula"]
    unknown = get(client, "/api/v1/editions/dti-province-2024/framework")
    assert unknown["unknown"] and all(n["max_points"] is None for n in unknown["nodes"])


# ---------------------------------------------------------------- errors: one envelope


@pytest.mark.parametrize("url, status", [
    ("/api/v1/editions/nope", 404),
    ("/api/v1/editions/nope/results", 404),
    (f"/api/v1/editions/{E2022}/results?basis=provinces-34", 404),
    (f"/api/v1/editions/{E2022}/provinces/99", 404),
    ("/api/v1/provinces/99/history", 404),
    ("/api/v1/nothing-here", 404),
    (f"/api/v1/editions/{E2022}/results?basis=communes", 422),
    ("/api/v1/editions/Not%20An%20Id/framework", 422),
    (f"/api/v1/editions/{E2022}/provinces/4", 422),
    (f"/api/v1/editions/{E2022}/results?region=" + "x" * 101, 422),
])
def test_errors_answer_the_one_envelope(client, url, status):
    envelope(client, url, status)


def test_validation_errors_name_the_parameter(client):
    message = envelope(client, f"/api/v1/editions/{E2022}/results?basis=communes", 422)
    assert message.startswith("basis:") and "provinces-63" in message


def test_writes_are_not_allowed(client):
    for method in ("POST", "PUT", "DELETE"):
        envelope(client, "/api/v1/editions", 405, method)


# ---------------------------------------------------------------- precomputed, documented


def test_answers_come_from_the_snapshot_never_rebuilt(client, monkeypatch):
    client.get("/api/v1/editions")
    snap = context_of(APP).api_v1

    def rebuild(*args, **kwargs):
        raise AssertionError("the API rebuilt its snapshot on a request")

    monkeypatch.setattr(api.ApiSnapshot, "build", rebuild)
    monkeypatch.setattr(api, "province_history", rebuild)
    for url in OK_URLS:
        get(client, url)
    assert context_of(APP).api_v1 is snap


def test_every_api_route_is_documented_with_public_schemas_and_the_envelope(client):
    spec = get(client, "/api/v1/openapi.json")
    routes = {r.path for r in iter_route_contexts(APP.routes)
              if r.path and r.path.startswith("/api/v1/") and r.path not in ("/api/v1/openapi.json",
                                                                            "/api/v1/docs")}
    # 6 open-data routes and 3 planner routes; pages stay out of the API document
    assert set(spec["paths"]) == routes and len(routes) == 9
    for path, item in spec["paths"].items():
        assert set(item) == {"get"}, path
        op = item["get"]
        assert op["summary"] and len(op["description"]) > 40, path
        ok = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert ok.endswith("Public"), path
        for status in ("404", "422"):
            ref = op["responses"][status]["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/ErrorEnvelope", (path, status)
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    for name in ("EditionPublic", "RankingPublic", "ProvinceResultPublic", "FigurePublic",
                 "ErrorEnvelope"):
        assert name in schemas
    for name in ("RankingPublic", "EditionPublic", "EditionListPublic", "ProvinceEditionPublic",
                 "ProvinceHistoryPublic", "FrameworkPublic"):
        assert {"licence", "source"} <= set(schemas[name]["required"]), name


# ---------------------------------------------------------------- schemathesis

schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=25, derandomize=True, deadline=None, database=None)
def test_api_conforms_to_its_openapi_document(case):
    case.call_and_validate()
