"""The portal asks nothing of another host: the API docs (Swagger UI from ``static/vendor``) render
in Chromium with every non-loopback request blocked, live and in the static export, and so do the
home page, a ranking, a profile and the map.  Also the error page in both languages and the
favicon."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from dti.web import create_app

from test_browser import browser, live_app, static_site  # noqa: F401 (fixtures)

E = "dti-province-2022"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
STATIC = Path(__file__).parents[1] / "src" / "dti" / "web" / "static"
SHOTS = Path(__file__).parents[1] / "var" / "screenshots"


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


class Blocker:
    """A browser context whose every request to a host other than the loopback is aborted and
    recorded; Content-Security-Policy refusals and script errors are recorded too."""

    def __init__(self, browser, **options) -> None:  # noqa: F811 (the fixture)
        self.off_host: list[str] = []
        self.refused: list[str] = []
        self.context = browser.new_context(**options)
        self.context.route("**/*", self._route)
        self.tab = self.context.new_page()
        self.tab.on("console", self._console)
        self.tab.on("pageerror", lambda error: self.refused.append(f"script error: {error}"))

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:", "about:")) or urlsplit(url).hostname in LOOPBACK:
            route.continue_()
        else:
            self.off_host.append(url)
            route.abort()

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or message.type == "error":
            self.refused.append(message.text)

    def close(self) -> None:
        self.context.close()


def _docs_render(tab) -> None:
    """Swagger UI drew the API: the operation block of ``GET /api/v1/editions`` is visible."""
    block = tab.locator(".opblock-get", has=tab.locator('[data-path="/api/v1/editions"]')).first
    block.wait_for(state="visible", timeout=20_000)
    assert tab.locator(".swagger-ui .info .title").first.inner_text().startswith("DTI open data")
    assert tab.locator(".opblock").count() >= 9         # every documented route


def test_the_api_docs_render_with_every_other_host_blocked(browser, live_app):  # noqa: F811
    blocked = Blocker(browser, viewport={"width": 1366, "height": 900})
    response = blocked.tab.goto(live_app + "/api/v1/docs")
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    _docs_render(blocked.tab)
    blocked.tab.locator(".opblock-summary", has_text="/api/v1/editions").first.click()
    blocked.tab.locator(".opblock-body").first.wait_for(state="visible")
    SHOTS.mkdir(parents=True, exist_ok=True)
    blocked.tab.screenshot(path=str(SHOTS / "api-docs.png"))
    blocked.tab.goto(live_app + "/en/api/v1/docs")
    _docs_render(blocked.tab)
    assert blocked.tab.locator("h1").first.inner_text() == "Open data: API"
    blocked.close()
    assert blocked.off_host == [] and blocked.refused == []


def test_the_exported_api_docs_render_offline_and_reach_the_openapi_file(browser, static_site):  # noqa: F811
    blocked = Blocker(browser)
    blocked.tab.goto(static_site + f"/editions/{E}/")
    blocked.tab.locator("header nav a", has_text="Dữ liệu mở").click()
    assert blocked.tab.url == static_site + "/api/v1/docs/index.html"
    _docs_render(blocked.tab)
    spec = blocked.tab.locator("main p a", has_text="OpenAPI").get_attribute("href")
    assert spec == "../openapi.json"
    assert blocked.tab.goto(blocked.tab.url.rsplit("/", 1)[0] + "/" + spec).ok
    blocked.close()
    assert blocked.off_host == [] and blocked.refused == []


@pytest.mark.parametrize("path", ["/", f"/editions/{E}", f"/provinces/48?edition={E}",
                                  f"/editions/{E}/map", f"/en/editions/{E}/map"])
def test_the_portal_pages_ask_nothing_of_another_host(browser, live_app, path):  # noqa: F811
    blocked = Blocker(browser)
    blocked.tab.goto(live_app + path, wait_until="networkidle")
    assert blocked.tab.locator("main").count() == 1
    blocked.close()
    assert blocked.off_host == [] and blocked.refused == []


def test_the_blocker_sees_a_request_to_another_host(browser, static_site):  # noqa: F811
    """The guard itself: a request off the loopback is caught (the tests above would be blind
    without it).  On the static export, which a plain file server answers without the portal's
    Content-Security-Policy (the live portal's policy would refuse the request first, and the
    refusal is recorded as well)."""
    blocked = Blocker(browser)
    blocked.tab.goto(static_site + f"/editions/{E}/")
    blocked.tab.evaluate("url => fetch(url).catch(() => null)", "https://cdn.jsdelivr.net/x.js")
    blocked.close()
    assert blocked.off_host == ["https://cdn.jsdelivr.net/x.js"]


def test_the_docs_page_is_the_sites_own_and_names_no_other_host(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<html lang="vi">' in page.text and "<h1>Dữ liệu mở: API</h1>" in page.text
    assert re.findall(r'<script src="([^"]+)"', page.text) == [
        "/static/vendor/swagger-ui-5.35.0-bundle.js", "/static/api-docs.js", "/static/site.js"]
    assert "http://" not in page.text.replace('http://www.w3.org', '')
    assert "https://" not in page.text and "cdn." not in page.text
    assert 'data-openapi="/api/v1/openapi.json"' in page.text
    english = client.get("/en/api/v1/docs")
    assert '<html lang="en">' in english.text and 'href="/api/v1/docs"' in english.text
    for asset in ("vendor/swagger-ui-5.35.0-bundle.js", "vendor/swagger-ui-5.35.0.css",
                  "api-docs.js"):
        assert client.get(f"/static/{asset}").status_code == 200, asset


def test_the_vendored_swagger_ui_carries_its_licence_and_source_note():
    vendor = STATIC / "vendor"
    assert "Apache License" in (vendor / "swagger-ui-LICENSE.txt").read_text(encoding="utf-8")
    note = (vendor / "SOURCES.md").read_text(encoding="utf-8")
    for name in ("swagger-ui-5.35.0-bundle.js", "swagger-ui-5.35.0.css", "swagger-ui-NOTICE.txt",
                 "swagger-ui-bundle-THIRD-PARTY-LICENSES.txt"):
        assert (vendor / name).is_file() and f"`{name}`" in note, name
    assert "swagger-ui-dist@5.35.0" in note


@pytest.mark.parametrize("url, lang, heading, home, words", [
    ("/no-such-page", "vi", "Không tìm thấy trang", "/", "không có trên cổng thông tin"),
    (f"/editions/{E}/nothing-here", "vi", "Không tìm thấy trang", "/", "gõ sai"),
    ("/en/no-such-page", "en", "Page not found", "/en/", "not on the portal"),
])
def test_an_unknown_page_says_so_in_its_language_and_leads_home(client, url, lang, heading,
                                                                 home, words):
    page = client.get(url)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert f'<html lang="{lang}">' in page.text and f"<h1>{heading}</h1>" in page.text
    assert words in page.text and f'<a href="{home}">' in page.text
    assert "Not Found" not in page.text                  # the bare HTTP phrase is not repeated


def test_an_error_page_keeps_the_detail_of_what_was_not_found(client):
    page = client.get("/en/editions/nope")
    assert page.status_code == 404 and "no published edition" in page.text


def test_the_favicon_is_served_and_linked(client):
    svg = (STATIC / "favicon.svg").read_bytes()
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    assert icon.content == svg and svg.startswith(b"<svg")
    assert client.get("/static/favicon.svg").content == svg
    for url in (f"/editions/{E}", "/api/v1/docs", "/no-such-page"):
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in client.get(url).text


def test_the_export_holds_the_docs_their_assets_the_openapi_file_and_the_favicon(static_site):  # noqa: F811
    from urllib.request import urlopen

    def get(path: str) -> bytes:
        with urlopen(static_site + path) as answer:                  # noqa: S310 (loopback)
            return answer.read()

    docs = get("/api/v1/docs/index.html").decode("utf-8")
    assert 'data-openapi="../openapi.json"' in docs
    assert 'src="../../../static/vendor/swagger-ui-5.35.0-bundle.js"' in docs
    assert 'href="../../../en/api/v1/docs/index.html"' in docs        # the language switch
    english = get("/en/api/v1/docs/index.html").decode("utf-8")
    assert 'data-openapi="../../../../api/v1/openapi.json"' in english       # the one description
    assert '"/api/v1/editions"' in get("/api/v1/openapi.json").decode("utf-8")
    assert get("/favicon.ico") == (STATIC / "favicon.svg").read_bytes()
    for asset in ("swagger-ui-5.35.0-bundle.js", "swagger-ui-5.35.0.css", "swagger-ui-LICENSE.txt"):
        assert get(f"/static/vendor/{asset}") == (STATIC / "vendor" / asset).read_bytes(), asset
