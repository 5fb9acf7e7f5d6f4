"""A model version's card as a Hugging Face model card: ``models/<m>/<n>/README.md``.

Front matter: the Hub's metadata keys (license, library_name, pipeline_tag, tags, datasets, base_model,
language, metrics) from the version's ``hub`` mapping, and ``model-index`` with one result per whole-set
or slice evaluation (a slice is an evaluation subset: it goes into the result's ``dataset.args.slice``).
What the Hub format has no slot for (stage, aliases, source run, signature, confidence intervals, the
card as written, what was derived and from where) is kept under one extra key, ``sitegen``, so nothing is
lost. The body follows the section headings of the Hub's model-card template.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

import yaml

_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's emitter: ~10x faster

from .. import cache
from ..card import Card, Derived, build_card
from ..model import ModelVersion, Project, RegisteredModel

HUB_KEYS = ("language", "license", "license_name", "license_link", "library_name", "pipeline_tag", "tags",
            "datasets", "base_model", "metrics", "thumbnail", "inference")


def _plain(value: Any) -> Any:
    """A value safe for YAML front matter: datetimes as ISO strings, tuples as lists, keys as strings."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def model_index(card: Card, project: Project, name: str) -> list[dict[str, Any]]:
    """``model-index`` entries: results grouped by dataset, split and slice, finite values only."""
    task = card.version.hub.get("pipeline_tag") or "other"
    groups: dict[tuple[str, str | None, str | None], dict[str, Any]] = {}
    for a in card.analyses:
        if a.get("metric") is None or not _finite(a.get("value")):
            continue
        slug = str(a.get("dataset") or "unspecified")
        ds = project.datasets.get(slug)
        key = (slug, a.get("split"), a.get("slice"))
        if key not in groups:
            dataset: dict[str, Any] = {"name": ds.name if ds else slug, "type": slug}
            if a.get("split"):
                dataset["split"] = str(a["split"])
            if a.get("slice"):
                dataset["args"] = {"slice": str(a["slice"])}
            groups[key] = {"task": {"type": str(task)}, "dataset": dataset, "metrics": []}
        metric = {"type": str(a["metric"]), "value": float(a["value"])}
        if a.get("derived"):
            metric["name"] = f"{a['metric']} (from the source run's summary)"
        groups[key]["metrics"].append(metric)
    results = list(groups.values())
    return [{"name": name, "results": results}] if results else []


def expected_results(card: Card) -> list[tuple[str, float, str, str | None, str | None]]:
    """(metric, value, dataset type, split, slice) of every result that model-index carries."""
    return [(str(a["metric"]), float(a["value"]), str(a.get("dataset") or "unspecified"), a.get("split"),
             a.get("slice")) for a in card.analyses if a.get("metric") is not None and _finite(a.get("value"))]


def _derived(d: Derived) -> dict[str, Any]:
    return {"label": d.label, "value": _plain(d.value), "source": d.source, "link": d.url}


def front_matter(card: Card, project: Project) -> dict[str, Any]:
    model, version = card.model, card.version
    meta: dict[str, Any] = {k: _plain(version.hub[k]) for k in HUB_KEYS if version.hub.get(k) is not None}
    if "license" not in meta:
        details = version.card.get("details")
        if isinstance(details, dict) and isinstance(details.get("license"), str):
            meta["license"] = details["license"]
    if "metrics" not in meta:
        names = sorted({str(a["metric"]) for a in card.analyses if a.get("metric") is not None})
        if names:
            meta["metrics"] = names
    name = f"{model.slug}-v{version.version}"
    index = model_index(card, project, name)
    if index:
        meta["model-index"] = index
    meta["sitegen"] = {
        "model": model.slug, "model_name": model.name, "version": version.version, "stage": version.stage,
        "aliases": model.aliases_of(version.version), "source_run": version.source_run,
        "created": _plain(version.created),
        "hub_extra": {k: _plain(v) for k, v in sorted(version.hub.items()) if k not in HUB_KEYS},
        "signature": {"inputs": card.signature["inputs"], "outputs": card.signature["outputs"],
                      "source": card.signature["source"]},
        "input_example": _plain(card.input_example),
        "card": _plain(version.card),
        "results": [_plain({k: a.get(k) for k in ("metric", "value", "slice", "ci95", "dataset", "split",
                                                  "derived", "source")}) for a in card.analyses],
        "completeness": {s.key: s.status for s in card.sections},
        "derived": {s.key: [_derived(d) for d in s.derived] for s in card.sections if s.derived},
        "training_procedure": [_derived(d) for d in card.training],
    }
    return meta


