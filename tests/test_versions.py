"""Versioned sites: two versions in one output, mike-shaped versions.json, alias redirects, the switcher."""

from __future__ import annotations

import json
import re

import pytest
from conftest import assert_no_browser_errors

from sitegen.build import build
from sitegen.diagnostics import SitegenError
from sitegen.versions import add_version, default_target, previous_version, redirect_page

RUN = """format: sitegen.run/1
id: {id}
name: {name}
status: finished
start_time: 2026-01-01T10:00:00Z
params: {{lr: {lr}}}
metrics: {{acc: {acc}}}
"""


def write_run(repo, run_id, name, lr=0.1, acc=0.5):
    repo.write(f"runs/mnist/{run_id}/run.yaml", RUN.format(id=run_id, name=name, lr=lr, acc=acc))


@pytest.fixture
def two_versions(git_repo, tmp_path):
    """v1 (tag) with run-a; v2 (HEAD) with run-a changed and run-b added; both built into one output."""
    write_run(git_repo, "run-a", "alpha")
    git_repo.commit("v1")
    git_repo.git("tag", "v1")
    write_run(git_repo, "run-a", "alpha", acc=0.7)
    write_run(git_repo, "run-b", "beta")
    git_repo.commit("v2")
    out = tmp_path / "site"
    build(git_repo.path, out, rev="v1", version="v1", aliases=["latest"], search=False)
    build(git_repo.path, out, rev="HEAD", version="v2", aliases=["latest"], search=False)
    return out


def test_layout_versions_json_and_redirects(two_versions):
    out = two_versions
    assert json.loads((out / "versions.json").read_text()) == [
        {"version": "v2", "title": "v2", "aliases": ["latest"]},
        {"version": "v1", "title": "v1", "aliases": []},
    ]
    assert (out / "versions.js").read_text().startswith("window.SITEGEN_VERSIONS = [")
    assert 'url=latest/index.html' in (out / "index.html").read_text()
    # the alias has a redirect for every page of v2, deep links included
    deep = (out / "latest/runs/mnist/run-b/index.html").read_text()
    assert 'content="0; url=../../../../v2/runs/mnist/run-b/index.html"' in deep
    assert not any(p.is_symlink() for p in out.rglob("*"))
    pages_js = (out / "v2/pages.js").read_text()
    assert '"runs/mnist/run-b/index.html"' in pages_js and '["v2"]' in pages_js
    assert "run-b" not in (out / "v1/pages.js").read_text()
    # every page carries the switcher, which loads the root versions.js relatively
    page = (out / "v2/runs/mnist/run-a/index.html").read_text()
    assert 'src="../../../../versions.js"' in page and 'data-current="v2"' in page


def test_changes_page_compares_with_the_previous_version(two_versions):
    text = (two_versions / "v2/changes/index.html").read_text()
    assert "Changes since v1" in text
    assert "mnist/run-b" in text and re.search(r"0\.5</td>\s*<td>0\.7", text)
    assert not (two_versions / "v1/changes").exists()  # the first version has nothing to compare with
    assert 'href="../../changes/index.html"' in (two_versions / "v2/experiments/mnist/index.html").read_text()


def test_rebuilding_a_version_replaces_only_it(two_versions, git_repo):
    before = (two_versions / "v2/runs/mnist/run-b/index.html").read_bytes()
    write_run(git_repo, "run-a", "alpha-renamed")
    build(git_repo.path, two_versions, version="v1", search=False)
    assert "alpha-renamed" in (two_versions / "v1/runs/mnist/run-a/index.html").read_text()
    assert (two_versions / "v2/runs/mnist/run-b/index.html").read_bytes() == before
    entries = json.loads((two_versions / "versions.json").read_text())
    assert [e["version"] for e in entries] == ["v2", "v1"]
    assert not [p.name for p in two_versions.iterdir() if ".staging-" in p.name or ".old-" in p.name]


def test_name_and_output_errors(two_versions, git_repo, tmp_path):
    with pytest.raises(SitegenError, match="alias 'v1' is already the name of a version"):
        build(git_repo.path, two_versions, version="v3", aliases=["v1"], search=False)
    with pytest.raises(SitegenError, match="not usable as a folder name"):
        build(git_repo.path, two_versions, version="../evil", search=False)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(SitegenError, match="not a site built by sitegen"):
        build(git_repo.path, foreign, version="v1", search=False)
    assert (foreign / "notes.txt").read_text() == "mine"


def test_version_list_rules():
    entries = add_version([], "v1", "v1", ["latest"])
    entries = add_version(entries, "v2", "Version 2", ["latest", "stable"])
    assert entries == [{"version": "v2", "title": "Version 2", "aliases": ["latest", "stable"]},
                       {"version": "v1", "title": "v1", "aliases": []}]
    assert default_target(entries) == "latest"
    assert previous_version(entries, "v3") == "v2" and previous_version(entries, "v2") == "v1"
    assert previous_version(entries, "v1") is None
    assert "&lt;x&gt;" in redirect_page("<x>/index.html")


def test_switcher_keeps_the_page_or_falls_back_to_home(two_versions, page):
    out = two_versions
    page.goto((out / "v2/runs/mnist/run-a/index.html").as_uri())
    select = page.locator("[data-sitegen-versions] select")
    assert select.locator("option").all_inner_texts() == ["v2 (latest)", "v1"]
    with page.expect_navigation():
        select.select_option("v1")
    assert page.url.endswith("/v1/runs/mnist/run-a/index.html")
    page.goto((out / "v2/runs/mnist/run-b/index.html").as_uri())  # run-b does not exist in v1
    with page.expect_navigation():
        page.locator("[data-sitegen-versions] select").select_option("v1")
    assert page.url.endswith("/v1/index.html")
    page.goto((out / "index.html").as_uri())  # root -> latest -> v2
    page.wait_for_url(re.compile(r".*/v2/index\.html$"))
    assert_no_browser_errors(page)
