"""Comparison pages: configured ones (``compare/<name>/index.html``, static tables) and the ad-hoc page
(``compare/index.html?runs=exp/id,exp/id``, drawn in the browser from an embedded summary of every run).

Also the per-run data script (``runs/<exp>/<id>/data.js``): downsampled curves (at most
:data:`MAX_POINTS` a series, min/max buckets so spikes survive) and small text artifacts. Comparison and
experiment pages load it on demand with a classic ``<script src>``, which works from ``file://``;
the full-resolution history stays downloadable as the run's ``metrics.csv``.
"""

from __future__ import annotations

import json
import math
import statistics
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from .. import urls
from ..config import Comparison
from ..diagnostics import Diagnostic
from ..jsonutil import float_token, js_number_arrays
from ..model import Project, Run
from ..query import QueryError, parse
from ..render import fmt_iso, fmt_number
from . import Page
from .common import display_value, markdown, metric_value, status

if TYPE_CHECKING:
    import numpy as np

    from ..store.metrics import History

MAX_POINTS = 1000  # points a series in data.js
MAX_TEXT_BYTES = 32 * 1024  # text artifacts up to this size are embedded in data.js for diffs
DIFF_KINDS = {"text", "json", "yaml", "csv", "markdown", "diff"}
_LOWER_IS_BETTER = ("loss", "error", "err", "mse", "mae", "rmse", "perplexity", "latency", "time", "wer", "cer")


# ------------------------------------------------------------------------------------------ rows

def param_value(value: Any) -> Any:
    """A param or tag value as it travels to the browser: scalars as themselves, structures as text."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return float_token(value)
    return display_value(value)


def metric_json(value: float | None) -> Any:
    return None if value is None else float_token(float(value))


def query_row(run: Run) -> dict[str, Any]:
    """The row the query language sees for a run (the browser builds the same row from the page data)."""
    row: dict[str, Any] = {
        "attributes.status": run.status, "attributes.name": run.name, "attributes.id": run.id,
        "attributes.experiment": run.experiment, "attributes.user": run.user,
        "attributes.start_time": fmt_iso(run.start_time) or None, "attributes.end_time": fmt_iso(run.end_time) or None,
        "attributes.duration": run.duration_seconds,
    }
    for key, value in run.params_flat.items():
        row[f"params.{key}"] = param_value(value)
    for key, summary in run.metrics.items():
        row[f"metrics.{key}"] = summary.last
    for key, value in run.tags.items():
        row[f"tags.{key}"] = param_value(value)
    return row


def lower_is_better(project: Project, run: Run, key: str) -> bool:
    """Direction of a metric: the experiment's goal for its primary metric, else a guess from the name."""
    exp = project.experiments.get(run.experiment)
    if exp is not None and exp.primary_metric == key:
        return exp.goal == "min"
    name = key.lower().rsplit("/", 1)[-1]
    return any(word in name for word in _LOWER_IS_BETTER)


def select_runs(cmp: Comparison, project: Project) -> tuple[list[Run], str | None]:
    """The runs of a configured comparison (``runs:`` first, then the ``query:`` matches) and an error text."""
    chosen: list[Run] = []
    seen: set[str] = set()
    missing = [uid for uid in cmp.runs if uid not in project.runs]
    for uid in cmp.runs:
        if uid in project.runs and uid not in seen:
            seen.add(uid)
            chosen.append(project.runs[uid])
    error = None
    if missing:
        error = "not in this source: " + ", ".join(missing)
    if cmp.query:
        try:
            query = parse(cmp.query)
        except QueryError as exc:
            return chosen, f"the query {cmp.query!r} is not valid: {exc}"
        for uid in sorted(project.runs):
            run = project.runs[uid]
            if uid not in seen and query.matches(query_row(run)):
                seen.add(uid)
                chosen.append(run)
    return chosen, error


# ------------------------------------------------------------------------------------- tables

def params_table(runs: list[Run]) -> list[dict[str, Any]]:
    """One row a param: its value in each run (None when absent) and whether the runs differ."""
    keys = sorted({k for r in runs for k in r.params_flat})
    rows = []
    for key in keys:
        values = [display_value(r.params_flat[key]) if key in r.params_flat else None for r in runs]
        rows.append({"key": key, "values": values, "differ": len(set(values)) > 1})
    return rows


def _fmt_delta(delta: float) -> str:
    return ("+" if delta > 0 else "") + fmt_number(delta)


