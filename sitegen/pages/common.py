"""Helpers shared by page modules: run rows, best runs, structured values, status labels."""

from __future__ import annotations

import math
from typing import Any

from markupsafe import Markup

from .. import markup, urls
from ..model import Experiment, Project, Run

STATUS_LABELS = {"finished": "finished", "running": "running", "failed": "failed", "killed": "killed"}


def status(run: Run) -> dict[str, Any]:
    """Status for a badge; a running run with an uncompacted journal may have crashed."""
    if run.possibly_crashed:
        return {"key": "crashed", "label": "running?", "title": "still marked running and its metrics were never "
                "compacted: the process may have crashed; everything it journaled is shown"}
    return {"key": run.status, "label": STATUS_LABELS.get(run.status, run.status), "title": run.status}


def metric_value(run: Run, key: str) -> float | None:
    summary = run.metrics.get(key)
    return summary.last if summary else None


def best_run(exp: Experiment) -> Run | None:
    """The run with the best finite primary metric value (goal max or min); ties go to the earlier run."""
    key = exp.primary_metric
    if not key:
        return None
    best, best_value = None, None
    for run in exp.runs:
        value = metric_value(run, key)
        if value is None or not math.isfinite(value):
            continue
        if best_value is None or (value > best_value if exp.goal == "max" else value < best_value):
            best, best_value = run, value
    return best


def run_link(run: Run) -> dict[str, str]:
    return {"label": run.name, "url": urls.run(run.experiment, run.id), "uid": run.uid}


def ref_link(project: Project, uid: str | None) -> dict[str, Any] | None:
    """A link to a run by uid, or a plain label when the run is not in the source."""
    if not uid:
        return None
    run = project.runs.get(uid)
    if run is None:
        return {"label": uid, "url": None, "uid": uid}
    return run_link(run)


def display_value(value: Any) -> str:
    """A param or tag value as text: scalars as themselves, lists and mappings compactly."""
    if type(value) is str:
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "null"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(display_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {display_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def to_block(value: Any) -> dict[str, Any]:
    """A user-written structured value (card section, datasheet entry) as a tree for the ``block`` macro.

    Strings are Markdown (rendered and sanitized); mappings become labelled lists; lists become lists.
    """
    if isinstance(value, dict):
        return {"type": "dict", "entries": [(label(k), to_block(v)) for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return {"type": "list", "entries": [to_block(v) for v in value]}
    if isinstance(value, str):
        return {"type": "markdown", "html": markup.render(value)}
    return {"type": "value", "text": display_value(value)}


def label(key: Any) -> str:
    """``intended_use`` -> ``Intended use``."""
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def markdown(text: str | None, level: int = 3) -> Markup:
    """User Markdown, sanitized; its ``#`` headings become h``level`` (2 for text right under the h1)."""
    return markup.render(text, level=level)
