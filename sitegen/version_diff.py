"""What changed between two versions of a model: metric deltas, params, data (input digests), code."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from .card import Card, build_card, commit_url, overall_results, performance_metrics
from .model import ModelVersion, Project, RegisteredModel

_MISSING = object()


@dataclass
class VersionDiff:
    relation: str  # "previous" or "champion"
    base: ModelVersion
    target: ModelVersion
    metrics: list[dict[str, Any]] = field(default_factory=list)  # metric, base, target, delta
    params: list[dict[str, Any]] = field(default_factory=list)  # key, base, target (None = absent)
    data: list[dict[str, Any]] = field(default_factory=list)  # name, role, base, target, change
    code: dict[str, Any] | None = None  # repo, base, target, same, url

    @property
    def empty(self) -> bool:
        return not (self.metrics or self.params or self.data or (self.code and not self.code["same"]))


def _results(card: Card) -> dict[str, float]:
    values = overall_results(card)
    if card.run is not None:
        for key in performance_metrics(card.run):
            last = card.run.metrics[key].last
            if key not in values and isinstance(last, (int, float)):
                values[key] = float(last)
    return values


def _inputs(card: Card) -> dict[tuple[str, str], str | None]:
    out: dict[tuple[str, str], str | None] = {}
    if card.run is None:
        return out
    for i, item in enumerate(card.run.provenance.get("inputs") or []):
        if isinstance(item, dict):
            key = (str(item.get("name") or item.get("uri") or f"input {i}"), str(item.get("role") or ""))
            out[key] = item.get("digest")
    return out


def _code(card: Card) -> dict[str, Any]:
    code = card.run.provenance.get("code") if card.run is not None else None
    return code if isinstance(code, dict) else {}


def compare_url(repo: Any, a: Any, b: Any) -> str | None:
    if commit_url(repo, a) and commit_url(repo, b):
        return f"{str(repo).rstrip('/').removesuffix('.git')}/compare/{a}...{b}"
    return None


def diff_versions(project: Project, model: RegisteredModel, base: ModelVersion, target: ModelVersion,
                  relation: str) -> VersionDiff:
    a, b = build_card(project, model, base), build_card(project, model, target)
    out = VersionDiff(relation, base, target)
    ra, rb = _results(a), _results(b)
    for key in sorted(set(ra) | set(rb)):
        va, vb = ra.get(key), rb.get(key)
        delta = vb - va if va is not None and vb is not None and math.isfinite(va) and math.isfinite(vb) else None
        out.metrics.append({"metric": key, "base": va, "target": vb, "delta": delta})
    pa = a.run.params_flat if a.run else {}
    pb = b.run.params_flat if b.run else {}
    for key in sorted(set(pa) | set(pb)):
        va, vb = pa.get(key, _MISSING), pb.get(key, _MISSING)
        if va != vb:
            out.params.append({"key": key, "base": None if va is _MISSING else va,
                               "target": None if vb is _MISSING else vb,
                               "change": "added" if va is _MISSING else "removed" if vb is _MISSING else "changed"})
    ia, ib = _inputs(a), _inputs(b)
    for key in sorted(set(ia) | set(ib)):
        if key in ia and key in ib and ia[key] == ib[key]:
            continue
        change = "added" if key not in ia else "removed" if key not in ib else "changed"
        out.data.append({"name": key[0], "role": key[1] or None, "base": ia.get(key), "target": ib.get(key),
                         "change": change})
    ca, cb = _code(a), _code(b)
    if ca.get("commit") or cb.get("commit"):
        repo = cb.get("repo") or ca.get("repo") or project.config.repo_url
        same = ca.get("commit") == cb.get("commit")
        out.code = {"repo": repo, "base": ca.get("commit"), "target": cb.get("commit"), "same": same,
                    "url": None if same else compare_url(repo, ca.get("commit"), cb.get("commit")),
                    "base_url": commit_url(repo, ca.get("commit")), "target_url": commit_url(repo, cb.get("commit")),
                    "repos_differ": bool(ca.get("repo") and cb.get("repo") and ca["repo"] != cb["repo"])}
    return out


def diffs_for(project: Project, model: RegisteredModel, version: ModelVersion) -> list[VersionDiff]:
    """``version`` against the previous version and against the champion (when they differ)."""
    out = []
    earlier = [v for v in model.versions if v.version < version.version]
    if earlier:
        out.append(diff_versions(project, model, earlier[-1], version, "previous"))
    champ = model.version(model.aliases.get("champion") or 0)
    if champ is not None and champ.version != version.version and (not earlier or champ is not earlier[-1]):
        out.append(diff_versions(project, model, champ, version, "champion"))
    return out


def short(commit: Any) -> str:
    return commit[:10] if isinstance(commit, str) and re.fullmatch(r"[0-9a-fA-F]{11,64}", commit) else str(commit)
