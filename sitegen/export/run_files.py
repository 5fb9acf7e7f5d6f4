"""Files published beside a run page: the full metric history as CSV, and the artifact files."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from .. import urls
from ..model import Run
from ..output import SiteWriter
from ..pages.run import MAX_COPY_BYTES

if TYPE_CHECKING:
    from ..store.metrics import History


def metrics_csv(history: History) -> bytes:
    """key, step, value, timestamp_ms (milliseconds since the Unix epoch, UTC; empty when not recorded)
    for every point; NaN and infinities are written as such. Epoch milliseconds rather than ISO text:
    formatting dates is most of the cost of this file, and every spreadsheet converts them."""
    import pyarrow as pa  # here, not above: a rebuild that reads no metric history never loads pyarrow
    import pyarrow.csv as pacsv

    table = pa.Table.from_arrays(history.columns(pa.int64()), names=["key", "step", "value", "timestamp_ms"])
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(quoting_style="needed"))
    return buf.getvalue()


def publish(run: Run, history: History | None, writer: SiteWriter) -> None:
    if history is not None and run.has_history:  # the run page links it whenever the run has a history
        writer.write_bytes(urls.run_metrics_csv(run.experiment, run.id), metrics_csv(history))
    for art in run.artifacts:
        if art.kind == "lfs" or art.source is None or art.size is None or art.size > MAX_COPY_BYTES:
            continue
        writer.copy_file(urls.artifact(run.experiment, run.id, art.path), art.source)
