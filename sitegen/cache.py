"""The build cache: what earlier builds already read and rendered, keyed by content digests.

No key here is made of file times (a git checkout resets them): a run is recognised by a digest of every
file in its folder, a run's published files by a key made of that digest, everything site-wide that its
page shows (config, theme, sitegen's version and code, its experiment, its neighbours in the lineage), and
the digests of the files it produced. File times only tell :class:`DigestMemo` which files it must read
again. The cache is plain JSON (lines) in ``.<output>.cache/`` beside the output directory; it can be kept
between CI runs (see the README) and deleted at any time (the next build is then cold).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import stat
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from . import __version__

FORMAT = "sitegen.cache/2"  # JSON lines: a header, then one line a record
MAX_HASHED_BYTES = 64 * 1024 * 1024  # larger files are recognised by size (they are listed, not published)


def digest_bytes(*parts: bytes) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()


@functools.cache
def code_digest() -> str:
    """sitegen's own source files (compiled caches left out: Python rewrites them at will). Part of every
    cache scope, so a change to sitegen's code never reuses what older code made, version bump or not."""
    package = Path(__file__).resolve().parent
    parts = []
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            parts.append(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest_bytes(*parts)


def digest_json(value: Any) -> str:
    """A digest of any JSON-able value (others by their repr), independent of dict order."""
    return digest_bytes(json.dumps(value, sort_keys=True, default=repr, ensure_ascii=False).encode("utf-8"))


def file_digest(path: str | Path, size: int | None = None) -> str:
    """A digest of a file's content (streamed); a file over MAX_HASHED_BYTES is known by its size."""
    size = os.stat(path).st_size if size is None else size
    if size > MAX_HASHED_BYTES:
        return f"size:{size}"
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class DigestMemo:
    """Content digests of files, remembered with each file's identity: inode, size, and modification and
    change times in nanoseconds. A file whose identity is unchanged since its digest was made is not read
    again; anything else (a git checkout, an edit, a copy, a restored backup) is read and digested anew.

    The digests are still of content: a file time only ever says "read this again", never "this is the
    same". The change time is set by the kernel on every write and cannot be set back by ``touch`` or a
    checkout, so an edit that keeps size and modification time is still seen. A file changed in the two
    seconds before it was digested is not remembered (file times are coarse on some file systems: an
    edit in the same tick as the digest would otherwise go unseen)."""

    FORMAT = "sitegen.digests/1"
    RACY_NS = 2_000_000_000

    def __init__(self, path: Path | None = None):
        self.path = path
        self.started = time.time_ns()
        self.known: dict[str, list[Any]] = {}
        self.seen: dict[str, list[Any]] = {}
        if path is not None:
            try:
                data = json.loads(path.read_text("utf-8"))
                if isinstance(data, dict) and data.get("format") == self.FORMAT and isinstance(data.get("files"), dict):
                    self.known = data["files"]
            except (OSError, ValueError):
                pass

    def digest(self, path: str, st: os.stat_result) -> str:
        identity = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
        record = self.known.get(path)
        if isinstance(record, list) and len(record) == 5 and record[:4] == identity:
            digest = record[4]
        else:
            digest = file_digest(path, st.st_size)
        if max(st.st_mtime_ns, st.st_ctime_ns) < self.started - self.RACY_NS:
            self.seen[path] = [*identity, digest]
        return digest

    def save(self) -> None:
        """Keep what this pass saw (files no longer there are forgotten); an optimisation, so never fails."""
        if self.path is None or self.seen == self.known:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"format": self.FORMAT, "files": self.seen}), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            pass


def tree_digest(directory: Path | str, parts: dict[str, str] | None = None, depth: int = 0,
                memo: DigestMemo | None = None, data_parts: dict[str, str] | None = None) -> str:
    """A digest of every file (path, size, content) below ``directory``; symlinks count by name only.

    With ``parts``, each folder ``depth`` levels down (e.g. 2 for ``runs/<exp>/<run>``) is digested on its
    own, as :func:`tree_digest` of that folder, and recorded in ``parts`` by its relative path; the whole
    digest is then made of those (so a caller can reuse one folder's digest without reading it again).
    ``data_parts`` receives the same folders' :func:`run_folder_digests` data digests.
    ``memo`` spares reading files whose identity it knows (see :class:`DigestMemo`)."""
    return digest_bytes(_joined(_tree_entries(directory, parts, depth, memo, data_parts)))


def run_folder_digests(run_dir: Path | str, memo: DigestMemo | None = None) -> tuple[str, str]:
    """(:func:`tree_digest` of a run folder, digest of all of it but its ``run.yaml``). The second keys what
    is made from the run's data alone (its metric history's summaries, ``data.js``, ``metrics.csv``, the
    copied artifacts), so editing a run's YAML (a tag, a note, a parameter) does not make them again."""
    entries = _tree_entries(run_dir, None, 0, memo, None)
    return digest_bytes(_joined(entries)), _data_digest(entries)


