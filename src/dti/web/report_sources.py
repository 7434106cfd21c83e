"""The sources behind the figures of a PDF report, numbered in the order the report cites them.

A report cites what the portal cites: each figure's chosen source from the published record
(the ``sources`` the snapshot attaches to every figure, :func:`dti.web.snapshot.figure_sources`).
A figure in a table carries the numbers of its sources; the list at the end gives each page (one
entry per address) with its host, its class, the link and the figures it supports.  A
third-party compilation and a rank derived from a stated change say so in the portal's words
(:mod:`dti.web.story`), so a reader meets the same labels in the PDF and on the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any, Iterable

from dti.editions import RANK_COLUMNS, SCORE_COLUMNS
from dti.messages import bilingual
from dti.web.i18n import name
from dti.web.snapshot import Catalogue, ComparedFigure, NodeFigure, Ranking, RankingRow
from dti.web.story import labels as story_labels

WORDS = bilingual("portal.report_sources")
DERIVED_NOTE = re.compile(r"\s*\(=>.*$", re.S)
NAMED = 3   # up to this many provinces a phrase names them; beyond, it counts them
# Record measures in the order a report's columns show them: per node its rank, then its score.
MEASURE_ORDER = tuple(m for code in dict.fromkeys(SCORE_COLUMNS.values())
                      for m in ([k for k, v in RANK_COLUMNS.items() if v == code]
                                + [k for k, v in SCORE_COLUMNS.items() if v == code])) + ("rank_change",)


@dataclass(frozen=True)
class Use:
    """One figure a source supports: which edition, measure and province, and how."""

    year: int
    measure: str
    unit: str       # the province's name in the report's language
    value: float
    derived: bool
    quote: str


@dataclass
class Citations:
    """A report's sources, numbered by first citation; each keeps the figures it supports."""

    sources: dict[str, dict[str, Any]] = field(default_factory=dict)   # url → first public source
    uses: dict[str, list[Use]] = field(default_factory=dict)
    numbers: dict[str, int] = field(default_factory=dict)              # url → its number

    def cite(self, sources: Iterable[dict[str, Any]], year: int, unit: str) -> list[int]:
        """The numbers of a figure's chosen sources (as the portal shows them), citing each."""
        numbers: list[int] = []
        for source in sources:
            if not source["chosen"]:
                continue
            url = source["url"]
            self.sources.setdefault(url, source)
            self.numbers.setdefault(url, len(self.numbers) + 1)
            uses = self.uses.setdefault(url, [])
            use = Use(year, source["measure"], unit, source["value"], source["derived"],
                      source["quote"])
            if use not in uses:
                uses.append(use)
            number = self.numbers[url]
            if number not in numbers:
                numbers.append(number)
        return numbers

    def listing(self, lang: str) -> list[dict[str, Any]]:
        """One entry per page, in citation order: host, class, link and what it supports."""
        words = story_labels(lang)
        every = [u for uses in self.uses.values() for u in uses]
        names = len({u.unit for u in every}) > 1     # a single province's report need not name it
        years = len({u.year for u in every}) > 1     # nor its edition, unless history adds others
        return [{"number": number, "url": url, "host": source["host"],
                 "third_party": source["third_party"],
                 "label": words[source["source_class"]],
                 "supports": describe(self.uses[url], lang, names, years)}
                for number, (url, source) in enumerate(self.sources.items(), start=1)]


def describe(uses: list[Use], lang: str, names: bool, years: bool) -> str:
    """What a source supports, e.g. "ranks 1–63; total scores of 6 provinces" (with the province
    when ``names``, the edition year when ``years``); a derived rank with the statement it comes
    from, as the story page gives it."""
    derived_from = story_labels(lang)["derived"]
    parts = []
    for year, of_year in groupby(sorted(uses, key=lambda u: u.year), key=lambda u: u.year):
        of_year = sorted(of_year, key=lambda u: (u.derived, _order(u.measure)))
        phrases = [_phrase(list(group), lang, names) for _, group in
                   groupby([u for u in of_year if not u.derived], key=lambda u: u.measure)]
        phrases += [_derived(list(group), lang, names, derived_from) for _, group in
                    groupby([u for u in of_year if u.derived], key=lambda u: (u.unit, statement(u.quote)))]
        parts.append((f"{year}: " if years else "") + "; ".join(phrases))
    return " · ".join(parts)


def statement(quote: str) -> str:
    """A derived figure's quote without the record's trailing note of what it implies
    ("… tăng 8 bậc so với năm 2020' (=> 59 in 2020)"): ranks derived from one statement share it."""
    return DERIVED_NOTE.sub("", quote) or quote


