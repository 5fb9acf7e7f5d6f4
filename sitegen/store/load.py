"""Reading a whole source into the model: experiments, runs, models, datasets, with diagnostics.

Bad input in one item never stops the others from loading: each problem becomes a diagnostic naming the
file, line and field, and the item is skipped (or loaded without the broken part, when that is honest).
"""

from __future__ import annotations

import multiprocessing
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..config import Config, load_config
from ..diagnostics import Diagnostic, Diagnostics
from ..model import (AliasEvent, Artifact, Dataset, Experiment, MetricSummary, ModelVersion, Project,
                     RegisteredModel, Run)
from ..redact import redact_mapping, strip_url_credentials
from . import artifacts as artifact_scan
from . import validate
from .metric_files import JOURNAL, PARQUET, HistoryError
from .paths import describe_name, is_plain_file, is_run_id, is_slug, list_entries, rel
from .yamlio import YamlDoc, YamlProblem, read_yaml

RUNS, MODELS, DATASETS = "runs", "models", "datasets"
LOAD_CHUNK = 32  # run folders a worker process loads at a time
_FORKED: dict[str, Any] = {}  # the loader, inherited by forked worker processes


def _load_chunk(indexes: list[int]) -> list[Any]:
    loader, folders = _FORKED["loader"], _FORKED["folders"]
    return [loader._load_one(folders[i]) for i in indexes]


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 string (already checked by the schema) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value).strip().replace(" ", "T", 1)
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def flatten(mapping: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested params as dotted keys (``optimizer.name``); lists stay values."""
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


class Loader:
    """Loads one source; keeps the diagnostics it finds."""

    def __init__(self, root: Path, config: Config | None = None, *, with_history: bool = True, cache=None,
                 jobs: int | None = None):
        self.root = root.resolve()
        self.diags = Diagnostics()
        self.config = config if config is not None else load_config(self.root, self.diags)
        self.with_history = with_history
        self.cache = cache  # a sitegen.cache.BuildCache, or None
        self.run_digests: dict[str, str] = {}
        self.data_digests: dict[str, str] = {}  # uid -> digest of the run folder without its run.yaml
        self.jobs = jobs  # processes that read run folders (default: all cores)
        self._digests: dict[Path, tuple[str, str]] = {}
        self.tree_digests: dict[str, str] = {}  # run folder (<exp>/<run>) -> tree_digest, when known already
        self.known_data_digests: dict[str, str] = {}  # the same folders' data digests, when known already
        self._histories: dict[str, dict[str, Any]] = {}  # uid -> what its metric history gave (cache record)

    # -- helpers ---------------------------------------------------------------------------------------
    def _rel(self, path: Path) -> str:
        return rel(self.root, path)

    def _read(self, path: Path, kind: str) -> YamlDoc | None:
        relpath = self._rel(path)
        try:
            doc = read_yaml(path)
        except YamlProblem as exc:
            self.diags.error(relpath, exc.message, exc.line, exc.col)
            return None
        except OSError as exc:
            self.diags.error(relpath, f"cannot read file: {exc.strerror or exc}")
            return None
        if not validate.check(kind, doc, relpath, self.diags):
            return None
        return doc

    def _links(self, links, where: Path) -> None:
        for entry in links:
            self.diags.warning(self._rel(where / entry.name), "symbolic link not followed (links are never read, "
                                                              "so nothing outside the source can leak in)")

    def _redact(self, value: Any, relpath: str, field: str) -> tuple[Any, list[str]]:
        cleaned, paths = redact_mapping(value, extra_patterns=tuple(self.config.redact))
        return cleaned, [f"{field}.{p}" if p else field for p in paths]

    # -- the whole source ------------------------------------------------------------------------------
    def load(self) -> Project:
        project = Project(root=self.root, config=self.config)
        self._load_runs(project)
        self._load_models(project)
        self._load_datasets(project)
        from ..registry_checks import check as check_registry  # needs the whole loaded project

        check_registry(project, self.diags)
        project.diagnostics = self.diags
        return project

    # -- experiments and runs --------------------------------------------------------------------------
    def _load_runs(self, project: Project) -> None:
        runs_dir = self.root / RUNS
        if runs_dir.is_symlink():
            self.diags.warning(RUNS, "symbolic link not followed")
            return
        entries, links = list_entries(runs_dir)
        self._links(links, runs_dir)
        found: list[tuple[Experiment, list[tuple[Path, str, str]]]] = []
        for entry in entries:
            if not entry.is_dir():
                continue
            if not is_slug(entry.name):
                self.diags.error(self._rel(runs_dir / entry.name),
                                 f"experiment folder name '{describe_name(entry.name)}' is not valid; expected "
                                 f"lowercase letters, digits, '.', '_' or '-', starting with a letter or digit")
                continue
            found.append(self._load_experiment(runs_dir / entry.name, entry.name))
        loaded = iter(self._load_many([entry for _, folders in found for entry in folders]))
        for exp, folders in found:
            for _run_dir, slug, folder in folders:
                run, diags, record, digests = next(loaded)
                self.diags.extend(diags)
                if digests is not None:
                    self.run_digests[f"{slug}/{folder}"], self.data_digests[f"{slug}/{folder}"] = digests
                if record is not None and self.cache is not None:
                    self.cache.new_runs[f"{slug}/{folder}"] = record
                if run is not None:
                    exp.runs.append(run)
            exp.runs.sort(key=lambda r: (r.start_time or datetime.min.replace(tzinfo=timezone.utc), r.id))
            project.experiments[exp.slug] = exp
            for run in exp.runs:
                if run.uid in project.runs:
                    continue
                project.runs[run.uid] = run
        self._link_runs(project)

    def _load_experiment(self, exp_dir: Path, slug: str) -> tuple[Experiment, list[tuple[Path, str, str]]]:
        """The experiment's metadata, and its run folders to load: ``(run_dir, slug, folder)``."""
        exp = Experiment(slug=slug, title=slug)
        meta = exp_dir / "experiment.yaml"
        if is_plain_file(meta):
            doc = self._read(meta, "experiment")
            if doc is not None:
                data = doc.data
                exp.file = self._rel(meta)
                exp.title = data.get("title") or slug
                exp.description = data.get("description")
                exp.primary_metric = data.get("primary_metric")
                exp.goal = data.get("goal") or "max"
                exp.tags, _ = self._redact(dict(data.get("tags") or {}), exp.file, "tags")
        configured = self.config.experiments.get(slug) or {}
        exp.primary_metric = configured.get("primary_metric", exp.primary_metric)
        exp.goal = configured.get("goal", exp.goal)
        exp.title = configured.get("title", exp.title)
        entries, links = list_entries(exp_dir)
        self._links(links, exp_dir)
        run_folders = []
        for entry in entries:
            if not entry.is_dir():
                continue
            run_dir = exp_dir / entry.name
            if not is_run_id(entry.name):
                self.diags.error(self._rel(run_dir), f"run folder name '{describe_name(entry.name)}' is not a "
                                                     f"valid run id; expected letters, digits, '.', '_' or '-' "
                                                     f"(at most 128), starting with a letter or digit")
                continue
            run_folders.append((run_dir, slug, entry.name))
        return exp, run_folders

    def _load_one(self, entry: tuple[Path, str, str]) -> tuple[Run | None, list[Diagnostic], dict | None,
                                                               tuple[str, str] | None]:
        """One run with the diagnostics it raised, its build-cache record and its content and data digests
        (when cached)."""
        run_dir, slug, folder = entry
        uid = f"{slug}/{folder}"
        saved, self.diags = self.diags, Diagnostics()
        try:
            run = self._load_run_cached(run_dir, slug, folder)
            record = self.cache.new_runs.pop(uid, None) if self.cache is not None else None
            digests = (self.run_digests.pop(uid), self.data_digests.pop(uid)) if uid in self.run_digests else None
            return run, list(self.diags), record, digests
        finally:
            self.diags = saved

    def _load_many(self, folders: list[tuple[Path, str, str]]) -> list[tuple[Run | None, list[Diagnostic], dict | None,
                                                                             tuple[str, str] | None]]:
        """:meth:`_load_one` of every run folder, in order; in forked worker processes when there are many
        (reading YAML and Parquet is most of a cold build's loading). The result does not depend on ``jobs``."""
        results: list[Any] = [None] * len(folders)
        missing = list(range(len(folders)))
        if self.cache is not None and self.with_history and self.cache.runs:
            # runs the build cache knows are made from it here (quicker than handing them to a process)
            missing = []
            for i, (run_dir, slug, folder) in enumerate(folders):
                if self.cache.run(f"{slug}/{folder}", self._run_digest(run_dir)) is not None:
                    results[i] = self._load_one(folders[i])
                else:
                    missing.append(i)
        jobs = max(1, min(self.jobs or os.cpu_count() or 1, len(missing) // LOAD_CHUNK or 1))
        if jobs == 1 or "fork" not in multiprocessing.get_all_start_methods():
            for i in missing:
                results[i] = self._load_one(folders[i])
            return results
        chunks = [missing[i:i + LOAD_CHUNK] for i in range(0, len(missing), LOAD_CHUNK)]
        _FORKED.update(loader=self, folders=folders)
        try:
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                for chunk, part in zip(chunks, pool.map(_load_chunk, chunks)):
                    for i, item in zip(chunk, part):
                        results[i] = item
        finally:
            _FORKED.clear()
        return results

    def _run_digest(self, run_dir: Path) -> str:
        """The content digest of a run folder that keys its build-cache record (computed once a build)."""
        return self._folder_digests(run_dir)[0]

    def _folder_digests(self, run_dir: Path) -> tuple[str, str]:
        """(the run's cache-record digest, its folder's data digest: :func:`~sitegen.cache.run_folder_digests`)."""
        from ..cache import digest_json, run_folder_digests

        digests = self._digests.get(run_dir)
        if digests is None:
            name = f"{run_dir.parent.name}/{run_dir.name}"
            tree, data = self.tree_digests.get(name), self.known_data_digests.get(name)
            if tree is None or data is None:
                tree, data = run_folder_digests(run_dir)
            digests = self._digests[run_dir] = (digest_json([tree, self.config.redact]), data)
        return digests

    def _load_run_cached(self, run_dir: Path, experiment: str, folder: str) -> Run | None:
        """A run, from the build cache when its folder's content is what an earlier build read."""
        if self.cache is None or not self.with_history:
            return self._load_run(run_dir, experiment, folder)
        uid = f"{experiment}/{folder}"
        digest, data_digest = self._folder_digests(run_dir)
        self.run_digests[uid], self.data_digests[uid] = digest, data_digest
        record = self.cache.run(uid, digest)
        if record is not None:
            run = self._make_run(record["data"], run_dir, experiment, folder, clean=record.get("clean", False))
            run.has_history, run.has_journal = record["has_history"], record["has_journal"]
            run.metrics = {m["key"]: MetricSummary(**m) for m in record["metrics"]}
            if "artifacts" in record:  # the folder's digest covers its artifacts: the listing is still right
                base = run_dir / "artifacts"
                run.artifacts = [Artifact(path=path, size=size, kind=kind, lfs_oid=oid, source=base / path)
                                 for path, size, kind, oid in record["artifacts"]]
            else:
                self._scan_artifacts(run, run_dir)
            self.diags.extend(Diagnostic(*d) for d in record["diagnostics"])
            self.cache.new_runs[uid] = record
            return run
        before = len(self.diags)
        run = self._load_run(run_dir, experiment, folder)
        found = [[d.path, d.line, d.col, d.message, d.severity] for d in self.diags[before:]]
        history = self._histories.pop(uid, None)
        if run is not None:
            self.cache.new_runs[uid] = {
                "digest": digest, "data": run.raw, "has_history": run.has_history, "has_journal": run.has_journal,
                "metrics": [vars(m) for m in run.metrics.values()], "diagnostics": found,
                "artifacts": [[a.path, a.size, a.kind, a.lfs_oid] for a in run.artifacts],
                "clean": _nothing_redacted(run)}
            if history is not None:
                if history["metrics"] == self.cache.new_runs[uid]["metrics"]:  # the usual case: no metrics
                    history = {**history, "metrics": None}  # in run.yaml, so not kept twice (a fifth of the file)
                self.cache.new_runs[uid].update(data_digest=data_digest, history=history)
        return run

    def _load_run(self, run_dir: Path, experiment: str, folder: str) -> Run | None:
        run_file = run_dir / "run.yaml"
        relfile = self._rel(run_file)
        if run_file.is_symlink():
            self.diags.error(relfile, "run.yaml is a symbolic link; links are never followed")
            return None
        if not run_file.is_file():
            self.diags.warning(self._rel(run_dir), "folder has no run.yaml, so it is not a run; skipped")
            return None
        doc = self._read(run_file, "run")
        if doc is None:
            return None
        data = doc.data
        if data["id"] != folder:
            line, col = doc.position(["id"])
            self.diags.error(relfile, f"field 'id': {data['id']!r} differs from its folder name {folder!r}; "
                                      f"a run id must equal its folder name", line, col)
            return None
        try:
            parse_time(data.get("start_time")), parse_time(data.get("end_time"))
        except ValueError as exc:
            self.diags.error(relfile, f"invalid time: {exc}")
            return None
        run = self._make_run(data, run_dir, experiment, folder)
        if self.with_history:
            self._load_metrics(run, run_dir, data.get("metrics") or {})
        else:
            run.has_history = (run_dir / PARQUET).is_file() or (run_dir / JOURNAL).is_file()
            run.has_journal = (run_dir / JOURNAL).is_file()
        self._scan_artifacts(run, run_dir)
        return run

    def _make_run(self, data: dict[str, Any], run_dir: Path, experiment: str, folder: str,
                  clean: bool = False) -> Run:
        """The Run of a validated run.yaml (redacted; without metrics and artifacts yet). ``clean``: the
        build cache knows that redaction changes nothing in this run.yaml (its record's digest covers the
        folder and the redaction patterns, its scope sitegen's code), so the walk is skipped."""
        relfile = self._rel(run_dir / "run.yaml")
        start, end = parse_time(data.get("start_time")), parse_time(data.get("end_time"))
        if clean:
            params, tags, provenance = data.get("params") or {}, data.get("tags") or {}, data.get("provenance") or {}
            red_params = red_tags = red_prov = []
        else:
            params, red_params = self._redact(data.get("params") or {}, relfile, "params")
            tags, red_tags = self._redact(data.get("tags") or {}, relfile, "tags")
            provenance, red_prov = self._redact(data.get("provenance") or {}, relfile, "provenance")
            provenance = _strip_credentials(provenance)
        parent = data.get("parent")
        if parent and "/" not in parent:
            parent = f"{experiment}/{parent}"
        return Run(
            experiment=experiment, id=folder, name=str(data.get("name") or folder),
            status=data.get("status") or "finished", file=relfile, directory=run_dir,
            start_time=start, end_time=end, user=data.get("user"), parent=parent,
            tags=tags, params=params, params_flat=flatten(params), notes=data.get("notes"),
            provenance=provenance, redacted=red_params + red_tags + red_prov, raw=data)

    def _scan_artifacts(self, run: Run, run_dir: Path) -> None:
        arts, links, extra = artifact_scan.scan(run_dir)
        run.artifacts = arts
        for link in links:
            self.diags.warning(f"{self._rel(run_dir)}/artifacts/{link}",
                               "symbolic link not followed (links are never read or copied)")
        if extra:
            self.diags.warning(self._rel(run_dir / "artifacts"),
                               f"{extra} more artifacts than the {artifact_scan.MAX_ARTIFACTS} listed; not shown")

    def _load_metrics(self, run: Run, run_dir: Path, summary: dict[str, Any]) -> None:
        relroot = self._rel(run_dir)
        for name in (PARQUET, JOURNAL):
            if (run_dir / name).is_symlink():
                self.diags.warning(f"{relroot}/{name}", "symbolic link not followed (links are never read, so "
                                                        "nothing outside the source can leak in)")
        known = self._known_history(run.uid, run_dir)
        if known is None:
            before = len(self.diags)
            known = self._read_history(run_dir, relroot)
            known["diagnostics"] = [[d.path, d.line, d.col, d.message, d.severity] for d in self.diags[before:]]
        else:
            self.diags.extend(Diagnostic(*d) for d in known["diagnostics"])
        if self.cache is not None:
            self._histories[run.uid] = known
        run.has_journal, run.has_history = known["has_journal"], known["has_history"]
        metrics = {m["key"]: MetricSummary(**m) for m in known["metrics"]}
        for key, value in summary.items():
            value = float("nan") if value is None else float(value)
            prev = metrics.get(key)
            metrics[key] = MetricSummary(key=key, last=value, min=prev.min if prev else None,
                                         max=prev.max if prev else None, count=prev.count if prev else 1,
                                         last_step=prev.last_step if prev else None)
        run.metrics = dict(sorted(metrics.items()))

    def _known_history(self, uid: str, run_dir: Path) -> dict[str, Any] | None:
        """What the run's metric history gave an earlier build, when the build cache has it and nothing but
        the run's YAML changed since (the folder's data digest is the same): numpy and pyarrow are not even
        loaded then, nor the Parquet file read."""
        if self.cache is None:
            return None
        record = self.cache.runs.get(uid)
        if record is None or record.get("data_digest") != self._folder_digests(run_dir)[1]:
            return None
        known = record.get("history")
        if not isinstance(known, dict):
            return None
        return known if known.get("metrics") is not None else {**known, "metrics": record["metrics"]}

    def _read_history(self, run_dir: Path, relroot: str) -> dict[str, Any]:
        """Summaries of the run's metric history, read from its files (problems go to the diagnostics)."""
        has_journal = is_plain_file(run_dir / JOURNAL)
        has_history = has_journal or is_plain_file(run_dir / PARQUET)
        metrics: dict[str, MetricSummary] = {}
        if has_history:
            from .metrics import read_history, summarize  # numpy and pyarrow: loaded when a history is read

            try:
                history = read_history(run_dir, relroot)
            except HistoryError as exc:
                self.diags.error(f"{relroot}/{PARQUET}", f"{exc}; the run is shown without its metric history")
                has_history = has_journal
                history = None
            if history is not None:
                for relpath, line, message, *sev in history.problems:
                    self.diags.append(_diag(relpath, line, message, sev[0] if sev else "warning"))
                metrics = summarize(history)
        return {"has_history": has_history, "has_journal": has_journal,
                "metrics": [vars(m) for m in metrics.values()]}

    def _link_runs(self, project: Project) -> None:
        by_id: dict[str, list[str]] = {}
        for run in project.runs.values():
            by_id.setdefault(run.id, []).append(run.uid)
        for rid, uids in sorted(by_id.items()):
            if len(uids) > 1:
                for uid in uids[1:]:
                    self.diags.warning(project.runs[uid].file, f"run id {rid!r} is also used in "
                                       f"{', '.join(u for u in uids if u != uid)}; refer to it as <experiment>/<id>")
        for run in project.runs.values():
            if run.parent:
                parent = project.runs.get(run.parent)
                if parent is None:
                    self.diags.warning(run.file, f"field 'parent': no run {run.parent!r} in this source")
                elif parent.uid == run.uid:
                    self.diags.warning(run.file, "field 'parent': a run cannot be its own parent")
                    run.parent = None
                else:
                    parent.children.append(run.uid)
        for run in project.runs.values():
            run.children.sort()

    # -- models ----------------------------------------------------------------------------------------
    def _load_models(self, project: Project) -> None:
        models_dir = self.root / MODELS
        entries, links = list_entries(models_dir)
        self._links(links, models_dir)
        for entry in entries:
            if not entry.is_dir():
                continue
            mdir = models_dir / entry.name
            if not is_slug(entry.name):
                self.diags.error(self._rel(mdir), f"model folder name '{describe_name(entry.name)}' is not valid; "
                                                  f"expected lowercase letters, digits, '.', '_' or '-'")
                continue
            model = self._load_model(mdir, entry.name, project)
            if model is not None:
                project.models[model.slug] = model

    def _load_model(self, mdir: Path, slug: str, project: Project) -> RegisteredModel | None:
        mfile = mdir / "model.yaml"
        relfile = self._rel(mfile)
        if not is_plain_file(mfile):
            self.diags.error(relfile, "missing model.yaml (a registered model needs it)")
            return None
        doc = self._read(mfile, "model")
        if doc is None:
            return None
        data = doc.data
        model = RegisteredModel(
            slug=slug, name=data.get("name") or slug, file=relfile, description=data.get("description"),
            owners=list(data.get("owners") or []), tags=self._redact(dict(data.get("tags") or {}), relfile, "tags")[0],
            aliases=dict(data.get("aliases") or {}), monitoring_thresholds=dict(data.get("monitoring") or {}),
            required_card_sections=data.get("required_card_sections"))
        for i, ev in enumerate(data.get("alias_history") or []):
            try:
                at = parse_time(ev.get("at"))
            except ValueError as exc:
                line, col = doc.position(["alias_history", i, "at"])
                self.diags.error(relfile, f"field 'alias_history.{i}.at': {exc}", line, col)
                continue
            model.alias_history.append(AliasEvent(alias=ev["alias"], version=ev.get("version"), at=at,
                                                  by=ev.get("by"), note=ev.get("note")))
        model.alias_history.sort(key=lambda e: (e.at or datetime.min.replace(tzinfo=timezone.utc), e.alias))
        mon = mdir / "monitoring.parquet"
        if is_plain_file(mon):
            model.monitoring_file = mon
        vdir = mdir / "versions"
        entries, links = list_entries(vdir)
        self._links(links, vdir)
        for entry in entries:
            if not entry.name.endswith((".yaml", ".yml")) or not entry.is_file():
                continue
            version = self._load_version(vdir / entry.name, slug, project)
            if version is not None:
                if model.version(version.version) is not None:
                    self.diags.error(version.file, f"version {version.version} of model {slug!r} is defined twice "
                                                   f"(two branches registered the same number?); renumber one")
                    continue
                model.versions.append(version)
        model.versions.sort(key=lambda v: v.version)
        for alias, n in sorted(model.aliases.items()):
            if model.version(n) is None:
                line, col = doc.position(["aliases", alias])
                self.diags.error(relfile, f"field 'aliases.{alias}': version {n} does not exist", line, col)
        return model

    def _load_version(self, path: Path, model: str, project: Project) -> ModelVersion | None:
        doc = self._read(path, "model-version")
        if doc is None:
            return None
        data = doc.data
        relfile = self._rel(path)
        stem = path.name.rsplit(".", 1)[0]
        if stem != str(data["version"]):
            line, col = doc.position(["version"])
            self.diags.error(relfile, f"field 'version': {data['version']} differs from the file name {path.name!r}",
                             line, col)
            return None
        try:
            created = parse_time(data.get("created"))
        except ValueError as exc:
            self.diags.error(relfile, f"field 'created': {exc}")
            return None
        source_run = data.get("source_run")
        if source_run and source_run not in project.runs:
            line, col = doc.position(["source_run"])
            self.diags.warning(relfile, f"field 'source_run': no run {source_run!r} in this source", line, col)
        card, _ = self._redact(data.get("card") or {}, relfile, "card")
        return ModelVersion(
            model=model, version=data["version"], file=relfile, source_run=source_run, created=created,
            stage=data.get("stage") or "none", description=data.get("description"),
            signature=dict(data.get("signature") or {}), input_example=data.get("input_example"),
            card=card, hub=self._redact(dict(data.get("hub") or {}), relfile, "hub")[0],
            tags=self._redact(dict(data.get("tags") or {}), relfile, "tags")[0], raw=data)

    # -- datasets --------------------------------------------------------------------------------------
    def _load_datasets(self, project: Project) -> None:
        ddir = self.root / DATASETS
        entries, links = list_entries(ddir)
        self._links(links, ddir)
        for entry in entries:
            if not entry.is_file() or not entry.name.endswith((".yaml", ".yml")):
                continue
            slug = entry.name.rsplit(".", 1)[0]
            path = ddir / entry.name
            if not is_slug(slug):
                self.diags.error(self._rel(path), f"dataset file name '{describe_name(entry.name)}' is not valid; "
                                                  f"expected <slug>.yaml with lowercase letters, digits, '.', '_', '-'")
                continue
            doc = self._read(path, "dataset")
            if doc is None:
                continue
            data = doc.data
            sheet_keys = ("motivation", "composition", "collection", "preprocessing", "uses", "distribution",
                          "maintenance")
            project.datasets[slug] = Dataset(
                slug=slug, name=data.get("name") or slug, file=self._rel(path), uri=_clean_uri(data.get("uri")),
                digest=data.get("digest"), description=data.get("description"),
                schema=list(data.get("schema") or []),
                datasheet=self._redact({k: data[k] for k in sheet_keys if data.get(k) is not None}, "", "")[0],
                raw=data)


def _diag(path: str, line: int, message: str, severity: str):
    from ..diagnostics import Diagnostic

    return Diagnostic(path, line, 0, message, severity)


def _clean_uri(uri: Any) -> Any:
    return strip_url_credentials(uri) if isinstance(uri, str) else uri


def _nothing_redacted(run: Run) -> bool:
    """Whether redaction left the run's params, tags and provenance exactly as written (then a build that
    takes the run from the cache need not walk them again). NaN is never equal to itself: such runs are
    simply walked every time."""
    raw = run.raw
    return (not run.redacted and run.params == (raw.get("params") or {}) and run.tags == (raw.get("tags") or {})
            and run.provenance == (raw.get("provenance") or {}))


def _strip_credentials(value: Any) -> Any:
    """Credentials inside URLs (``https://user:pass@host``) removed anywhere in a nested structure."""
    if isinstance(value, dict):
        return {k: _strip_credentials(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_credentials(v) for v in value]
    if isinstance(value, str) and "@" in value and "://" in value:
        return strip_url_credentials(value)
    return value


def load_project(source: str | Path, config: Config | None = None, *, with_history: bool = True,
                 cache=None, jobs: int | None = None, tree_digests: dict[str, str] | None = None,
                 data_digests: dict[str, str] | None = None) -> Project:
    """Load everything in ``source``. Problems are in ``project.diagnostics``; nothing here raises for bad input.

    Run folders are read in ``jobs`` processes (default: all cores) when there are many. ``tree_digests``:
    :func:`~sitegen.cache.tree_digest` of run folders by ``<exp>/<run>``, already computed (by the fast
    path's fingerprint moments ago), so the build cache need not read those folders again; ``data_digests``
    their data digests (:func:`~sitegen.cache.run_folder_digests`), which must come with them."""
    root = Path(source)
    if not root.is_dir():
        from ..diagnostics import SitegenError

        raise SitegenError(f"source {str(root)!r} is not a directory")
    loader = Loader(root, config, with_history=with_history, cache=cache, jobs=jobs)
    loader.tree_digests = dict(tree_digests or {})
    loader.known_data_digests = dict(data_digests or {})
    project = loader.load()
    project.run_digests, project.data_digests = loader.run_digests, loader.data_digests
    return project
