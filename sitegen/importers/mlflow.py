"""Import an MLflow tracking store (any tracking URI) into a format-1 store, through MLflow's client.

What goes where (DESIGN.md section 2):

- experiment -> ``runs/<slug>/experiment.yaml``: ``title`` (the MLflow name), ``description`` (the
  ``mlflow.note.content`` tag), ``tags`` (the rest, plus ``mlflow.experiment_id``, which is how a later
  import finds the same folder even after a rename). Slugs come from the name; a clash gets
  ``-<experiment id>`` appended, so the result does not depend on import order.
- run -> ``runs/<slug>/<run id>/`` (the 32-hex MLflow id is kept): ``run.yaml`` with name, status,
  times (milliseconds kept), user, params (strings, as MLflow stores them), tags, and the system tags
  moved to their places: ``mlflow.parentRunId`` -> ``parent``, ``mlflow.note.content`` -> ``notes``,
  ``mlflow.source.git.*`` and ``mlflow.source.name`` -> ``provenance.code``, ``mlflow.log-model.history``
  -> ``provenance.outputs``; dataset inputs -> ``provenance.inputs`` (name, ``mlflow:<digest>``, uri,
  source, schema, profile, context as ``role``); logged models (MLflow 3) -> ``provenance.outputs``;
  every metric's full history -> ``metrics.parquet`` (exact duplicate points dropped); artifacts
  downloaded into ``artifacts/`` up to a size limit, bigger ones listed as external (``uri``, ``size``).
- registered model -> ``models/<slug>/model.yaml`` (name, description, tags, aliases) and
  ``versions/<n>.yaml`` (source run, created, description, tags, the deprecated stage as ``stage``,
  the signature from the version's ``MLmodel`` when readable; ``mlflow.source`` / ``mlflow.run_id``
  tags keep the MLflow references).

Idempotent: each file is compared with what is on disk and written only when it differs (see
:mod:`sitegen.importers.writing`); top-level fields an importer does not own (say a ``primary_metric``
added by hand to experiment.yaml) are kept.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np

from ..diagnostics import SitegenError
from ..redact import redact_mapping, strip_url_credentials
from ..track import DEFAULT_ARTIFACT_LIMIT, FORMAT as RUN_FORMAT, _redact_patterns
from .writing import (ImportSummary, SlugAllocator, copy_file, dump_run, dump_yaml, iso_ms, load_yaml,
                      metrics_table, outcome, slugify, write_metrics, write_text)

Progress = Callable[[int, int, str], None]

EXPERIMENT_FORMAT = "sitegen.experiment/1"
MODEL_FORMAT = "sitegen.model/1"
VERSION_FORMAT = "sitegen.model-version/1"
EXPERIMENT_ID_TAG = "mlflow.experiment_id"

STATUS = {"RUNNING": "running", "SCHEDULED": "running", "FINISHED": "finished", "FAILED": "failed",
          "KILLED": "killed"}
STAGES = {"none": "none", "staging": "staging", "production": "production", "archived": "archived"}
# System tags moved into run.yaml fields instead of `tags:` (mlflow.runName and mlflow.user are the
# run's name and user, which MLflow also keeps in the run info).
MAPPED_TAGS = frozenset({
    "mlflow.runName", "mlflow.user", "mlflow.parentRunId", "mlflow.note.content",
    "mlflow.source.git.commit", "mlflow.source.git.branch", "mlflow.source.git.repoURL", "mlflow.gitRepoURL",
    "mlflow.source.name", "mlflow.log-model.history",
})
# Fields of run.yaml an MLflow import owns; any other top-level field already in the file is kept.
RUN_FIELDS = ("format", "id", "name", "status", "start_time", "end_time", "user", "parent", "tags", "params",
              "notes", "provenance", "artifacts")
_HEX = re.compile(r"[0-9a-fA-F]{8,128}")


def _need_mlflow():
    try:
        import mlflow  # noqa: F401
        from mlflow import MlflowClient
    except ImportError:
        raise SitegenError("importing from MLflow needs the mlflow package: pip install 'sitegen[mlflow]'") from None
    return MlflowClient


def _local_path(uri: str | None) -> Path | None:
    """The local folder of a ``file:`` URI or a plain path; None for any remote scheme."""
    if not uri:
        return None
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "" or (len(parsed.scheme) == 1 and os.name == "nt"):
        return Path(uri)
    return None


def _prepare_file_store(tracking_uri: str | None) -> str | None:
    """MLflow 3 refuses a file store unless MLFLOW_ALLOW_FILE_STORE is set; importing one is what the
    user asked for, so allow it for this process. A plain path becomes a ``file:`` URI."""
    if tracking_uri is None:
        return None
    local = _local_path(tracking_uri)
    if local is not None:
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        if not local.exists():
            raise SitegenError(f"--tracking-uri {tracking_uri}: no such folder")
        return local.resolve().as_uri()
    return tracking_uri


def _paged(fetch: Callable[[str | None], Any]) -> Iterator[Any]:
    token = None
    while True:
        page = fetch(token)
        yield from page
        token = getattr(page, "token", None)
        if not token:
            return


def _json(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


def _experiment_sort_key(experiment_id: str) -> tuple:
    return (0, int(experiment_id), "") if experiment_id.isdigit() else (1, 0, experiment_id)


class MlflowImporter:
    """One import from one tracking URI into one source folder. Use :func:`import_mlflow`."""

    def __init__(self, source: Path, tracking_uri: str | None, *, experiments: Sequence[str] = (),
                 since: datetime | None = None, artifact_size_limit: int = DEFAULT_ARTIFACT_LIMIT,
                 progress: Progress | None = None) -> None:
        client_class = _need_mlflow()
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # ours is the progress bar
        self.root = Path(source).resolve()
        self.tracking_uri = _prepare_file_store(tracking_uri)
        self.client = client_class(tracking_uri=self.tracking_uri)
        self.resolved_uri = self.client._tracking_client.tracking_uri if hasattr(self.client, "_tracking_client") \
            else (self.tracking_uri or "")
        self.wanted = list(experiments)
        self.since_ms = None if since is None else int(
            (since if since.tzinfo else since.replace(tzinfo=timezone.utc)).timestamp() * 1000)
        self.limit = int(artifact_size_limit)
        self.progress = progress
        self.summary = ImportSummary()
        self.redact = _redact_patterns(self.root, ())
        self.exp_slugs: dict[str, str] = {}        # experiment id -> slug
        self.run_experiment: dict[str, str] = {}   # run id -> experiment id (runs seen)
        self.logged_models: dict[str, Any] = {}    # model id -> LoggedModel
        self.skipped_since = 0

    # -- the whole import ---------------------------------------------------------------------------
    def run(self) -> ImportSummary:
        from mlflow.entities import ViewType

        experiments = sorted(_paged(lambda t: self.client.search_experiments(
            view_type=ViewType.ACTIVE_ONLY, max_results=1000, page_token=t)),
            key=lambda e: _experiment_sort_key(e.experiment_id))
        self._allocate_slugs(experiments)
        chosen = self._choose(experiments)
        runs_by_exp: list[tuple[Any, list[Any]]] = []
        for exp in chosen:
            try:
                self._import_experiment(exp)
            except Exception as exc:  # noqa: BLE001 - reported in the summary, the import goes on
                self.summary.fail("experiment", exp.name, _reason(exc))
                continue
            runs = sorted(_paged(lambda t, e=exp: self.client.search_runs(
                [e.experiment_id], run_view_type=ViewType.ACTIVE_ONLY, max_results=1000, page_token=t)),
                key=lambda r: (r.info.start_time or 0, r.info.run_id))
            for r in runs:
                self.run_experiment[r.info.run_id] = exp.experiment_id
            self._load_logged_models(exp.experiment_id)
            runs_by_exp.append((exp, runs))
        total = sum(len(runs) for _e, runs in runs_by_exp)
        done = 0
        self._tick(done, total, "runs")
        for exp, runs in runs_by_exp:
            for r in runs:
                try:
                    self._import_run(r, self.exp_slugs[exp.experiment_id])
                except Exception as exc:  # noqa: BLE001
                    self.summary.fail("run", f"{exp.name}/{r.info.run_id}", _reason(exc))
                done += 1
                self._tick(done, total, "runs")
        self._import_models({e.experiment_id for e in chosen})
        if self.skipped_since:
            self.summary.notes.append(f"{self.skipped_since} run(s) skipped: finished before --since")
        return self.summary

    def _tick(self, done: int, total: int, what: str) -> None:
        if self.progress is not None:
            self.progress(done, total, what)

    # -- experiments --------------------------------------------------------------------------------
    def _allocate_slugs(self, experiments: list[Any]) -> None:
        claimed: dict[str, str] = {}
        taken: set[str] = set()
        runs_dir = self.root / "runs"
        if runs_dir.is_dir():
            for exp_dir in sorted(runs_dir.iterdir()):
                if not exp_dir.is_dir():
                    continue
                data = load_yaml(exp_dir / "experiment.yaml")
                tags = data.get("tags") if isinstance(data, dict) else None
                exp_id = tags.get(EXPERIMENT_ID_TAG) if isinstance(tags, dict) else None
                if exp_id is not None:
                    claimed.setdefault(str(exp_id), exp_dir.name)
                else:
                    taken.add(exp_dir.name)  # a sitegen-native experiment: never written into
        allocator = SlugAllocator(claimed, taken)
        for exp in experiments:
            self.exp_slugs[exp.experiment_id] = allocator.slug(
                exp.experiment_id, exp.name, exp.experiment_id, f"experiment-{exp.experiment_id}")

    def _choose(self, experiments: list[Any]) -> list[Any]:
        if not self.wanted:
            return experiments
        by_name = {e.name: e for e in experiments}
        by_id = {e.experiment_id: e for e in experiments}
        chosen = []
        for name in self.wanted:
            exp = by_name.get(name) or by_id.get(name)
            if exp is None:
                self.summary.fail("experiment", name, "no active experiment with this name or id")
            elif exp not in chosen:
                chosen.append(exp)
        return sorted(chosen, key=lambda e: _experiment_sort_key(e.experiment_id))

    def _import_experiment(self, exp: Any) -> None:
        slug = self.exp_slugs[exp.experiment_id]
        path = self.root / "runs" / slug / "experiment.yaml"
        tags = dict(sorted((exp.tags or {}).items()))
        description = tags.pop("mlflow.note.content", None)
        tags[EXPERIMENT_ID_TAG] = exp.experiment_id
        tags, _ = redact_mapping(tags, self.redact)
        old = load_yaml(path)
        data = dict(old) if isinstance(old, dict) else {}
        for key in ("format", "title", "description", "tags"):
            data.pop(key, None)
        record = {"format": EXPERIMENT_FORMAT, "title": exp.name}
        if description:
            record["description"] = description
        record["tags"] = tags
        record.update(data)
        changed = write_text(path, dump_yaml(record))
        self.summary.add("experiment", outcome(old is not None, changed))

    # -- runs ---------------------------------------------------------------------------------------
    def _import_run(self, r: Any, slug: str) -> None:
        info = r.info
        if self.since_ms is not None and info.status not in ("RUNNING", "SCHEDULED") \
                and max(info.start_time or 0, info.end_time or 0) < self.since_ms:
            self.summary.add("run", "skipped")
            self.skipped_since += 1
            return
        run_dir = self.root / "runs" / slug / info.run_id
        run_file = run_dir / "run.yaml"
        old = load_yaml(run_file)
        existed = isinstance(old, dict)
        record = self._run_record(r, slug)
        if existed:
            record.update({k: v for k, v in old.items() if k not in RUN_FIELDS and k != "metrics"})
            if "metrics" in old:  # summary values written by hand are kept
                record["metrics"] = old["metrics"]
        changed = self._import_artifacts(r, run_dir, record)
        changed |= write_metrics(run_dir, self._history(r))
        changed |= write_text(run_file, dump_run(record))
        self.summary.add("run", outcome(existed, changed))

    def _run_record(self, r: Any, slug: str) -> dict[str, Any]:
        info, data = r.info, r.data
        tags = dict(data.tags or {})
        record: dict[str, Any] = {"format": RUN_FORMAT, "id": info.run_id,
                                  "name": info.run_name or tags.get("mlflow.runName") or info.run_id,
                                  "status": STATUS.get(info.status, "finished"),
                                  "start_time": iso_ms(info.start_time)}
        if info.end_time:
            record["end_time"] = iso_ms(info.end_time)
        if record["start_time"] is None:
            del record["start_time"]
        user = info.user_id or tags.get("mlflow.user")
        if user:
            record["user"] = user
        parent = tags.get("mlflow.parentRunId")
        if parent:
            record["parent"] = self._parent_ref(parent, slug)
        user_tags = {k: v for k, v in sorted(tags.items()) if k not in MAPPED_TAGS}
        record["tags"], _ = redact_mapping(user_tags, self.redact)
        params = dict(sorted((data.params or {}).items()))
        record["params"], _ = redact_mapping(params, self.redact)
        if tags.get("mlflow.note.content"):
            record["notes"] = tags["mlflow.note.content"]
        provenance: dict[str, Any] = {}
        code = {}
        repo = tags.get("mlflow.source.git.repoURL") or tags.get("mlflow.gitRepoURL")
        if repo:
            code["repo"] = strip_url_credentials(repo)
        if tags.get("mlflow.source.git.commit"):
            code["commit"] = tags["mlflow.source.git.commit"]
        if tags.get("mlflow.source.git.branch"):
            code["branch"] = tags["mlflow.source.git.branch"]
        if tags.get("mlflow.source.name"):
            code["entry_point"] = tags["mlflow.source.name"]
        if code:
            provenance["code"] = code
        inputs = [self._dataset_input(d) for d in (getattr(r.inputs, "dataset_inputs", None) or [])]
        if inputs:
            provenance["inputs"] = inputs
        outputs = self._model_outputs(r, tags.get("mlflow.log-model.history"))
        if outputs:
            provenance["outputs"] = outputs
        if provenance:
            record["provenance"] = provenance
        return record

    def _parent_ref(self, parent_id: str, slug: str) -> str:
        exp_id = self.run_experiment.get(parent_id)
        if exp_id is None:
            try:
                exp_id = self.client.get_run(parent_id).info.experiment_id
            except Exception:  # noqa: BLE001 - a deleted parent: keep the id, validate will warn
                return parent_id
            self.run_experiment[parent_id] = exp_id
        parent_slug = self.exp_slugs.get(exp_id, slug)
        return parent_id if parent_slug == slug else f"{parent_slug}/{parent_id}"

    def _dataset_input(self, dataset_input: Any) -> dict[str, Any]:
        ds = dataset_input.dataset
        entry: dict[str, Any] = {"name": ds.name, "kind": "dataset"}
        tags = {t.key: t.value for t in (dataset_input.tags or [])}
        if tags.get("mlflow.data.context"):
            entry["role"] = tags.pop("mlflow.data.context")
        source = _json(ds.source)
        if isinstance(source, dict):
            uri = next((source[k] for k in ("uri", "url", "path", "table_name", "repo_id") if source.get(k)), None)
            if isinstance(uri, str):
                entry["uri"] = strip_url_credentials(uri)
        if ds.digest and _HEX.fullmatch(ds.digest):
            entry["digest"] = f"mlflow:{ds.digest.lower()}"
        elif ds.digest:
            entry["mlflow_digest"] = ds.digest
        if ds.source_type:
            entry["source_type"] = ds.source_type
        if source is not None:
            entry["source"] = source
        schema = _json(ds.schema)
        if schema is not None:
            entry["schema"] = schema
        profile = _json(ds.profile)
        if profile is not None:
            entry["profile"] = profile
        if tags:
            entry["tags"] = dict(sorted(tags.items()))
        return entry

    def _load_logged_models(self, experiment_id: str) -> None:
        search = getattr(self.client, "search_logged_models", None)
        if search is None:  # MLflow 2: logged models are run artifacts (mlflow.log-model.history)
            return
        try:
            for lm in _paged(lambda t: search(experiment_ids=[experiment_id], max_results=1000, page_token=t)):
                self.logged_models[lm.model_id] = lm
        except Exception:  # noqa: BLE001 - a backend without logged models
            return

    def _model_outputs(self, r: Any, history: str | None) -> list[dict[str, Any]]:
        outputs: list[dict[str, Any]] = []
        for out in getattr(getattr(r, "outputs", None), "model_outputs", None) or []:
            lm = self.logged_models.get(out.model_id)
            entry = {"name": lm.name if lm is not None else out.model_id, "kind": "model",
                     "uri": f"models:/{out.model_id}", "model_id": out.model_id}
            if out.step:
                entry["step"] = int(out.step)
            outputs.append(entry)
        seen = {e["model_id"] for e in outputs}
        for lm in sorted(self.logged_models.values(), key=lambda m: m.model_id):
            if lm.source_run_id == r.info.run_id and lm.model_id not in seen:
                outputs.append({"name": lm.name, "kind": "model", "uri": f"models:/{lm.model_id}",
                                "model_id": lm.model_id})
        logged = _json(history)
        if isinstance(logged, list):
            for item in logged:
                if isinstance(item, dict) and item.get("artifact_path"):
                    entry = {"name": item["artifact_path"], "kind": "model",
                             "path": f"artifacts/{item['artifact_path']}"}
                    if item.get("flavors"):
                        entry["flavors"] = sorted(item["flavors"])
                    if item.get("utc_time_created"):
                        entry["created"] = str(item["utc_time_created"])
                    outputs.append(entry)
        return outputs

    def _history(self, r: Any):
        keys: list[str] = []
        steps: list[int] = []
        values: list[float] = []
        times: list[int] = []
        for key in sorted(r.data.metrics or {}):
            for m in self.client.get_metric_history(r.info.run_id, key):
                keys.append(m.key)
                steps.append(m.step)
                values.append(m.value)
                times.append(m.timestamp if m.timestamp is not None else -1)
        return metrics_table(np.array(keys, dtype=object), np.array(steps, dtype=np.int64),
                             np.array(values, dtype=np.float64), np.array(times, dtype=np.int64))

    # -- artifacts ----------------------------------------------------------------------------------
    def _artifact_source(self, r: Any) -> tuple[Callable[[str | None], list], Callable[[str, str], str], str]:
        """(list, download, base uri) for a run's artifacts; a local artifact folder that no longer
        exists (a file store copied from another machine) falls back to the store-relative one."""
        uri = r.info.artifact_uri
        local = _local_path(uri)
        if local is not None and not local.exists():
            fallback = self._fallback_artifacts(r)
            if fallback is not None:
                from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository

                repo = LocalArtifactRepository(fallback.as_uri())
                return repo.list_artifacts, lambda p, dst: repo.download_artifacts(p, dst), fallback.as_uri()
            return (lambda _p: []), (lambda p, dst: dst), uri
        run_id = r.info.run_id
        return (lambda p: self.client.list_artifacts(run_id, p)), \
            (lambda p, dst: self.client.download_artifacts(run_id, p, dst)), uri

    def _fallback_artifacts(self, r: Any) -> Path | None:
        store = _local_path(self.resolved_uri)
        if store is None and self.resolved_uri.startswith("sqlite:///"):
            store = Path(self.resolved_uri[len("sqlite:///"):]).parent / "mlruns"
        if store is None:
            return None
        candidate = store / r.info.experiment_id / r.info.run_id / "artifacts"
        return candidate if candidate.is_dir() else None

    def _walk(self, lister: Callable[[str | None], list], path: str | None = None) -> Iterator[Any]:
        for item in sorted(lister(path) or [], key=lambda f: f.path):
            if item.is_dir:
                yield from self._walk(lister, item.path)
            else:
                yield item

    def _import_artifacts(self, r: Any, run_dir: Path, record: dict[str, Any]) -> bool:
        lister, download, base = self._artifact_source(r)
        files = list(self._walk(lister))
        if not files:
            return False
        changed = False
        external = []
        with tempfile.TemporaryDirectory(prefix="sitegen-mlflow-") as tmp:
            for item in files:
                rel = item.path.replace("\\", "/")
                parts = [p for p in rel.split("/") if p not in ("", ".")]
                if not parts or ".." in parts:
                    raise SitegenError(f"artifact path {rel!r} leaves the artifacts folder")
                if item.file_size is not None and item.file_size > self.limit:
                    external.append({"name": "/".join(parts), "uri": strip_url_credentials(f"{base.rstrip('/')}/{rel}"),
                                     "size": int(item.file_size)})
                    continue
                local = Path(download(rel, tmp))
                changed |= copy_file(local, run_dir / "artifacts" / Path(*parts))
        if external:
            record["artifacts"] = external
        return changed

    # -- registered models --------------------------------------------------------------------------
    def _import_models(self, experiment_ids: set[str]) -> None:
        try:
            models = sorted(_paged(lambda t: self.client.search_registered_models(max_results=1000, page_token=t)),
                            key=lambda m: m.name)
        except Exception as exc:  # noqa: BLE001 - a tracking backend without a registry
            self.summary.notes.append(f"model registry not read: {_reason(exc)}")
            return
        claimed: dict[str, str] = {}
        taken: set[str] = set()
        models_dir = self.root / "models"
        if models_dir.is_dir():
            for mdir in sorted(models_dir.iterdir()):
                data = load_yaml(mdir / "model.yaml")
                tags = data.get("tags") if isinstance(data, dict) else None
                if isinstance(tags, dict) and tags.get("mlflow.registered_model"):
                    claimed.setdefault(str(tags["mlflow.registered_model"]), mdir.name)
                elif mdir.is_dir():
                    taken.add(mdir.name)
        allocator = SlugAllocator(claimed, taken)
        for model in models:
            slug = allocator.slug(model.name, model.name, "mlflow", "model")
            try:
                versions = sorted(_paged(lambda t, m=model: self.client.search_model_versions(
                    f"name = '{_quote(m.name)}'", max_results=1000, page_token=t)), key=lambda v: int(v.version))
                if self.wanted and not any(self._run_exp(v.run_id) in experiment_ids for v in versions):
                    continue
                self._import_model(model, versions, slug)
            except Exception as exc:  # noqa: BLE001
                self.summary.fail("model", model.name, _reason(exc))

    def _run_exp(self, run_id: str | None) -> str | None:
        if not run_id:
            return None
        if run_id not in self.run_experiment:
            try:
                self.run_experiment[run_id] = self.client.get_run(run_id).info.experiment_id
            except Exception:  # noqa: BLE001 - the run was deleted
                return None
        return self.run_experiment[run_id]

    def _import_model(self, model: Any, versions: list[Any], slug: str) -> None:
        mdir = self.root / "models" / slug
        path = mdir / "model.yaml"
        old = load_yaml(path)
        tags = dict(sorted((model.tags or {}).items()))
        tags["mlflow.registered_model"] = model.name
        tags, _ = redact_mapping(tags, self.redact)
        record: dict[str, Any] = {"format": MODEL_FORMAT, "name": model.name}
        if model.description:
            record["description"] = model.description
        record["tags"] = tags
        aliases = model.aliases or {}
        if isinstance(aliases, list):  # older clients: [RegisteredModelAlias(alias, version)]
            aliases = {a.alias: a.version for a in aliases}
        record["aliases"] = {str(k): int(v) for k, v in sorted(aliases.items())}
        if isinstance(old, dict):
            record.update({k: v for k, v in old.items() if k not in record and k not in ("description",)})
        changed = write_text(path, dump_yaml(record))
        self.summary.add("model", outcome(isinstance(old, dict), changed))
        for version in versions:
            try:
                self._import_version(version, mdir)
            except Exception as exc:  # noqa: BLE001
                self.summary.fail("model version", f"{model.name}/{version.version}", _reason(exc))

    def _import_version(self, v: Any, mdir: Path) -> None:
        path = mdir / "versions" / f"{int(v.version)}.yaml"
        old = load_yaml(path)
        record: dict[str, Any] = {"format": VERSION_FORMAT, "version": int(v.version)}
        exp_id = self._run_exp(v.run_id)
        if exp_id is not None and exp_id in self.exp_slugs:
            slug = self.exp_slugs[exp_id]
            if (self.root / "runs" / slug / v.run_id / "run.yaml").is_file():
                record["source_run"] = f"{slug}/{v.run_id}"
        if v.creation_timestamp:
            record["created"] = iso_ms(v.creation_timestamp)
        if v.description:
            record["description"] = v.description
        stage = STAGES.get(str(v.current_stage or "none").lower())
        if stage and stage != "none":
            record["stage"] = stage
        tags = dict(sorted((v.tags or {}).items()))
        if v.source:
            tags["mlflow.source"] = strip_url_credentials(v.source)
        if v.run_id:
            tags["mlflow.run_id"] = v.run_id
        if getattr(v, "model_id", None):
            tags["mlflow.model_id"] = v.model_id
        record["tags"], _ = redact_mapping(tags, self.redact)
        signature = self._signature(v.source)
        if signature:
            record["signature"] = signature
        if isinstance(old, dict):
            record.update({k: v2 for k, v2 in old.items() if k not in record and k not in ("description", "stage")})
        changed = write_text(path, dump_yaml(record))
        self.summary.add("model version", outcome(isinstance(old, dict), changed))

    def _signature(self, source: str | None) -> dict[str, Any] | None:
        """Inputs and outputs of the version's MLmodel signature, or None when there is none."""
        if not source:
            return None
        try:
            from mlflow.artifacts import download_artifacts

            with tempfile.TemporaryDirectory(prefix="sitegen-mlmodel-") as tmp:
                local = download_artifacts(artifact_uri=f"{source.rstrip('/')}/MLmodel", dst_path=tmp,
                                           tracking_uri=self.resolved_uri or None)
                data = load_yaml(Path(local))
        except Exception:  # noqa: BLE001 - no MLmodel file: the version simply has no signature
            return None
        sig = data.get("signature") if isinstance(data, dict) else None
        if not isinstance(sig, dict):
            return None
        out = {}
        for part in ("inputs", "outputs"):
            cols = _json(sig.get(part))
            if isinstance(cols, list):
                out[part] = [{k: c[k] for k in ("name", "type") if k in c} if isinstance(c, dict) else {"type": str(c)}
                             for c in cols]
        return out or None


def _quote(name: str) -> str:
    return name.replace("\\", "\\\\").replace("'", "\\'")


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


def import_mlflow(source: str | os.PathLike, tracking_uri: str | None = None, *, experiments: Iterable[str] = (),
                  since: datetime | None = None, artifact_size_limit: int = DEFAULT_ARTIFACT_LIMIT,
                  progress: Progress | None = None) -> ImportSummary:
    """Import experiments, runs and registered models from ``tracking_uri`` (default: MLflow's own
    default, ``$MLFLOW_TRACKING_URI``) into the source folder ``source``; returns the summary."""
    importer = MlflowImporter(Path(source), tracking_uri, experiments=list(experiments), since=since,
                              artifact_size_limit=artifact_size_limit, progress=progress)
    return importer.run()


__all__ = ["import_mlflow", "MlflowImporter", "slugify"]
