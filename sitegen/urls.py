"""Every URL of the site is made here: paths from the site root, ending in a file name.

Pages link to each other with :func:`relative`, so the site works under any sub-path and from file://.
"""

from __future__ import annotations

import hashlib
import functools
import posixpath
from pathlib import PurePosixPath
from urllib.parse import quote

# Artifact files that a browser would execute if opened from the site are published as text.
MAX_NAME_BYTES = 255  # longest file name most file systems allow
ACTIVE_SUFFIXES = {".html", ".htm", ".xhtml", ".svg", ".xml", ".js", ".mjs", ".pdf", ".swf", ".shtml"}

INDEX = "index.html"
NOT_FOUND = "404.html"
SITEMAP = "sitemap.xml"
MODELS = "models/index.html"
DATASETS = "datasets/index.html"
COMPARE = "compare/index.html"
LINEAGE = "lineage/index.html"
HISTORY = "history/index.html"
RUNS_CSV = "data/runs.csv"
RUNS_JSON = "data/runs.json"
FEED = "feed.xml"  # Atom feed of new runs and model versions
SNAPSHOT = "data/snapshot.json"  # comparable state of the site (sitegen diff, versioned builds)
CHANGES = "changes/index.html"  # versioned builds: changes since the previous version
SEARCH_FALLBACK = "data/search-index.js"  # title/tag index for file://, where Pagefind cannot load
PAGES_MANIFEST = "pages.js"  # versioned builds: the version's page list, for the version switcher


def experiment(slug: str) -> str:
    return f"experiments/{slug}/index.html"


def run(experiment_slug: str, run_id: str) -> str:
    return f"runs/{experiment_slug}/{run_id}/index.html"


def run_dir(experiment_slug: str, run_id: str) -> str:
    return f"runs/{experiment_slug}/{run_id}"


def run_metrics_csv(experiment_slug: str, run_id: str) -> str:
    return f"runs/{experiment_slug}/{run_id}/metrics.csv"


def run_data_js(experiment_slug: str, run_id: str) -> str:
    """A run's curves (downsampled) and small text artifacts as a classic script, for comparison pages."""
    return f"runs/{experiment_slug}/{run_id}/data.js"


def experiment_summaries_js(experiment_slug: str) -> str:
    """An experiment's run summaries as a classic script, loaded by the ad-hoc comparison page on demand."""
    return f"data/summaries/{experiment_slug}.js"


@functools.lru_cache(maxsize=1 << 12)
def _active(path: str) -> bool:
    """Whether a browser would run the file (runs have artifacts of the same few names)."""
    return PurePosixPath(path).suffix.lower() in ACTIVE_SUFFIXES


def artifact(experiment_slug: str, run_id: str, path: str) -> str:
    """Where an artifact file is published; active content gets a ``.txt`` suffix so it never runs."""
    if _active(path):
        path += ".txt"
        folder, _, name = path.rpartition("/")
        if len(name.encode("utf-8")) > MAX_NAME_BYTES:
            # `.txt` pushed a name past the file-system limit: shorten its stem, add a hash to keep it unique.
            tail = "".join(PurePosixPath(name).suffixes[-2:])
            stem = name[: -len(tail)].encode("utf-8")[: MAX_NAME_BYTES - len(tail) - 9].decode("utf-8", "ignore")
            name = f"{stem}-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:8]}{tail}"
            path = f"{folder}/{name}" if folder else name
    return f"runs/{experiment_slug}/{run_id}/artifacts/{path}"


def model(slug: str) -> str:
    return f"models/{slug}/index.html"


def model_version(slug: str, version: int) -> str:
    return f"models/{slug}/{version}/index.html"


def model_card_md(slug: str, version: int) -> str:
    return f"models/{slug}/{version}/README.md"


def dataset(slug: str) -> str:
    return f"datasets/{slug}/index.html"


def comparison(name: str) -> str:
    return f"compare/{name}/index.html"


PROV_JSON = "data/prov.json"  # W3C PROV-JSON of the whole site


def run_prov(experiment_slug: str, run_id: str) -> str:
    return f"runs/{experiment_slug}/{run_id}/prov.json"


