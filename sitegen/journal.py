"""A run's metric points: buffered in memory, journaled crash-safely, compacted into ``metrics.parquet``.

Life of a point (see DESIGN.md section 2 for the two file formats):

1. :meth:`MetricWriter.log` appends it to small per-key columnar buffers (``array('q')`` / ``array('d')``)
   under a lock. That is all the per-point work: a few microseconds at most.
2. :meth:`MetricWriter.flush` (called by the run's ticker thread at least once a second, and inline
   when more than ``flush_points`` points are waiting) appends the buffered points to
   ``metrics.journal.jsonl`` with one ``write`` and copies them, as raw columns, into a private spill
   directory outside the run (one file per key). A process killed with SIGKILL therefore loses at most the
   points of the last second; nothing it leaves is corrupt except possibly the journal's final line.
3. :meth:`MetricWriter.close` flushes, then builds ``metrics.parquet`` from the spill files one key at a
   time, in chunks, so memory stays bounded whatever the run's length (a key whose steps were logged out
   of order is sorted in memory, that key alone). The Parquet is written to a temporary file, fsynced and
   renamed over the final name; the directory is fsynced; then the journal is removed.

Journal line format (one JSON object a line, UTF-8)::

    {"key":"loss","step":3,"value":0.25,"timestamp":1764223920123}

``timestamp`` is milliseconds since the Unix epoch (UTC). Non-finite values, which JSON numbers cannot
carry, are written as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` (``float()`` of each gives
the value back). A reader must skip a final line that does not end in a newline or does not parse: it
is a write torn by a crash. :func:`read_journal` does exactly that.

``metrics.parquet`` has the schema :data:`SCHEMA` and is sorted by key (code-point order), then step
(ties keep logging order), so the same points always give the same rows.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import shutil
import struct
import tempfile
import threading
import time
from array import array
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import arrowbuf
from .arrowbuf import numeric, string_scalar
from .diagnostics import SitegenError
from .store.metrics import SCHEMA as FILE_SCHEMA

JOURNAL_NAME = "metrics.journal.jsonl"
PARQUET_NAME = "metrics.parquet"

# The metrics.parquet schema (sitegen.store.metrics.SCHEMA) with key, step and value never null.
SCHEMA = pa.schema([f.with_nullable(f.name == "timestamp") for f in FILE_SCHEMA])
_TIMESTAMP = SCHEMA.field("timestamp").type
# Dictionary-encode only the key; steps and times are near-sequential, which delta encoding suits.
_PARQUET_OPTIONS = dict(compression="zstd", use_dictionary=["key"],
                        column_encoding={"step": "DELTA_BINARY_PACKED", "timestamp": "DELTA_BINARY_PACKED"})

DEFAULT_FLUSH_POINTS = 100_000
ROW_GROUP_ROWS = 1 << 17          # fixed row-group size: the same points give the same file layout
_READ_CHUNK_ROWS = 1 << 16        # rows read back from a spill file at a time
_HEADER = struct.Struct("<q")     # spill block header: number of rows

# Arrow formats floats as the shortest text that round-trips, except these four, which JSON cannot
# carry (non-finite) or which a JSON parser would read as the integer 0 (negative zero).
_VALUE_FIXES = (
    (b'"value":nan,', b'"value":"NaN",'),
    (b'"value":-inf,', b'"value":"-Infinity",'),
    (b'"value":inf,', b'"value":"Infinity",'),
    (b'"value":-0,', b'"value":-0.0,'),
)


def _coerce_value(key: str, value: object) -> float:
    """``value`` as a float, or a TypeError naming the metric key."""
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return float(value)
    item = getattr(value, "item", None)  # numpy 0-d arrays, torch scalar tensors
    if callable(item) and not isinstance(value, (str, bytes)):
        try:
            inner = item()
        except Exception:  # noqa: BLE001 - anything unconvertible is a type error below
            inner = None
        if isinstance(inner, numbers.Real) and not isinstance(inner, bool):
            return float(inner)
    raise TypeError(f"metric {key!r}: value must be a real number (int or float, not bool), "
                    f"got {type(value).__name__}: {value!r:.80}")


def _coerce_step(key: str, step: object) -> int:
    if isinstance(step, numbers.Integral) and not isinstance(step, (bool, np.bool_)):
        return int(step)
    raise TypeError(f"metric {key!r}: step must be an integer, got {type(step).__name__}: {step!r:.80}")


def _coerce_timestamp(key: str, timestamp: object) -> int:
    """Milliseconds since the epoch from an int (ms) or an aware datetime."""
    if isinstance(timestamp, datetime):
        if timestamp.tzinfo is None:
            raise TypeError(f"metric {key!r}: timestamp datetime must carry a time zone")
        return int(timestamp.timestamp() * 1000)
    if isinstance(timestamp, numbers.Integral) and not isinstance(timestamp, bool):
        return int(timestamp)
    raise TypeError(f"metric {key!r}: timestamp must be milliseconds since the epoch (int) or an "
                    f"aware datetime, got {type(timestamp).__name__}")


class _KeyBuffer:
    """Points of one key waiting for the next flush, and where its auto-increment step stands."""

    __slots__ = ("steps", "values", "times", "next_step", "spill_id", "json_prefix")

    def __init__(self, key: str, spill_id: int) -> None:
        self.steps = array("q")
        self.values = array("d")
        self.times = array("q")
        self.next_step = 0
        self.spill_id = spill_id
        self.json_prefix = '{"key":' + json.dumps(key, ensure_ascii=False) + ',"step":'


class MetricWriter:
    """Buffered, thread-safe writer of one run directory's metric points (see the module docstring).

    ``import_existing=True`` (resume, joining a run, recovering a crashed one) first takes in the points
    already in the directory's ``metrics.parquet`` and journal, so auto-increment steps continue after
    them and :meth:`close` writes one Parquet file holding old and new points.
    """

    def __init__(self, run_dir: str | os.PathLike, *, flush_points: int = DEFAULT_FLUSH_POINTS,
                 import_existing: bool = False) -> None:
        self.run_dir = Path(run_dir)
        self.journal_path = self.run_dir / JOURNAL_NAME
        self.parquet_path = self.run_dir / PARQUET_NAME
        self.flush_points = max(1, int(flush_points))
        self._lock = threading.Lock()       # guards the buffers (the hot path)
        self._io_lock = threading.Lock()    # serializes journal and spill writes
        self._keys: dict[str, _KeyBuffer] = {}
        self._pending = 0
        self._journal = None
        self._spill_dir: Path | None = None
        self._spilled: dict[int, bool] = {}  # spill id -> steps so far non-decreasing
        self._last_spilled_step: dict[int, int] = {}
        self._closed = False
        self._time_ns = time.time_ns
        if import_existing:
            self._import_existing()

    # -- the hot path ---------------------------------------------------------------------------
    def log(self, key: str, value: object, step: object = None, timestamp: object = None) -> None:
        """Record one point. ``step`` defaults to the key's previous step + 1 (0 for the first)."""
        if type(value) is not float:
            value = _coerce_value(key, value)
        timestamp = self._time_ns() // 1_000_000 if timestamp is None else _coerce_timestamp(key, timestamp)
        with self._lock:
            buf = self._keys.get(key)
            if buf is None:
                buf = self._new_key(key)
            if step is None:
                step = buf.next_step
            elif type(step) is not int:
                step = _coerce_step(key, step)
            if step >= buf.next_step:
                buf.next_step = step + 1
            buf.steps.append(step)
            buf.values.append(value)
            buf.times.append(timestamp)
            self._pending += 1
            if self._pending < self.flush_points:
                return
        self.flush()

    def _new_key(self, key: object) -> _KeyBuffer:
        if self._closed:
            raise RuntimeError(f"metric {key!r}: the run has ended; no more points can be logged")
        if not isinstance(key, str) or not key or len(key) > 250 or not key.isprintable():
            raise TypeError(f"metric key must be a non-empty printable string of at most 250 "
                            f"characters, got {key!r:.80}")
        buf = self._keys[key] = _KeyBuffer(key, len(self._keys))
        return buf

    # -- flushing -------------------------------------------------------------------------------
    def _swap(self) -> list[tuple[str, _KeyBuffer, array, array, array]]:
        with self._lock:
            if not self._pending:
                return []
            taken = []
            for key, buf in self._keys.items():
                if buf.steps:
                    taken.append((key, buf, buf.steps, buf.values, buf.times))
                    buf.steps, buf.values, buf.times = array("q"), array("d"), array("q")
            self._pending = 0
            return taken

    def flush(self) -> int:
        """Write the buffered points to the journal and the spill; returns how many were written."""
        with self._io_lock:
            taken = self._swap()
            if not taken:
                return 0
            chunks = [_journal_lines(buf.json_prefix, steps, values, times)
                      for _key, buf, steps, values, times in taken]
            if self._journal is None:
                self._journal = open(self.journal_path, "ab")  # noqa: SIM115 - kept open for the run
            for chunk in chunks:
                self._journal.write(chunk)
            self._journal.flush()
            for _key, buf, steps, values, times in taken:
                self._spill(buf.spill_id, steps, values, times)
            return sum(len(t[2]) for t in taken)

    def sync(self) -> None:
        """Flush, then fsync the journal (survives an operating-system crash, not only a killed process)."""
        self.flush()
        with self._io_lock:
            if self._journal is not None:
                os.fsync(self._journal.fileno())

    def _spill(self, spill_id: int, steps: array, values: array, times: array) -> None:
        if self._spill_dir is None:
            self._spill_dir = Path(tempfile.mkdtemp(prefix="sitegen-metrics-"))
        n = len(steps)
        with open(self._spill_dir / f"{spill_id}.bin", "ab") as f:
            f.write(_HEADER.pack(n))
            steps.tofile(f)
            values.tofile(f)
            times.tofile(f)
        ordered = self._spilled.get(spill_id, True)
        if ordered:
            s = np.frombuffer(steps, dtype=np.int64)
            last = self._last_spilled_step.get(spill_id)
            ordered = bool((last is None or s[0] >= last) and (n < 2 or np.all(s[1:] >= s[:-1])))
        self._spilled[spill_id] = ordered
        self._last_spilled_step[spill_id] = steps[-1]

    # -- closing --------------------------------------------------------------------------------
    def close(self, compact: bool = True) -> None:
        """Flush; with ``compact`` write ``metrics.parquet`` atomically and remove the journal."""
        if self._closed:
            return
        self.flush()
        with self._lock:
            self._closed = True
        with self._io_lock:
            if self._journal is not None:
                self._journal.close()
                self._journal = None
            try:
                if compact:
                    self._compact()
            finally:
                if self._spill_dir is not None:
                    shutil.rmtree(self._spill_dir, ignore_errors=True)
                    self._spill_dir = None

    def abandon(self) -> None:
        """Drop the spill without compacting (the journal stays as the record)."""
        self.close(compact=False)

    def _compact(self) -> None:
        if not self._spilled:
            if self.journal_path.exists():
                self.journal_path.unlink()
                _fsync_dir(self.run_dir)
            return
        tmp = self.run_dir / f".{PARQUET_NAME}.{os.getpid()}.tmp"
        try:
            with pq.ParquetWriter(tmp, SCHEMA, **_PARQUET_OPTIONS) as writer:
                batcher = _RowGroupBatcher(writer)
                for key in sorted(self._keys):
                    spill_id = self._keys[key].spill_id
                    if spill_id not in self._spilled:
                        continue
                    for steps, values, times in self._key_chunks(spill_id):
                        batcher.add(key, steps, values, times)
                batcher.finish()
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, self.parquet_path)
            _fsync_dir(self.run_dir)
        finally:
            if tmp.exists():
                tmp.unlink()
        if self.journal_path.exists():
            self.journal_path.unlink()
            _fsync_dir(self.run_dir)

    def _key_chunks(self, spill_id: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        if self._spilled[spill_id]:
            yield from self._iter_spill(spill_id)
            return
        chunks = list(self._iter_spill(spill_id))  # out-of-order steps: sort this key in memory
        steps = np.concatenate([c[0] for c in chunks])
        order = np.argsort(steps, kind="stable")
        yield (steps[order], np.concatenate([c[1] for c in chunks])[order],
               np.concatenate([c[2] for c in chunks])[order])

    def _iter_spill(self, spill_id: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        assert self._spill_dir is not None
        with open(self._spill_dir / f"{spill_id}.bin", "rb") as f:
            while header := f.read(_HEADER.size):
                (n,) = _HEADER.unpack(header)
                base = f.tell()
                for start in range(0, n, _READ_CHUNK_ROWS):
                    m = min(_READ_CHUNK_ROWS, n - start)
                    cols = []
                    for col, dtype in enumerate((np.int64, np.float64, np.int64)):
                        f.seek(base + (col * n + start) * 8)
                        cols.append(np.frombuffer(f.read(m * 8), dtype=dtype))
                    yield cols[0], cols[1], cols[2]
                f.seek(base + 3 * n * 8)

    # -- taking in what a directory already holds -----------------------------------------------
    def _import_existing(self) -> None:
        tables = []
        if self.parquet_path.exists():
            pf = pq.ParquetFile(self.parquet_path)
            for batch in pf.iter_batches(batch_size=_READ_CHUNK_ROWS):
                tables.append(pa.Table.from_batches([batch]).cast(SCHEMA))
        if self.journal_path.exists():
            tables.append(read_journal(self.journal_path))
            _truncate_torn_tail(self.journal_path)
        for table in tables:
            self._import_table(table)

    def _import_table(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        keys = np.array(table.column("key").to_pylist(), dtype=object)
        steps = arrowbuf.to_numpy(table.column("step").cast(pa.int64()), np.int64)
        values = arrowbuf.to_numpy(table.column("value").cast(pa.float64()), np.float64, fill=math.nan)
        times = arrowbuf.to_numpy(table.column("timestamp").cast(pa.int64()), np.int64, fill=0)
        uniq, inverse = np.unique(keys, return_inverse=True)
        for i, key in enumerate(uniq):
            sel = inverse == i
            buf = self._keys.get(key) or self._new_key(str(key))
            s = steps[sel]
            self._spill(buf.spill_id, array("q", s.tobytes()), array("d", values[sel].tobytes()),
                        array("q", times[sel].tobytes()))
            buf.next_step = max(buf.next_step, int(s.max()) + 1)


class _RowGroupBatcher:
    """Collects sorted column chunks and writes them in row groups of exactly ROW_GROUP_ROWS rows."""

    def __init__(self, writer: pq.ParquetWriter) -> None:
        self.writer = writer
        self.pending: list[pa.RecordBatch] = []
        self.rows = 0

    def add(self, key: str, steps: np.ndarray, values: np.ndarray, times: np.ndarray) -> None:
        encoded = key.encode("utf-8")
        for start in range(0, len(steps), _READ_CHUNK_ROWS):
            end = start + _READ_CHUNK_ROWS
            self._add(encoded, steps[start:end], values[start:end], times[start:end])

    def _add(self, key: bytes, steps: np.ndarray, values: np.ndarray, times: np.ndarray) -> None:
        n = len(steps)
        # Every column from raw buffers: pa.array() and the dictionary / zoned-timestamp paths import
        # pandas, which would cost a quarter of a second and 40 MB for nothing.
        offsets = np.arange(0, (n + 1) * len(key), len(key) or 1, dtype=np.int32)[: n + 1]
        keys = pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(key * n)])
        batch = pa.RecordBatch.from_arrays([
            keys,
            numeric(pa.int64(), steps),
            numeric(pa.float64(), values),
            numeric(_TIMESTAMP, times),
        ], schema=SCHEMA)
        self.pending.append(batch)
        self.rows += n
        while self.rows >= ROW_GROUP_ROWS:
            self._write(ROW_GROUP_ROWS)

    def _write(self, rows: int) -> None:
        table = pa.Table.from_batches(self.pending, schema=SCHEMA)
        self.writer.write_table(table.slice(0, rows), row_group_size=rows)
        rest = table.slice(rows).combine_chunks()
        self.pending = rest.to_batches() if rest.num_rows else []
        self.rows -= rows

    def finish(self) -> None:
        if self.rows:
            self._write(self.rows)


_SEP_VALUE = string_scalar(',"value":')
_SEP_TIME = string_scalar(',"timestamp":')
_LINE_END = string_scalar("}\n")
_NO_SEP = string_scalar("")


def _journal_lines(json_prefix: str, steps: array, values: array, times: array) -> memoryview:
    """Journal lines of one key's points, formatted by Arrow (four times faster than f-strings)."""
    n = len(steps)
    lines = pc.binary_join_element_wise(
        string_scalar(json_prefix),
        pa.Array.from_buffers(pa.int64(), n, [None, pa.py_buffer(steps)]).cast(pa.string()),
        _SEP_VALUE,
        pa.Array.from_buffers(pa.float64(), n, [None, pa.py_buffer(values)]).cast(pa.string()),
        _SEP_TIME,
        pa.Array.from_buffers(pa.int64(), n, [None, pa.py_buffer(times)]).cast(pa.string()),
        _LINE_END,
        _NO_SEP,
    )
    _validity, offsets, chars = lines.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int32)
    start, end = int(bounds[lines.offset]), int(bounds[lines.offset + n])
    v = np.frombuffer(values, dtype=np.float64)
    if np.isfinite(v).all() and not (np.signbit(v) & (v == 0)).any():
        return memoryview(chars)[start:end]  # the common case: no copy at all
    data = chars.to_pybytes()[start:end]
    for bad, good in _VALUE_FIXES:
        data = data.replace(bad, good)
    return memoryview(data)


