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
        # charts with their spec in the page, and run pages' curves drawn from the run's data.js
        charts = page.locator("[data-vega-spec], [data-run-curve]")
        count = charts.count()
        if count:
            charted += 1
            # vega-embed replaces the fallback text with an SVG (or canvas) in every chart element
            page.wait_for_function(
                """() => [...document.querySelectorAll('[data-vega-spec], [data-run-curve]')]
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


def test_run_page_draws_one_curve_a_metric_from_its_data_js(sample_site, page):
    """The run page carries no chart data: each metric's curve is drawn from data.js beside the page."""
    run_page = next(p for p in html_pages(sample_site) if p.startswith("runs/cifar10-resnet/")
                    and "<h1>adamw-lr0.001-s0" in sample_site.read(p))
    html = sample_site.read(run_page)
    assert "data-vega-spec" not in html and '"values"' not in html
    page.goto(sample_site.url(run_page))
    page.wait_for_function("() => [...document.querySelectorAll('[data-run-curve]')]"
                           ".every(el => el.querySelector('canvas'))", timeout=CHART_TIMEOUT_MS)
    drawn = page.evaluate("""() => [...document.querySelectorAll('[data-run-curve]')].map(el => [
        el.getAttribute('data-run-curve'), el.querySelector('canvas').width > 100])""")
    keys = [k for k, _ in drawn]
    assert "val/acc" in keys and keys == sorted(keys)
    assert all(wide for _, wide in drawn)
    assert_no_browser_errors(page)


def test_charts_follow_a_change_of_colour_scheme(sample_site, page):
    """Charts from a spec in the page and charts built in the browser are both drawn again in dark colours."""
    run_page = next(p for p in html_pages(sample_site) if p.startswith("runs/cifar10-resnet/")
                    and "<h1>adamw-lr0.001-s0" in sample_site.read(p))
    for rel in (run_page, "models/churn/index.html"):
        page.emulate_media(color_scheme="light")
        page.goto(sample_site.url(rel))
        selector = "[data-run-curve], [data-vega-spec]"
        page.wait_for_function(f"() => [...document.querySelectorAll('{selector}')]"
                               ".every(el => el.getAttribute('data-vega-scheme') === 'light')", timeout=CHART_TIMEOUT_MS)
        page.emulate_media(color_scheme="dark")
        page.wait_for_function(f"() => [...document.querySelectorAll('{selector}')]"
                               ".every(el => el.getAttribute('data-vega-scheme') === 'dark')", timeout=CHART_TIMEOUT_MS)
        assert page.locator(selector).count() >= 1
        assert_no_browser_errors(page)


def test_run_page_says_so_when_its_data_js_is_missing(sample_site, page, tmp_path):
    import shutil

    run_page = next(p for p in html_pages(sample_site) if p.startswith("runs/cifar10-resnet/")
                    and "<h1>adamw-lr0.001-s0" in sample_site.read(p))
    copy = tmp_path / "site"
    shutil.copytree(sample_site.output, copy)
    (copy / run_page).parent.joinpath("data.js").unlink()
    page.goto((copy / run_page).as_uri())
    page.wait_for_function("() => [...document.querySelectorAll('[data-run-curve]')]"
                           ".every(el => el.querySelector('.chart-error'))", timeout=CHART_TIMEOUT_MS)
    assert "data.js" in page.locator("[data-run-curve] .chart-error").first.inner_text()


def test_pages_work_on_a_phone_sized_screen(sample_site, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page = context.new_page()
    try:
        page.goto(sample_site.url("index.html"))
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390 + 1, "the dashboard scrolls sideways on a phone"
    finally:
        context.close()
