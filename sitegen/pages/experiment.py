"""Experiment pages: the interactive run table and charts (drawn by runtable.js from compact JSON)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterator

from .. import urls
from ..model import Experiment, Project, Run
from . import Page, compare
from .common import best_run, display_value, markdown, metric_value, status

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
        first: str | None = None
        for run in runs:  # a param varies as soon as one run lacks it or shows another value
            if key not in run.params_flat:
                break
            value = display_value(run.params_flat[key])
            if first is None:
                first = value
            elif value != first:
                break
        else:
            shared[key] = first
            continue
        varying.append(key)
    return varying, shared


MAX_DEFAULT_PARAMS = 12  # varying params shown before the reader picks columns


def table_data(exp: Experiment, project: Project, runs: list[Run], varying: list[str],
               metric_keys: list[str]) -> dict[str, Any]:
    """What the run table (runtable.js) needs beside the run summaries, which it reads from the experiment's
    summary script (sitegen.export.summaries): column defaults, primary metric, best run, link patterns."""
    best = best_run(exp)
    defaults = ["attr:name", "attr:status", "attr:user", "attr:start", "attr:dur"]
    defaults += [f"p:{k}" for k in varying[:MAX_DEFAULT_PARAMS]]
    defaults += [f"m:{k}" for k in metric_keys]
    return {
        "mode": "experiment", "experiment": exp.slug, "primary": exp.primary_metric, "goal": exp.goal,
        "best": best.uid if best else None, "defaults": defaults, "metric_order": metric_keys,
        "links": compare.link_table(project),
    }


def experiment_page(exp: Experiment, project: Project) -> Page:
    runs = ordered_runs(exp)
    all_runs = [r for r, _ in runs]
    varying, shared = param_columns(all_runs)
    metric_keys = sorted({k for r in all_runs for k in r.metrics})
    if exp.primary_metric in metric_keys:
        metric_keys.remove(exp.primary_metric)
        metric_keys.insert(0, exp.primary_metric)
    best = best_run(exp)
    statuses: dict[str, int] = {}
    for run in all_runs:
        key = status(run)["key"]
        statuses[key] = statuses.get(key, 0) + 1
    context = {
        "experiment": exp,
        "description": markdown(exp.description, level=2),
        "run_count": len(all_runs),
        "shared_params": sorted(shared.items()),
        "best": {"name": best.name, "url": urls.run(best.experiment, best.id),
                 "value": metric_value(best, exp.primary_metric)} if best else None,
        "statuses": sorted(statuses.items()),
        "table": table_data(exp, project, all_runs, varying, metric_keys),
        "summaries_js": urls.experiment_summaries_js(exp.slug),
        "runs_csv": urls.RUNS_CSV,
    }
    return Page(url=urls.experiment(exp.slug), template="experiment.html", title=exp.title, context=context,
                kind="experiment", section="experiments", charts=True,
                breadcrumbs=[("Experiments", urls.INDEX), (exp.title, "")])


def pages(project: Project) -> Iterator[Page]:
    for slug in sorted(project.experiments):
        yield experiment_page(project.experiments[slug], project)
