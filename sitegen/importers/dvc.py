"""Import a DVC repository (workspace and experiments) or a plain DVCLive folder into a format-1 store.

Nothing here needs ``dvc`` installed: experiments are git commits under ``refs/exps/<xx>/<baseline
rest>/<name>``, read with ``git ls-tree`` / ``git cat-file``; the workspace is read from the file
system. Each becomes one run of one experiment (``--experiment``, default: the repository folder's
name as a slug):

- run id: the experiment's name (``fast-lr``; with ``-<baseline sha[:7]>`` appended when two
  baselines used the same name), ``workspace-<HEAD sha[:7]>`` for the workspace, the folder name for
  a plain DVCLive folder;
- ``params``: ``params.yaml`` of that revision, updated with DVCLive's own ``<live>/params.yaml``;
- metric histories: ``<live>/plots/metrics/**/<name>.tsv`` (columns ``step``, ``<name>`` and an
  optional ``timestamp``); the key is the path below ``plots/metrics`` (``train/loss``);
- ``metrics``: values of ``<live>/metrics.json`` (flattened with ``/``) that have no history;
- artifacts: every other file under ``<live>/plots/`` (images, custom and sklearn plots);
- ``provenance``: ``dvc.lock`` dependencies as inputs and outputs as outputs, each with its DVC hash
  as ``md5:<hex>`` (so identical data links runs in the lineage), the stage commands as ``command``,
  the commit, branch and remote as ``code`` (``dirty`` for a modified workspace);
- ``tags``: ``dvc.rev``, ``dvc.baseline`` and ``dvc.ref`` say where the run came from.

A file an experiment commit does not hold in git (a DVC-cached output) is read from the local DVC cache
by the hash ``dvc.lock`` records, when it is there. Re-importing writes only what changed
(:mod:`sitegen.importers.writing`).
"""

from __future__ import annotations

import abc
import csv
import io
import json
import math
import os
import re
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import yaml

from ..diagnostics import SitegenError
from ..ids import is_run_id
from ..redact import redact_mapping, strip_url_credentials
from ..track import DEFAULT_ARTIFACT_LIMIT, FORMAT as RUN_FORMAT, _redact_patterns
from .writing import (ImportSummary, dump_run, dump_yaml, iso_ms, load_yaml, metrics_table, outcome, slugify,
                      write_bytes, write_metrics, write_text)

Progress = Callable[[int, int, str], None]
EXPERIMENT_FORMAT = "sitegen.experiment/1"
EXP_REF_RE = re.compile(r"refs/exps/([0-9a-f]{2})/([0-9a-f]{38})/(.+)")
RUN_FIELDS = ("format", "id", "name", "status", "start_time", "end_time", "user", "tags", "params", "metrics",
              "provenance")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# -- reading a revision ---------------------------------------------------------------------------
class Tree(abc.ABC):
    """The files of one revision: ``files`` (posix paths) and ``read(path) -> bytes | None``.
    Implemented by a folder on disk (:class:`FsTree`) and by a git revision."""

    files: list[str]

    @abc.abstractmethod
    def read(self, path: str) -> bytes | None:
        """The content of ``path`` in this revision, or None when it has none."""


class FsTree(Tree):
    """A folder on disk (the workspace, or a DVCLive folder). ``.git`` and ``.dvc`` are left out."""

    def __init__(self, root: Path) -> None:
        self.root = root
        found = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in (".git", ".dvc")
                                 and not (Path(dirpath) / d).is_symlink())
            for name in filenames:
                full = Path(dirpath) / name
                if full.is_file() and not full.is_symlink():
                    found.append(full.relative_to(root).as_posix())
        self.files = sorted(found)

    def read(self, path: str) -> bytes | None:
        try:
            return (self.root / path).read_bytes()
        except OSError:
            return None

    def mtime_ms(self, path: str) -> int | None:
        try:
            return int((self.root / path).stat().st_mtime * 1000)
        except OSError:
            return None


