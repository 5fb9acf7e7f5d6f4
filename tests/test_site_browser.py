"""Every page of the sample site, opened from file:// in headless Chromium: no errors, charts drawn."""

from __future__ import annotations

import pytest

from conftest import assert_no_browser_errors

pytestmark = pytest.mark.browser

CHART_TIMEOUT_MS = 15_000


def html_pages(site) -> list[str]:
    return sorted(p.relative_to(site.output).as_posix() for p in site.output.rglob("*.html"))


def test_every_page_opens_without_errors_and_draws_its_charts(sample_site, page):
    pages = html_pages(sample_site)
    assert len(pages) >= 40
    charted = 0
    for rel in pages:
        page.goto(sample_site.url(rel))
        page.wait_for_load_state("load")
        charts = page.locator("[data-vega-spec]")
        count = charts.count()
        if count:
            charted += 1
            # vega-embed replaces the fallback text with an SVG (or canvas) in every chart element
            page.wait_for_function(
                """() => [...document.querySelectorAll('[data-vega-spec]')]
                       .every(el => el.querySelector('svg, canvas'))""",
                timeout=CHART_TIMEOUT_MS)
        assert_no_browser_errors(page)
    assert charted >= 30  # run pages with histories, experiments, models


def test_run_page_shows_params_metrics_and_provenance(sample_site, page):
    run_page = next(p for p in html_pages(sample_site) if p.startswith("runs/cifar10-resnet/")
                    and "<h1>adamw-lr0.001-s0" in sample_site.read(p))
    page.goto(sample_site.url(run_page))
    for heading in ("Metrics", "Parameters", "Provenance"):
        assert page.get_by_role("heading", name=heading, exact=True).count() == 1
    assert page.locator("#params tbody tr").count() >= 3
    assert_no_browser_errors(page)


def test_pages_work_on_a_phone_sized_screen(sample_site, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page = context.new_page()
    try:
        page.goto(sample_site.url("index.html"))
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390 + 1, "the dashboard scrolls sideways on a phone"
    finally:
        context.close()
