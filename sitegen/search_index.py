"""The Pagefind index of a built site, in shards, so a rebuild re-indexes only what changed.

Layout (site-root paths)::

    pagefind/                          main shard: every page outside runs/ and models/; its pagefind.js is
                                       what the search box loads
    pagefind/models/<n>/               model shard n (1, 2, ...): the registry's pages, whole models in slug
                                       order, about MODEL_PAGES_PER_SHARD a shard (data files only, like a
                                       run shard). A run edited changes its experiment's page, and only a
                                       model's source run changes model pages: the main shard re-indexed
                                       is small, and a model's source run re-indexes its model's shard
    pagefind/runs/<experiment>/<n>/    run shard n (1, 2, ...) of an experiment: its run pages in path order,
                                       RUNS_PER_SHARD a shard (data files only: entry, meta, index, fragments)
    pagefind/sitegen-shards.json       SHARDS_FILE: the shards the browser merges into the main index
                                       (Pagefind's ``mergeIndex``), and the key of every shard's input

A shard's key is a digest of its input pages (paths and content digests), the Pagefind version and the
options it runs with. A shard whose key equals the previous build's (and whose files are still in place) is
carried over as it is; the others are indexed by Pagefind processes, each over a directory of hard links to
just that shard's pages, at most one per core at once, while the build writes its remaining files. Memory
is bounded by the shard size (Pagefind holds a whole index in memory: about 0.3 MB a run page).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Iterable

from .diagnostics import SitegenError

PAGEFIND_DIR = "pagefind"
SHARDS_FILE = f"{PAGEFIND_DIR}/sitegen-shards.json"
SHARDS_FORMAT = "sitegen.search-shards/1"
RUN_SHARDS = "runs"  # run shards live in pagefind/runs/<experiment>/<n>/
MODEL_SHARD = "models"  # the registry's pages: pagefind/models/<n>/
MODEL_PAGES_PER_SHARD = 20  # what one model's source run re-indexes (Pagefind: ~2 ms of CPU a page)
RUNS_PER_SHARD = 500  # bounds one Pagefind process (~150 MB, ~1.2 s) and what one changed run re-indexes
MAX_INDEXERS = 8  # Pagefind processes at once, at most (and at most one per core)
# Result links end in a file name, like every link of the site; output is written where the shard goes.
PAGEFIND_OPTIONS = ("--silent", "--keep-index-url")
# What a merged (non-primary) index needs; the JS, CSS and WebAssembly come from the main shard.
_SHARD_DATA = ("pagefind-entry.json", "index/", "fragment/", "filter/")


@dataclass(frozen=True)
class Shard:
    """One Pagefind index: ``name`` is its folder under pagefind/ ("" for the main shard)."""

    name: str
    pages: tuple[str, ...]  # site paths of the HTML pages it indexes, sorted

    @property
    def prefix(self) -> str:
        return f"{PAGEFIND_DIR}/{self.name}".rstrip("/")

    @property
    def main(self) -> bool:
        return not self.name


def in_run_shard(path: str) -> bool:
    """Whether a page of the site goes into a run shard (``runs/<experiment>/...``) or the main shard."""
    parts = path.split("/", 2)
    return parts[0] == "runs" and len(parts) == 3


def plan(html_paths: Iterable[str], per_shard: int = RUNS_PER_SHARD,
         model_pages: int = MODEL_PAGES_PER_SHARD) -> list[Shard]:
    """The shards of a site with these HTML pages: the main shard first, the model registry's, then each
    experiment's run shards.

    A run page is ``runs/<experiment>/...``; an experiment's pages are cut, in path order (run ids made by
    the tracker sort by start time, so new runs land in the last shard), into shards of ``per_shard``.
    The registry's pages (``models/...``) are cut between models, in slug order, into shards of about
    ``model_pages`` (a model's pages always share one; the registry's index page comes first)."""
    main: list[str] = []
    models: list[str] = []
    runs: dict[str, list[str]] = {}
    for path in html_paths:
        if in_run_shard(path):
            runs.setdefault(path.split("/")[1], []).append(path)
        elif path.startswith(MODEL_SHARD + "/"):
            models.append(path)
        else:
            main.append(path)
    if len(models) <= 1:  # a registry without models (its index page alone) is not worth a shard to merge
        main, models = main + models, []
    shards = [Shard("", tuple(sorted(main)))]
    by_model: dict[str, list[str]] = {}
    for path in models:
        parts = path.split("/")
        by_model.setdefault(parts[1] if len(parts) > 2 else "", []).append(path)  # "": the registry's index
    groups: list[list[str]] = []
    for model in sorted(by_model):
        if not groups or len(groups[-1]) + len(by_model[model]) > model_pages:
            groups.append([])
        groups[-1] += by_model[model]
    shards += [Shard(f"{MODEL_SHARD}/{n}", tuple(sorted(pages))) for n, pages in enumerate(groups, start=1)]
    for experiment in sorted(runs):
        pages = sorted(runs[experiment])
        for n, start in enumerate(range(0, len(pages), per_shard), start=1):
            shards.append(Shard(f"{RUN_SHARDS}/{experiment}/{n}", tuple(pages[start:start + per_shard])))
    return shards


def _plan_order(shard: Shard) -> tuple[int, str, int]:
    """Where :func:`plan` puts a shard: main, model shards by number, then run shards by experiment and number."""
    if shard.main:
        return (0, "", 0)
    if shard.name.startswith(MODEL_SHARD + "/"):
        return (1, "", int(shard.name.split("/")[1]))
    _, experiment, number = shard.name.split("/")
    return (2, experiment, int(number))


def _shard_of(relpath: str) -> str | None:
    """The shard whose output ``relpath`` (a site path under pagefind/) is, or None for SHARDS_FILE."""
    if relpath == SHARDS_FILE:
        return None
    parts = relpath.split("/")
    if len(parts) > 4 and parts[1] == RUN_SHARDS:
        return "/".join(parts[1:4])
    if len(parts) > 3 and parts[1] == MODEL_SHARD:
        return "/".join(parts[1:3])
    return ""


@cache
def pagefind_executable() -> str:
    """The Pagefind binary (from the pagefind package, or PAGEFIND_BINARY_PATH), run directly: going
    through ``python -m pagefind`` costs a Python start-up (0.1 s) per shard. Looked up as the package's
    ``pagefind.service.get_executable`` does, asking the binary packages first: ``pagefind.service``
    itself imports asyncio and more (12 ms)."""
    binary = None
    if os.environ.get("PAGEFIND_BINARY_PATH") is None:
        for package in ("pagefind_bin_extended", "pagefind_bin"):
            try:
                binary = __import__(package).get_executable()
                break
            except (ImportError, OSError):
                continue
    if binary is None:
        try:
            from pagefind.service import get_executable
        except ImportError:
            get_executable = None
        binary = get_executable() if get_executable is not None else None
    if binary is None:
        raise SitegenError("the search index needs the Pagefind binary, which was not found (pip install "
                           "'pagefind[extended]'); or build with search turned off (--no-search)")
    return str(binary)


@cache
def pagefind_version() -> str:
    """``pagefind 1.5.2`` -> ``1.5.2``: part of every shard's key (an upgrade re-indexes every shard)."""
    try:
        out = subprocess.run([pagefind_executable(), "--version"], capture_output=True, text=True, timeout=60,
                             env=_clean_env())
    except (OSError, subprocess.SubprocessError) as exc:
        raise SitegenError(f"cannot run the Pagefind binary {pagefind_executable()}: {exc}") from None
    return out.stdout.strip().rpartition(" ")[2] or "unknown"


