"""Provenance, lineage and history on the built site: run, dataset, model-version, lineage and history pages."""

from __future__ import annotations

import re
import shutil
import time

import pytest

from test_lineage import big_source, write_run

TRAIN = "runs/cifar10-resnet/20261118-112026-56d8f2/index.html"
DIRTY = "runs/cifar10-resnet/20261118-104228-29e6ac/index.html"


def hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', html)


def test_lineage_page_shows_the_chain(sample_site):
    html = sample_site.read("lineage/index.html")
    assert "lineage-svg" in html
    links = hrefs(html)
    for target in ("../runs/feature-pipeline/20261102-081500-54f3c6/index.html", "../" + TRAIN,
                   "../models/cifar10-classifier/2/index.html", "../datasets/cifar10/index.html"):
        assert target in links
    assert all(not h.startswith("/") for h in links)
    # the table of chains: model version <- source run <- dataset <- preprocessing run
    row = re.search(r"CIFAR-10 classifier v2</a>.*?</tr>", html, re.S).group(0)
    assert "sgd-lr0.1-s0" in row and "prepare-cifar10" in row


def test_run_page_provenance(sample_site):
    html = sample_site.read(DIRTY)
    assert 'href="https://github.com/example-org/vision-and-churn/commit/5c212270429763a155731998ebb94cacbf67b6d4"' in html
    assert '<span class="d-add">+        num_workers=8,</span>' in html
    assert '<span class="d-del">-        num_workers=4,</span>' in html
    assert "data-filter-table=\"packages-table\"" in html and "package-filter" in html
    assert '<pre class="script" data-copy tabindex="0">' in html and "git apply" in html
    assert 'href="prov.json"' in html
    assert "Added in" in html  # git history of run.yaml (sample_runs is committed in this repo)
    assert "prepare-cifar10" in html  # upstream run, via the cifar10 digest
    train = sample_site.read(TRAIN)
    assert "../../../models/cifar10-classifier/2/index.html" in hrefs(train)


def test_dataset_impact_and_version_lineage(sample_site):
    html = sample_site.read("datasets/cifar10/index.html")
    impact = html[html.index('id="impact"'):]
    assert "CIFAR-10 classifier v2" in impact and "../../models/cifar10-classifier/2/index.html" in hrefs(impact)
    version = sample_site.read("models/churn/2/index.html")
    assert 'id="lineage"' in version and "lineage-svg" in version and 'href="prov.json"' in version


def test_history_page(sample_site):
    html = sample_site.read("history/index.html")
    assert 'class="commit"' in html and "runs added" in html


def test_integrity_and_stale_input_warnings(tmp_path, built_site):
    src = tmp_path / "src"
    (src / "datasets").mkdir(parents=True)
    (src / "datasets" / "raw.yaml").write_text("format: sitegen.dataset/1\nname: Raw\ndigest: 'sha256:" + "1" * 64 + "'\n")
    write_run(src, "e", "r1", inputs=[{"name": "raw", "digest": "sha256:" + "2" * 64}],
              outputs=[{"name": "model", "kind": "model", "path": "artifacts/model.txt",
                        "digest": "sha256:" + "0" * 64}])
    (src / "runs/e/r1/artifacts").mkdir()
    (src / "runs/e/r1/artifacts/model.txt").write_text("changed after the run")
    site = built_site(src)
    html = site.read("runs/e/r1/index.html")
    assert "Integrity:" in html and "modified" in html
    assert "other digest than" in html
    assert "History" in site.read("history/index.html") and "not in a git repository" in site.read("history/index.html")
    assert "Added in" not in html  # a source outside git: no history


def test_escaping_of_git_and_run_text(git_repo, built_site):
    write_run(git_repo.path, "e", "r1", name="<img src=x onerror=alert(1)>",
              outputs=[{"name": "<b>d</b>", "kind": "dataset", "digest": "sha256:" + "3" * 64}])
    write_run(git_repo.path, "e", "r2", inputs=[{"name": "<b>d</b>", "digest": "sha256:" + "3" * 64}])
    git_repo.commit("<script>alert(1)</script> added runs")
    site = built_site(git_repo.path)
    for page in ("history/index.html", "lineage/index.html", "runs/e/r2/index.html"):
        html = site.read(page)
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>d</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; added runs" in site.read("history/index.html")


@pytest.mark.slow
def test_site_lineage_at_scale(tmp_path, built_site):
    big_source(tmp_path / "big", experiments=12, runs_each=100)
    started = time.perf_counter()
    site = built_site(tmp_path / "big")
    seconds = time.perf_counter() - started
    html = site.read("lineage/index.html")
    assert "drawn as one group each" in html
    assert html.count('class="lg-node') < 60
    print(f"1212-run site built in {seconds:.1f} s")


def test_history_is_paged(git_repo, built_site, monkeypatch):
    from sitegen.pages import history

    monkeypatch.setattr(history, "PER_PAGE", 2)
    for i in range(5):
        write_run(git_repo.path, "e", f"r{i}")
        git_repo.commit(f"run {i}")
    site = built_site(git_repo.path)
    first, third = site.read("history/index.html"), site.read("history/page-3.html")
    assert "run 4" in first and "run 3" in first and "run 2" not in first
    assert "run 0" in third and 'href="page-2.html" rel="prev"' in third
    assert 'href="page-2.html" rel="next"' in first


@pytest.mark.browser
def test_package_filter_in_the_browser(sample_site, page):
    from conftest import assert_no_browser_errors

    page.goto(sample_site.url(DIRTY))
    page.click("details.packages summary")
    box = page.locator("input[data-filter-table]")
    assert box.is_visible()
    rows = page.locator("#packages-table tbody tr")
    total = rows.count()
    box.fill("torch")
    visible = [r for r in rows.all() if r.is_visible()]
    assert 1 <= len(visible) < total and all("torch" in r.inner_text() for r in visible)
    assert page.locator("[data-filter-count]").inner_text() == f"{len(visible)} of {total}"
    assert page.locator("#provenance svg.lineage-svg a").count() > 0
    assert_no_browser_errors(page)