def _truncate_torn_tail(path: Path) -> None:
    """Cut a crash-torn final line off a journal before appending to it again."""
    with open(path, "rb+") as f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return
        pos = size
        while pos > 0:
            step = min(4096, pos)
            f.seek(pos - step)
            block = f.read(step)
            nl = block.rfind(b"\n")
            if nl >= 0:
                f.truncate(pos - step + nl + 1)
                return
            pos -= step
        f.truncate(0)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- reading --------------------------------------------------------------------------------------
def _parse_value(v: object) -> float:
    if isinstance(v, str):
        if v in ("NaN", "Infinity", "-Infinity"):
            return float(v)
        raise ValueError(f"value must be a number or NaN/Infinity/-Infinity, got {v!r}")
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"value must be a number, got {v!r}")
    return float(v)


def _parse_timestamp(t: object) -> int | None:
    if t is None:
        return None
    if isinstance(t, int) and not isinstance(t, bool):
        return t
    if isinstance(t, str):
        dt = datetime.fromisoformat(t.replace("Z", "+00:00"))
        if dt.tzinfo is None:
            raise ValueError(f"timestamp {t!r} has no time zone")
        return int(dt.timestamp() * 1000)
    raise ValueError(f"timestamp must be epoch milliseconds or an ISO 8601 string, got {t!r}")


