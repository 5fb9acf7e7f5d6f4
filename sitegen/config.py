"""sitegen.yaml: typed, validated, with defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostics
from .store import validate
from .store.yamlio import YamlProblem, read_yaml

CONFIG_FILE = "sitegen.yaml"
DEFAULT_CARD_SECTIONS = ("details", "intended_use", "factors", "metrics", "evaluation_data", "training_data",
                         "quantitative_analyses", "ethical_considerations", "caveats_and_recommendations")


@dataclass
class Comparison:
    name: str
    title: str
    query: str | None = None
    runs: list[str] = field(default_factory=list)
    baseline: str | None = None
    metrics: list[str] = field(default_factory=list)
    group_by: list[str] = field(default_factory=list)
    description: str | None = None


@dataclass
class Config:
    title: str = "Experiments"
    description: str | None = None
    base_url: str | None = None
    output: str = "site"
    theme: str = "default"
    repo_url: str | None = None
    experiments: dict[str, dict[str, Any]] = field(default_factory=dict)
    comparisons: list[Comparison] = field(default_factory=list)
    redact: list[str] = field(default_factory=list)
    required_card_sections: tuple[str, ...] = DEFAULT_CARD_SECTIONS
    max_preview_bytes: int = 64 * 1024
    file: str | None = None


def load_config(source: Path, diags: Diagnostics) -> Config:
    """Read ``sitegen.yaml`` from ``source`` if present; problems become diagnostics and defaults are kept."""
    path = source / CONFIG_FILE
    if not path.is_file() or path.is_symlink():
        return Config()
    try:
        doc = read_yaml(path)
    except YamlProblem as exc:
        diags.error(CONFIG_FILE, exc.message, exc.line, exc.col)
        return Config(file=CONFIG_FILE)
    if not validate.check("config", doc, CONFIG_FILE, diags):
        return Config(file=CONFIG_FILE)
    data = doc.data
    cfg = Config(file=CONFIG_FILE)
    for key in ("title", "description", "base_url", "output", "theme", "repo_url"):
        if data.get(key) is not None:
            setattr(cfg, key, data[key])
    if cfg.base_url and not cfg.base_url.endswith("/"):
        cfg.base_url += "/"
    cfg.experiments = dict(data.get("experiments") or {})
    cfg.redact = list(data.get("redact") or [])
    seen: set[str] = set()
    for i, item in enumerate(data.get("comparisons") or []):
        if item["name"] in seen:
            line, col = doc.position(["comparisons", i, "name"])
            diags.error(CONFIG_FILE, f"comparison name {item['name']!r} is used twice", line, col)
            continue
        seen.add(item["name"])
        cfg.comparisons.append(Comparison(
            name=item["name"], title=item.get("title") or item["name"], query=item.get("query"),
            runs=list(item.get("runs") or []), baseline=item.get("baseline"),
            metrics=list(item.get("metrics") or []), group_by=list(item.get("group_by") or []),
            description=item.get("description")))
    card = data.get("card") or {}
    if card.get("required_sections") is not None:
        cfg.required_card_sections = tuple(card["required_sections"])
    cfg.max_preview_bytes = (data.get("artifacts") or {}).get("max_preview_bytes", cfg.max_preview_bytes)
    return cfg
