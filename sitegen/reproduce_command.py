"""``sitegen reproduce RUN``: print the bash script that recreates a run (see :mod:`sitegen.reproduce`)."""

from __future__ import annotations

import sys

import click

from .diagnostics import SitegenError


@click.command("reproduce")
@click.argument("run_ref", metavar="RUN")
@click.option("--source", "-s", default=".", type=click.Path(file_okay=False, path_type=str),
              help="The run store (default: the current directory).")
@click.option("--run-files", help="Where the script finds the run's recorded files (a folder or a URL); "
              "default: the run's folder in SOURCE.")
def reproduce_command(run_ref: str, source: str, run_files: str | None) -> None:
    """Print a bash script that recreates RUN (<experiment>/<run-id>, or a run id unique in SOURCE)."""
    from .reproduce import reproduce_script
    from .store.load import load_project

    try:
        project = load_project(source, with_history=False)
    except SitegenError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    run = project.runs.get(run_ref)
    if run is None and "/" not in run_ref:
        matches = [r for r in project.runs.values() if r.id == run_ref]
        if len(matches) > 1:
            click.echo(f"error: run id {run_ref!r} is used in several experiments: "
                       f"{', '.join(sorted(r.uid for r in matches))}; name it as <experiment>/<id>", err=True)
            sys.exit(1)
        run = matches[0] if matches else None
    if run is None:
        click.echo(f"error: no run {run_ref!r} in {source} (expected <experiment>/<run-id>)", err=True)
        sys.exit(1)
    click.echo(reproduce_script(project, run, run_files=run_files), nl=False)
