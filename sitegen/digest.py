"""Content digests for artifacts, inputs and outputs: sha256, streamed; directories as a tree hash.

A file's digest is ``sha256:<hex>`` of its bytes. A directory's digest is ``sha256:<hex>`` of the
UTF-8 text made of one line ``<relative/posix/path>\\t<file sha256 hex>\\n`` for every regular file
below it, sorted by path (symbolic links are followed for files, not for directories). So the tree
digest is independent of file system order and of timestamps, and changes with any name or content.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

CHUNK = 1 << 20


def file_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def tree_files(root: str | os.PathLike) -> list[tuple[str, Path]]:
    """(relative posix path, absolute path) of every regular file below ``root``, sorted by path."""
    root = Path(root)
    found: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            full = Path(dirpath) / name
            if full.is_file():
                found.append((full.relative_to(root).as_posix(), full))
    found.sort(key=lambda item: item[0])
    return found


def tree_sha256(root: str | os.PathLike) -> tuple[str, int]:
    """Hex tree digest of a directory (see module docstring) and the total size of its files."""
    h = hashlib.sha256()
    total = 0
    for rel, full in tree_files(root):
        h.update(f"{rel}\t{file_sha256(full)}\n".encode())
        total += full.stat().st_size
    return h.hexdigest(), total


def path_digest(path: str | os.PathLike) -> tuple[str, int]:
    """``("sha256:<hex>", size in bytes)`` of a file or a directory tree."""
    p = Path(path)
    if p.is_dir():
        hexdigest, size = tree_sha256(p)
    else:
        hexdigest, size = file_sha256(p), p.stat().st_size
    return f"sha256:{hexdigest}", size


def is_uri(location: str) -> bool:
    """True for ``scheme://...`` locations other than ``file://`` (recorded, never downloaded)."""
    head, sep, _ = str(location).partition("://")
    return bool(sep) and head.isascii() and head.replace("+", "").replace("-", "").replace(".", "").isalnum() \
        and head.lower() != "file" and len(head) > 1
