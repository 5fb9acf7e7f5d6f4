"""What changed between two states of a source: runs, metrics, best runs, model versions, aliases, cards.

A state is reduced to a *snapshot* (a small JSON-able dict), and two snapshots are compared. The same
snapshot is written into every built site (``data/snapshot.json``), so a versioned build can compare
itself with the previous version without git; ``sitegen diff`` makes its snapshots from git revisions.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .diagnostics import SitegenError
from .jsonutil import dumps, dumps_lines, float_token
from .model import Project
from .render import fmt_iso

SNAPSHOT_FORMAT = "sitegen.snapshot/1"
DIFF_FORMAT = "sitegen.diff/1"
# Metric names that are better when lower, when no experiment goal says otherwise.
_LOWER_IS_BETTER = re.compile(r"(loss|err|error|mse|mae|rmse|latency|time|perplexity|ppl|wer|cer|cost)", re.I)


# --- snapshots -------------------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    """A user value as plain JSON data (dates as ISO strings, floats that JSON lacks as tokens)."""
    if isinstance(value, float):
        return float_token(value)
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(_plain(value), sort_keys=True).encode()).hexdigest()[:16]


def snapshot(project: Project) -> dict[str, Any]:
    """The comparable state of a project (deterministic; no clock, no absolute paths)."""
    experiments = {slug: {"title": e.title, "primary_metric": e.primary_metric, "goal": e.goal}
                   for slug, e in sorted(project.experiments.items())}
    runs = {}
    for uid in sorted(project.runs):
        run = project.runs[uid]
        runs[uid] = {
            "experiment": run.experiment, "name": run.name, "status": run.status,
            "start_time": fmt_iso(run.start_time) or None,
            "params": {k: _plain(v) for k, v in sorted(run.params_flat.items())},
            "metrics": {k: float_token(float(s.last)) if isinstance(s.last, (int, float)) else None
                        for k, s in sorted(run.metrics.items())},
            "tags": {str(k): _plain(v) for k, v in sorted(run.tags.items())},
        }
    models = {}
    for slug, m in sorted(project.models.items()):
        models[slug] = {
            "name": m.name,
            "aliases": dict(sorted(m.aliases.items())),
            "versions": {str(v.version): {
                "stage": v.stage, "source_run": v.source_run, "created": fmt_iso(v.created) or None,
                "card": {section: _digest(body) for section, body in sorted(v.card.items())},
            } for v in sorted(m.versions, key=lambda v: v.version)},
        }
    return {"format": SNAPSHOT_FORMAT, "experiments": experiments, "runs": runs, "models": models}


def snapshot_json(project: Project) -> str:
    return dumps_lines(snapshot(project))


def read_snapshot(path: Path) -> dict[str, Any] | None:
    """A snapshot written by an earlier build, or None when missing or of another format."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == SNAPSHOT_FORMAT else None


# --- comparing -------------------------------------------------------------------------------------------

def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}.get(value)


def goal_of(snap: dict[str, Any], experiment: str, metric: str) -> str:
    """``max`` or ``min``: the experiment's goal for its primary metric, else a guess from the name."""
    exp = snap.get("experiments", {}).get(experiment) or {}
    if exp.get("primary_metric") == metric and exp.get("goal") in ("max", "min"):
        return exp["goal"]
    return "min" if _LOWER_IS_BETTER.search(metric) else "max"


def best_run(snap: dict[str, Any], experiment: str, metric: str) -> tuple[str, float] | None:
    """The run of ``experiment`` with the best finite value of ``metric`` (ties: the smaller uid)."""
    goal = goal_of(snap, experiment, metric)
    best: tuple[str, float] | None = None
    for uid, run in sorted(snap["runs"].items()):
        if run["experiment"] != experiment:
            continue
        value = _num(run["metrics"].get(metric))
        if value is None or not math.isfinite(value):
            continue
        if best is None or (value > best[1] if goal == "max" else value < best[1]):
            best = (uid, value)
    return best


