"""The names of a run's metric history files and the error of one that cannot be read, without numpy or
pyarrow: the loader and the run pages name them in every build, and a rebuild that reads no history (the
build cache knows it) need not load either library (0.1 s)."""

from __future__ import annotations

PARQUET = "metrics.parquet"
JOURNAL = "metrics.journal.jsonl"


class HistoryError(Exception):
    """The Parquet file of a run cannot be used (corrupt, truncated, wrong schema)."""
