"""Site search: what each page tells Pagefind, and a small title/tag index for file://.

Pages mark what Pagefind indexes (``data-pagefind-body`` on the main element of indexed pages) and carry
metadata to filter on (kind, experiment, model, tag, status) that this module computes. Over HTTP the search
box loads Pagefind (the index is built in shards by :mod:`sitegen.search_index`); opened from file://, where
browsers refuse to load its WebAssembly and modules, it falls back to ``data/search-index.js`` (titles, kinds
and tags assigned to a global) and says so.
"""

from __future__ import annotations

from typing import Any, Iterable

from . import urls
from .jsonutil import dumps_for_script
from .model import Project, Run


def _run_pages(project: Project) -> dict[str, Run]:
    return {urls.run(r.experiment, r.id): r for r in project.runs.values()}


def _tag_values(tags: dict[str, Any]) -> list[str]:
    return [f"{k}={v}" for k, v in sorted(tags.items(), key=lambda kv: str(kv[0]))
            if isinstance(v, (str, int, float, bool))]


class SearchFacts:
    """Filters and keywords of each page, from the project (computed once per build)."""

    def __init__(self, project: Project):
        self.runs = _run_pages(project)
        self.experiments = {urls.experiment(slug): e for slug, e in project.experiments.items()}
        self.models = {urls.model(slug): m for slug, m in project.models.items()}
        self.model_versions = {urls.model_version(m.slug, v.version): m
                               for m in project.models.values() for v in m.versions}

    def filters(self, page: Any) -> list[tuple[str, str]]:
        """``(name, value)`` pairs written as ``data-pagefind-meta`` elements of ``page``; several tags are
        joined with ``; ``. (Metadata, not Pagefind filters: Pagefind writes its filter index in a different
        byte order on every run, which would break byte-identical builds; search.js filters on metadata.)"""
        if not getattr(page, "indexed", False):
            return []
        out = [("kind", page.kind)]
        run = self.runs.get(page.url)
        if run is not None:
            out.append(("experiment", run.experiment))
            tags = _tag_values(run.tags)
            if tags:
                out.append(("tag", "; ".join(tags)))
            out.append(("status", run.status))
        elif page.url in self.experiments:
            out.append(("experiment", self.experiments[page.url].slug))
        elif page.url in self.models:
            out.append(("model", self.models[page.url].slug))
        elif page.url in self.model_versions:
            out.append(("model", self.model_versions[page.url].slug))
        return out

    def record(self, page: Any) -> dict[str, Any]:
        """One entry of the file:// fallback index: title, url, kind and the words to match."""
        words: list[str] = []
        run = self.runs.get(page.url)
        if run is not None:
            words += [run.name, run.id, run.experiment, run.status, *_tag_values(run.tags)]
            words += [f"{k}={v}" for k, v in sorted(run.params_flat.items()) if isinstance(v, (str, int, float, bool))]
        return {"title": page.title, "url": page.url, "kind": page.kind, "words": " ".join(words)}


def fallback_index(facts: SearchFacts, pages: Iterable[Any]) -> str:
    """``data/search-index.js``: ``window.SITEGEN_SEARCH = [...]`` (a classic script, loadable from file://)."""
    records = [facts.record(p) for p in sorted(pages, key=lambda p: p.url) if getattr(p, "indexed", False)]
    return "window.SITEGEN_SEARCH = " + dumps_for_script(records) + ";\n"
