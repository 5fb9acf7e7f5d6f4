"""The vendored vega-embed and charts.js draw a metric chart in headless Chromium from file://.

Uses the shared ``page`` fixture of tests/conftest.py (headless Chromium at /usr/bin/chromium; skipped
when it is missing unless SITEGEN_REQUIRE_BROWSER=1).
"""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_no_browser_errors

from sitegen.charts import metric_chart
from sitegen.jsonutil import dumps_for_script

pytestmark = pytest.mark.browser

STATIC = Path(__file__).resolve().parent.parent / "themes" / "default" / "static"
STRICT_CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"


def write_page(directory: Path, spec_json: str, *, csp: str | None = None, spec_id: str = "spec-1") -> Path:
    """A page that loads the theme's scripts by relative path, like a built site does."""
    for relative in ("vendor/vega-embed.js", "js/charts.js"):
        target = directory / "static" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(STATIC / relative, target)
    meta = f'<meta http-equiv="Content-Security-Policy" content="{html.escape(csp)}">' if csp else ""
    page = directory / "index.html"
    page.write_text(
        f"""<!doctype html>
<html><head><meta charset="utf-8">{meta}<title>chart</title></head>
<body>
<div id="chart" data-vega-spec="{spec_id}"></div>
<script type="application/json" id="spec-1">{spec_json}</script>
<script src="static/vendor/vega-embed.js"></script>
<script src="static/js/charts.js"></script>
</body></html>
""",
        encoding="utf-8",
    )
    return page


def diverging_spec() -> dict:
    steps = np.arange(5_000)
    loss = 2.0 * np.exp(-steps / 1_000.0)
    loss[4_000:] = np.inf
    loss[100] = np.nan
    return metric_chart([("train/loss", steps, loss), ("val/loss", steps[::100], loss[::100] + 0.1)],
                        title="Loss </script><b>x</b>", max_points=500)


def test_metric_chart_renders_from_file_url(page, tmp_path):
    target = write_page(tmp_path, dumps_for_script(diverging_spec()))
    page.goto(target.as_uri())
    page.wait_for_selector("#chart[data-vega-rendered='true'] svg.marks")
    width = page.locator("#chart svg.marks").get_attribute("width")
    assert float(width) > 300, f"chart is {width}px wide; width 'container' should fill the page"
    assert page.locator("#chart svg .mark-line path").count() == 2
    assert page.locator("#chart svg .mark-rule line").count() >= 2  # NaN at 100, inf from 4000
    assert "Loss </script><b>x</b>" in page.locator("#chart svg .role-title-text").text_content()
    assert_no_browser_errors(page)


def test_strict_csp_without_unsafe_eval(page, tmp_path):
    """Vega's expression interpreter (ast: true) is used, so no eval/new Function is needed."""
    target = write_page(tmp_path, dumps_for_script(diverging_spec()), csp=STRICT_CSP)
    page.goto(target.as_uri())
    page.wait_for_selector("#chart[data-vega-rendered='true'] svg.marks")
    assert_no_browser_errors(page)


def test_dark_mode_config_applied(page, tmp_path):
    page.emulate_media(color_scheme="dark")
    target = write_page(tmp_path, dumps_for_script(diverging_spec()))
    page.goto(target.as_uri())
    page.wait_for_selector("#chart[data-vega-rendered='true'] svg.marks")
    fill = page.locator("#chart svg .role-axis-label text").first.get_attribute("fill")
    assert fill == "#c9c9c9"
    assert_no_browser_errors(page)


def test_missing_spec_shows_an_error_in_the_element(page, tmp_path):
    target = write_page(tmp_path, dumps_for_script(diverging_spec()), spec_id="no-such-spec")
    page.goto(target.as_uri())
    error = page.locator("#chart .chart-error")
    error.wait_for()
    assert "could not be drawn" in error.inner_text()
    assert any("sitegen chart" in message for message in page.sitegen_errors)
