"""``sitegen run [--experiment E] [--name N] [--root DIR] -- CMD ...``: record a run around any command.

The wrapper creates the run (provenance captured for CMD, not for itself), starts CMD with
``SITEGEN_RUN`` set to the run folder, tees CMD's stdout and stderr to the terminal and to
``artifacts/output.log`` (up to the artifact size limit; the terminal keeps getting everything),
waits, and sets the status from the exit code: 0 -> finished, killed by a signal (or 130 / 137 / 143,
the shell's codes for SIGINT / SIGKILL / SIGTERM) -> killed, anything else -> failed. A Python CMD
calling ``sitegen.start_run()`` joins the run: its params, metrics and artifacts land in the same
folder. The wrapper exits with CMD's exit code (128 + N when CMD died of signal N).

Ctrl-C reaches CMD directly (same process group); the wrapper ignores it and waits for CMD to exit.
SIGTERM sent to the wrapper is forwarded to CMD.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import BinaryIO

import click

KILLED_EXIT_CODES = (130, 137, 143)


class _Tee:
    """Copies one pipe to a terminal stream and to a shared, size-capped log file."""

    def __init__(self, log: BinaryIO, limit: int) -> None:
        self.log = log
        self.limit = limit
        self.written = 0
        self.truncated = False
        self.lock = threading.Lock()

    def pump(self, pipe: BinaryIO, terminal: BinaryIO) -> None:
        fd = pipe.fileno()
        while chunk := os.read(fd, 65536):
            try:
                terminal.write(chunk)
                terminal.flush()
            except (OSError, ValueError):
                pass  # the terminal went away: keep logging
            with self.lock:
                room = self.limit - self.written
                if room > 0:
                    self.log.write(chunk[:room])
                    self.log.flush()
                    self.written += min(room, len(chunk))
                if len(chunk) > room:
                    self.truncated = True
        pipe.close()


def status_for(returncode: int) -> str:
    if returncode == 0:
        return "finished"
    if returncode < 0 or returncode in KILLED_EXIT_CODES:
        return "killed"
    return "failed"


def run_and_record(command: list[str], experiment: str | None, name: str | None, root: str) -> int:
    """Run ``command`` inside a new run; return its exit code (shell convention for signals)."""
    from . import track  # imported here: the rest of the CLI should not pay for numpy / pyarrow

    run = track.start_run(experiment=experiment, name=name, root=root, command=command, join=False)
    log_path = run.artifacts_dir / "output.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, track.ENV_RUN: str(run.dir), track.ENV_ROOT: str(Path(root).resolve())}
    returncode = 127
    try:
        with open(log_path, "wb") as log:
            tee = _Tee(log, run.artifact_size_limit)
            try:
                child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
            except OSError as exc:
                message = f"sitegen run: cannot start {command[0]!r}: {exc.strerror or exc}\n".encode()
                sys.stderr.buffer.write(message)
                log.write(message)
                returncode = 127
            else:
                returncode = _wait(child, tee)
            if tee.truncated:
                log.write(f"\n[sitegen: output.log truncated at {tee.limit} bytes]\n".encode())
        run.refresh_from_disk()  # first: what the joined child wrote to run.yaml and the journal
        run.log_artifact(log_path)
    finally:
        run.end(status_for(returncode))
    return 128 - returncode if returncode < 0 else returncode


def _wait(child: subprocess.Popen, tee: _Tee) -> int:
    pumps = [threading.Thread(target=tee.pump, args=(child.stdout, sys.stdout.buffer), daemon=True),
             threading.Thread(target=tee.pump, args=(child.stderr, sys.stderr.buffer), daemon=True)]
    for p in pumps:
        p.start()
    in_main = threading.current_thread() is threading.main_thread()
    previous_term = None
    if in_main:
        previous_term = signal.signal(signal.SIGTERM, lambda signum, frame: child.send_signal(signal.SIGTERM))
    try:
        while True:
            try:
                returncode = child.wait()
                break
            except KeyboardInterrupt:
                continue  # the child got the same SIGINT; its exit code decides
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous_term or signal.SIG_DFL)
    for p in pumps:
        p.join()
    return returncode


@click.command("run", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("--experiment", "-e", default=None, help="Experiment slug (default: 'default').")
@click.option("--name", "-n", default=None, help="Display name of the run (default: its id).")
@click.option("--root", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Root of the run store (runs/ goes below it).")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def run_command(experiment: str | None, name: str | None, root: str, command: tuple[str, ...]) -> None:
    """Record a run around COMMAND: status from its exit code, output in artifacts/output.log.

    Put COMMAND after `--`:  sitegen run -e mnist -- python train.py --lr 3e-4
    """
    from .diagnostics import SitegenError
    from .ids import is_slug

    if experiment is not None and not is_slug(experiment):
        raise click.BadParameter("expected lower-case letters, digits, '.', '_' or '-'", param_hint="--experiment")
    try:
        code = run_and_record(list(command), experiment, name, root)
    except SitegenError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    sys.exit(code)
