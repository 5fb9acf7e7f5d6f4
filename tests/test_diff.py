"""sitegen diff on real git repositories with known changes (golden Markdown and stable JSON)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sitegen.diagnostics import SitegenError
from sitegen.diff import Threshold, compare, diff_revisions, md, to_json, to_markdown

EXPERIMENT = "format: sitegen.experiment/1\ntitle: Churn\nprimary_metric: auc\ngoal: max\n"
RUN = """format: sitegen.run/1
id: {id}
name: {name}
status: {status}
start_time: 2026-01-01T10:00:00Z
tags: {{team: {team}}}
params: {{lr: {lr}, model: {{depth: {depth}}}}}
metrics: {{auc: {auc}, loss: {loss}}}
"""
MODEL = "format: sitegen.model/1\nname: Churn model\naliases: {aliases}\n"
VERSION = """format: sitegen.model-version/1
version: {n}
source_run: churn/{run}
created: 2026-01-0{n}T12:00:00Z
stage: {stage}
card:
  intended_use: {{primary_uses: {use}}}
  caveats_and_recommendations: Keep an eye on drift.
"""


def run(repo, run_id, *, name=None, status="finished", team="a", lr=0.1, depth=3, auc=0.8, loss=0.5):
    repo.write(f"runs/churn/{run_id}/run.yaml", RUN.format(id=run_id, name=name or run_id, status=status,
                                                           team=team, lr=lr, depth=depth, auc=auc, loss=loss))


def version(repo, n, run_id, *, stage="staging", use="scoring accounts"):
    repo.write(f"models/churn/versions/{n}.yaml", VERSION.format(n=n, run=run_id, stage=stage, use=use))


@pytest.fixture
def history(git_repo):
    """v1: two runs and one model version; v2 (HEAD): one run added, one removed, one changed, a new
    model version that became champion, a card edit."""
    repo = git_repo
    repo.write("runs/churn/experiment.yaml", EXPERIMENT)
    run(repo, "r1", auc=0.80, loss=0.50)
    run(repo, "r2", status="running", auc=0.82, loss=0.45)
    repo.write("models/churn/model.yaml", MODEL.format(aliases="{champion: 1}"))
    version(repo, 1, "r1")
    repo.commit("v1")
    repo.git("tag", "v1")
    (repo.path / "runs/churn/r1/run.yaml").unlink()
    run(repo, "r2", name="r2-tuned", status="finished", team="b", lr=0.05, depth=5, auc=0.84, loss=0.40)
    run(repo, "r3", auc=0.86, loss=0.35)
    repo.write("models/churn/model.yaml", MODEL.format(aliases="{champion: 2, challenger: 1}"))
    version(repo, 1, "r1", use="scoring accounts | nightly")
    version(repo, 2, "r3", stage="production")
    repo.commit("v2")
    return repo


GOLDEN = """\
## Changes from v1 ({v1}) to HEAD ({head})

**1 run added, 1 run removed, 1 run changed, 1 model version added, 2 aliases moved, 1 model card changed**

### Runs added

| Run | Name | Status |
| --- | --- | --- |
| churn/r3 | r3 | finished |

### Runs removed

| Run | Name | Status |
| --- | --- | --- |
| churn/r1 | r1 | finished |

### Runs changed

| Run | Field | Before | After |
| --- | --- | --- | --- |
| churn/r2 | name | r2 | r2-tuned |
| churn/r2 | status | running | finished |
| churn/r2 | params.lr | 0.1 | 0.05 |
| churn/r2 | params.model.depth | 3 | 5 |
| churn/r2 | tags.team | a | b |

### Metric changes

| Run | Metric | Before | After | Change |
| --- | --- | --- | --- | --- |
| churn/r2 | auc | 0.82 | 0.84 | +0.02 ✅ |
| churn/r2 | loss | 0.45 | 0.4 | -0.05 ✅ |

### Best run of each experiment

| Experiment | Metric | Before | After |
| --- | --- | --- | --- |
| churn | auc (max) | churn/r2: 0.82 | churn/r3: 0.86 |

### Model versions

| Model | Version | Change | Stage | Source run |
| --- | --- | --- | --- | --- |
| churn | 2 | added | production | churn/r3 |

### Alias moves

| Model | Alias | Before | After |
| --- | --- | --- | --- |
| churn | challenger | — | 1 |
| churn | champion | 1 | 2 |

### Model card changes

