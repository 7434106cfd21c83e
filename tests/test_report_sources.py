"""Sources in the PDF reports (dti.web.report_sources): every published figure of a report
points to its source, one click or one column away, as the published record gives it; a
third-party compilation and a derived rank are labelled in the portal's words.  The expected
sources are read from dti.editions.record, never from the code under test."""

from __future__ import annotations

import io
import re

import pytest

from dti.editions import RANK_COLUMNS, SCORE_COLUMNS, load_edition
from dti.editions.record import shipped_record
from dti.web.report_sources import Citations, describe, ranges, Use
from dti.web.reports import national_report, province_report
from dti.web.snapshot import Catalogue

pypdf = pytest.importorskip("pypdf")

E2020, E2021, E2022 = "dti-province-2020", "dti-province-2021", "dti-province-2022"
SHOWN = tuple(RANK_COLUMNS) + tuple(SCORE_COLUMNS)   # the record's measures a report shows
THIRD_PARTY = {"vi": "(nguồn tổng hợp của bên thứ ba)", "en": "(third-party compilation)"}
DERIVED = {"vi": "suy ra từ", "en": "derived from"}


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.shipped()


class Pdf:
    """What a reader gets from a PDF: its text and its links."""

    def __init__(self, pdf: bytes) -> None:
        reader = pypdf.PdfReader(io.BytesIO(pdf))
        self.text = "\n".join(page.extract_text() for page in reader.pages)
        self.flat = " ".join(self.text.split())           # lines joined: words wrap anywhere
        self.bare = "".join(self.text.split())            # a long address wraps inside itself
        annotations = [a.get_object() for page in reader.pages for a in page.get("/Annots") or ()]
        self.links = {a["/A"]["/URI"] for a in annotations if "/A" in a and "/URI" in a["/A"]}
        self.jumps = {str(a["/Dest"]) for a in annotations if "/Dest" in a}
        self.targets = set(reader.named_destinations)

    def listing(self, lang: str) -> str:
        """The sources section: from its last heading on."""
        title = "Sources" if lang == "en" else "Nguồn"
        return self.flat[self.flat.rindex(f"{title} "):]

    def entry(self, lang: str, url: str) -> str:
        """The listing entry of one page, found by its link text."""
        listing = self.listing(lang)
        entries = re.split(r" (?=\[\d+\] )", listing)
        found = [e for e in entries if url in "".join(e.split())]
        assert len(found) == 1, (url, found)
        return found[0]


def winners(year: int, unit: str | None = None, measures=SHOWN) -> dict[str, set[str]]:
    """The chosen sources (url → hosts) of the record's figures of a year on the 63 basis."""
    out: dict[str, set[str]] = {}
    for measure, figures in shipped_record().of(year, "provinces-63").items():
        if measure not in measures:
            continue
        for code, figure in figures.items():
            if unit is None or code == unit:
                out.setdefault(figure.winner.url, set()).add(figure.winner.url.split("/")[2])
    return out


def host(url: str) -> str:
    return url.split("/")[2].removeprefix("www.")


@pytest.fixture(scope="module", params=["vi", "en"])
def national_2022(request, catalogue) -> tuple[str, Pdf]:
    return request.param, Pdf(national_report(catalogue, E2022, request.param))


@pytest.fixture(scope="module", params=["vi", "en"])
def thai_nguyen_2021(request, catalogue) -> tuple[str, Pdf]:
    return request.param, Pdf(province_report(catalogue, E2021, "19", request.param))


@pytest.fixture(scope="module", params=["vi", "en"])
def national_2020(request, catalogue) -> tuple[str, Pdf]:
    return request.param, Pdf(national_report(catalogue, E2020, request.param))


def test_national_report_links_every_source_of_its_figures(national_2022):
    lang, pdf = national_2022
    required = winners(2022)
    assert len(required) >= 5
    changes = winners(2022, measures=("rank_change",))
    assert set(required) <= pdf.links <= set(required) | set(changes)
    for url in required:
        assert host(url) in pdf.flat and url in pdf.bare
    # a source that lost to another on every figure it gives is not cited
    losers = {f.url for f in shipped_record().facts if f.year == 2022} - set(required) - set(changes)
    assert losers and not losers & pdf.links


def test_national_report_says_what_each_source_supports(national_2022):
    lang, pdf = national_2022
    official = [u for u in winners(2022) if host(u) == "dti.gov.vn"]
    ranks = sorted({int(f.value) for f in shipped_record().of(2022, "provinces-63")["rank"].values()
                    if f.winner.url in official})
    entry = pdf.entry(lang, official[0])
    assert ("ranks " if lang == "en" else "hạng ") + ranges(ranks) in entry
    assert ("(official)" if lang == "en" else "(chính thức)") in entry
    # every row of the full ranking and of the top ten carries a number that jumps to the list
    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", pdf.listing(lang))}
    assert {f"src-{n}" for n in numbers} <= pdf.targets
    assert pdf.jumps == {f"src-{n}" for n in numbers}


def test_national_report_in_english_is_in_english(national_2022):
    lang, pdf = national_2022
    listing = pdf.listing(lang)
    if lang == "en":
        assert "total scores of" in listing and "chính thức" not in listing
        assert "tỉnh, thành phố" not in listing.split("derived from")[0]
    else:
        assert "điểm tổng hợp của" in listing and "official" not in listing


