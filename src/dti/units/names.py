"""Matching keys for Vietnamese unit names, the province alias table and near-miss suggestions.

Province names reach the package spelled in many ways: results tables copied from news sites
("TP. Hồ Chí Minh", "Thừa Thiên - Huế"), spreadsheets typed without a Vietnamese keyboard
("Ha Noi", "thai nguyen"), text pasted from macOS (NFD), old and new tone placement ("Hoà"/"Hòa"),
English names ("Hanoi", "Da Nang City") and short forms ("HCM", "BR-VT").  Instead of listing
every variant, each spelling is reduced to one *key* (:func:`normalise_name`) under which the
variants coincide; only the short forms, which no rule can derive, are kept in
:data:`PROVINCE_ALIASES`.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping

# Administrative prefixes dropped from the start of a name, as word sequences after folding.
# "T.P." folds to the two words "t" "p".  Longer sequences come first so "thanh pho" wins over
# nothing; a prefix is only dropped when words remain after it.
NAME_PREFIXES: tuple[tuple[str, ...], ...] = (
    ("thanh", "pho"),
    ("thu", "do"),
    ("tinh",),
    ("tp",),
    ("t", "p"),
)

# English designations dropped from the end ("Da Nang City", "Ha Giang Province").
NAME_SUFFIXES: tuple[tuple[str, ...], ...] = (("city",), ("province",))

# Short and variant forms that no folding rule derives, written as people write them and mapped
# to the official name they stand for.  Both sides are reduced to keys when the table is built,
# so the spelling here needs no care beyond being recognisable.
PROVINCE_ALIASES: Mapping[str, str] = {
    "HCM": "Hồ Chí Minh",
    "HCMC": "Hồ Chí Minh",
    "TPHCM": "Hồ Chí Minh",
    "Sài Gòn": "Hồ Chí Minh",
    "Thừa Thiên Huế": "Huế",
    "TT Huế": "Huế",
    "HN": "Hà Nội",
    "BR-VT": "Bà Rịa - Vũng Tàu",
    "Đắc Lắc": "Đắk Lắk",
    "Dak Lac": "Đắk Lắk",
    "Đắc Nông": "Đắk Nông",
    "Bắc Cạn": "Bắc Kạn",
}

_WORD = re.compile(r"[^\W_]+")
_D_LETTERS = str.maketrans({"đ": "d", "Đ": "D", "Ð": "D", "ð": "d"})  # Ð/ð: look-alikes typed for Đ


def fold_diacritics(text: str) -> str:
    """Return ``text`` without Vietnamese diacritics, keeping case and spacing ("Đắk Lắk" → "Dak Lak").

    Used to derive an ASCII name for user unit sets that do not supply one.
    """
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped.translate(_D_LETTERS))


def _drop_affixes(words: list[str]) -> list[str]:
    """Drop leading prefixes and trailing suffixes, never leaving an empty word list."""
    changed = True
    while changed:
        changed = False
        for prefix in NAME_PREFIXES:
            size = len(prefix)
            if len(words) > size and tuple(words[:size]) == prefix:
                words, changed = words[size:], True
                break
    for suffix in NAME_SUFFIXES:
        size = len(suffix)
        if len(words) > size and tuple(words[-size:]) == suffix:
            words = words[:-size]
    return words


@functools.lru_cache(maxsize=4096)  # a few hundred distinct names; every unit set re-indexes them
def normalise_name(text: str) -> str:
    """Return the matching key of a unit name: the form under which common spellings coincide.

    Steps: Unicode NFD, combining marks removed (so NFC/NFD input and old/new tone placement
    agree), đ → d, lower case, administrative prefixes ("Tỉnh", "TP.", "Thành phố") and English
    suffixes ("City", "Province") dropped, then every character that is not a letter or digit
    removed (so "Bà Rịa–Vũng Tàu", "Ba Ria - Vung Tau" and "Hanoi"/"Ha Noi" agree).
    """
    folded = fold_diacritics(text).lower()
    words = _WORD.findall(folded)
    return "".join(_drop_affixes(words))


def alias_keys(aliases: Mapping[str, str]) -> dict[str, str]:
    """Reduce an alias table (spelling → official name) to key → key."""
    return {normalise_name(alias): normalise_name(target) for alias, target in aliases.items()}


def closest_names(key: str, candidates: Mapping[str, str], limit: int = 3,
                  cutoff: float = 0.5) -> list[str]:
    """Return up to ``limit`` display names whose keys are closest to ``key``, best first.

    ``candidates`` maps a key to the name shown to the user (several keys may share a name: a
    unit's Vietnamese, ASCII and English keys).  A name is ranked by its best key.  Ties keep
    the order of ``candidates`` so suggestions are stable from run to run.
    """
    best: dict[str, float] = {}
    for candidate_key, display in candidates.items():
        score = difflib.SequenceMatcher(None, key, candidate_key).ratio()
        if score >= cutoff and score > best.get(display, -1.0):
            best[display] = score
    ranked = sorted(best.items(), key=lambda item: -item[1])
    return [display for display, _ in ranked[:limit]]


def nfc(text: str) -> str:
    """Return ``text`` in Unicode NFC with surrounding whitespace removed.

    Every name the package stores or shows goes through here, so comparisons and output never
    depend on how the input was composed.
    """
    return unicodedata.normalize("NFC", text).strip()


def unique_in_order(values: Iterable[str]) -> list[str]:
    """Return ``values`` without repeats, first occurrence kept."""
    return list(dict.fromkeys(values))