# ------------------------------------------------------------------------------------------ body

def _md(value: Any, depth: int = 0) -> str:
    """A structured card value as Markdown: strings as written, mappings and lists as nested bullets."""
    pad = "  " * depth
    if isinstance(value, dict):
        lines = []
        for k, v in value.items():
            label = str(k).replace("_", " ")
            if isinstance(v, (dict, list)) and v:
                lines.append(f"{pad}- **{label}**:\n{_md(v, depth + 1)}")
            else:
                lines.append(f"{pad}- **{label}**: {_inline(v)}")
        return "\n".join(lines)
    if isinstance(value, list):
        lines = []
        for v in value:
            if isinstance(v, dict) and v and not any(isinstance(x, (dict, list)) for x in v.values()):
                lines.append(f"{pad}- " + "; ".join(f"**{str(k).replace('_', ' ')}**: {_inline(x)}"
                                                    for k, x in v.items()))
            elif isinstance(v, dict) and v:
                first, *rest = _md(v, depth + 1).split("\n")
                lines.append(f"{pad}- {first.lstrip()[2:]}" + "".join("\n" + r for r in rest))
            elif isinstance(v, list) and v:
                lines.append(f"{pad}-\n{_md(v, depth + 1)}")
            else:
                lines.append(f"{pad}- {_inline(v)}")
        return "\n".join(lines)
    if depth:
        return f"{pad}- {_inline(value)}"
    return _inline(value) if not isinstance(value, str) else value.strip()


def _inline(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.6g}"
    return " ".join(str(value).split())


def _section(card: Card, key: str, empty: str = "[More Information Needed]") -> str:
    section = card.section(key)
    parts = []
    if section.status == "written":
        parts.append(_md(section.written))
    for d in section.derived:
        parts.append(f"- **{d.label}** (derived from {d.source}): {_inline(d.value) if not isinstance(d.value, (dict, list)) else ''}"
                     + (("\n" + _md(d.value, 1)) if isinstance(d.value, (dict, list)) and d.value else ""))
    return "\n\n".join(p for p in parts if p) or empty


def _sub(card: Card, key: str, field: str) -> Any:
    written = card.section(key).written
    return written.get(field) if isinstance(written, dict) else None


