"""``dti export-site``: the public portal as static files — every page and twin, links that
resolve between the files, NFC UTF-8 text, atomic writes and the refusal to overwrite."""

from __future__ import annotations

import json
import re
import socket
import unicodedata
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from dti.cli import main
from dti.web import export
from dti.web.export import Key, Scheme
from dti.web.settings import Settings
from dti.web.snapshot import Catalogue

E = "dti-province-2022"
LINK = re.compile(r'\s(href|src|action|data-ranking)="([^"]*)"')


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, str, str]:
    """One export of the 2022 edition: (folder, standard output, standard error)."""
    import contextlib
    import io

    out = tmp_path_factory.mktemp("export") / "site"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["export-site", "--edition", E, "--out", str(out)])
    assert code == 0, stderr.getvalue()
    return out, stdout.getvalue(), stderr.getvalue()


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.shipped(("dti-province-2020", "dti-province-2021", E))


def test_the_command_says_what_it_wrote_and_no_link_is_broken(site):
    folder, out, err = site
    files = [p for p in folder.rglob("*") if p.is_file()]
    head = out.splitlines()[0]
    assert head.startswith(f"wrote {folder}: {len(files):,} files, ")
    assert "dti-province-2020, dti-province-2021, dti-province-2022" in head
    for label in ("HTML pages", "JSON twins", "CSV twins", "API snapshots", "static assets"):
        assert label in out
    assert err == ""                          # no warning: every link answered 200
    assert not list(folder.parent.glob(".site.*"))   # no temporary folder left behind


def test_every_page_and_twin_is_exported(site, catalogue):
    folder = site[0]
    ranking = catalogue.ranking(E)
    expected = ["index.html", "en/index.html", "static/site.css", "static/site.js",
                "static/export-site.js", "api/v1/openapi.json", "api/v1/editions.json",
                f"api/v1/editions/{E}.json", f"api/v1/editions/{E}/results.json",
                f"api/v1/editions/{E}/framework.json", f"api/v1/editions/{E}/provinces/19.json",
                "api/v1/provinces/19/history.json"]
    for lang in ("", "en/"):
        expected += [f"{lang}compare/index.html", f"{lang}compare.json", f"{lang}compare.csv"]
        for page in (f"editions/{E}", f"editions/{E}/method"):
            expected += [f"{lang}{page}/index.html", f"{lang}{page}.json", f"{lang}{page}.csv"]
        for row in ranking.rows:
            page = f"{lang}editions/{E}/provinces/{row.code}"
            expected += [f"{page}/index.html", f"{page}.json", f"{page}.csv"]
    assert len(ranking.rows) == 63
    missing = [p for p in expected if not (folder / p).is_file()]
    assert missing == []
    # the map, if the portal has one, with every indicator it can show
    if (folder / f"editions/{E}/map/index.html").exists():
        for column in ranking.columns[1:]:
            assert (folder / f"editions/{E}/map/indicators/{column.code}/index.html").is_file()


def test_the_exported_map_is_the_view_the_portal_opens_on(site):
    """2022 publishes 63 ranks and 6 scores: map/ is the rank view, the score view is by-score/."""
    folder = site[0]
    current = re.compile(r'<strong aria-current="page">([^<]+)</strong>')
    default = (folder / f"editions/{E}/map/index.html").read_text(encoding="utf-8")
    by_score = (folder / f"editions/{E}/map/by-score/index.html").read_text(encoding="utf-8")
    assert current.search(default).group(1) == "Theo hạng công bố"
    assert current.search(by_score).group(1) == "Theo điểm"
    assert 'href="by-score/index.html"' in default
    assert not (folder / f"editions/{E}/map/by-rank").exists()   # the default is filed once


