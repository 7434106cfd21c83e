"""PDF reports (dti.web.reports, WeasyPrint): the national report of an edition and a province's
profile, their text in both languages, their reproducibility, and their routes."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient

from dti.web.reports import ReportNotFound, national_report, province_report
from dti.web import create_app
from dti.web.context import context_of
from dti.web.snapshot import Catalogue

pypdf = pytest.importorskip("pypdf")

E2022 = "dti-province-2022"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.shipped()


@pytest.fixture(scope="module")
def client(catalogue) -> TestClient:
    return TestClient(create_app(catalogue=catalogue))


def _text(pdf: bytes) -> tuple[int, str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def _fonts(pdf: bytes) -> set[str]:
    fonts = set()
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    return fonts


@pytest.fixture(scope="module")
def national_vi(client) -> bytes:
    response = client.get(f"/reports/editions/{E2022}.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    return response.content


def test_national_report_is_a_pdf_with_the_published_ranking(national_vi):
    assert national_vi.startswith(b"%PDF")
    pages, text = _text(national_vi)
    assert pages >= 2
    assert "Đà Nẵng" in text and "0,8002" in text and "Thái Nguyên" in text
    assert "chưa công bố" in text                # an empty published cell is never 0
    assert "Quyết định 922/QĐ-BTTTT" in text     # the legal basis
    assert "Ngày công bố: 12/7/2023" in text and "2023-07-12" not in text   # as readers write it
    assert any("Noto-Sans" in f for f in _fonts(national_vi))   # the Vietnamese font is embedded
    assert b"image/svg" not in national_vi       # map and chart drawn, not left as a data URI


def test_national_report_in_english(client):
    response = client.get(f"/en/reports/editions/{E2022}.pdf")
    assert response.status_code == 200
    _, text = _text(response.content)
    assert "0.8002" in text and "0,8002" not in text
    assert "not published" in text
    assert "Published on: 12 July 2023" in text
    flat = " ".join(text.split())
    assert "the full ranking of the 63 provinces" in flat and "Công bố" not in flat   # the note


def test_reports_are_reproducible_and_dated_by_publication(catalogue, national_vi):
    assert national_report(catalogue, E2022, "vi") == national_vi
    first = province_report(catalogue, E2022, "19", "vi")
    assert province_report(catalogue, E2022, "19", "vi") == first
    info = pypdf.PdfReader(io.BytesIO(first)).metadata
    assert info.creation_date.date().isoformat() == "2023-07-12"


def test_province_profile_of_thai_nguyen(client):
    response = client.get(f"/reports/provinces/19.pdf?edition={E2022}")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    _, text = _text(response.content)
    assert "Thái Nguyên" in text
    assert "Hạng 8/63" in text
    assert "Ngày công bố: 12/7/2023" in text and "2023-07-12" not in text
    assert "Trung du và miền núi phía Bắc" in text
    _, english = _text(client.get(f"/en/reports/provinces/19.pdf?edition={E2022}").content)
    assert "Rank 8 of 63" in english


def test_report_responses_are_cached_by_url(client):
    url = f"/reports/provinces/48.pdf?edition={E2022}"
    first = client.get(url).content
    public, (path, query) = context_of(client.app).public, url.split("?")
    assert public.cache.get(public.key(path, query.encode())) is not None
    assert client.get(url).content == first


@pytest.mark.parametrize("url", [
    "/reports/editions/dti-province-2025.pdf",              # a draft
    "/reports/editions/dti-province-1999.pdf",              # unknown
    "/en/reports/editions/dti-province-2025.pdf",
    "/reports/provinces/19.pdf?edition=dti-province-2025",
    "/reports/provinces/19.pdf?edition=dti-province-1999",
    f"/reports/provinces/99.pdf?edition={E2022}",           # no such province
])
def test_draft_unknown_or_missing_is_404(client, url):
    assert client.get(url).status_code == 404


def test_functions_refuse_a_draft(catalogue):
    with pytest.raises(ReportNotFound):
        national_report(catalogue, "dti-province-2025")
    with pytest.raises(ReportNotFound):
        province_report(catalogue, "dti-province-2025", "19")


def test_ranking_and_profile_pages_link_their_pdf(client):
    ranking = client.get(f"/editions/{E2022}").text
    assert f"/reports/editions/{E2022}.pdf?basis=provinces-63" in ranking
    profile = client.get(f"/en/provinces/19?edition={E2022}").text
    assert f"/en/reports/provinces/19.pdf?edition={E2022}" in profile
