"""What every importer shares: content-compared writes, the metric table, slugs, times, the summary.

Re-importing must be a no-op: every write here first compares the new content with what is on disk
and touches the file only when they differ (so mtimes, git status and the build cache stay quiet).
Files are written through a temporary file and a rename (:func:`sitegen.track.write_atomic`).
"""

from __future__ import annotations

import filecmp
import io
import os
import re
import shutil
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from ..ids import is_slug
from ..journal import PARQUET_NAME, ROW_GROUP_ROWS, SCHEMA
from ..track import dump_run_yaml, write_atomic

# Same layout choices as the tracker's compaction (sitegen.journal), so imported and logged runs match.
_PARQUET_OPTIONS = dict(compression="zstd", use_dictionary=["key"],
                        column_encoding={"step": "DELTA_BINARY_PACKED", "timestamp": "DELTA_BINARY_PACKED"})
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Safe dumper writing multi-line strings (descriptions, notes) as literal blocks."""


_Dumper.add_representer(str, lambda d, v: d.represent_scalar(
    "tag:yaml.org,2002:str", v, style="|" if "\n" in v.rstrip("\n") else None))


def dump_yaml(data: Mapping[str, Any]) -> str:
    """YAML text of ``data`` in its own key order (experiment.yaml, model.yaml, versions)."""
    return yaml.dump(dict(data), Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=100)


def dump_run(data: Mapping[str, Any]) -> str:
    """run.yaml text, in the tracker's key order."""
    return dump_run_yaml(data)


def load_yaml(path: Path) -> Any:
    """The YAML data of ``path``, or None when it is missing or unreadable."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


# -- content-compared writes ----------------------------------------------------------------------
def write_text(path: Path, text: str) -> bool:
    """Write ``text`` unless ``path`` already holds exactly it; True when the file was written."""
    data = text.encode("utf-8")
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text)
    return True


def write_bytes(path: Path, data: bytes) -> bool:
    """Write ``data`` unless ``path`` already holds exactly it; True when the file was written."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return True


def copy_file(source: Path, target: Path) -> bool:
    """Copy ``source`` to ``target`` unless their contents are already equal; True when copied."""
    try:
        if target.is_file() and not target.is_symlink() and filecmp.cmp(source, target, shallow=False):
            return False
    except OSError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return True


# -- metric histories -----------------------------------------------------------------------------
def metrics_table(keys: np.ndarray, steps: np.ndarray, values: np.ndarray,
                  timestamps: np.ndarray | None = None) -> pa.Table:
    """Points as a :data:`sitegen.journal.SCHEMA` table sorted by key (code points), step, timestamp
    and value, with exact duplicate points (same key, step, value and timestamp) removed.

    ``timestamps`` are epoch milliseconds; a negative value (or ``None`` for all) means unknown.
    NaN and infinities are kept; two NaN points at the same step and time count as duplicates.
    """
    keys = np.asarray(keys, dtype=object)
    n = len(keys)
    steps = np.asarray(steps, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    times = np.full(n, -1, dtype=np.int64) if timestamps is None else np.asarray(timestamps, dtype=np.int64)
    if n == 0:
        return SCHEMA.empty_table()
    names, codes = np.unique(keys, return_inverse=True)
    bits = values.view(np.int64)
    canonical_nan = np.isnan(values)
    bits = np.where(canonical_nan, np.int64(0x7FF8000000000000), bits)
    order = np.lexsort((bits, times, steps, codes))
    codes, steps, values, times, bits = codes[order], steps[order], values[order], times[order], bits[order]
    keep = np.ones(n, dtype=bool)
    keep[1:] = ((codes[1:] != codes[:-1]) | (steps[1:] != steps[:-1]) | (times[1:] != times[:-1])
                | (bits[1:] != bits[:-1]))
    codes, steps, values, times = codes[keep], steps[keep], values[keep], times[keep]
    ts = pa.array(times, pa.int64(), mask=times < 0).cast(pa.timestamp("ms", tz="UTC"))
    key_col = pa.array(names.astype(str), pa.string()).take(pa.array(codes, pa.int64()))
    return pa.Table.from_arrays([key_col, pa.array(steps), pa.array(values), ts], schema=SCHEMA)


def write_metrics(run_dir: Path, table: pa.Table) -> bool:
    """Write ``run_dir/metrics.parquet`` unless it already holds exactly these points.

    An empty table writes nothing (and leaves an existing file alone). True when the file was written.
    """
    if table.num_rows == 0:
        return False
    path = run_dir / PARQUET_NAME
    if path.is_file():
        try:
            existing = pq.read_table(path).cast(SCHEMA)
            if existing.equals(table):
                return False
        except (OSError, pa.ArrowException):
            pass  # unreadable: replaced below
    buffer = io.BytesIO()
    pq.write_table(table, buffer, row_group_size=ROW_GROUP_ROWS, **_PARQUET_OPTIONS)
    return write_bytes(path, buffer.getvalue())


# -- names and times ------------------------------------------------------------------------------
def slugify(text: str, fallback: str) -> str:
    """A ``[a-z0-9][a-z0-9._-]*`` slug of ``text`` ("My Exp / v2" -> "my-exp-v2"), or ``fallback``."""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9._-]+", "-", ascii_text.lower())
    slug = re.sub(r"-{2,}", "-", slug).strip("-._")[:80].rstrip("-._")
    return slug if is_slug(slug) else fallback


