"""The sentences of the record audit, in Vietnamese and in English.

A finding of :mod:`dti.editions.record_audit` carries a stable code and the values it found; this
module words them for a reader, numbers written as the language writes them (0,4954 in
Vietnamese, 0.4954 in English).  The Vietnamese uses the method's own terms, as the frameworks and
``GLOSSARY.md`` write them: F is the points of the common foundation group (*nhóm chỉ số nền tảng
chung*), an activity ratio is the ratio of a pillar's activity indicator (HĐCQS, HĐKTS, HĐXHS), a
measure is named by its framework node (*Trụ cột Chính quyền số*, *Chỉ số Nhận thức số*), and a
merged province's former provinces are the provinces before the arrangement (*trước sắp xếp*).

The English keeps the record's measure identifiers (``total_score``, ``score_cqs``), as the facts
file and the command's CSV write them.
"""

from __future__ import annotations

import string
from typing import Any, Mapping

from dti.formatting import format_number

SENTENCES: dict[str, dict[str, str]] = {   # one per finding code (docs/cli.md lists them)
    "foundation.within": {
        "en": "F = {foundation:2} points, activity ratios CQS {cqs:4}, KTS {kts:4}, XHS {xhs:4}",
        "vi": "F (điểm nhóm chỉ số nền tảng chung) = {foundation:2} điểm; tỷ lệ các chỉ số hoạt động: "
              "HĐCQS {cqs:4}, HĐKTS {kts:4}, HĐXHS {xhs:4}"},
    "foundation.outside": {   # F's clause; with RATIO_OUTSIDE's, one per value out of range
        "en": "F = {foundation:2} is outside 0–500",
        "vi": "F (điểm nhóm chỉ số nền tảng chung) = {foundation:2} nằm ngoài khoảng 0–500 điểm"},
    "total_2020.weighted_sum": {
        "en": "0.4·CQS + 0.3·KTS + 0.3·XHS = {expected:4}, published {published:4}",
        "vi": "0,4·CQS + 0,3·KTS + 0,3·XHS = {expected:4}, số công bố {published:4}"},
    "ranks_vs_scores.out_of_order": {
        "en": "{measure}: {higher_score:4} > {lower_score:4} but rank {rank_of_higher:0} is not better "
              "than {rank_of_lower:0}",
        "vi": "{measure}: {higher_score:4} > {lower_score:4} nhưng hạng {rank_of_higher:0} không cao "
              "hơn hạng {rank_of_lower:0}"},
    "ranks_vs_scores.in_order": {
        "en": "{measure}: {count} units with score and rank, in order",
        "vi": "{measure}: {count} tỉnh, thành phố có cả điểm và hạng, hạng đúng thứ tự điểm"},
    "rank_change.against_ranks": {
        "en": "rank {rank_before:0} ({year_before}) → {rank_now:0} ({year}) is a change of {change:+0}; "
              "stated {stated:+0}",
        "vi": "hạng {rank_before:0} ({year_before}) → {rank_now:0} ({year}) là thay đổi {change:+0} bậc; "
              "số công bố {stated:+0}"},
    "merged_mean.against_former": {
        "en": "mean of the former provinces {mean:4}, published {published:4}",
        "vi": "trung bình của các tỉnh trước sắp xếp {mean:4}, số công bố {published:4}"},
}

RATIO_OUTSIDE = {"en": "the {pillar} activity ratio {ratio:4} is outside 0–1",
                 "vi": "tỷ lệ chỉ số hoạt động {pillar} {ratio:4} nằm ngoài khoảng 0–1"}
ACTIVITY_VI = {"cqs": "HĐCQS", "kts": "HĐKTS", "xhs": "HĐXHS"}   # as the framework's formula writes them

CHECKS = {   # each check's name, for the audit's page and command
    "vi": {"foundation": "Điểm nhóm chỉ số nền tảng chung (Quyết định 922)",
           "ranks_vs_scores": "Hạng so với điểm", "merged_mean": "Trung bình các tỉnh trước sắp xếp",
           "total_2020": "Tổng điểm 2020", "rank_change": "Thay đổi hạng"},
    "en": {"foundation": "Foundation points (Decision 922)", "ranks_vs_scores": "Ranks against scores",
           "merged_mean": "Merged provinces' means", "total_2020": "2020 totals",
           "rank_change": "Rank changes"},
}


class _Numbers(string.Formatter):
    """``{value:4}`` is a number with 4 decimals, ``{value:+0}`` a signed whole number, each in the
    reader's language; a field without a spec (a year, a count, a name) is written as it is."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec and isinstance(value, (int, float)) and not isinstance(value, bool):
            signed = format_spec.startswith("+")
            return format_number(value, self.lang, int(format_spec.lstrip("+")), signed=signed)
        return super().format_field(value, format_spec)


def finding_text(code: str, values: Mapping[str, Any], year: int, lang: str = "en") -> str:
    """The sentence of one finding in ``lang`` ("vi", else English)."""
    lang = "vi" if lang == "vi" else "en"
    words = _Numbers(lang)
    if code == "foundation.outside":
        return "; ".join(_outside(values, lang, words))
    fields = {**values, "year": year, "year_before": year - 1}
    if "measure" in values:
        fields["measure"] = measure_name(values["measure"], year, lang)
    return words.format(SENTENCES[code][lang], **fields)


def _outside(values: Mapping[str, Any], lang: str, words: _Numbers) -> list[str]:
    clauses = []
    for name in values["outside"]:
        if name == "foundation":
            clauses.append(words.format(SENTENCES["foundation.outside"][lang], **values))
        else:
            pillar = ACTIVITY_VI[name] if lang == "vi" else name.upper()
            clauses.append(words.format(RATIO_OUTSIDE[lang], pillar=pillar, ratio=values[name]))
    return clauses


def measure_name(measure: str, year: int, lang: str) -> str:
    """A score measure of the record as the reader's language names it: in Vietnamese the name of
    its node in the edition's framework (one vocabulary with the method pages), in English the
    record's identifier."""
    from dti.editions import SCORE_COLUMNS, edition_ids, load_edition

    edition_id = f"dti-province-{year}"
    if lang != "vi" or measure not in SCORE_COLUMNS or edition_id not in edition_ids():
        return measure
    framework = load_edition(edition_id).framework
    code = SCORE_COLUMNS[measure]
    if code not in framework:
        return measure
    node = framework[code]
    return f"Chỉ số {node.name('vi')}" if node.is_indicator else node.name("vi")
