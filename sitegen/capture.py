"""Provenance capture: what code, command, environment and hardware produced a run.

:func:`capture_provenance` returns the ``provenance`` mapping of run.yaml (DESIGN.md section 2) without
``inputs`` / ``outputs`` (the run adds those as they are logged), and writes the few files it refers
to into the run's ``artifacts/`` folder: ``code.diff`` (uncommitted changes, size-capped), ``conda.yaml``
(the active conda environment) and ``environment/<file>`` (requirements, lock files and Dockerfiles
found next to the entry point). Every part can be switched off with :class:`CaptureOptions`.

What is never recorded: environment variables (only the two a user sets on purpose,
``SITEGEN_CONTAINER_IMAGE`` and ``SITEGEN_CONTAINER_DIGEST``), credentials in remote URLs, secret
option values on the command line, and credential-looking strings in the diff.

Every probe is best effort: a missing ``git``, a repository without commits, a slow ``conda`` or an
unreadable ``/proc`` leaves that part out instead of failing the run.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from .digest import path_digest
from .redact import redact_command, redact_text, strip_url_credentials

DIFF_MAX_BYTES = 1_000_000
ENV_FILE_MAX_BYTES = 5_000_000
SUBPROCESS_TIMEOUT = 20.0
CONTAINER_IMAGE_ENV = "SITEGEN_CONTAINER_IMAGE"
CONTAINER_DIGEST_ENV = "SITEGEN_CONTAINER_DIGEST"

# Files next to the entry point that define its environment, in order of preference for `lockfile`.
ENV_FILE_PATTERNS: tuple[str, ...] = (
    "*.lock", "conda-lock.yml", "conda-lock.yaml", "requirements*.txt", "requirements*.in",
    "constraints*.txt", "Pipfile", "environment.yml", "environment.yaml",
    "Dockerfile", "Dockerfile.*", "*.dockerfile", "Containerfile",
)
_LOCK_PREFERENCE = ("*.lock", "conda-lock.yml", "conda-lock.yaml", "requirements*.txt")


@dataclass(frozen=True)
class CaptureOptions:
    """Which parts of the provenance to capture. ``CaptureOptions.off()`` captures nothing."""

    git: bool = True            # commit, branch, remote (credentials stripped), dirty flag
    diff: bool = True           # `git diff HEAD` into artifacts/code.diff (needs git)
    diff_max_bytes: int = DIFF_MAX_BYTES
    command: bool = True        # entry point and command line (secret option values hidden)
    python: bool = True         # Python version and implementation
    platform: bool = True       # operating system and machine
    packages: bool = True       # installed distributions and versions
    hardware: bool = True       # CPU, core count, memory
    gpus: bool = True           # GPU names via nvidia-smi, when it exists
    conda: bool = True          # `conda env export` into artifacts/conda.yaml, inside a conda env
    env_files: bool = True      # requirements / lock files / Dockerfile next to the entry point
    container: bool = True      # image reference and digest from SITEGEN_CONTAINER_* variables

    @classmethod
    def off(cls) -> CaptureOptions:
        return cls(**{f.name: False for f in dataclasses.fields(cls) if f.type == "bool"})

    @classmethod
    def from_arg(cls, value: bool | Mapping[str, Any] | CaptureOptions | None) -> CaptureOptions:
        """``True``/``None``: everything; ``False``: nothing; a mapping: these fields changed."""
        if isinstance(value, CaptureOptions):
            return value
        if value is None or value is True:
            return cls()
        if value is False:
            return cls.off()
        if isinstance(value, Mapping):
            names = {f.name for f in dataclasses.fields(cls)}
            unknown = sorted(set(value) - names)
            if unknown:
                raise ValueError(f"capture: unknown part(s) {', '.join(unknown)}; "
                                 f"expected some of {', '.join(sorted(names))}")
            return dataclasses.replace(cls(), **value)
        raise TypeError(f"capture must be a bool, a mapping or CaptureOptions, got {type(value).__name__}")


def _run(args: Sequence[str], cwd: Path | None = None, timeout: float = SUBPROCESS_TIMEOUT) -> str | None:
    """stdout of a command, or None when it is missing, fails or times out."""
    env = {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}
    try:
        done = subprocess.run(list(args), cwd=cwd, capture_output=True, timeout=timeout, env=env,
                              stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", "replace")


# -- entry point and command ----------------------------------------------------------------------
def current_command() -> list[str]:
    """The command line that started this Python process (as typed, where Python knows it)."""
    return list(getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv])


def current_entry_point() -> Path | None:
    """The script this process runs (``python train.py``, ``python -m pkg.train``), if any."""
    arg0 = sys.argv[0] if sys.argv else ""
    if not arg0 or arg0 in ("-c", "-m", "-"):
        return None
    path = Path(arg0)
    return path.resolve() if path.is_file() else None


def entry_point_of(command: Sequence[str]) -> Path | None:
    """The script a command runs: ``python x.py`` -> x.py, ``./x.sh`` -> x.sh, else None."""
    args = list(command)
    if not args:
        return None
    first = Path(args[0]).name
    if re.fullmatch(r"python[0-9.]*|pypy[0-9.]*|bash|sh|Rscript|julia|node", first):
        rest = [a for a in args[1:] if not a.startswith("-")]
        if "-m" in args[1:] or "-c" in args[1:] or not rest:
            return None
        candidate = Path(rest[0])
    else:
        candidate = Path(args[0])
    return candidate.resolve() if candidate.is_file() else None


# -- git ------------------------------------------------------------------------------------------
def capture_git(where: Path, artifacts_dir: Path, options: CaptureOptions,
                entry_point: Path | None) -> dict[str, Any]:
    """``code`` provenance for the git work tree containing ``where`` ({} outside one)."""
    top = _run(["git", "rev-parse", "--show-toplevel"], cwd=where)
    if top is None:
        return {}
    top_path = Path(top.strip())
    code: dict[str, Any] = {}
    remote = _git_remote(top_path)
    if remote:
        code["repo"] = remote
    commit = _run(["git", "rev-parse", "--verify", "-q", "HEAD"], cwd=top_path)
    if commit:
        code["commit"] = commit.strip()
    branch = _run(["git", "symbolic-ref", "--short", "-q", "HEAD"], cwd=top_path)
    if branch:
        code["branch"] = branch.strip()
    status = _run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=top_path)
    if status is not None:
        code["dirty"] = bool(status.strip())
    if code.get("dirty") and commit and options.diff:
        diff_info = _save_diff(top_path, artifacts_dir, options.diff_max_bytes)
        code.update(diff_info)
    if entry_point is not None:
        try:
            code["entry_point"] = entry_point.resolve().relative_to(top_path.resolve()).as_posix()
        except ValueError:
            code["entry_point"] = entry_point.name
    return code


def _git_remote(top: Path) -> str | None:
    url = _run(["git", "remote", "get-url", "origin"], cwd=top)
    if url is None:
        names = (_run(["git", "remote"], cwd=top) or "").split()
        url = _run(["git", "remote", "get-url", names[0]], cwd=top) if names else None
    return strip_url_credentials(url.strip()) if url and url.strip() else None


def _save_diff(top: Path, artifacts_dir: Path, max_bytes: int) -> dict[str, Any]:
    """Write ``git diff HEAD`` (at most ``max_bytes``) to artifacts/code.diff."""
    env = {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}
    try:
        proc = subprocess.Popen(["git", "diff", "HEAD", "--no-color", "--no-ext-diff"], cwd=top,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                stdin=subprocess.DEVNULL, env=env)
    except OSError:
        return {}
    assert proc.stdout is not None
    data = proc.stdout.read(max_bytes + 1)
    truncated = len(data) > max_bytes
    proc.stdout.close()
    if truncated:
        proc.kill()
    proc.wait()
    if not truncated and proc.returncode != 0:
        return {}
    text = redact_text(data[:max_bytes].decode("utf-8", "replace"))
    if truncated:
        text += f"\n# sitegen: diff truncated at {max_bytes} bytes\n"
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    (artifacts_dir / "code.diff").write_text(text, encoding="utf-8")
    info: dict[str, Any] = {"diff": "artifacts/code.diff"}
    if truncated:
        info["diff_truncated"] = True
    return info


# -- environment ----------------------------------------------------------------------------------
def installed_packages() -> dict[str, str]:
    """Installed distributions as {normalized name: version}, sorted by name (first on sys.path wins)."""
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        try:
            name = dist.metadata["Name"]
        except Exception:  # noqa: BLE001 - a broken distribution is skipped, not fatal
            continue
        if not name:
            continue
        key = re.sub(r"[-_.]+", "-", name).lower()
        found.setdefault(key, dist.version)
    return dict(sorted(found.items()))


def capture_conda(artifacts_dir: Path) -> dict[str, Any]:
    """``conda_env`` (the active environment's name) and ``conda`` (its export, artifacts/conda.yaml)."""
    prefix = os.environ.get("CONDA_PREFIX")
    if not prefix:
        return {}
    info: dict[str, Any] = {"conda_env": os.environ.get("CONDA_DEFAULT_ENV") or Path(prefix).name}
    conda = os.environ.get("CONDA_EXE") or shutil.which("conda") or shutil.which("mamba")
    if conda:
        exported = _run([conda, "env", "export", "--prefix", prefix], timeout=120)
        if exported:
            # The prefix line is a local path: no use to anyone rebuilding the environment elsewhere.
            text = "".join(line for line in exported.splitlines(keepends=True) if not line.startswith("prefix:"))
            artifacts_dir.mkdir(parents=True, exist_ok=True)
            (artifacts_dir / "conda.yaml").write_text(text, encoding="utf-8")
            info["conda"] = "artifacts/conda.yaml"
    return info


def capture_env_files(folder: Path, artifacts_dir: Path) -> list[dict[str, Any]]:
    """Requirements, lock files and Dockerfiles in ``folder``: copied to artifacts/environment/, digested."""
    import fnmatch

    entries = []
    try:
        names = sorted(p.name for p in folder.iterdir() if p.is_file())
    except OSError:
        return []
    for name in names:
        if not any(fnmatch.fnmatchcase(name, pattern) for pattern in ENV_FILE_PATTERNS):
            continue
        source = folder / name
        digest, size = path_digest(source)
        entry: dict[str, Any] = {"name": name, "digest": digest, "size": size}
        if size <= ENV_FILE_MAX_BYTES:
            target = artifacts_dir / "environment" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            entry["path"] = f"artifacts/environment/{name}"
        entries.append(entry)
    return entries


def _preferred_lockfile(files: Iterable[dict[str, Any]]) -> str | None:
    import fnmatch

    files = [f for f in files if "path" in f]
    for pattern in _LOCK_PREFERENCE:
        for f in files:
            if fnmatch.fnmatchcase(f["name"], pattern):
                return f["path"]
    return None


def capture_container() -> dict[str, Any]:
    """Image reference and digest from SITEGEN_CONTAINER_IMAGE / _DIGEST, and the runtime if detectable."""
    info: dict[str, Any] = {}
    image = os.environ.get(CONTAINER_IMAGE_ENV, "").strip()
    digest = os.environ.get(CONTAINER_DIGEST_ENV, "").strip()
    if image:
        info["image"] = strip_url_credentials(image)
        if digest == "" and "@sha256:" in image:
            digest = image.split("@", 1)[1]
    if digest:
        info["digest"] = digest
    if Path("/.dockerenv").exists():
        info["runtime"] = "docker"
    elif Path("/run/.containerenv").exists():
        info["runtime"] = "podman"
    return info


# -- hardware -------------------------------------------------------------------------------------
def cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip() or None
    except OSError:
        pass
    return platform.processor() or None


def memory_gb() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def gpus() -> list[str]:
    """GPU names from ``nvidia-smi`` (empty when it is not installed or finds none)."""
    exe = shutil.which("nvidia-smi")
    if not exe:
        return []
    out = _run([exe, "--query-gpu=name,memory.total", "--format=csv,noheader"], timeout=15)
    if not out:
        return []
    names = []
    for line in out.splitlines():
        name, _, memory = line.partition(",")
        if name.strip():
            names.append(f"{name.strip()} ({memory.strip()})" if memory.strip() else name.strip())
    return names


# -- all together ---------------------------------------------------------------------------------
def capture_provenance(artifacts_dir: Path, options: CaptureOptions | None = None, *,
                       command: Sequence[str] | None = None, entry_point: Path | None = None,
                       redact_patterns: Iterable[str] = ()) -> dict[str, Any]:
    """The ``provenance`` mapping (code, command, environment, hardware) for a run starting now.

    ``command`` / ``entry_point`` default to this process's; ``sitegen run`` passes its child's.
    """
    options = options or CaptureOptions()
    if command is None:
        command = current_command()
        entry_point = entry_point if entry_point is not None else current_entry_point()
    elif entry_point is None:
        entry_point = entry_point_of(command)
    provenance: dict[str, Any] = {}
    where = entry_point.parent if entry_point is not None else Path.cwd()

    if options.git:
        code = capture_git(where, artifacts_dir, options, entry_point if options.command else None)
        if code:
            provenance["code"] = code
    if options.command:
        if entry_point is not None and "code" not in provenance:
            provenance["code"] = {"entry_point": entry_point.name}
        provenance["command"] = shlex.join(redact_command(command, redact_patterns))

    environment: dict[str, Any] = {}
    if options.python:
        environment["python"] = platform.python_version()
        if platform.python_implementation() != "CPython":
            environment["python_implementation"] = platform.python_implementation()
    if options.platform:
        environment["platform"] = platform.platform()
    if options.packages:
        environment["packages"] = installed_packages()
    if options.conda:
        environment.update(capture_conda(artifacts_dir))
    if options.env_files:
        files = capture_env_files(where, artifacts_dir)
        lockfile = _preferred_lockfile(files)
        if lockfile:
            environment["lockfile"] = lockfile
        if files:
            environment["files"] = files
    if options.container:
        container = capture_container()
        if container:
            environment["container"] = container
    if environment:
        provenance["environment"] = environment

    hardware: dict[str, Any] = {}
    if options.hardware:
        model = cpu_model()
        if model:
            hardware["cpu"] = model
        hardware["cpu_count"] = os.cpu_count()
        mem = memory_gb()
        if mem is not None:
            hardware["memory_gb"] = mem
    if options.gpus:
        found = gpus()
        if found:
            hardware["gpus"] = found
    if hardware:
        provenance["hardware"] = hardware
    return provenance