def metrics_table(runs: list[Run], keys: list[str], baseline: Run | None, project: Project) -> list[dict[str, Any]]:
    """One row a metric: each run's last value, the best one marked, the delta against the baseline."""
    rows = []
    for key in keys:
        values = [metric_value(r, key) for r in runs]
        finite = [v for v in values if v is not None and math.isfinite(v)]
        lower = lower_is_better(project, runs[0], key) if runs else False
        best = (min(finite) if lower else max(finite)) if len(finite) >= 2 else None
        base = metric_value(baseline, key) if baseline is not None else None
        cells = []
        for run, value in zip(runs, values):
            delta = None
            if base is not None and value is not None and math.isfinite(base) and math.isfinite(value) \
                    and baseline is not None and run.uid != baseline.uid:
                delta = value - base
            better = None if delta is None or delta == 0 else (delta < 0) == lower
            cells.append({"value": value, "best": best is not None and value == best, "delta": delta,
                          "delta_text": _fmt_delta(delta) if delta is not None else "", "better": better})
        rows.append({"key": key, "goal": "min" if lower else "max", "cells": cells,
                     "differ": len({v if v is None or math.isfinite(v) else str(v) for v in values}) > 1})
    return rows


def group_key(run: Run, fields: list[str]) -> tuple[Any, ...]:
    row = query_row(run)
    return tuple(row.get(f) for f in fields)


def group_table(runs: list[Run], fields: list[str], keys: list[str]) -> list[dict[str, Any]]:
    """Runs grouped by the values of ``fields`` (``params.lr``, ``tags.x``): count, mean, std, min, max a metric."""
    groups: dict[tuple[Any, ...], list[Run]] = {}
    for run in runs:
        groups.setdefault(group_key(run, fields), []).append(run)
    out = []
    for gkey in sorted(groups, key=lambda t: tuple((v is None, str(v)) for v in t)):
        members = groups[gkey]
        stats = []
        for key in keys:
            vals = [v for r in members if (v := metric_value(r, key)) is not None and math.isfinite(v)]
            stats.append({
                "n": len(vals),
                "mean": statistics.fmean(vals) if vals else None,
                "std": statistics.stdev(vals) if len(vals) >= 2 else None,
                "min": min(vals) if vals else None, "max": max(vals) if vals else None,
            })
        out.append({"label": ", ".join(f"{f.split('.', 1)[-1]}={'' if v is None else display_value(v)}"
                                       for f, v in zip(fields, gkey)),
                    "values": [None if v is None else display_value(v) for v in gkey],
                    "runs": [r.uid for r in members], "stats": stats})
    return out


def shared_artifacts(runs: list[Run]) -> tuple[list[dict[str, Any]], list[str]]:
    """(images present in two or more runs, with each run's URL or None; text artifact paths to diff)."""
    by_path: dict[str, dict[str, Any]] = {}
    for run in runs:
        for art in run.artifacts:
            if art.source is None or art.size is None:
                continue
            by_path.setdefault(art.path, {})[run.uid] = art
    images, texts = [], []
    for path in sorted(by_path):
        found = by_path[path]
        if len(found) < 2:
            continue
        kind = next(iter(found.values())).kind
        if kind == "image":
            images.append({"path": path, "cells": [
                {"url": urls.artifact(r.experiment, r.id, path), "name": r.name} if r.uid in found else None
                for r in runs]})
        elif kind in DIFF_KINDS:
            texts.append(path)
    return images, texts


# ---------------------------------------------------------------------------- per-run data.js

SIGNIFICANT = 7  # digits of a value in data.js: for display only, metrics.csv has every digit


def _rounded(values: np.ndarray) -> np.ndarray:
    """Values rounded to :data:`SIGNIFICANT` digits, so their text is short; NaN and inf unchanged."""
    import numpy as np  # here: the site's pages need no numpy, only a run's data.js does

    out = values.astype(np.float64, copy=True)
    finite = np.isfinite(values) & (values != 0)
    mag = np.floor(np.log10(np.abs(values[finite])))
    digits = (SIGNIFICANT - 1 - mag).astype(np.int64)
    ok = (digits >= 0) & (digits <= 22)
    scale = 10.0 ** digits[ok]
    sub = out[finite]
    sub[ok] = np.round(sub[ok] * scale) / scale
    out[finite] = sub
    return out


