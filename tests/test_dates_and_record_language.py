"""Dates as readers write them (21/10/2025 in Vietnamese, 21 October 2025 in English; ISO kept for
machines) and the audit of the record read in the page's language."""

from __future__ import annotations

import re
import unicodedata

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from dti.editions import edition_ids, load_edition
from dti.editions.record import shipped_record
from dti.editions.record_audit import audit
from dti.web import create_app
from dti.web.i18n import date_text

E2024 = "dti-province-2024"


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def _seen(html: str) -> str:
    """The page without its machine-readable dates (``<time datetime="…">``)."""
    return re.sub(r'datetime="[^"]*"', "", html)


# ---------------------------------------------------------------- the date helper

@pytest.mark.parametrize("value, vi, en", [
    ("2025-10-21", "21/10/2025", "21 October 2025"),
    ("2022-08-08", "8/8/2022", "8 August 2022"),       # no leading zeros, as 1/7/2025 elsewhere
    ("2021-01-05", "5/1/2021", "5 January 2021"),
])
def test_a_date_as_each_language_writes_it(value, vi, en):
    assert (date_text(value, "vi"), date_text(value, "en")) == (vi, en)


def test_a_missing_or_unreadable_date_is_never_invented():
    assert date_text("", "vi") == date_text(None, "en") == "—"
    assert date_text("mùa thu 2025", "vi") == "mùa thu 2025"


# ---------------------------------------------------------------- dates on the pages

def test_vietnamese_home_shows_day_month_year_and_no_iso_date(client):
    html = client.get("/").text
    assert load_edition(E2024).published_on == "2025-10-21"
    assert "21/10/2025" in html
    assert '<time datetime="2025-10-21">21/10/2025</time>' in html    # machines keep ISO
    for edition in edition_ids():
        iso = load_edition(edition).published_on
        assert iso not in _seen(html), edition
        assert date_text(iso, "vi") in html, edition
    assert "October" not in html


def test_english_home_shows_the_month_by_name(client):
    html = client.get("/en/").text
    assert "21 October 2025" in html and "8 August 2022" in html
    assert "21/10/2025" not in html and "2025-10-21" not in _seen(html)


@pytest.mark.parametrize("prefix, shown", [("", "21/10/2025"), ("/en", "21 October 2025")])
def test_ranking_page_dates_its_edition_for_readers_and_its_twin_for_machines(client, prefix, shown):
    html = client.get(f"{prefix}/editions/{E2024}").text
    assert shown in html and "2025-10-21" not in _seen(html)
    assert client.get(f"{prefix}/editions/{E2024}.json").json()["published_on"] == "2025-10-21"


# ---------------------------------------------------------------- the record audit in each language

def test_every_finding_has_its_own_sentence_in_each_language():
    for finding in audit(shipped_record()):
        vi, en = finding.text("vi"), finding.text("en")
        assert vi != en and en == finding.message
        assert unicodedata.is_normalized("NFC", vi)
        assert not re.search(r"\d\.\d", vi), vi          # 0,4954 in Vietnamese, never 0.4954


def test_vietnamese_record_page_has_no_english_finding_sentence(client):
    html = client.get("/record").text
    findings = audit(shipped_record())
    english = {f.text("en") for f in findings}
    assert [m for m in english if str(escape(m)) in html] == []
    assert all(str(escape(f.text("vi"))) in html for f in findings)
    assert "Điểm nhóm chỉ số nền tảng chung (Quyết định 922)" in html
    assert "tỷ lệ chỉ số hoạt động HĐCQS 1,1953 nằm ngoài khoảng 0–1" in html   # Tuyên Quang 2023


def test_english_record_page_has_the_english_sentences(client):
    html = client.get("/en/record").text
    findings = audit(shipped_record())
    assert all(str(escape(f.text("en"))) in html for f in findings)
    assert not any(str(escape(f.text("vi"))) in html for f in findings)
    assert "the CQS activity ratio 1.1953 is outside 0–1" in html


def test_record_twins_carry_the_code_and_the_reason_in_the_page_language(client):
    def keyed(url: str) -> dict:
        return {(r["year"], tuple(r["units"]), r["code"]): r for r in client.get(url).json()["findings"]}

    vi, en = keyed("/record.json"), keyed("/en/record.json")
    assert vi.keys() == en.keys()
    yen_bai = (2021, ("15",), "rank_change.against_ranks")
    assert vi[yen_bai]["values"] == en[yen_bai]["values"] == {
        "rank_before": 40, "rank_now": 27, "change": 13, "stated": 17}
    assert vi[yen_bai]["message"] == "hạng 40 (2020) → 27 (2021) là thay đổi +13 bậc; số công bố +17"
    assert en[yen_bai]["message"] == "rank 40 (2020) → 27 (2021) is a change of +13; stated +17"
    assert "rank_change.against_ranks" in client.get("/record.csv").text
