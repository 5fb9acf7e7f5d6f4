"""What each commit changed in the run store: runs added, removed or changed; model versions added;
alias moves; datasets. Built from :mod:`sitegen.gitinfo` (the one ``git log`` pass) plus one
``git cat-file --batch`` for the model.yaml files whose aliases may have moved."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from .gitinfo import Commit, GitInfo, read_blobs

_RUN = re.compile(r"^runs/([^/]+)/([^/]+)/(.+)$")
_VERSION = re.compile(r"^models/([^/]+)/versions/([0-9]+)\.ya?ml$")
_MODEL = re.compile(r"^models/([^/]+)/model\.ya?ml$")
_DATASET = re.compile(r"^datasets/([^/]+)\.ya?ml$")
VERBS = {"A": "added", "D": "removed", "M": "changed", "T": "changed"}


@dataclass
class AliasMove:
    model: str
    alias: str
    old: int | None
    new: int | None


@dataclass
class CommitSummary:
    commit: Commit
    runs: dict[str, list[str]] = field(default_factory=dict)  # added/removed/changed -> run uids
    versions: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # verb -> (model, version)
    models: dict[str, list[str]] = field(default_factory=dict)  # verb -> model slugs (model.yaml)
    aliases: list[AliasMove] = field(default_factory=list)
    datasets: dict[str, list[str]] = field(default_factory=dict)
    other: int = 0  # other files (config, experiment.yaml, ...)
    boundary: bool = False

    @property
    def empty(self) -> bool:
        return not (self.runs or self.versions or self.models or self.aliases or self.datasets or self.other)


def _add(bucket: dict, verb: str, item) -> None:
    items = bucket.setdefault(verb, [])
    if item not in items:
        items.append(item)


def summarize(info: GitInfo) -> list[CommitSummary]:
    """One summary per commit that changed something in the source, newest first."""
    out: list[CommitSummary] = []
    alias_specs: list[tuple[CommitSummary, str, str, str]] = []  # (summary, model, before spec, after spec)
    for entry in info.commits:
        s = CommitSummary(entry.commit, boundary=entry.boundary)
        run_files: dict[str, set[str]] = {}
        for status, path in entry.changes:
            verb = VERBS.get(status, "changed")
            if m := _RUN.match(path):
                uid = f"{m.group(1)}/{m.group(2)}"
                run_files.setdefault(uid, set())
                if m.group(3) == "run.yaml":
                    run_files[uid].add(verb)
                else:
                    run_files[uid].add("files")
            elif m := _VERSION.match(path):
                _add(s.versions, verb, (m.group(1), int(m.group(2))))
            elif m := _MODEL.match(path):
                _add(s.models, verb, m.group(1))
                before = f"{entry.commit.parents[0]}" if entry.commit.parents and not entry.boundary else None
                alias_specs.append((s, m.group(1),
                                    info.blob_specs(before, path) if before and status != "A" else "",
                                    info.blob_specs(entry.commit.sha, path) if status != "D" else ""))
            elif m := _DATASET.match(path):
                _add(s.datasets, verb, m.group(1))
            else:
                s.other += 1
        for uid in sorted(run_files):
            verbs = run_files[uid]
            verb = "added" if "added" in verbs else "removed" if "removed" in verbs else "changed"
            _add(s.runs, verb, uid)
        if not s.empty:
            out.append(s)
    blobs = read_blobs(info, sorted({spec for _, _, a, b in alias_specs for spec in (a, b) if spec}))
    for summary, model, before, after in alias_specs:
        old = _aliases(blobs.get(before) if before else None)
        new = _aliases(blobs.get(after) if after else None)
        for alias in sorted(set(old) | set(new)):
            if old.get(alias) != new.get(alias):
                summary.aliases.append(AliasMove(model, alias, old.get(alias), new.get(alias)))
    return out


def _aliases(data: bytes | None) -> dict[str, int]:
    if not data:
        return {}
    try:
        doc = yaml.load(data.decode("utf-8", "replace"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return {}
    aliases = doc.get("aliases") if isinstance(doc, dict) else None
    if not isinstance(aliases, dict):
        return {}
    return {str(k): v for k, v in aliases.items() if isinstance(v, int) and not isinstance(v, bool)}
