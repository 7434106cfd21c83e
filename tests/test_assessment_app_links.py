"""Every link an app page shows leads somewhere: a crawl from each role's start page, following
every same-site link under /app, finds no broken (404/405) or failing (5xx) page, and no link a
role is shown is refused to it (403)."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient
from assessment_support import login, populate

from dti.web.app import create_app
from dti.web.settings import Settings

HREF = re.compile(r'href="([^"#]+)')


@pytest.mark.parametrize("username", ["editor", "approver", "reviewer", "admin"])
def test_no_link_in_the_app_is_broken_or_refused(store, username):
    populate(store)
    client = TestClient(create_app(Settings(), store=store))
    login(client, username)
    seen, queue, bad = set(), ["/app/"], []
    while queue and len(seen) < 150:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url, follow_redirects=True)
        if response.status_code >= 400:
            bad.append((url, response.status_code))
            continue
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        here = str(response.url)
        for href in HREF.findall(response.text):
            target = urlsplit(urljoin(here, href.replace("&amp;", "&")))
            if target.netloc not in ("", "testserver") or not target.path.startswith("/app"):
                continue
            if target.path in ("/app/lang/en", "/app/lang/vi"):
                continue
            queue.append(target.path + (f"?{target.query}" if target.query else ""))
    assert len(seen) > 3
    assert bad == []


def test_app_pages_carry_the_security_headers_and_portal_pages_stay_cacheable(store):
    populate(store)
    client = TestClient(create_app(Settings(), store=store))
    login(client, "editor")
    for url in ("/app/login", "/app/dti-test-2022/48", "/app/audit/dti-test-2022?province=48"):
        headers = client.get(url).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"], url
        assert "script-src 'self'" in headers["content-security-policy"], url
        assert headers["x-frame-options"] == "DENY" and headers["cache-control"] == "no-store", url
    portal = client.get("/editions/dti-province-2022").headers
    assert "frame-ancestors 'none'" in portal["content-security-policy"]   # the portal's own policy
    assert portal.get("cache-control") != "no-store"
