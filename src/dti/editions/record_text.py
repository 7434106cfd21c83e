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
from dti.messages import bilingual, pairs, text

# The sentences (one per finding code, docs/cli.md lists them), the checks' names and the
# activity ratios' names live in the message catalogue (dti/messages/record.yaml).
CHECKS = bilingual("record.checks")


def __getattr__(name: str) -> Any:
    """``SENTENCES``, each finding code with its {vi, en} pair, read when first asked for: a
    command that only names measures (``dti record show``) does not parse the sentences."""
    if name == "SENTENCES":
        return pairs("record.sentences")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    return words.format(text("record.sentences", lang)[code], **fields)


def _outside(values: Mapping[str, Any], lang: str, words: _Numbers) -> list[str]:
    clauses = []
    for name in values["outside"]:
        if name == "foundation":
            clauses.append(words.format(text("record.sentences", lang)["foundation.outside"], **values))
        else:
            pillar = text("record.activity", lang)[name]
            clauses.append(words.format(text("record.ratio_outside", lang), pillar=pillar, ratio=values[name]))
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
