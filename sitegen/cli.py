"""The ``sitegen`` command line: parse, call one function, map errors to exit codes.

Exit codes: 0 success, 1 invalid input (or warnings with --strict), 2 usage errors (click's own).
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import click

from . import __version__
from .diagnostics import SitegenError


class _Group(click.Group):
    """Turns an unexpected exception into a short message and exit 1 (SITEGEN_DEBUG=1 shows the traceback)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except SitegenError as exc:
            fail(str(exc))
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if os.environ.get("SITEGEN_DEBUG") == "1":
                raise
            fail(f"internal error: {type(exc).__name__}: {exc}\nThis is a bug in sitegen; please report it with "
                 f"the command you ran (set SITEGEN_DEBUG=1 to see the traceback).")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sitegen")
def main() -> None:
    """Experiment tracking in plain files, published as a static website."""


_finished = False  # set by a command whose work is all written, closed and joined (see run)


def run() -> None:
    """The ``sitegen`` command (``main`` in click's standalone mode). After a build the process ends without
    tearing the interpreter down: freeing a loaded project object by object took a tenth of a second at
    1,000 runs, paid by every build in CI. By then every file the build wrote is closed and every process
    and thread it started has ended; stdout and stderr are flushed here."""
    try:
        main()
    except SystemExit as exc:
        if not _finished or not isinstance(exc.code, (int, type(None))):
            raise
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(exc.code or 0)


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _print_diagnostics(diags, *, err: bool = True) -> None:
    for d in diags:
        click.echo(str(d), err=err)


@main.command()
@click.argument("source", default=".", type=click.Path(exists=True, file_okay=False, path_type=str))
@click.option("-o", "--output", type=click.Path(file_okay=False), help="Output directory (default: the "
              "config's `output`, relative to SOURCE).")
@click.option("--base-url", help="Absolute URL the site is published at (canonical links, sitemap.xml).")
@click.option("--strict", is_flag=True, help="Treat every problem as an error: exit 1 and write nothing.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Parallel rendering processes (default: all cores).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary; problems are still printed.")
@click.option("--fail-on-alert", is_flag=True, help="Exit 1 when a model's monitoring breaches a threshold "
              "(the site is still written).")
@click.option("--version", "site_version", metavar="V", help="Build into OUTPUT/V/ beside other versions "
              "(versions.json, a version switcher on every page).")
@click.option("--alias", "aliases", multiple=True, metavar="A", help="With --version: an alias (e.g. latest) "
              "that redirects to this version; repeatable.")
@click.option("--rev", metavar="GITREV", help="Build the source as of a git revision (the working tree is not "
              "touched).")
@click.option("--no-search", is_flag=True, help="Skip the Pagefind search index.")
@click.option("--timings", is_flag=True, help="Print the seconds each stage took (load, facts, site_pages, "
              "run_pages, exports_and_search, publish) to stderr.")
