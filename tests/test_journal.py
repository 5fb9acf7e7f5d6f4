"""sitegen.journal: buffered metric points, the crash-safe journal and the Parquet compaction."""

from __future__ import annotations

import json
import math
import threading

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sitegen.diagnostics import SitegenError
from sitegen.journal import (JOURNAL_NAME, PARQUET_NAME, SCHEMA, MetricWriter, compact_run_dir, read_journal)

T0 = 1_795_000_000_000  # fixed timestamps make the files comparable


def test_close_writes_sorted_parquet_with_the_format_1_schema_and_removes_the_journal(tmp_path):
    w = MetricWriter(tmp_path, flush_points=3)
    for step in (0, 1, 2):
        w.log("val/acc", 0.5 + step, step=step, timestamp=T0 + step)
        w.log("loss", 1.0 / (step + 1), step=step, timestamp=T0 + step)
    assert (tmp_path / JOURNAL_NAME).exists()  # flush_points=3 flushed inline
    w.close()
    assert not (tmp_path / JOURNAL_NAME).exists()
    table = pq.read_table(tmp_path / PARQUET_NAME)
    assert table.schema.equals(SCHEMA)
    assert str(table.schema.field("timestamp").type) == "timestamp[ms, tz=UTC]"
    assert table.column("key").to_pylist() == ["loss"] * 3 + ["val/acc"] * 3
    assert table.column("step").to_pylist() == [0, 1, 2, 0, 1, 2]
    assert table.column("timestamp").cast(pa.int64()).to_pylist() == [T0, T0 + 1, T0 + 2] * 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [PARQUET_NAME]


def test_steps_auto_increment_per_key_and_continue_after_explicit_steps(tmp_path):
    w = MetricWriter(tmp_path)
    w.log("a", 1.0)
    w.log("a", 2.0)
    w.log("b", 3.0)
    w.log("a", 4.0, step=10)
    w.log("a", 5.0)
    w.close()
    t = pq.read_table(tmp_path / PARQUET_NAME).to_pydict()
    assert list(zip(t["key"], t["step"], t["value"])) == [("a", 0, 1.0), ("a", 1, 2.0), ("a", 10, 4.0),
                                                          ("a", 11, 5.0), ("b", 0, 3.0)]


def test_nan_infinities_and_negative_zero_survive_journal_and_parquet(tmp_path):
    w = MetricWriter(tmp_path)
    values = [math.nan, math.inf, -math.inf, -0.0, 0.1, 1e300, 5e-324, 100.0]
    for v in values:
        w.log("x", v)
    w.flush()
    text = (tmp_path / JOURNAL_NAME).read_text()
    lines = [json.loads(line) for line in text.splitlines()]  # strict JSON: Python's parser accepts it
    assert [line["value"] for line in lines[:3]] == ["NaN", "Infinity", "-Infinity"]
    assert "nan" not in text.replace('"NaN"', "") and "inf" not in text.replace("Infinity", "")
    journaled = read_journal(tmp_path / JOURNAL_NAME).column("value").to_pylist()
    w.close()
    stored = pq.read_table(tmp_path / PARQUET_NAME).column("value").to_pylist()
    for got in (journaled, stored):
        assert math.isnan(got[0]) and got[1:3] == [math.inf, -math.inf]
        assert got[3] == 0.0 and math.copysign(1, got[3]) == -1
        assert got[4:] == values[4:]


@pytest.mark.parametrize("value", [True, "0.5", None, [1.0], np.bool_(True), complex(1, 0)])
def test_non_numeric_values_raise_type_error_naming_the_key(tmp_path, value):
    w = MetricWriter(tmp_path)
    with pytest.raises(TypeError, match="'train/loss'"):
        w.log("train/loss", value)
    w.close()


def test_numpy_scalars_and_zero_d_arrays_are_accepted(tmp_path):
    w = MetricWriter(tmp_path)
    w.log("a", np.float32(0.5))
    w.log("a", np.int64(3))
    w.log("a", np.array(2.5))
    w.log("a", 7, step=np.int32(9))
    w.close()
    assert pq.read_table(tmp_path / PARQUET_NAME).column("value").to_pylist() == [0.5, 3.0, 2.5, 7.0]


def test_bad_steps_and_keys_are_rejected(tmp_path):
    w = MetricWriter(tmp_path)
    with pytest.raises(TypeError, match="'a': step must be an integer"):
        w.log("a", 1.0, step=1.5)
    with pytest.raises(TypeError, match="metric key"):
        w.log("", 1.0)
    w.close()
    with pytest.raises(RuntimeError, match="ended"):
        w.log("new", 1.0)


def test_out_of_order_steps_are_sorted_keeping_logging_order_for_ties(tmp_path):
    w = MetricWriter(tmp_path, flush_points=2)
    for step, value in [(5, 1.0), (1, 2.0), (5, 3.0), (0, 4.0), (3, 5.0)]:
        w.log("k", value, step=step)
    w.close()
    t = pq.read_table(tmp_path / PARQUET_NAME).to_pydict()
    assert list(zip(t["step"], t["value"])) == [(0, 4.0), (1, 2.0), (3, 5.0), (5, 1.0), (5, 3.0)]