@dataclass
class Diff:
    """Everything that changed from ``before`` to ``after``; lists in a stable order."""

    before: str
    after: str
    runs_added: list[dict[str, Any]] = field(default_factory=list)
    runs_removed: list[dict[str, Any]] = field(default_factory=list)
    runs_changed: list[dict[str, Any]] = field(default_factory=list)  # {run, field, before, after}
    metric_changes: list[dict[str, Any]] = field(default_factory=list)  # {run, metric, before, after, delta}
    best_runs: list[dict[str, Any]] = field(default_factory=list)
    versions_added: list[dict[str, Any]] = field(default_factory=list)
    versions_removed: list[dict[str, Any]] = field(default_factory=list)
    alias_moves: list[dict[str, Any]] = field(default_factory=list)
    card_changes: list[dict[str, Any]] = field(default_factory=list)
    regressions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any((self.runs_added, self.runs_removed, self.runs_changed, self.metric_changes,
                        self.versions_added, self.versions_removed, self.alias_moves, self.card_changes,
                        [b for b in self.best_runs if b["changed"]]))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {"format": DIFF_FORMAT, **data}


def _mapping_changes(uid: str, prefix: str, old: dict, new: dict) -> list[dict[str, Any]]:
    return [{"run": uid, "field": f"{prefix}{key}", "before": old.get(key), "after": new.get(key)}
            for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key)]


def compare(before: dict[str, Any], after: dict[str, Any], *, before_label: str = "before",
            after_label: str = "after") -> Diff:
    """The differences between two snapshots."""
    diff = Diff(before=before_label, after=after_label)
    old_runs, new_runs = before["runs"], after["runs"]
    for uid in sorted(set(new_runs) - set(old_runs)):
        run = new_runs[uid]
        diff.runs_added.append({"run": uid, "name": run["name"], "status": run["status"],
                                "experiment": run["experiment"]})
    for uid in sorted(set(old_runs) - set(new_runs)):
        run = old_runs[uid]
        diff.runs_removed.append({"run": uid, "name": run["name"], "status": run["status"],
                                  "experiment": run["experiment"]})
    for uid in sorted(set(old_runs) & set(new_runs)):
        old, new = old_runs[uid], new_runs[uid]
        changes = []
        for key in ("name", "status"):
            if old[key] != new[key]:
                changes.append({"run": uid, "field": key, "before": old[key], "after": new[key]})
        changes += _mapping_changes(uid, "params.", old["params"], new["params"])
        changes += _mapping_changes(uid, "tags.", old["tags"], new["tags"])
        diff.runs_changed += changes
        for key in sorted(set(old["metrics"]) | set(new["metrics"])):
            a, b = old["metrics"].get(key), new["metrics"].get(key)
            if a == b:
                continue
            na, nb = _num(a), _num(b)
            delta = nb - na if na is not None and nb is not None and math.isfinite(na) and math.isfinite(nb) \
                else None
            diff.metric_changes.append({"run": uid, "metric": key, "before": a, "after": b,
                                        "delta": delta, "goal": goal_of(after, new["experiment"], key)})
    for slug in sorted(set(before.get("experiments", {})) | set(after.get("experiments", {}))):
        exp = after.get("experiments", {}).get(slug) or before["experiments"][slug]
        metric = exp.get("primary_metric")
        if not metric:
            continue
        a, b = best_run(before, slug, metric), best_run(after, slug, metric)
        if a is None and b is None:
            continue
        diff.best_runs.append({
            "experiment": slug, "metric": metric, "goal": goal_of(after, slug, metric),
            "before_run": a[0] if a else None, "before": a[1] if a else None,
            "after_run": b[0] if b else None, "after": b[1] if b else None, "changed": a != b,
        })
    old_models, new_models = before["models"], after["models"]
    for slug in sorted(set(old_models) | set(new_models)):
        om = old_models.get(slug) or {"aliases": {}, "versions": {}}
        nm = new_models.get(slug) or {"aliases": {}, "versions": {}}
        for n in sorted(set(nm["versions"]) - set(om["versions"]), key=int):
            v = nm["versions"][n]
            diff.versions_added.append({"model": slug, "version": int(n), "stage": v["stage"],
                                        "source_run": v["source_run"], "created": v["created"]})
        for n in sorted(set(om["versions"]) - set(nm["versions"]), key=int):
            diff.versions_removed.append({"model": slug, "version": int(n)})
        for alias in sorted(set(om["aliases"]) | set(nm["aliases"])):
            a, b = om["aliases"].get(alias), nm["aliases"].get(alias)
            if a != b:
                diff.alias_moves.append({"model": slug, "alias": alias, "before": a, "after": b})
        for n in sorted(set(om["versions"]) & set(nm["versions"]), key=int):
            oc, nc = om["versions"][n]["card"], nm["versions"][n]["card"]
            sections = sorted(s for s in set(oc) | set(nc) if oc.get(s) != nc.get(s))
            if sections:
                diff.card_changes.append({"model": slug, "version": int(n), "sections": sections})
    return diff


