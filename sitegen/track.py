"""The tracking API: :func:`start_run` and the :class:`Run` it returns, writing format 1 files.

::

    import sitegen
    with sitegen.start_run(experiment="mnist", name="baseline", params={"lr": 1e-3}) as run:
        for step in range(100):
            run.log_metric("loss", loss, step=step)
        run.log_artifact("confusion.png")

A run is the folder ``<root>/runs/<experiment>/<run-id>/`` (DESIGN.md section 2):

- ``run.yaml`` is written when the run starts (status ``running``), rewritten atomically (temporary file,
  fsync, rename) at most once a second while params, tags, notes, inputs or outputs change, and a last
  time when the run ends. A finished run's files are not touched again (unless it is resumed).
- Metric points go through :class:`sitegen.journal.MetricWriter`: ``metrics.journal.jsonl`` while the run
  is live, ``metrics.parquet`` once it ends (see that module for the crash guarantees).
- ``metrics:`` in run.yaml holds only values logged with :meth:`Run.log_summary` (say, a final test
  score that has no history). The last value of each logged series is *not* copied there: readers
  derive it from the Parquet / journal, so it is stored once and cannot disagree.
- ``provenance`` is captured at the start (:mod:`sitegen.capture`), so a crashed run has it. Artifacts
  copied into ``artifacts/`` are listed with their digest in ``provenance.artifacts`` (``path``,
  ``digest``, ``size``); artifacts above the size limit are not copied but listed in the top-level
  ``artifacts:`` (``name``, ``uri``, ``digest``, ``size``), which the site shows as external.

Runs nest: a ``start_run`` while another run is active in the same context (thread / task) becomes its
child (``parent:``). Under ``sitegen run``, the environment variable ``SITEGEN_RUN`` names the wrapper's
run directory and a top-level ``start_run()`` in the child process *joins* that run instead of creating
one: its params, metrics and artifacts land in the wrapper's run, and the wrapper sets the final status
from the exit code.
"""

from __future__ import annotations

import atexit
import contextvars
import getpass
import numbers
import os
import shutil
import sys
import threading
import traceback
import weakref
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from . import ids
from .capture import CaptureOptions, capture_provenance
from .diagnostics import SitegenError
from .digest import is_uri, path_digest
from .journal import DEFAULT_FLUSH_POINTS, MetricWriter
from .redact import redact_mapping, strip_url_credentials

FORMAT = "sitegen.run/1"
RUN_FILE = "run.yaml"
ARTIFACTS = "artifacts"
DEFAULT_ARTIFACT_LIMIT = 20 * 1024 * 1024
FLUSH_INTERVAL = 1.0
ENV_RUN = "SITEGEN_RUN"
ENV_ROOT = "SITEGEN_ROOT"
STATUSES = ("running", "finished", "failed", "killed")
_KEY_ORDER = ("format", "id", "name", "status", "start_time", "end_time", "user", "parent", "tags",
              "params", "metrics", "notes", "artifacts", "provenance")

_active: contextvars.ContextVar[Run | None] = contextvars.ContextVar("sitegen_active_run", default=None)
_open_runs: weakref.WeakSet[Run] = weakref.WeakSet()


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso_utc(moment: datetime) -> str:
    """``2026-11-27T06:12:00Z``: ISO 8601, UTC, whole seconds."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def active_run() -> Run | None:
    """The run started most recently in this context and not yet ended, if any."""
    return _active.get()


# -- YAML -----------------------------------------------------------------------------------------
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Safe dumper that writes multi-line strings (notes) as literal blocks."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value.rstrip("\n") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def _plain(value: Any) -> Any:
    """``value`` made of YAML-safe types only: dict, list, str, int, float, bool, None."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [_plain(v) for v in items]
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, datetime):
        return iso_utc(value) if value.tzinfo else value.isoformat()
    if isinstance(value, Path):
        return value.as_posix()
    item = getattr(value, "item", None)  # numpy / torch scalars
    if callable(item):
        try:
            return _plain(item())
        except Exception:  # noqa: BLE001
            pass
    return str(value)