def read_journal(path: str | os.PathLike) -> pa.Table:
    """The points of a journal as a table with :data:`SCHEMA`, in file order.

    A final line torn by a crash (one without its trailing newline) is skipped. Any other line that
    does not parse raises :class:`SitegenError` naming ``path:line``.
    """
    path = Path(path)
    data = path.read_bytes()
    lines = data.split(b"\n")
    lines.pop()  # what follows the last newline: b"" or a line torn by a crash
    keys: list[str] = []
    steps: list[int] = []
    values: list[float] = []
    times: list[int | None] = []
    for number, raw in enumerate(lines):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
            key, step = obj["key"], obj["step"]
            if not isinstance(key, str) or isinstance(step, bool) or not isinstance(step, int):
                raise ValueError("key must be a string and step an integer")
            value = _parse_value(obj["value"])
            ts = _parse_timestamp(obj.get("timestamp"))
        except (ValueError, KeyError, TypeError) as exc:
            raise SitegenError(f"{path}:{number + 1}: bad journal line ({exc}); expected "
                               '{"key": str, "step": int, "value": number, "timestamp": ms}') from None
        keys.append(key)
        steps.append(step)
        values.append(value)
        times.append(ts)
    return pa.Table.from_arrays([
        arrowbuf.strings(keys),
        numeric(pa.int64(), np.array(steps, dtype=np.int64)),
        numeric(pa.float64(), np.array(values, dtype=np.float64)),
        numeric(_TIMESTAMP, np.array([0 if t is None else t for t in times], dtype=np.int64),
                null=np.array([t is None for t in times], dtype=bool)),
    ], schema=SCHEMA)


def compact_run_dir(run_dir: str | os.PathLike) -> bool:
    """Fold a run directory's journal (and any existing Parquet) into ``metrics.parquet``.

    For runs whose writer did not finish (a killed child of ``sitegen run``). Returns True when there
    was a journal to fold in.
    """
    run_dir = Path(run_dir)
    if not (run_dir / JOURNAL_NAME).exists():
        return False
    MetricWriter(run_dir, import_existing=True).close()
    return True

