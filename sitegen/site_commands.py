"""Click commands ``sitegen diff``, ``sitegen serve`` and ``sitegen init``: parse, call one function, map
errors to exit codes (0 ok, 1 invalid input or a regression, 2 usage)."""

from __future__ import annotations

import sys

import click

from .diagnostics import SitegenError


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@click.command("diff")
@click.argument("rev_a")
@click.argument("rev_b", required=False)
@click.option("-s", "--source", default=".", show_default=True, type=click.Path(file_okay=False),
              help="The source directory (may be a subdirectory of the repository).")
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True)
@click.option("--fail-on-regression", "regressions", multiple=True, metavar="METRIC=THRESHOLD",
              help="Exit 1 when METRIC gets worse by more than THRESHOLD (absolute, or relative with %) in a run "
                   "present on both sides or in an experiment's best run. Repeatable.")
def diff_command(rev_a, rev_b, source, fmt, regressions):
    """What changed between git revisions REV_A and REV_B (default: the working tree)."""
    from .diff import Threshold, diff_revisions, to_json, to_markdown

    try:
        thresholds = [Threshold.parse(t) for t in regressions]
        result = diff_revisions(source, rev_a, rev_b, thresholds)
    except SitegenError as exc:
        _fail(str(exc))
    click.echo(to_json(result) if fmt == "json" else to_markdown(result), nl=False)
    if result.regressions:
        click.echo(f"error: {len(result.regressions)} regression(s) beyond the thresholds of --fail-on-regression",
                   err=True)
        sys.exit(1)


@click.command("serve")
@click.argument("source", default=".", type=click.Path(exists=True, file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--search", is_flag=True, help="Also build the Pagefind index on every rebuild (slower).")
def serve_command(source, host, port, search):
    """Preview SOURCE at http://HOST:PORT/, rebuilding and reloading the page on every change."""
    from .serve import serve

    try:
        serve(source, host, port, search=search)
    except SitegenError as exc:
        _fail(str(exc))


@click.command("init")
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--title", help="Site title (default: from the directory name).")
@click.option("--force", is_flag=True, help="Overwrite existing files (.gitignore is always merged).")
@click.option("--install", metavar="PIP_SPEC", help="What CI installs (default: this sitegen version).")
def init_command(directory, title, force, install):
    """Write sitegen.yaml, .gitignore, netlify.toml and a GitHub Actions workflow for DIRECTORY."""
    from .init import init

    try:
        written = init(directory, title=title, force=force, install=install)
    except SitegenError as exc:
        _fail(str(exc))
    for item in written:
        note = " (exists; --force to overwrite)" if item.action == "kept" else ""
        click.echo(f"{item.action:11} {item.path}{note}")
