"""Metric histories: metrics.parquet merged with a leftover metrics.journal.jsonl, and their summaries."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..model import MetricSummary

PARQUET = "metrics.parquet"
JOURNAL = "metrics.journal.jsonl"
SCHEMA = pa.schema([("key", pa.string()), ("step", pa.int64()), ("value", pa.float64()),
                    ("timestamp", pa.timestamp("ms", tz="UTC"))])


@dataclass
class History:
    """Columnar metric history of one run, sorted by key then step (stable)."""

    keys: np.ndarray  # object array of str
    steps: np.ndarray  # int64
    values: np.ndarray  # float64
    timestamps: np.ndarray  # int64 ms since epoch, or -1 when missing
    problems: list[tuple[str, int, str]] = field(default_factory=list)  # (file, line, message)

    def __len__(self) -> int:
        return len(self.steps)

    def key_names(self) -> list[str]:
        return sorted(set(self.keys.tolist()))

    def series(self, key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(steps, values, timestamps) of one key."""
        mask = self.keys == key
        return self.steps[mask], self.values[mask], self.timestamps[mask]

    def groups(self):
        """Yield (key, steps, values, timestamps) for every key, in key order."""
        if not len(self):
            return
        boundaries = np.flatnonzero(self.keys[1:] != self.keys[:-1]) + 1
        starts = np.concatenate(([0], boundaries))
        ends = np.concatenate((boundaries, [len(self.keys)]))
        for s, e in zip(starts.tolist(), ends.tolist()):
            yield self.keys[s], self.steps[s:e], self.values[s:e], self.timestamps[s:e]


class HistoryError(Exception):
    """The Parquet file of a run cannot be used (corrupt, truncated, wrong schema)."""


def _empty() -> History:
    return History(np.array([], dtype=object), np.array([], dtype=np.int64), np.array([], dtype=np.float64),
                   np.array([], dtype=np.int64))


def _read_parquet(path: Path) -> tuple[list, np.ndarray, np.ndarray, np.ndarray]:
    try:
        table = pq.ParquetFile(path).read(use_threads=False)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise HistoryError(f"cannot read Parquet file: {exc}") from None
    names = set(table.column_names)
    missing = [c for c in ("key", "step", "value") if c not in names]
    if missing:
        raise HistoryError(f"missing column(s) {', '.join(missing)}; expected key: string, step: int64, "
                           f"value: float64, timestamp: timestamp[ms, UTC]")
    try:
        keys = table.column("key").cast(pa.string()).to_numpy(zero_copy_only=False)
        steps = table.column("step").cast(pa.int64()).to_numpy(zero_copy_only=False)
        values = table.column("value").cast(pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowException, ValueError) as exc:
        raise HistoryError(f"wrong column types ({exc}); expected key: string, step: int64, value: float64") \
            from None
    if table.column("key").null_count or table.column("step").null_count:
        raise HistoryError("columns key and step may not contain nulls")
    if "timestamp" in names:
        col = table.column("timestamp")
        try:
            ts = col.cast(pa.timestamp("ms", tz="UTC")).cast(pa.int64()).fill_null(-1).to_numpy(
                zero_copy_only=False)
        except (pa.ArrowException, ValueError):
            ts = np.full(len(steps), -1, dtype=np.int64)
    else:
        ts = np.full(len(steps), -1, dtype=np.int64)
    return keys, steps.astype(np.int64), values.astype(np.float64), ts.astype(np.int64)


def _journal_value(v) -> float:
    if isinstance(v, bool):
        raise ValueError("a boolean is not a metric value")
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str) and v.strip().lower() in ("nan", "inf", "+inf", "-inf", "infinity", "-infinity"):
        return float(v.strip().lower().replace("infinity", "inf"))
    if v is None:
        return math.nan
    raise ValueError(f"expected a number, got {v!r}")


def _journal_time(t) -> int:
    if t is None:
        return -1
    if isinstance(t, (int, float)) and not isinstance(t, bool):
        return int(t * 1000) if t < 1e11 else int(t)  # seconds or milliseconds since the epoch
    if isinstance(t, str):
        dt = datetime.fromisoformat(t.replace("Z", "+00:00"))
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        return int(dt.timestamp() * 1000)
    raise ValueError(f"expected an ISO 8601 time or epoch number, got {t!r}")


