import math
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from sitegen import arrowbuf


def test_numeric_arrays_carry_values_and_nulls():
    arr = arrowbuf.numeric(pa.int64(), np.array([5, -1, 7], dtype=np.int64), null=np.array([False, True, False]))
    assert arr.type == pa.int64()
    assert arr.to_pylist() == [5, None, 7]
    assert arr.null_count == 1
    floats = arrowbuf.numeric(pa.float64(), np.array([1.5, math.inf, -0.0]))
    assert floats.to_pylist() == [1.5, math.inf, -0.0]
    stamps = arrowbuf.numeric(pa.timestamp("ms", tz="UTC"), np.array([0, 1000], dtype=np.int64))
    assert stamps[1].value == 1000


def test_numeric_refuses_a_column_of_the_wrong_width():
    with pytest.raises(TypeError, match="cannot hold"):
        arrowbuf.numeric(pa.int64(), np.array([1, 2], dtype=np.int32))


def test_strings_round_trip_unicode_and_empty():
    texts = ["loss", "", "val/acc", "überprüfung ✓"]
    assert arrowbuf.strings(texts).to_pylist() == texts
    assert arrowbuf.strings([]).to_pylist() == []
    assert arrowbuf.string_scalar("a,b").as_py() == "a,b"
    assert arrowbuf.scalar(pa.float64(), math.nan, np.float64).as_py() != arrowbuf.scalar(
        pa.float64(), math.nan, np.float64).as_py()  # NaN


def test_to_numpy_reads_chunked_and_sliced_columns():
    chunked = pa.chunked_array([arrowbuf.numeric(pa.int64(), np.arange(5)),
                                arrowbuf.numeric(pa.int64(), np.arange(10, 13))])
    assert arrowbuf.to_numpy(chunked, np.int64).tolist() == [0, 1, 2, 3, 4, 10, 11, 12]
    sliced = arrowbuf.numeric(pa.float64(), np.arange(6, dtype=np.float64)).slice(2, 3)
    assert arrowbuf.to_numpy(sliced, np.float64).tolist() == [2.0, 3.0, 4.0]
    assert arrowbuf.to_numpy(sliced.slice(0, 0), np.float64).tolist() == []


def test_to_numpy_refuses_nulls_and_wrong_types():
    with pytest.raises(ValueError, match="nulls"):
        arrowbuf.to_numpy(arrowbuf.numeric(pa.int64(), np.arange(2), null=np.array([True, False])), np.int64)
    with pytest.raises(TypeError, match="cannot be read"):
        arrowbuf.to_numpy(arrowbuf.numeric(pa.int64(), np.arange(2)), np.int32)


def test_reading_and_publishing_a_history_does_not_import_pandas(tmp_path):
    """pandas costs a sixth of a second in every build process: reading metrics.parquet, writing the
    run's metrics.csv and data.js, and a metrics table must not need it."""
    import pyarrow.parquet as pq

    from sitegen.store.metrics import SCHEMA

    table = pa.Table.from_pydict({
        "key": ["loss", "loss", "acc"], "step": [0, 1, 0], "value": [1.0, None, 0.5],
        "timestamp": [1_700_000_000_000, None, 1_700_000_000_500]}, schema=SCHEMA)
    pq.write_table(table, tmp_path / "metrics.parquet")
    script = f"""
import sys
from pathlib import Path
from sitegen.store.metrics import read_history
from sitegen.export.run_files import metrics_csv
from sitegen.jsonutil import js_number_arrays
h = read_history(Path({str(tmp_path)!r}), Path({str(tmp_path)!r}))
assert h.key_names == ["acc", "loss"], h.key_names
csv = metrics_csv(h).decode()
assert js_number_arrays([h.values, h.steps]) == ["[0.5,1,NaN]", "[0,0,1]"], js_number_arrays([h.values, h.steps])
assert h.table().column("timestamp").null_count == 1
print(csv, end="")
print("pandas" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    assert lines[-1] == "False"
    assert lines[0] == '"key","step","value","timestamp_ms"'
    assert lines[1:4] == ['"acc",0,0.5,1700000000500', '"loss",0,1,1700000000000', '"loss",1,nan,']


def test_to_numpy_fills_nulls_when_told():
    col = arrowbuf.numeric(pa.float64(), np.array([1.0, 2.0, 3.0]), null=np.array([False, True, False]))
    out = arrowbuf.to_numpy(col, np.float64, fill=math.nan)
    assert out[0] == 1.0 and math.isnan(out[1]) and out[2] == 3.0
    ints = arrowbuf.numeric(pa.int64(), np.array([5, 0]), null=np.array([False, True]))
    assert arrowbuf.to_numpy(ints, np.int64, fill=-1).tolist() == [5, -1]


def test_resuming_a_run_from_its_journal_does_not_import_pandas(tmp_path):
    """The journal a crashed run left (one torn line, a point without a timestamp) is read back and
    compacted without pandas."""
    journal = tmp_path / "metrics.journal"
    journal.write_text('{"key": "loss", "step": 0, "value": 1.5, "timestamp": 1700000000000}\n'
                       '{"key": "loss", "step": 1, "value": 1.0}\n{"key": "lo')
    script = f"""
import sys
from sitegen.journal import read_journal
table = read_journal({str(journal)!r})
assert table.num_rows == 2 and table.column("timestamp").null_count == 1, table
print("pandas" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
