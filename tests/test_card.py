"""Model cards completed from their source runs; completeness; validation warnings; version diffs."""

from __future__ import annotations

from cardsrc import make_source

from sitegen.card import build_card, completeness
from sitegen.store.load import load_project
from sitegen.version_diff import diffs_for


def _card(tmp_path, n):
    project = load_project(make_source(tmp_path))
    model = project.models["demo"]
    return project, model, build_card(project, model, model.version(n))


def test_silent_sections_are_derived_with_sources(tmp_path):
    project, model, card = _card(tmp_path, 1)
    status = {s.key: s.status for s in card.sections}
    assert status == {"details": "derived", "intended_use": "missing", "factors": "missing",
                      "metrics": "derived", "evaluation_data": "derived", "training_data": "derived",
                      "quantitative_analyses": "derived", "ethical_considerations": "missing",
                      "caveats_and_recommendations": "missing"}
    details = {d.label: d for d in card.section("details").derived}
    assert details["model type"].value == "gbm" and "params.model.type" in details["model type"].source
    assert details["developers"].value == "alice"
    training = card.section("training_data").derived
    assert training[0].value["digest"] == "sha256:" + "a" * 64
    assert training[0].url == "runs/exp/r1/index.html#provenance"
    links = {d.label: d.url for d in training[1:]}
    assert links == {"dataset": "datasets/sales/index.html", "datasheet": "datasets/sales/index.html#datasheet"}
    assert card.section("evaluation_data").derived[0].value["name"] == "holdout"
    # results from the run's metric summaries, training bookkeeping left out
    assert [(a["metric"], a["value"], a["derived"]) for a in card.analyses] == [("auc", 0.8, True), ("f1", 0.5, True)]
    assert all(a["dataset"] == "holdout" for a in card.analyses)
    metrics = {d.label: d.value for d in card.section("metrics").derived}
    assert metrics == {"performance measures": ["auc", "f1"], "decision threshold": 0.4}
    training_proc = {d.label: d for d in card.training}
    assert training_proc["code"].url == "https://github.com/org/proj/commit/" + "1a" * 20
    assert training_proc["training regime (params)"].value["lr"] == 0.1
    assert training_proc["hardware"].value["cpu"] == "test cpu"
    assert card.signature["inputs"] == [{"name": "x", "type": "double", "shape": None}]
    assert card.signature["source"].endswith("provenance.outputs[0].signature")
    assert card.input_example == {"x": 1.5}


def test_written_sections_win_and_get_datasheet_links(tmp_path):
    _, _, card = _card(tmp_path, 2)
    assert card.section("details").status == "written" and not card.section("details").derived
    assert card.section("training_data").status == "written"
    assert [d.label for d in card.section("training_data").derived] == ["dataset", "datasheet"]
    assert card.section("quantitative_analyses").status == "written"
    assert len(card.analyses) == 3 and not any(a["derived"] for a in card.analyses)
    checks = completeness(card)
    assert all(c["present"] for c in checks)


def test_validate_warns_on_missing_required_sections(tmp_path):
    src = make_source(tmp_path)
    project = load_project(src)
    warned = [d for d in project.diagnostics if "required section" in d.message]
    assert len(warned) == 1 and warned[0].path == "models/demo/versions/1.yaml"
    assert "intended_use" in warned[0].message and not warned[0].is_error
    # configurable: sitegen.yaml card.required_sections, and per model required_card_sections
    (src / "sitegen.yaml").write_text("card: {required_sections: [details, metrics]}\n")
    assert not [d for d in load_project(src).diagnostics if "required section" in d.message]
    with open(src / "models/demo/model.yaml", "a") as fh:
        fh.write("required_card_sections: [factors]\n")
    warned = [d for d in load_project(src).diagnostics if "required section" in d.message]
    assert [d.path for d in warned] == ["models/demo/versions/1.yaml"] and "factors" in warned[0].message


def test_validate_cli_exit_code_stays_zero_for_warnings(tmp_path):
    import subprocess
    import sys

    src = make_source(tmp_path)
    out = subprocess.run([sys.executable, "-m", "sitegen", "validate", str(src)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "models/demo/versions/1.yaml" in out.stdout and "required section" in out.stdout


def test_duplicate_version_numbers_and_alias_history_disagreement(tmp_path):
    src = make_source(tmp_path)
    m = src / "models/demo"
    (m / "versions/2-bob.yaml").write_text("format: sitegen.model-version/1\nversion: 2\nsource_run: exp/r1\n")
    (m / "model.yaml").write_text(
        "format: sitegen.model/1\naliases: {champion: 2}\n"
        "alias_history: [{alias: champion, version: 1, at: 2026-11-30T12:00:00Z}]\n")
    diags = load_project(src).diagnostics
    dup = [d for d in diags if "claimed by 2 files" in d.message]
    assert dup and dup[0].is_error and "models/demo/versions/2-bob.yaml" in dup[0].message \
        and "models/demo/versions/2.yaml" in dup[0].message
    hist = [d for d in diags if "alias_history" in d.message and "'champion'" in d.message]
    assert hist and hist[0].path == "models/demo/model.yaml" and hist[0].line == 2


def test_version_diff_against_previous_and_champion(tmp_path):
    project, model, _ = _card(tmp_path, 2)
    diffs = diffs_for(project, model, model.version(2))
    assert [d.relation for d in diffs] == ["previous"]  # the champion is the previous version
    d = diffs[0]
    auc = next(m for m in d.metrics if m["metric"] == "auc")
    assert auc["base"] == 0.8 and auc["target"] == 0.85 and abs(auc["delta"] - 0.05) < 1e-12
    assert [p["key"] for p in d.params] == ["lr"]
    assert [(x["name"], x["change"]) for x in d.data] == [("sales", "changed")]
    assert d.code["url"] == f"https://github.com/org/proj/compare/{'1a' * 20}...{'2b' * 20}"
    assert diffs_for(project, model, model.version(1)) == []