# --- regressions -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Threshold:
    metric: str
    amount: float
    relative: bool = False  # amount is a fraction of the old value

    @classmethod
    def parse(cls, text: str) -> "Threshold":
        metric, sep, amount = text.rpartition("=")
        if not sep or not metric or not amount:
            raise SitegenError(f"--fail-on-regression {text!r}: expected METRIC=THRESHOLD, e.g. val/acc=0.01 "
                               f"or loss=5%")
        relative = amount.endswith("%")
        try:
            value = float(amount[:-1] if relative else amount)
        except ValueError:
            raise SitegenError(f"--fail-on-regression {text!r}: threshold {amount!r} is not a number") from None
        if not math.isfinite(value) or value < 0:
            raise SitegenError(f"--fail-on-regression {text!r}: the threshold must be a number >= 0")
        return cls(metric, value / 100 if relative else value, relative)

    def allowed(self, old: float) -> float:
        return abs(old) * self.amount if self.relative else self.amount


def _worse_by(old: float, new: float, goal: str) -> float:
    return (old - new) if goal == "max" else (new - old)


def find_regressions(diff: Diff, before: dict[str, Any], after: dict[str, Any],
                     thresholds: list[Threshold]) -> list[dict[str, Any]]:
    """Runs (present on both sides) and experiments' best values that got worse than allowed.

    A metric that became NaN or infinite where it was finite is a regression whatever the threshold.
    """
    found = []
    for t in thresholds:
        for change in diff.metric_changes:
            if change["metric"] != t.metric:
                continue
            old, new = _num(change["before"]), _num(change["after"])
            if old is None or new is None or not math.isfinite(old):
                continue
            worse = math.inf if not math.isfinite(new) else _worse_by(old, new, change["goal"])
            if worse > t.allowed(old):
                found.append({"scope": "run", "subject": change["run"], "metric": t.metric,
                              "before": change["before"], "after": change["after"], "threshold": t.amount,
                              "relative": t.relative})
        experiments = sorted({r["experiment"] for r in after["runs"].values()}
                             & {r["experiment"] for r in before["runs"].values()})
        for slug in experiments:
            a, b = best_run(before, slug, t.metric), best_run(after, slug, t.metric)
            if a is None or b is None:  # nothing to compare (a metric no run of the experiment has any more)
                continue
            worse = _worse_by(a[1], b[1], goal_of(after, slug, t.metric))
            if worse > t.allowed(a[1]):
                found.append({"scope": "experiment", "subject": slug, "metric": t.metric, "before": a[1],
                              "after": b[1] if b else None, "threshold": t.amount, "relative": t.relative})
    return found


# --- output ----------------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|~])")


