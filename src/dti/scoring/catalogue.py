"""The sub-indicator catalogue of an edition: main indicators, their sub-indicators and rules.

A catalogue is a value: ``to_dict`` / ``from_dict`` round-trip exactly through JSON (the store
freezes it that way) and ``checksum`` is the SHA-256 of its canonical JSON.  Scoring is two pure
steps: :meth:`ScoringCatalogue.points` (answers → points per sub-indicator) and
:meth:`ScoringCatalogue.main_values` (points → each main indicator's 0..1 value, which the engine
aggregates).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from dti.errors import CatalogueError, Problem
from dti.scoring.rules import Rule, parse_rule
from dti.scoring.text import nfc

TOLERANCE = 1e-6  # sums of max points are compared to this; points may carry decimals


@dataclass(frozen=True)
class MainIndicator:
    """A main indicator (chỉ số chính): a section of the catalogue."""

    code: str
    number: str
    name_vi: str
    name_en: str
    max_points: float


@dataclass(frozen=True)
class SubIndicator:
    """A sub-indicator (chỉ số thành phần) with its scoring rule and evidence."""

    code: str
    main_code: str
    number: str
    name_vi: str
    name_en: str
    max_points: float
    rule: Rule
    evidence: str
    evidence_required: bool
    source: str
    verifier: str
    scored: bool = True
    method_vi: str = ""  # the prose of the "Cách xác định và tính điểm" cell, outside the rule

    def points(self, answer: Mapping[str, Any] | None) -> float | None:
        return self.rule.points(answer, self.max_points)


@dataclass(frozen=True)
class CatalogueInfo:
    """What a spreadsheet does not say about its catalogue: id, names, framework and notes."""

    id: str
    name_vi: str
    name_en: str
    framework_id: str
    illustrative: bool = False
    note_vi: str = ""
    note_en: str = ""


@dataclass(frozen=True)
class ScoringCatalogue:
    id: str
    name_vi: str
    name_en: str
    framework_id: str
    illustrative: bool
    note_vi: str
    note_en: str
    mains: tuple[MainIndicator, ...]
    items: tuple[SubIndicator, ...]

    def item(self, code: str) -> SubIndicator | None:
        """The sub-indicator with this code, or None when there is none."""
        return self._by_code.get(code)

    def by_main(self) -> dict[str, tuple[SubIndicator, ...]]:
        """Every main code (in order, even one without items) → its sub-indicators in order."""
        return dict(self._by_main)

    # A catalogue is frozen and parsed once per process; every save asks it for one item.
    @cached_property
    def _by_code(self) -> dict[str, SubIndicator]:
        return {i.code: i for i in reversed(self.items)}   # the first of a repeated code wins

    @cached_property
    def _by_main(self) -> dict[str, tuple[SubIndicator, ...]]:
        return {m.code: tuple(i for i in self.items if i.main_code == m.code) for m in self.mains}

    def points(self, answers: Mapping[str, Mapping[str, Any]]) -> dict[str, float | None]:
        """Points of every sub-indicator; None when unanswered or incomplete.

        Answers for codes that are not in the catalogue are ignored.
        """
        return {i.code: i.points(answers.get(i.code)) for i in self.items}

    def main_values(self, points: Mapping[str, float | None]) -> dict[str, float]:
        """Σ points of each main's scored sub-indicators ÷ its max points, in full precision.

        Unanswered (None or missing) counts 0; a main worth 0 points (not scored) is 0.0.
        """
        values = {}
        for main in self.mains:
            total = sum(points.get(i.code) or 0.0 for i in self.items
                        if i.main_code == main.code and i.scored)
            values[main.code] = total / main.max_points if main.max_points > 0 else 0.0
        return values

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "name_vi": self.name_vi, "name_en": self.name_en,
            "framework_id": self.framework_id, "illustrative": self.illustrative,
            "note_vi": self.note_vi, "note_en": self.note_en,
            "mains": [dict(m.__dict__) for m in self.mains],
            "items": [{**{k: v for k, v in i.__dict__.items() if k != "rule"}, "rule": i.rule.text}
                      for i in self.items],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ScoringCatalogue:
        """The catalogue of :meth:`to_dict`; raises CatalogueError listing every problem."""
        try:
            mains = tuple(MainIndicator(**{k: _text(v) for k, v in m.items()}) for m in d["mains"])
            raw_items = [{k: _text(v) for k, v in i.items()} for i in d["items"]]
            info = {k: _text(d[k]) for k in ("id", "name_vi", "name_en", "framework_id",
                                             "illustrative", "note_vi", "note_en")}
        except (KeyError, TypeError, AttributeError) as exc:
            raise CatalogueError([Problem("catalogue.bad_json", f"the catalogue data is not a "
                                          f"catalogue ({type(exc).__name__}: {exc})")]) from None
        items, problems = [], []
        for raw in raw_items:
            rule, rule_problems = parse_rule(str(raw.get("rule", "")), raw.get("max_points", 0))
            problems += [_at(p, indicator=raw.get("code")) for p in rule_problems]
            if rule is not None:
                try:
                    items.append(SubIndicator(**{**raw, "rule": rule}))
                except TypeError as exc:
                    problems.append(Problem("catalogue.bad_json", f"an item is not a sub-indicator "
                                            f"({exc})", indicator=raw.get("code")))
        catalogue = cls(**info, mains=mains, items=tuple(items))
        problems += structure_problems(catalogue)
        if problems:
            raise CatalogueError(problems)
        return catalogue

    def checksum(self) -> str:
        """SHA-256 (hex) of the canonical JSON of :meth:`to_dict`."""
        text = json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _text(value: Any) -> Any:
    return nfc(value) if isinstance(value, str) else value


def _at(problem: Problem, **where: Any) -> Problem:
    return Problem(**{**problem.__dict__, **{k: v for k, v in where.items() if v is not None}})


def structure_problems(catalogue: ScoringCatalogue) -> list[Problem]:
    """Problems of the catalogue as a whole: codes, sections and sums of max points.

    Located by indicator only; the loader adds file and row.
    """
    problems: list[Problem] = []
    seen: set[str] = set()
    for code in [m.code for m in catalogue.mains] + [i.code for i in catalogue.items]:
        if code in seen:
            problems.append(Problem("catalogue.duplicate_code", f"the code {code!r} is used twice; "
                                    "every indicator needs its own code", indicator=code))
        seen.add(code)
    mains = {m.code for m in catalogue.mains}
    for item in catalogue.items:
        if item.main_code not in mains:
            problems.append(Problem("catalogue.unknown_main", f"the main indicator "
                                    f"{item.main_code!r} is not in the catalogue",
                                    indicator=item.code))
        if not math.isfinite(item.max_points) or item.max_points < 0:
            problems.append(Problem("catalogue.bad_max_points", "the max points must be a number "
                                    "≥ 0", indicator=item.code, value=item.max_points))
    for main, items in catalogue.by_main().items():
        problems += _section_problems(next(m for m in catalogue.mains if m.code == main), items)
    return problems


def _section_problems(main: MainIndicator, items: tuple[SubIndicator, ...]) -> list[Problem]:
    if not items:
        return [Problem("catalogue.empty_main", "the main indicator has no sub-indicators; add "
                        "rows numbered like '1.1' under it", indicator=main.code)]
    total = sum(i.max_points for i in items)
    if abs(total - main.max_points) > TOLERANCE:
        return [Problem("catalogue.points_mismatch", f"its sub-indicators' max points add up to "
                        f"{total:g}, not the main indicator's {main.max_points:g}; correct one "
                        "of them", indicator=main.code, value=total)]
    return []
