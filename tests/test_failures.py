"""Failures: a build that crashes or is killed leaves the previous site as it was; an unwritable output, a
full disk and a concurrent build give a clear error (exit 1, no traceback); unexpected errors say
"please report"."""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from corpus.cases import good_run, make_base
from sitegen.cli import main


def snapshot(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file()}


def leftovers(out: Path) -> list[str]:
    """Staging or old trees left beside the output (the lock file and the build cache belong there)."""
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.") and
                  not p.name.endswith((".lock", ".cache")))


@pytest.fixture
def source(tmp_path) -> Path:
    root = tmp_path / "src"
    make_base(root)
    return root


@pytest.fixture
def previous(source, tmp_path):
    """A site already built once into ``out``, and a snapshot of its files."""
    out = tmp_path / "site"
    result = CliRunner().invoke(main, ["build", str(source), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return out, snapshot(out)


def test_exception_mid_render_keeps_previous_site(source, previous, monkeypatch):
    from sitegen.pages import run as run_pages

    out, before = previous
    good_run(source, "good", "g2")  # the new build would change the site

    def boom(*args, **kwargs):
        raise RuntimeError("renderer exploded")

    monkeypatch.setattr(run_pages, "run_page", boom)
    result = CliRunner().invoke(main, ["build", str(source), "-o", str(out), "-q"])
    assert result.exit_code == 1
    assert "internal error: RuntimeError: renderer exploded" in result.output
    assert "please report" in result.output and "Traceback" not in result.output
    assert snapshot(out) == before
    assert leftovers(out) == []


def test_internal_error_traceback_with_debug(source, tmp_path, monkeypatch):
    from sitegen.pages import run as run_pages

    monkeypatch.setattr(run_pages, "run_page", lambda *a, **k: 1 / 0)
    monkeypatch.setenv("SITEGEN_DEBUG", "1")
    result = CliRunner().invoke(main, ["build", str(source), "-o", str(tmp_path / "o"), "-q"])
    assert result.exit_code == 1 and isinstance(result.exception, ZeroDivisionError)


def test_killed_build_keeps_previous_site(source, previous):
    out, before = previous
    for i in range(300):  # enough pages that the build is still writing when it is killed
        good_run(source, "many", f"r{i:03d}", "notes: |\n" + "  text\n" * 200)
    proc = subprocess.Popen([sys.executable, "-m", "sitegen", "build", str(source), "-o", str(out), "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    staging = None
    while time.monotonic() < deadline and proc.poll() is None:
        found = [p for p in out.parent.glob(f".{out.name}.staging-*") if (p / "runs").exists()]
        if found:
            staging = found[0]
            break
        time.sleep(0.01)
    assert staging is not None, "the build finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert snapshot(out) == before  # the previous site is whole
    # the next build takes the lock the dead one held, removes its staging folder and succeeds
    result = CliRunner().invoke(main, ["build", str(source), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert (out / "runs/many/r299/index.html").is_file()
    assert leftovers(out) == []


def test_killed_between_renames_restores_previous_site(source, previous):
    out, before = previous
    old = out.parent / f".{out.name}.old-99999"
    os.rename(out, old)  # what a build killed between its two renames leaves behind
    result = CliRunner().invoke(main, ["build", str(source), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert leftovers(out) == [] and (out / "index.html").is_file()


def test_output_under_a_file_is_a_clear_error(source, tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a directory")
    proc = subprocess.run([sys.executable, "-m", "sitegen", "build", str(source), "-o", str(blocker / "site"),
                           "-q"], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"error: cannot write the output directory {blocker}")


def test_read_only_output_is_a_clear_error(source):
    target = Path("/sys/sitegen-site")  # sysfs refuses new folders, even to root
    if os.access("/sys", os.W_OK) and not Path("/sys/kernel").is_dir():
        pytest.skip("no read-only /sys here")
    proc = subprocess.run([sys.executable, "-m", "sitegen", "build", str(source), "-o", str(target), "-q"],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "error: cannot write the output directory /sys" in proc.stderr


def test_full_disk_is_a_clear_error(source, previous, monkeypatch):
    out, before = previous
    good_run(source, "more", "r-new")  # something new to write: unchanged files are not written again
    from sitegen import output as output_module

    calls = {"n": 0}

    class FillingTheDisk:
        """The site writer's ``os``: after five files, every write fails as on a full disk."""

        def __getattr__(self, name):
            return getattr(os, name)

        def write(self, fd, data):
            calls["n"] += 1
            if calls["n"] > 5:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return os.write(fd, data)

    monkeypatch.setattr(output_module, "os", FillingTheDisk())
    result = CliRunner().invoke(main, ["build", str(source), "-o", str(out), "-q"])
    assert result.exit_code == 1
    assert "error: disk full while writing" in result.output
    assert "the previous site was left unchanged" in result.output
    assert calls["n"] > 5
    monkeypatch.setattr(output_module, "os", os)
    assert snapshot(out) == before
    assert leftovers(out) == []


def test_concurrent_build_fails_clearly(source, previous):
    out, before = previous
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from sitegen.output import BuildLock\n"
        "with BuildLock(Path(sys.argv[1]).resolve()):\n    print('locked', flush=True); time.sleep(30)"), str(out)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        proc = subprocess.run([sys.executable, "-m", "sitegen", "build", str(source), "-o", str(out), "-q"],
                              capture_output=True, text=True)
        assert proc.returncode == 1
        assert "Traceback" not in proc.stderr
        assert "error: another sitegen build is writing" in proc.stderr
    finally:
        holder.kill()
        holder.wait()
    assert snapshot(out) == before
