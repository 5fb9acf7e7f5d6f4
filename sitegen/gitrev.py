"""A source as of a git revision, extracted into a temporary directory.

``git archive`` reads the committed tree straight from the object database, so neither the working tree
nor the index of the user's repository is touched. The source may be a subdirectory of the repository:
only that subtree is extracted and the temporary directory stands for it.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .diagnostics import SitegenError

WORKTREE = None  # a revision of None means "the working tree as it is"


@dataclass(frozen=True)
class Revision:
    """A resolved revision: what the user typed, the commit it names, and its commit time."""

    name: str
    commit: str
    time: str  # ISO 8601 committer date, from the commit (never the clock)
    subject: str


def _git(cwd: Path, *args: str, binary: bool = False) -> str | bytes:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, env=env)
    except FileNotFoundError:
        raise SitegenError("git is not installed (needed for --rev and sitegen diff)") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SitegenError(f"git {' '.join(args[:2])} failed in {cwd}: {message[-1] if message else 'no output'}")
    return done.stdout if binary else done.stdout.decode("utf-8", "replace")


def repo_root(source: Path) -> tuple[Path, str]:
    """The repository containing ``source`` and the source's path inside it ('' at the top)."""
    source = Path(source).resolve()
    if not source.is_dir():
        raise SitegenError(f"source {source} is not a directory")
    try:
        top = Path(str(_git(source, "rev-parse", "--show-toplevel")).strip()).resolve()
    except SitegenError:
        raise SitegenError(f"{source} is not inside a git repository; --rev and sitegen diff need one") from None
    prefix = source.relative_to(top).as_posix()
    return top, "" if prefix == "." else prefix


def resolve(source: Path, rev: str) -> Revision:
    """The commit ``rev`` names in the repository of ``source`` (an error naming the revision if none)."""
    if not rev or rev.startswith("-"):
        raise SitegenError(f"invalid git revision {rev!r}")
    top, _ = repo_root(source)
    try:
        commit = str(_git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")).strip()
    except SitegenError:
        raise SitegenError(f"unknown git revision {rev!r} in {top} (try a branch, tag or commit sha)") from None
    fields = str(_git(top, "show", "-s", "--format=%cI%x00%s", commit)).rstrip("\n").split("\x00", 1)
    return Revision(name=rev, commit=commit, time=fields[0], subject=fields[1] if len(fields) > 1 else "")


def _extract(archive: bytes, dest: Path, prefix: str) -> None:
    """Unpack a ``git archive`` tar into ``dest``, dropping ``prefix``; refuse links leaving the tree."""
    strip = prefix + "/" if prefix else ""
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
        members = []
        for member in tar.getmembers():
            if member.name in ("pax_global_header",) or member.type == tarfile.XGLTYPE:
                continue
            if strip:
                if not member.name.startswith(strip):
                    continue
                member.name = member.name[len(strip):]
                if not member.name:
                    continue
            members.append(member)
        # the "data" filter rejects absolute paths, '..' and links pointing outside dest
        tar.extractall(dest, members=members, filter="data")


@contextlib.contextmanager
def checkout(source: str | Path, rev: str) -> Iterator[Path]:
    """Yield a temporary directory holding ``source`` as of ``rev``; removed afterwards.

    Git LFS pointer files stay pointers (what is committed), which the site shows as such.
    """
    source = Path(source)
    revision = resolve(source, rev)
    top, prefix = repo_root(source)
    if prefix:
        listed = str(_git(top, "ls-tree", "-d", "--name-only", revision.commit, "--", prefix)).strip()
        if not listed:
            raise SitegenError(f"{prefix}/ does not exist at revision {rev} ({revision.commit[:12]})")
    args = ["archive", "--format=tar", revision.commit]
    if prefix:
        args += ["--", prefix]
    archive = _git(top, *args, binary=True)
    with tempfile.TemporaryDirectory(prefix="sitegen-rev-") as tmp:
        dest = Path(tmp) / (Path(prefix).name or top.name or "source")
        dest.mkdir()
        _extract(archive, dest, prefix)
        yield dest