class SlugAllocator:
    """Deterministic slugs for foreign names: each identity keeps the slug it already has on disk;
    a new one gets ``slugify(name)``, or ``<slug>-<suffix>`` (then ``-2``, ``-3``...) when taken."""

    def __init__(self, claimed: Mapping[str, str], taken: set[str] = frozenset()) -> None:
        self.by_identity: dict[str, str] = dict(claimed)        # identity -> slug
        self.used: set[str] = set(claimed.values()) | set(taken)

    def slug(self, identity: str, name: str, suffix: str, fallback: str) -> str:
        if identity in self.by_identity:
            return self.by_identity[identity]
        base = slugify(name, fallback)
        candidates = [base, f"{base}-{slugify(suffix, 'x')}"]
        candidates += [f"{candidates[1]}-{i}" for i in range(2, 1000)]
        for slug in candidates:
            if slug not in self.used:
                break
        self.used.add(slug)
        self.by_identity[identity] = slug
        return slug


def iso_ms(ms: int | None) -> str | None:
    """Epoch milliseconds as ISO 8601 UTC (``2026-01-02T03:04:05.678Z``; no fraction when whole)."""
    if ms is None:
        return None
    moment = datetime.fromtimestamp(int(ms) / 1000, tz=timezone.utc)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    frac = int(ms) % 1000
    return f"{text}.{frac:03d}Z" if frac else f"{text}Z"


# -- the summary ----------------------------------------------------------------------------------
OUTCOMES = ("imported", "updated", "skipped", "failed")


@dataclass
class ImportSummary:
    """Counts of imported / updated / skipped / failed items by kind, and the reasons of failures."""

    counts: Counter = field(default_factory=Counter)          # (kind, outcome) -> n
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, item, reason)
    notes: list[str] = field(default_factory=list)

    def add(self, kind: str, outcome: str) -> None:
        assert outcome in OUTCOMES, outcome
        self.counts[(kind, outcome)] += 1

    def fail(self, kind: str, item: str, reason: str) -> None:
        self.counts[(kind, "failed")] += 1
        self.failures.append((kind, item, reason))

    def count(self, kind: str, outcome: str) -> int:
        return self.counts.get((kind, outcome), 0)

    @property
    def failed(self) -> int:
        return sum(n for (_k, o), n in self.counts.items() if o == "failed")

    def kinds(self) -> list[str]:
        return sorted({k for k, _o in self.counts}, key=lambda k: (k != "experiment", k != "run", k))

    def lines(self) -> list[str]:
        """One line a kind (``runs: 3 imported, 1 updated, 0 skipped, 0 failed``), then the failures."""
        out = [f"{kind}s: " + ", ".join(f"{self.count(kind, o)} {o}" for o in OUTCOMES) for kind in self.kinds()]
        out += [f"failed {kind} {item}: {reason}" for kind, item, reason in self.failures]
        out += self.notes
        return out


def outcome(existed: bool, changed: bool) -> str:
    """``imported`` for a new item, ``updated`` when an existing one changed, else ``skipped``."""
    if not existed:
        return "imported"
    return "updated" if changed else "skipped"