def test_exported_pages_are_the_apps_own_output(site):
    folder = site[0]
    ranking = (folder / f"editions/{E}/index.html").read_text(encoding="utf-8")
    assert ranking.count("<tr data-region=") == 63
    assert "Đà Nẵng" in ranking and "0,8002" in ranking
    english = (folder / f"en/editions/{E}/provinces/48/index.html").read_text(encoding="utf-8")
    assert "Da Nang" in english and "0.8002" in english
    data = json.loads((folder / f"editions/{E}.json").read_text(encoding="utf-8"))
    assert [r["rank"] for r in data["results"]][:5] == [1, 2, 3, 4, 5]
    assert data["results"][0]["value"] == 0.8002
    csv_text = (folder / f"editions/{E}.csv").read_text(encoding="utf-8-sig")
    assert csv_text.splitlines()[1].startswith("48,Đà Nẵng,")


def _targets(page: Path, folder: Path) -> list[tuple[str, Path]]:
    text = page.read_text(encoding="utf-8")
    found = [(value, name) for name, value in LINK.findall(text)]
    for variants in re.findall(r'data-variants="([^"]*)"', text):
        found += [(v, "data-variants") for v in json.loads(variants.replace("&quot;", '"')).values()]
    out = []
    for value, name in found:
        value = value.replace("&amp;", "&")
        parts = urlsplit(value)
        if parts.scheme or value.startswith(("#", "mailto:")) or (name == "href" and not parts.path):
            continue
        assert not value.startswith("/"), f"{page.relative_to(folder)}: root-absolute link {value}"
        out.append((value, (page.parent / unquote(parts.path)).resolve()))
    return out


def test_every_link_in_every_page_resolves_to_an_exported_file(site):
    folder = site[0].resolve()
    pages = list(folder.rglob("*.html"))
    assert len(pages) > 150
    broken, checked = [], 0
    for page in pages:
        for value, target in _targets(page, folder):
            checked += 1
            if not target.is_file() or folder not in target.parents:
                broken.append(f"{page.relative_to(folder)} → {value}")
    assert checked > 5000
    assert broken == []


def test_vietnamese_text_is_nfc_utf8(site):
    folder = site[0]
    for path in folder.rglob("*"):
        if path.suffix in (".html", ".json", ".csv", ".js", ".css"):
            text = path.read_bytes().decode("utf-8")          # strict: raises on anything else
            assert unicodedata.is_normalized("NFC", text), path
    page = (folder / f"editions/{E}/provinces/19/index.html").read_text(encoding="utf-8")
    assert '<meta charset="utf-8">' in page
    assert "Thái Nguyên" in page and unicodedata.normalize("NFD", "Thái Nguyên") not in page


def test_a_second_export_into_the_non_empty_folder_is_refused(site, capsys):
    folder = site[0]
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    code, out, err = run(capsys, "export-site", "--edition", E, "--out", str(folder))
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(f"error: {folder}: the output folder is not empty") and "--force" in err
    assert "[export.not_empty]" in err
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before


def small_crawl(monkeypatch) -> None:
    """Only a handful of pages, for tests of the writing itself."""
    monkeypatch.setattr(export, "seeds", lambda catalogue, editions=None: [
        f"/editions/{E}", f"/editions/{E}.json", "/static/site.css"])
    monkeypatch.setattr(export, "api_seeds", lambda catalogue, spec: [])


def test_force_replaces_a_non_empty_folder(tmp_path, capsys, monkeypatch):
    small_crawl(monkeypatch)
    out = tmp_path / "site"
    out.mkdir()
    (out / "stale.html").write_text("old", encoding="utf-8")
    code, stdout, err = run(capsys, "export-site", "--edition", E, "--out", str(out), "--force")
    assert code == 0, err
    assert not (out / "stale.html").exists()
    assert (out / f"editions/{E}/index.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]      # no temporary folder left


def test_an_export_that_fails_leaves_nothing_behind(tmp_path, capsys, monkeypatch):
    small_crawl(monkeypatch)
    real = export.write_site

    def failing(*args, **kwargs):
        real(*args, **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export, "write_site", failing)
    code, _, err = run(capsys, "export-site", "--edition", E, "--out", str(tmp_path / "site"))
    assert code == 1 and err.startswith("error: No space left on device")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv, message", [
    (["--edition", "dti-province-1999"], "error: unknown edition 'dti-province-1999'"),
    (["--edition", E, "--all"], "error: give --edition or --all, not both [export.editions_conflict]"),
])
def test_bad_arguments_are_one_line(tmp_path, capsys, argv, message):
    code, _, err = run(capsys, "export-site", *argv, "--out", str(tmp_path / "site"))
    assert code == 1 and err.startswith(message) and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "site").exists()


