"""What git knows about a source: for every file, the commit that added it and the one that last changed
it, and the list of commits that touched the source. ONE ``git log`` pass per build.

The source may be a subdirectory of a repository (``sample_runs/`` inside the sitegen repo): paths are
taken relative to the source (``git log --relative``) and only commits touching it are read. A source
outside git has no history (:func:`read_git` returns None); a shallow clone is read as far as it goes,
and files "added" by the oldest commit it has are reported as added before that history begins.

Commit messages and author names are untrusted text: they are returned as given, for templates to escape.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

GIT_TIMEOUT = 120.0
_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_FORMAT = "%x1e%H%x1f%P%x1f%aI%x1f%an%x1f%s"


@dataclass(frozen=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    date: datetime
    author: str
    subject: str

    @property
    def short(self) -> str:
        return self.sha[:10]


@dataclass
class FileHistory:
    """``added``: the commit that (last) added the file, None when that is before a shallow clone's
    history; ``changed``: the newest commit that touched it."""

    added: Commit | None = None
    changed: Commit | None = None
    before_shallow: bool = False


@dataclass
class CommitChanges:
    commit: Commit
    changes: list[tuple[str, str]] = field(default_factory=list)  # (status A/M/D/T, path relative to source)
    boundary: bool = False  # the oldest commit of a shallow clone: its "A"s are not real additions


@dataclass
class GitInfo:
    top: Path
    prefix: str  # the source's path inside the repository, "" or ending in "/"
    shallow: bool
    commits: list[CommitChanges]  # newest first
    files: dict[str, FileHistory]

    def file(self, relpath: str) -> FileHistory | None:
        return self.files.get(relpath)

    def blob_specs(self, commit: str, relpath: str) -> str:
        """``<commit>:<path from the repository root>`` for ``git cat-file``."""
        return f"{commit}:{self.prefix}{relpath}"


def _git(args: list[str], cwd: Path, *, stdin: bytes | None = None) -> bytes | None:
    env = {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0",
           "GIT_PAGER": "cat"}
    try:
        done = subprocess.run(["git", "-c", "log.showSignature=false", "-c", "core.quotepath=off", *args],
                              cwd=cwd, input=stdin, capture_output=True, timeout=GIT_TIMEOUT, env=env,
                              check=False, **({} if stdin is not None else {"stdin": subprocess.DEVNULL}))
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _parse_date(text: str) -> datetime:
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return dt.astimezone(timezone.utc)


def parse_log(data: bytes) -> list[CommitChanges]:
    """Parse ``git log -z --name-status --format=<_FORMAT>`` output (newest first)."""
    tokens = data.decode("utf-8", "replace").split("\0")
    out: list[CommitChanges] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i].lstrip("\n")
        i += 1
        if not tok.startswith("\x1e"):
            continue  # trailing empty token
        sha, parents, date, author, subject = (tok[1:].split("\x1f", 4) + ["", "", "", ""])[:5]
        if not _SHA.match(sha):
            continue
        entry = CommitChanges(Commit(sha, tuple(parents.split()), _parse_date(date), author, subject))
        # (status, path) pairs follow until the next header
        while i + 1 < len(tokens):
            status = tokens[i].lstrip("\n")
            if not (1 <= len(status) <= 4 and status[0] in "ACDMTUXB"):
                break
            entry.changes.append((status[0], tokens[i + 1]))
            i += 2
        out.append(entry)
    return out


def read_git(source: str | Path) -> GitInfo | None:
    """Read the history of ``source``; None when it is not inside a git work tree (or git is missing)."""
    src = Path(source).resolve()
    head = _git(["rev-parse", "--show-toplevel", "--show-prefix", "--is-shallow-repository",
                 "--git-path", "shallow"], src)
    if head is None:
        return None
    lines = head.decode("utf-8", "replace").split("\n")
    top, prefix, shallow_flag, shallow_path = (lines + ["", "", "", ""])[:4]
    if _git(["rev-parse", "--verify", "-q", "HEAD"], src) is None:
        return GitInfo(Path(top), prefix, False, [], {})  # a repository without commits
    data = _git(["log", "--no-renames", "--name-status", "-z", "--relative", "--no-color",
                 f"--format={_FORMAT}", "HEAD", "--", "."], src)
    if data is None:
        return None
    commits = parse_log(data)
    boundary: set[str] = set()
    shallow = shallow_flag.strip() == "true"
    if shallow:
        spath = Path(shallow_path.strip())
        spath = spath if spath.is_absolute() else src / spath
        try:
            boundary = set(spath.read_text().split())
        except OSError:
            boundary = set()
    files: dict[str, FileHistory] = {}
    for entry in reversed(commits):  # oldest first
        entry.boundary = entry.commit.sha in boundary or (shallow and entry is commits[-1])
        for status, path in entry.changes:
            hist = files.setdefault(path, FileHistory())
            if status == "D":
                files[path] = FileHistory()
                continue
            if status == "A":
                hist.added = None if entry.boundary else entry.commit
                hist.before_shallow = entry.boundary
            hist.changed = entry.commit
    files = {p: h for p, h in files.items() if h.changed is not None}
    return GitInfo(Path(top), prefix.strip(), shallow, commits, files)


def read_blobs(info: GitInfo, specs: list[str]) -> dict[str, bytes | None]:
    """Contents of ``<commit>:<path>`` blobs with one ``git cat-file --batch`` process (None: missing)."""
    if not specs:
        return {}
    data = _git(["cat-file", "--batch"], info.top, stdin="".join(s + "\n" for s in specs).encode())
    out: dict[str, bytes | None] = {s: None for s in specs}
    if data is None:
        return out
    pos = 0
    for spec in specs:
        nl = data.find(b"\n", pos)
        if nl < 0:
            break
        header = data[pos:nl].decode("utf-8", "replace")
        pos = nl + 1
        parts = header.split()
        if len(parts) == 3 and parts[1] == "blob":
            size = int(parts[2])
            out[spec] = data[pos:pos + size]
            pos += size + 1
        elif len(parts) == 3:  # a tree or another object: skip its content
            pos += int(parts[2]) + 1
    return out


def web_repo(url: str | None) -> str | None:
    """A repository's web address from what a run or the config recorded: ``git@host:org/proj.git`` and
    ``https://host/org/proj.git`` both give ``https://host/org/proj``; anything else gives None."""
    if not url or not isinstance(url, str):
        return None
    return _web_repo(url)


@functools.lru_cache(maxsize=256)
def _web_repo(url: str) -> str | None:
    """:func:`web_repo` of a string, remembered: runs mostly record one repository, asked about for
    every run page and every run's cache key."""
    url = url.strip()
    m = re.match(r"^(?:ssh://)?git@([\w.-]+)[:/](.+?)(?:\.git)?/?$", url)
    if m:
        return f"https://{m.group(1)}/{m.group(2)}"
    m = re.match(r"^(https?://[^\s]+?)(?:\.git)?/?$", url)
    return m.group(1) if m else None


_SHA = re.compile(r"[0-9a-fA-F]{4,64}")


def commit_url(repo: str | None, sha: str | None) -> str | None:
    """The web view of a commit (GitLab style ``/-/commit/`` for GitLab hosts, else ``/commit/``)."""
    base = web_repo(repo)
    if not base or not sha or not _SHA.fullmatch(sha):
        return None
    sep = "/-/commit/" if "gitlab" in base.split("/")[2] else "/commit/"
    return base + sep + sha  # hex digits: nothing to quote
