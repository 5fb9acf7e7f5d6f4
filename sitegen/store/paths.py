"""Names and paths inside a source: validation, listing that never follows a link out of it, reading a
file's first bytes."""

from __future__ import annotations

import os
from pathlib import Path

from ..ids import RUN_ID_RE, SLUG_RE, is_run_id

MAX_SLUG = 128  # longer names make unwieldy URLs and hit file-name limits on some systems

__all__ = ["RUN_ID_RE", "SLUG_RE", "is_run_id", "is_slug", "describe_name", "rel", "list_entries", "is_plain_file",
           "read_head"]


def is_slug(name: str) -> bool:
    """A valid experiment / model / dataset name of at most MAX_SLUG characters."""
    return len(name) <= MAX_SLUG and SLUG_RE.fullmatch(name) is not None


def describe_name(name: str) -> str:
    """A printable form of a directory name for messages (control characters escaped, length capped)."""
    text = name.encode("unicode_escape", "backslashreplace").decode("ascii")
    return text if len(text) <= 80 else text[:77] + "..."


def rel(root: Path, path: Path) -> str:
    """``path`` relative to ``root`` in POSIX form (for messages and diagnostics)."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def list_entries(directory: Path) -> tuple[list[os.DirEntry], list[os.DirEntry]]:
    """Entries of ``directory`` sorted by name, split into (usable, symlinks). Symlinks are never followed."""
    try:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return [], []
    usable = [e for e in entries if not e.is_symlink()]
    links = [e for e in entries if e.is_symlink()]
    return usable, links


def is_plain_file(path: Path) -> bool:
    """A regular file that is not a symlink."""
    try:
        return path.is_file() and not path.is_symlink()
    except OSError:
        return False


def read_head(path: Path | str, count: int) -> bytes:
    """At most ``count`` bytes from the start of a regular file, with one read (a regular file gives fewer
    bytes than asked only at its end). os-level calls: artifacts are read this way, two or three small files
    a run, and Python's buffered file object costs more than reading them."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        return os.read(fd, count)
    finally:
        os.close(fd)