def test_an_output_that_is_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "site").write_text("x", encoding="utf-8")
    code, _, err = run(capsys, "export-site", "--out", str(tmp_path / "site"))
    assert code == 1 and "[export.not_a_folder]" in err and len(err.strip().splitlines()) == 1


def test_a_draft_edition_is_not_exported(tmp_path, capsys, monkeypatch):
    from dti.editions import load_edition

    draft = load_edition(E)
    monkeypatch.setattr(type(draft), "is_published", property(lambda self: self.id != E))
    code, _, err = run(capsys, "export-site", "--edition", E, "--out", str(tmp_path / "site"))
    assert code == 1 and f"edition '{E}' is not published" in err and "[export.not_published]" in err


def test_the_url_scheme():
    scheme = Scheme(Catalogue.shipped())

    def file(url: str, content_type: str = "text/html; charset=utf-8") -> str:
        return scheme.file(scheme.split("http://portal.export" + url)[0], content_type)

    assert file(f"/editions/{E}") == f"editions/{E}/index.html"
    assert file(f"/editions/{E}?basis=provinces-63&sort=KTS") == f"editions/{E}/index.html"
    assert file(f"/editions/{E}.csv?basis=provinces-63", "text/csv") == f"editions/{E}.csv"
    assert (file("/editions/dti-province-2024?basis=provinces-63")
            == "editions/dti-province-2024/bases/provinces-63/index.html")
    assert (file("/en/editions/dti-province-2024.json?basis=provinces-63", "application/json")
            == "en/editions/dti-province-2024/bases/provinces-63.json")
    assert file(f"/provinces/19?edition={E}") == f"editions/{E}/provinces/19/index.html"
    assert file(f"/en/provinces/19.json?edition={E}", "application/json") == \
        f"en/editions/{E}/provinces/19.json"
    assert file(f"/editions/{E}/map?indicator=DTI") == f"editions/{E}/map/index.html"
    assert file(f"/editions/{E}/map?indicator=KTS") == f"editions/{E}/map/indicators/KTS/index.html"
    # on the map, no basis means both bases side by side: a basis is always a page of its own
    assert (file("/editions/dti-province-2024/map?basis=provinces-34")
            == "editions/dti-province-2024/bases/provinces-34/map/index.html")
    assert file("/compare?units=01,48") == "compare/index.html"
    assert file("/api/v1/editions", "application/json") == "api/v1/editions.json"
    assert file(f"/api/v1/editions/{E}/results", "application/json") == f"api/v1/editions/{E}/results.json"
    assert file("/static/site.css", "text/css") == "static/site.css"
    assert file("/en/") == "en/index.html"
    key, dynamic, fragment = scheme.split(f"http://portal.export/editions/{E}?region=X&q=y#top")
    assert key == Key(f"/editions/{E}") and dynamic == [("region", "X"), ("q", "y")] and fragment == "top"


def test_settings_of_an_export_hold_the_editions_up_to_the_one_asked_for():
    assert export.editions_for(E, False) == ("dti-province-2020", "dti-province-2021", E)
    assert export.editions_for(None, True)[-1] == "dti-province-2024"
    assert Settings(editions=export.editions_for(None, False)).editions[-1] == "dti-province-2024"


def test_serve_refuses_an_address_in_use(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = run(capsys, "serve", "--host", "127.0.0.1", "--port", str(port))
    assert code == 1 and out == ""
    assert err == (f"error: 127.0.0.1:{port}: the port is already in use; stop the other server "
                   "or give --port [serve.address_unavailable]\n")


def test_server_only_report_links_are_left_out_of_the_static_site(site):
    folder = site[0]
    ranking = (folder / "editions" / "dti-province-2022" / "index.html").read_text(encoding="utf-8")
    assert "/reports/" not in ranking and "server-only" not in ranking
    assert "XLSX" in ranking   # the rest of the download line stays
