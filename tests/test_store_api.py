from pathlib import Path

import pytest

import sitegen
from sitegen.diagnostics import SitegenError
from sources import small_source, write_metrics, write_run


def test_runs_frame_has_one_row_a_run_with_prefixed_columns(tmp_path: Path):
    frame = sitegen.open(small_source(tmp_path)).runs_frame()
    assert list(frame["run_id"]) == ["child-run", "parent-run", "r1"]
    assert list(frame.columns[:4]) == ["run_id", "experiment", "name", "status"]
    assert {"params.lr", "params.opt.name", "metrics.loss", "metrics.acc", "tags.team"} <= set(frame.columns)
    parent = frame[frame.run_id == "parent-run"].iloc[0]
    assert parent["params.opt.name"] == "sgd" and parent["metrics.loss"] == pytest.approx(0.1)


def test_runs_frame_filters_by_experiment_and_query(tmp_path: Path):
    store = sitegen.open(small_source(tmp_path))
    assert list(store.runs_frame(experiment="other")["run_id"]) == ["r1"]
    assert list(store.runs_frame(query="params.lr < 0.05")["run_id"]) == ["child-run"]
    assert list(store.runs_frame(query="metrics.acc >= 0.8 and params.opt.name = 'sgd'")["run_id"]) == ["parent-run"]
    assert list(store.runs_frame(query="attributes.name = 'Other run'")["run_id"]) == ["r1"]
    assert list(store.runs_frame(query="status = 'finished' and experiment = 'exp'")["run_id"]) == [
        "child-run", "parent-run"]


def test_metric_history_returns_the_full_series(tmp_path: Path):
    run_dir = write_run(tmp_path, "e", "r")
    write_metrics(run_dir, [("loss", s, float(s)) for s in range(2000)] + [("acc", 0, 1.0)])
    history = sitegen.open(tmp_path).metric_history("e/r", "loss")
    assert list(history.columns) == ["step", "value", "timestamp"]
    assert len(history) == 2000 and history["value"].iloc[-1] == 1999.0
    assert str(history["timestamp"].dt.tz) == "UTC"
    with pytest.raises(SitegenError, match="no run"):
        sitegen.open(tmp_path).metric_history("e/nope", "loss")