def model_version_prov(slug: str, version: int) -> str:
    return f"models/{slug}/{version}/prov.json"


def history_page(number: int) -> str:
    """Page ``number`` (1-based) of the commit history: history/index.html, history/page-2.html, ..."""
    return HISTORY if number <= 1 else f"history/page-{number}.html"


def relative(from_page: str, target: str) -> str:
    """The relative link from the page at ``from_page`` to ``target`` (both site-root paths), URL-quoted.

    ``target`` may carry a ``?query`` and a ``#fragment``; they are kept as they are.
    """
    return relative_from(posixpath.dirname(from_page), target)


_LINK_SAFE = "/._-~+=,;:@!$'()*&"  # left as they are in a link's path; everything else is %-quoted


def relative_from(folder: str, target: str) -> str:
    """:func:`relative` from a page in ``folder`` (its ``posixpath.dirname``; "" for the site root)."""
    if "://" in target or target.startswith(("#", "mailto:")):
        return target
    if target and "?" not in target and "#" not in target:
        link = _plain_link(folder, target)
        if link is not None:
            return link
    path, sep_f, fragment = target.partition("#")
    path, sep_q, query = path.partition("?")
    out = _relative_path(folder, path)
    return f"{out}{sep_q}{query}{sep_f}{fragment}" if sep_f or sep_q else out


@functools.lru_cache(maxsize=256)
def _folder(folder: str) -> tuple[str, int]:
    """A page folder's first segment and how many folders deep it is (-1 when it is not a plain path); a
    page asks about its folder for each of its links."""
    if not plain_path(folder):
        return "", -1
    return folder.split("/", 1)[0], folder.count("/") + 1 if folder else 0


def _plain_link(folder: str, target: str) -> str | None:
    """The link from ``folder`` to a plain ``target`` when it follows from the folder's depth alone, else
    None. Into the folder: the rest of the target's path (a run's data.js, its artifacts). Outside the
    folder's first segment: ``../`` for each folder, then the target (the experiment, models, assets):
    most of a page's links, to the same few places from a folder of its own."""
    top, depth = _folder(folder)
    if depth < 0 or not plain_path(target):
        return None
    if target.partition("/")[0] != top:
        return "../" * depth + _quoted(target)
    if folder and target.startswith(folder) and target[len(folder):len(folder) + 1] == "/":
        return _quoted(target[len(folder) + 1:])
    return None


@functools.lru_cache(maxsize=1 << 14)
def _segments(path: str) -> tuple[str, ...] | None:
    """A site path's segments; None when one is empty, ``.`` or ``..`` (not a plain path)."""
    parts = tuple(path.split("/")) if path else ()
    return None if any(seg in ("", ".", "..") for seg in parts) else parts


def plain_path(path: str) -> bool:
    """Whether ``path`` is a site path of plain segments ("" for the site root): none empty, ``.`` or ``..``."""
    if not path:
        return True
    framed = f"/{path}/"
    return "//" not in framed and "/./" not in framed and "/../" not in framed


@functools.lru_cache(maxsize=1 << 16)
def _quoted(path: str) -> str:
    return quote(path, safe=_LINK_SAFE)


def _relative_path(start: str, path: str) -> str:
    """``posixpath.relpath(path, start or ".")``, URL-quoted. Plain site paths (no empty, ``.`` or ``..``
    segments) are worked out from their segments: ``../`` for each folder of ``start`` not shared with
    ``path``, then the rest of ``path``, whose quoting is remembered (most links of a page go to the same
    few places, from folders that differ page to page)."""
    base, parts = _segments(start), _segments(path or ".")
    if base is None or parts is None:
        return quote(posixpath.relpath(path, start or "."), safe=_LINK_SAFE)
    common = 0
    for a, b in zip(base, parts):
        if a != b:
            break
        common += 1
    up = len(base) - common
    if common < len(parts):
        return "../" * up + _quoted("/".join(parts[common:]) if common else path)
    return "/".join([".."] * up) or "."


def absolute(base_url: str, target: str) -> str:
    """The absolute URL of a site path (for sitemap and canonical links)."""
    return base_url.rstrip("/") + "/" + quote(target, safe="/._-~")
