"""Versioned sites: several builds side by side in one output directory, in the layout of ``mike``.

```
<output>/versions.json        [{"version": "v2", "title": "v2", "aliases": ["latest"]}, ...] newest first
<output>/versions.js          the same list for pages opened from file:// (assigns window.SITEGEN_VERSIONS)
<output>/index.html           redirects to the default alias (``latest`` when there is one)
<output>/<version>/           one whole site, replaced atomically when rebuilt; pages.js lists its pages
<output>/<alias>/**           a redirect page for every page of the version the alias points to
```
No symlinks: static hosts and artifact uploads treat them differently, redirect pages work everywhere.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import urls
from .diagnostics import Diagnostics, SitegenError
from .jsonutil import dumps, dumps_for_script
from .output import MARKER, BuildLock

VERSIONS_JSON = "versions.json"
VERSIONS_JS = "versions.js"
PAGES_JS = "pages.js"
DEFAULT_ALIAS = "latest"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")
_RESERVED = {"assets", "data", "index.html", "404.html", VERSIONS_JSON, VERSIONS_JS, PAGES_JS}


@dataclass
class VersionContext:
    """What a versioned build needs to know while it renders, and what it reports back."""

    name: str
    title: str
    previous: str | None = None  # the version this one follows (for the changes page)
    previous_snapshot: dict[str, Any] | None = None
    pages: list[str] = field(default_factory=list)  # filled by the build: every HTML page written

    def site_context(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "previous": self.previous,
                "changes": urls.CHANGES if self.previous_snapshot is not None else None}


def check_name(kind: str, name: str) -> str:
    if not _NAME.match(name or "") or name in _RESERVED or name.startswith("."):
        raise SitegenError(f"{kind} {name!r} is not usable as a folder name: use letters, digits, '.', '_', '+' "
                           f"or '-' (starting with a letter or digit), and none of {sorted(_RESERVED)}")
    return name


def read_versions(outer: Path) -> list[dict[str, Any]]:
    """The entries of ``versions.json`` (an empty list when there is none); an error names a broken file."""
    path = outer / VERSIONS_JSON
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = [{"version": str(e["version"]), "title": str(e.get("title") or e["version"]),
                    "aliases": [str(a) for a in e.get("aliases") or []]} for e in data]
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise SitegenError(f"{path}: not a versions list of the form [{{\"version\", \"title\", \"aliases\"}}] "
                           f"({exc})") from None
    return entries


def check_outer(outer: Path) -> None:
    """The output of a versioned build must be empty, missing, or a versioned site sitegen made."""
    if not outer.exists():
        return
    if not outer.is_dir():
        raise SitegenError(f"output {outer} exists and is not a directory")
    if not any(outer.iterdir()):
        return
    if not (outer / MARKER).is_file():
        raise SitegenError(f"refusing to write versions into {outer}: it is not a site built by sitegen "
                           f"(no {MARKER} file); remove it or choose another --output")
    if not (outer / VERSIONS_JSON).is_file() and (outer / "index.html").exists():
        raise SitegenError(f"{outer} holds an unversioned site; remove it (or choose another --output) before "
                           f"building versions into it")


def add_version(entries: list[dict[str, Any]], version: str, title: str, aliases: list[str]) -> list[dict]:
    """The list with ``version`` added (newest first) or updated in place; each alias on one version only."""
    old = next((e for e in entries if e["version"] == version), None)
    keep = old["aliases"] if old else []
    mine = sorted(set(keep) | set(aliases))
    updated = []
    for entry in entries:
        if entry["version"] == version:
            updated.append({"version": version, "title": title, "aliases": mine})
        else:
            updated.append({**entry, "aliases": [a for a in entry["aliases"] if a not in mine]})
    if old is None:
        updated.insert(0, {"version": version, "title": title, "aliases": mine})
    return updated


def default_target(entries: list[dict[str, Any]]) -> str | None:
    """Where the root index points: the ``latest`` alias, else the newest version's first alias or name."""
    if any(DEFAULT_ALIAS in e["aliases"] for e in entries):
        return DEFAULT_ALIAS
    if not entries:
        return None
    first = entries[0]
    return first["aliases"][0] if first["aliases"] else first["version"]


def previous_version(entries: list[dict[str, Any]], version: str) -> str | None:
    """The version this one follows: the next older entry (or the newest one, for a new version)."""
    names = [e["version"] for e in entries]
    if version in names:
        i = names.index(version)
        return names[i + 1] if i + 1 < len(names) else None
    return names[0] if names else None


def redirect_page(target: str) -> str:
    """A page that sends the reader to ``target`` (a relative URL): meta refresh plus a plain link."""
    t = html.escape(target, quote=True)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Redirecting</title>\n"
            f"<meta http-equiv=\"refresh\" content=\"0; url={t}\">\n<link rel=\"canonical\" href=\"{t}\">\n"
            "<meta name=\"robots\" content=\"noindex\">\n</head>\n<body>\n"
            f"<p>This page is at <a href=\"{t}\">{t}</a>.</p>\n</body>\n</html>\n")


