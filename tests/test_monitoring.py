"""Monitoring series, threshold alerts, and the build's alert output and --fail-on-alert."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from cardsrc import make_source

from sitegen.model import RegisteredModel
from sitegen.monitoring import (MonitoringError, alerts, breach_count, model_alerts, read_monitoring)


def _write(path, rows):
    times = [datetime(2026, 11, d, tzinfo=timezone.utc) for d, *_ in rows]
    table = pa.table({"time": pa.array(times, pa.timestamp("ms", tz="UTC")),
                      "metric": [m for _, m, _, _ in rows], "value": [float(v) for _, _, v, _ in rows],
                      "slice": [s for _, _, _, s in rows]})
    pq.write_table(table, path)


def test_series_alerts_and_breach_counts(tmp_path):
    path = tmp_path / "monitoring.parquet"
    _write(path, [(3, "auc", 0.85, None), (1, "auc", 0.7, None), (2, "auc", 0.9, None),
                  (1, "auc", 0.9, "EU"), (2, "auc", 0.75, "EU"), (1, "latency_ms", float("nan"), None)])
    series = read_monitoring(path)
    assert [(s.metric, s.slice) for s in series] == [("auc", None), ("auc", "EU"), ("latency_ms", None)]
    assert series[0].values.tolist() == [0.7, 0.9, 0.85]  # sorted by time
    model = RegisteredModel(slug="m", name="m", file="models/m/model.yaml",
                            monitoring_thresholds={"auc": {"min": 0.8}, "latency_ms": {"max": 50}})
    found = alerts(model, series)
    # latest overall auc 0.85 is fine; the EU slice's latest 0.75 and a NaN latency are alerts
    assert [(a.metric, a.slice, a.bound) for a in found] == [("auc", "EU", "min"), ("latency_ms", None, "max")]
    assert "auc (EU) = 0.75 on 2026-11-02, below the min of 0.8" == found[0].message
    assert breach_count(series[0], {"min": 0.8}) == 1
    model.monitoring_file = path
    assert len(model_alerts(model)[1]) == 2


def test_unreadable_file_is_an_error_not_a_crash(tmp_path):
    path = tmp_path / "monitoring.parquet"
    pq.write_table(pa.table({"when": [1]}), path)
    try:
        read_monitoring(path)
    except MonitoringError as exc:
        assert "missing column(s) time, metric, value" in str(exc)
    else:
        raise AssertionError("expected MonitoringError")
    model = RegisteredModel(slug="m", name="m", file="f", monitoring_file=path)
    assert model_alerts(model)[2] is not None


def test_build_prints_alerts_and_fail_on_alert(tmp_path):
    src = make_source(tmp_path / "src")
    _write(src / "models/demo/monitoring.parquet", [(1, "auc", 0.9, None), (2, "auc", 0.6, None)])

    def build(*flags):
        return subprocess.run([sys.executable, "-m", "sitegen", "build", str(src), "-o", str(tmp_path / "site"),
                               "-q", *flags], capture_output=True, text=True)

    out = build()
    assert out.returncode == 0, out.stderr
    assert "alert: demo: auc = 0.6 on 2026-11-02, below the min of 0.8" in out.stderr
    out = build("--fail-on-alert")
    assert out.returncode == 1 and "monitoring alert" in out.stderr
    assert (tmp_path / "site/models/demo/index.html").is_file()  # the site is still written
    _write(src / "models/demo/monitoring.parquet", [(1, "auc", 0.6, None), (2, "auc", 0.9, None)])
    assert build("--fail-on-alert").returncode == 0


def test_sample_has_alerts_on_model_page_and_dashboard(sample_site):
    model_page = sample_site.read("models/churn/index.html")
    assert "below the min of 0.8" in model_page and 'id="monitoring"' in model_page
    assert np.char.count(model_page, 'class="chart"') >= 3
    assert "below the min of 0.8" in sample_site.read("index.html")
