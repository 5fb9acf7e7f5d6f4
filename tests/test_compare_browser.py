"""The run table and comparison pages, really clicked in headless Chromium from file://."""

from __future__ import annotations

import math

from conftest import assert_no_browser_errors

from sitegen.pages.compare import query_row
from sitegen.query import parse
from sitegen.store.load import load_project

from conftest import SAMPLE_RUNS

READY = "[data-ready='true']"


def _rows(page):
    return page.locator(".rt-table tbody tr[data-uid]")


def _column_values(page, label):
    headers = page.locator(".rt-table thead th").all_inner_texts()
    index = next(i for i, h in enumerate(headers) if h.strip().rstrip("▲▼").strip() == label)
    return page.eval_on_selector_all(
        ".rt-table tbody tr[data-uid]", f"rows => rows.map(r => r.children[{index}].textContent.trim())")


def _number(text):
    if text == "":
        return math.nan
    return float(text)


def test_sort_filter_columns_and_csv(sample_site, page):
    page.goto(sample_site.url("experiments/churn/index.html"))
    page.wait_for_selector(".runtable" + READY)
    total = len(load_project(SAMPLE_RUNS).experiments["churn"].runs)
    assert _rows(page).count() == total
    assert page.locator(".rt-table tr.best .badge.best").count() == 1

    # sort: metrics descending first, missing values last either way
    page.click(".rt-sort[data-col='m:auc']")
    values = [_number(v) for v in _column_values(page, "auc")]
    finite = [v for v in values if not math.isnan(v)]
    assert finite == sorted(finite, reverse=True)
    assert all(math.isnan(v) for v in values[len(finite):])
    page.click(".rt-sort[data-col='m:auc']")
    values = [_number(v) for v in _column_values(page, "auc")]
    finite = [v for v in values if not math.isnan(v)]
    assert finite == sorted(finite)
    assert page.get_attribute(".rt-table th:has(.rt-sort[data-col='m:auc'])", "aria-sort") == "ascending"

    # filter with the query language; the count agrees with the Python implementation
    text = "metrics.auc > 0.85 and params.model.type != 'logistic_regression'"
    project = load_project(SAMPLE_RUNS)
    expected = sum(parse(text).matches(query_row(r)) for r in project.experiments["churn"].runs)
    page.fill(".rt-query", text)
    page.press(".rt-query", "Enter")
    page.wait_for_function(f"document.querySelectorAll('.rt-table tbody tr[data-uid]').length === {expected}")
    assert f"{expected} of {total} runs match" in page.inner_text(".rt-status")

    # a broken query shows where the problem is and keeps the last good filter
    page.fill(".rt-query", "metrics.auc >")
    page.press(".rt-query", "Enter")
    assert "position 13" in page.inner_text(".rt-status")
    assert page.locator(".rt-status mark").count() == 1
    assert page.get_attribute(".rt-query", "aria-invalid") == "true"
    assert _rows(page).count() == expected

    # CSV of the filtered table (a Blob download)
    page.fill(".rt-query", text)
    page.press(".rt-query", "Enter")
    with page.expect_download() as info:
        page.click(".rt-csv")
    lines = open(info.value.path(), encoding="utf-8").read().strip().split("\n")
    assert lines[0].startswith("experiment,id,name")
    assert len(lines) == expected + 1

    # choose columns: hide User, remembered after a reload
    page.click(".rt-columns summary")
    page.uncheck(".rt-column-list input[data-col='attr:user']")
    assert "User" not in page.locator(".rt-table thead").inner_text()
    page.reload()
    page.wait_for_selector(".runtable" + READY)
    assert "User" not in page.locator(".rt-table thead").inner_text()
    assert "Status" in page.locator(".rt-table thead").inner_text()
    assert_no_browser_errors(page)


def test_nested_runs_collapse(sample_site, page):
    page.goto(sample_site.url("experiments/cifar10-resnet/index.html"))
    page.wait_for_selector(".runtable" + READY)
    before = _rows(page).count()
    toggle = page.locator(".rt-toggle").first
    assert toggle.get_attribute("aria-expanded") == "true"
    toggle.click()
    assert _rows(page).count() == before - 9
    page.click(".rt-expand")
    assert _rows(page).count() == 3  # the long run and the two sweep parents
    page.wait_for_selector(".rc-curves[data-vega-rendered='true']")
    page.wait_for_selector(".rc-parallel[data-vega-rendered='true']")
    assert_no_browser_errors(page)


