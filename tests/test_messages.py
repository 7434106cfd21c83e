"""The message catalogue (dti/messages): every word in both languages, and every word a page or a
command asks for is there."""

from __future__ import annotations

import ast
import re
import unicodedata
from importlib import resources
from pathlib import Path

import pytest
import yaml

from dti.messages import LANGUAGES, MissingMessage, Words, areas, bilingual, pairs, text

SRC = Path(__file__).parents[1] / "src" / "dti"
TEMPLATES = SRC / "web" / "templates"
LETTERS = re.compile(r"[^\W\d_]")
VIETNAMESE = re.compile(r"[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]",
                        re.IGNORECASE)


def _pairs(node, address):
    """Every (address, {vi, en}) pair below a node of a catalogue file."""
    if isinstance(node, dict) and set(node) == set(LANGUAGES):
        yield address, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _pairs(value, f"{address}.{key}")
    else:
        pytest.fail(f"{address}: {node!r} is neither a section nor a {{vi, en}} pair")


def _all_pairs():
    for area in areas():
        yield from _pairs(pairs(area), area)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)


def test_the_catalogue_has_the_areas_the_interfaces_read():
    assert set(areas()) >= {"portal", "app", "report", "cli", "record"}
    assert len(list(_all_pairs())) > 400


def test_every_word_has_both_languages_non_empty_and_of_the_same_shape():
    problems = []
    for address, pair in _all_pairs():
        vi, en = pair["vi"], pair["en"]
        if type(vi) is not type(en):
            problems.append(f"{address}: vi is {type(vi).__name__}, en is {type(en).__name__}")
        elif isinstance(vi, list) and len(vi) != len(en):
            problems.append(f"{address}: {len(vi)} vi items, {len(en)} en items")
        if not vi or not en:
            problems.append(f"{address}: an empty language")
    assert problems == []


def test_the_files_are_utf8_nfc_and_parse_as_written():
    for area in areas():
        raw = resources.files("dti.messages").joinpath(f"{area}.yaml").read_bytes()
        source = raw.decode("utf-8")
        assert unicodedata.normalize("NFC", source) == source, area
        assert yaml.safe_load(source) == pairs(area)


def test_the_same_placeholders_in_both_languages():
    """A sentence that names {unit} in Vietnamese must name it in English, or one language
    would fail at .format() or drop the value."""
    problems = []
    for address, pair in _all_pairs():
        for vi, en in zip(_strings(pair["vi"]), _strings(pair["en"]), strict=False):
            fields_vi, fields_en = set(re.findall(r"\{(\w*)", vi)), set(re.findall(r"\{(\w*)", en))
            if fields_vi != fields_en:
                problems.append(f"{address}: vi {sorted(fields_vi)}, en {sorted(fields_en)}")
    assert problems == []


def test_the_languages_are_not_swapped():
    """Vietnamese is written with diacritics and English without; most words differ."""
    vi_marked = en_marked = differ = total = 0
    for _, pair in _all_pairs():
        for vi, en in zip(_strings(pair["vi"]), _strings(pair["en"]), strict=False):
            if not LETTERS.search(en):
                continue
            total += 1
            vi_marked += bool(VIETNAMESE.search(vi))
            en_marked += bool(VIETNAMESE.search(en))
            differ += vi != en
    assert total > 400
    assert vi_marked / total > 0.8
    assert en_marked / total < 0.05        # Hoàng Sa, "Địa phận tỉnh": names, not sentences
    assert differ / total > 0.9


def test_a_missing_word_names_the_section_and_the_key():
    words = text("portal.interface", "en")
    assert words["ranking"] == "Ranking"
    with pytest.raises(MissingMessage, match=r"'no_such_word' in portal\.interface"):
        words["no_such_word"]
    with pytest.raises(KeyError):                 # a MissingMessage is a KeyError to its callers
        text("cli.record_show", "vi")["no_such_word"]
    with pytest.raises(MissingMessage, match="no section 'nowhere' in portal"):
        text("portal.nowhere", "vi")
    with pytest.raises(MissingMessage, match="no area 'nowhere'"):
        text("nowhere.interface", "vi")


