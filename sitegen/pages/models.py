"""The model registry, model pages and model-version pages (the model card): template contexts only.

What a card derives from its source run is computed in :mod:`sitegen.card`, version diffs in
:mod:`sitegen.version_diff`, monitoring series and alerts in :mod:`sitegen.monitoring`.
"""

from __future__ import annotations

import json
import math
from typing import Any, Callable, Iterator

from .. import cache, charts, urls
from ..card import CARD_SECTIONS, Card, Derived, build_card, completeness, overall_results, performance_metrics
from ..charts import Series
from ..model import ModelVersion, Project, RegisteredModel
from ..monitoring import Alert, MetricSeries, breach_count, model_alerts
from ..version_diff import VersionDiff, diffs_for, short
from . import Page
from .common import display_value, label, markdown, ref_link, to_block

MAX_METRIC_COLUMNS = 6


# ------------------------------------------------------------------------------------------ helpers


def _kept_chart(make: Callable[..., dict[str, Any]], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """``make(*args, **kwargs)``, a chart's spec, kept in the build cache by its arguments: a rebuild whose
    model pages show the same results makes none of them again, nor imports numpy to make them (a tenth of
    a second of every command-line rebuild)."""
    memo = cache.memo("chart")
    if memo is None:
        return make(*args, **kwargs)
    key = cache.digest_json([make.__name__, args, kwargs])
    return memo.get(key, lambda: make(*args, **kwargs))

def _alert(a: Alert) -> dict[str, Any]:
    return {"metric": a.metric, "slice": a.slice, "value": a.value, "at": a.at, "bound": a.bound,
            "threshold": a.threshold, "message": a.message}


def _derived(d: Derived) -> dict[str, Any]:
    return {"label": d.label, "block": to_block(d.value), "source": d.source, "url": d.url,
            "external": bool(d.url and "://" in d.url)}


def _key_metric(model: RegisteredModel, card: Card, project: Project) -> tuple[str, float] | None:
    results = overall_results(card)
    if card.run is not None:
        primary = project.experiments[card.run.experiment].primary_metric \
            if card.run.experiment in project.experiments else None
        if primary and primary in results:
            return primary, results[primary]
        if primary and primary in card.run.metrics:
            return primary, card.run.metrics[primary].last
    if results:
        key = next(iter(results))
        return key, results[key]
    return None


def _monitoring(model: RegisteredModel) -> dict[str, Any]:
    series, found, error = model_alerts(model)
    by_metric: dict[str, list[MetricSeries]] = {}
    for s in series:
        by_metric.setdefault(s.metric, []).append(s)
    groups, n = [], 0
    for metric in sorted(by_metric):
        limits = model.monitoring_thresholds.get(metric)
        items = []
        for s in sorted(by_metric[metric], key=lambda s: (s.slice is not None, s.slice or "")):
            title = f"{metric} ({s.slice})" if s.slice else metric
            spec = charts.monitoring_chart(s.times, s.values, limits, metric=metric, title=title)
            latest = float(s.values[-1]) if len(s.values) else None
            items.append({"id": f"chart-mon-{n}", "title": title, "spec": spec, "slice": s.slice,
                          "breaches": breach_count(s, limits), "points": int(len(s.values)), "latest": latest})
            n += 1
        groups.append({"metric": metric, "thresholds": {"min": (limits or {}).get("min"),
                                                        "max": (limits or {}).get("max")},
                       "overall": [i for i in items if i["slice"] is None],
                       "slices": [i for i in items if i["slice"] is not None]})
    return {"groups": groups, "alerts": [_alert(a) for a in found], "error": error,
            "charts": [i for g in groups for i in g["overall"] + g["slices"]]}


def _last_change(model: RegisteredModel):
    return max([v.created for v in model.versions if v.created] + [e.at for e in model.alias_history if e.at],
               default=None)


# ------------------------------------------------------------------------------------------ registry

def registry_page(project: Project) -> Page:
    rows = []
    for slug in sorted(project.models):
        m = project.models[slug]
        champion = m.aliases.get("champion")
        champ_v = m.version(champion) if champion else None
        latest = m.versions[-1] if m.versions else None
        shown = champ_v or latest
        card = build_card(project, m, shown) if shown else None
        checks = completeness(card) if card else []
        key = _key_metric(m, card, project) if card else None
        mon = _monitoring(m)
        rows.append({
            "slug": slug, "name": m.name, "url": urls.model(slug), "versions": len(m.versions),
            "champion": champion if champ_v else None,
            "champion_url": urls.model_version(slug, champion) if champ_v else None,
            "latest": latest.version if latest else None,
            "latest_url": urls.model_version(slug, latest.version) if latest else None,
            "stage": shown.stage if shown else None,
            "aliases": sorted(m.aliases.items()),
            "key_metric": {"name": key[0], "value": key[1], "version": shown.version} if key else None,
            "card_done": sum(1 for c in checks if c["present"]), "card_total": len(checks),
            "card_missing_required": [label(c["section"]) for c in checks if c["required"] and not c["present"]],
            "alerts": mon["alerts"], "monitoring_error": mon["error"],
            "last_change": _last_change(m),
        })
    return Page(url=urls.MODELS, template="models.html", title="Model registry", context={"models": rows},
                kind="registry", section="models", breadcrumbs=[("Models", "")])


# ------------------------------------------------------------------------------------------ model page

def model_page(model: RegisteredModel, project: Project) -> Page:
    cards = {v.version: build_card(project, model, v) for v in model.versions}
    metric_keys: list[str] = []
    for v in reversed(model.versions):
        run = cards[v.version].run
        for k in (performance_metrics(run) if run else []):
            if k not in metric_keys:
                metric_keys.append(k)
    metric_keys = metric_keys[:MAX_METRIC_COLUMNS]
    versions = []
    for v in reversed(model.versions):
        card = cards[v.version]
        run = card.run
        checks = completeness(card)
        versions.append({
            "version": v.version, "url": urls.model_version(model.slug, v.version), "stage": v.stage,
            "created": v.created, "aliases": model.aliases_of(v.version), "source": ref_link(project, v.source_run),
            "metrics": [run.metrics[k].last if run and k in run.metrics else None for k in metric_keys],
            "card_done": sum(1 for c in checks if c["present"]), "card_total": len(checks),
            "diff_url": urls.model_version(model.slug, v.version) + "#diff",
        })
    # compare versions: the card's whole-set results per version, and a chart of them by version number
    results = {n: overall_results(c) for n, c in cards.items()}
    compare_keys = sorted({k for r in results.values() for k in r})
    compare = [{"metric": k, "values": [results[v.version].get(k) for v in model.versions]} for k in compare_keys]
    chart_list = []
    series = [Series(k, [v.version for v in model.versions if k in results[v.version]],
                     [results[v.version][k] for v in model.versions if k in results[v.version]])
              for k in compare_keys]
    series = [s for s in series if len(s.x) >= 2]
    if series:
        chart_list.append({"id": "chart-versions", "title": "Results by version",
                           "spec": _kept_chart(charts.metric_chart, series, title="Results by version", x="version")})
    mon = _monitoring(model)
    history = [{"alias": e.alias, "version": e.version, "at": e.at, "by": e.by, "note": e.note,
                "url": urls.model_version(model.slug, e.version) if e.version and model.version(e.version) else None}
               for e in reversed(model.alias_history)]
    context = {
        "model": model, "description": markdown(model.description, level=2), "versions": versions,
        "metric_keys": metric_keys,
        "compare": {"versions": [(v.version, urls.model_version(model.slug, v.version)) for v in model.versions],
                    "rows": compare},
        "aliases": [(a, n, urls.model_version(model.slug, n)) for a, n in sorted(model.aliases.items())],
        "alias_history": history, "monitoring": mon, "alerts": mon["alerts"],
        "charts": chart_list + mon["charts"], "version_charts": chart_list,
        "thresholds": sorted((k, v.get("min"), v.get("max")) for k, v in model.monitoring_thresholds.items()),
    }
    return Page(url=urls.model(model.slug), template="model.html", title=model.name, context=context, kind="model",
                section="models", charts=bool(context["charts"]),
                breadcrumbs=[("Models", urls.MODELS), (model.name, "")])


# ------------------------------------------------------------------------------------------ version page

def _diff(model: RegisteredModel, d: VersionDiff) -> dict[str, Any]:
    champ = model.aliases.get("champion")
    title = {"previous": f"Against the previous version, v{d.base.version}",
             "champion": f"Against the champion, v{d.base.version}"}[d.relation]
    if d.relation == "previous" and champ == d.base.version:
        title += " (the champion)"
    code = None
    if d.code:
        code = {**d.code, "base_short": short(d.code["base"]), "target_short": short(d.code["target"])}
    return {
        "relation": d.relation, "title": title, "base_url": urls.model_version(model.slug, d.base.version),
        "metrics": d.metrics,
        "params": [{"key": p["key"], "base": display_value(p["base"]) if p["change"] != "added" else None,
                    "target": display_value(p["target"]) if p["change"] != "removed" else None,
                    "change": p["change"]} for p in d.params],
        "data": d.data, "code": code, "empty": d.empty,
    }


def _slice_charts(analyses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    usable = [a for a in analyses if isinstance(a.get("value"), (int, float)) and a.get("metric") is not None]
    for metric in sorted({str(a["metric"]) for a in usable}):
        rows = [a for a in usable if str(a["metric"]) == metric]
        if len(rows) >= 2 and any(a.get("slice") for a in rows):
            rows = [{k: a.get(k) for k in ("metric", "value", "slice")} | (
                {"ci95": a["ci95"]} if isinstance(a.get("ci95"), list) and len(a["ci95"]) == 2 else {})
                for a in rows]
            out.append({"id": f"chart-slice-{len(out)}", "title": f"{metric} by slice",
                        "spec": _kept_chart(charts.slice_chart, rows, metric=metric, title=f"{metric} by slice")})
    return out


def _example(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, allow_nan=True)
    except (TypeError, ValueError):
        return display_value(value)


def version_page(model: RegisteredModel, version: ModelVersion, project: Project) -> Page:
    card = build_card(project, model, version)
    sections = []
    for s in card.sections:
        if s.key == "quantitative_analyses":
            continue
        sections.append({"key": s.key, "label": label(s.key), "status": s.status, "required": s.required,
                         "block": to_block(s.written) if s.status == "written" else None,
                         "derived": [_derived(d) for d in s.derived]})
    analyses = [{**a, "ci95": a["ci95"] if isinstance(a.get("ci95"), list) and len(a["ci95"]) == 2 else None,
                 "finite": isinstance(a.get("value"), (int, float)) and math.isfinite(a["value"])}
                for a in card.analyses]
    qa = card.section("quantitative_analyses")
    chart_list = _slice_charts(card.analyses)
    checklist = [{**c, "label": label(c["section"])} for c in completeness(card)]
    diffs = [_diff(model, d) for d in diffs_for(project, model, version)]
    context = {
        "model": model, "version": version, "aliases": model.aliases_of(version.version),
        "description": markdown(version.description, level=2), "source": ref_link(project, version.source_run),
        "sections": sections, "extra_sections": [{"key": k, "label": label(k), "block": to_block(v)}
                                                 for k, v in card.extra.items()],
        "analyses": analyses, "analyses_status": qa.status, "analyses_required": qa.required,
        "charts": chart_list,
        "training": [_derived(d) for d in card.training],
        "signature": card.signature,
        "input_example": _example(card.input_example), "input_example_source": card.input_example_source,
        "checklist": checklist,
        "checklist_done": sum(1 for c in checklist if c["present"]),
        "diffs": diffs,
        "hub": [(k, display_value(v)) for k, v in sorted(version.hub.items())],
        "card_md": urls.model_card_md(model.slug, version.version),
        "model_url": urls.model(model.slug),
    }
    return Page(url=urls.model_version(model.slug, version.version), template="model_version.html",
                title=f"{model.name} v{version.version}", context=context, kind="model-version", section="models",
                charts=bool(chart_list), breadcrumbs=[("Models", urls.MODELS), (model.name, urls.model(model.slug)),
                                                      (f"Version {version.version}", "")])


def pages(project: Project) -> Iterator[Page]:
    yield registry_page(project)
    for slug in sorted(project.models):
        model = project.models[slug]
        yield model_page(model, project)
        for version in model.versions:
            yield version_page(model, version, project)


__all__ = ["CARD_SECTIONS", "pages", "registry_page", "model_page", "version_page"]