def known_version(memo: Path | None) -> str:
    """:func:`pagefind_version`, remembered in the file ``memo`` by the binary's path, size and modification
    time, so a build does not run the binary only to ask (20 ms)."""
    if memo is None:
        return pagefind_version()
    exe = pagefind_executable()
    try:
        st = os.stat(exe)
    except OSError:
        return pagefind_version()
    binary = [exe, st.st_size, st.st_mtime_ns]
    try:
        data = json.loads(memo.read_text("utf-8"))
        if isinstance(data, dict) and data.get("binary") == binary and isinstance(data.get("version"), str):
            return data["version"]
    except (OSError, ValueError):
        pass
    version = pagefind_version()
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        memo.write_text(json.dumps({"binary": binary, "version": version}) + "\n", "utf-8")
    except OSError:
        pass
    return version


def _clean_env() -> dict[str, str]:
    """The environment without PAGEFIND_* settings, which Pagefind would read as options of its own."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PAGEFIND_")}


def _start_pagefind(site: Path, output: Path) -> subprocess.Popen:
    # cwd: Pagefind reads a pagefind.yml/.toml/.json from its working directory; ``site`` has none.
    cmd = [pagefind_executable(), "--site", str(site), "--output-path", str(output), *PAGEFIND_OPTIONS]
    return subprocess.Popen(cmd, cwd=site, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_clean_env())


def _failure(proc: subprocess.Popen) -> str | None:
    """Wait for a Pagefind process: None when it succeeded, else the last line it printed."""
    out, err = proc.communicate()
    if proc.returncode == 0:
        return None
    detail = (err or out).strip().splitlines()
    return detail[-1] if detail else f"exit {proc.returncode}"


def _error(where: str, failure: str) -> SitegenError:
    return SitegenError(f"the search index could not be built (pagefind failed on {where}: {failure}); "
                        "build with search turned off (--no-search) or reinstall the pagefind package")


def index_site(site: Path, output: Path) -> None:
    """Index every HTML page under ``site`` into ``output`` as one Pagefind index (no shards)."""
    failure = _failure(_start_pagefind(site, output))
    if failure is not None:
        raise _error(str(site), failure)


def shard_key(shard: Shard, digests: dict[str, str], version: str) -> str:
    """What the shard's index depends on: its pages (paths and content), Pagefind's version and options."""
    h = hashlib.blake2b(digest_size=16)
    h.update(json.dumps([SHARDS_FORMAT, version, PAGEFIND_OPTIONS, shard.name,
                         [[p, digests[p]] for p in shard.pages]]).encode("utf-8"))
    return h.hexdigest()


def shards_file(shards: list[Shard], keys: dict[str, str], version: str) -> bytes:
    """SHARDS_FILE: ``shards`` lists the other shards than the main one (folders relative to pagefind/) for
    the browser."""
    data = {"format": SHARDS_FORMAT, "pagefind": version,
            "main": {"pages": len(shards[0].pages), "key": keys[""]},
            "shards": [{"path": s.name + "/", "pages": len(s.pages), "key": keys[s.name]} for s in shards[1:]]}
    return (json.dumps(data, indent=1, sort_keys=True) + "\n").encode("utf-8")


def _previous_keys(writer: Any) -> dict[str, str]:
    """Shard name -> key, from the previous site's SHARDS_FILE (empty when there is none)."""
    previous = writer.previous or {}
    if SHARDS_FILE not in previous or not writer.still_there({SHARDS_FILE: previous[SHARDS_FILE]}):
        return {}
    try:
        data = json.loads((writer.output / SHARDS_FILE).read_text("utf-8"))
        if data.get("format") != SHARDS_FORMAT:
            return {}
        keys = {"": data["main"]["key"]}
        keys.update({s["path"].rstrip("/"): s["key"] for s in data["shards"]})
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    return {k: v for k, v in keys.items() if isinstance(v, str)}


