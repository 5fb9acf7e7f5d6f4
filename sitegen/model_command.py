"""``sitegen model``: register runs as model versions, move aliases, set stages (no hand-edited YAML)."""

from __future__ import annotations

import sys

import click

from .diagnostics import SitegenError

_SOURCE = click.option("--source", "-s", default=".", show_default=True,
                       type=click.Path(file_okay=False, exists=True), help="The source (repository root).")


def _fail(exc: SitegenError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(1)


@click.group("model")
def model_command() -> None:
    """Model registry operations (they edit models/<model>/ in place, keeping comments)."""


@model_command.command("register")
@click.argument("run")
@click.option("--model", "-m", "model", required=True, help="Model name (slug); created if new.")
@click.option("--stage", type=click.Choice(["none", "staging", "production", "archived"]), help="Initial stage.")
@click.option("--alias", "aliases", multiple=True, help="Also point this alias at the new version (repeatable).")
@click.option("--note", help="Note recorded with the alias events.")
@_SOURCE
def register_cmd(run, model, stage, aliases, note, source):
    """Create the next version of MODEL from RUN (<experiment>/<run-id>)."""
    from .registry import register

    try:
        result = register(source, run, model, stage=stage, note=note, aliases=tuple(aliases))
    except SitegenError as exc:
        _fail(exc)
    if result.created_model:
        click.echo(f"created model {model!r}")
    click.echo(f"registered {run} as {model} version {result.version}: {result.path}")


@model_command.command("alias")
@click.argument("model")
@click.argument("alias")
@click.argument("version", type=click.IntRange(min=1), required=False)
@click.option("--delete", is_flag=True, help="Remove ALIAS instead of moving it.")
@click.option("--note", help="Why (kept in alias_history).")
@_SOURCE
def alias_cmd(model, alias, version, delete, note, source):
    """Point ALIAS of MODEL at VERSION (or remove it with --delete); the event goes to alias_history."""
    from .registry import set_alias

    if delete == (version is not None):
        raise click.UsageError("give either VERSION or --delete")
    try:
        set_alias(source, model, alias, None if delete else version, note=note)
    except SitegenError as exc:
        _fail(exc)
    click.echo(f"{model}: alias {alias} " + ("removed" if delete else f"-> version {version}"))


@model_command.command("stage")
@click.argument("model")
@click.argument("version", type=click.IntRange(min=1))
@click.argument("stage", type=click.Choice(["none", "staging", "production", "archived"]))
@_SOURCE
def stage_cmd(model, version, stage, source):
    """Set the STAGE of VERSION of MODEL."""
    from .registry import set_stage

    try:
        path = set_stage(source, model, version, stage)
    except SitegenError as exc:
        _fail(exc)
    click.echo(f"{model} version {version}: stage {stage} ({path})")