def md(value: Any) -> str:
    """A value as Markdown table-cell text: special characters escaped, newlines folded."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, float):
        text = _fmt_num(value)
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, sort_keys=True)
    else:
        text = str(value)
    text = " ".join(text.split())
    return _MD_SPECIAL.sub(r"\\\1", text) or "—"


def _fmt_num(value: Any) -> str:
    v = _num(value)
    if v is None:
        return str(value)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.6g}"


def _delta(change: dict[str, Any]) -> str:
    d = change["delta"]
    if d is None:
        return "—"
    better = (d > 0) == (change["goal"] == "max")
    arrow = "" if d == 0 else (" ✅" if better else " ⚠️")
    return f"{'+' if d > 0 else ''}{_fmt_num(d)}{arrow}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines + [""]


def to_markdown(diff: Diff, *, heading: str = "##") -> str:
    """GitHub-flavoured Markdown: a summary line, then one table per kind of change."""
    sub = heading + "#"
    out = [f"{heading} Changes from {md(diff.before)} to {md(diff.after)}", ""]
    counts = [(len(diff.runs_added), "run added", "runs added"),
              (len(diff.runs_removed), "run removed", "runs removed"),
              (len({c['run'] for c in diff.runs_changed} | {c['run'] for c in diff.metric_changes}),
               "run changed", "runs changed"),
              (len(diff.versions_added), "model version added", "model versions added"),
              (len(diff.alias_moves), "alias moved", "aliases moved"),
              (len(diff.card_changes), "model card changed", "model cards changed")]
    summary = [f"{n} {one if n == 1 else many}" for n, one, many in counts if n]
    out += [("**" + ", ".join(summary) + "**") if summary else "No changes.", ""]
    if diff.regressions:
        out += [f"{sub} ❌ Regressions", ""]
        out += _table(["Scope", "Subject", "Metric", "Before", "After", "Allowed"],
                      [[r["scope"], md(r["subject"]), md(r["metric"]), md(r["before"]), md(r["after"]),
                        f"{_fmt_num(r['threshold'] * 100)}%" if r["relative"] else _fmt_num(r["threshold"])]
                       for r in diff.regressions])
    if diff.runs_added:
        out += [f"{sub} Runs added", ""]
        out += _table(["Run", "Name", "Status"],
                      [[md(r["run"]), md(r["name"]), md(r["status"])] for r in diff.runs_added])
    if diff.runs_removed:
        out += [f"{sub} Runs removed", ""]
        out += _table(["Run", "Name", "Status"],
                      [[md(r["run"]), md(r["name"]), md(r["status"])] for r in diff.runs_removed])
    if diff.runs_changed:
        out += [f"{sub} Runs changed", ""]
        out += _table(["Run", "Field", "Before", "After"],
                      [[md(c["run"]), md(c["field"]), md(c["before"]), md(c["after"])] for c in diff.runs_changed])
    if diff.metric_changes:
        out += [f"{sub} Metric changes", ""]
        out += _table(["Run", "Metric", "Before", "After", "Change"],
                      [[md(c["run"]), md(c["metric"]), md(_fmt_num(c["before"]) if c["before"] is not None else None),
                        md(_fmt_num(c["after"]) if c["after"] is not None else None), _delta(c)]
                       for c in diff.metric_changes])
    if diff.best_runs:
        out += [f"{sub} Best run of each experiment", ""]
        out += _table(["Experiment", "Metric", "Before", "After"],
                      [[md(b["experiment"]), md(f"{b['metric']} ({b['goal']})"),
                        md(f"{b['before_run']}: {_fmt_num(b['before'])}" if b["before_run"] else None),
                        md(f"{b['after_run']}: {_fmt_num(b['after'])}" if b["after_run"] else None)
                        + ("" if b["changed"] else " (unchanged)")]
                       for b in diff.best_runs])
    if diff.versions_added or diff.versions_removed:
        out += [f"{sub} Model versions", ""]
        rows = [[md(v["model"]), str(v["version"]), "added", md(v["stage"]), md(v["source_run"])]
                for v in diff.versions_added]
        rows += [[md(v["model"]), str(v["version"]), "removed", "—", "—"] for v in diff.versions_removed]
        out += _table(["Model", "Version", "Change", "Stage", "Source run"], rows)
    if diff.alias_moves:
        out += [f"{sub} Alias moves", ""]
        out += _table(["Model", "Alias", "Before", "After"],
                      [[md(a["model"]), md(a["alias"]), md(a["before"]), md(a["after"])] for a in diff.alias_moves])
    if diff.card_changes:
        out += [f"{sub} Model card changes", ""]
        out += _table(["Model", "Version", "Sections changed"],
                      [[md(c["model"]), str(c["version"]), ", ".join(md(s) for s in c["sections"])]
                       for c in diff.card_changes])
    return "\n".join(out).rstrip("\n") + "\n"


def to_json(diff: Diff) -> str:
    return dumps(diff.to_dict(), indent=1) + "\n"


# --- revisions -------------------------------------------------------------------------------------------

def snapshot_of(source: str | Path, rev: str | None) -> tuple[dict[str, Any], str]:
    """The snapshot of ``source`` at git revision ``rev`` (None: the working tree) and a label for it."""
    from .gitrev import checkout, resolve
    from .store.load import load_project

    if rev is None:
        return snapshot(load_project(Path(source))), "working tree"
    revision = resolve(Path(source), rev)
    with checkout(source, revision.commit) as tree:
        snap = snapshot(load_project(tree))
    label = rev if rev == revision.commit else f"{rev} ({revision.commit[:10]})"
    return snap, label


def diff_revisions(source: str | Path, rev_a: str, rev_b: str | None = None,
                   thresholds: list[Threshold] | None = None) -> Diff:
    """Compare ``source`` at ``rev_a`` with ``rev_b`` (default: the working tree)."""
    before, label_a = snapshot_of(source, rev_a)
    after, label_b = snapshot_of(source, rev_b)
    diff = compare(before, after, before_label=label_a, after_label=label_b)
    if thresholds:
        diff.regressions = find_regressions(diff, before, after, thresholds)
    return diff
