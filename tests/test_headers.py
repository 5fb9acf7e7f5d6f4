"""Security headers: one source (sitegen/headers.py) for ``_headers`` and netlify.toml, and a site that
really works under its Content-Security-Policy (every page of the sample site opened in Chromium over HTTP
with the headers applied: no CSP violation, no console error)."""

from __future__ import annotations

import tomllib

from conftest import REPO_ROOT, assert_no_browser_errors
from sitegen import headers


def test_netlify_toml_matches_headers_module():
    config = tomllib.loads((REPO_ROOT / "netlify.toml").read_text("utf-8"))
    declared = {entry["for"]: entry["values"] for entry in config["headers"]}
    assert declared == headers.HEADERS


def test_headers_file_written_into_site_root(sample_site):
    text = sample_site.read("_headers")
    assert text == headers.headers_file()
    assert "Content-Security-Policy: default-src 'self'" in text
    assert "X-Content-Type-Options: nosniff" in text and "Referrer-Policy: " in text


def test_headers_file_format():
    lines = headers.headers_file().splitlines()
    assert lines[0] == "/*"
    assert all(line.startswith("/") or (line.startswith("  ") and ": " in line) for line in lines)


def test_every_page_works_under_the_csp(sample_site, serve_dir, page):
    base = serve_dir(sample_site.output, headers=headers.HEADERS["/*"])
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    pages = sorted(p.relative_to(sample_site.output).as_posix() for p in sample_site.output.rglob("*.html"))
    assert len(pages) > 10
    for rel in pages:
        response = page.goto(base + rel, wait_until="load")
        assert response is not None
        if rel != "404.html":
            assert response.status == 200, rel
        assert response.headers.get("content-security-policy") == headers.CONTENT_SECURITY_POLICY
        if page.query_selector(".chart, [data-chart], .vega-embed"):
            page.wait_for_timeout(150)  # let the charts render (vega-embed injects styles)
    assert not violations, "\n".join(violations[:20])
    assert_no_browser_errors(page)
