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

from .. import arrowbuf
from ..model import MetricSummary
from .metric_files import JOURNAL, PARQUET, HistoryError

__all__ = ["JOURNAL", "PARQUET", "SCHEMA", "History", "HistoryError", "read_history", "summarize", "history_frame"]
# metrics.parquet (format 1, DESIGN section 2) as any tool may write it; the tracker's own files use
# sitegen.journal.SCHEMA, the same columns with key, step and value never null.
SCHEMA = pa.schema([("key", pa.string()), ("step", pa.int64()), ("value", pa.float64()),
                    ("timestamp", pa.timestamp("ms", tz="UTC"))])


@dataclass
class History:
    """Columnar metric history of one run, sorted by key then step (stable).

    Keys are held as integer codes into ``key_names`` (sorted), which keeps sorting and grouping in
    numpy's fast paths; ``keys`` gives the per-point key strings when a caller wants them.
    """

    key_names: list[str]
    codes: np.ndarray  # int32 index into key_names, one per point
    steps: np.ndarray  # int64
    values: np.ndarray  # float64
    timestamps: np.ndarray  # int64 ms since epoch, or -1 when missing
    problems: list[tuple] = field(default_factory=list)  # (file, line, message, severity)

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def keys(self) -> np.ndarray:
        """The key of every point (object array of str)."""
        return np.array(self.key_names, dtype=object)[self.codes] if len(self.codes) else np.array([], dtype=object)

    def series(self, key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(steps, values, timestamps) of one key (empty arrays when the key was never logged)."""
        try:
            code = self.key_names.index(key)
        except ValueError:
            empty = np.array([], dtype=np.int64)
            return empty, np.array([], dtype=np.float64), empty
        lo, hi = np.searchsorted(self.codes, [code, code + 1])
        return self.steps[lo:hi], self.values[lo:hi], self.timestamps[lo:hi]

    def groups(self):
        """Yield (key, steps, values, timestamps) for every key, in key order."""
        if not len(self):
            return
        bounds = np.searchsorted(self.codes, np.arange(len(self.key_names) + 1))
        for code, name in enumerate(self.key_names):
            lo, hi = int(bounds[code]), int(bounds[code + 1])
            if hi > lo:
                yield name, self.steps[lo:hi], self.values[lo:hi], self.timestamps[lo:hi]

    def table(self) -> pa.Table:
        """The history as an Arrow table in the metrics.parquet schema (timestamps null when missing)."""
        return pa.Table.from_arrays(self.columns(SCHEMA.field("timestamp").type), schema=SCHEMA)

    def columns(self, timestamp_type: pa.DataType) -> list[pa.Array]:
        """key, step, value and timestamp (of ``timestamp_type``; null when missing) as Arrow arrays."""
        keys = pa.DictionaryArray.from_arrays(arrowbuf.numeric(pa.int32(), self.codes.astype(np.int32, copy=False)),
                                              arrowbuf.strings(self.key_names))
        return [keys.cast(pa.string()), arrowbuf.numeric(pa.int64(), self.steps.astype(np.int64, copy=False)),
                arrowbuf.numeric(pa.float64(), self.values.astype(np.float64, copy=False)),
                arrowbuf.numeric(timestamp_type, self.timestamps.astype(np.int64, copy=False),
                                 null=self.timestamps < 0)]


def _read_parquet(path: Path) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(key names, key codes, steps, values, timestamps) as stored, unsorted."""
    try:
        table = pq.ParquetFile(path).read(use_threads=False)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise HistoryError(f"cannot read Parquet file: {exc}") from None
    names = set(table.column_names)
    missing = [c for c in ("key", "step", "value") if c not in names]
    if missing:
        raise HistoryError(f"missing column(s) {', '.join(missing)}; expected key: string, step: int64, "
                           f"value: float64, timestamp: timestamp[ms, UTC]")
    if table.column("key").null_count or table.column("step").null_count:
        raise HistoryError("columns key and step may not contain nulls")
    try:
        keys = table.column("key").cast(pa.string()).dictionary_encode().combine_chunks()
        steps = arrowbuf.to_numpy(table.column("step").cast(pa.int64()), np.int64)
        values = arrowbuf.to_numpy(table.column("value").cast(pa.float64()), np.float64, fill=math.nan)
    except (pa.ArrowException, ValueError) as exc:
        raise HistoryError(f"wrong column types ({exc}); expected key: string, step: int64, value: float64") \
            from None
    ts = np.full(len(steps), -1, dtype=np.int64)
    if "timestamp" in names:
        try:
            col = table.column("timestamp").cast(pa.timestamp("ms", tz="UTC")).cast(pa.int64())
            ts = arrowbuf.to_numpy(col, np.int64, fill=-1).astype(np.int64)
        except (pa.ArrowException, ValueError):
            pass
    return (keys.dictionary.to_pylist(), arrowbuf.to_numpy(keys.indices, np.int32).astype(np.int32),
            steps.astype(np.int64), values.astype(np.float64), ts)


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
    names: list[str] = []
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    problems: list = []
    if parquet.is_file() and not parquet.is_symlink():
        names, codes, s, v, t = _read_parquet(parquet)
        parts.append((codes, s, v, t))
    if journal.is_file() and not journal.is_symlink():
        k, s, v, t = _read_journal(journal, f"{relroot}/{JOURNAL}", problems)
        if k:
            index = {n: i for i, n in enumerate(names)}
            codes = np.fromiter((index.setdefault(key, len(index)) for key in k), dtype=np.int32, count=len(k))
            names = list(index)
            parts.append((codes, np.asarray(s, dtype=np.int64), np.asarray(v, dtype=np.float64),
                          np.asarray(t, dtype=np.int64)))
    if not parts:
        empty = np.array([], dtype=np.int64)
        return History([], np.array([], dtype=np.int32), empty, np.array([], dtype=np.float64), empty, problems)
    codes = np.concatenate([p[0] for p in parts])
    steps = np.concatenate([p[1] for p in parts])
    values = np.concatenate([p[2] for p in parts])
    ts = np.concatenate([p[3] for p in parts])
    # Re-code so that codes follow sorted key names, then sort by (key, step), stably.
    order_names = sorted(range(len(names)), key=names.__getitem__)
    remap = np.empty(len(names), dtype=np.int32)
    remap[order_names] = np.arange(len(names), dtype=np.int32)
    codes = remap[codes]
    names = [names[i] for i in order_names]
    if len(codes) > 1 and not _is_sorted(codes, steps):
        order = np.lexsort((steps, codes))
        codes, steps, values, ts = codes[order], steps[order], values[order], ts[order]
    if len(parts) > 1:
        # A compaction that crashed after writing Parquet but before removing the journal repeats points.
        same = np.zeros(len(codes), dtype=bool)
        same[1:] = ((codes[1:] == codes[:-1]) & (steps[1:] == steps[:-1]) & (ts[1:] == ts[:-1])
                    & ((values[1:] == values[:-1]) | (np.isnan(values[1:]) & np.isnan(values[:-1]))))
        keep = ~same
        codes, steps, values, ts = codes[keep], steps[keep], values[keep], ts[keep]
    return History(names, codes, steps, values, ts, problems)


def _is_sorted(codes: np.ndarray, steps: np.ndarray) -> bool:
    dc = np.diff(codes)
    return bool(np.all((dc > 0) | ((dc == 0) & (np.diff(steps) >= 0))))


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
    return history.table().to_pandas()
