"""Helpers that write small format-1 sources for tests (real YAML and real Parquet files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from sitegen.store.metrics import SCHEMA as METRICS_SCHEMA


def write_yaml(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def write_run(root: Path, experiment: str, run_id: str, **fields: Any) -> Path:
    """runs/<experiment>/<run_id>/run.yaml with ``format`` and ``id`` filled in; returns the run folder."""
    data = {"format": "sitegen.run/1", "id": run_id, "status": "finished",
            "start_time": "2026-11-20T10:00:00Z", **fields}
    run_dir = root / "runs" / experiment / run_id
    write_yaml(run_dir / "run.yaml", data)
    return run_dir


def write_metrics(run_dir: Path, points: Iterable[tuple[str, int, float]]) -> Path:
    """metrics.parquet from (key, step, value) points, timestamps one second apart."""
    keys, steps, values = zip(*points) if points else ((), (), ())
    table = pa.table({"key": list(keys), "step": list(steps), "value": list(values),
                      "timestamp": [1_790_000_000_000 + 1000 * i for i in range(len(keys))]},
                     schema=METRICS_SCHEMA)
    path = run_dir / "metrics.parquet"
    pq.write_table(table, path)
    return path


def small_source(root: Path) -> Path:
    """Two experiments, a parent with a child, histories, a model and a dataset (no problems at all)."""
    write_yaml(root / "sitegen.yaml", {"title": "Small", "card": {"required_sections": []}})
    parent = write_run(root, "exp", "parent-run", name="Parent", params={"lr": 0.1, "opt": {"name": "sgd"}},
                       tags={"team": "a"})
    write_metrics(parent, [("loss", s, 1.0 / (s + 1)) for s in range(10)] + [("acc", 9, 0.8)])
    child = write_run(root, "exp", "child-run", name="Child", parent="parent-run", params={"lr": 0.01},
                      metrics={"acc": 0.9})
    write_metrics(child, [("loss", s, 2.0 / (s + 1)) for s in range(10)])
    write_yaml(root / "runs" / "exp" / "experiment.yaml", {"title": "Experiment", "primary_metric": "acc"})
    write_run(root, "other", "r1", name="Other run")
    write_yaml(root / "models" / "m" / "model.yaml", {"format": "sitegen.model/1", "name": "M",
                                                      "aliases": {"champion": 1}})
    write_yaml(root / "models" / "m" / "versions" / "1.yaml", {"format": "sitegen.model-version/1", "version": 1,
                                                               "source_run": "exp/child-run"})
    write_yaml(root / "datasets" / "d.yaml", {"name": "D", "digest": "sha256:" + "ab" * 32})
    return root
