"""``sitegen build``: source -> load -> model -> pages -> render -> write, with a summary of what happened."""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from . import diff, fastpath, markup, urls, versions
from . import headers
from . import search as site_search
from .config import load_config
from .diagnostics import Diagnostic, Diagnostics, SitegenError
from .export import feed, hf_card, run_files
from .export import runs as runs_export
from .export import summaries as summaries_export
from .model import Project, Run
from .monitoring import project_alerts
from .cache import (BuildCache, cache_file, digest_json, memos, merge_fresh, take_fresh, template_cache,
                    tree_digest)
from .cache import memo as memo_of
from .cache import scope as cache_scope
from .output import BuildLock, SiteWriter, check_output, fingerprint
from .pages import Page, compare, dashboard, datasets, experiment, models, notfound
from .pages import run as run_pages
from .export import prov as prov_export
from .pages import history as history_pages
from .pages import lineage as lineage_pages
from .pages import provenance as provenance_pages
from .forked import forked_map
from .render import Partials, make_environment, printable, rendering
from .store.load import load_project
from .theme import Theme, resolve_theme


class BuildFailed(SitegenError):
    """``--strict`` found problems; nothing was written."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__(f"{len(diagnostics)} problem(s) in the source; with --strict nothing was built")
        self.diagnostics = diagnostics


@dataclass
class BuildResult:
    output: Path
    pages: int
    files: int
    bytes: int
    seconds: float
    diagnostics: list[Diagnostic] = field(default_factory=list)
    alerts: list[Any] = field(default_factory=list)  # monitoring.Alert: thresholds breached by a model
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage (load, pages, runs, ...)
    written: int = 0  # files actually written (the rest were unchanged since the previous build)

    @property
    def warnings(self) -> list[Diagnostic]:
        """Every problem found; the build skipped only the broken items."""
        return list(self.diagnostics)


def _nav(project: Project) -> list[dict[str, str]]:
    nav = [{"key": "home", "label": "Dashboard", "url": urls.INDEX}]
    nav.append({"key": "experiments", "label": "Experiments", "url": urls.INDEX + "#experiments"})
    if project.models:
        nav.append({"key": "models", "label": "Models", "url": urls.MODELS})
    if project.datasets:
        nav.append({"key": "datasets", "label": "Datasets", "url": urls.DATASETS})
    nav.append({"key": "lineage", "label": "Lineage", "url": urls.LINEAGE})
    nav.append({"key": "history", "label": "History", "url": urls.HISTORY})
    nav.append({"key": "compare", "label": "Compare", "url": urls.COMPARE})
    return nav


def publish_assets(theme: Theme, writer: SiteWriter) -> dict[str, str]:
    """Copy the theme's static files under content-hashed names; return logical name -> published path."""
    manifest = {}
    for name, path in theme.static_files().items():
        data = path.read_bytes()
        target = fingerprint(name, data) if not name.startswith(("vendor/LICENSE", "LICENSE")) else f"assets/{name}"
        writer.write_bytes(target, data)
        manifest[name] = target
    return manifest