def _joined(entries: list[str]) -> bytes:
    return "\n".join(entries).encode("utf-8", "surrogateescape")


def _data_digest(entries: list[str]) -> str:
    return digest_bytes(_joined([e for e in entries if not e.startswith("run.yaml ") and e != "link run.yaml"]))


def _tree_entries(directory: Path | str, parts: dict[str, str] | None, depth: int, memo: DigestMemo | None,
                  data_parts: dict[str, str] | None) -> list[str]:
    entries: list[str] = []

    def walk(folder: str, prefix: str, level: int) -> None:
        try:
            with os.scandir(folder) as it:
                items = sorted(it, key=lambda e: e.name)
        except OSError:
            return
        for entry in items:
            rel = prefix + entry.name
            if entry.is_symlink():
                entries.append(f"link {rel}")
            elif entry.is_dir(follow_symlinks=False):
                if parts is not None and level + 1 == depth:
                    sub_entries = _tree_entries(entry.path, None, 0, memo, None)  # a str: no Path made a folder
                    sub = parts[rel] = digest_bytes(_joined(sub_entries))
                    if data_parts is not None:
                        data_parts[rel] = _data_digest(sub_entries)
                    entries.append(f"tree {rel} {sub}")
                else:
                    walk(entry.path, rel + "/", level + 1)
            elif entry.is_file(follow_symlinks=False):
                try:
                    st = entry.stat(follow_symlinks=False)
                    digest = memo.digest(entry.path, st) if memo is not None else file_digest(entry.path, st.st_size)
                    entries.append(f"{rel} {st.st_size} {digest}")
                except OSError:
                    continue

    walk(os.path.abspath(directory) if memo is not None else os.fspath(directory), "", 0)
    return entries


class Memo:
    """Values made from their key alone (rendered Markdown, lineage drawings, the record of export files
    made from the inputs a key digests), kept between builds in the
    build cache, whose scope holds sitegen's code and the versions of the libraries that make them:
    ``known`` is what the previous build kept, ``used`` what this build made or reused, for the next."""

    def __init__(self, known: dict[str, Any]):
        self.known: dict[str, Any] = known
        self.used: dict[str, Any] = {}
        self.fresh: dict[str, Any] = {}  # used since take_fresh() last ran: what a worker process sends back

    def get(self, key: str, make: Callable[[], Any]) -> Any:
        value = self.known.get(key)
        if value is None:
            value = make()
        self.put(key, value)
        return value

    def put(self, key: str, value: Any) -> None:
        """Keep ``value`` for ``key``, used by this build (and made by it when it differs from ``known``)."""
        self.used[key] = value
        self.fresh[key] = value


# What each kind of memo holds: text (Markdown rendered, drawings, YAML) or a JSON object (a chart's spec, the
# record of export files made from a key's inputs). A record of another type is a damaged cache.
MEMO_KINDS: dict[str, type] = {"markup": str, "svg": str, "yaml": str, "chart": dict, "export": dict}
_active: dict[str, Memo] = {}


def memo(kind: str) -> Memo | None:
    """The memo of ``kind`` the running build keeps (see :func:`memos`), or None outside a cached build."""
    return _active.get(kind)


def take_fresh() -> dict[str, dict[str, str]]:
    """What this process's memos were asked for since the last call: a process forked by the build sends it
    back with its work (see :func:`merge_fresh`), so what workers made is kept too."""
    out = {kind: m.fresh for kind, m in _active.items() if m.fresh}
    for m in _active.values():
        m.fresh = {}
    return out


def merge_fresh(fresh: dict[str, dict[str, str]]) -> None:
    """Count what a worker process's memos were asked for as used by this build."""
    for kind, entries in fresh.items():
        if kind in _active:
            _active[kind].used.update(entries)


@contextlib.contextmanager
def memos(build_cache: "BuildCache") -> Iterator[None]:
    """While a build runs: what the previous build made from a key alone (Markdown rendered, lineage drawn,
    YAML written) is reused, and what this build makes is saved with the build cache for the next."""
    _active.update(build_cache.memos)
    try:
        yield
    finally:
        _active.clear()