def _previous_files(writer: Any) -> dict[str, dict[str, str]]:
    """Shard name -> {site path: digest} of that shard's files in the previous site."""
    out: dict[str, dict[str, str]] = {}
    for relpath, digest in (writer.previous or {}).items():
        if relpath.startswith(PAGEFIND_DIR + "/"):
            name = _shard_of(relpath)
            if name is not None:
                out.setdefault(name, {})[relpath] = digest
    return out


def _page_source(writer: Any, relpath: str) -> Path:
    """Where a page of the new site is now: written by this build (staging) or unchanged (output)."""
    staged = writer.staging / relpath
    return staged if staged.exists() else writer.output / relpath


def _sync_view(writer: Any, pages: Iterable[str], view: Path) -> None:
    """Make ``view`` a directory of just these pages at their site paths: hard links to the files of the new
    site (copies across file systems). A view kept from the previous build is brought up to date: a link that
    is still the page's file stays, and only changed, new and removed pages are touched. Making a folder a
    page is the slow part on some file systems (0.12 s for a shard of 100 run pages here)."""
    wanted = set(pages)
    if view.is_symlink() or (view.exists() and not view.is_dir()):
        view.unlink()
    elif view.is_dir():
        for path in list(view.rglob("*")):
            if path.is_symlink():  # never written by sitegen: start the view again rather than follow it
                shutil.rmtree(view)
                break
            if path.is_file() and path.relative_to(view).as_posix() not in wanted:
                path.unlink()
    made: set[Path] = set()
    for relpath in sorted(wanted):
        target, source = view / relpath, _page_source(writer, relpath)
        try:
            if os.path.samestat(os.lstat(target), os.stat(source)):
                continue
            target.unlink()
        except FileNotFoundError:
            pass
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)