class GitTree(Tree):
    """A commit of a git repository, read with git plumbing commands."""

    def __init__(self, repo: Path, commit: str) -> None:
        self.repo = repo
        self.commit = commit
        out = _git(repo, "ls-tree", "-r", "-z", "--name-only", commit)
        self.files = sorted(p for p in out.split("\0") if p)
        self._names = set(self.files)

    def read(self, path: str) -> bytes | None:
        if path not in self._names:
            return None
        result = subprocess.run(["git", "-C", str(self.repo), "cat-file", "blob", f"{self.commit}:{path}"],
                                capture_output=True, check=False)
        return result.stdout if result.returncode == 0 else None


def _git(repo: Path, *args: str, check: bool = True) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise SitegenError(f"{repo}: git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout if result.returncode == 0 else ""


class CachedTree(Tree):
    """A tree whose DVC-tracked outputs (listed in its dvc.lock) are also readable from the DVC cache."""

    def __init__(self, base: Tree, cache_dirs: list[Path], lock: dict[str, Any] | None) -> None:
        self.base = base
        self.cache_dirs = cache_dirs
        self.extra: dict[str, str] = {}  # path -> md5 of a cached file
        for out in _lock_entries(lock, "outs"):
            md5 = out.get("md5")
            path = out.get("path")
            if not isinstance(md5, str) or not isinstance(path, str):
                continue
            if md5.endswith(".dir"):
                listing = self._cached(md5)
                try:
                    entries = json.loads(listing) if listing else []
                except ValueError:
                    entries = []
                for item in entries:
                    if isinstance(item, dict) and item.get("relpath") and item.get("md5"):
                        self.extra.setdefault(f"{path.rstrip('/')}/{item['relpath']}", item["md5"])
            else:
                self.extra.setdefault(path, md5)
        self.files = sorted(set(base.files) | {p for p, h in self.extra.items() if self._cache_path(h)})

    def _cache_path(self, md5: str) -> Path | None:
        for cache in self.cache_dirs:
            for candidate in (cache / "files" / "md5" / md5[:2] / md5[2:], cache / md5[:2] / md5[2:]):
                if candidate.is_file():
                    return candidate
        return None

    def _cached(self, md5: str) -> bytes | None:
        path = self._cache_path(md5)
        return path.read_bytes() if path is not None else None

    def read(self, path: str) -> bytes | None:
        data = self.base.read(path)
        if data is None and path in self.extra:
            data = self._cached(self.extra[path])
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self.base, name)


def _lock_entries(lock: Any, section: str) -> list[dict[str, Any]]:
    entries = []
    stages = lock.get("stages") if isinstance(lock, dict) else None
    for stage_name, stage in sorted((stages or {}).items()):
        for item in (stage or {}).get(section) or []:
            if isinstance(item, dict):
                entries.append({**item, "stage": stage_name})
    return entries


# -- one run --------------------------------------------------------------------------------------
@dataclass
class RunSource:
    """Where one run comes from: a tree, its live folder, and what git says about it."""

    run_id: str
    name: str
    tree: Tree
    live: str                      # folder of the DVCLive output inside the tree ("" = the tree root)
    commit: str | None = None
    baseline: str | None = None
    ref: str | None = None
    branch: str | None = None
    dirty: bool | None = None
    commit_ms: int | None = None
    author: str | None = None
    repo_url: str | None = None
    fallback_ms: int | None = None  # when nothing else dates the run (metrics.json's mtime)


def _yaml_bytes(data: bytes | None) -> Any:
    if data is None:
        return None
    try:
        return yaml.load(data.decode("utf-8"), Loader=_LOADER)
    except (UnicodeDecodeError, yaml.YAMLError):
        return None


def _flatten(mapping: Any, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    if isinstance(mapping, dict):
        for key, value in mapping.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict):
                flat.update(_flatten(value, name + "/"))
            else:
                flat[name] = value
    return flat


