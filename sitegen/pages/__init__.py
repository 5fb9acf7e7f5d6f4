"""Page modules: each builds the template context of one kind of page, and nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Page:
    url: str  # site-root path, ends in a file name
    template: str
    title: str
    context: dict[str, Any] = field(default_factory=dict)
    kind: str = "page"  # run, experiment, model, model-version, dataset, comparison, index, ...
    section: str = ""  # which navigation entry is current
    breadcrumbs: list[tuple[str, str]] = field(default_factory=list)
    charts: bool = False  # the page embeds Vega-Lite charts (loads the chart runtime)
    indexed: bool = True  # listed in sitemap.xml and the search index
