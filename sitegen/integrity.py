"""Integrity checks at build time: do the files still match the digests the runs recorded?

- An artifact file inside a run folder (a provenance output or an ``artifacts:`` entry with
  ``path: artifacts/...`` and a ``digest``) whose current content hashes to something else is
  *modified*; one that is gone is *missing*. A git LFS pointer is compared by its oid.
- An input that names a dataset file (by ``dataset:`` slug, or by the dataset's slug as its name) but
  records another digest than the file does is *stale* (see :class:`sitegen.lineage.InputCheck`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .digest import path_digest
from .model import Project, Run
from .store.artifacts import read_lfs_pointer


@dataclass(frozen=True)
class ArtifactCheck:
    run: str  # uid
    path: str  # as recorded, relative to the run folder
    recorded: str
    current: str | None  # None when the file is missing
    problem: str  # "modified" | "missing"


def _recorded_files(run: Run) -> list[tuple[str, str]]:
    """(path relative to the run folder, digest) of every recorded file that lives in the run folder."""
    found: dict[str, str] = {}
    entries: list[Any] = list(run.provenance.get("outputs") or []) + list(run.raw.get("artifacts") or [])
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        path, digest = entry.get("path"), entry.get("digest")
        if not isinstance(path, str) or not isinstance(digest, str) or not digest.startswith("sha256:"):
            continue
        pure = PurePosixPath(path)
        if pure.is_absolute() or ".." in pure.parts or not pure.parts or pure.parts[0] != "artifacts":
            continue
        found.setdefault(pure.as_posix(), digest)
    return sorted(found.items())


def _current_digest(path: Path) -> str | None:
    if path.is_symlink() or not path.exists():
        return None
    if path.is_file():
        size = path.stat().st_size
        pointer = read_lfs_pointer(path, size)
        if pointer is not None:
            oid = pointer[0]
            return oid if oid.startswith("sha256:") else f"sha256:{oid}"
    return path_digest(path)[0]


def check_artifacts(project: Project) -> dict[str, list[ArtifactCheck]]:
    """Problems by run uid (runs without problems are absent)."""
    out: dict[str, list[ArtifactCheck]] = {}
    for uid in sorted(project.runs):
        run = project.runs[uid]
        for rel, recorded in _recorded_files(run):
            try:
                current = _current_digest(run.directory / rel)
            except OSError:
                current = None
            if current == recorded:
                continue
            out.setdefault(uid, []).append(
                ArtifactCheck(uid, rel, recorded, current, "missing" if current is None else "modified"))
    return out