def _float(text: str) -> float:
    lowered = text.strip().lower()
    if lowered in ("nan", "inf", "+inf", "-inf", "infinity", "-infinity"):
        return float(lowered.replace("infinity", "inf"))
    return float(text)


def _read_tsv(data: bytes, relpath: str) -> tuple[list[int], list[float], list[int]]:
    """(steps, values, timestamps ms or -1) of one DVCLive ``.tsv`` history."""
    reader = csv.reader(io.StringIO(data.decode("utf-8")), delimiter="\t")
    header = next(reader, None)
    if not header or "step" not in header:
        raise SitegenError(f"{relpath}: expected a tab-separated header with a 'step' column")
    step_col = header.index("step")
    time_col = header.index("timestamp") if "timestamp" in header else None
    value_cols = [i for i, h in enumerate(header) if i not in (step_col, time_col)]
    if len(value_cols) != 1:
        raise SitegenError(f"{relpath}: expected one value column beside step/timestamp, got {header}")
    steps, values, times = [], [], []
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        try:
            steps.append(int(float(row[step_col])))
            values.append(_float(row[value_cols[0]]))
            if time_col is None or not row[time_col].strip():
                times.append(-1)
            else:
                t = float(row[time_col])
                times.append(int(t if t > 1e11 else t * 1000))  # DVCLive writes ms; seconds tolerated
        except (ValueError, IndexError) as exc:
            raise SitegenError(f"{relpath}:{line}: bad row {row!r}: {exc}") from None
    return steps, values, times


def _dvc_digest(md5: Any) -> str | None:
    if not isinstance(md5, str):
        return None
    hexpart = md5[:-4] if md5.endswith(".dir") else md5
    return f"md5:{hexpart.lower()}" if re.fullmatch(r"[0-9a-fA-F]{32}", hexpart) else None


def _lock_item(item: dict[str, Any]) -> dict[str, Any]:
    path = str(item.get("path"))
    md5 = item.get("md5") or (item.get("hash") if item.get("hash") not in (None, "md5") else None)
    entry: dict[str, Any] = {"name": path,
                             "kind": "directory" if str(md5 or "").endswith(".dir") or "nfiles" in item else "file"}
    digest = _dvc_digest(md5)
    if digest:
        entry["digest"] = digest
    if isinstance(item.get("size"), int):
        entry["size"] = item["size"]
    if isinstance(item.get("nfiles"), int):
        entry["files"] = item["nfiles"]
    entry["stage"] = item["stage"]
    return entry


