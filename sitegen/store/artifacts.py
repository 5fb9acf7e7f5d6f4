"""Listing a run's artifacts/ folder: kinds, sizes, git LFS pointers; links are never followed."""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

from ..model import Artifact
from .paths import read_head

MAX_ARTIFACTS = 5000  # listed per run; the rest are counted
LFS_PREFIX = b"version https://git-lfs.github.com/spec/"
_LFS_RE = re.compile(rb"^oid sha256:([0-9a-f]{64})$", re.M)
_LFS_SIZE_RE = re.compile(rb"^size (\d+)$", re.M)

KINDS = {
    ".png": "image", ".jpg": "image", ".jpeg": "image", ".gif": "image", ".webp": "image", ".avif": "image",
    ".svg": "svg",
    ".txt": "text", ".log": "text", ".out": "text", ".err": "text", ".cfg": "text", ".ini": "text",
    ".toml": "text", ".py": "text", ".sh": "text", ".lock": "text", ".tsv": "text",
    ".json": "json", ".jsonl": "text", ".yaml": "yaml", ".yml": "yaml",
    ".csv": "csv",
    ".md": "markdown", ".markdown": "markdown",
    ".html": "html", ".htm": "html",
    ".diff": "diff", ".patch": "diff",
}
TEXT_KINDS = {"text", "json", "yaml", "csv", "markdown", "html", "diff", "svg"}


def kind_of(name: str) -> str:
    lower = name.lower()
    if lower.startswith("requirements") and lower.endswith(".txt"):
        return "text"
    return KINDS.get(PurePosixPath(lower).suffix, "binary")


SMALL_FILE = 1024  # files up to this size are read while listing: a git LFS pointer is one of them


def lfs_pointer(head: bytes) -> tuple[str, int] | None:
    """(oid, size) when ``head`` (a file's first bytes) is a git LFS pointer, else None."""
    if not head.startswith(LFS_PREFIX):
        return None
    oid = _LFS_RE.search(head)
    real = _LFS_SIZE_RE.search(head)
    if not oid or not real:
        return None
    return "sha256:" + oid.group(1).decode(), int(real.group(1))


def read_lfs_pointer(path: Path, size: int) -> tuple[str, int] | None:
    """(oid, size) when ``path`` is a git LFS pointer file, else None."""
    if size > SMALL_FILE:
        return None
    return lfs_pointer(read_head(path, SMALL_FILE))


def scan(run_dir: Path) -> tuple[list[Artifact], list[str], int]:
    """Artifacts under ``run_dir/artifacts`` as (artifacts, skipped symlink paths, count not listed)."""
    base = run_dir / "artifacts"
    if not base.is_dir() or base.is_symlink():
        return [], (["artifacts"] if base.is_symlink() else []), 0
    found: list[Artifact] = []
    links: list[str] = []
    extra = 0
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        here = Path(dirpath)
        dirnames.sort()
        for d in list(dirnames):
            if (here / d).is_symlink():
                links.append((here / d).relative_to(base).as_posix())
                dirnames.remove(d)
        for name in sorted(filenames):
            path = here / name
            relp = path.relative_to(base).as_posix()
            try:
                st = path.lstat()
            except OSError:
                continue
            if path.is_symlink():
                links.append(relp)
                continue
            if not path.is_file():
                continue
            if len(found) >= MAX_ARTIFACTS:
                extra += 1
                continue
            head = read_head(path, SMALL_FILE) if st.st_size <= SMALL_FILE else None
            lfs = lfs_pointer(head) if head is not None else None
            if lfs:
                found.append(Artifact(path=relp, size=lfs[1], kind="lfs", lfs_oid=lfs[0], source=path))
            else:
                # A small file's bytes are kept for its preview, which then does not read the file again
                # (when the read gave the whole file, as listed).
                content = head if head is not None and len(head) == st.st_size else None
                found.append(Artifact(path=relp, size=st.st_size, kind=kind_of(name), source=path,
                                      content=content))
    found.sort(key=lambda a: a.path)
    return found, sorted(links), extra
