"""Writing the site: a staging directory swapped in atomically, content-hashed assets, a build lock."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import shutil
from pathlib import Path, PurePosixPath

from .diagnostics import SitegenError


def fingerprint(name: str, content: bytes) -> str:
    """``css/site.css`` -> ``assets/css/site.<hash>.css``: the name changes whenever the content does."""
    digest = hashlib.sha256(content).hexdigest()[:12]
    p = PurePosixPath(name)
    return f"assets/{p.parent}/{p.stem}.{digest}{p.suffix}".replace("/./", "/")


class BuildLock:
    """An exclusive lock beside the output directory, so two builds never write the same site at once."""

    def __init__(self, output: Path):
        self.path = output.parent / f".{output.name}.lock"
        self._fh = None

    def __enter__(self) -> "BuildLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a+")
        try:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._fh.close()
            raise SitegenError(f"another sitegen build is writing {self.path.parent / self.path.name[1:-5]}; "
                               f"wait for it to finish (lock file {self.path})") from None
        return self

    def __exit__(self, *exc) -> None:
        if self._fh:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()


MARKER = ".sitegen"  # marks a directory as a site built by sitegen, which a build may replace


def check_output(output: Path, source: Path) -> None:
    """Refuse outputs whose replacement would destroy something: the source, its parents, foreign folders."""
    out, src = output.resolve(), source.resolve()
    if out == src or out in src.parents:
        raise SitegenError(f"output {output} would replace the source {source}; choose another --output")
    for part in ("runs", "models", "datasets"):
        if out == src / part or (src / part) in out.parents:
            raise SitegenError(f"output {output} is inside the source's {part}/ folder; choose another --output")
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).is_file())):
        raise SitegenError(f"refusing to replace {output}: it is not a site built by sitegen (no {MARKER} file); "
                           f"remove it or choose another --output")


class SiteWriter:
    """Writes files into a staging directory; :meth:`publish` swaps it in place of the output."""

    def __init__(self, output: Path):
        self.output = output.resolve()
        self.staging = self.output.parent / f".{self.output.name}.staging-{os.getpid()}"
        self.files = 0
        self.bytes = 0

    def __enter__(self) -> "SiteWriter":
        try:
            if self.staging.exists():
                shutil.rmtree(self.staging)
            self.staging.mkdir(parents=True)
            (self.staging / MARKER).write_text("built by sitegen; a rebuild replaces this directory\n")
        except OSError as exc:
            raise SitegenError(f"cannot write the output directory {self.output.parent}: {exc.strerror}") from None
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None and self.staging.exists():
            shutil.rmtree(self.staging, ignore_errors=True)  # the previous site stays as it was

    def _target(self, relpath: str) -> Path:
        target = self.staging / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def _fail(self, relpath: str, exc: OSError):
        if exc.errno == errno.ENOSPC:
            raise SitegenError(f"disk full while writing {relpath}; the previous site was left unchanged") from None
        raise SitegenError(f"cannot write {relpath}: {exc.strerror or exc}") from None

    def write_bytes(self, relpath: str, data: bytes) -> None:
        try:
            self._target(relpath).write_bytes(data)
        except OSError as exc:
            self._fail(relpath, exc)
        self.files += 1
        self.bytes += len(data)

    def write_text(self, relpath: str, text: str) -> None:
        self.write_bytes(relpath, text.encode("utf-8"))

    def copy_file(self, relpath: str, source: Path) -> None:
        try:
            shutil.copyfile(source, self._target(relpath), follow_symlinks=False)
            size = source.stat().st_size
        except OSError as exc:
            self._fail(relpath, exc)
        self.files += 1
        self.bytes += size

    def publish(self) -> None:
        """Replace the output directory by the staging directory (two renames; the old tree is removed)."""
        old = self.output.parent / f".{self.output.name}.old-{os.getpid()}"
        try:
            if self.output.exists():
                if not self.output.is_dir() or self.output.is_symlink():
                    raise SitegenError(f"output {self.output} exists and is not a directory")
                os.rename(self.output, old)
            os.rename(self.staging, self.output)
        except OSError as exc:
            if old.exists() and not self.output.exists():
                os.rename(old, self.output)
            raise SitegenError(f"cannot replace {self.output}: {exc.strerror}") from None
        shutil.rmtree(old, ignore_errors=True)