def test_province_report_links_every_source_of_its_figures(thai_nguyen_2021):
    lang, pdf = thai_nguyen_2021
    required = winners(2021, "19")
    change = winners(2021, "19", ("rank_change",))
    assert required and change     # Thái Nguyên 2021: rank, total, pillars and ▲4 are sourced
    for url in {**required, **change}:
        assert url in pdf.links and host(url) in pdf.flat and url in pdf.bare
    # the profile's history cites each earlier edition's rank too
    assert set(winners(2020, "19", ("rank",))) <= pdf.links


def test_province_report_puts_each_figure_beside_its_source(catalogue, thai_nguyen_2021):
    lang, pdf = thai_nguyen_2021
    numbered = dict(re.findall(r"\[(\d+)\] \S+ \([^)]*\) (https?://\S+)", pdf.listing(lang)))
    record = shipped_record().of(2021, "provinces-63")
    lines = pdf.text.splitlines()
    checked = 0
    for column in catalogue.ranking(E2021).columns:
        label = (column.name_en or column.short) if lang == "en" else column.name_vi
        measure = next(m for m, code in SCORE_COLUMNS.items() if code == column.code)
        figure = record.get(measure, {}).get("19")
        if figure is None:
            continue
        line = next(line for line in lines if line.startswith(label + " "))
        number = next(n for n, url in numbered.items() if figure.winner.url.startswith(url))
        assert f"[{number}] {host(figure.winner.url)}" in line
        checked += 1
    assert checked == 4    # the total and three pillars are published for Thái Nguyên in 2021


def test_third_party_compilation_is_labelled(national_2020, catalogue):
    lang, pdf = national_2020
    third = {u for u in winners(2020) if host(u) == "huggingface.co"}
    assert third   # the 2020 totals of several provinces come only from a compiled data set
    for url in third:
        assert THIRD_PARTY[lang] in pdf.entry(lang, url)
    assert pdf.listing(lang).count(THIRD_PARTY[lang]) == len(third)
    hue = Pdf(province_report(catalogue, E2020, "46", lang))
    total = shipped_record().figure(2020, "provinces-63", "46", "total_score")
    assert total.winner.third_party
    assert f"{host(total.winner.url)} {THIRD_PARTY[lang]}" in hue.flat.split(hue.listing(lang))[0]


def test_derived_rank_is_labelled_with_its_statement(national_2020):
    lang, pdf = national_2020
    units = load_edition(E2020).units("provinces-63")   # named as of the edition
    derived = [f for f in shipped_record().of(2020, "provinces-63")["rank"].values()
               if f.winner.derived]
    assert derived
    for figure in derived:
        entry = pdf.entry(lang, figure.winner.url)
        unit = units.get(figure.unit)
        name = unit.name_en if lang == "en" else unit.name_vi
        assert f"{int(figure.value)} ({name}) ({DERIVED[lang]} “" in entry


# The numbering and the phrases, on small hand-made sources.

def _source(url, measure, value, chosen=True, derived=False, quote="q"):
    return {"url": url, "host": host(url), "measure": measure, "value": value, "chosen": chosen,
            "derived": derived, "quote": quote, "third_party": "huggingface" in url,
            "source_class": "third_party" if "huggingface" in url else "official"}


A, B, C = "https://dti.gov.vn/a", "https://huggingface.co/b", "https://baoc.vn/c"


def test_citations_number_pages_by_first_citation_and_skip_sources_not_chosen():
    c = Citations()
    assert c.cite([_source(A, "rank", 1), _source(C, "rank", 1, chosen=False)], 2022, "X") == [1]
    assert c.cite([_source(B, "total_score", 0.5), _source(A, "rank", 2)], 2022, "Y") == [2, 1]
    listing = c.listing("en")
    assert [(e["number"], e["url"]) for e in listing] == [(1, A), (2, B)]
    assert listing[1]["label"] == "third-party compilation" and listing[1]["third_party"]
    assert listing[0]["supports"] == "ranks 1 (X), 2 (Y)"


def test_describe_counts_beyond_three_provinces_and_runs_ranks():
    uses = [Use(2022, "rank", f"P{i}", r, False, "") for i, r in enumerate((1, 2, 3, 5))]
    uses += [Use(2022, "total_score", f"P{i}", 0.5, False, "") for i in range(4)]
    assert describe(uses, "en", names=True, years=False) == "ranks 1–3, 5; total scores of 4 provinces"
    assert describe(uses, "vi", names=True, years=False) == (
        "hạng 1–3, 5; điểm tổng hợp của 4 tỉnh, thành phố")
    one = [Use(2021, "rank_cqs", "P", 9, False, ""), Use(2021, "score_cqs", "P", 0.5, False, "")]
    assert describe(one, "en", names=False, years=True) == "2021: CQS rank 9; CQS score"


def test_ranks_derived_from_one_statement_share_it():
    said = "'tăng 8 bậc so với năm 2020'"
    uses = [Use(2020, "rank", "Bắc Kạn", 59, True, f"{said} (=> 59 in 2020)"),
            Use(2020, "rank_cqs", "Bắc Kạn", 40, True, f"{said} (=> cqs 40 in pr...")]
    assert describe(uses, "vi", names=True, years=False) == (
        f"hạng 59, hạng CQS 40 (Bắc Kạn) (suy ra từ “{said}”)")
    assert ranges([4]) == "4" and ranges([]) == ""