def dump_run_yaml(data: Mapping[str, Any]) -> str:
    ordered = {k: data[k] for k in _KEY_ORDER if k in data}
    ordered.update({k: v for k, v in data.items() if k not in ordered})
    return yaml.dump(ordered, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=100)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder, fsync, rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def load_run_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, yaml.YAMLError) as exc:
        raise SitegenError(f"{path}: cannot read run file: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SitegenError(f"{path}: expected a mapping with format: {FORMAT}")
    for key in ("start_time", "end_time"):  # an unquoted timestamp loads as a datetime
        if isinstance(data.get(key), datetime):
            data[key] = iso_utc(data[key])
    return data


# -- the run --------------------------------------------------------------------------------------
class Run:
    """One run being written. Create it with :func:`start_run`; use as a context manager or call
    :meth:`end`. All methods are thread-safe."""

    def __init__(self, run_dir: Path, experiment: str, record: dict[str, Any], *,
                 artifact_size_limit: int, redact_patterns: Sequence[str], flush_points: int,
                 import_metrics: bool, joined: bool) -> None:
        self.dir = run_dir
        self.experiment = experiment
        self.id: str = record["id"]
        self._record = record
        self._joined = joined
        self._artifact_limit = int(artifact_size_limit)
        self._redact = tuple(redact_patterns)
        self._lock = threading.RLock()
        self._dirty = False
        self._ended = False
        self._status: str | None = None
        self._previous_active: Run | None = None
        self._metrics = MetricWriter(run_dir, flush_points=flush_points, import_existing=import_metrics)
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name=f"sitegen-run-{self.id}", daemon=True)
        self._errors: list[BaseException] = []
        # The hot path skips one Python call layer: log_metric *is* the writer's bound method.
        self.log_metric = self._metrics.log

    # -- identity -------------------------------------------------------------------------------
    @property
    def ref(self) -> str:
        """``<experiment>/<run-id>``: how model versions and other runs refer to this run."""
        return f"{self.experiment}/{self.id}"

    @property
    def name(self) -> str:
        return self._record.get("name", self.id)

    @property
    def status(self) -> str:
        return self._record.get("status", "running")

    @property
    def artifact_size_limit(self) -> int:
        """Artifacts larger than this many bytes are recorded as external instead of copied."""
        return self._artifact_limit

    @property
    def artifacts_dir(self) -> Path:
        return self.dir / ARTIFACTS

    def __repr__(self) -> str:
        return f"<sitegen.Run {self.ref} {self.status}>"

    # -- params, tags, notes, summaries ---------------------------------------------------------
    def log_param(self, key: str, value: Any) -> None:
        """Record one parameter (any YAML-representable value; nested mappings allowed)."""
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record parameters. Values whose key looks secret (``*password*``, ...) are stored redacted."""
        cleaned = self._cleaned(params, "params")
        with self._lock:
            self._record.setdefault("params", {}).update(cleaned)
            self._dirty = True

    def set_tag(self, key: str, value: Any) -> None:
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set tags (values stored as strings; secret-looking ones redacted)."""
        as_text = {k: v if v is None or isinstance(v, str) else str(_plain(v)) for k, v in _check_keys(tags, "tags").items()}
        cleaned = self._cleaned(as_text, "tags")
        with self._lock:
            self._record.setdefault("tags", {}).update(cleaned)
            self._dirty = True

    def note(self, text: str) -> None:
        """Append a Markdown paragraph to the run's notes."""
        if not isinstance(text, str):
            raise TypeError(f"note: expected a string, got {type(text).__name__}")
        with self._lock:
            old = self._record.get("notes") or ""
            self._record["notes"] = (old.rstrip("\n") + "\n\n" + text.strip("\n") if old else text.strip("\n")) + "\n"
            self._dirty = True

    def log_summary(self, metrics: Mapping[str, Any]) -> None:
        """Record summary metric values in run.yaml ``metrics:`` (no history; e.g. a final test score)."""
        values = {}
        for key, value in _check_keys(metrics, "metrics").items():
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"summary metric {key!r}: value must be a real number, got "
                                f"{type(value).__name__}: {value!r:.80}")
            values[key] = float(value)
        with self._lock:
            self._record.setdefault("metrics", {}).update(values)
            self._dirty = True

    def _cleaned(self, mapping: Mapping[str, Any], what: str) -> dict[str, Any]:
        plain = _plain(_check_keys(mapping, what))
        cleaned, _paths = redact_mapping(plain, self._redact)
        return cleaned

    # -- metrics --------------------------------------------------------------------------------
    def log_metric(self, key: str, value: float, step: int | None = None,  # noqa: F811 - see __init__
                   timestamp: int | datetime | None = None) -> None:
        """Record one metric point. ``step`` defaults to the key's previous step + 1 (0 at first);
        ``timestamp`` (epoch milliseconds or an aware datetime) defaults to now. NaN and infinities
        are kept; a bool or non-numeric value raises TypeError naming the key."""
        self._metrics.log(key, value, step, timestamp)

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None,
                    timestamp: int | datetime | None = None) -> None:
        """Record several points at one step (each key auto-increments on its own when step is None)."""
        log = self._metrics.log
        for key, value in metrics.items():
            log(key, value, step, timestamp)

    # -- artifacts, inputs, outputs -------------------------------------------------------------
    def log_artifact(self, local_path: str | os.PathLike, artifact_path: str | None = None) -> dict[str, Any]:
        """Copy a file or directory into ``artifacts/[artifact_path/]<name>`` and record its digest.

        A file already inside ``artifacts/`` is recorded where it is. Above the size limit (20 MB by
        default, ``start_run(artifact_size_limit=)``) nothing is copied:
        the artifact is recorded in the top-level ``artifacts:`` list as external, with its ``uri``
        (``file://`` path), digest and size.
        Returns the recorded entry.
        """
        source = Path(local_path)
        if not source.exists():
            raise FileNotFoundError(f"log_artifact: {source} does not exist")
        try:  # already written into artifacts/ (say, by the script itself): record it where it is
            inside = source.resolve().relative_to(self.artifacts_dir.resolve()).as_posix()
        except ValueError:
            inside = None
        if inside and inside != ".":
            digest, size = path_digest(source)
            entry = {"path": f"{ARTIFACTS}/{inside}", "digest": digest, "size": size}
            self._record_entry("artifacts", entry, ("path",))
            return entry
        target_rel = _artifact_rel(artifact_path, source.name)
        digest, size = path_digest(source)
        if size > self._artifact_limit:
            entry = {"name": target_rel, "uri": source.resolve().as_uri(), "digest": digest, "size": size}
            self._record_entry("artifacts", entry, ("name",), top_level=True)
            return entry
        target = self.artifacts_dir / target_rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
            digest, size = path_digest(target)
        else:
            shutil.copyfile(source, target)
        entry = {"path": f"{ARTIFACTS}/{target_rel}", "digest": digest, "size": size}
        self._record_entry("artifacts", entry, ("path",))
        return entry

    def log_artifacts(self, local_dir: str | os.PathLike, artifact_path: str | None = None) -> list[dict[str, Any]]:
        """Log every file and folder inside ``local_dir`` (its contents, not the folder itself)."""
        folder = Path(local_dir)
        if not folder.is_dir():
            raise NotADirectoryError(f"log_artifacts: {folder} is not a directory")
        return [self.log_artifact(child, artifact_path) for child in sorted(folder.iterdir())]

    def log_text(self, text: str, artifact_file: str) -> dict[str, Any]:
        """Write ``text`` to ``artifacts/<artifact_file>`` and record it."""
        rel = _artifact_rel(None, artifact_file)
        target = self.artifacts_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        digest, size = path_digest(target)
        entry = {"path": f"{ARTIFACTS}/{rel}", "digest": digest, "size": size}
        self._record_entry("artifacts", entry, ("path",))
        return entry

    def log_input(self, location: str | os.PathLike, name: str | None = None, kind: str = "dataset",
                  role: str | None = None, *, digest: str | None = None, rows: int | None = None,
                  **extra: Any) -> dict[str, Any]:
        """Record what the run read. A local file or folder is digested (sha256, streamed; a folder as
        a tree); a URI (``s3://``, ``https://``) is recorded as given, never downloaded."""
        entry = self._describe(location, name, kind, digest, rows, extra)
        if role is not None:
            entry["role"] = role
        self._record_entry("inputs", entry, ("name",))
        return entry

    def log_output(self, location: str | os.PathLike, name: str | None = None, kind: str = "artifact", *,
                   copy: bool = False, digest: str | None = None, rows: int | None = None,
                   **extra: Any) -> dict[str, Any]:
        """Record what the run produced (digested like :meth:`log_input`). With ``copy=True`` the file
        is also logged as an artifact and the output points at the copy."""
        if copy and not is_uri(str(location)):
            artifact = self.log_artifact(location)
            entry = {"name": name or Path(location).name, "kind": kind,
                     **({"path": artifact["path"]} if "path" in artifact else {"uri": artifact["uri"]}),
                     "digest": artifact["digest"], "size": artifact["size"]}
            if rows is not None:
                entry["rows"] = rows
            entry.update(_plain(extra))
        else:
            entry = self._describe(location, name, kind, digest, rows, extra)
        self._record_entry("outputs", entry, ("name",))
        return entry

    def _describe(self, location: str | os.PathLike, name: str | None, kind: str, digest: str | None,
                  rows: int | None, extra: Mapping[str, Any]) -> dict[str, Any]:
        text = os.fspath(location)
        entry: dict[str, Any] = {}
        if is_uri(text):
            entry = {"name": name or text.rstrip("/").rsplit("/", 1)[-1] or text, "kind": kind,
                     "uri": strip_url_credentials(text)}
            if digest:
                entry["digest"] = digest
        else:
            path = Path(text)
            if not path.exists():
                raise FileNotFoundError(f"{path} does not exist (a remote location needs a scheme, "
                                        "like s3:// or https://)")
            entry = {"name": name or path.resolve().name, "kind": kind, **self._local_location(path)}
            computed, size = path_digest(path)
            if digest and digest != computed:
                raise ValueError(f"{path}: given digest {digest} does not match the content ({computed})")
            entry["digest"] = computed
            entry["size"] = size
        if rows is not None:
            entry["rows"] = int(rows)
        entry.update(_plain(extra))
        return entry

    def _local_location(self, path: Path) -> dict[str, str]:
        """Inside the run folder: ``path`` relative to it; elsewhere: an absolute ``file://`` uri."""
        resolved = path.resolve()
        try:
            return {"path": resolved.relative_to(self.dir.resolve()).as_posix()}
        except ValueError:
            return {"uri": resolved.as_uri()}

    def _record_entry(self, section: str, entry: dict[str, Any], identity: tuple[str, ...],
                      top_level: bool = False) -> None:
        """Add ``entry`` to ``provenance.<section>`` (or top-level ``<section>``), replacing an entry
        with the same identity (a file logged twice is listed once)."""
        with self._lock:
            holder = self._record if top_level else self._record.setdefault("provenance", {})
            entries = holder.setdefault(section, [])
            ident = next((entry[k] for k in identity if k in entry), None)
            for i, old in enumerate(entries):
                if ident is not None and next((old[k] for k in identity if k in old), None) == ident:
                    entries[i] = entry
                    break
            else:
                entries.append(entry)
            self._dirty = True

    # -- writing run.yaml -----------------------------------------------------------------------
    def _write_record(self) -> None:
        with self._lock:
            text = dump_run_yaml(self._record)
            self._dirty = False
            write_atomic(self.dir / RUN_FILE, text)

    def _tick(self) -> None:
        while not self._stop.wait(FLUSH_INTERVAL):
            try:
                self._metrics.flush()
                if self._dirty:
                    self._write_record()
            except Exception as exc:  # noqa: BLE001 - reported by end(); logging must not crash
                self._errors.append(exc)
                if len(self._errors) == 1:
                    print(f"sitegen: run {self.ref}: background write failed: {exc}", file=sys.stderr)

    def flush(self) -> None:
        """Write buffered metric points and pending run.yaml changes now."""
        self._metrics.flush()
        if self._dirty:
            self._write_record()

    def refresh_from_disk(self) -> None:
        """Take in what another process (a joined child) wrote to this run's folder meanwhile."""
        with self._lock:
            on_disk = load_run_yaml(self.dir / RUN_FILE)
            for key in ("name", "tags", "params", "metrics", "notes", "parent", "artifacts"):
                if key in on_disk:
                    self._record[key] = on_disk[key]
            mine = self._record.setdefault("provenance", {})
            for key, value in (on_disk.get("provenance") or {}).items():
                if key in ("inputs", "outputs", "artifacts"):
                    merged = {repr(sorted(e.items())): e for e in (mine.get(key) or []) + list(value or [])
                              if isinstance(e, dict)}
                    mine[key] = list(merged.values())
                else:
                    mine.setdefault(key, value)
            self._metrics.abandon()
            self._metrics = MetricWriter(self.dir, flush_points=self._metrics.flush_points, import_existing=True)
            self.log_metric = self._metrics.log

    # -- ending ---------------------------------------------------------------------------------
    def end(self, status: str = "finished") -> None:
        """Finish the run: flush and compact metrics, set ``status`` and ``end_time``, write run.yaml.

        A joined run (``SITEGEN_RUN``) keeps status ``running``: the ``sitegen run`` wrapper sets it.
        """
        if status not in STATUSES[1:]:
            raise ValueError(f"end: status must be one of {', '.join(STATUSES[1:])}, got {status!r}")
        with self._lock:
            if self._ended:
                return
            self._ended = True
        self._stop.set()
        if self._ticker.is_alive() and self._ticker is not threading.current_thread():
            self._ticker.join()
        try:
            self._metrics.close()
        finally:
            with self._lock:
                if not self._joined:
                    self._record["status"] = status
                    self._record["end_time"] = iso_utc(utc_now())
                self._write_record()
            _open_runs.discard(self)
            if _active.get() is self:
                _active.set(self._previous_active)

    def _fail(self, exc: BaseException) -> None:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        try:
            self.log_text(text, "traceback.txt")
        except OSError:
            pass

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None:
            self.end("finished")
        elif isinstance(exc, KeyboardInterrupt):
            self.end("killed")
        elif isinstance(exc, SystemExit) and exc.code in (None, 0):
            self.end("finished")
        else:
            self._fail(exc)
            self.end("failed")
        return False

    def _start(self, set_active: bool) -> None:
        self._write_record()
        _open_runs.add(self)
        if set_active:
            self._previous_active = _active.get()
            _active.set(self)
        self._ticker.start()


