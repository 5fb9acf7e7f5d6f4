"""data/runs.csv and data/runs.json: one row a run, params.* metrics.* tags.* columns (like mlflow.search_runs)."""

from __future__ import annotations

import csv
import io
from typing import Any

from ..jsonutil import dumps_lines, float_token
from ..model import Project, Run
from ..pages.common import display_value
from ..render import fmt_iso


def run_record(run: Run) -> dict[str, Any]:
    """The flat record of one run: attributes, then params.*, metrics.* (last values), tags.*."""
    record: dict[str, Any] = {
        "experiment": run.experiment, "id": run.id, "name": run.name, "status": run.status,
        "user": run.user, "start_time": fmt_iso(run.start_time) or None, "end_time": fmt_iso(run.end_time) or None,
        "duration": run.duration_seconds, "parent": run.parent,
    }
    for key, value in sorted(run.params_flat.items()):
        record[f"params.{key}"] = value if isinstance(value, (int, float, str, bool)) or value is None \
            else display_value(value)
    for key, summary in run.metrics.items():
        record[f"metrics.{key}"] = summary.last
    for key, value in sorted(run.tags.items()):
        record[f"tags.{key}"] = value
    return record


def records(project: Project) -> list[dict[str, Any]]:
    return [run_record(project.runs[uid]) for uid in sorted(project.runs)]


def to_json(project: Project, rows: list[dict[str, Any]] | None = None) -> str:
    """data/runs.json; ``rows``: :func:`records` of the project, when already made (for runs.csv)."""
    rows = [{k: float_token(v) if isinstance(v, float) else v for k, v in r.items()}
            for r in (rows if rows is not None else records(project))]
    return dumps_lines({"format": "sitegen.runs/1", "runs": rows})


def to_csv(project: Project, rows: list[dict[str, Any]] | None = None) -> str:
    """data/runs.csv; ``rows``: :func:`records` of the project, when already made (for runs.json)."""
    rows = rows if rows is not None else records(project)
    columns: list[str] = []
    seen: set[str] = set()
    for row in rows:
        for key in row:
            if key not in seen:
                seen.add(key)
                columns.append(key)
    fixed = [c for c in columns if "." not in c]
    rest = sorted(c for c in columns if "." in c)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fixed + rest, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else repr(v) if isinstance(v, float) and v != v else v)
                         for k, v in row.items()})
    return buf.getvalue()