def test_select_compare_and_only_differences(sample_site, page):
    page.goto(sample_site.url("experiments/churn/index.html"))
    page.wait_for_selector(".runtable" + READY)
    boxes = page.locator(".rt-table tbody input[type=checkbox]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    assert page.inner_text(".rt-compare") == "Compare selected (2)"
    page.click(".rt-compare")
    page.wait_for_url("**/compare/index.html?runs=*")
    page.wait_for_selector(".cmp" + READY)
    headers = page.locator(".cmp-params thead th")
    assert headers.count() == 3  # label column + two runs
    same = page.locator(".cmp-params tr.same").first
    assert same.is_visible()
    page.check(".cmp-only-diff")
    assert not same.is_visible()
    assert page.locator(".cmp-params tr.differ").first.is_visible()
    page.uncheck(".cmp-only-diff")
    assert same.is_visible()
    assert page.locator(".cmp-metrics .badge.best").count() >= 1
    assert_no_browser_errors(page)


def test_configured_comparison_draws_its_charts(sample_site, page):
    page.goto(sample_site.url("compare/seed-groups/index.html"))
    page.wait_for_selector(".cmp" + READY)
    assert page.locator(".cmp-parallel[data-vega-rendered='true']").count() == 1
    assert page.locator(".cmp-curve[data-vega-rendered='true']").count() >= 1
    assert page.locator(".cmp-groups tbody tr").count() == 6
    page.check(".cmp-only-diff")
    assert not page.locator(".cmp-params tr.same").first.is_visible()
    page.select_option(".rc-x", "rel")
    page.wait_for_timeout(300)
    assert page.locator(".cmp-diffs details").count() >= 1
    assert_no_browser_errors(page)


def test_dense_curve_charts_read_prebuilt_tooltips(sample_site, page):
    """Curve charts skip Vega's per-point interpreted expressions (the speed of 100-run comparisons) and
    still show run, step and value on hover; points stay within the per-series budget."""
    page.goto(sample_site.url("compare/lr-sweep/index.html"))
    page.wait_for_selector(".cmp" + READY)
    got = page.eval_on_selector(".cmp-curve[data-vega-rendered='true']", """el => {
      const result = el._sitegenView, marks = [];
      (function walk(ms) { (ms || []).forEach(m => { marks.push(m); walk(m.marks); }); })(result.vgSpec.marks);
      const line = marks.find(m => m.type === 'line');
      const rows = result.view.data('source_0') || result.view.data('data_0') || [];
      return {tooltip: line.encode.update.tooltip, description: 'description' in line.encode.update,
              tip: rows.length ? rows[0].tip : null, points: result.spec.usermeta.sitegen.points,
              series: result.spec.usermeta.sitegen.series};
    }""")
    assert got["tooltip"] == {"field": "tip"}
    assert not got["description"]
    assert len(got["tip"]) == 3 and {"run", "step"} <= set(got["tip"])  # run, step and the metric's value
    total, drawn = got["points"]
    assert 0 < drawn <= min(total, 1000 * got["series"])
    budget = page.evaluate("[1, 10, 100, 1000].map(n => SitegenRunCharts.seriesBudget(n))")
    assert budget == [1000, 600, 60, 50]
    assert_no_browser_errors(page)


def test_adhoc_comparison_loads_only_the_experiments_it_needs(sample_site, page):
    """compare/index.html carries no run data: the runs asked for come from their experiments' summary
    scripts (data/summaries/<exp>.js), across experiments; a run not in the site is named as such."""
    html = sample_site.read("compare/index.html")
    assert "adamw-lr0.001-s0" not in html and len(html) < 20_000
    project = load_project(SAMPLE_RUNS)
    churn = sorted(u for u in project.runs if u.startswith("churn/"))[0]
    cifar = sorted(u for u in project.runs if u.startswith("cifar10-resnet/"))[:2]
    loaded = []
    page.on("request", lambda r: loaded.append(r.url.rsplit("/", 1)[-1]) if "/data/summaries/" in r.url else None)
    page.goto(sample_site.url("compare/index.html") + f"?runs={cifar[0]},{churn},{cifar[1]},nope/missing")
    page.wait_for_selector(".cmp" + READY)
    assert sorted(loaded) == ["churn.js", "cifar10-resnet.js"]
    headers = page.locator(".cmp-params thead th").all_inner_texts()[1:]
    assert len(headers) == 3  # in the order asked for, the first one the baseline
    assert all(h.startswith(project.runs[u].name) for h, u in zip(headers, (cifar[0], churn, cifar[1])))
    assert "baseline" in headers[0]
    assert "nope/missing" in page.inner_text(".cmp-adhoc .notice")
    assert_no_browser_errors(page)


def test_run_table_says_so_when_its_summary_script_is_missing(sample_site, page, tmp_path):
    import shutil

    copy = tmp_path / "site"
    shutil.copytree(sample_site.output, copy)
    (copy / "data" / "summaries" / "churn.js").unlink()
    page.goto((copy / "experiments" / "churn" / "index.html").as_uri())
    notice = page.locator("#runs .notice.warn")
    notice.wait_for()
    assert "data/summaries/churn.js" in notice.inner_text()