def _derived(uses: list[Use], lang: str, names: bool, derived_from: str) -> str:
    """Ranks derived from one statement: each rank, the province, then the statement quoted."""
    words = WORDS["en" if lang == "en" else "vi"]
    ranks = ", ".join(f"{_label(u.measure, words, plural=False)} {int(u.value)}" for u in uses)
    unit = f" ({uses[0].unit})" if names else ""
    return f"{ranks}{unit} ({derived_from} “{statement(uses[0].quote)}”)"


def _order(measure: str) -> int:
    return MEASURE_ORDER.index(measure) if measure in MEASURE_ORDER else len(MEASURE_ORDER)


def _phrase(uses: list[Use], lang: str, names: bool) -> str:
    """One measure of one edition: ranks as ranges of values, scores and changes by province."""
    words = WORDS["en" if lang == "en" else "vi"]
    measure = uses[0].measure
    units = list(dict.fromkeys(u.unit for u in uses))
    named = ", ".join(units) if names and len(units) <= NAMED else None
    if measure.startswith("rank") and measure != "rank_change":
        values = sorted({int(u.value) for u in uses})
        text = _label(measure, words, plural=len(values) > 1) + " "
        if named:   # each rank with its province
            pairs = sorted({(int(u.value), u.unit) for u in uses})
            return text + ", ".join(f"{value} ({unit})" for value, unit in pairs)
        return text + ranges(values)
    text = _label(measure, words, plural=len(units) > 1)
    if named:
        return f"{text} {words['of']} {named}"
    return f"{text} {words['of']} {words['units'].format(n=len(units))}" if names else text


def _label(measure: str, words: dict[str, Any], plural: bool) -> str:
    if measure in ("rank", "total_score", "rank_change"):
        return words[measure][plural]
    if measure in RANK_COLUMNS:
        return words["node_rank"][plural].format(code=RANK_COLUMNS[measure])
    return words["node_score"][plural].format(code=SCORE_COLUMNS.get(measure, measure))


def ranges(values: list[int]) -> str:
    """Sorted whole numbers as runs: [1, 2, 3, 5] → "1–3, 5"."""
    runs: list[list[int]] = []
    for v in values:
        if runs and v == runs[-1][-1] + 1:
            runs[-1].append(v)
        else:
            runs.append([v])
    return ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def _row_sources(ranking: Ranking, row: RankingRow) -> list[dict[str, Any]]:
    """Every source of a row: its figures' in column order, then its rank change's."""
    out = [s for c in ranking.columns for s in row.figures[c.code].sources]
    return out + _change_sources(row)


def _change_sources(row: RankingRow) -> list[dict[str, Any]]:
    """The sources of a rank change, when the report shows one (both ranks published)."""
    return list(row.change_sources) if row.change is not None else []


def recomputed(figure: NodeFigure | ComparedFigure) -> bool:
    """A value computed from published indicators: not a published figure, so no source of its
    own (the portal's "*" mark)."""
    return figure.value is not None and "computed" in figure.source.split("+")


def national_citations(ranking: Ranking, lang: str) -> dict[str, Any]:
    """The numbers of each row's sources (by unit code) and the list, for the national report;
    whether any value shown is recomputed (the legend says what its "*" means)."""
    citations = Citations()
    refs = {row.code: citations.cite(_row_sources(ranking, row), ranking.edition.year,
                                        name(row, lang))
            for row in ranking.rows}
    return {"refs": refs, "cited": citations.listing(lang),
            "recomputed": any(recomputed(f) for row in ranking.rows for f in row.figures.values())}


def province_citations(catalogue: Catalogue, data: dict[str, Any], lang: str) -> dict[str, Any]:
    """The numbers of a province's figures (headline rank and score, rank change, each figure
    of the table, each edition of its history) and the list, for its profile report."""
    citations = Citations()
    row, year, unit = data["row"], data["ranking"].edition.year, data["display_name"]
    headline = citations.cite(row.sources, year, unit)
    change = citations.cite(_change_sources(row), year, unit)
    figures = [citations.cite(f.sources, year, unit) for f in data["figures"]]
    history = []
    for h in data["history"]:
        shown = catalogue.ranking(h.edition, h.basis).row(h.code)
        history.append(citations.cite(shown.sources, h.year, name(shown, lang)))
    return {"headline": headline, "change": change, "figures": figures, "history": history,
            "cited": citations.listing(lang), "recomputed": any(map(recomputed, data["figures"]))}
