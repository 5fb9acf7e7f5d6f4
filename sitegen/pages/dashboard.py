"""The dashboard (index.html): experiments, recent runs, models and their champions, recent activity."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterator

from .. import urls
from ..model import Project
from ..monitoring import model_alerts
from . import Page
from .common import best_run, markdown, metric_value, status

RECENT = 10
_EPOCH = datetime.min.replace(tzinfo=timezone.utc)


def dashboard_page(project: Project) -> Page:
    experiments = []
    for slug in sorted(project.experiments):
        exp = project.experiments[slug]
        best = best_run(exp)
        last = max((r.start_time for r in exp.runs if r.start_time), default=None)
        experiments.append({
            "slug": slug, "title": exp.title, "url": urls.experiment(slug), "runs": len(exp.runs),
            "last": last, "primary_metric": exp.primary_metric, "goal": exp.goal,
            "best": {"name": best.name, "url": urls.run(best.experiment, best.id),
                     "value": metric_value(best, exp.primary_metric)} if best else None,
            "failed": sum(1 for r in exp.runs if status(r)["key"] in ("failed", "crashed", "killed")),
        })
    recent = sorted(project.runs.values(), key=lambda r: (r.start_time or _EPOCH, r.uid), reverse=True)[:RECENT]
    recent_runs = [{"run": r, "url": urls.run(r.experiment, r.id), "status": status(r),
                    "experiment": project.experiments[r.experiment].title,
                    "experiment_url": urls.experiment(r.experiment)} for r in recent]
    models = []
    for slug in sorted(project.models):
        m = project.models[slug]
        champion = m.aliases.get("champion")
        latest = m.versions[-1] if m.versions else None
        models.append({"slug": slug, "name": m.name, "url": urls.model(slug), "versions": len(m.versions),
                       "champion": champion, "champion_url": urls.model_version(slug, champion)
                       if champion and m.version(champion) else None,
                       "latest": latest.version if latest else None,
                       "aliases": sorted(m.aliases.items()),
                       "alerts": [a.message for a in model_alerts(m)[1]]})
    activity = []
    for m in project.models.values():
        for v in m.versions:
            if v.created:
                activity.append({"at": v.created, "text": f"{m.name} version {v.version} registered",
                                 "url": urls.model_version(m.slug, v.version), "by": None})
        for ev in m.alias_history:
            if ev.at:
                what = f"moved to version {ev.version}" if ev.version else "removed"
                activity.append({"at": ev.at, "text": f"{m.name}: alias {ev.alias} {what}",
                                 "url": urls.model(m.slug), "by": ev.by})
    activity.sort(key=lambda a: (a["at"], a["text"]), reverse=True)
    context = {
        "description": markdown(project.config.description, level=2),
        "experiments": experiments,
        "recent_runs": recent_runs,
        "models": models,
        "datasets": [{"slug": d.slug, "name": d.name, "url": urls.dataset(d.slug)}
                     for d in sorted(project.datasets.values(), key=lambda d: d.slug)],
        "activity": activity[:RECENT],
        "counts": {"experiments": len(project.experiments), "runs": len(project.runs),
                   "models": len(project.models), "datasets": len(project.datasets)},
    }
    return Page(url=urls.INDEX, template="index.html", title=project.config.title, context=context, kind="index",
                section="home")


def pages(project: Project) -> Iterator[Page]:
    yield dashboard_page(project)
