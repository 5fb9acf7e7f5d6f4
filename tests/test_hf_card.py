"""The Hugging Face export: every README.md loads with huggingface_hub and carries the card's results."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from cardsrc import make_source

huggingface_hub = pytest.importorskip("huggingface_hub")
from huggingface_hub import ModelCard  # noqa: E402

from sitegen.card import build_card  # noqa: E402
from sitegen.export import hf_card  # noqa: E402
from sitegen.store.load import load_project  # noqa: E402


def _loaded(card) -> list[tuple]:
    out = []
    for r in card.data.eval_results or []:
        out.append((r.metric_type, float(r.metric_value), r.dataset_type, r.dataset_split,
                    (r.dataset_args or {}).get("slice")))
    return sorted(out, key=repr)


def _check_site(output: Path, source: Path) -> int:
    project = load_project(source)
    checked = 0
    for slug, model in sorted(project.models.items()):
        for version in model.versions:
            path = output / "models" / slug / str(version.version) / "README.md"
            assert path.is_file(), path
            loaded = ModelCard.load(path)  # a local Path: no network
            expected = hf_card.expected_results(build_card(project, model, version))
            assert _loaded(loaded) == sorted(expected, key=repr), path
            meta = loaded.data.to_dict()
            assert meta["sitegen"]["version"] == version.version
            assert meta["sitegen"]["source_run"] == version.source_run
            assert "## Model Details" in loaded.text and "## Evaluation" in loaded.text
            checked += 1
    return checked


def test_every_sample_card_round_trips(sample_site):
    source = Path(__file__).resolve().parent.parent / "sample_runs"
    assert _check_site(sample_site.output, source) >= 6


def test_round_trip_with_derived_results_and_nothing_lost(built_site, tmp_path):
    src = make_source(tmp_path / "src")
    site = built_site(src)
    assert _check_site(site.output, src) == 2
    v1 = ModelCard.load(site.output / "models/demo/1/README.md")
    assert {(r.metric_type, r.metric_value) for r in v1.data.eval_results} == {("auc", 0.8), ("f1", 0.5)}
    assert v1.data.eval_results[0].dataset_type == "holdout"
    assert "derived from run first" in v1.text
    v2 = ModelCard.load(site.output / "models/demo/2/README.md")
    meta = v2.data.to_dict()
    assert meta["license"] == "mit" and meta["library_name"] == "lightgbm"
    sliced = [r for r in v2.data.eval_results if r.dataset_args]
    assert {r.dataset_args["slice"] for r in sliced} == {"region = EU", "region = US"}
    # what has no Hub slot is kept under `sitegen`: CIs, the written card, derived values with sources
    results = meta["sitegen"]["results"]
    assert results[0]["ci95"] == [0.8, 0.9]
    assert meta["sitegen"]["card"]["details"]["developers"] == "<script>alert(1)</script>"
    assert meta["sitegen"]["derived"]["training_data"][0]["label"] == "dataset"
    assert meta["sitegen"]["signature"]["inputs"][0]["name"] == "x"


def test_non_finite_results_stay_out_of_model_index(tmp_path):
    src = make_source(tmp_path / "src")
    path = src / "models/demo/versions/2.yaml"
    path.write_text(path.read_text().replace("value: 0.9,", "value: .nan,"))
    project = load_project(src)
    model = project.models["demo"]
    text = hf_card.render(project, model, model.version(2))
    front = yaml.safe_load(text.split("---\n")[1])
    values = [m["value"] for r in front["model-index"][0]["results"] for m in r["metrics"]]
    assert len(values) == 2 and all(math.isfinite(v) for v in values)
    assert any(isinstance(r["value"], float) and math.isnan(r["value"]) for r in front["sitegen"]["results"])
    assert hf_card.render(project, model, model.version(2)) == text  # deterministic
