"""The interface's words, Vietnamese and English side by side, in one catalogue.

Every screen, page, PDF and command reads its words from the YAML files of this package, one file
an area (``portal``, ``app``, ``report``, ``cli``, ``record``).  A file's top-level keys are
sections (one screen or command each); each word is a pair, so a missing translation is a
visibly missing half of a line and ``tests/test_messages.py`` fails on it::

    interface:
      ranking: {vi: Xếp hạng, en: Ranking}

A pair's value is a string, a list (read as a tuple) or a mapping (a number locale, as read); a section
may hold sections.  An address names a file and a path in it: ``"portal.maps.geo"``.

Loading is lazy and cached: importing this module costs nothing (``yaml`` is imported on the first
read, so ``dti --help`` never pays for it), and a command reads only the file of the area it
shows.  A missing word raises :class:`MissingMessage`, naming the address and the key, so a typo
fails loudly in any test that renders the page rather than printing nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

LANGUAGES = ("vi", "en")


class MissingMessage(KeyError):
    """A word asked of the catalogue that its section does not have."""


class Words(dict):
    """One section in one language.  A plain ``dict`` to every reader (JSON, Jinja, ``**``), but
    a missing key names the section it was looked up in."""

    __slots__ = ("address",)

    def __init__(self, address: str, items: Mapping[str, Any]) -> None:
        super().__init__(items)
        self.address = address

    def __missing__(self, key: str) -> Any:
        raise MissingMessage(f"no message {key!r} in {self.address} (dti/messages)")


class Bilingual(Mapping):
    """A section in both languages, ``bilingual[lang]`` → :class:`Words`, read on first use: what a
    module that used to keep its own table of words per language holds instead."""

    def __init__(self, address: str) -> None:
        self.address = address

    def __getitem__(self, lang: str) -> Words:
        if lang not in LANGUAGES:
            raise KeyError(lang)
        return text(self.address, lang)

    def __iter__(self) -> Iterator[str]:
        return iter(LANGUAGES)

    def __len__(self) -> int:
        return len(LANGUAGES)

    def __repr__(self) -> str:
        return f"Bilingual({self.address!r})"


def bilingual(address: str) -> Bilingual:
    """The section at ``address`` in both languages, loaded when a language is first asked for."""
    return Bilingual(address)


@lru_cache(maxsize=None)
def text(address: str, lang: str) -> Words:
    """The section at ``address`` (``"area.section…"``) in ``lang`` ("vi" or "en")."""
    if lang not in LANGUAGES:
        raise ValueError(f"no language {lang!r} in the message catalogue: {', '.join(LANGUAGES)}")
    node = pairs(address)
    return _resolve(address, node, lang)


@lru_cache(maxsize=None)
def pairs(address: str) -> Mapping[str, Any]:
    """The section at ``address`` as written: each key with its ``{vi: …, en: …}`` pair."""
    area, *path = address.split(".")
    node: Any = _area(area)
    for i, part in enumerate(path):
        if not isinstance(node, Mapping) or part not in node or _is_pair(node):
            where = ".".join([area, *path[:i]])
            raise MissingMessage(f"no section {part!r} in {where} (dti/messages/{area}.yaml)")
        node = node[part]
    return node


@lru_cache(maxsize=None)
def problem_sentence(code: str, lang: str) -> str | None:
    """The sentence for a problem code in ``lang`` from ``problems/<lang>.yaml``, or None.

    Only Vietnamese has such a file: the library writes every problem in English, with the values
    where it is found, so the English sentence is the problem's own message."""
    return _problem_sentences(lang).get(code)


@lru_cache(maxsize=None)
def _problem_sentences(lang: str) -> Mapping[str, str]:
    import yaml

    try:
        source = resources.files(__name__).joinpath("problems", f"{lang}.yaml").read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    return yaml.load(source, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def areas() -> tuple[str, ...]:
    """Every area of the catalogue, one a YAML file."""
    files = resources.files(__name__).iterdir()
    return tuple(sorted(f.name.removesuffix(".yaml") for f in files if f.name.endswith(".yaml")))


@lru_cache(maxsize=None)
def _area(area: str) -> Mapping[str, Any]:
    import yaml   # here, not at the top: commands that show no words never import it

    try:
        source = resources.files(__name__).joinpath(f"{area}.yaml").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MissingMessage(f"no area {area!r} in the message catalogue: {', '.join(areas())}") from None
    return yaml.load(source, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _is_pair(node: Any) -> bool:
    return isinstance(node, Mapping) and set(node) == set(LANGUAGES)


def _resolve(address: str, node: Any, lang: str) -> Any:
    if _is_pair(node):
        return _frozen(node[lang])
    if not isinstance(node, Mapping):
        raise MissingMessage(f"{address} is neither a section nor a {{vi, en}} pair (dti/messages)")
    return Words(address, {key: _resolve(f"{address}.{key}", value, lang) for key, value in node.items()})


def _frozen(value: Any) -> Any:
    """A pair's list as a tuple (the tables' column headings were tuples); all else as read."""
    return tuple(value) if isinstance(value, list) else value
