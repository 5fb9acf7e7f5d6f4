"""``feed.xml``: an Atom feed (RFC 4287) of the newest runs and model versions.

Deterministic: every date comes from the data (a run's start or end time, a version's ``created``); an item
without a date is left out rather than dated by the clock. Links are absolute when the site has a
``base_url`` and relative to the feed (which sits at the site root) otherwise.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from .. import urls
from ..model import Project
from ..pages.common import metric_value
from ..render import fmt_iso, fmt_number

ATOM = "http://www.w3.org/2005/Atom"
MAX_ENTRIES = 100


def _link(base_url: str | None, target: str) -> str:
    return urls.absolute(base_url, target) if base_url else urls.relative(urls.FEED, target)


def _entry_id(base_url: str | None, target: str, kind: str, key: str) -> str:
    return urls.absolute(base_url, target) if base_url else f"tag:sitegen,2024:{kind}/{quote(key, safe='/')}"


def entries(project: Project) -> list[dict[str, Any]]:
    """Feed items, newest first (ties broken by id), at most :data:`MAX_ENTRIES`."""
    items = []
    for run in project.runs.values():
        when = run.end_time or run.start_time
        if when is None:
            continue
        exp = project.experiments.get(run.experiment)
        summary = [f"Status: {run.status}"]
        if exp is not None and exp.primary_metric:
            value = metric_value(run, exp.primary_metric)
            if value is not None:
                summary.append(f"{exp.primary_metric}: {fmt_number(value)}")
        items.append({"kind": "run", "key": run.uid, "target": urls.run(run.experiment, run.id),
                      "title": f"Run {run.name} ({exp.title if exp else run.experiment})", "updated": when,
                      "published": run.start_time or when, "author": run.user, "summary": ". ".join(summary)})
    for model in project.models.values():
        for version in model.versions:
            if version.created is None:
                continue
            summary = [f"Stage: {version.stage}"]
            if version.source_run:
                summary.append(f"source run: {version.source_run}")
            items.append({"kind": "model-version", "key": f"{model.slug}/{version.version}",
                          "target": urls.model_version(model.slug, version.version),
                          "title": f"Model {model.name} version {version.version}", "updated": version.created,
                          "published": version.created, "author": None, "summary": ". ".join(summary)})
    items.sort(key=lambda i: (-i["updated"].timestamp(), i["kind"], i["key"]))
    return items[:MAX_ENTRIES]


def _fallback_time() -> datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return datetime.fromtimestamp(int(epoch) if epoch.isdigit() else 0, tz=timezone.utc)


def to_atom(project: Project) -> str:
    cfg = project.config
    base = cfg.base_url
    items = entries(project)
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            el.text = text
        return el

    sub(feed, "id", base if base else "tag:sitegen,2024:site/" + quote(cfg.title, safe=""))
    sub(feed, "title", f"{cfg.title}: new runs and model versions")
    sub(feed, "updated", fmt_iso(max((i["updated"] for i in items), default=_fallback_time())))
    sub(feed, "generator", "sitegen")
    sub(feed, "link", rel="self", href=_link(base, urls.FEED))
    sub(feed, "link", rel="alternate", type="text/html", href=_link(base, urls.INDEX))
    if not any(i["author"] for i in items):
        sub(sub(feed, "author"), "name", cfg.title)
    for item in items:
        entry = sub(feed, "entry")
        sub(entry, "id", _entry_id(base, item["target"], item["kind"], item["key"]))
        sub(entry, "title", item["title"])
        sub(entry, "updated", fmt_iso(item["updated"]))
        sub(entry, "published", fmt_iso(item["published"]))
        sub(entry, "link", rel="alternate", type="text/html", href=_link(base, item["target"]))
        sub(sub(entry, "author"), "name", str(item["author"] or cfg.title))
        sub(entry, "category", term=item["kind"])
        sub(entry, "summary", item["summary"])
    ET.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"
