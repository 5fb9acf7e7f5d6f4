"""A deployed model's performance over time (models/<m>/monitoring.parquet) and threshold alerts.

numpy and pyarrow are loaded when a monitoring file is read: every build asks each model for its alerts,
and most models have no such file."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .model import RegisteredModel

if TYPE_CHECKING:
    import numpy as np


class MonitoringError(Exception):
    pass


@dataclass
class MetricSeries:
    metric: str
    slice: str | None
    times: np.ndarray  # datetime64[ms]
    values: np.ndarray


@dataclass
class Alert:
    model: str
    metric: str
    slice: str | None
    at: datetime
    value: float
    bound: str  # "min" or "max"
    threshold: float

    @property
    def message(self) -> str:
        where = f" ({self.slice})" if self.slice else ""
        op = "below" if self.bound == "min" else "above"
        return f"{self.metric}{where} = {self.value:.4g} on {self.at:%Y-%m-%d}, {op} the {self.bound} of {self.threshold:g}"


def __getattr__(name: str) -> Any:
    if name == "SCHEMA":  # models/<m>/monitoring.parquet (DESIGN section 2); slice is optional when reading.
        import pyarrow as pa

        return pa.schema([("time", pa.timestamp("ms", tz="UTC")), ("metric", pa.string()),
                          ("value", pa.float64()), ("slice", pa.string())])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def read_monitoring(path: Path) -> list[MetricSeries]:
    """Series per (metric, slice), sorted by time; raises MonitoringError for an unusable file."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from . import arrowbuf

    try:
        table = pq.ParquetFile(path).read(use_threads=False)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise MonitoringError(f"cannot read Parquet file: {exc}") from None
    missing = [c for c in ("time", "metric", "value") if c not in table.column_names]
    if missing:
        raise MonitoringError(f"missing column(s) {', '.join(missing)}; expected time: timestamp, metric: string, "
                              f"value: float64, slice: string (optional)")
    try:
        times = arrowbuf.to_numpy(table.column("time").cast(pa.timestamp("ms", tz="UTC")).cast(pa.int64()), np.int64,
                                  fill=np.iinfo(np.int64).min).view("datetime64[ms]")  # nulls: NaT
        metrics = table.column("metric").cast(pa.string()).to_pylist()
        values = arrowbuf.to_numpy(table.column("value").cast(pa.float64()), np.float64, fill=math.nan)
        slices = (table.column("slice").cast(pa.string()).to_pylist() if "slice" in table.column_names
                  else [None] * len(values))
    except (pa.ArrowException, ValueError) as exc:
        raise MonitoringError(f"wrong column types: {exc}") from None
    groups: dict[tuple[str, str | None], list[int]] = {}
    for i, (m, s) in enumerate(zip(metrics, slices)):
        groups.setdefault((m, s), []).append(i)
    out = []
    for (metric, slc), idx in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        ix = np.asarray(idx)
        order = np.argsort(times[ix], kind="stable")
        out.append(MetricSeries(metric, slc, times[ix][order].astype("datetime64[ms]"), values[ix][order]))
    return out


def alerts(model: RegisteredModel, series: list[MetricSeries]) -> list[Alert]:
    """Thresholds from model.yaml checked against the latest value of every monitored series."""
    found = []
    for s in series:
        limits = model.monitoring_thresholds.get(s.metric)
        if not limits or not len(s.values):
            continue
        value = float(s.values[-1])
        at = s.times[-1].astype("datetime64[ms]").astype(datetime).replace(tzinfo=timezone.utc)
        for bound in ("min", "max"):
            threshold = limits.get(bound)
            if threshold is None:
                continue
            breached = math.isnan(value) or (value < threshold if bound == "min" else value > threshold)
            if breached:
                found.append(Alert(model.slug, s.metric, s.slice, at, value, bound, float(threshold)))
    return found


def breach_count(series: MetricSeries, limits: dict[str, float] | None) -> int:
    """How many points of the whole history were beyond a threshold (NaN counts as a breach)."""
    if not limits or not len(series.values):
        return 0
    lo = limits.get("min")
    hi = limits.get("max")
    import numpy as np

    values = series.values
    bad = np.isnan(values)
    if lo is not None:
        bad |= values < lo
    if hi is not None:
        bad |= values > hi
    return int(bad.sum())


def model_alerts(model: RegisteredModel) -> tuple[list[MetricSeries], list[Alert], str | None]:
    """Series, alerts and a read error (or None) of one model; no monitoring file gives nothing."""
    if model.monitoring_file is None:
        return [], [], None
    try:
        series = read_monitoring(model.monitoring_file)
    except MonitoringError as exc:
        return [], [], str(exc)
    return series, alerts(model, series), None


def project_alerts(project) -> list[Alert]:
    """Every monitoring alert of every model, sorted by model, metric and slice."""
    found: list[Alert] = []
    for slug in sorted(project.models):
        found.extend(model_alerts(project.models[slug])[1])
    return sorted(found, key=lambda a: (a.model, a.metric, a.slice or "", a.bound))
