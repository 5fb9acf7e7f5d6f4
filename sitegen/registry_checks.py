"""Consistency checks of the model registry, run after loading (``sitegen validate`` and ``sitegen build``).

- two version files that claim one number under different file names (``3.yaml`` and ``3.yml``, or
  ``3-bob.yaml`` with ``version: 3``): what two branches registering concurrently leave after a merge;
- an ``alias_history`` whose last event for an alias disagrees with ``aliases`` (a merge that took one
  side's aliases and the other side's history, or a hand edit that forgot one of them);
- required model-card sections that are neither written nor derivable from the source run (warnings:
  ``card.required_sections`` in sitegen.yaml, ``required_card_sections`` in model.yaml);
- a monitoring.parquet that cannot be read.
"""

from __future__ import annotations

import re

from .card import CARD_SECTIONS, build_card, required_sections
from .diagnostics import Diagnostics
from .model import Project, RegisteredModel
from .monitoring import model_alerts
from .registry import version_numbers
from .store.paths import rel


def _line_of(path, key: str) -> int:
    """1-based line of a top-level ``key:`` in a file (0 when absent or unreadable)."""
    try:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.match(rf"^{re.escape(key)}\s*:", line):
                return n
    except (OSError, UnicodeDecodeError):
        pass
    return 0


def _duplicate_numbers(project: Project, model: RegisteredModel, diags: Diagnostics) -> None:
    mdir = project.root / "models" / model.slug
    for number, paths in sorted(version_numbers(mdir).items()):
        if len(paths) > 1:
            names = [rel(project.root, p) for p in paths]
            diags.error(names[-1], f"version {number} of model {model.slug!r} is claimed by {len(names)} files: "
                                   f"{', '.join(names)} (two branches registered the same number?); keep one "
                                   f"and renumber the other to the next free number (file name and "
                                   f"'version' field)", _line_of(paths[-1], "version"))


def _alias_history(project: Project, model: RegisteredModel, diags: Diagnostics) -> None:
    last: dict[str, object] = {}
    for event in model.alias_history:  # sorted by time by the loader
        last[event.alias] = event
    path = project.root / model.file
    for alias in sorted(set(last) | set(model.aliases)):
        event = last.get(alias)
        if event is None:
            continue  # an alias without history: history is optional
        current = model.aliases.get(alias)
        if event.version != current:
            said = f"moved it to version {event.version}" if event.version else "removed it"
            now = f"points at version {current}" if current is not None else "is not set"
            diags.warning(model.file, f"alias {alias!r} {now} in 'aliases', but the last alias_history event "
                                      f"({event.at:%Y-%m-%dT%H:%M:%SZ}) {said}; after a merge, make both agree "
                                      f"(`sitegen model alias` updates both)", _line_of(path, "aliases"))


def _card_sections(project: Project, model: RegisteredModel, diags: Diagnostics) -> None:
    required = required_sections(model, project)
    unknown = sorted(set(required) - set(CARD_SECTIONS))
    if unknown:
        where = model.file if model.required_card_sections is not None else (project.config.file or "sitegen.yaml")
        diags.warning(where, f"required card section(s) {', '.join(unknown)} unknown; expected some of "
                             f"{', '.join(CARD_SECTIONS)}")
    for version in model.versions:
        card = build_card(project, model, version)
        missing = card.missing_required
        if missing:
            diags.warning(version.file, f"model card is missing required section(s) {', '.join(missing)} "
                                        f"(not written under 'card' and not derivable from the source run)",
                          _line_of(project.root / version.file, "card"))


def check(project: Project, diags: Diagnostics) -> None:
    for slug in sorted(project.models):
        model = project.models[slug]
        _duplicate_numbers(project, model, diags)
        _alias_history(project, model, diags)
        _card_sections(project, model, diags)
        if model.monitoring_file is not None:
            error = model_alerts(model)[2]
            if error:
                diags.warning(rel(project.root, model.monitoring_file), error)
