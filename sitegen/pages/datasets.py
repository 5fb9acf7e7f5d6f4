"""Dataset pages: datasheet, schema, digest, and the runs that read or wrote the dataset."""

from __future__ import annotations

from typing import Any, Iterator

from .. import urls
from ..model import Dataset, Project
from . import Page
from .common import label, markdown, run_link, to_block


def _uses(dataset: Dataset, project: Project) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Runs whose provenance inputs / outputs carry the dataset's digest (or name it by slug)."""
    readers, writers = [], []
    for uid in sorted(project.runs):
        run = project.runs[uid]
        for direction, bucket in (("inputs", readers), ("outputs", writers)):
            for item in run.provenance.get(direction) or []:
                if not isinstance(item, dict):
                    continue
                if (dataset.digest and item.get("digest") == dataset.digest) or item.get("dataset") == dataset.slug:
                    bucket.append({**run_link(run), "role": item.get("role"), "digest": item.get("digest")})
                    break
    return readers, writers


def dataset_page(dataset: Dataset, project: Project) -> Page:
    readers, writers = _uses(dataset, project)
    context = {
        "dataset": dataset, "description": markdown(dataset.description, level=2),
        "datasheet": [{"key": k, "label": label(k), "block": to_block(v)} for k, v in dataset.datasheet.items()],
        "schema_rows": [{"name": c.get("name"), "type": c.get("type"), "description": c.get("description")}
                        for c in dataset.schema],
        "readers": readers, "writers": writers,
    }
    return Page(url=urls.dataset(dataset.slug), template="dataset.html", title=dataset.name, context=context,
                kind="dataset", section="datasets", breadcrumbs=[("Datasets", urls.DATASETS), (dataset.name, "")])


def index_page(project: Project) -> Page:
    rows = [{"slug": d.slug, "name": d.name, "url": urls.dataset(d.slug), "digest": d.digest, "uri": d.uri,
             "sections": len(d.datasheet)} for d in sorted(project.datasets.values(), key=lambda d: d.slug)]
    return Page(url=urls.DATASETS, template="datasets.html", title="Datasets", context={"datasets": rows},
                kind="datasets", section="datasets", breadcrumbs=[("Datasets", "")])


def pages(project: Project) -> Iterator[Page]:
    yield index_page(project)
    for slug in sorted(project.datasets):
        yield dataset_page(project.datasets[slug], project)