# -- helpers --------------------------------------------------------------------------------------
def _check_keys(mapping: Mapping[str, Any], what: str) -> dict[str, Any]:
    if not isinstance(mapping, Mapping):
        raise TypeError(f"{what}: expected a mapping, got {type(mapping).__name__}")
    for key in mapping:
        if not isinstance(key, str) or not key:
            raise TypeError(f"{what}: keys must be non-empty strings, got {key!r}")
    return dict(mapping)


def _artifact_rel(artifact_path: str | None, name: str) -> str:
    parts = [p for p in (artifact_path or "").replace("\\", "/").split("/") if p not in ("", ".")]
    parts.append(name)
    if any(p == ".." for p in parts) or not name:
        raise ValueError(f"artifact path {'/'.join(parts)!r} must stay inside artifacts/ (no '..')")
    return "/".join(parts)


def _current_user() -> str | None:
    try:
        return getpass.getuser() or None
    except Exception:  # noqa: BLE001 - no user database entry (containers): leave it out
        return None


def _redact_patterns(root: Path, extra: Iterable[str]) -> tuple[str, ...]:
    """Built-in patterns come from sitegen.redact; add sitegen.yaml ``redact:`` and the caller's."""
    patterns = list(extra)
    config = root / "sitegen.yaml"
    if config.is_file():
        try:
            data = yaml.load(config.read_text(encoding="utf-8"), Loader=_Loader)
        except (OSError, yaml.YAMLError):
            data = None
        if isinstance(data, dict) and isinstance(data.get("redact"), list):
            patterns.extend(str(p) for p in data["redact"])
    return tuple(patterns)