def _keep_data_only(directory: Path) -> None:
    """Remove what a merged index does not need (pagefind.js, UI scripts and styles, WebAssembly)."""
    for path in sorted(directory.rglob("*"), reverse=True):
        rel = path.relative_to(directory).as_posix()
        if path.is_file() and not (rel.startswith(_SHARD_DATA) or rel.endswith(".pf_meta")):
            path.unlink()


class _Indexers:
    """Pagefind processes over shards, ``limit`` at once, each started by a thread of a small pool (or
    launched from the caller's thread, and then watched by one)."""

    def __init__(self, writer: Any, outputs: dict[str, Path], views: Path, limit: int, keep_views: bool):
        self.writer, self.outputs, self.views, self.keep_views = writer, outputs, views, keep_views
        self._lock = threading.Lock()
        self._procs: list[subprocess.Popen] = []
        self._cancelled = False
        self._pool = ThreadPoolExecutor(max_workers=max(1, limit), thread_name_prefix="sitegen-pagefind")
        self.futures: list[tuple[Shard, Future]] = []
        self._launched: list[tuple[Shard, subprocess.Popen]] = []  # started by launch(), not yet watched

    def submit(self, shards: list[Shard]) -> None:
        self._watch_launched()
        self.futures += [(s, self._pool.submit(self._index, s)) for s in shards]

    def launch(self, shards: list[Shard]) -> None:
        """Start Pagefind on these shards now, from the calling thread, and start no thread (the caller may
        still fork worker processes); the next :meth:`submit` or :meth:`wait` watches them from the pool."""
        for shard in shards:
            try:
                proc = self._start(shard)
            except OSError as exc:  # reported by wait(), as from the pool
                failed: Future = Future()
                failed.set_exception(exc)
                self.futures.append((shard, failed))
                continue
            if proc is not None:
                self._launched.append((shard, proc))

    def _watch_launched(self) -> None:
        launched, self._launched = self._launched, []
        self.futures += [(s, self._pool.submit(self._complete, s, proc)) for s, proc in launched]

    def _view(self, shard: Shard) -> Path:
        return self.views / (shard.name or "main")

    def _start(self, shard: Shard) -> subprocess.Popen | None:
        """Pagefind started on a view of the shard's pages (None when cancelled meanwhile)."""
        _sync_view(self.writer, shard.pages, self._view(shard))
        with self._lock:
            if self._cancelled:
                return None
            proc = _start_pagefind(self._view(shard), self.outputs[shard.name])
            self._procs.append(proc)
            return proc

    def _index(self, shard: Shard) -> str | None:
        """Index one shard; the error text when Pagefind failed, None when it succeeded (or was cancelled)."""
        proc = self._start(shard)
        return None if proc is None else self._complete(shard, proc)

    def _complete(self, shard: Shard, proc: subprocess.Popen) -> str | None:
        """Wait for the shard's Pagefind and tidy its output (see :meth:`_index`)."""
        failure = _failure(proc)
        if self._cancelled:
            return None
        if failure is not None:
            return failure
        if not shard.main:
            _keep_data_only(self.outputs[shard.name])
        if not self.keep_views:
            shutil.rmtree(self._view(shard), ignore_errors=True)
        return None

    def wait(self) -> None:
        """Wait for every shard; the first failure stops the others (running ones are killed) and is raised."""
        self._watch_launched()
        shard_of = {future: shard for shard, future in self.futures}
        pending = set(shard_of)
        while pending:
            done, pending = futures_wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: shard_of[f].name):
                error = future.exception()
                if error is not None and not isinstance(error, OSError):
                    self.cancel()
                    raise error
                failure = str(error) if error is not None else future.result()
                if failure is not None:
                    self.cancel()
                    shard = shard_of[future]
                    raise _error(f"shard {shard.prefix}/" if shard.name else "the main shard", failure)
        self._pool.shutdown(wait=True)

    def cancel(self) -> None:
        """Stop: kill running Pagefind processes, start no more, wait for the threads."""
        with self._lock:
            self._cancelled = True
            for proc in self._procs:
                if proc.poll() is None:
                    proc.kill()
        self._pool.shutdown(wait=True, cancel_futures=True)


def _limit(jobs: int | None, tasks: int) -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(jobs or cores, cores, MAX_INDEXERS, tasks))


