"""Files published beside a run page: the full metric history as CSV, and the artifact files."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.csv as pacsv

from .. import urls
from ..model import Run
from ..output import SiteWriter
from ..pages.run import MAX_COPY_BYTES
from ..store.metrics import History


def metrics_csv(history: History) -> bytes:
    """key, step, value, timestamp for every point (NaN and inf kept as such)."""
    ts = pa.array(history.timestamps, type=pa.int64())
    ts = pa.compute.if_else(pa.compute.less(ts, 0), pa.scalar(None, pa.int64()), ts).cast(pa.timestamp("ms", "UTC"))
    table = pa.table({"key": pa.array(history.keys.tolist(), pa.string()), "step": history.steps,
                      "value": history.values, "timestamp": ts})
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(quoting_style="needed"))
    return buf.getvalue()


def publish(run: Run, history: History | None, writer: SiteWriter) -> None:
    if history is not None and len(history):
        writer.write_bytes(urls.run_metrics_csv(run.experiment, run.id), metrics_csv(history))
    for art in run.artifacts:
        if art.kind == "lfs" or art.source is None or art.size is None or art.size > MAX_COPY_BYTES:
            continue
        writer.copy_file(urls.artifact(run.experiment, run.id, art.path), art.source)
