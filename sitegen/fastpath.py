"""The no-op build: when nothing that goes into the site has changed since the last build, do nothing.

"Nothing" is checked by content, never by file times: a digest of every file of the source (runs, models,
datasets, sitegen.yaml), of the theme, of sitegen's own code, of the build options and of the git state
the history pages are made from; and the output must still be exactly what that build wrote (its manifest
unchanged and no publish left half done). This module imports nothing heavy, and files whose identity
(inode, size, modification and change times) is unchanged since their digest was made are not read again
(:class:`~sitegen.cache.DigestMemo`), so the check costs about a ``stat`` per source file.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from .cache import DigestMemo, code_digest, digest_bytes, digest_json, tree_digest
from .output import MARKER, PARTIAL

FORMAT = "sitegen.fastpath/1"
SOURCE_PARTS = ("runs", "models", "datasets")
DIGESTS_FILE = "digests.json"  # the DigestMemo of the source files, in the build cache folder


def _git_state(source: Path) -> list[str] | None:
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%H", "--", "."], cwd=source, capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return [out.returncode, out.stdout.strip()] if out.returncode == 0 else None


def fingerprint(source: Path, theme_dirs: list[Path], options: dict[str, Any],
                run_digests: dict[str, str] | None = None, memo: DigestMemo | None = None,
                data_digests: dict[str, str] | None = None, part_digests: dict[str, str] | None = None) -> str:
    """The digest of everything a build reads. ``run_digests`` receives each run folder's own
    :func:`~sitegen.cache.tree_digest` (by ``<exp>/<run>``), which the loader reuses, ``data_digests``
    the digest of the folder without its run.yaml (:func:`~sitegen.cache.run_folder_digests`), and
    ``part_digests`` those of ``models`` (and ``models/<slug>``), ``datasets``, ``sitegen.yaml`` and each theme
    folder (by its path), which the build's keys of run pages and exports reuse; ``memo`` spares reading the
    files it knows unchanged."""
    parts: list[Any] = [FORMAT, code_digest(), options, _git_state(source)]
    named: dict[str, str | None] = {}
    models: dict[str, str] = {}
    for name in SOURCE_PARTS:
        path = source / name
        if not path.is_dir() or path.is_symlink():
            named[name] = None
        elif name == "runs" and run_digests is not None:
            named[name] = tree_digest(path, run_digests, depth=2, memo=memo, data_parts=data_digests)
        elif name == "models":  # each model's folder on its own too: models/<slug>
            named[name] = tree_digest(path, models, depth=1, memo=memo)
        else:
            named[name] = tree_digest(path, memo=memo)
    named.update((f"models/{slug}", digest) for slug, digest in models.items())
    config = source / "sitegen.yaml"
    named["sitegen.yaml"] = digest_bytes(config.read_bytes()) if config.is_file() else None
    themes = [tree_digest(d, memo=memo) for d in theme_dirs]
    if part_digests is not None:
        part_digests.update(named)
        part_digests.update(zip(map(str, theme_dirs), themes))
    parts += [*(named[name] for name in SOURCE_PARTS), named["sitegen.yaml"], themes]
    return digest_json(parts)


def _manifest_digest(output: Path) -> str | None:
    try:
        if (output / PARTIAL).exists():
            return None
        return digest_bytes((output / MARKER).read_bytes())
    except OSError:
        return None


def _record_file(cache_dir: Path) -> Path:
    return cache_dir / "fastpath.json"


def check(cache_dir: Path, output: Path, print_: str) -> dict[str, Any] | None:
    """The result of the last build when it can stand for this one (``print_`` is this build's
    fingerprint), else None."""
    try:
        record = json.loads(_record_file(cache_dir).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("fingerprint") != print_:
        return None
    if record.get("manifest") is None or record.get("manifest") != _manifest_digest(output):
        return None
    try:
        files = json.loads((output / MARKER).read_text("utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not all((output / path).is_file() for path in files):  # a file of the site was deleted by hand
        return None
    return record.get("result")


def save(cache_dir: Path, output: Path, print_: str, result: dict[str, Any]) -> None:
    data = {"format": FORMAT, "fingerprint": print_, "manifest": _manifest_digest(output), "result": result}
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = _record_file(cache_dir).with_suffix(".tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, _record_file(cache_dir))
    except OSError:
        pass  # the fast path is an optimisation; a build never fails for it


class NoopResult:
    """What the last build reported, standing for this build (same fields the CLI reads from BuildResult)."""

    def __init__(self, output: Path, result: dict[str, Any], seconds: float):
        from types import SimpleNamespace

        from .diagnostics import Diagnostic

        self.output = output
        self.pages, self.files, self.bytes = result["pages"], result["files"], result["bytes"]
        self.seconds = seconds
        self.diagnostics = [Diagnostic(*d) for d in result["diagnostics"]]
        self.alerts = [SimpleNamespace(model=m, message=msg) for m, msg in result["alerts"]]
        self.timings = {"unchanged": round(seconds, 3)}
        self.written = 0

    @property
    def warnings(self) -> list:
        return list(self.diagnostics)


def prepare(source: Path, output: str | Path | None, *, base_url: str | None,
            search: bool) -> tuple[Path, Path, str, dict[str, str], dict[str, str], dict[str, str]] | None:
    """(output, cache directory, fingerprint, run folder digests, their data digests, the digests of the
    source's other parts and theme folders) of a plain build of ``source``, or None
    when the source's configuration cannot even be read (the full build then reports why)."""
    import yaml

    from .theme import resolve_theme

    try:
        config = source / "sitegen.yaml"
        data = yaml.load(config.read_text("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) \
            if config.is_file() else {}
        data = data if isinstance(data, dict) else {}
        out = Path(output) if output is not None else source / str(data.get("output") or "site")
        theme = resolve_theme(str(data.get("theme") or "default"), source)
    except Exception:  # noqa: BLE001 - any doubt means: do the full build
        return None
    out = out.resolve()
    cache_dir = out.parent / f".{out.name}.cache"
    run_digests: dict[str, str] = {}
    data_digests: dict[str, str] = {}
    part_digests: dict[str, str] = {}
    memo = DigestMemo(cache_dir / DIGESTS_FILE)
    print_ = fingerprint(source, list(theme.dirs), {"base_url": base_url, "search": search}, run_digests, memo,
                         data_digests, part_digests)
    memo.save()
    return out, cache_dir, print_, run_digests, data_digests, part_digests


def unchanged(prepared: tuple[Path, Path, str, dict[str, str], dict[str, str]] | None,
              output: str | Path | None = None, *, strict: bool = False,
              started: float | None = None) -> NoopResult | None:
    """The last build's result when :func:`prepare`'s fingerprint says nothing changed since it (and the site
    is as it left it), else None."""
    import time

    started = time.perf_counter() if started is None else started
    if prepared is None:
        return None
    out, cache_dir, print_ = prepared[:3]
    from .output import BuildLock

    with BuildLock(out):  # a build in progress is reported as such, exactly as a full build would
        result = check(cache_dir, out, print_)
    if result is None or (strict and result["diagnostics"]):
        return None
    return NoopResult(Path(output) if output is not None else out, result, time.perf_counter() - started)


def noop_build(source: str | Path, output: str | Path | None = None, *, base_url: str | None = None,
               search: bool = True, strict: bool = False, started: float | None = None) -> NoopResult | None:
    """The last build's result when nothing changed since it (and the site is as it left it), else None."""
    import time

    started = time.perf_counter() if started is None else started
    return unchanged(prepare(Path(source), output, base_url=base_url, search=search), output, strict=strict,
                     started=started)