def _series(steps: np.ndarray, values: np.ndarray, times: np.ndarray,
            t0: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """One curve: steps, values and ms since t0 (None without times), sorted by step and downsampled to
    :data:`MAX_POINTS`."""
    import numpy as np

    from ..downsample import downsample

    order = np.argsort(steps, kind="stable")
    if len(order) > MAX_POINTS:
        order = order[downsample(steps[order].astype(np.float64), values[order], MAX_POINTS)]
    s, v, t = steps[order], values[order], times[order]
    return s, _rounded(v), (t - t0) if t0 is not None and (t >= 0).all() else None


def _curves_js(curves: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]]) -> dict[str, str]:
    """Each curve as JavaScript text ``[steps, values, times or null]`` (all arrays formatted at once)."""
    arrays = [a for curve in curves.values() for a in curve if a is not None]
    texts = iter(js_number_arrays(arrays))
    return {key: "[" + ",".join(next(texts) if a is not None else "null" for a in curve) + "]"
            for key, curve in curves.items()}


def run_data(run: Run, history: History | None) -> tuple[dict[str, Any], dict[str, str]]:
    """What the browser may need of one run beyond its summary: curves and small text artifacts.

    Returns the JSON-able fields and the curves (metric key -> JavaScript text of :func:`_curves_js`)."""
    curves: dict[str, Any] = {}
    t0 = None
    counts: dict[str, int] = {}
    if history is not None and len(history):
        valid = history.timestamps[history.timestamps >= 0]
        t0 = int(valid.min()) if len(valid) else None
        for key, steps, values, times in history.groups():
            curves[str(key)] = _series(steps, values, times, t0)
            counts[str(key)] = int(len(steps))
    texts = {}
    for art in run.artifacts:
        if art.kind in DIFF_KINDS and art.source is not None and art.size is not None and art.size <= MAX_TEXT_BYTES:
            try:
                texts[art.path] = art.source.read_bytes().decode("utf-8", errors="replace")
            except OSError:
                continue
    return ({"t0": t0, "points": counts, "texts": texts,
             "csv": urls.run_metrics_csv(run.experiment, run.id) if curves else None}, _curves_js(curves))


def data_script(run: Run, history: History | None) -> str:
    """``runs/<exp>/<id>/data.js``: a classic script that files the run's data under its uid in
    ``window.sitegenRunStore``: ``{csv, curves: {key: [steps, values, times]}, points, t0, texts}`` (numbers
    as JavaScript literals, so NaN and Infinity survive)."""
    fields, curves = run_data(run, history)

    def js(value: Any) -> str:
        return json.dumps(value, sort_keys=True, ensure_ascii=True, separators=(",", ":"))

    curve_text = ",".join(f"{js(key)}:{text}" for key, text in sorted(curves.items()))
    body = (f'{{"csv":{js(fields["csv"])},"curves":{{{curve_text}}},"points":{js(fields["points"])},'
            f'"t0":{js(fields["t0"])},"texts":{js(fields["texts"])}}}')
    uid = json.dumps(run.uid, ensure_ascii=True)
    return f"(self.sitegenRunStore=self.sitegenRunStore||{{}})[{uid}]={body};\n"


# ------------------------------------------------------------------------------- run summaries

def run_summary(run: Run, project: Project, keys: dict[str, dict[str, int]]) -> dict[str, Any]:
    """The compact record of a run that the browser compares: params/metrics/tags by column index."""
    def index(kind: str, key: str) -> str:
        table = keys[kind]
        if key not in table:
            table[key] = len(table)
        return str(table[key])

    st = status(run)
    arts = [[a.path, a.kind] for a in run.artifacts
            if a.source is not None and a.size is not None and (a.kind == "image" or a.kind in DIFF_KINDS)]
    return {
        "uid": run.uid, "id": run.id, "exp": run.experiment, "name": run.name, "status": st["key"],
        "user": run.user, "start": fmt_iso(run.start_time) or None, "end": fmt_iso(run.end_time) or None,
        "dur": run.duration_seconds, "parent": run.parent,
        "p": {index("params", k): param_value(v) for k, v in sorted(run.params_flat.items())},
        "m": {index("metrics", k): metric_json(s.last) for k, s in sorted(run.metrics.items())},
        "t": {index("tags", k): param_value(v) for k, v in sorted(run.tags.items())},
        "lower": [index("metrics", k) for k in sorted(run.metrics) if lower_is_better(project, run, k)],
        "a": arts, "hist": run.has_history,
    }


def summaries(runs: Iterable[Run], project: Project) -> dict[str, Any]:
    """Summaries of ``runs`` with their shared column tables (``keys.params[i]`` names column ``i``)."""
    keys: dict[str, dict[str, int]] = {"params": {}, "metrics": {}, "tags": {}}
    records = [run_summary(r, project, keys) for r in runs]
    return {"keys": {k: sorted(v, key=v.get) for k, v in keys.items()}, "runs": records}