def body(card: Card, project: Project) -> str:
    model, version = card.model, card.version
    out = [f"# {model.name}, version {version.version}", ""]
    if version.description or model.description:
        out += [(version.description or model.description or "").strip(), ""]
    out += ["## Model Details", "", "### Model Description", "", _section(card, "details"), ""]
    if version.source_run:
        out += [f"- **Source run**: `{version.source_run}`", f"- **Stage**: {version.stage}", ""]
    out += ["## Uses", ""]
    intended = card.section("intended_use").written
    if isinstance(intended, dict):
        direct = {k: v for k, v in intended.items() if k != "out_of_scope"}
        out += ["### Direct Use", "", _md(direct) if direct else "[More Information Needed]", "",
                "### Out-of-Scope Use", "", _md(intended.get("out_of_scope")) if intended.get("out_of_scope")
                else "[More Information Needed]", ""]
    else:
        out += ["### Direct Use", "", _section(card, "intended_use"), ""]
    out += ["## Bias, Risks, and Limitations", "", _section(card, "ethical_considerations"), "",
            "### Recommendations", "", _section(card, "caveats_and_recommendations"), ""]
    out += ["## Training Details", "", "### Training Data", "", _section(card, "training_data"), "",
            "### Training Procedure", ""]
    for d in card.training:
        if d.label in ("environment", "hardware"):
            continue
        out.append(f"- **{d.label}** (derived from {d.source}):"
                   + (("\n" + _md(d.value, 1)) if isinstance(d.value, (dict, list)) else f" {_inline(d.value)}"))
    if not card.training:
        out.append("[More Information Needed]")
    out += ["", "## Evaluation", "", "### Testing Data, Factors & Metrics", "", "#### Testing Data", "",
            _section(card, "evaluation_data"), "", "#### Factors", "", _section(card, "factors"), "",
            "#### Metrics", "", _section(card, "metrics"), "", "### Results", ""]
    if card.analyses:
        out += ["| metric | slice | value | 95% CI | dataset | split |", "|---|---|---:|---|---|---|"]
        for a in card.analyses:
            ci = a.get("ci95")
            ci_text = f"{ci[0]:.4g} to {ci[1]:.4g}" if isinstance(ci, list) and len(ci) == 2 and all(
                _finite(c) for c in ci) else ""
            value = f"{a['value']:.4g}" if _finite(a.get("value")) else _inline(a.get("value"))
            cells = [a.get("metric"), a.get("slice") or "all", value, ci_text, a.get("dataset") or "",
                     a.get("split") or ""]
            out.append("| " + " | ".join(_inline(c).replace("|", "\\|") if c != "" else "" for c in cells) + " |")
        if card.section("quantitative_analyses").status == "derived":
            out += ["", "These results are the source run's metric summaries (derived, not written in the card)."]
    else:
        out.append("[More Information Needed]")
    out += ["", "## Technical Specifications", "", "### Compute Infrastructure", ""]
    env = [d for d in card.training if d.label in ("environment", "hardware")]
    for d in env:
        out += [f"#### {'Hardware' if d.label == 'hardware' else 'Software'}", "",
                f"Derived from {d.source}:", "", _md(d.value), ""]
    if not env:
        out += ["[More Information Needed]", ""]
    if card.signature["inputs"] or card.signature["outputs"]:
        out += ["### Signature", ""]
        for title, cols in (("Inputs", card.signature["inputs"]), ("Outputs", card.signature["outputs"])):
            if cols:
                out += [f"{title}:", ""] + [f"- `{_inline(c['name'])}`: {_inline(c['type'])}"
                                            + (f", shape {_inline(c['shape'])}" if c.get("shape") is not None
                                               else "") for c in cols] + [""]
    details = card.section("details").written
    if isinstance(details, dict) and details.get("citation"):
        out += ["## Citation", "", _inline(details["citation"]), ""]
    if isinstance(details, dict) and details.get("contact"):
        out += ["## Model Card Contact", "", _inline(details["contact"]), ""]
    return "\n".join(out).rstrip() + "\n"


def render(project: Project, model: RegisteredModel, version: ModelVersion) -> str:
    """The README.md text: YAML front matter, then the Markdown body."""
    card = build_card(project, model, version)
    return f"---\n{_yaml(front_matter(card, project))}---\n\n{body(card, project)}"


def _yaml(data: dict[str, Any]) -> str:
    """The front matter as YAML, kept between builds by its content in order (see sitegen.cache.memo):
    PyYAML's representer is pure Python, most of a card's cost."""
    def make() -> str:
        return yaml.dump(data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=100,
                         default_flow_style=False)

    memo = cache.memo("yaml")
    if memo is None:
        return make()
    # the key keeps key order (digest_json would not): the YAML is written in the front matter's order
    key = cache.digest_bytes(json.dumps(data, ensure_ascii=False, default=repr).encode("utf-8", "surrogatepass"))
    return memo.get(key, make)


def files(project: Project, only: str | None = None):
    """(site path, README text) of every version of every model (or of the model ``only``), in a stable
    order."""
    from .. import urls

    for slug in sorted(project.models) if only is None else [only]:
        model = project.models[slug]
        for version in model.versions:
            yield urls.model_card_md(slug, version.version), render(project, model, version)