| Model | Version | Sections changed |
| --- | --- | --- |
| churn | 1 | intended\\_use |
"""


def test_markdown_golden(history):
    diff = diff_revisions(history.path, "v1", "HEAD")
    shas = {"v1": history.git("rev-parse", "v1")[:10], "head": history.git("rev-parse", "HEAD")[:10]}
    assert to_markdown(diff) == GOLDEN.replace("{v1}", shas["v1"]).replace("{head}", shas["head"])


def test_json_is_stable_and_complete(history):
    a = to_json(diff_revisions(history.path, "v1", "HEAD"))
    b = to_json(diff_revisions(history.path, "v1", "HEAD"))
    assert a == b
    data = json.loads(a)
    assert data["format"] == "sitegen.diff/1"
    assert [r["run"] for r in data["runs_added"]] == ["churn/r3"]
    assert [r["run"] for r in data["runs_removed"]] == ["churn/r1"]
    assert {(c["field"], c["before"], c["after"]) for c in data["runs_changed"]} >= {("status", "running", "finished")}
    assert data["best_runs"] == [{"experiment": "churn", "metric": "auc", "goal": "max", "before_run": "churn/r2",
                                  "before": 0.82, "after_run": "churn/r3", "after": 0.86, "changed": True}]
    assert data["versions_added"][0]["version"] == 2
    assert data["card_changes"] == [{"model": "churn", "version": 1, "sections": ["intended_use"]}]


def test_working_tree_is_the_default_b(history):
    run(history, "r4", auc=0.9)  # not committed
    diff = diff_revisions(history.path, "HEAD")
    assert diff.after == "working tree"
    assert [r["run"] for r in diff.runs_added] == ["churn/r4"]
    assert not diff.runs_removed and not diff.versions_added


def test_regression_thresholds(history):
    run(history, "r2", name="r2-tuned", team="b", lr=0.05, depth=5, auc=0.80, loss=0.40)  # auc 0.84 -> 0.80
    regressed = diff_revisions(history.path, "HEAD", None, [Threshold.parse("auc=0.01")])
    assert [(r["scope"], r["subject"]) for r in regressed.regressions] == [("run", "churn/r2")]
    assert "Regressions" in to_markdown(regressed)
    tolerant = diff_revisions(history.path, "HEAD", None, [Threshold.parse("auc=10%")])
    assert tolerant.regressions == []
    # loss is lower-is-better: 0.40 -> 0.60 is a regression, detected from the name
    run(history, "r2", name="r2-tuned", team="b", lr=0.05, depth=5, auc=0.84, loss=0.60)
    lossy = diff_revisions(history.path, "HEAD", None, [Threshold.parse("loss=0.05")])
    assert [r["subject"] for r in lossy.regressions] == ["churn/r2"]


def test_threshold_parsing_errors():
    assert Threshold.parse("val/acc=0.01") == Threshold("val/acc", 0.01, False)
    assert Threshold.parse("a=b=5%") == Threshold("a=b", 0.05, True)
    for bad in ("acc", "acc=", "=1", "acc=x", "acc=-1"):
        with pytest.raises(SitegenError, match="--fail-on-regression"):
            Threshold.parse(bad)


def test_markdown_cells_escape_user_text():
    assert md("a|b") == "a\\|b"
    assert md("<script>x</script>") == "\\<script\\>x\\</script\\>"
    assert md("two\nlines") == "two lines"
    before = {"experiments": {}, "runs": {}, "models": {}}
    after = {"experiments": {}, "models": {}, "runs": {"e/x": {"experiment": "e", "name": "[click](javascript:1)",
                                                             "status": "finished", "params": {}, "metrics": {},
                                                             "tags": {}}}}
    text = to_markdown(compare(before, after))
    assert "\\[click\\](javascript:1)" in text


def test_cli_exit_codes(history):
    run(history, "r2", name="r2-tuned", team="b", lr=0.05, depth=5, auc=0.70, loss=0.40)
    cmd = [sys.executable, "-m", "sitegen", "diff", "HEAD", "--source", str(history.path)]
    ok = subprocess.run(cmd + ["--format", "json"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["metric_changes"][0]["after"] == 0.7
    bad = subprocess.run(cmd + ["--fail-on-regression", "auc=0.05"], capture_output=True, text=True)
    assert bad.returncode == 1 and "regression" in bad.stderr and "| churn/r2 | auc |" in bad.stdout
    unknown = subprocess.run(cmd[:4] + ["nope", "--source", str(history.path)], capture_output=True, text=True)
    assert unknown.returncode == 1 and "unknown git revision 'nope'" in unknown.stderr
