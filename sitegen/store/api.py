"""The read API: ``sitegen.open(root)`` -> :class:`Store`, like ``mlflow.search_runs`` on plain files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..diagnostics import SitegenError
from ..model import Project
from .load import load_project
from .metrics import HistoryError, history_frame, read_history

# Attribute columns of runs_frame, in order; the query language names them attributes.<name>.
ATTRIBUTE_COLUMNS = ("run_id", "experiment", "name", "status", "user", "start_time", "end_time", "duration",
                     "parent")
_QUERY_NAMES = {"run_id": "id"}


class Store:
    """A source opened for reading. Loading happens once, on first use; :meth:`reload` reads it again."""

    def __init__(self, root: str | Path = "."):
        self.root = Path(root)
        if not self.root.is_dir():
            raise SitegenError(f"{str(self.root)!r} is not a directory")
        self._project: Project | None = None

    @property
    def project(self) -> Project:
        if self._project is None:
            self._project = load_project(self.root)
        return self._project

    def reload(self) -> None:
        self._project = None

    @property
    def diagnostics(self) -> list:
        """Problems found while reading (the runs they concern are left out of the frames)."""
        return list(self.project.diagnostics)

    def runs_frame(self, experiment: str | None = None, query: str | None = None) -> pd.DataFrame:
        """One row a run: attribute columns, then ``params.*``, ``metrics.*`` (last values), ``tags.*``.

        ``query`` is MLflow's search syntax (``metrics.acc > 0.9 and params.optimizer.name = 'adamw'``).
        Rows are ordered by experiment, then start time, then id.
        """
        rows: list[dict[str, Any]] = []
        for uid in sorted(self.project.runs):
            run = self.project.runs[uid]
            if experiment is not None and run.experiment != experiment:
                continue
            row: dict[str, Any] = {
                "run_id": run.id, "experiment": run.experiment, "name": run.name, "status": run.status,
                "user": run.user, "start_time": run.start_time, "end_time": run.end_time,
                "duration": run.duration_seconds, "parent": run.parent,
            }
            row.update({f"params.{k}": v for k, v in sorted(run.params_flat.items())})
            row.update({f"metrics.{k}": m.last for k, m in run.metrics.items()})
            row.update({f"tags.{k}": v for k, v in sorted(run.tags.items())})
            rows.append(row)
        frame = pd.DataFrame(rows, columns=_columns(rows))
        if not frame.empty:
            frame = frame.sort_values(["experiment", "start_time", "run_id"], kind="stable", na_position="first")
            frame = frame.reset_index(drop=True)
        if query and query.strip():
            from ..query import parse

            q = parse(query)
            renamed = frame.rename(columns={c: f"attributes.{_QUERY_NAMES.get(c, c)}" for c in ATTRIBUTE_COLUMNS})
            frame = frame.loc[q.filter_frame(renamed).index].reset_index(drop=True)
        return frame

    def metric_history(self, run: str, key: str) -> pd.DataFrame:
        """The full history of one metric of one run (``<experiment>/<run-id>``): step, value, timestamp."""
        found = self.project.runs.get(run)
        if found is None:
            raise SitegenError(f"no run {run!r} in {self.root} (expected <experiment>/<run-id>)")
        if not found.has_history:
            return pd.DataFrame({"step": pd.Series([], dtype="int64"), "value": pd.Series([], dtype="float64"),
                                 "timestamp": pd.Series([], dtype="datetime64[ms, UTC]")})
        try:
            history = read_history(found.directory, found.file.rsplit("/", 1)[0])
        except HistoryError as exc:
            raise SitegenError(f"{found.file.rsplit('/', 1)[0]}/metrics.parquet: {exc}") from None
        frame = history_frame(history)
        frame = frame[frame["key"] == key].drop(columns=["key"]).reset_index(drop=True)
        return frame


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    extra = sorted({k for row in rows for k in row if k not in ATTRIBUTE_COLUMNS},
                   key=lambda c: (("params.", "metrics.", "tags.").index(c.split(".", 1)[0] + "."), c))
    return [*ATTRIBUTE_COLUMNS, *extra]
