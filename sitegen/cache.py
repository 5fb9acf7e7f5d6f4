"""The build cache: what earlier builds already read and rendered, keyed by content digests.

Nothing here trusts file times (a git checkout resets them): a run is recognised by a digest of every file
in its folder, a run's published files by a key made of that digest, everything site-wide that its page
shows (config, theme, sitegen's version, its experiment, its neighbours in the lineage), and the digests
of the files it produced. The cache is plain JSON in ``.<output>.cache/`` beside the output directory; it
can be kept between CI runs (see the README) and deleted at any time (the next build is then cold).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from . import __version__

FORMAT = "sitegen.cache/1"
MAX_HASHED_BYTES = 64 * 1024 * 1024  # larger files are recognised by size (they are listed, not published)


def digest_bytes(*parts: bytes) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()


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


def tree_digest(directory: Path, parts: dict[str, str] | None = None, depth: int = 0) -> str:
    """A digest of every file (path, size, content) below ``directory``; symlinks count by name only.

    With ``parts``, each folder ``depth`` levels down (e.g. 2 for ``runs/<exp>/<run>``) is digested on its
    own, as :func:`tree_digest` of that folder, and recorded in ``parts`` by its relative path; the whole
    digest is then made of those (so a caller can reuse one folder's digest without reading it again)."""
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
                    sub = parts[rel] = tree_digest(Path(entry.path))
                    entries.append(f"tree {rel} {sub}")
                else:
                    walk(entry.path, rel + "/", level + 1)
            elif entry.is_file(follow_symlinks=False):
                try:
                    size = entry.stat(follow_symlinks=False).st_size
                    entries.append(f"{rel} {size} {file_digest(entry.path, size)}")
                except OSError:
                    continue

    walk(os.fspath(directory), "", 0)
    return digest_bytes("\n".join(entries).encode("utf-8", "surrogateescape"))


class BuildCache:
    """Run records (what loading a run found) and page records (what rendering a run wrote)."""

    def __init__(self, path: Path | None, scope: str):
        self.path = path
        self.scope = scope  # builds of another source, sitegen version or option set do not share records
        self.runs: dict[str, dict[str, Any]] = {}
        self.pages: dict[str, dict[str, Any]] = {}
        self.new_runs: dict[str, dict[str, Any]] = {}
        self.new_pages: dict[str, dict[str, Any]] = {}
        if path is not None:
            self._read()

    def _read(self) -> None:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(data, dict) and data.get("format") == FORMAT and data.get("scope") == self.scope:
            self.runs = data.get("runs") or {}
            self.pages = data.get("pages") or {}

    def run(self, uid: str, digest: str) -> dict[str, Any] | None:
        record = self.runs.get(uid)
        return record if record is not None and record.get("digest") == digest else None

    def page(self, uid: str, key: str) -> dict[str, Any] | None:
        record = self.pages.get(uid)
        return record if record is not None and record.get("key") == key else None

    def save(self) -> None:
        """Write the records of this build (records of runs that no longer exist are dropped)."""
        if self.path is None:
            return
        data = {"format": FORMAT, "scope": self.scope, "runs": self.new_runs, "pages": self.new_pages}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        # key order is kept: cached run data must come back exactly as the YAML file had it
        tmp.write_text(json.dumps(data, allow_nan=True), encoding="utf-8")
        os.replace(tmp, self.path)


def cache_file(output: Path) -> Path:
    output = output.resolve()
    return output.parent / f".{output.name}.cache" / "build.json"


def scope(source: Path, *parts: Any) -> str:
    return digest_json([FORMAT, __version__, str(source.resolve()), *parts])