def _find_run_dir(root: Path, experiment: str | None, run_id: str) -> tuple[Path, str]:
    if not ids.is_run_id(run_id):
        raise SitegenError(f"run id {run_id!r} is not valid: expected [A-Za-z0-9][A-Za-z0-9._-]{{0,127}}")
    if experiment:
        candidate = root / "runs" / experiment / run_id
        if (candidate / RUN_FILE).is_file():
            return candidate, experiment
        raise SitegenError(f"{candidate / RUN_FILE}: no such run to resume")
    found = sorted((root / "runs").glob(f"*/{run_id}/{RUN_FILE}"))
    if len(found) != 1:
        where = root / "runs"
        raise SitegenError(f"run {run_id}: found {len(found)} matching folders under {where}; "
                           "pass experiment= to choose" if found else f"run {run_id}: not found under {where}")
    return found[0].parent, found[0].parent.parent.name


def _parent_ref(parent: Run | str | None, experiment: str) -> str | None:
    if parent is None:
        return None
    if isinstance(parent, Run):
        return parent.id if parent.experiment == experiment else parent.ref
    text = str(parent)
    exp, _, rid = text.rpartition("/")
    if not ids.is_run_id(rid) or (exp and not ids.is_slug(exp)):
        raise ValueError(f"parent {text!r}: expected a run id or <experiment>/<run-id>")
    return rid if exp == experiment else text