def test_a_section_reads_as_a_dict_per_language_and_lists_as_tuples():
    table = bilingual("cli.record_show")
    assert list(table) == ["vi", "en"] and table.get("fr") is None
    assert isinstance(table["vi"], Words) and table["vi"] is text("cli.record_show", "vi")
    assert table["vi"]["columns"][0] == "Năm" and isinstance(table["en"]["columns"], tuple)
    assert text("portal.maps", "vi")["geo"]["provinces-63"].startswith("Ranh giới 63 tỉnh")
    assert text("portal.number_locale", "vi")["currency"] == ["", "\u00a0₫"]


def test_no_module_keeps_its_own_table_of_words():
    table = re.compile(r"""["']vi["']\s*:\s*\{""")
    offenders = [f"{path.relative_to(SRC)}:{n}"
                 for path in SRC.rglob("*.py")
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if table.search(line)]
    assert offenders == []


# -- every word a template asks for exists ------------------------------------------------------

def _template_keys(source: str, name: str) -> set[str]:
    """``name.key`` and ``name["key"]`` in a template (not ``x.name.key``, not a dict method)."""
    dotted = re.findall(rf"(?<![\w.]){name}\.([A-Za-z_]\w*)", source)
    indexed = re.findall(rf"""(?<![\w.]){name}\[\s*["']([^"'~]+)["']\s*\]""", source)
    return {k for k in dotted if k not in {"get", "items", "keys", "values"}} | set(indexed)


def _template_prefixes(source: str) -> set[str]:
    """The prefixes of built keys: ``t['state_' ~ state]``."""
    return set(re.findall(r"""(?<![\w.])t\[\s*["'](\w+)["']\s*~""", source))


def _app_sections() -> dict[str, set[str]]:
    """Each app template and the catalogue sections its routes pass as ``extra_text`` (found in
    the route modules' ``render(…, "app/x.html", …, extra_text=NAME)`` calls); a partial gets
    those of the templates that include it."""
    sections: dict[str, set[str]] = {}
    folder = SRC / "web" / "assessment"
    names = {p.stem: _catalogue_names(ast.parse(p.read_text(encoding="utf-8"))) for p in folder.glob("*.py")}
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        known = dict(names[path.stem])
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dti.web.assessment."):
                source = names.get(node.module.rsplit(".", 1)[1], {})
                known.update({a.name: source[a.name] for a in node.names if a.name in source})
        for call in ast.walk(tree):
            if not (isinstance(call, ast.Call) and getattr(call.func, "id", None) == "render"
                    and len(call.args) > 2 and isinstance(call.args[2], ast.Constant)):
                continue
            extra = [k.value.id for k in call.keywords if k.arg == "extra_text"]
            sections.setdefault(call.args[2].value, set()).update(known[e] for e in extra)
    for template in sorted((TEMPLATES / "app").glob("*.html")):
        source = template.read_text(encoding="utf-8")
        for included in re.findall(r'{%-?\s*include\s+"(app/_\w+\.html)"', source):
            sections.setdefault(included, set()).update(sections.get(f"app/{template.name}", set()))
    return sections


def _app_words(template: str, lang: str) -> set[str]:
    from dti.web.assessment.words import text as app_text

    own = _app_sections().get(template, set())
    return set(app_text(lang)).union(*(text(address, lang) for address in own))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_word_the_public_templates_ask_for_exists(lang):
    from dti.web.record_page import labels as record_labels

    names = {"t": set(text("portal.interface", lang)), "chrome": set(text("portal.chrome", lang))}
    own = {"record.html": set(record_labels(lang)), "story.html": set(text("portal.story", lang)),
           "report_national.html": set(text("portal.reports", lang)),
           "report_province.html": set(text("portal.reports", lang)),
           "report_base.html": set(text("portal.reports", lang))}
    missing = []
    for path in sorted(TEMPLATES.glob("*.html")):
        source = path.read_text(encoding="utf-8")
        for name, known in names.items():
            missing += [f"{path.name}: {name}.{k}" for k in _template_keys(source, name) - known]
        if path.name in {"record.html", "story.html"}:
            missing += [f"{path.name}: s.{k}" for k in _template_keys(source, "s") - own[path.name]]
    assert missing == []


def test_the_app_templates_are_found_with_their_routes_words():
    sections = _app_sections()
    assert sections["app/queue.html"] == {"app.review"} and sections["app/login.html"] == {"app.auth"}
    assert "app.entry" in sections["app/_answer.html"]        # included by assessment.html


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_word_the_app_templates_ask_for_exists(lang):
    missing = []
    for path in sorted((TEMPLATES / "app").glob("*.html")):
        source = path.read_text(encoding="utf-8")
        known = _app_words(f"app/{path.name}", lang)
        missing += [f"app/{path.name}: t.{k}" for k in _template_keys(source, "t") - known]
        missing += [f"app/{path.name}: t['{p}' ~ …]" for p in _template_prefixes(source)
                    if not any(k.startswith(p) for k in known)]
    assert missing == []


