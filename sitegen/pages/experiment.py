"""Experiment pages: the run table (params and summary metrics), nested runs, the best run, charts."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any, Iterator

from .. import charts, urls
from ..model import Experiment, Project, Run
from ..store.metrics import HistoryError, read_history
from . import Page
from .common import best_run, display_value, markdown, metric_value, status

MAX_CURVES = 10
_EPOCH = datetime.min.replace(tzinfo=timezone.utc)


def ordered_runs(exp: Experiment) -> list[tuple[Run, int]]:
    """Runs newest first, each child right after its parent (with its depth), children oldest first."""
    in_exp = {r.uid: r for r in exp.runs}
    roots = [r for r in exp.runs if not r.parent or r.parent not in in_exp]
    roots.sort(key=lambda r: (r.start_time or _EPOCH, r.id), reverse=True)
    out: list[tuple[Run, int]] = []
    seen: set[str] = set()

    def visit(run: Run, depth: int) -> None:
        if run.uid in seen:
            return
        seen.add(run.uid)
        out.append((run, depth))
        kids = sorted((in_exp[c] for c in run.children if c in in_exp), key=lambda r: (r.start_time or _EPOCH, r.id))
        for kid in kids:
            visit(kid, depth + 1)

    for root in roots:
        visit(root, 0)
    for run in exp.runs:  # cycles in parent links: show the rest flat rather than lose them
        if run.uid not in seen:
            visit(run, 0)
    return out


def param_columns(runs: list[Run]) -> tuple[list[str], dict[str, str]]:
    """(params whose values differ between runs, params that every run shares with one value)."""
    keys = sorted({k for r in runs for k in r.params_flat})
    varying, shared = [], {}
    for key in keys:
        values = {display_value(r.params_flat[key]) if key in r.params_flat else None for r in runs}
        if len(values) == 1 and None not in values:
            shared[key] = values.pop()
        else:
            varying.append(key)
    return varying, shared


def _curves(exp: Experiment, ranked: list[Run]) -> list[dict[str, Any]]:
    key = exp.primary_metric
    if not key:
        return []
    series = []
    for run in ranked:
        if not run.has_history or len(series) >= MAX_CURVES:
            continue
        try:
            history = read_history(run.directory, run.file.rsplit("/", 1)[0])
        except HistoryError:
            continue
        steps, values, _ = history.series(key)
        if len(steps) >= 2:
            series.append(charts.Series(run.name, steps, values))
    if not series:
        return []
    title = f"{key}: {'best' if len(series) < len(ranked) else 'all'} {len(series)} runs"
    return [{"id": "chart-curves", "title": title, "spec": charts.metric_chart(series, title=key, x="step")}]


def experiment_page(exp: Experiment, project: Project) -> Page:
    runs = ordered_runs(exp)
    all_runs = [r for r, _ in runs]
    varying, shared = param_columns(all_runs)
    metric_keys = sorted({k for r in all_runs for k in r.metrics})
    if exp.primary_metric in metric_keys:
        metric_keys.remove(exp.primary_metric)
        metric_keys.insert(0, exp.primary_metric)
    best = best_run(exp)
    rows = [{
        "run": run, "depth": depth, "url": urls.run(run.experiment, run.id), "status": status(run),
        "best": best is not None and run.uid == best.uid,
        "params": [display_value(run.params_flat[k]) if k in run.params_flat else None for k in varying],
        "metrics": [metric_value(run, k) for k in metric_keys],
    } for run, depth in runs]
    chart_list = []
    if exp.primary_metric:
        reverse = exp.goal == "max"
        scored = [r for r in all_runs if (v := metric_value(r, exp.primary_metric)) is not None and math.isfinite(v)]
        ranked = sorted(scored, key=lambda r: (metric_value(r, exp.primary_metric), r.id), reverse=reverse)
        chart_list = _curves(exp, ranked)
        if len(scored) >= 2:
            bars = [{"run": r.name, exp.primary_metric: metric_value(r, exp.primary_metric)} for r in ranked[:50]]
            chart_list.append({"id": "chart-bars", "title": f"{exp.primary_metric} by run",
                               "spec": charts.bar_chart(bars, x="run", y=exp.primary_metric,
                                                        title=f"{exp.primary_metric} ({exp.goal})")})
    statuses: dict[str, int] = {}
    for run in all_runs:
        key = status(run)["key"]
        statuses[key] = statuses.get(key, 0) + 1
    context = {
        "experiment": exp,
        "description": markdown(exp.description),
        "rows": rows,
        "param_columns": varying,
        "shared_params": sorted(shared.items()),
        "metric_columns": metric_keys,
        "best": {"name": best.name, "url": urls.run(best.experiment, best.id),
                 "value": metric_value(best, exp.primary_metric)} if best else None,
        "statuses": sorted(statuses.items()),
        "charts": chart_list,
    }
    return Page(url=urls.experiment(exp.slug), template="experiment.html", title=exp.title, context=context,
                kind="experiment", section="experiments", charts=bool(chart_list),
                breadcrumbs=[("Experiments", urls.INDEX), (exp.title, "")])


def pages(project: Project) -> Iterator[Page]:
    for slug in sorted(project.experiments):
        yield experiment_page(project.experiments[slug], project)