def _validate_experiment(experiment: str) -> str:
    if not ids.is_slug(experiment):
        raise ValueError(f"experiment {experiment!r} is not a valid name: expected lower-case letters, "
                         "digits, '.', '_' or '-', starting with a letter or digit")
    return experiment


# -- the entry point ------------------------------------------------------------------------------
def start_run(experiment: str | None = None, name: str | None = None, *,
              params: Mapping[str, Any] | None = None, tags: Mapping[str, Any] | None = None,
              parent: Run | str | None = None, root: str | os.PathLike | None = None,
              run_id: str | None = None, resume: bool = False,
              capture: bool | Mapping[str, Any] | CaptureOptions | None = True,
              artifact_size_limit: int = DEFAULT_ARTIFACT_LIMIT, redact: Iterable[str] = (),
              user: str | None = None, flush_points: int = DEFAULT_FLUSH_POINTS,
              command: Sequence[str] | None = None, entry_point: str | os.PathLike | None = None,
              join: bool | None = None) -> Run:
    """Start a run (or resume one) and make it the active run of this context.

    - ``experiment``: slug; defaults to the parent's experiment when nested, else ``"default"``.
    - ``root``: the store's root folder (``runs/`` goes below it); defaults to ``$SITEGEN_ROOT`` or ``.``.
    - ``parent``: a :class:`Run` or run id; defaults to the active run (nesting).
    - ``run_id`` + ``resume=True``: reopen an existing run; its status goes back to ``running`` and new
      points continue after the old ones.
    - ``capture``: provenance parts (True, False or a mapping / :class:`~sitegen.capture.CaptureOptions`).
    - ``redact``: glob patterns of secret keys, added to the built-ins and to sitegen.yaml ``redact:``.
    - ``command`` / ``entry_point``: what to record as the command (for wrappers like ``sitegen run``).
    - ``join``: join the run named by ``$SITEGEN_RUN`` (default: when it is set and no run is active).
    """
    root_path = Path(root if root is not None else os.environ.get(ENV_ROOT) or ".").resolve()
    active = _active.get()
    patterns = _redact_patterns(root_path, redact)
    common = dict(artifact_size_limit=artifact_size_limit, redact_patterns=patterns, flush_points=flush_points)

    env_run = os.environ.get(ENV_RUN)
    if join is None:
        join = bool(env_run) and active is None and parent is None and run_id is None
    if join:
        if not env_run:
            raise SitegenError(f"join=True but ${ENV_RUN} is not set")
        return _join(_joined_dir(env_run, root_path), name, params, tags, common)

    if resume:
        if not run_id:
            raise ValueError("resume=True needs run_id=")
        run_dir, experiment = _find_run_dir(root_path, experiment, run_id)
        record = load_run_yaml(run_dir / RUN_FILE)
        record["status"] = "running"
        record.pop("end_time", None)
        run = Run(run_dir, experiment, record, import_metrics=True, joined=False, **common)
        _apply(run, name, params, tags)
        run._start(set_active=True)
        return run

    if experiment is None:
        experiment = active.experiment if active is not None and parent is None else "default"
    _validate_experiment(experiment)
    if parent is None:
        parent = active
    if run_id is not None and not ids.is_run_id(run_id):
        raise ValueError(f"run_id {run_id!r}: expected [A-Za-z0-9][A-Za-z0-9._-]{{0,127}}")
    exp_dir = root_path / "runs" / experiment
    exp_dir.mkdir(parents=True, exist_ok=True)
    started = utc_now()
    for _attempt in range(100):
        rid = run_id or ids.new_run_id(started)
        run_dir = exp_dir / rid
        try:
            run_dir.mkdir()
            break
        except FileExistsError:
            if run_id:
                raise SitegenError(f"{run_dir}: run already exists (pass resume=True to reopen it)") from None
    else:  # pragma: no cover - 100 collisions of 24 random bits within one second
        raise SitegenError(f"{exp_dir}: could not find a free run id")

    record: dict[str, Any] = {"format": FORMAT, "id": rid, "name": name or rid, "status": "running",
                              "start_time": iso_utc(started)}
    who = user or _current_user()
    if who:
        record["user"] = who
    parent_ref = _parent_ref(parent, experiment)
    if parent_ref:
        record["parent"] = parent_ref
    record.update({"tags": {}, "params": {}, "metrics": {}})
    options = CaptureOptions.from_arg(capture)
    record["provenance"] = capture_provenance(
        run_dir / ARTIFACTS, options, command=command,
        entry_point=Path(entry_point).resolve() if entry_point is not None else None,
        redact_patterns=patterns)
    run = Run(run_dir, experiment, record, import_metrics=False, joined=False, **common)
    _apply(run, None, params, tags)
    run._start(set_active=True)
    return run