def test_same_points_give_byte_identical_parquet(tmp_path):
    paths = []
    for i, flush_points in enumerate((7, 1000)):  # different flush boundaries, same row groups
        d = tmp_path / str(i)
        d.mkdir()
        w = MetricWriter(d, flush_points=flush_points)
        for step in range(300):
            for key in ("b", "a"):
                w.log(key, step * 0.25, step=step, timestamp=T0 + step)
        w.close()
        paths.append(d / PARQUET_NAME)
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_read_journal_skips_a_torn_final_line_but_reports_corruption_elsewhere(tmp_path):
    w = MetricWriter(tmp_path)
    for i in range(3):
        w.log("k", float(i), timestamp=T0)
    w.flush()
    path = tmp_path / JOURNAL_NAME
    good = path.read_bytes()
    path.write_bytes(good + b'{"key":"k","step":3,"val')
    assert read_journal(path).column("step").to_pylist() == [0, 1, 2]
    lines = good.splitlines(keepends=True)
    path.write_bytes(lines[0] + b"garbage\n" + lines[1])
    with pytest.raises(SitegenError, match=rf"{JOURNAL_NAME}:2: bad journal line"):
        read_journal(path)
    w.abandon()


def test_the_store_reader_reads_what_the_journal_writes(tmp_path):
    store_metrics = pytest.importorskip("sitegen.store.metrics")
    w = MetricWriter(tmp_path)
    for v in (1.0, math.nan, math.inf, -math.inf):
        w.log("x", v, timestamp=T0)
    w.flush()
    with open(tmp_path / JOURNAL_NAME, "ab") as f:
        f.write(b'{"key":"x","st')  # torn by a crash
    hist = store_metrics.read_history(tmp_path, "runs/e/r")
    assert hist.steps.tolist() == [0, 1, 2, 3]
    assert hist.values[0] == 1.0 and math.isnan(hist.values[1]) and hist.values[2:].tolist() == [math.inf, -math.inf]
    assert hist.timestamps.tolist() == [T0] * 4
    assert not [p for p in hist.problems if p[-1] != "warning"]
    w.abandon()


def test_import_existing_merges_parquet_and_journal_and_cuts_a_torn_tail(tmp_path):
    w = MetricWriter(tmp_path)
    w.log("k", 1.0, timestamp=T0)
    w.log("k", 2.0, timestamp=T0)
    w.close()  # parquet: steps 0, 1
    w = MetricWriter(tmp_path, import_existing=True)
    w.log("k", 3.0, timestamp=T0)  # step 2
    w.flush()
    w.abandon()  # as if the process died: journal stays
    with open(tmp_path / JOURNAL_NAME, "ab") as f:
        f.write(b'{"key":"k","step":99')
    w = MetricWriter(tmp_path, import_existing=True)
    w.log("k", 4.0, timestamp=T0)  # step 3: auto-step continues after parquet + journal
    w.flush()
    assert (tmp_path / JOURNAL_NAME).read_bytes().endswith(b"}\n")  # torn tail cut before appending
    read_journal(tmp_path / JOURNAL_NAME)  # every line parses
    w.close()
    t = pq.read_table(tmp_path / PARQUET_NAME).to_pydict()
    assert list(zip(t["step"], t["value"])) == [(0, 1.0), (1, 2.0), (2, 3.0), (3, 4.0)]


def test_compact_run_dir_folds_a_crashed_writers_journal(tmp_path):
    w = MetricWriter(tmp_path)
    for i in range(5):
        w.log("k", float(i))
    w.flush()
    w.abandon()
    assert compact_run_dir(tmp_path) is True
    assert not (tmp_path / JOURNAL_NAME).exists()
    assert pq.read_table(tmp_path / PARQUET_NAME).num_rows == 5
    assert compact_run_dir(tmp_path) is False


def test_a_run_without_points_writes_no_parquet(tmp_path):
    w = MetricWriter(tmp_path)
    w.close()
    assert list(tmp_path.iterdir()) == []


def test_concurrent_threads_lose_no_points_and_get_unique_steps(tmp_path):
    w = MetricWriter(tmp_path, flush_points=997)
    n_threads, per_thread = 4, 5000

    def work(i):
        for j in range(per_thread):
            w.log("shared", float(j))
            w.log(f"own{i}", float(j))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    w.close()
    t = pq.read_table(tmp_path / PARQUET_NAME).to_pydict()
    shared = [s for k, s in zip(t["key"], t["step"]) if k == "shared"]
    assert shared == list(range(n_threads * per_thread))
    for i in range(n_threads):
        assert [s for k, s in zip(t["key"], t["step"]) if k == f"own{i}"] == list(range(per_thread))
