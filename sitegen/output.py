"""Writing the site: a staging directory swapped in atomically, content-hashed assets, a build lock."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
from pathlib import Path, PurePosixPath

from .cache import file_digest
from .diagnostics import SitegenError
from .jsonutil import dumps_lines


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
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "a+")
        except OSError as exc:
            raise SitegenError(f"cannot write the output directory {self.path.parent}: "
                               f"{exc.strerror or exc}") from None
        try:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._fh.close()
            raise SitegenError(f"another sitegen build is writing {self.path.parent / self.path.name[1:-5]}; "
                               f"wait for it to finish (lock file {self.path})") from None
        return self

    def fileno(self) -> int | None:
        return self._fh.fileno() if self._fh else None

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


# A page is written with os-level calls: Python's buffered file object costs three more system calls and
# more time than the write itself for a page of a few KB.
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)

MANIFEST_FORMAT = "sitegen.site/1"
PARTIAL = ".sitegen-partial"  # present while an incremental publish is moving files into place


def _digest(data: bytes) -> str:
    """What the manifest records of a file the site writer wrote, to tell whether the next build's is the
    same: change detection, not integrity, so the quickest of hashlib's digests. SHA-1 (OpenSSL's, with
    the processors' SHA instructions where they have them) hashes a 14 KB run page in half blake2b's time,
    a few percent of a run page's cost."""
    return hashlib.sha1(data).hexdigest()[:32]


