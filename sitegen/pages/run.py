"""Run pages: params, metric summaries and curves, artifacts with previews, notes, provenance."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Any

from .. import previews, urls
from ..model import Project, Run
from ..store.metric_files import HistoryError
from . import Page
from .common import display_value, markdown, ref_link, run_link, status

if TYPE_CHECKING:
    from ..store.metrics import History

MAX_COPY_BYTES = 50 * 1024 * 1024  # artifacts larger than this are listed, not published


def load_history(run: Run) -> History | None:
    """The run's metric history, or None when it has none or it cannot be read (already reported)."""
    if not run.has_history:
        return None
    from ..store.metrics import read_history  # numpy and pyarrow: only when a history is read

    try:
        return read_history(run.directory, run.file.rsplit("/", 1)[0])
    except HistoryError:
        return None


def _charts(run: Run) -> list[dict[str, Any]]:
    """One curve a metric with two or more points. The page carries no chart data: the browser draws each
    curve from the run's ``data.js`` (published beside the page), with one spec builder for every run."""
    if not run.has_history:
        return []
    return [{"id": f"chart-{i}", "key": key, "points": m.count,
             "description": f"Line chart of {key} by step ({m.count} points)."}
            for i, (key, m) in enumerate(sorted(run.metrics.items())) if m.count >= 2]


def _artifacts(run: Run, project: Project) -> list[dict[str, Any]]:
    limit = project.config.max_preview_bytes
    items = []
    for art in run.artifacts:
        published = art.kind != "lfs" and art.size is not None and art.size <= MAX_COPY_BYTES
        item = {
            "path": art.path, "kind": art.kind, "size": art.size, "lfs_oid": art.lfs_oid,
            "url": urls.artifact(run.experiment, run.id, art.path) if published else None,
            "published": published, "preview": None,
        }
        if published and art.source is not None:
            try:
                folder = posixpath.dirname(art.path)
                item["preview"] = previews.preview(art.kind, art.source, art.size or 0, limit,
                                                   base=f"artifacts/{folder}/" if folder else "artifacts/",
                                                   content=art.content)
            except OSError:
                item["preview"] = None
        items.append(item)
    return items


def _external(run: Run) -> list[dict[str, Any]]:
    """Artifacts kept out of git: recorded with uri, digest and size in run.yaml."""
    out = []
    for entry in run.raw.get("artifacts") or []:
        out.append({"name": entry.get("name") or entry.get("path") or entry.get("uri"), "uri": entry.get("uri"),
                    "digest": entry.get("digest"), "size": entry.get("size")})
    return out


def run_page(run: Run, project: Project) -> Page:
    """The run's page, from its loaded summary alone (the history is published beside it by the build)."""
    exp = project.experiments[run.experiment]
    parent = ref_link(project, run.parent)
    children = [ref_link(project, uid) for uid in run.children]
    metrics = [{"key": m.key, "last": m.last, "min": m.min, "max": m.max, "count": m.count, "step": m.last_step,
                "primary": m.key == exp.primary_metric} for m in run.metrics.values()]
    metrics.sort(key=lambda m: (not m["primary"], m["key"]))
    chart_list = _charts(run)
    context = {
        "run": run,
        "experiment": {"slug": exp.slug, "title": exp.title, "url": urls.experiment(exp.slug)},
        "status": status(run),
        "parent": parent,
        "children": children,
        "tags": [(k, display_value(v)) for k, v in sorted(run.tags.items())],
        "params": [(k, display_value(v), bool(run.redacted) and f"params.{k}" in run.redacted)
                   for k, v in sorted(run.params_flat.items())],
        "metrics": metrics,
        "charts": chart_list,
        "data_js": urls.run_data_js(run.experiment, run.id) if chart_list else None,
        "metrics_csv": urls.run_metrics_csv(run.experiment, run.id) if run.has_history else None,
        "artifacts": _artifacts(run, project),
        "external_artifacts": _external(run),
        "notes": markdown(run.notes),
        "redacted": run.redacted,
        "self": run_link(run),
    }
    return Page(url=urls.run(run.experiment, run.id), template="run.html", title=f"{run.name} · {exp.title}",
                context=context, kind="run", section="experiments", charts=bool(chart_list),
                breadcrumbs=[("Experiments", urls.INDEX), (exp.title, urls.experiment(exp.slug)), (run.name, "")])
