"""The audit of the published record: what the method makes impossible, checked figure by figure.

* **Foundation** (Decision 922 editions, 2021–2023): the total and the three pillars determine the
  foundation points F = (700·CQS + 650·KTS + 650·XHS − 1000·DTI) / 2 and each pillar's activity
  ratio, (700·CQS − F)/200, (650·KTS − F)/150, (650·XHS − F)/150.  F outside 0–500 or a ratio
  outside 0–1 cannot come from the method.
* **Ranks against scores**: a higher published score with a worse published rank (total, each
  pillar, each main indicator).
* **Merged means** (2024, 34-province basis): a merged province's total is the plain mean of its
  former provinces' totals on the 63-province basis (the mean of their main-indicator values, and
  the total is linear in those).
* **2020 totals**: 0.4·CQS + 0.3·KTS + 0.3·XHS (Decision 1726).
* **Rank changes**: a stated change against the two stated ranks it joins.

Published figures are rounded to 4 decimals; each check allows exactly the error that rounding can
make, no more.  Every finding names the facts (file, row, source) behind it, and carries a stable
code and the values it found rather than a sentence: :mod:`dti.editions.record_text` words it in
Vietnamese or English, so a page or a command picks the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Mapping

from dti.editions.record import PILLARS, Fact, Figure, Record
from dti.editions.record_text import finding_text

HALF_UNIT = 0.00005        # half of the last printed decimal
YEARS_922 = (2021, 2022, 2023)
PILLAR_POINTS = {"cqs": (700, 200), "kts": (650, 150), "xhs": (650, 150)}
WEIGHTS_2020 = {"cqs": 0.4, "kts": 0.3, "xhs": 0.3}
RANKED = {"total_score": "rank"} | {f"score_{p}": f"rank_{p}" for p in PILLARS}


@dataclass(frozen=True)
class Finding:
    """One check on one unit (or pair of units): whether it holds, why (a stable ``code`` and the
    ``values`` behind it), and on which facts."""

    check: str
    holds: bool
    year: int
    basis: str
    units: tuple[str, ...]
    code: str
    values: Mapping[str, Any] = field(hash=False)   # left out of the hash: a dict has none
    facts: tuple[Fact, ...]

    @property
    def where(self) -> str:
        return "; ".join(dict.fromkeys(f.where for f in self.facts))

    def text(self, lang: str = "en") -> str:
        """Why, as a sentence in ``lang`` ("vi" or "en")."""
        return finding_text(self.code, self.values, self.year, lang)

    @property
    def message(self) -> str:
        """Why, in English (the language of the code, the logs and the docs)."""
        return self.text("en")


def audit(record: Record) -> list[Finding]:
    """Every check over every edition year and basis of the record, holding or not."""
    findings: list[Finding] = []
    for (year, basis) in sorted({(f.year, f.basis) for f in record.facts}):
        table = record.of(year, basis)
        if year in YEARS_922:
            findings += _foundation(year, basis, table)
        if year == 2020:
            findings += _total_2020(year, basis, table)
        findings += _ranks_against_scores(year, basis, table)
        findings += _rank_changes(record, year, basis, table)
    findings += _merged_means(record)
    return findings


def _winners(table: dict[str, dict[str, Figure]], unit: str, *measures: str) -> list[Figure] | None:
    figures = [table.get(m, {}).get(unit) for m in measures]
    return None if any(f is None for f in figures) else figures   # type: ignore[return-value]


def _foundation(year: int, basis: str, table: dict[str, dict[str, Figure]]) -> list[Finding]:
    out = []
    for unit in sorted(table.get("total_score", {})):
        figures = _winners(table, unit, "total_score", "score_cqs", "score_kts", "score_xhs")
        if figures is None:
            continue
        total, cqs, kts, xhs = (f.value for f in figures)
        pillars = {"cqs": cqs, "kts": kts, "xhs": xhs}
        foundation = (700 * cqs + 650 * kts + 650 * xhs - 1000 * total) / 2
        slack = (700 + 650 + 650 + 1000) * HALF_UNIT / 2
        ratios = {p: (points * pillars[p] - foundation) / activity
                  for p, (points, activity) in PILLAR_POINTS.items()}
        ratio_slack = {p: (points * HALF_UNIT + slack) / activity
                       for p, (points, activity) in PILLAR_POINTS.items()}
        outside = ("foundation",) if not -slack <= foundation <= 500 + slack else ()
        outside += tuple(p for p, r in ratios.items() if not -ratio_slack[p] <= r <= 1 + ratio_slack[p])
        out.append(Finding("foundation", not outside, year, basis, (unit,),
                           "foundation.outside" if outside else "foundation.within",
                           {"foundation": foundation, **ratios, "outside": outside},
                           tuple(f.winner for f in figures)))
    return out


def _total_2020(year: int, basis: str, table: dict[str, dict[str, Figure]]) -> list[Finding]:
    out = []
    for unit in sorted(table.get("total_score", {})):
        figures = _winners(table, unit, "total_score", "score_cqs", "score_kts", "score_xhs")
        if figures is None:
            continue
        total, *pillars = (f.value for f in figures)
        expected = sum(w * v for w, v in zip(WEIGHTS_2020.values(), pillars))
        holds = abs(expected - total) <= HALF_UNIT * 2
        out.append(Finding("total_2020", holds, year, basis, (unit,), "total_2020.weighted_sum",
                           {"expected": expected, "published": total}, tuple(f.winner for f in figures)))
    return out


def _ranks_against_scores(year: int, basis: str, table: dict[str, dict[str, Figure]]) -> list[Finding]:
    out = []
    pairs = dict(RANKED) | {m: f"rank_{m}" for m in table if m.startswith("ind_")}
    for score_measure, rank_measure in pairs.items():
        scores, ranks = table.get(score_measure, {}), table.get(rank_measure, {})
        both = sorted(set(scores) & set(ranks))
        for a, b in combinations(both, 2):
            (hi, lo) = (a, b) if scores[a].value >= scores[b].value else (b, a)
            if scores[hi].value - scores[lo].value > 2 * HALF_UNIT and ranks[hi].value >= ranks[lo].value:
                out.append(Finding(
                    "ranks_vs_scores", False, year, basis, (hi, lo), "ranks_vs_scores.out_of_order",
                    {"measure": score_measure, "higher_score": scores[hi].value,
                     "lower_score": scores[lo].value, "rank_of_higher": ranks[hi].value,
                     "rank_of_lower": ranks[lo].value},
                    (scores[hi].winner, ranks[hi].winner, scores[lo].winner, ranks[lo].winner)))
        if both and not any(f.check == "ranks_vs_scores" and f.values["measure"] == score_measure
                            for f in out):
            out.append(Finding("ranks_vs_scores", True, year, basis, tuple(both),
                               "ranks_vs_scores.in_order", {"measure": score_measure, "count": len(both)},
                               tuple(scores[u].winner for u in both)))
    return out


def _rank_changes(record: Record, year: int, basis: str, table: dict[str, dict[str, Figure]]) -> list[Finding]:
    out = []
    for unit, change in sorted(table.get("rank_change", {}).items()):
        now = table.get("rank", {}).get(unit)
        before = record.figure(year - 1, basis, unit, "rank")
        if now is None or before is None or before.winner.derived:
            continue   # a derived earlier rank is the change itself: nothing to check
        expected = before.value - now.value
        out.append(Finding("rank_change", expected == change.value, year, basis, (unit,),
                           "rank_change.against_ranks",
                           {"rank_before": before.value, "rank_now": now.value, "change": expected,
                            "stated": change.value},
                           (before.winner, now.winner, change.winner)))
    return out


def _merged_means(record: Record) -> list[Finding]:
    from dti.units import load_crosswalk

    crosswalk = load_crosswalk("provinces-63", "provinces-34")
    out = []
    for year in sorted({f.year for f in record.facts if f.basis == "provinces-34"}):
        for unit, figure in sorted(record.of(year, "provinces-34").get("total_score", {}).items()):
            former = crosswalk.new_to_old.get(unit, ())
            if len(former) < 2:
                continue
            parts = [record.figure(year, "provinces-63", code, "total_score") for code in former]
            if any(p is None for p in parts):
                continue
            mean = sum(p.value for p in parts) / len(parts)    # type: ignore[union-attr]
            holds = abs(mean - figure.value) <= 2 * HALF_UNIT
            out.append(Finding("merged_mean", holds, year, "provinces-34", (unit, *former),
                               "merged_mean.against_former", {"mean": mean, "published": figure.value},
                               (figure.winner, *(p.winner for p in parts))))   # type: ignore[union-attr]
    return out
