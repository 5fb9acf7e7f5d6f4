"""Comparison pages: contexts, static tables, group-by statistics, the per-run data script."""

from __future__ import annotations

import json
import math
import re
import statistics
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sitegen.config import Comparison
from sitegen.pages import compare
from sitegen.pages import experiment as experiment_pages
from sitegen.pages.common import metric_value
from sitegen.store.load import load_project
from sitegen.store.metrics import read_history

from conftest import SAMPLE_RUNS


@pytest.fixture(scope="module")
def project():
    return load_project(SAMPLE_RUNS)


def _write_run(root: Path, exp: str, run_id: str, params: dict, metrics: dict, steps: int = 0,
               status: str = "finished", parent: str | None = None) -> None:
    import yaml

    folder = root / "runs" / exp / run_id
    folder.mkdir(parents=True)
    doc = {"format": "sitegen.run/1", "id": run_id, "name": run_id, "status": status,
           "start_time": "2026-01-01T00:00:00Z", "end_time": "2026-01-01T01:00:00Z", "params": params,
           "metrics": metrics}
    if parent:
        doc["parent"] = parent
    (folder / "run.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    if steps:
        s = np.arange(steps, dtype=np.int64)
        v = np.linspace(1.0, 0.1, steps)
        v[steps // 2] = math.nan
        ts = pa.array((1_700_000_000_000 + s * 1000).tolist(), pa.timestamp("ms", tz="UTC"))
        table = pa.table({"key": ["loss"] * steps, "step": s, "value": v, "timestamp": ts})
        pq.write_table(table, folder / "metrics.parquet")


def test_sample_comparisons_select_the_configured_runs(project):
    by_name = {c.name: c for c in project.config.comparisons}
    runs, error = compare.select_runs(by_name["lr-sweep"], project)
    assert error is None
    assert len(runs) == 9
    assert all(r.params_flat["optimizer.name"] == "adamw" and r.tags["kind"] == "trial" for r in runs)
    churn, _ = compare.select_runs(by_name["churn-models"], project)
    assert {r.experiment for r in churn} == {"churn"} and len(churn) == len(project.experiments["churn"].runs)


def test_comparison_context_baseline_first_with_deltas(project):
    cmp = next(c for c in project.config.comparisons if c.name == "lr-sweep")
    page = compare.comparison_page(cmp, project)
    ctx = page.context
    assert page.url == "compare/lr-sweep/index.html"
    assert ctx["columns"][0]["uid"] == cmp.baseline and ctx["columns"][0]["baseline"]
    assert [m["key"] for m in ctx["metrics"]] == cmp.metrics
    val = next(m for m in ctx["metrics"] if m["key"] == "val/acc")
    assert val["goal"] == "max"  # the experiment's primary metric and goal
    assert val["cells"][0]["delta"] is None  # no delta for the baseline itself
    base = metric_value(ctx_run(project, cmp.baseline), "val/acc")
    second = project.runs[ctx["columns"][1]["uid"]]
    assert val["cells"][1]["delta"] == pytest.approx(metric_value(second, "val/acc") - base)
    finite = [c["value"] for c in val["cells"] if c["value"] is not None and math.isfinite(c["value"])]
    assert [c["best"] for c in val["cells"]].count(True) >= 1
    assert next(c for c in val["cells"] if c["best"])["value"] == max(finite)
    loss = next(m for m in ctx["metrics"] if m["key"] == "val/loss")
    assert loss["goal"] == "min"
    lr = next(p for p in ctx["params"] if p["key"] == "lr")
    assert lr["differ"] is True
    arch = next(p for p in ctx["params"] if p["key"] == "model.arch")
    assert arch["differ"] is False


def ctx_run(project, uid):
    return project.runs[uid]


def test_group_by_means_match_the_runs(project):
    cmp = next(c for c in project.config.comparisons if c.name == "seed-groups")
    page = compare.comparison_page(cmp, project)
    groups = page.context["groups"]
    assert len(groups) == 6  # 3 learning rates x 2 optimizers, seeds averaged
    for group in groups:
        members = [project.runs[uid] for uid in group["runs"]]
        assert len(members) == 3
        assert len({(r.params_flat["lr"], r.params_flat["optimizer.name"]) for r in members}) == 1
        values = [metric_value(r, "val/acc") for r in members]
        stat = group["stats"][0]
        assert stat["mean"] == pytest.approx(statistics.fmean(values))
        assert stat["min"] == min(values) and stat["max"] == max(values)
        assert stat["std"] == pytest.approx(statistics.stdev(values))


def test_static_tables_are_readable_without_javascript(sample_site):
    html = sample_site.read("compare/seed-groups/index.html")
    assert '<table class="cmp-table cmp-params">' in html
    assert '<table class="cmp-table cmp-groups">' in html
    assert 'class="differ"' in html and 'class="same"' in html
    assert "mean ± std" in html
    assert re.search(r'<script type="application/json" id="compare-data">', html)
    churn = sample_site.read("compare/churn-models/index.html")
    assert 'class="badge best"' in churn and "cmp-delta" in churn
    for name in ("lr-sweep", "seed-groups", "churn-models"):
        assert sample_site.path(f"compare/{name}/index.html").is_file()
    index = sample_site.read("compare/index.html")
    assert "compare/lr-sweep/index.html" not in index  # links are relative
    assert 'href="lr-sweep/index.html"' in index


def test_no_inline_scripts_on_comparison_and_experiment_pages(sample_site):
    for rel in ("compare/index.html", "compare/lr-sweep/index.html", "experiments/cifar10-resnet/index.html"):
        html = sample_site.read(rel)
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (rel, tag)


def test_experiment_page_reads_its_runs_from_the_summary_script(sample_site, project):
    html = sample_site.read("experiments/cifar10-resnet/index.html")
    raw = re.search(r'<script type="application/json" id="runtable-data">(.*?)</script>', html, re.S).group(1)
    meta = json.loads(raw)
    assert "runs" not in meta and meta["experiment"] == "cifar10-resnet"
    assert meta["primary"] == "val/acc" and meta["best"] == "cifar10-resnet/20261121-190237-a364ca"
    assert '<script src="../../data/summaries/cifar10-resnet.js" defer></script>' in html
    text = sample_site.read("data/summaries/cifar10-resnet.js")
    data = json.loads(text[text.index("]=") + 2:-2])
    exp = project.experiments["cifar10-resnet"]
    assert [r["uid"] for r in data["runs"]] == [r.uid for r, _ in experiment_pages.ordered_runs(exp)]
    first = data["runs"][0]
    params = {data["keys"]["params"][int(k)]: v for k, v in first["p"].items()}
    assert params == {k: compare.param_value(v) for k, v in project.runs[first["uid"]].params_flat.items()}
    assert "<tr class=\"depth" not in html  # rows are drawn by runtable.js, not pre-rendered


def test_bad_query_and_missing_runs_become_a_notice(project):
    cmp = Comparison(name="broken", title="Broken", query="metrics.acc >", runs=["nope/1"])
    page = compare.comparison_page(cmp, project)
    error = page.context["comparison"]["error"]
    assert "not valid" in error and "position" in error


def test_data_script_downsamples_and_keeps_nan(tmp_path):
    _write_run(tmp_path, "exp", "r1", {"lr": 0.1}, {}, steps=5000)
    project = load_project(tmp_path)
    run = project.runs["exp/r1"]
    history = read_history(run.directory, "runs/exp/r1")
    script = compare.data_script(run, history)
    prefix = '(self.sitegenRunStore=self.sitegenRunStore||{})["exp/r1"]='
    assert script.startswith(prefix) and script.endswith(";\n")
    assert "NaN" in script and "</" not in script
    data = json.loads(script[len(prefix):-2])  # Python's json reads NaN and Infinity, like JavaScript
    assert sorted(data) == ["csv", "curves", "points", "t0", "texts"]
    steps, values, times = data["curves"]["loss"]
    assert len(steps) <= compare.MAX_POINTS + 4
    assert steps[0] == 0 and steps[-1] == 4999 and steps == sorted(steps)
    assert any(v != v for v in values)  # NaN survives downsampling
    assert times[0] == 0 and data["t0"] == 1_700_000_000_000
    assert data["points"]["loss"] == 5000
    assert data["csv"] == "runs/exp/r1/metrics.csv"


def test_js_numbers_reads_back_as_the_same_numbers():
    import numpy as np

    from sitegen.jsonutil import js_numbers

    values = np.array([0.1, 1e-5, 1e21, -0.0, 1 / 3, 5.0, 2.5e-300, float("nan"), float("inf"), float("-inf")])
    text = js_numbers(values)
    back = json.loads(text)
    assert back[:7] == values[:7].tolist() and back[7] != back[7] and back[8:] == [float("inf"), float("-inf")]
    assert "NaN" in text and "-Infinity" in text
    assert js_numbers(np.arange(4)) == "[0,1,2,3]" and js_numbers(np.array([])) == "[]"


def test_group_table_handles_missing_values(tmp_path):
    _write_run(tmp_path, "exp", "a", {"lr": 0.1, "seed": 1}, {"acc": 0.5})
    _write_run(tmp_path, "exp", "b", {"lr": 0.1, "seed": 2}, {"acc": 0.7})
    _write_run(tmp_path, "exp", "c", {"seed": 3}, {"acc": float("nan")})
    project = load_project(tmp_path)
    runs = [project.runs[u] for u in sorted(project.runs)]
    groups = compare.group_table(runs, ["params.lr"], ["acc"])
    assert [g["values"] for g in groups] == [["0.1"], [None]]
    assert groups[0]["stats"][0]["mean"] == pytest.approx(0.6)
    assert groups[1]["stats"][0] == {"n": 0, "mean": None, "std": None, "min": None, "max": None}


def test_summary_scripts_hold_each_experiments_runs(tmp_path):
    from sitegen.export import summaries as summaries_export

    _write_run(tmp_path, "exp", "r2", {"lr": 0.2}, {"acc": 0.7})
    _write_run(tmp_path, "exp", "r1", {"lr": 0.1}, {"acc": 0.5})
    _write_run(tmp_path, "other", "o1", {"depth": 3}, {"loss": 1.0})
    project = load_project(tmp_path)
    files = dict(summaries_export.files(project))
    assert sorted(files) == ["data/summaries/exp.js", "data/summaries/other.js"]
    prefix = '(self.sitegenSummaries=self.sitegenSummaries||{})["exp"]='
    text = files["data/summaries/exp.js"]
    assert text.startswith(prefix) and text.endswith(";\n")
    data = json.loads(text[len(prefix):-2])
    order = [r.uid for r, _ in experiment_pages.ordered_runs(project.experiments["exp"])]  # the run table's
    assert [r["uid"] for r in data["runs"]] == order == ["exp/r2", "exp/r1"] and data["keys"]["params"] == ["lr"]
    page = compare.adhoc_page(project)
    assert "runs" not in page.context["data"]
    assert page.context["data"]["summaries"] == {"exp": "data/summaries/exp.js", "other": "data/summaries/other.js"}
