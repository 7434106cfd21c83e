"""Indicator pages and the XLSX download of a ranking (with its licence)."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from fastapi.testclient import TestClient

from dti.editions import load_edition
from dti.web import create_app

E = "dti-province-2022"


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def test_indicator_page_ranks_provinces_on_that_indicator(client):
    published = load_edition(E).results()
    data = json.loads(client.get(f"/editions/{E}/indicators/HDXHS.json").text)
    with_value = [r for r in data["results"] if r["value"] is not None]
    assert [r["code"] for r in with_value] == ["48", "22", "79", "46", "92"]   # 0.5197 > 0.4505 > …
    assert [r["value"] for r in with_value] == [published.score("HDXHS", c) for c in
                                                ("48", "22", "79", "46", "92")]
    assert data["indicator"]["max_points"] == 150 and data["provinces_with_value"] == 5
    page = client.get(f"/editions/{E}/indicators/HDXHS").text
    assert "Hoạt động xã hội số" in page and "0,5197" in page and "chưa công bố" in page
    assert "0.5197" in client.get(f"/en/editions/{E}/indicators/HDXHS").text


def test_pillar_page_and_unknown_indicator(client):
    cqs = json.loads(client.get(f"/editions/{E}/indicators/CQS.json").text)
    quang_ninh = next(r for r in cqs["results"] if r["code"] == "22")
    assert quang_ninh["value"] == 0.7804 and quang_ninh["rank"] == 4 and quang_ninh["source"] == "published"
    assert client.get(f"/editions/{E}/indicators/NOPE").status_code == 404
    assert f"/editions/{E}/indicators/CQS" in client.get(f"/editions/{E}/method").text


def test_ranking_xlsx_download_carries_rows_and_licence(client):
    response = client.get(f"/editions/{E}.xlsx")
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    rows = list(book["results"].iter_rows(values_only=True))
    assert rows[0][:4] == ("code", "name", "region", "DTI") and len(rows) == 64
    assert rows[1][:4] == ("48", "Đà Nẵng", "Bắc Trung Bộ và duyên hải miền Trung", 0.8002)
    about = dict(book["about"].iter_rows(min_row=2, values_only=True))
    assert about["edition"] == E and "CC BY 4.0" in about["licence"]
    assert client.get(f"/editions/{E}.xlsx").content == response.content   # reproducible bytes
