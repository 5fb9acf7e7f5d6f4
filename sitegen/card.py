"""The model card of a version: what its author wrote, completed from the source run.

Where a Mitchell et al. (2019) section is silent, the card is filled from what sitegen knows about the
run that trained the version, and every filled value is a :class:`Derived` that names and links its source:

- details: model type (from params such as ``model.type``), developers (the run's user), date (the
  version's ``created``);
- metrics: performance measures (the metrics of the results) and a decision threshold (a ``threshold``
  param);
- training / evaluation data: the run's provenance inputs by role (``training``; ``evaluation``, ``test``,
  ``validation``), each linked to its dataset page and datasheet when a dataset has its digest or name;
- quantitative analyses: the run's metric summaries;
- training procedure (always, from the run): params (training regime), code commit, command,
  environment and hardware.

A written ``{dataset: <slug>}`` reference also gets a link to the dataset's datasheet. Factors, intended
use, ethical considerations and caveats can only be written by a person.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from . import urls
from .model import Dataset, ModelVersion, Project, RegisteredModel, Run

CARD_SECTIONS = ("details", "intended_use", "factors", "metrics", "evaluation_data", "training_data",
                 "quantitative_analyses", "ethical_considerations", "caveats_and_recommendations")
TRAIN_ROLES = ("training", "train")
EVAL_ROLES = ("evaluation", "eval", "test", "testing", "validation", "val")
MODEL_TYPE_PARAMS = ("model_type", "model.type", "model.name", "model", "arch", "architecture", "model.arch")
THRESHOLD_PARAMS = ("decision_threshold", "threshold", "model.threshold")
# run metrics that describe the training process rather than the model's performance
_NOT_PERFORMANCE = re.compile(r"(^|[/_.])(train|system|time|duration|epoch|step|iteration|lr)([/_.]|$)|_s$")


@dataclass
class Derived:
    """One value filled in from a source, with a link to where it came from."""

    label: str
    value: Any
    source: str  # what it was read from, e.g. "run gbm-tuned, provenance.inputs[0]"
    url: str | None = None  # a site path (with #anchor) or an external http(s) URL


@dataclass
class Section:
    key: str
    status: str  # written | derived | missing
    written: Any = None
    derived: list[Derived] = field(default_factory=list)
    required: bool = False


@dataclass
class Card:
    model: RegisteredModel
    version: ModelVersion
    run: Run | None
    sections: list[Section]
    training: list[Derived]  # training procedure: params, code, command, environment, hardware
    analyses: list[dict[str, Any]]  # metric, value, slice, ci95, dataset, split, derived, source, url
    signature: dict[str, Any]  # inputs, outputs (lists of {name, type, shape}), source, url
    input_example: Any
    input_example_source: str | None
    extra: dict[str, Any]  # written card keys outside the Mitchell sections

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)

    @property
    def missing_required(self) -> list[str]:
        return [s.key for s in self.sections if s.required and s.status == "missing"]


def required_sections(model: RegisteredModel, project: Project) -> tuple[str, ...]:
    return tuple(model.required_card_sections if model.required_card_sections is not None
                 else project.config.required_card_sections)


def _silent(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _run_source(run: Run, where: str) -> str:
    return f"run {run.name} ({run.uid}), {where}"


def _run_url(run: Run, anchor: str) -> str:
    return f"{urls.run(run.experiment, run.id)}#{anchor}"


def dataset_for(project: Project, item: dict[str, Any]) -> Dataset | None:
    """The dataset a provenance input or card reference means: by digest, then by slug / name."""
    digest = item.get("digest")
    if digest:
        for slug in sorted(project.datasets):
            if project.datasets[slug].digest == digest:
                return project.datasets[slug]
    for key in ("dataset", "name"):
        value = item.get(key)
        if isinstance(value, str) and value in project.datasets:
            return project.datasets[value]
    return None


def _dataset_links(project: Project, ds: Dataset) -> list[Derived]:
    out = [Derived("dataset", ds.name, ds.file, urls.dataset(ds.slug))]
    if ds.datasheet:
        out.append(Derived("datasheet", f"{ds.name}: " + ", ".join(sorted(ds.datasheet)), ds.file,
                           urls.dataset(ds.slug) + "#datasheet"))
    return out


def _inputs(run: Run, roles: tuple[str, ...]) -> list[tuple[int, dict[str, Any]]]:
    found = []
    for i, item in enumerate(run.provenance.get("inputs") or []):
        if isinstance(item, dict) and str(item.get("role") or "").lower() in roles:
            found.append((i, item))
    return found


def _data_section(project: Project, run: Run | None, roles: tuple[str, ...]) -> list[Derived]:
    if run is None:
        return []
    out = []
    for i, item in _inputs(run, roles):
        value = {k: item[k] for k in ("name", "uri", "digest", "rows", "role", "split") if item.get(k) is not None}
        out.append(Derived(str(item.get("name") or f"input {i}"), value,
                           _run_source(run, f"provenance.inputs[{i}]"), _run_url(run, "provenance")))
        ds = dataset_for(project, item)
        if ds is not None:
            out.extend(_dataset_links(project, ds))
    return out


def _first_param(run: Run, keys: tuple[str, ...]) -> tuple[str, Any] | None:
    for key in keys:
        value = run.params_flat.get(key)
        if value is not None and not isinstance(value, (dict, list)):
            return key, value
    return None


def performance_metrics(run: Run) -> list[str]:
    """Run metric keys that describe performance (not loss curves' bookkeeping, times or steps)."""
    return [k for k, m in run.metrics.items() if not _NOT_PERFORMANCE.search(k.lower())]


def _analyses(card: dict[str, Any], run: Run | None, measures: list[str], eval_name: str | None
              ) -> tuple[list[dict[str, Any]], bool]:
    written = [a for a in card.get("quantitative_analyses") or [] if isinstance(a, dict)]
    rows = []
    for a in written:
        rows.append({**{k: a.get(k) for k in ("metric", "value", "slice", "ci95", "dataset", "split")},
                     "derived": False, "source": None, "url": None})
    if rows or run is None:
        return rows, False
    keys = [k for k in measures if k in run.metrics] or performance_metrics(run)
    for key in keys:
        summary = run.metrics[key]
        rows.append({"metric": key, "value": summary.last, "slice": None, "ci95": None, "dataset": eval_name,
                     "split": None, "derived": True, "source": _run_source(run, f"metrics.{key}"),
                     "url": _run_url(run, "metrics")})
    return rows, bool(rows)


def _measures(card: dict[str, Any]) -> list[str]:
    metrics = card.get("metrics")
    if isinstance(metrics, dict) and isinstance(metrics.get("performance_measures"), list):
        return [str(m) for m in metrics["performance_measures"]]
    return []


def commit_url(repo: Any, commit: Any) -> str | None:
    if isinstance(repo, str) and isinstance(commit, str) and re.match(r"^https?://", repo) \
            and re.fullmatch(r"[0-9a-fA-F]{7,64}", commit):
        return f"{repo.rstrip('/').removesuffix('.git')}/commit/{commit}"
    return None


def _training(project: Project, run: Run | None) -> list[Derived]:
    if run is None:
        return []
    out = []
    if run.params:
        out.append(Derived("training regime (params)", dict(sorted(run.params_flat.items())),
                           _run_source(run, "params"), _run_url(run, "params")))
    prov = run.provenance
    code = prov.get("code") if isinstance(prov.get("code"), dict) else None
    if code:
        value = {k: code[k] for k in ("repo", "commit", "branch", "dirty", "entry_point") if code.get(k) is not None}
        repo = code.get("repo") or project.config.repo_url
        out.append(Derived("code", value, _run_source(run, "provenance.code"),
                           commit_url(repo, code.get("commit")) or _run_url(run, "provenance")))
    if prov.get("command"):
        out.append(Derived("command", prov["command"], _run_source(run, "provenance.command"),
                           _run_url(run, "provenance")))
    for key in ("environment", "hardware"):
        if isinstance(prov.get(key), dict) and prov[key]:
            out.append(Derived(key, prov[key], _run_source(run, f"provenance.{key}"), _run_url(run, "provenance")))
    if run.duration_seconds is not None:
        out.append(Derived("training time (s)", round(run.duration_seconds), _run_source(run, "start/end time"),
                           urls.run(run.experiment, run.id)))
    return out


def _signature(version: ModelVersion, run: Run | None) -> tuple[dict[str, Any], Any, str | None]:
    def cols(sig: dict[str, Any], key: str) -> list[dict[str, Any]]:
        return [{"name": c.get("name"), "type": c.get("type"), "shape": c.get("shape")}
                for c in sig.get(key) or [] if isinstance(c, dict)]

    sig, sig_source, sig_url = version.signature, None, None
    example, example_source = version.input_example, None
    if run is not None:
        for i, out in enumerate(run.provenance.get("outputs") or []):
            if not isinstance(out, dict) or out.get("kind") != "model":
                continue
            if not sig and isinstance(out.get("signature"), dict):
                sig, sig_source, sig_url = out["signature"], _run_source(run, f"provenance.outputs[{i}].signature"), \
                    _run_url(run, "provenance")
            if example is None and out.get("input_example") is not None:
                example = out["input_example"]
                example_source = _run_source(run, f"provenance.outputs[{i}].input_example")
    return ({"inputs": cols(sig, "inputs"), "outputs": cols(sig, "outputs"), "source": sig_source, "url": sig_url},
            example, example_source)


def build_card(project: Project, model: RegisteredModel, version: ModelVersion) -> Card:
    card = version.card if isinstance(version.card, dict) else {}
    run = project.runs.get(version.source_run or "")
    required = required_sections(model, project)
    eval_inputs = _inputs(run, EVAL_ROLES) if run else []
    eval_name = str(eval_inputs[0][1].get("name")) if len(eval_inputs) == 1 and eval_inputs[0][1].get("name") \
        else None
    analyses, analyses_derived = _analyses(card, run, _measures(card), eval_name)
    sections = []
    for key in CARD_SECTIONS:
        written = card.get(key)
        derived: list[Derived] = []
        if key == "quantitative_analyses":
            status = "written" if not _silent(written) else ("derived" if analyses_derived else "missing")
            sections.append(Section(key, status, written, [], key in required))
            continue
        if not _silent(written):
            if key in ("training_data", "evaluation_data") and isinstance(written, dict):
                ds = dataset_for(project, written)
                if ds is not None:
                    derived = _dataset_links(project, ds)
            if key in ("training_data", "evaluation_data") and not derived:  # link the run's datasets
                roles = TRAIN_ROLES if key == "training_data" else EVAL_ROLES
                derived = [d for d in _data_section(project, run, roles) if d.label in ("dataset", "datasheet")]
            sections.append(Section(key, "written", written, derived, key in required))
            continue
        if key == "details" and run is not None:
            found = _first_param(run, MODEL_TYPE_PARAMS)
            if found:
                derived.append(Derived("model type", found[1], _run_source(run, f"params.{found[0]}"),
                                       _run_url(run, "params")))
            if run.user:
                derived.append(Derived("developers", run.user, _run_source(run, "user"), urls.run(run.experiment,
                                                                                                  run.id)))
            if version.created:
                derived.append(Derived("date", version.created.date().isoformat(), f"{version.file}, created",
                                       None))
        elif key == "metrics":
            measures = sorted({str(a["metric"]) for a in analyses if a.get("metric") is not None})
            if measures:
                derived.append(Derived("performance measures", measures, "the quantitative analyses below",
                                       "#card-quantitative_analyses"))
            found = _first_param(run, THRESHOLD_PARAMS) if run else None
            if found and isinstance(found[1], (int, float)):
                derived.append(Derived("decision threshold", found[1], _run_source(run, f"params.{found[0]}"),
                                       _run_url(run, "params")))
        elif key == "training_data":
            derived = _data_section(project, run, TRAIN_ROLES)
        elif key == "evaluation_data":
            derived = _data_section(project, run, EVAL_ROLES)
        sections.append(Section(key, "derived" if derived else "missing", None, derived, key in required))
    signature, example, example_source = _signature(version, run)
    return Card(model=model, version=version, run=run, sections=sections, training=_training(project, run),
                analyses=analyses, signature=signature, input_example=example,
                input_example_source=example_source,
                extra={k: v for k, v in card.items() if k not in CARD_SECTIONS})


def completeness(card: Card) -> list[dict[str, Any]]:
    """The checklist: every Mitchell section, written / derived / missing, and whether it is required."""
    return [{"section": s.key, "status": s.status, "present": s.status != "missing", "required": s.required}
            for s in card.sections]


def overall_results(card: Card) -> dict[str, float]:
    """Metric -> value of the whole-evaluation-set results (no slice); first one wins."""
    out: dict[str, float] = {}
    for a in card.analyses:
        if a.get("slice") or a.get("metric") is None or not isinstance(a.get("value"), (int, float)):
            continue
        if math.isfinite(float(a["value"])):
            out.setdefault(str(a["metric"]), float(a["value"]))
    return out
