"""A small source for card, page and export tests: one run with provenance, one model, two versions."""

from __future__ import annotations

from pathlib import Path

RUN = """format: sitegen.run/1
id: {rid}
name: {name}
status: finished
start_time: 2026-11-30T10:00:00Z
end_time: 2026-11-30T10:30:00Z
user: alice
params: {{lr: {lr}, model: {{type: gbm}}, threshold: 0.4}}
metrics: {{auc: {auc}, f1: 0.5, train_time_s: 12.0}}
provenance:
  code: {{repo: https://github.com/org/proj, commit: {commit}}}
  command: python train.py
  environment: {{python: 3.11.7, packages: {{lightgbm: 4.5.0}}}}
  hardware: {{cpu: test cpu, memory_gb: 8}}
  inputs:
    - {{name: sales, kind: dataset, role: training, digest: "sha256:{train}"}}
    - {{name: holdout, kind: dataset, role: evaluation, digest: "sha256:{evald}"}}
  outputs:
    - name: model
      kind: model
      signature: {{inputs: [{{name: x, type: double}}], outputs: [{{name: y, type: double}}]}}
      input_example: {{x: 1.5}}
"""

DATASET = """format: sitegen.dataset/1
name: Sales <2026>
digest: "sha256:{d}"
motivation: Why it exists.
composition: What is in it.
"""


def make_source(root: Path) -> Path:
    """runs/exp/r1 and r2, datasets/sales.yaml, models/demo with a silent v1 and a written v2."""
    for rid, name, lr, auc, commit, train in (
            ("r1", "first", 0.1, 0.8, "1a" * 20, "a" * 64), ("r2", "second", 0.05, 0.85, "2b" * 20, "b" * 64)):
        d = root / "runs" / "exp" / rid
        d.mkdir(parents=True)
        (d / "run.yaml").write_text(RUN.replace("{evald}", "e" * 64).format(rid=rid, name=name, lr=lr, auc=auc, commit=commit, train=train)
                                    )
    (root / "datasets").mkdir()
    (root / "datasets" / "sales.yaml").write_text(DATASET.format(d="a" * 64))
    m = root / "models" / "demo"
    (m / "versions").mkdir(parents=True)
    (m / "model.yaml").write_text(
        "format: sitegen.model/1\nname: Demo <model>\naliases: {champion: 1}\n"
        "alias_history: [{alias: champion, version: 1, at: 2026-11-30T12:00:00Z, by: bob}]\n"
        "monitoring: {auc: {min: 0.8}}\n")
    (m / "versions" / "1.yaml").write_text(
        "format: sitegen.model-version/1\nversion: 1\nsource_run: exp/r1\ncreated: 2026-11-30T11:00:00Z\n")
    (m / "versions" / "2.yaml").write_text(
        "format: sitegen.model-version/1\nversion: 2\nsource_run: exp/r2\ncreated: 2026-12-01T11:00:00Z\n"
        "hub: {library_name: lightgbm, pipeline_tag: tabular-classification, license: mit}\n"
        "card:\n"
        "  details: {developers: <script>alert(1)</script>, model_type: GBM}\n"
        "  intended_use: Ranking.\n  factors: [region]\n"
        "  training_data: {dataset: sales, split: train}\n"
        "  quantitative_analyses:\n"
        "    - {metric: auc, value: 0.85, dataset: sales, split: test, ci95: [0.8, 0.9]}\n"
        "    - {metric: auc, value: 0.7, dataset: sales, split: test, slice: region = EU, ci95: [0.6, 0.8]}\n"
        "    - {metric: auc, value: 0.9, dataset: sales, split: test, slice: region = US}\n"
        "  ethical_considerations: None known.\n  caveats_and_recommendations: Retrain monthly.\n")
    return root
