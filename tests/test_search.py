"""Search: a Pagefind index over HTTP (with the site's CSP), the title/tag fallback from file://.

The index's shards (main pages, each experiment's runs) and their incremental rebuild are tested in
tests/test_search_index.py.
"""

from __future__ import annotations

import re
import shutil
import tomllib

from conftest import REPO_ROOT, assert_no_browser_errors

from sitegen.search_index import index_site

RUN_ID = "20261105-091241-6a7ffb"  # churn/logreg-baseline: params.model.type = logistic_regression


def _csp() -> str:
    config = tomllib.loads((REPO_ROOT / "netlify.toml").read_text())
    return next(h["values"]["Content-Security-Policy"] for h in config["headers"] if h["for"] == "/*")


def test_index_and_filters_are_written(sample_site):
    assert (sample_site.output / "pagefind" / "pagefind.js").is_file()
    assert (sample_site.output / "pagefind" / "runs" / "churn" / "1" / "pagefind-entry.json").is_file()
    page = sample_site.read(f"runs/churn/{RUN_ID}/index.html")
    assert "data-pagefind-body" in page
    for name, value in [("kind", "run"), ("experiment", "churn"), ("tag", "family=logreg; team=retention")]:
        assert f'<span data-pagefind-meta="{name}">{value}</span>' in page
    assert "data-pagefind-body" not in sample_site.read("404.html")
    fallback = sample_site.read("data/search-index.js")
    assert fallback.startswith("window.SITEGEN_SEARCH = [") and "model.type=logistic_regression" in fallback


def test_search_over_http_finds_a_run_by_a_param_value(sample_site, serve_dir, page):
    base = serve_dir(sample_site.output, headers={"Content-Security-Policy": _csp()})
    page.goto(base + "experiments/churn/index.html")
    box = page.locator("#site-search-input")
    box.fill("logistic_regression")
    hit = page.locator(".search-results a", has_text="logreg-baseline")
    hit.first.wait_for()
    assert page.locator(".search-note").count() == 0  # full-text search, not the fallback
    hit.first.click()
    page.wait_for_url(re.compile(rf".*/runs/churn/{RUN_ID}/index\.html$"))
    # filters typed into the query: only model pages for kind:model
    box = page.locator("#site-search-input")
    box.fill("churn kind:model")
    page.locator(".search-results a").first.wait_for()
    hrefs = page.locator(".search-results a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert hrefs and all("/models/" in h for h in hrefs)
    # the site has no favicon; the browser's automatic request for it is not an error of search
    page.sitegen_errors[:] = [e for e in page.sitegen_errors if "/favicon.ico" not in e]
    assert_no_browser_errors(page)


def test_search_from_file_falls_back_and_says_so(sample_site, page):
    page.goto(sample_site.url("experiments/churn/index.html"))
    page.locator("#site-search-input").fill("logistic_regression")
    page.locator(".search-results a", has_text="logreg-baseline").first.wait_for()
    assert "Opened from a file" in page.locator(".search-note").inner_text()
    href = page.locator(".search-results a").first.get_attribute("href")
    assert href.startswith("file://") and href.endswith(f"runs/churn/{RUN_ID}/index.html")
    assert_no_browser_errors(page)


def test_pagefind_output_is_deterministic(sample_site, tmp_path):
    """Two indexings of the same pages give the same bytes (why the pages use metadata, not filters)."""
    trees = []
    for name in ("a", "b"):
        tree = tmp_path / name
        shutil.copytree(sample_site.output, tree, ignore=shutil.ignore_patterns("pagefind"))
        index_site(tree, tmp_path / f"{name}-index")
        out = tmp_path / f"{name}-index"
        trees.append({p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()})
    assert trees[0] and trees[0] == trees[1]