class BuildCache:
    """Run records (what loading a run found) and page records (what rendering a run wrote)."""

    def __init__(self, path: Path | None, scope: str):
        self.path = path
        self.scope = scope  # builds of another source, sitegen version or option set do not share records
        self.runs: dict[str, dict[str, Any]] = {}
        self.pages: dict[str, dict[str, Any]] = {}
        self.new_runs: dict[str, dict[str, Any]] = {}
        self.new_pages: dict[str, dict[str, Any]] = {}
        self.memos: dict[str, Memo] = {kind: Memo({}) for kind in MEMO_KINDS}
        self._lines: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}  # each record read, and its line
        if path is not None:
            self._read()

    def _read(self) -> None:
        try:
            lines = self.path.read_text("utf-8").split("\n")
            head = json.loads(lines[0])
        except (OSError, ValueError):
            return
        if not (isinstance(head, dict) and head.get("format") == FORMAT and head.get("scope") == self.scope):
            return
        runs: dict[str, dict[str, Any]] = {}
        pages: dict[str, dict[str, Any]] = {}
        memos: dict[str, dict[str, Any]] = {kind: {} for kind in MEMO_KINDS}
        stores = {"run": runs, "page": pages, **memos}
        for line in lines[1:]:
            if not line:
                continue
            try:
                kind, uid, record = json.loads(line)
                if kind in memos and not isinstance(record, MEMO_KINDS[kind]):
                    raise TypeError(kind)
                stores[kind][uid] = record
            except (ValueError, TypeError, KeyError):
                return  # a damaged cache is no cache: the build is cold
            self._lines[(kind, uid)] = (record, line)
        self.runs, self.pages = runs, pages
        self.memos = {kind: Memo(known) for kind, known in memos.items()}

    def run(self, uid: str, digest: str) -> dict[str, Any] | None:
        record = self.runs.get(uid)
        return record if record is not None and record.get("digest") == digest else None

    def page(self, uid: str, key: str) -> dict[str, Any] | None:
        record = self.pages.get(uid)
        return record if record is not None and record.get("key") == key else None

    def save(self) -> None:
        """Write the records of this build (records of runs that no longer exist are dropped). A record
        kept from the previous build is written as the line it was read from, not encoded again (most of
        them, in a rebuild: at 10,000 runs that is 0.3 s of JSON encoding spared)."""
        if self.path is None:
            return
        out = [json.dumps({"format": FORMAT, "scope": self.scope})]
        for kind, records in (("run", self.new_runs), ("page", self.new_pages),
                              *((kind, dict(sorted(memo.used.items()))) for kind, memo in self.memos.items())):
            for uid, record in records.items():
                known = self._lines.get((kind, uid))
                # key order is kept: cached run data must come back exactly as the YAML file had it
                out.append(known[1] if known is not None and known[0] is record
                           else json.dumps([kind, uid, record], allow_nan=True))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("\n".join(out) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)


CACHE_DIR_ENV = "SITEGEN_CACHE_DIR"
KEPT_TEMPLATE_SCOPES = 8  # folders of compiled templates kept for other sitegen versions (most recently used)


def machine_cache_dir() -> Path:
    """This user's cache of sitegen: ``$SITEGEN_CACHE_DIR``, else ``$XDG_CACHE_HOME/sitegen``, else
    ``~/.cache/sitegen``."""
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sitegen"


def template_cache(*scope_parts: Any) -> Path | None:
    """The folder of compiled templates for this sitegen (its code, and ``scope_parts``: the versions of the
    libraries that compile them), in the machine's cache: a theme's templates are compiled once, as Python
    compiles a module once, not in every build (a quarter of a second for the default theme). Jinja's
    bytecode cache checks each template's source, not the environment it was compiled for, hence a folder a
    sitegen. The least recently used of other sitegens' folders are removed beyond
    :data:`KEPT_TEMPLATE_SCOPES`. None (templates compiled in memory) when the cache cannot be written."""
    import sys

    scope = code_scope(list(sys.version_info[:2]), *scope_parts)
    root = machine_cache_dir() / "templates"
    folder = root / scope
    try:
        root.parent.mkdir(parents=True, exist_ok=True)
        root.mkdir(mode=0o700, exist_ok=True)  # made private whatever the umask (0o002 gives groups writing)
        folder.mkdir(mode=0o700, exist_ok=True)
        if not (_private(root) and _private(folder)):
            return None  # compiled templates are code: only from folders no one else can write to
        os.utime(folder)  # used now: see the pruning below
        others = sorted((entry.stat().st_mtime, entry.name) for entry in os.scandir(root)
                        if entry.name != scope and entry.is_dir(follow_symlinks=False))
        for _mtime, name in others[:max(0, len(others) - KEPT_TEMPLATE_SCOPES)]:
            shutil.rmtree(root / name, ignore_errors=True)
    except OSError:
        return None  # only a cache: a build never fails for it
    return folder


def _private(folder: Path) -> bool:
    """A real folder (not a link) of this user's, that no one else can write to."""
    st = os.lstat(folder)
    getuid = getattr(os, "getuid", None)
    return (stat.S_ISDIR(st.st_mode) and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
            and (getuid is None or st.st_uid == getuid()) and os.access(folder, os.W_OK))


def cache_file(output: Path) -> Path:
    output = output.resolve()
    return output.parent / f".{output.name}.cache" / "build.json"


def code_scope(*parts: Any) -> str:
    """A digest of sitegen's code and ``parts``: what a cache kept by this sitegen is valid for."""
    return digest_json([FORMAT, __version__, code_digest(), *parts])


def scope(source: Path, *parts: Any) -> str:
    """The build cache's scope: this sitegen, building ``source``, with ``parts`` (options, library versions)."""
    return code_scope(str(source.resolve()), *parts)