class DvcImporter:
    """One import of a DVC repository or DVCLive folder. Use :func:`import_dvc`."""

    def __init__(self, path: Path, source: Path, *, experiment: str | None, live_dir: str | None,
                 experiments: bool, artifact_size_limit: int, progress: Progress | None) -> None:
        self.path = Path(path).resolve()
        self.root = Path(source).resolve()
        self.live_dir = live_dir.strip("/") if live_dir else None
        self.with_exps = experiments
        self.limit = artifact_size_limit
        self.progress = progress
        self.summary = ImportSummary()
        self.redact = _redact_patterns(self.root, ())
        self.repo = self._git_root(self.path)
        name = (self.repo or self.path).name
        if self.repo is None and name == "dvclive":
            name = self.path.parent.name
        self.experiment = experiment or slugify(name, "dvc")
        if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", self.experiment):
            raise SitegenError(f"--experiment {experiment!r}: expected lower-case letters, digits, '.', '_' "
                               "or '-', starting with a letter or digit")

    @staticmethod
    def _git_root(path: Path) -> Path | None:
        result = subprocess.run(["git", "-C", str(path), "rev-parse", "--show-toplevel"], capture_output=True,
                                text=True, check=False)
        return Path(result.stdout.strip()).resolve() if result.returncode == 0 else None

    # -- what to import -------------------------------------------------------------------------
    def sources(self) -> list[RunSource]:
        if self._is_live_folder(self.path):
            return [self._plain_live_source()]
        if self.repo is None:
            raise SitegenError(f"{self.path}: neither a git repository (DVC project) nor a DVCLive folder "
                               "(metrics.json or plots/metrics/)")
        found = [self._workspace_source()]
        if self.with_exps:
            found += self._exp_sources()
        return found

    @staticmethod
    def _is_live_folder(path: Path) -> bool:
        return ((path / "metrics.json").is_file() or (path / "plots" / "metrics").is_dir()) \
            and not (path / "dvc.lock").is_file() and not (path / ".dvc").is_dir()

    def _repo_info(self) -> dict[str, Any]:
        assert self.repo is not None
        url = _git(self.repo, "remote", "get-url", "origin", check=False).strip()
        return {"repo_url": strip_url_credentials(url) if url else None}

    def _commit_info(self, commit: str) -> dict[str, Any]:
        assert self.repo is not None
        line = _git(self.repo, "log", "-1", "--format=%H%x00%an%x00%ct", commit).strip()
        sha, author, ct = line.split("\0")
        return {"commit": sha, "author": author or None, "commit_ms": int(ct) * 1000}

    def _plain_live_source(self) -> RunSource:
        tree = FsTree(self.path)
        name = self.path.name if self.path.name != "dvclive" else self.path.parent.name
        run_id = name if is_run_id(name) else slugify(name, "dvclive")
        src = RunSource(run_id=run_id, name=name, tree=tree, live="",
                        fallback_ms=tree.mtime_ms("metrics.json"))
        if self.repo is not None:
            head = _git(self.repo, "rev-parse", "HEAD", check=False).strip()
            if head:
                info = self._commit_info(head)
                src.commit, src.author = info["commit"], info["author"]
                src.branch = _git(self.repo, "rev-parse", "--abbrev-ref", "HEAD", check=False).strip() or None
                src.repo_url = self._repo_info()["repo_url"]
        return src

    def _workspace_source(self) -> RunSource:
        assert self.repo is not None
        tree = FsTree(self.repo)
        head = _git(self.repo, "rev-parse", "HEAD", check=False).strip()
        live = self._find_live(tree)
        status = _git(self.repo, "status", "--porcelain", check=False)
        src = RunSource(run_id=f"workspace-{head[:7]}" if head else "workspace", name="workspace", tree=tree,
                        live=live, dirty=bool(status.strip()), **self._repo_info())
        if head:
            info = self._commit_info(head)
            src.commit, src.author = info["commit"], info["author"]
            src.commit_ms = info["commit_ms"]
            branch = _git(self.repo, "rev-parse", "--abbrev-ref", "HEAD", check=False).strip()
            src.branch = branch if branch and branch != "HEAD" else None
        if src.dirty or not head:  # the results are newer than the commit
            src.commit_ms = None
            src.fallback_ms = tree.mtime_ms(f"{live}/metrics.json" if live else "metrics.json")
        return src

    def _exp_sources(self) -> list[RunSource]:
        assert self.repo is not None
        refs = _git(self.repo, "for-each-ref", "--format=%(refname) %(objectname)", "refs/exps").splitlines()
        parsed = []
        for line in sorted(refs):
            ref, _, sha = line.partition(" ")
            m = EXP_REF_RE.fullmatch(ref)
            if m is None or "/" in m.group(3):
                continue  # refs/exps/exec/..., stash refs and the like
            parsed.append((m.group(3), m.group(1) + m.group(2), ref, sha))
        names = [p[0] for p in parsed]
        repo_info = self._repo_info()
        sources = []
        for name, baseline, ref, sha in parsed:
            run_id = name if names.count(name) == 1 else f"{name}-{baseline[:7]}"
            if not is_run_id(run_id):
                run_id = slugify(run_id, f"exp-{sha[:7]}")
            tree = GitTree(self.repo, sha)
            info = self._commit_info(sha)
            src = RunSource(run_id=run_id, name=name, tree=tree, live=self._find_live(tree), baseline=baseline,
                            ref=ref, branch=None, commit=info["commit"], author=info["author"],
                            commit_ms=info["commit_ms"], dirty=False, **repo_info)
            sources.append(src)
        return sources

    def _find_live(self, tree: Tree) -> str:
        if self.live_dir is not None:
            return self.live_dir
        candidates = set()
        for f in tree.files:
            p = PurePosixPath(f)
            if p.name == "metrics.json":
                candidates.add(p.parent.as_posix())
            parts = p.parts
            for i in range(len(parts) - 2):
                if parts[i] == "plots" and parts[i + 1] == "metrics":
                    candidates.add(PurePosixPath(*parts[:i]).as_posix() if i else ".")
        candidates = {"" if c == "." else c for c in candidates}
        for preferred in ("dvclive", ""):
            if preferred in candidates:
                return preferred
        return sorted(candidates, key=lambda c: (c.count("/"), c))[0] if candidates else "dvclive"

    # -- the whole import -----------------------------------------------------------------------
    def run(self) -> ImportSummary:
        sources = self.sources()
        self._write_experiment()
        for i, src in enumerate(sources):
            if self.progress:
                self.progress(i, len(sources), "runs")
            try:
                self._import_run(src)
            except Exception as exc:  # noqa: BLE001 - reported in the summary, the import goes on
                text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                self.summary.fail("run", src.run_id, text[:300])
        if self.progress:
            self.progress(len(sources), len(sources), "runs")
        return self.summary

    def _write_experiment(self) -> None:
        path = self.root / "runs" / self.experiment / "experiment.yaml"
        old = load_yaml(path)
        title = (self.repo or self.path).name
        record = {"format": EXPERIMENT_FORMAT, "title": title}
        if isinstance(old, dict):
            record = {**record, **{k: v for k, v in old.items() if k != "format"}}  # hand edits win
        changed = write_text(path, dump_yaml(record))
        self.summary.add("experiment", outcome(isinstance(old, dict), changed))

    def _import_run(self, src: RunSource) -> None:
        tree = CachedTree(src.tree, self._cache_dirs(), _yaml_bytes(src.tree.read("dvc.lock")))
        prefix = f"{src.live}/" if src.live else ""
        run_dir = self.root / "runs" / self.experiment / src.run_id
        old = load_yaml(run_dir / "run.yaml")

        # metric histories
        keys: list[str] = []
        steps: list[int] = []
        values: list[float] = []
        times: list[int] = []
        hist_prefix = f"{prefix}plots/metrics/"
        for f in tree.files:
            if f.startswith(hist_prefix) and f.endswith(".tsv"):
                data = tree.read(f)
                if data is None:
                    continue
                key = f[len(hist_prefix):-len(".tsv")]
                s, v, t = _read_tsv(data, f)
                keys += [key] * len(s)
                steps += s
                values += v
                times += t
        table = metrics_table(np.array(keys, dtype=object), np.array(steps, dtype=np.int64),
                              np.array(values, dtype=np.float64), np.array(times, dtype=np.int64))
        history_keys = set(keys)
        known_times = [t for t in times if t >= 0]

        record: dict[str, Any] = {"format": RUN_FORMAT, "id": src.run_id, "name": src.name, "status": "finished"}
        start = min(known_times) if known_times else (src.commit_ms or src.fallback_ms)
        end = max(known_times) if known_times else (src.commit_ms or src.fallback_ms)
        if start is not None:
            record["start_time"] = iso_ms(start)
            record["end_time"] = iso_ms(end)
        if src.author:
            record["user"] = src.author
        tags = {}
        if src.commit:
            tags["dvc.rev"] = src.commit
        if src.baseline:
            tags["dvc.baseline"] = src.baseline
        if src.ref:
            tags["dvc.ref"] = src.ref
        record["tags"] = tags

        params = _yaml_bytes(tree.read("params.yaml"))
        params = dict(params) if isinstance(params, dict) else {}
        live_params = _yaml_bytes(tree.read(f"{prefix}params.yaml")) if prefix else None
        if isinstance(live_params, dict):
            params.update(live_params)
        record["params"], _ = redact_mapping(params, self.redact)

        summary = _flatten(json.loads(tree.read(f"{prefix}metrics.json") or b"{}"))
        summary_metrics = {k: float(v) for k, v in sorted(summary.items())
                           if k not in history_keys and k != "step" and isinstance(v, (int, float))
                           and not isinstance(v, bool)}
        if summary_metrics:
            record["metrics"] = {k: (None if math.isnan(v) else v) for k, v in summary_metrics.items()}

        provenance: dict[str, Any] = {}
        code = {k: v for k, v in (("repo", src.repo_url), ("commit", src.commit), ("branch", src.branch),
                                  ("dirty", src.dirty)) if v is not None}
        if code:
            provenance["code"] = code
        lock = _yaml_bytes(tree.read("dvc.lock"))
        commands = [stage.get("cmd") for _n, stage in sorted(((lock or {}).get("stages") or {}).items())
                    if isinstance(stage, dict) and stage.get("cmd")]
        commands = [c if isinstance(c, str) else " && ".join(map(str, c)) for c in commands]
        if commands:
            provenance["command"] = commands[0] if len(commands) == 1 else commands
        inputs = _unique(_lock_item(d) for d in _lock_entries(lock, "deps"))
        outputs = _unique(_lock_item(o) for o in _lock_entries(lock, "outs")
                          if not (prefix and str(o.get("path", "")).startswith(prefix)))
        if inputs:
            provenance["inputs"] = inputs
        if outputs:
            provenance["outputs"] = outputs
        if provenance:
            record["provenance"] = provenance

        if isinstance(old, dict):
            record.update({k: v for k, v in old.items() if k not in RUN_FIELDS})

        changed = False
        plots_prefix = f"{prefix}plots/"
        for f in tree.files:
            if f.startswith(plots_prefix) and not f.startswith(hist_prefix):
                data = tree.read(f)
                if data is None or len(data) > self.limit:
                    continue
                rel = f[len(prefix):]
                if ".." in rel.split("/"):
                    continue
                changed |= write_bytes(run_dir / "artifacts" / rel, data)
        changed |= write_metrics(run_dir, table)
        changed |= write_text(run_dir / "run.yaml", dump_run(record))
        self.summary.add("run", outcome(isinstance(old, dict), changed))

    def _cache_dirs(self) -> list[Path]:
        if self.repo is None:
            return []
        dirs = [self.repo / ".dvc" / "cache"]
        config = self.repo / ".dvc" / "config.local"
        for cfg in (self.repo / ".dvc" / "config", config):
            try:
                text = cfg.read_text(encoding="utf-8")
            except OSError:
                continue
            m = re.search(r"^\s*dir\s*=\s*(.+)$", text.split("[cache]", 1)[1], re.M) if "[cache]" in text else None
            if m:
                dirs.insert(0, (cfg.parent / m.group(1).strip()).resolve())
        return dirs


def _unique(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for entry in entries:
        seen.setdefault(entry["name"], entry)
    return [seen[k] for k in sorted(seen)]


def import_dvc(path: str | os.PathLike, source: str | os.PathLike = ".", *, experiment: str | None = None,
               live_dir: str | None = None, experiments: bool = True,
               artifact_size_limit: int = DEFAULT_ARTIFACT_LIMIT, progress: Progress | None = None) -> ImportSummary:
    """Import the DVC repository (or DVCLive folder) at ``path`` into the source folder ``source``."""
    return DvcImporter(Path(path), Path(source), experiment=experiment, live_dir=live_dir, experiments=experiments,
                       artifact_size_limit=artifact_size_limit, progress=progress).run()


__all__ = ["import_dvc", "DvcImporter"]
