"""``sitegen import mlflow|dvc``: bring existing history into a source folder (see sitegen.importers)."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import click

from .diagnostics import SitegenError


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@contextmanager
def _progress_bar(label: str, quiet: bool):
    """A rich progress bar on a terminal (stderr); a no-op callback otherwise."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        yield None
        return
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total, what: bar.update(task, completed=done, total=total, description=what)


def _report(summary, seconds: float, quiet: bool) -> None:
    if not quiet:
        for line in summary.lines():
            click.echo(line)
        click.echo(f"done in {seconds:.1f} s")
    if summary.failed:
        sys.exit(1)


@click.group("import")
def import_group() -> None:
    """Import runs, experiments and models from MLflow or DVC / DVCLive (re-running is safe)."""


@import_group.command("mlflow")
@click.argument("source", default=".", type=click.Path(file_okay=False, path_type=str))
@click.option("--tracking-uri", help="MLflow tracking URI: sqlite:///mlflow.db, a file store folder, "
              "http(s)://server (default: $MLFLOW_TRACKING_URI or MLflow's default).")
@click.option("--experiment", "experiments", multiple=True, metavar="NAME",
              help="Import only this experiment (name or id); repeatable. Default: all active experiments.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"]),
              help="Skip finished runs that started and ended before this date (UTC unless an offset is given).")
@click.option("--artifact-size-limit", type=click.IntRange(min=0), default=None, metavar="BYTES",
              help="Artifacts larger than this are listed as external, not downloaded (default 20 MB).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary.")
def import_mlflow_command(source, tracking_uri, experiments, since, artifact_size_limit, quiet):
    """Import an MLflow tracking store into SOURCE (default: the current directory)."""
    import time

    from .importers.mlflow import import_mlflow
    from .track import DEFAULT_ARTIFACT_LIMIT

    Path(source).mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        with _progress_bar("importing", quiet) as progress:
            summary = import_mlflow(source, tracking_uri, experiments=experiments, since=since,
                                    artifact_size_limit=DEFAULT_ARTIFACT_LIMIT if artifact_size_limit is None
                                    else artifact_size_limit, progress=progress)
    except SitegenError as exc:
        _fail(str(exc))
    _report(summary, time.perf_counter() - started, quiet)


@import_group.command("dvc")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=str))
@click.argument("source", default=".", type=click.Path(file_okay=False, path_type=str))
@click.option("--experiment", help="Experiment slug to import into (default: from the folder name of PATH).")
@click.option("--live-dir", help="DVCLive output folder inside PATH (default: found automatically).")
@click.option("--no-exps", is_flag=True, help="Import the workspace only, not the experiments under refs/exps.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary.")
def import_dvc_command(path, source, experiment, live_dir, no_exps, quiet):
    """Import a DVC repository at PATH (workspace and experiments), or a plain DVCLive folder, into SOURCE."""
    import time

    from .importers.dvc import import_dvc

    Path(source).mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        with _progress_bar("importing", quiet) as progress:
            summary = import_dvc(path, source, experiment=experiment, live_dir=live_dir,
                                 experiments=not no_exps, progress=progress)
    except SitegenError as exc:
        _fail(str(exc))
    _report(summary, time.perf_counter() - started, quiet)
