"""The Pagefind index in shards: main pages at pagefind/, each experiment's runs at pagefind/runs/<e>/<n>/,
merged by the browser; a rebuild indexes only shards whose pages changed; failures stop every indexer."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import time
from pathlib import Path

import pytest
from conftest import assert_no_browser_errors, build_site
from sources import write_run, write_yaml

from sitegen import search_index
from sitegen.diagnostics import SitegenError
from sitegen.search_index import SHARDS_FILE, plan

ALPHA_RUNS = ("a-run-1", "a-run-2")


def _source(root: Path) -> Path:
    """Two experiments; every run has a word of its own (its name) to search for."""
    write_yaml(root / "sitegen.yaml", {"title": "Shards", "card": {"required_sections": []}})
    write_run(root, "alpha", "a-run-1", name="Zebracorn", params={"lr": 0.1})
    write_run(root, "alpha", "a-run-2", name="Marmoset", params={"lr": 0.2})
    write_run(root, "beta", "b-run-1", name="Quokkaline", params={"lr": 0.3})
    return root


def _tree(site: Path, folder: str) -> dict[str, tuple[int, int, bytes]]:
    """Every file under ``folder`` of the site: (inode, mtime_ns, bytes), to tell rewritten files apart."""
    out = {}
    for path in sorted((site / folder).rglob("*")):
        if path.is_file():
            st = path.stat()
            out[path.relative_to(site).as_posix()] = (st.st_ino, st.st_mtime_ns, path.read_bytes())
    return out


def _shards(site: Path) -> dict[str, str]:
    data = json.loads((site / SHARDS_FILE).read_text())
    return {"": data["main"]["key"], **{s["path"]: s["key"] for s in data["shards"]}}


@pytest.fixture
def indexed(monkeypatch):
    """The shards Pagefind is started on (the real Pagefind still runs), as their view folder names."""
    seen: list[str] = []
    real = search_index._start_pagefind

    def spy(site: Path, output: Path):
        seen.append("main" if site.name == "main" else "/".join(site.parts[-2 if site.parts[-2] == "models" else -3:]))
        return real(site, output)

    monkeypatch.setattr(search_index, "_start_pagefind", spy)
    return seen


def test_plan_splits_main_pages_from_each_experiments_runs():
    pages = ["index.html", "experiments/a/index.html", "404.html", "runs/b/r1/index.html",
             *[f"runs/a/r{i}/index.html" for i in (3, 1, 2)], "models/m/1/index.html", "models/index.html"]
    shards = plan(pages, per_shard=2)
    assert [s.name for s in shards] == ["", "models/1", "runs/a/1", "runs/a/2", "runs/b/1"]
    assert shards[0].pages == ("404.html", "experiments/a/index.html", "index.html")
    assert shards[1].pages == ("models/index.html", "models/m/1/index.html")
    assert shards[2].pages == ("runs/a/r1/index.html", "runs/a/r2/index.html")
    assert shards[3].pages == ("runs/a/r3/index.html",) and shards[4].pages == ("runs/b/r1/index.html",)
    assert [s.prefix for s in shards] == ["pagefind", "pagefind/models/1", "pagefind/runs/a/1", "pagefind/runs/a/2",
                                          "pagefind/runs/b/1"]
    assert [s.name for s in plan(pages[:3])] == [""]  # no model pages: no model shard
    assert [s.name for s in plan([*pages[:3], "models/index.html"])] == [""]  # nor for the registry's index alone
    assert [search_index.in_run_shard(p) for p in ("runs/a/r1/index.html", "runs/index.html", "index.html")] \
        == [True, False, False]


def test_shards_are_written_and_listed(tmp_path):
    site = build_site(_source(tmp_path / "src"), tmp_path / "site").output
    assert (site / "pagefind" / "pagefind.js").is_file()
    for shard in ("alpha", "beta"):
        folder = site / "pagefind" / "runs" / shard / "1"
        assert (folder / "pagefind-entry.json").is_file() and list((folder / "fragment").iterdir())
        # a merged index loads only data: the scripts and WebAssembly come from the main shard
        assert not list(folder.glob("*.js")) and not list(folder.glob("wasm.*"))
    data = json.loads((site / SHARDS_FILE).read_text())
    assert [(s["path"], s["pages"]) for s in data["shards"]] == [("runs/alpha/1/", 2), ("runs/beta/1/", 1)]
    assert data["pagefind"] == search_index.pagefind_version()
    # run pages are indexed in their experiment's shard only: the main shard counts every other page
    html = [p for p in site.rglob("*.html") if not p.relative_to(site).as_posix().startswith("pagefind/")]
    assert data["main"]["pages"] == len(html) - 3


def test_search_over_http_finds_runs_of_each_experiment(tmp_path, serve_dir, page):
    site = build_site(_source(tmp_path / "src"), tmp_path / "site").output
    base = serve_dir(site)
    page.goto(base + "index.html")
    box = page.locator("#site-search-input")
    for word, target in [("Zebracorn", "runs/alpha/a-run-1/index.html"),
                         ("Quokkaline", "runs/beta/b-run-1/index.html")]:
        box.fill(word)
        page.locator(f'.search-results a[href$="{target}"]').first.wait_for()
        assert page.locator(".search-note").count() == 0  # Pagefind, not the title fallback
    page.locator('.search-results a[href$="runs/beta/b-run-1/index.html"]').first.click()
    page.wait_for_url(re.compile(r".*/runs/beta/b-run-1/index\.html$"))
    page.sitegen_errors[:] = [e for e in page.sitegen_errors if "/favicon.ico" not in e]
    assert_no_browser_errors(page)


def test_rebuild_indexes_only_the_shards_whose_pages_changed(tmp_path, indexed):
    source = _source(tmp_path / "src")
    site = build_site(source, tmp_path / "site").output
    assert sorted(indexed) == ["main", "runs/alpha/1", "runs/beta/1"]
    keys, beta = _shards(site), _tree(site, "pagefind/runs/beta")
    time.sleep(0.01)  # a rewritten file would get another mtime
    indexed.clear()
    write_run(source, "alpha", "a-run-2", name="Marmoset", params={"lr": 0.25})
    build_site(source, site)
    assert sorted(indexed) == ["runs/alpha/1"]  # a param changed: only its run page (pages outside runs/
    # show no params; the run table reads them from data/summaries/alpha.js)
    indexed.clear()
    write_run(source, "alpha", "a-run-3", name="Pangolin", params={"lr": 0.5})
    build_site(source, site)
    assert sorted(indexed) == ["main", "runs/alpha/1"]  # a new run: the experiment page counts it
    assert _tree(site, "pagefind/runs/beta") == beta  # same files, not even rewritten
    now = _shards(site)
    assert now["runs/beta/1/"] == keys["runs/beta/1/"] and now["runs/alpha/1/"] != keys["runs/alpha/1/"]
    # the result equals a cold build of the same source, byte for byte
    cold = build_site(source, tmp_path / "cold").output
    assert {k: v[2] for k, v in _tree(site, "pagefind").items()} == \
        {k: v[2] for k, v in _tree(cold, "pagefind").items()}
    # nothing changed: nothing indexed
    indexed.clear()
    build_site(source, site, cache=False)
    assert indexed == []


def test_a_removed_experiment_loses_its_shard(tmp_path, indexed):
    source = _source(tmp_path / "src")
    site = build_site(source, tmp_path / "site").output
    shutil.rmtree(source / "runs" / "beta")
    indexed.clear()
    build_site(source, site)
    assert sorted(indexed) == ["main"]  # the alpha shard's pages did not change
    assert not (site / "pagefind" / "runs" / "beta").exists()
    assert [s["path"] for s in json.loads((site / SHARDS_FILE).read_text())["shards"]] == ["runs/alpha/1/"]


def test_a_deleted_shard_file_is_indexed_again(tmp_path, indexed):
    source = _source(tmp_path / "src")
    site = build_site(source, tmp_path / "site").output
    entry = site / "pagefind" / "runs" / "beta" / "1" / "pagefind-entry.json"
    entry.unlink()
    indexed.clear()
    build_site(source, site, cache=False)
    assert indexed == ["runs/beta/1"] and entry.is_file()


def test_shard_views_are_kept_in_the_build_cache_and_only_changed_pages_relinked(tmp_path, indexed):
    source = _source(tmp_path / "src")
    site = build_site(source, tmp_path / "site").output
    views = tmp_path / ".site.cache" / "search-views"
    alpha = views / "runs" / "alpha" / "1" / "runs" / "alpha"

    def inode(path: Path) -> int:
        return path.stat().st_ino

    assert inode(alpha / "a-run-1" / "index.html") == inode(site / "runs/alpha/a-run-1/index.html")
    kept = inode(alpha / "a-run-1" / "index.html")
    write_run(source, "alpha", "a-run-2", name="Marmoset", params={"lr": 0.25})
    shutil.rmtree(source / "runs" / "alpha" / "a-run-1")
    indexed.clear()
    build_site(source, site)
    assert sorted(indexed) == ["main", "runs/alpha/1"]
    assert not (alpha / "a-run-1" / "index.html").exists()  # a removed run leaves the view
    assert inode(alpha / "a-run-2" / "index.html") == inode(site / "runs/alpha/a-run-2/index.html")
    assert kept != inode(alpha / "a-run-2" / "index.html")
    # a view holding a symbolic link (sitegen never makes one) is made again, never followed
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.rmtree(alpha)
    alpha.symlink_to(outside, target_is_directory=True)
    write_run(source, "alpha", "a-run-2", name="Marmoset", params={"lr": 0.3})
    build_site(source, site)
    assert list(outside.iterdir()) == []
    assert not alpha.is_symlink() and (alpha / "a-run-2" / "index.html").is_file()
    assert "Marmoset" in (site / "runs/alpha/a-run-2/index.html").read_text()
    # without the build cache the views are temporary
    shutil.rmtree(views)
    build_site(source, tmp_path / "nocache", cache=False)
    assert not views.exists() and not (tmp_path / ".nocache.cache").exists()


def _fake_pagefind(path: Path, body: str) -> Path:
    """An executable standing in for Pagefind: answers --version like it, then runs ``body`` (sh)."""
    path.write_text("#!/bin/sh\n"
                    'if [ "$1" = "--version" ]; then echo "pagefind 0.0.0-test"; exit 0; fi\n' + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def fake_pagefind(monkeypatch, tmp_path):
    def use(body: str) -> Path:
        fake = _fake_pagefind(tmp_path / "fake-pagefind", body)
        monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(fake))
        return fake

    search_index.pagefind_executable.cache_clear()
    search_index.pagefind_version.cache_clear()
    yield use
    search_index.pagefind_executable.cache_clear()
    search_index.pagefind_version.cache_clear()


def test_a_failing_indexer_is_a_clear_error_and_stops_the_others(tmp_path, fake_pagefind, monkeypatch):
    source = _source(tmp_path / "src")
    monkeypatch.setattr(search_index, "_limit", lambda jobs, tasks: tasks)  # all three at once, any machine
    pids = tmp_path / "pids"
    pids.mkdir()
    # the shard of alpha fails at once; every other indexer would hang for a minute
    fake_pagefind(f'echo $$ > "{pids}/$$"\n'
                  'case "$2" in */runs/alpha/1) sleep 0.2; echo "error: the disk is on fire" >&2; exit 3;; esac\n'
                  "exec sleep 60\n")
    started = time.monotonic()
    with pytest.raises(SitegenError, match="failed on shard pagefind/runs/alpha/1/: error: the disk is on fire"):
        build_site(source, tmp_path / "site")
    assert time.monotonic() - started < 30
    assert not (tmp_path / "site").exists()  # nothing published
    assert not [p for p in tmp_path.iterdir() if ".staging-" in p.name]
    for pid_file in pids.iterdir():  # every indexer that was started is gone
        pid = int(pid_file.read_text())
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_rebuild_starts_the_main_shard_before_the_run_pages_and_reports_its_failure(tmp_path, fake_pagefind,
                                                                                    monkeypatch):
    import sitegen.build as build_module

    source = _source(tmp_path / "src")
    site = build_site(source, tmp_path / "site").output
    order: list[str] = []
    real_launch, real_render = search_index._Indexers.launch, build_module._render_runs

    def launch(self, shards):
        order.append("launch " + ",".join(s.name or "main" for s in shards))
        return real_launch(self, shards)

    def render_runs(*args, **kwargs):
        order.append("runs")
        yield from real_render(*args, **kwargs)

    monkeypatch.setattr(search_index._Indexers, "launch", launch)
    monkeypatch.setattr(build_module, "_render_runs", render_runs)
    write_run(source, "alpha", "a-run-3", name="Pangolin", params={"lr": 0.5})  # the experiment page changes
    build_site(source, site)
    assert order == ["launch main", "runs", "launch runs/alpha/1"]  # the run shard: when its pages are written
    # Pagefind that cannot even be started on the launched shard: a clear error, the previous site kept
    order.clear()
    fake_pagefind("exit 0\n").chmod(0o644)  # not executable (its version is the real one's, remembered)
    search_index.pagefind_executable.cache_clear()
    write_run(source, "alpha", "a-run-4", name="Okapi", params={"lr": 0.6})
    with pytest.raises(SitegenError, match="the search index could not be built"):
        build_site(source, site)
    assert order[:2] == ["launch main", "runs"]
    summaries = (site / "data" / "summaries" / "alpha.js").read_text()
    assert "Pangolin" in summaries and "Okapi" not in summaries  # the site of the previous build
    assert not (site / "runs" / "alpha" / "a-run-4").exists()


def test_pagefinds_version_is_remembered_by_the_binarys_identity(tmp_path, fake_pagefind, monkeypatch):
    memo = tmp_path / "cache" / "pagefind-version.json"
    fake = fake_pagefind("exit 0\n")
    assert search_index.known_version(memo) == "0.0.0-test" and memo.is_file()
    real = search_index.pagefind_version
    monkeypatch.setattr(search_index, "pagefind_version", lambda: pytest.fail("the binary was run again"))
    assert search_index.known_version(memo) == "0.0.0-test"  # the same binary: not run
    monkeypatch.setattr(search_index, "pagefind_version", real)
    fake.write_text(fake.read_text().replace("0.0.0-test", "0.0.10-test"))  # an upgrade: another size
    search_index.pagefind_version.cache_clear()
    assert search_index.known_version(memo) == "0.0.10-test"
    memo.write_text("{damaged")
    assert search_index.known_version(memo) == "0.0.10-test"


def test_model_pages_are_cut_between_models_into_shards_of_their_own():
    pages = ["index.html", "models/index.html", *[f"models/{m}/{p}" for m in ("c", "a", "b")
                                                  for p in ("index.html", "1/index.html", "2/index.html")]]
    shards = plan(pages, model_pages=4)  # the registry's index, then whole models of three pages
    assert [(s.name, s.pages) for s in shards[1:]] == [
        ("models/1", ("models/a/1/index.html", "models/a/2/index.html", "models/a/index.html", "models/index.html")),
        ("models/2", ("models/b/1/index.html", "models/b/2/index.html", "models/b/index.html")),
        ("models/3", ("models/c/1/index.html", "models/c/2/index.html", "models/c/index.html"))]
    assert [len(s.pages) for s in plan(pages, model_pages=2)][1:] == [1, 3, 3, 3]  # a model is never split
    assert [s.name for s in plan(pages)] == ["", "models/1"]
    assert [search_index._plan_order(s) for s in plan(pages, model_pages=4)] == [(0, "", 0), (1, "", 1), (1, "", 2),
                                                                                  (1, "", 3)]


def test_model_pages_have_a_shard_of_their_own(tmp_path, indexed):
    sample = Path(__file__).resolve().parent.parent / "sample_runs"
    source = tmp_path / "src"
    shutil.copytree(sample, source)
    site = build_site(source, tmp_path / "site").output
    assert "models/1/" in [s["path"] for s in json.loads((site / SHARDS_FILE).read_text())["shards"]]
    sources = "".join(p.read_text() for p in (source / "models").glob("*/versions/*.yaml"))
    plain = next(p for p in sorted((source / "runs").glob("*/*/run.yaml")) if p.parent.name not in sources)
    plain.write_text(plain.read_text().replace("user: ", "user: someone-", 1))
    indexed.clear()
    build_site(source, site)
    assert not [s for s in indexed if s.startswith("models")]  # a run no model comes from: not indexed again


def test_search_over_http_finds_model_pages_and_runs(tmp_path, serve_dir, page):
    source = _source(tmp_path / "src")
    write_yaml(source / "models" / "okapi" / "model.yaml", {"format": "sitegen.model/1", "name": "Okapimodel"})
    write_yaml(source / "models" / "okapi" / "versions" / "1.yaml",
               {"format": "sitegen.model-version/1", "version": 1, "source_run": "alpha/a-run-1",
                "created": "2026-11-20T10:00:00Z"})
    site = build_site(source, tmp_path / "site").output
    assert [s["path"] for s in json.loads((site / SHARDS_FILE).read_text())["shards"]][0] == "models/1/"
    base = serve_dir(site)
    page.goto(base + "index.html")
    box = page.locator("#site-search-input")
    for word, target in [("Okapimodel", "models/okapi/index.html"), ("Zebracorn", "runs/alpha/a-run-1/index.html")]:
        box.fill(word)
        page.locator(f'.search-results a[href$="{target}"]').first.wait_for()
        assert page.locator(".search-note").count() == 0  # Pagefind, not the title fallback
    page.sitegen_errors[:] = [e for e in page.sitegen_errors if "/favicon.ico" not in e]
    assert_no_browser_errors(page)