def link_table(project: Project) -> dict[str, Any]:
    """Site paths the browser needs to make links (relative to the site root; JS prefixes ``root``)."""
    return {"run": urls.run("{exp}", "{id}"), "data": urls.run_data_js("{exp}", "{id}"),
            "artifact": urls.artifact("{exp}", "{id}", "{path}"), "csv": urls.run_metrics_csv("{exp}", "{id}"),
            "experiment": urls.experiment("{exp}"), "compare": urls.COMPARE}


# ------------------------------------------------------------------------------------- pages

def _metric_keys(cmp: Comparison, runs: list[Run]) -> list[str]:
    if cmp.metrics:
        return list(cmp.metrics)
    return sorted({k for r in runs for k in r.metrics})


def comparison_page(cmp: Comparison, project: Project) -> Page:
    runs, error = select_runs(cmp, project)
    baseline = project.runs.get(cmp.baseline) if cmp.baseline else None
    if cmp.baseline and baseline is None:
        error = (error + "; " if error else "") + f"baseline {cmp.baseline} is not in this source"
    if baseline is not None and baseline not in runs:
        runs.insert(0, baseline)
    if baseline is not None:  # the baseline first, the rest in their order
        runs.remove(baseline)
        runs.insert(0, baseline)
    metric_keys = _metric_keys(cmp, runs)
    data = summaries(runs, project)
    columns = [{"uid": r.uid, "name": r.name, "url": urls.run(r.experiment, r.id), "status": status(r),
                "experiment": r.experiment, "baseline": baseline is not None and r.uid == baseline.uid}
               for r in runs]
    images, texts = shared_artifacts(runs)
    groups = group_table(runs, cmp.group_by, metric_keys) if cmp.group_by else []
    uids = ",".join(r.uid for r in runs)
    context = {
        "comparison": {"name": cmp.name, "title": cmp.title, "query": cmp.query, "group_by": cmp.group_by,
                       "description": markdown(cmp.description), "error": error},
        "columns": columns,
        "params": params_table(runs),
        "metrics": metrics_table(runs, metric_keys, baseline, project),
        "metric_keys": metric_keys,
        "groups": groups,
        "images": images,
        "texts": texts,
        "adhoc_url": urls.COMPARE + "?runs=" + uids if runs else None,
        "data": {"mode": "configured", "metrics": metric_keys, "group_by": cmp.group_by,
                 "baseline": baseline.uid if baseline else None, "texts": texts,
                 "links": link_table(project), **data},
    }
    return Page(url=urls.comparison(cmp.name), template="compare.html", title=cmp.title, context=context,
                kind="comparison", section="compare", charts=True,
                breadcrumbs=[("Compare", urls.COMPARE), (cmp.title, "")])


def adhoc_page(project: Project) -> Page:
    """``compare/index.html``: the configured comparisons, and any runs named in ``?runs=`` compared."""
    listed = [{"name": c.name, "title": c.title, "url": urls.comparison(c.name), "query": c.query,
               "runs": len(select_runs(c, project)[0])} for c in project.config.comparisons]
    experiments = [{"slug": s, "title": project.experiments[s].title, "url": urls.experiment(s),
                    "runs": len(project.experiments[s].runs)} for s in sorted(project.experiments)]
    context = {
        "comparisons": listed,
        "experiments": experiments,
        # the runs asked for are found in their experiments' summary scripts (sitegen.export.summaries)
        "data": {"mode": "adhoc", "links": link_table(project),
                 "summaries": {s: urls.experiment_summaries_js(s) for s in sorted(project.experiments)}},
    }
    return Page(url=urls.COMPARE, template="compare_adhoc.html", title="Compare runs", context=context,
                kind="comparison", section="compare", charts=True, breadcrumbs=[("Compare", "")])


def pages(project: Project) -> Iterator[Page]:
    yield adhoc_page(project)
    for cmp in project.config.comparisons:
        page = comparison_page(cmp, project)
        error = page.context["comparison"]["error"]
        if error:
            project.diagnostics.append(Diagnostic(project.config.file or "sitegen.yaml", 0, 0,
                                                  f"comparison {cmp.name!r}: {error}", "warning"))
        yield page


__all__ = ["comparison_page", "adhoc_page", "pages", "data_script", "run_data", "query_row", "select_runs",
           "params_table", "metrics_table", "group_table", "shared_artifacts", "summaries"]