# -- every word the Python asks for exists -------------------------------------------------------

def _catalogue_names(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = bilingual("address")``."""
    names = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "id", None) == "bilingual"):
            names[node.targets[0].id] = node.value.args[0].value
    return names


def _literal_lookups(tree: ast.Module, tables: dict[str, str]) -> set[tuple[str, str, int]]:
    """(address, key, line) for ``NAME[lang]["key"]`` and ``labels(lang)["key"]`` (a function of
    the module that returns ``NAME[…]``), and for ``w["key"]`` where a function bound ``w`` to one
    of those (``w = NAME[lang]``, ``t, x = labels(lang), …``)."""
    readers = {}

    def table_of(expr):
        if isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Name):
            return tables.get(expr.value.id)
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
            return readers.get(expr.func.id)
        return None

    functions = [f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)]
    for function in functions:
        returns = [n.value for n in ast.walk(function) if isinstance(n, ast.Return)]
        if len(returns) == 1 and table_of(returns[0]):
            readers[function.name] = table_of(returns[0])
    found = set()
    for function in [tree, *functions]:
        local = {}
        for node in ast.walk(function):
            if isinstance(node, ast.Assign):
                targets, values = node.targets[0], node.value
                bound = (zip(targets.elts, values.elts) if isinstance(targets, ast.Tuple)
                         and isinstance(values, ast.Tuple) else [(targets, values)])
                for target, value in bound:
                    if isinstance(target, ast.Name) and table_of(value):
                        local[target.id] = table_of(value)
        for node in ast.walk(function):
            if not (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant)
                    and isinstance(node.slice.value, str)):
                continue
            address = table_of(node.value)
            if address is None and isinstance(node.value, ast.Name):
                address = local.get(node.value.id)
            if address:
                found.add((address, node.slice.value, node.lineno))
    return found


def test_every_word_the_python_asks_for_by_name_exists():
    missing, seen = [], 0
    for path in sorted(SRC.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if "bilingual(" not in source:
            continue
        tree = ast.parse(source)
        for address, key, line in _literal_lookups(tree, _catalogue_names(tree)):
            seen += 1
            for lang in LANGUAGES:
                if key not in text(address, lang):
                    missing.append(f"{path.relative_to(SRC)}:{line}: {address} has no {key!r} ({lang})")
    assert seen > 100         # the scan finds the lookups it is meant to check
    assert missing == []


def test_the_loader_sits_low_and_reads_nothing_until_asked():
    """The CLI, the reports, the web and the editions all read it: it may import only the standard
    library and yaml, and yaml only when a file is first read (``dti --help`` shows no words)."""
    import sys

    tree = ast.parse((SRC / "messages" / "__init__.py").read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported - set(sys.stdlib_module_names) == {"yaml"}
    top_level = {alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    assert "yaml" not in top_level


def test_every_problem_sentence_belongs_to_a_documented_code_and_reads_as_vietnamese():
    from dti.messages import _problem_sentences, problem_sentence

    documented = set(re.findall(r"`([a-z_]+\.[a-z_]+)`",
                                (SRC.parents[1] / "docs" / "issue-codes.md").read_text("utf-8")))
    sentences = _problem_sentences("vi")
    assert len(sentences) > 30
    assert sorted(set(sentences) - documented) == []
    for code, sentence in sentences.items():
        assert sentence and unicodedata.is_normalized("NFC", sentence), code
    assert sum(any(ord(c) > 127 for c in s) for s in sentences.values()) > 0.9 * len(sentences)
    assert problem_sentence("answer.negative", "en") is None   # English: the library's own message
    assert problem_sentence("no.such_code", "vi") is None


def test_the_app_shows_the_vietnamese_sentence_and_keeps_the_english():
    from dti.web.assessment.messages import localise

    problem = {"code": "answer.negative", "message": "must not be negative", "row": 3}
    shown = localise(problem, "vi")
    assert shown["message"] == "không được là số âm"
    assert shown["message_en"] == "must not be negative" and shown["row"] == 3
    assert localise(problem, "en") == problem
