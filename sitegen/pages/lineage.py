"""The site-wide lineage page: datasets -> runs -> runs -> model versions, drawn at build time.

Up to :data:`FULL_LIMIT` connected nodes are drawn one by one; above that the runs of each experiment
and the versions of each model fold into cluster nodes (with a count, linking to the experiment or
model page), so the drawing stays readable at thousands of runs. A table lists every model version
with the chain it came from, for reading without the drawing.
"""

from __future__ import annotations

from typing import Any, Iterator

from .. import urls
from ..lineage import DATASET, MODEL, RUN, collapse, model_key, run_key
from ..lineage_svg import render_svg
from ..model import Project
from . import Page
from .provenance import Facts, gather

FULL_LIMIT = 150


def _chain(facts: Facts, slug: str, version: int) -> dict[str, Any]:
    """A model version, its source run, the data that run read and the runs that made that data."""
    project, lineage = facts.project, facts.lineage
    model = project.models[slug]
    v = model.version(version)
    row: dict[str, Any] = {"label": f"{model.name} v{version}", "url": urls.model_version(slug, version),
                           "aliases": model.aliases_of(version), "run": None, "inputs": []}
    run = project.runs.get(v.source_run or "") if v else None
    if run is None:
        return row
    row["run"] = {"label": run.name, "url": urls.run(run.experiment, run.id), "experiment": run.experiment}
    for key in sorted(lineage.graph.predecessors(run_key(run.uid))):
        node = lineage.node(key)
        producers = [lineage.node(p) for p in sorted(lineage.graph.predecessors(key))
                     if lineage.node(p).kind == RUN]
        row["inputs"].append({"label": node.label, "url": node.url, "named": node.kind == DATASET,
                              "producers": [{"label": p.label, "url": p.url} for p in producers]})
    return row


def lineage_page(project: Project, facts: Facts) -> Page:
    lineage = facts.lineage
    connected = lineage.connected()
    total = connected.number_of_nodes()
    collapsed = total > FULL_LIMIT
    drawn = collapse(connected, project, limit=FULL_LIMIT) if collapsed else connected
    kinds = [lineage.node(k).kind for k in lineage.graph]
    chains = [_chain(facts, slug, v.version) for slug in sorted(project.models)
              for v in reversed(project.models[slug].versions) if model_key(slug, v.version) in lineage]
    isolated = sorted(k for k in lineage.graph if lineage.graph.degree(k) == 0 and lineage.node(k).kind == RUN)
    context = {
        "svg": render_svg(drawn, urls.LINEAGE, svg_id="lineage-site", title="Lineage of the whole site"),
        "collapsed": collapsed, "total_nodes": total, "drawn_nodes": drawn.number_of_nodes(),
        "counts": {"runs": kinds.count(RUN), "datasets": kinds.count(DATASET) + kinds.count("data"),
                   "versions": kinds.count(MODEL), "edges": lineage.graph.number_of_edges()},
        "isolated": len(isolated), "chains": chains, "prov_json": urls.PROV_JSON,
        "stale": [{"run": c.run, "url": urls.run(*c.run.split("/", 1)), "dataset": c.dataset,
                   "dataset_url": urls.dataset(c.dataset), "name": c.name} for c in lineage.stale_inputs],
    }
    return Page(url=urls.LINEAGE, template="lineage.html", title="Lineage", context=context, kind="lineage",
                section="lineage", breadcrumbs=[("Lineage", "")])


def pages(project: Project, facts: Facts | None = None) -> Iterator[Page]:
    yield lineage_page(project, facts or gather(project))