def _read_journal(path: Path, relpath: str, problems: list) -> tuple[list, list, list, list]:
    keys, steps, values, ts = [], [], [], []
    with open(path, "rb") as fh:
        lines = fh.read().split(b"\n")
    last = len(lines) - 1
    while last >= 0 and not lines[last].strip():
        last -= 1
    for i, raw in enumerate(lines[: last + 1]):
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
            if not isinstance(rec, dict):
                raise ValueError("expected a JSON object")
            key = rec["key"]
            if not isinstance(key, str) or not key:
                raise ValueError("field 'key' must be a non-empty string")
            step = rec.get("step", 0)
            if isinstance(step, bool) or not isinstance(step, int):
                raise ValueError("field 'step' must be an integer")
            value = _journal_value(rec.get("value"))
            t = _journal_time(rec.get("timestamp"))
        except (ValueError, KeyError, TypeError) as exc:
            if i == last and not raw.rstrip().endswith(b"}"):
                # The writer died mid-line: a torn last line is expected after a crash, not an error.
                problems.append((relpath, i + 1, "last line is incomplete (the writer stopped mid-line); "
                                                 "it was skipped", "warning"))
            else:
                detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
                problems.append((relpath, i + 1, f"skipped journal line: {detail}", "warning"))
            continue
        keys.append(key)
        steps.append(step)
        values.append(value)
        ts.append(t)
    return keys, steps, values, ts


def read_history(run_dir: Path, relroot: str) -> History:
    """Read a run's metric history; raise HistoryError for an unusable Parquet file.

    Journal problems (bad or torn lines) are recorded in ``History.problems``, not raised.
    """
    parquet = run_dir / PARQUET
    journal = run_dir / JOURNAL
    parts_k, parts_s, parts_v, parts_t = [], [], [], []
    problems: list = []
    if parquet.is_file() and not parquet.is_symlink():
        k, s, v, t = _read_parquet(parquet)
        parts_k.append(np.asarray(k, dtype=object))
        parts_s.append(s)
        parts_v.append(v)
        parts_t.append(t)
    if journal.is_file() and not journal.is_symlink():
        k, s, v, t = _read_journal(journal, f"{relroot}/{JOURNAL}", problems)
        if k:
            parts_k.append(np.asarray(k, dtype=object))
            parts_s.append(np.asarray(s, dtype=np.int64))
            parts_v.append(np.asarray(v, dtype=np.float64))
            parts_t.append(np.asarray(t, dtype=np.int64))
    if not parts_k:
        hist = _empty()
        hist.problems = problems
        return hist
    keys = np.concatenate(parts_k)
    steps = np.concatenate(parts_s)
    values = np.concatenate(parts_v)
    ts = np.concatenate(parts_t)
    order = np.lexsort((steps, keys))
    keys, steps, values, ts = keys[order], steps[order], values[order], ts[order]
    if len(parts_k) > 1:
        # A compaction that crashed after writing Parquet but before removing the journal repeats points.
        same = np.zeros(len(keys), dtype=bool)
        same[1:] = ((keys[1:] == keys[:-1]) & (steps[1:] == steps[:-1]) & (ts[1:] == ts[:-1])
                    & ((values[1:] == values[:-1]) | (np.isnan(values[1:]) & np.isnan(values[:-1]))))
        keep = ~same
        keys, steps, values, ts = keys[keep], steps[keep], values[keep], ts[keep]
    return History(keys, steps, values, ts, problems)


def summarize(history: History) -> dict[str, MetricSummary]:
    """Per key: last value (at the highest step, the latest logged on ties), min, max, count."""
    out: dict[str, MetricSummary] = {}
    for key, steps, values, _ in history.groups():
        finite = values[np.isfinite(values)]
        out[key] = MetricSummary(
            key=key, last=float(values[-1]), count=len(values), last_step=int(steps[-1]),
            min=float(finite.min()) if len(finite) else None,
            max=float(finite.max()) if len(finite) else None, from_history=True)
    return out


def history_frame(history: History):
    """The history as a pandas DataFrame (key, step, value, timestamp)."""
    import pandas as pd

    ts = pd.to_datetime(pd.Series(history.timestamps).where(history.timestamps >= 0), unit="ms", utc=True)
    return pd.DataFrame({"key": history.keys.astype(str), "step": history.steps, "value": history.values,
                         "timestamp": ts})