def pages_manifest(version: str, pages: list[str]) -> str:
    """``pages.js``: the version's page list, assigned into a global (loadable from file://)."""
    return ("(window.SITEGEN_PAGES = window.SITEGEN_PAGES || {})[" + dumps_for_script(version) + "] = "
            + dumps_for_script(sorted(pages)) + ";\n")


def _replace_dir(target: Path, fill: Callable[[Path], None]) -> None:
    """Write a directory beside ``target`` with ``fill`` and swap it in (two renames)."""
    staging = target.parent / f".{target.name}.staging-{os.getpid()}"
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        fill(staging)
        if target.exists():
            os.rename(target, old)
        os.rename(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def write_alias(outer: Path, alias: str, version: str, pages: list[str]) -> None:
    """``<outer>/<alias>/<page>`` redirects to ``<outer>/<version>/<page>`` for every page of the version."""
    def fill(staging: Path) -> None:
        (staging / MARKER).write_text(f"alias of {version}, written by sitegen\n")
        for page in sorted(set(pages) | {urls.INDEX}):
            depth = page.count("/") + 1  # up from the page's folder to <outer>
            target = "../" * depth + f"{version}/{page}"
            path = staging / page
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(redirect_page(target), encoding="utf-8")
    _replace_dir(outer / alias, fill)


def write_root(outer: Path, entries: list[dict[str, Any]]) -> None:
    """versions.json, versions.js and the root index.html (each written whole, then renamed in)."""
    def put(name: str, text: str) -> None:
        tmp = outer / f".{name}.tmp-{os.getpid()}"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, outer / name)

    (outer / MARKER).write_text("built by sitegen (versioned site); a versioned build updates this directory\n")
    put(VERSIONS_JSON, dumps(entries, indent=2) + "\n")
    put(VERSIONS_JS, "window.SITEGEN_VERSIONS = " + dumps_for_script(entries) + ";\n")
    target = default_target(entries)
    if target:
        put(urls.INDEX, redirect_page(f"{target}/index.html"))


def build_version(build: Callable[..., Any], source: Path, outer: Path, version: str, aliases: list[str],
                  *, title: str | None = None, base_url: str | None = None, **kwargs: Any) -> Any:
    """Build ``source`` into ``<outer>/<version>/`` with ``build`` and update the versions around it."""
    from .config import load_config
    from .diff import read_snapshot

    check_name("version", version)
    aliases = sorted({check_name("alias", a) for a in aliases})
    if version in aliases:
        raise SitegenError(f"alias {version!r} is the name of the version itself")
    outer = outer.resolve()
    check_outer(outer)
    outer.mkdir(parents=True, exist_ok=True)
    with BuildLock(outer):
        entries = read_versions(outer)
        versions = {e["version"] for e in entries}
        for alias in aliases:
            if alias in versions:
                raise SitegenError(f"alias {alias!r} is already the name of a version in {outer / VERSIONS_JSON}")
        if any(version in e["aliases"] for e in entries):
            raise SitegenError(f"version {version!r} is already an alias in {outer / VERSIONS_JSON}")
        previous = previous_version(entries, version)
        ctx = VersionContext(name=version, title=title or version, previous=previous,
                             previous_snapshot=read_snapshot(outer / previous / "data" / "snapshot.json")
                             if previous else None)
        base = base_url or load_config(Path(source), Diagnostics()).base_url
        if base:
            base = base.rstrip("/") + f"/{version}/"
        result = build(source, outer / version, base_url=base, version_context=ctx, **kwargs)
        (outer / f".{version}.lock").unlink(missing_ok=True)
        entries = add_version(entries, version, ctx.title, aliases)
        mine = next(e for e in entries if e["version"] == version)
        for alias in mine["aliases"]:
            write_alias(outer, alias, version, ctx.pages)
        write_root(outer, entries)
    return result


def changes_page(project: Any, ctx: VersionContext) -> Any:
    """The "changes since the previous version" page (None for the first version or an unreadable one)."""
    from .diff import compare, snapshot, to_markdown
    from .pages import Page
    from .pages.common import markdown

    if ctx.previous is None or ctx.previous_snapshot is None:
        return None
    diff = compare(ctx.previous_snapshot, snapshot(project), before_label=ctx.previous, after_label=ctx.name)
    body = to_markdown(diff, heading="##").split("\n", 1)[1]  # the page has its own heading
    return Page(url=urls.CHANGES, template="changes.html", title=f"Changes since {ctx.previous}",
                context={"previous": ctx.previous, "version": ctx.name, "body": markdown(body),
                         "empty": diff.empty},
                kind="changes", section="", breadcrumbs=[("Dashboard", urls.INDEX), ("Changes", "")])


def extra_pages(project: Any, ctx: VersionContext | None) -> list[Any]:
    """Pages a versioned build adds to the site (the changes page, when there is a previous version)."""
    page = changes_page(project, ctx) if ctx is not None else None
    return [page] if page is not None else []
