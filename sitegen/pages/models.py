"""The model registry, model pages and model-version pages (the model card)."""

from __future__ import annotations

from typing import Any, Iterator

from .. import charts, urls
from ..model import ModelVersion, Project, RegisteredModel
from ..monitoring import MonitoringError, alerts, read_monitoring
from . import Page
from .common import display_value, label, markdown, ref_link, to_block

CARD_SECTIONS = ("details", "intended_use", "factors", "metrics", "evaluation_data", "training_data",
                 "quantitative_analyses", "ethical_considerations", "caveats_and_recommendations")


def _monitoring(model: RegisteredModel) -> tuple[list[dict[str, Any]], list[Any], str | None]:
    if model.monitoring_file is None:
        return [], [], None
    try:
        series = read_monitoring(model.monitoring_file)
    except MonitoringError as exc:
        return [], [], str(exc)
    chart_list = []
    for i, s in enumerate(series):
        if s.slice:
            continue
        spec = charts.monitoring_chart(s.times, s.values, model.monitoring_thresholds.get(s.metric),
                                       metric=s.metric, title=s.metric)
        chart_list.append({"id": f"chart-mon-{i}", "title": s.metric, "spec": spec})
    return chart_list, alerts(model, series), None


def completeness(version: ModelVersion, required: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{"section": s, "label": label(s), "present": bool(version.card.get(s)), "required": s in required}
            for s in CARD_SECTIONS]


def registry_page(project: Project) -> Page:
    rows = []
    for slug in sorted(project.models):
        m = project.models[slug]
        champion = m.aliases.get("champion")
        latest = m.versions[-1] if m.versions else None
        shown = m.version(champion) if champion else latest
        required = tuple(m.required_card_sections or project.config.required_card_sections)
        checks = completeness(shown, required) if shown else []
        _, model_alerts, _ = _monitoring(m)
        rows.append({
            "slug": slug, "name": m.name, "url": urls.model(slug), "versions": len(m.versions),
            "champion": champion, "champion_url": urls.model_version(slug, champion) if champion and
            m.version(champion) else None,
            "latest": latest.version if latest else None,
            "latest_url": urls.model_version(slug, latest.version) if latest else None,
            "stage": latest.stage if latest else None,
            "aliases": sorted(m.aliases.items()),
            "card_done": sum(1 for c in checks if c["present"]), "card_total": len(checks),
            "alerts": len(model_alerts),
            "last_change": max([v.created for v in m.versions if v.created] + [e.at for e in m.alias_history if e.at],
                               default=None),
        })
    return Page(url=urls.MODELS, template="models.html", title="Model registry", context={"models": rows},
                kind="registry", section="models", breadcrumbs=[("Models", "")])


def model_page(model: RegisteredModel, project: Project) -> Page:
    versions = []
    for v in reversed(model.versions):
        run = project.runs.get(v.source_run or "")
        versions.append({
            "version": v.version, "url": urls.model_version(model.slug, v.version), "stage": v.stage,
            "created": v.created, "aliases": model.aliases_of(v.version), "source": ref_link(project, v.source_run),
            "metrics": [(k, m.last) for k, m in list(run.metrics.items())[:4]] if run else [],
        })
    chart_list, model_alerts, mon_error = _monitoring(model)
    history = [{"alias": e.alias, "version": e.version, "at": e.at, "by": e.by, "note": e.note,
                "url": urls.model_version(model.slug, e.version) if e.version and model.version(e.version) else None}
               for e in reversed(model.alias_history)]
    context = {
        "model": model, "description": markdown(model.description), "versions": versions,
        "aliases": [(a, n, urls.model_version(model.slug, n)) for a, n in sorted(model.aliases.items())],
        "alias_history": history, "charts": chart_list, "alerts": [a.message for a in model_alerts],
        "monitoring_error": mon_error,
        "thresholds": sorted((k, v.get("min"), v.get("max")) for k, v in model.monitoring_thresholds.items()),
    }
    return Page(url=urls.model(model.slug), template="model.html", title=model.name, context=context, kind="model",
                section="models", charts=bool(chart_list),
                breadcrumbs=[("Models", urls.MODELS), (model.name, "")])


def version_page(model: RegisteredModel, version: ModelVersion, project: Project) -> Page:
    card = version.card
    sections = [{"key": s, "label": label(s), "block": to_block(card[s])}
                for s in CARD_SECTIONS if s != "quantitative_analyses" and card.get(s)]
    extra = [{"key": k, "label": label(k), "block": to_block(v)} for k, v in card.items() if k not in CARD_SECTIONS]
    analyses = [{k: a.get(k) for k in ("metric", "value", "slice", "ci95", "dataset", "split")}
                for a in card.get("quantitative_analyses") or [] if isinstance(a, dict)]
    chart_list = []
    sliced = [a for a in analyses if a.get("value") is not None]
    if len(sliced) >= 2:
        for metric in sorted({a["metric"] for a in sliced}):
            rows = [a for a in sliced if a["metric"] == metric]
            if len(rows) >= 2:
                chart_list.append({"id": f"chart-slice-{len(chart_list)}", "title": metric,
                                   "spec": charts.slice_chart(rows, metric=metric, title=metric)})
    required = tuple(model.required_card_sections or project.config.required_card_sections)
    context = {
        "model": model, "version": version, "aliases": model.aliases_of(version.version),
        "description": markdown(version.description), "source": ref_link(project, version.source_run),
        "sections": sections, "extra_sections": extra, "analyses": analyses, "charts": chart_list,
        "signature": {k: [{"name": c.get("name"), "type": c.get("type")} for c in version.signature.get(k) or []
                          if isinstance(c, dict)] for k in ("inputs", "outputs")},
        "checklist": completeness(version, required),
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