def _apply(run: Run, name: str | None, params: Mapping[str, Any] | None, tags: Mapping[str, Any] | None) -> None:
    if name:
        run._record["name"] = str(name)
    if params:
        run.log_params(params)
    if tags:
        run.set_tags(tags)


def _joined_dir(value: str, root: Path) -> Path:
    """``$SITEGEN_RUN``: a run folder, or ``<experiment>/<run-id>`` below ``<root>/runs``."""
    path = Path(value)
    if (path / RUN_FILE).is_file():
        return path
    exp, _, rid = value.strip("/").rpartition("/")
    if ids.is_slug(exp) and ids.is_run_id(rid) and (root / "runs" / exp / rid / RUN_FILE).is_file():
        return root / "runs" / exp / rid
    raise SitegenError(f"${ENV_RUN}={value!r}: expected a run folder or <experiment>/<run-id> under "
                       f"{root / 'runs'}, and found no run.yaml there")


def _join(run_dir: Path, name: str | None, params, tags, common) -> Run:
    run_dir = run_dir.resolve()
    record = load_run_yaml(run_dir / RUN_FILE)
    experiment = run_dir.parent.name
    run = Run(run_dir, experiment, record, import_metrics=True, joined=True, **common)
    _apply(run, name, params, tags)
    run._start(set_active=True)
    return run


@atexit.register
def _end_open_runs() -> None:
    """Runs still open when the interpreter exits: ``failed`` after an uncaught exception, else
    ``finished`` (as a script that forgot ``end()`` expects)."""
    crashed = getattr(sys, "last_value", None) is not None or getattr(sys, "last_exc", None) is not None
    for run in sorted(list(_open_runs), key=lambda r: r._record.get("start_time", ""), reverse=True):
        try:
            run.end("failed" if crashed else "finished")
        except Exception:  # noqa: BLE001 - nothing sensible to do at exit
            pass


__all__ = ["Run", "start_run", "active_run"]