def _sitemap(base_url: str, pages: Iterable[Page]) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for page in sorted(pages, key=lambda p: p.url):
        if page.indexed:
            loc = urls.absolute(base_url, page.url).replace("&", "&amp;")
            lines.append(f"  <url><loc>{loc}</loc></url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


class Renderer:
    """Renders pages with the shared site context."""

    def __init__(self, theme: Theme, project: Project, assets: dict[str, str], bytecode_dir: Path | None = None):
        self.env = make_environment(theme, bytecode_dir)
        cfg = project.config
        self.site = {"title": cfg.title, "base_url": cfg.base_url, "repo_url": cfg.repo_url, "nav": _nav(project),
                     "version": None}
        self.env.globals["partial"] = Partials(self.env, self.site)
        self.assets = assets
        self.search = site_search.SearchFacts(project)

    def render(self, page: Page) -> bytes:
        template = self.env.get_template(page.template)
        context: dict[str, Any] = {
            "site": self.site, "assets": self.assets, "page_url": page.url, "page": page,
            "title": page.title, "section": page.section, "breadcrumbs": page.breadcrumbs,
            "canonical": urls.absolute(self.site["base_url"], page.url) if self.site["base_url"] else None,
            "absolute_base": self.site["base_url"] if page.kind == "404" else None,
            "charts": [], "search_filters": self.search.filters(page),
        }
        context.update(page.context)
        with rendering(page.url, self.assets, context["absolute_base"]):
            return printable(template.render(context))


# -- run pages, rendered in parallel ------------------------------------------------------------------
# Worker processes are forked with the loaded project, renderer and facts in memory (copy-on-write);
# each renders a chunk of runs straight into the staging directory and returns what it wrote.
_JOB: dict[str, Any] = {}
CHUNK = 16


def _page_key(uid: str, prov: dict[str, Any] | None = None) -> str | None:
    """The cache key of a run's published files: a digest of everything they show. The run's folder (its
    digest) and the site-wide inputs (global key: theme, assets, site options, config) are in it, so the
    provenance facts (``prov``, or made here) count without the reproduce script, made from those alone, and
    with what the lineage drawing is made from rather than the drawing (laying it out is the slow part)."""
    project, facts = _JOB["project"], _JOB["facts"]
    run = project.runs[uid]
    if _JOB.get("cache") is None or uid not in project.run_digests:
        return None
    url = urls.run(run.experiment, run.id)
    if prov is None:
        prov = provenance_pages.run_provenance(facts, run, url, script=False, draw=False)
    else:  # what run_provenance(script=False, draw=False) gives, from the drawn provenance
        prov = {**{k: v for k, v in prov.items() if k != "svg_made_from"}, "reproduce": None,
                "svg": prov["svg_made_from"]}
    exp = project.experiments[run.experiment]
    neighbours = [(u, project.runs[u].name) for u in [run.parent, *run.children] if u in project.runs]
    return digest_json([_JOB["global_key"], project.run_digests[uid], exp.slug, exp.title, exp.primary_metric,
                        exp.goal, neighbours, prov])


def _carry_over(uid: str, writer: SiteWriter) -> tuple[Page, dict[str, Any]] | None:
    """When the cache knows this run with the same key and the previous site still has exactly the files
    it wrote, nothing is read, rendered or written: the files are carried over as they are."""
    cache: BuildCache | None = _JOB.get("cache")
    key = _page_key(uid)
    record = cache.page(uid, key) if cache is not None and key is not None else None
    if record is None or not writer.keep(record["files"], record["bytes"]):
        return None
    return Page(**record["page"]), record


def _render_run_files(uids: list[str], writer: SiteWriter) -> list[tuple[str, Page, dict[str, Any]]]:
    """Everything published for these runs: each one's page, metrics.csv, data.js, PROV-JSON and artifact
    files. Made in three passes over the runs (every page's context, then every page's HTML, then the
    files), so that each pass's code and data stay in the processor's caches: run after run, 1,000 run
    pages took a fifth longer.

    Returns, for each run, its page (without its context) and the cache record of what was written."""
    project, renderer = _JOB["project"], _JOB["renderer"]
    pages = run_page_contexts(project, _JOB["facts"], uids)
    html = [renderer.render(page) for page in pages]
    return [(uid, *_publish_run(project.runs[uid], page, page_html, writer))
            for uid, page, page_html in zip(uids, pages, html)]


def run_page_contexts(project: Project, facts: Any, uids: list[str]) -> list[Page]:
    """The pages of these runs with their whole context, provenance included (the first pass of
    :func:`_render_run_files`; the benchmark's HTML-only measurement makes them the same way)."""
    pages = []
    for uid in uids:
        run = project.runs[uid]
        page = run_pages.run_page(run, project)
        page.context["prov"] = provenance_pages.run_provenance(facts, run, page.url)
        pages.append(page)
    return pages


def _publish_run(run: Run, page: Page, html: bytes, writer: SiteWriter) -> tuple[Page, dict[str, Any]]:
    """Write one run's rendered page and its other files (see :func:`_render_run_files`)."""
    part = writer.child()
    prov = page.context["prov"]
    key = _page_key(run.uid, prov)
    part.write_bytes(page.url, html)
    data = _run_data_files(run, part)
    part.write_text(urls.run_prov(run.experiment, run.id), prov_export.run_document(_JOB["project"], run))
    writer.merge(part.part())
    light = {"url": page.url, "template": page.template, "title": page.title, "kind": page.kind,
             "section": page.section, "indexed": page.indexed}
    # only what sitemap and search need is kept: the context (history, charts) is dropped here
    record = {"key": key, "files": part.manifest, "bytes": part.bytes, "page": light}
    if data is not None:
        record["data"] = data
    return Page(**light), record


def _run_data_files(run: Run, writer: SiteWriter) -> dict[str, Any] | None:
    """A run's files made from its data alone: ``data.js``, ``metrics.csv`` and the copied artifacts.

    When only the run's YAML changed since the last build (its folder's data digest is the same) and the
    previous site still has exactly these files, they are carried over: the metric history is not read.
    Returns their cache record (None without a build cache)."""
    cache: BuildCache | None = _JOB.get("cache")
    digest = _JOB["project"].data_digests.get(run.uid)
    key = digest_json([_JOB["global_key"], digest]) if cache is not None and digest else None
    before = cache.pages.get(run.uid) if key is not None else None
    known = before.get("data") if before is not None else None
    if isinstance(known, dict) and known.get("key") == key:
        files = {path: before["files"].get(path) for path in known.get("paths", ())}  # digests: the page's record
        if None not in files.values() and writer.keep(files, known["bytes"]):
            return known
    part = writer.child()
    history = run_pages.load_history(run)
    run_files.publish(run, history, part)
    part.write_text(urls.run_data_js(run.experiment, run.id), compare.data_script(run, history))
    writer.merge(part.part())
    return {"key": key, "paths": sorted(part.manifest), "bytes": part.bytes} if key is not None else None


def _render_chunk(uids: list[str]) -> tuple[list[tuple[str, Page, dict[str, Any]]], dict[str, Any], dict[str, Any]]:
    part = _JOB["writer"].child()
    done = _render_run_files(uids, part)
    return done, part.part(), take_fresh()


def _worker_init() -> None:
    """In a forked worker: let go of the build lock (so a killed build frees it at once) and die with the
    parent (Linux), so no orphan keeps writing into a staging directory the next build cleans up."""
    take_fresh()  # what the parent's memos hold so far is the parent's to keep
    lock_fd = _JOB.get("lock_fd")
    if lock_fd is not None:
        try:
            os.close(lock_fd)
        except OSError:
            pass
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _render_runs(project: Project, renderer: "Renderer", facts: Any, writer: SiteWriter,
                 jobs: int | None, cache: BuildCache | None = None, global_key: str = "") -> Iterable[Page]:
    """Render every run's files, in ``jobs`` processes (default: all cores; this one and forked workers);
    yields pages as they finish.

    The output does not depend on ``jobs``: every run's files are made the same way in any process."""
    uids = sorted(project.runs)
    _JOB.update(project=project, renderer=renderer, facts=facts, writer=writer, cache=cache, global_key=global_key)

    def keep(uid: str, record: dict[str, Any]) -> None:
        if cache is not None and record.get("key"):
            cache.new_pages[uid] = record

    try:
        if cache is not None and cache.pages:  # runs whose files are unchanged are carried over right here
            to_render = []
            for uid in uids:
                carried = _carry_over(uid, writer)
                if carried is None:
                    to_render.append(uid)
                    continue
                keep(uid, carried[1])
                yield carried[0]
            uids = to_render
        jobs = max(1, min(jobs or os.cpu_count() or 1, len(uids) // CHUNK or 1))
        chunks = [uids[i:i + CHUNK] for i in range(0, len(uids), CHUNK)]
        if jobs == 1 or "fork" not in multiprocessing.get_all_start_methods():
            for chunk in chunks:
                for uid, page, record in _render_run_files(chunk, writer):
                    keep(uid, record)
                    yield page
            return
        # The first chunk is rendered here before forking: the templates run pages use are compiled, and the
        # chrome and drawings they share are made, once for all processes.
        for done, part, fresh in forked_map(_render_chunk, chunks, jobs, init=_worker_init, warm_up=True):
            writer.merge(part)
            merge_fresh(fresh)
            for uid, page, record in done:
                keep(uid, record)
                yield page
    finally:
        _JOB.clear()


def _start_search_index(writer: SiteWriter, jobs: int | None, views: Path | None) -> Any:
    """The Pagefind index of the new site, in shards, started as groups of pages are written: only shards
    whose pages changed are indexed again (see :class:`sitegen.search_index.Indexing`). ``views``: where the
    shards' views of their pages are kept between builds (in the build cache)."""
    from . import search_index

    return search_index.Indexing(writer, jobs, views)


def _site_pages(project: Project, facts: Any, version_context: Any) -> list[Page]:
    """Every page that is not a run page: dashboard, experiments, models, datasets, comparisons, lineage,
    history, 404 (and a version's extra pages)."""
    return [*dashboard.pages(project), *experiment.pages(project), *models.pages(project),
            *datasets.pages(project), *compare.pages(project), *notfound.pages(project),
            *versions.extra_pages(project, version_context), *lineage_pages.pages(project, facts),
            *history_pages.pages(project, facts)]


def _write_pages(pages: list[Page], facts: Any, renderer: Renderer, writer: SiteWriter,
                 progress: Callable[[], None] | None = None) -> None:
    """Render and write pages that are not run pages (see :func:`_site_pages`)."""
    for page in pages:
        provenance_pages.enrich(page, facts)
        writer.write_bytes(page.url, renderer.render(page))
        if progress:
            progress()


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Collect cyclic garbage less often while a build runs. Python's defaults (a collection every 700
    new objects, a full one every 100 of those) are made for small programs: with a loaded project of
    10,000 runs, its full collections scanned the same millions of objects again and again, a sixth of a
    rebuild. A build makes little cyclic garbage; the caller's settings are put back afterwards."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], 100_000), max(before[1], 50), max(before[2], 100))
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _renderer_versions() -> list[str]:
    """The libraries whose output a cached record holds (templates, Markdown, sanitizer): part of the build
    cache's scope, so an upgrade (a sanitizer fix above all) makes the next build cold."""
    import jinja2

    return [f"jinja2 {jinja2.__version__}", *markup.versions()]


def build(source: str | Path = ".", output: str | Path | None = None, *, base_url: str | None = None,
          strict: bool = False, jobs: int | None = None, quiet: bool = True,
          progress: Callable[[int, int], None] | None = None, version: str | None = None,
          aliases: Iterable[str] = (), rev: str | None = None, search: bool = True,
          version_context: Any = None, cache: bool = True, prepared: Any = None) -> BuildResult:
    """Build the site of ``source`` into ``output`` (default: the config's ``output``, relative to the source).

    Problems in the source become diagnostics and only the broken items are skipped; with ``strict`` any
    problem raises :class:`BuildFailed` before anything is written. The site is written to a staging
    directory and swapped in, so a failed build leaves the previous site as it was.

    ``rev`` builds the source as of a git revision (the working tree is not touched); ``version`` writes
    into ``<output>/<version>/`` beside other versions (see :mod:`sitegen.versions`); ``search`` runs Pagefind.
    ``cache`` keeps what was read and rendered in ``.<output>.cache/`` beside the output, so the next build
    only re-reads and re-renders runs whose files (or whose neighbours, config or theme) changed.
    ``prepared`` is :func:`sitegen.fastpath.prepare`'s result when the caller (the CLI) has just computed it
    and found the site out of date; the build then does not compute the source's fingerprint again.
    """
    started = time.perf_counter()
    source = Path(source)
    if not source.is_dir():  # before anything is written beside it (a mistyped path is not a new source)
        raise SitegenError(f"source {str(source)!r} is not a directory")
    kwargs = dict(base_url=base_url, strict=strict, jobs=jobs, quiet=quiet, progress=progress, search=search,
                  cache=cache)
    if rev is not None:
        from .gitrev import checkout
        with checkout(source, rev) as tree:
            out = Path(output) if output is not None else source / load_config(tree, Diagnostics()).output
            return build(tree, out, version=version, aliases=aliases, **kwargs)
    if version is not None:
        from .versions import build_version
        out = Path(output) if output is not None else source / load_config(source, Diagnostics()).output
        return build_version(build, source, out, version, list(aliases), **kwargs)
    if not cache or version_context is not None:
        prepared = None
    elif prepared is None:
        prepared = fastpath.prepare(source, output, base_url=base_url, search=search)
        unchanged = fastpath.unchanged(prepared, output, strict=strict, started=started)
        if unchanged is not None:
            return unchanged  # type: ignore[return-value]  # same fields as a BuildResult
    with _fewer_collections(), contextlib.ExitStack() as stack:
        out_hint = Path(output) if output is not None else source / load_config(source, Diagnostics()).output
        build_cache = BuildCache(cache_file(out_hint), cache_scope(
            source, base_url, version_context.name if version_context else None, _renderer_versions())) \
            if cache else None
        if build_cache is not None:
            markup.forget()
            stack.enter_context(memos(build_cache))
            # where compiled templates were kept before they moved to the machine's cache (template_cache)
            shutil.rmtree(cache_file(out_hint).parent / "templates", ignore_errors=True)
        timings: dict[str, float] = {}
        mark = time.perf_counter()

        def lap(stage: str) -> None:
            nonlocal mark
            now = time.perf_counter()
            timings[stage] = round(timings.get(stage, 0) + now - mark, 3)  # a stage may come in two parts
            mark = now

        project = load_project(source, cache=build_cache, jobs=jobs, tree_digests=prepared[3] if prepared else None,
                               data_digests=prepared[4] if prepared else None)
        lap("load")
        config = project.config
        if base_url:
            config.base_url = base_url if base_url.endswith("/") else base_url + "/"
        if strict and project.diagnostics:
            raise BuildFailed(list(project.diagnostics))
        out = Path(output) if output is not None else source / config.output
        check_output(out, source)
        theme = resolve_theme(config.theme, source)
        with BuildLock(out.resolve()) as lock, SiteWriter(out) as writer:
            _JOB["lock_fd"] = lock.fileno()
            assets = publish_assets(theme, writer)
            renderer = Renderer(theme, project, assets, template_cache(_renderer_versions()))
            facts = provenance_pages.gather(project)  # lineage graph, one git log pass, integrity checks
            lap("facts")
            renderer.site["version"] = version_context.site_context() if version_context else None
            # A rebuild with search (the build cache knows pages) carries most run pages over, and Pagefind
            # then takes more of the other cores than the pages take of this one: the run tables are made
            # here, after the pages, and the other exports in one process beside them. A cold build makes
            # two groups beside its run pages' processes.
            views = cache_file(out).parent / "search-views" if build_cache is not None else None  # kept views
            early = search and build_cache is not None and bool(build_cache.pages)
            here = (_run_tables,) if early else ()
            if build_cache is not None and prepared is not None:
                _EXPORT_KEYS.update(_export_keys(project, prepared[5]))
                stack.callback(_EXPORT_KEYS.clear)
            finish_exports = _start_exports(project, writer, REBUILD_GROUPS if early else EXPORT_GROUPS)
            indexing = None
            try:
                site_pages = _site_pages(project, facts, version_context)
                total, done = len(site_pages) + len(project.runs), 0

                def advance() -> None:
                    nonlocal done
                    done += 1
                    if progress:
                        progress(done, total)

                # A rebuild carries most run pages over: the other pages are written first, so that their
                # search shard is indexed while the runs are checked and the changed ones rendered. (Pagefind
                # is only started here: the indexing threads start after any worker process is forked.)
                if early:
                    _write_pages(site_pages, facts, renderer, writer, advance)
                    indexing = _start_search_index(writer, jobs, views)
                    indexing.add(writer.manifest, now=True)  # the main shard: no run page is written yet
                lap("site_pages")

                themes = prepared[5] if prepared else {}  # digested by the no-op check already
                global_key = digest_json([[themes.get(str(d)) or tree_digest(d) for d in theme.dirs], assets,
                                          renderer.site,
                                          (source / "sitegen.yaml").read_bytes().hex()
                                          if (source / "sitegen.yaml").is_file() else None])
                all_pages = list(site_pages)
                for page in _render_runs(project, renderer, facts, writer, jobs, build_cache, global_key):
                    all_pages.append(page)
                    advance()
                lap("run_pages")
                # Run pages are written: index them for search while the other pages are made. No process is
                # forked from here on, so the indexing threads never meet a fork.
                if search and indexing is None:
                    indexing = _start_search_index(writer, jobs, views)
                if indexing is not None:
                    indexing.add((path for path in writer.manifest if indexing.in_run_shard(path)), eager=early)
                if not early:
                    _write_pages(site_pages, facts, renderer, writer, advance)
                    lap("site_pages")
                    if indexing is not None:
                        indexing.add(writer.manifest)  # the main shard: every other page
                for group in here:
                    group(project, writer)
                _page_exports(config, renderer, writer, all_pages, version_context)
                finish_exports()
                finish_exports = None
                if indexing is not None:
                    indexing.finish()
                    indexing = None
            finally:  # the build failed: stop what still runs beside it
                if finish_exports is not None and hasattr(finish_exports, "cancel"):
                    finish_exports.cancel()
                if indexing is not None:
                    indexing.cancel()
            lap("exports_and_search")
            writer.publish()
            if build_cache is not None:
                build_cache.save()
            lap("publish")
            if prepared is not None:
                fastpath.save(prepared[1], prepared[0], prepared[2], {
                    "pages": len(all_pages), "files": writer.files, "bytes": writer.bytes,
                    "diagnostics": [[d.path, d.line, d.col, d.message, d.severity] for d in project.diagnostics],
                    "alerts": [[a.model, a.message] for a in project_alerts(project)]})
        return BuildResult(output=out, pages=len(all_pages), files=writer.files, bytes=writer.bytes,
                           timings=timings, written=writer.written,
                           seconds=time.perf_counter() - started, diagnostics=list(project.diagnostics),
                           alerts=project_alerts(project))


def _run_tables(project: Project, writer: SiteWriter) -> None:
    """data/runs.csv, data/runs.json and the snapshot `sitegen diff` reads."""
    records = runs_export.records(project)
    writer.write_text(urls.RUNS_CSV, runs_export.to_csv(project, records))
    writer.write_text(urls.RUNS_JSON, runs_export.to_json(project, records))
    writer.write_text(urls.SNAPSHOT, diff.snapshot_json(project))


_EXPORT_KEYS: dict[str, str] = {}  # the running build's (see _export_keys), inherited by the export processes


def _export_keys(project: Project, parts: dict[str, str | None]) -> dict[str, str]:
    """What each kept group of exports is made from (see :func:`_made_or_kept`), as a digest: an experiment's
    summaries, of its runs' folders (their build-cache digests), its title, primary metric and goal; the
    Hugging Face cards and the PROV-JSON of a model's versions, of its folder, the ``datasets`` folder and its
    versions' source runs.
    ``parts``: the digests of the source's parts the no-op check made (sitegen.yaml is in every key; sitegen's
    code and libraries are in the build cache's scope, which holds the kept records)."""
    config = parts.get("sitegen.yaml")
    keys = {}
    for slug, exp in project.experiments.items():
        runs = sorted((r.uid, project.run_digests.get(r.uid)) for r in exp.runs)
        if all(digest for _uid, digest in runs):
            keys[f"summaries/{slug}"] = digest_json(["summaries", config, slug, exp.title, exp.primary_metric,
                                                     exp.goal, runs])
    for slug, model in project.models.items():
        folder = parts.get(f"models/{slug}")
        if folder is not None:
            sources = sorted({v.source_run for v in model.versions if v.source_run})
            made_from = [config, folder, parts.get("datasets"),
                         [(uid, project.run_digests.get(uid)) for uid in sources]]
            keys[f"model-cards/{slug}"] = digest_json(["model-cards", *made_from])
            keys[f"model-prov/{slug}"] = digest_json(["model-prov", *made_from])
    return keys


def _made_or_kept(writer: SiteWriter, name: str, make: Callable[[], Iterable[tuple[str, str]]]) -> None:
    """Write the files ``make`` gives, unless the previous build made them from the same inputs (the key
    ``name`` has in :data:`_EXPORT_KEYS`) and the previous site still has exactly them: they are then carried
    over, not made again. (An experiment's summaries and the model cards took a tenth of a rebuild's work
    after one run changed, at 1,000 runs.)"""
    key, memo = _EXPORT_KEYS.get(name), memo_of("export")
    record = memo.known.get(key) if key is not None and memo is not None else None
    if (record is not None and isinstance(record.get("files"), dict) and isinstance(record.get("bytes"), int)
            and writer.keep(record["files"], record["bytes"])):
        memo.put(key, record)  # used by this build: kept for the next
        return
    part = writer.child()
    for path, text in make():
        part.write_text(path, text)
    made = part.part()
    writer.merge(made)
    if key is not None and memo is not None:
        memo.put(key, {"files": made["manifest"], "bytes": made["bytes"]})


def _data_exports(project: Project, writer: SiteWriter) -> None:
    """The run tables' data (data/summaries/<exp>.js, for run tables and ad-hoc comparisons), model cards in
    Hugging Face format, the feed and the headers file."""
    for slug in sorted(project.experiments):
        _made_or_kept(writer, f"summaries/{slug}", lambda slug=slug: [
            (urls.experiment_summaries_js(slug), summaries_export.script(slug, project))])
    for slug in sorted(project.models):  # models/<m>/<n>/README.md, Hugging Face card format
        _made_or_kept(writer, f"model-cards/{slug}", lambda slug=slug: hf_card.files(project, slug))
    writer.write_text(urls.FEED, feed.to_atom(project))
    writer.write_text(headers.HEADERS_FILE, headers.headers_file())


def _prov_exports(project: Project, writer: SiteWriter) -> None:
    """W3C PROV-JSON of every model version and of the whole site (each run's is written with its page)."""
    for slug in sorted(project.models):
        _made_or_kept(writer, f"model-prov/{slug}", lambda slug=slug: [
            (urls.model_version_prov(slug, v.version), prov_export.version_document(project, slug, v))
            for v in project.models[slug].versions])
    writer.write_text(urls.PROV_JSON, prov_export.site_document(project))


ExportGroup = tuple[Callable[[Project, SiteWriter], None], ...]
# The files made from the project alone, in two groups of about equal cost (the whole-site PROV document
# is about half of it), each written by a process of its own beside a cold build's pages. A rebuild with
# search makes the run tables itself, after its pages (see build()).
EXPORT_GROUPS: tuple[ExportGroup, ...] = ((_run_tables, _data_exports), (_prov_exports,))
REBUILD_GROUPS: tuple[ExportGroup, ...] = ((_data_exports, _prov_exports),)


def _page_exports(config: Any, renderer: Renderer, writer: SiteWriter, all_pages: list[Page],
                  version_context: Any) -> None:
    """The files made from the list of pages: sitemap, the file:// search index, the version's page list."""
    if config.base_url:
        writer.write_text(urls.SITEMAP, _sitemap(config.base_url, all_pages))
    writer.write_text(urls.SEARCH_FALLBACK, site_search.fallback_index(renderer.search, all_pages))
    if version_context is not None:
        version_context.pages = sorted(p.url for p in all_pages)
        writer.write_text(urls.PAGES_MANIFEST,
                          versions.pages_manifest(version_context.name, version_context.pages))


def _exports_process(conn: Any, group: ExportGroup) -> None:
    """In a forked process: write one group of exports and send back what was written (or the error)."""
    _worker_init()
    try:
        part = _JOB["writer"].child()
        for write in group:
            write(_JOB["project"], part)
        conn.send(("ok", (part.part(), take_fresh())))
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
        conn.send(("error", exc))
    finally:
        conn.close()


def _start_exports(project: Project, writer: SiteWriter,
                   groups: Iterable[ExportGroup] = EXPORT_GROUPS) -> Callable[[], None]:
    """Start writing the project's exports beside the pages (forked processes, one an export group, so
    they take no time of the pages when a core is free); returns the function that waits for them and adds
    them to the site (in group order, so the result does not depend on which ends first)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        def write_all() -> None:
            for group in groups:
                for write in group:
                    write(project, writer)
        return write_all
    ctx = multiprocessing.get_context("fork")
    _JOB.update(project=project, writer=writer)
    running = []
    for group in groups:
        receive, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_exports_process, args=(send, group), daemon=True)
        proc.start()
        send.close()
        running.append((proc, receive))

    def finish() -> None:
        parts = []
        for proc, receive in running:
            try:
                status, value = receive.recv()
            except EOFError:
                proc.join()
                raise SitegenError(f"writing the site's exports failed (the process exited with {proc.exitcode})") \
                    from None
            proc.join()
            if status == "error":
                raise value
            parts.append(value)
        for part, fresh in parts:
            writer.merge(part)
            merge_fresh(fresh)

    def cancel() -> None:  # the build failed meanwhile
        for proc, _receive in running:
            proc.kill()
            proc.join()

    finish.cancel = cancel
    return finish
