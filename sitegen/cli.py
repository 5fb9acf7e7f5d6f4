"""The ``sitegen`` command line: parse, call one function, map errors to exit codes.

Exit codes: 0 success, 1 invalid input (or warnings with --strict), 2 usage errors (click's own).
"""

from __future__ import annotations

import sys

import click

from . import __version__
from .diagnostics import SitegenError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sitegen")
def main() -> None:
    """Experiment tracking in plain files, published as a static website."""


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)