def build(source, output, base_url, strict, jobs, quiet, fail_on_alert, site_version, aliases, rev, no_search,
          timings):
    """Build the static site of SOURCE (default: the current directory)."""
    global _finished
    import gc
    import time

    # The build collects garbage rarely (see sitegen.build._fewer_collections) and puts the caller's settings
    # back after; this process does nothing else, so it takes the build's settings from the start: imports
    # are collected less, and no full collection of the loaded project follows the build (25 ms at 1,000 runs).
    gc.set_threshold(100_000, 50, 100)

    started = time.perf_counter()
    console = None if quiet else _terminal()
    if aliases and not site_version:
        raise click.UsageError("--alias needs --version")
    result = prepared = None
    if not site_version and not rev:
        from . import fastpath  # light: decides before the build machinery is even imported

        prepared = fastpath.prepare(Path(source), output, base_url=base_url, search=not no_search)
        result = fastpath.unchanged(prepared, output, strict=strict, started=started)
    if result is not None:
        _report(result, console, quiet, fail_on_alert, unchanged=True, timings=timings)
        return
    from .build import BuildFailed
    from .build import build as run_build

    run_build = functools.partial(run_build, version=site_version, aliases=aliases, rev=rev, search=not no_search,
                                  prepared=prepared)
    try:
        if console is None:
            result = run_build(source, output, base_url=base_url, strict=strict, jobs=jobs)
        else:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            with Progress(TextColumn("building"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          console=console, transient=True) as bar:
                task = bar.add_task("pages", total=None)
                result = run_build(source, output, base_url=base_url, strict=strict, jobs=jobs,
                                   progress=lambda done, total: bar.update(task, completed=done, total=total))
    except BuildFailed as exc:
        _print_diagnostics(exc.diagnostics)
        fail(str(exc))
    except SitegenError as exc:
        fail(str(exc))
    _report(result, console, quiet, fail_on_alert, timings=timings)
    _finished = True


def _terminal():
    """rich's console on stderr when stderr is a terminal (a progress bar, bold and colour); None otherwise,
    as in CI, where the summary is a plain line and rich is not imported at all (30 ms of a rebuild)."""
    if not sys.stderr.isatty():
        return None
    from rich.console import Console

    return Console(stderr=True)


def _report(result, console, quiet: bool, fail_on_alert: bool, unchanged: bool = False,
            timings: bool = False) -> None:
    """Problems, alerts and the one-line summary of a build (or of a build that found nothing changed)."""
    _print_diagnostics(result.diagnostics)
    if timings:  # one line, stage=seconds, for people and for benchmarks to read
        click.echo("timings: " + " ".join(f"{stage}={seconds:.3f}s" for stage, seconds in
                                          (getattr(result, "timings", None) or {}).items()), err=True)
    for alert in result.alerts:
        click.echo(f"alert: {alert.model}: {alert.message}", err=True)
    if not quiet:
        problems = len(result.diagnostics)
        what = "unchanged:" if unchanged else "built"
        line = (f"{what} {result.pages} pages, {result.files} files, {result.bytes / 1e6:.1f} MB in {result.output}"
                + ("" if unchanged else f", {getattr(result, 'written', result.files)} files written")
                + f" in {result.seconds:.2f} s")
        note = f"; {problems} problem(s) reported above" if problems else ""
        rest = " (items with errors were skipped)" if problems else ""
        if console is None:
            click.echo(line + note + rest, err=True)
        else:
            from rich.text import Text

            text = Text(line + note + rest)
            text.stylize("bold", 0, len(what))
            text.stylize("yellow", len(line) + 2, len(line) + len(note))
            console.print(text, highlight=False)
    if fail_on_alert and result.alerts:
        fail(f"{len(result.alerts)} monitoring alert(s) (--fail-on-alert)")


@main.command()
@click.argument("source", default=".", type=click.Path(exists=True, file_okay=False, path_type=str))
@click.option("--warnings-as-errors", is_flag=True, help="Exit 1 on warnings too.")
def validate(source, warnings_as_errors):
    """Check every file of SOURCE; print problems as FILE:LINE:COL: message (exit 1 on errors)."""
    from .store.load import load_project

    try:
        project = load_project(source)
    except SitegenError as exc:
        fail(str(exc))
    diags = sorted(project.diagnostics, key=lambda d: (d.path, d.line, d.col))
    for d in diags:
        click.echo(str(d))
    errors = [d for d in diags if d.is_error]
    if errors or (warnings_as_errors and diags):
        sys.exit(1)


from .run_command import run_command  # noqa: E402 - `sitegen run`, defined in its own module

main.add_command(run_command)

from .reproduce_command import reproduce_command  # noqa: E402 - `sitegen reproduce`

main.add_command(reproduce_command)

from .model_command import model_command  # noqa: E402 - `sitegen model`, defined in its own module

main.add_command(model_command)

from .import_command import import_group  # noqa: E402 - `sitegen import mlflow|dvc`, in its own module

main.add_command(import_group)

from .site_commands import diff_command, init_command, serve_command  # noqa: E402 - in their own module

main.add_command(diff_command)
main.add_command(serve_command)
main.add_command(init_command)