class Indexing:
    """The search index of the site a :class:`~sitegen.output.SiteWriter` is writing, started in steps:
    :meth:`add` a group of finished HTML pages (the run pages, then the site's other pages) and their
    shards are indexed at once, beside the rest of the build; :meth:`finish` waits and adds the index to
    the site, :meth:`cancel` stops it (for a build that failed meanwhile)."""

    def __init__(self, writer: Any, jobs: int | None = None, views: Path | None = None):
        """``views``: a folder kept between builds for the shards' page views (see :func:`_sync_view`);
        without it they are made in a temporary folder each build."""
        self.writer, self.jobs, self.views = writer, jobs, views
        self.version = known_version(views.parent / "pagefind-version.json" if views is not None else None)
        self.shards: list[Shard] = []
        self.keys: dict[str, str] = {}
        self.carried: dict[str, dict[str, str]] = {}
        self.outputs: dict[str, Path] = {}
        self._before, self._files_before = _previous_keys(writer), _previous_files(writer)
        self._indexed: set[str] = set()
        self.work = writer.staging.parent / f"{writer.staging.name}-search"
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        self._indexers: _Indexers | None = None

    in_run_shard = staticmethod(in_run_shard)

    def add(self, html_paths: Iterable[str], *, now: bool = False, eager: bool = False) -> None:
        """Index the shards of these pages (each page's shard must be complete: all the site's pages
        outside runs/, or all the run pages), unless a shard is unchanged since the previous build.
        ``now``: start their Pagefind processes from this thread and start no thread, so the caller may
        still fork (they are watched from the next :meth:`add` or :meth:`finish`). ``eager``: start as
        many as run at once from this thread too, and queue the rest. A pool thread busy watching earlier
        processes would start them later, and while this thread computes, each of the thread's file
        operations waits for the interpreter lock: 0.1 s for a 100-page shard at 1,000 runs."""
        paths = [p for p in html_paths if p.endswith(".html") and not p.startswith(PAGEFIND_DIR + "/")
                 and p not in self._indexed]
        self._indexed.update(paths)
        digests = {p: self.writer.manifest[p] for p in paths}
        self._start([s for s in plan(digests) if s.pages], digests, now, eager)

    def _start(self, shards: list[Shard], digests: dict[str, str], now: bool = False, eager: bool = False) -> None:
        writer = self.writer
        stale: list[Shard] = []
        for shard in shards:
            self.keys[shard.name] = shard_key(shard, digests, self.version)
            files = self._files_before.get(shard.name, {})
            if self._before.get(shard.name) == self.keys[shard.name] and files and writer.still_there(files):
                self.carried[shard.name] = files
            else:
                stale.append(shard)
        self.shards += shards
        # Run shards are written in place in the staging directory; the main shard beside it (its folder
        # holds the run shards' folders), then copied in.
        self.outputs.update({s.name: (self.work / "main-index" if s.main else writer.staging / s.prefix)
                             for s in stale})
        stale.sort(key=lambda s: (not s.main, -len(s.pages), s.name))  # big ones first: the last to end is small
        if stale:
            limit = _limit(self.jobs, MAX_INDEXERS)
            if self._indexers is None:
                self._indexers = _Indexers(writer, self.outputs, self.views or self.work / "view", limit,
                                           keep_views=self.views is not None)
            if now:
                self._indexers.launch(stale)
            elif eager:
                self._indexers.launch(stale[:limit])
                self._indexers.submit(stale[limit:])
            else:
                self._indexers.submit(stale)

    def finish(self) -> None:
        writer = self.writer
        try:
            if not any(s.main for s in self.shards):  # the main shard holds Pagefind's scripts: always made
                self._start([Shard("", ())], {})
            if self._indexers is not None:
                self._indexers.wait()
            # in plan order, whichever was added first: the main shard, the models', then the run shards
            # (experiment, then number)
            shards = sorted(self.shards, key=_plan_order)
            for shard in shards:
                if shard.name in self.carried:
                    files = self.carried[shard.name]
                    writer.carry_over(files, sum((writer.output / p).stat().st_size for p in files))
                else:
                    writer.adopt_tree(shard.prefix, self.outputs[shard.name])
            writer.write_bytes(SHARDS_FILE, shards_file(shards, self.keys, self.version))
        finally:
            shutil.rmtree(self.work, ignore_errors=True)

    def cancel(self) -> None:
        if self._indexers is not None:
            self._indexers.cancel()
        shutil.rmtree(self.work, ignore_errors=True)