def read_manifest(output: Path) -> dict[str, str] | None:
    """The files of a site built by sitegen with their content digests, or None when unknown."""
    try:
        data = json.loads((output / MARKER).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT or (output / PARTIAL).exists():
        return None
    files = data.get("files")
    return files if isinstance(files, dict) else None


class SiteWriter:
    """Writes a site so that a failed build never damages the previous one, and only changes are written.

    Cold (no previous site, or one without a manifest): every file goes to a staging directory that
    :meth:`publish` swaps in with two renames. Incremental (a previous site with its manifest in
    ``.sitegen``): a file whose content equals what the previous site has is not written at all; changed
    files go to the staging directory and :meth:`publish` moves them into place, deletes files the new
    site no longer has (pages of removed runs), and writes the new manifest last. A build killed while
    publishing leaves a ``.sitegen-partial`` marker, so the next build rewrites every file.
    """

    def __init__(self, output: Path, *, incremental: bool = True):
        self.output = output.resolve()
        self.staging = self.output.parent / f".{self.output.name}.staging-{os.getpid()}"
        self._root = os.fspath(self.staging)
        self.incremental = incremental
        self.previous: dict[str, str] | None = None
        self.manifest: dict[str, str] = {}
        self.files = 0  # files of the new site
        self.bytes = 0  # bytes of the new site
        self.written = 0  # files actually written by this build (the rest were unchanged)
        self.changed: list[str] = []  # their paths
        self._folders: set[str] = set()  # folders of the staging directory known to exist

    def __enter__(self) -> "SiteWriter":
        try:
            # Left over by a build that was killed (this runs under the build lock, so no other build owns them).
            for stale in self.output.parent.glob(f".{self.output.name}.staging-*"):
                shutil.rmtree(stale, ignore_errors=True)
            olds = sorted(self.output.parent.glob(f".{self.output.name}.old-*"))
            if olds and not self.output.exists():
                os.rename(olds.pop(0), self.output)  # killed between the two renames: put the old site back
            for stale in olds:
                shutil.rmtree(stale, ignore_errors=True)
            self.staging.mkdir(parents=True)
        except OSError as exc:
            raise SitegenError(f"cannot write the output directory {self.output.parent}: {exc.strerror}") from None
        if self.incremental and self.output.is_dir():
            self.previous = read_manifest(self.output)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None and self.staging.exists():
            shutil.rmtree(self.staging, ignore_errors=True)  # the previous site stays as it was

    def _target(self, relpath: str) -> str:
        """The path to write ``relpath`` to in the staging directory, its folder made (once a process)."""
        target = f"{self._root}/{relpath}"
        folder = target.rpartition("/")[0]
        if folder not in self._folders:
            try:
                os.mkdir(folder)  # most often a page's own folder, in a folder made before
            except FileExistsError:
                pass
            except FileNotFoundError:
                os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)
        return target

    def _fail(self, relpath: str, exc: OSError):
        if exc.errno == errno.ENOSPC:
            raise SitegenError(f"disk full while writing {relpath}; the previous site was left unchanged") from None
        raise SitegenError(f"cannot write {relpath}: {exc.strerror or exc}") from None

    def _unchanged(self, relpath: str, digest: str) -> bool:
        self.manifest[relpath] = digest
        self.files += 1
        return (self.previous is not None and self.previous.get(relpath) == digest
                and os.path.isfile(os.path.join(self.output, relpath)))

    def write_bytes(self, relpath: str, data: bytes) -> None:
        self.bytes += len(data)
        if self._unchanged(relpath, _digest(data)):
            return
        try:
            fd = os.open(self._target(relpath), _WRITE_FLAGS, 0o666)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
        except OSError as exc:
            self._fail(relpath, exc)
        self.written += 1
        self.changed.append(relpath)

    def write_text(self, relpath: str, text: str) -> None:
        self.write_bytes(relpath, text.encode("utf-8"))

    def copy_file(self, relpath: str, source: Path) -> None:
        try:
            size = source.stat().st_size
            digest = file_digest(source)
        except OSError as exc:
            self._fail(relpath, exc)
        self.bytes += size
        if self._unchanged(relpath, digest):
            return
        try:
            shutil.copyfile(source, self._target(relpath), follow_symlinks=False)
        except OSError as exc:
            self._fail(relpath, exc)
        self.written += 1
        self.changed.append(relpath)

    def child(self) -> "SiteWriter":
        """A writer for a worker process: same staging directory and previous manifest, own bookkeeping."""
        other = object.__new__(SiteWriter)
        other.__dict__.update(self.__dict__)
        other.manifest, other.changed = {}, []
        other.files = other.bytes = other.written = 0
        return other

    def part(self) -> dict:
        """What this (child) writer wrote, for :meth:`merge` in the parent."""
        return {"manifest": self.manifest, "changed": self.changed, "files": self.files, "bytes": self.bytes,
                "written": self.written}

    def still_there(self, files: dict[str, str]) -> bool:
        """True when the previous site has exactly these files (by digest), all still in place."""
        if self.previous is None:
            return False
        root = os.fspath(self.output)
        return all(self.previous.get(p) == d and os.path.isfile(os.path.join(root, p)) for p, d in files.items())

    def keep(self, files: dict[str, str], size: int) -> bool:
        """Carry these files of the previous site over (:meth:`carry_over`) when it still has exactly them
        (:meth:`still_there`); False, keeping nothing, when it does not."""
        if not self.still_there(files):
            return False
        self.carry_over(files, size)
        return True

    def carry_over(self, files: dict[str, str], size: int) -> None:
        """Keep files of the previous site as they are (their digests are known to be unchanged)."""
        self.manifest.update(files)
        self.files += len(files)
        self.bytes += size

    def merge(self, part: dict) -> None:
        self.manifest.update(part["manifest"])
        self.changed.extend(part["changed"])
        self.files += part["files"]
        self.bytes += part["bytes"]
        self.written += part["written"]

    def adopt_tree(self, prefix: str, directory: Path) -> None:
        """Add every file under ``directory`` (made by another tool, e.g. a search index) under ``prefix``.

        ``directory`` may be the staging directory's own ``prefix`` folder (the tool wrote in place)."""
        in_place = directory.resolve() == (self.staging / prefix).resolve()
        for path in sorted(p for p in directory.rglob("*") if p.is_file() and not p.is_symlink()):
            relpath = f"{prefix}/{path.relative_to(directory).as_posix()}"
            if in_place:
                self.bytes += path.stat().st_size
                if not self._unchanged(relpath, file_digest(path)):
                    self.written += 1
                    self.changed.append(relpath)
            else:
                self.copy_file(relpath, path)

    def _manifest_bytes(self) -> bytes:
        data = {"format": MANIFEST_FORMAT, "note": "built by sitegen; a rebuild replaces this directory",
                "files": self.manifest}
        return dumps_lines(data).encode("utf-8")  # a file a line, by the C encoder (80,000 files at 10,000 runs)

    def publish(self) -> None:
        """Make the new site the output (see the class docstring)."""
        if self.previous is None:
            self._swap()
        else:
            self._move_changes()

    def _swap(self) -> None:
        (self.staging / MARKER).write_bytes(self._manifest_bytes())
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

    def _move_changes(self) -> None:
        out = self.output
        try:
            (out / PARTIAL).write_text("a sitegen build is (or was, if it was killed) publishing here\n")
            for dirpath, _dirs, files in os.walk(self.staging):
                for name in files:
                    src = Path(dirpath) / name
                    target = out / src.relative_to(self.staging)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(src, target)
            removed_dirs = set()
            for relpath in sorted(set(self.previous or ()) - set(self.manifest)):
                try:
                    (out / relpath).unlink()
                except FileNotFoundError:
                    pass
                removed_dirs.add((out / relpath).parent)
            for directory in sorted(removed_dirs, key=lambda d: len(d.parts), reverse=True):
                while directory != out and directory.is_dir() and not any(directory.iterdir()):
                    directory.rmdir()
                    directory = directory.parent
            tmp = out / f"{MARKER}.tmp"
            tmp.write_bytes(self._manifest_bytes())
            os.replace(tmp, out / MARKER)
            (out / PARTIAL).unlink()
        except OSError as exc:
            self._fail(str(out), exc)
        shutil.rmtree(self.staging, ignore_errors=True)
