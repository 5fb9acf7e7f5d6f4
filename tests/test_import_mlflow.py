"""`sitegen import mlflow`: real MLflow stores (sqlite and file store) made with MLflow's client, imported
and compared value by value with what the client returns; re-import writes nothing.

MLflow is in the `test` extra (a fresh-venv install takes about 50 s), so a missing mlflow fails here
rather than skipping.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner

from mlflow import MlflowClient
from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag

from sitegen.cli import main
from sitegen.importers.mlflow import import_mlflow
from sitegen.store.load import load_project

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z in ms
MLMODEL = """\
artifact_path: model
flavors:
  python_function: {loader_module: mlflow.pyfunc.model, python_version: 3.11.7}
signature:
  inputs: '[{"type": "double", "name": "tenure", "required": true}, {"type": "string", "name": "plan", "required": true}]'
  outputs: '[{"type": "double", "name": "churn", "required": true}]'
"""


def _make_store(client: MlflowClient, workdir: Path) -> dict:
    """Two experiments, a parent with two nested children, a dataset input, artifacts (one above the
    test's size limit), duplicate and non-finite metric points, and a registered model with two
    versions and aliases. Returns the ids the tests look for."""
    workdir.mkdir(parents=True, exist_ok=True)
    exp = client.create_experiment("Churn: Baseline / v2", tags={"team": "growth",
                                                                  "mlflow.note.content": "Churn *models*."})
    other = client.create_experiment("churn baseline v2")  # same slug: the clash gets the id appended
    parent = client.create_run(exp, run_name="sweep", start_time=T0, tags={
        "mlflow.source.git.commit": "3f2a9c0d" * 5, "mlflow.source.git.branch": "main",
        "mlflow.source.git.repoURL": "https://user:pw@github.com/org/proj", "mlflow.source.name": "train.py",
        "mlflow.note.content": "Parent of the **sweep**.", "team": "growth", "mlflow.user": "alice"})
    pid = parent.info.run_id
    client.log_batch(pid, params=[Param("optimizer.name", "adamw"), Param("lr", "0.001"), Param("epochs", "3")],
                     metrics=[Metric("loss", 1.0 / (s + 1), T0 + 1000 * s, s) for s in range(50)]
                     + [Metric("loss", 1.0 / 11, T0 + 10_000, 10)]           # exact duplicate of step 10
                     + [Metric("val/acc", v, T0 + 5000 + i, i) for i, v in enumerate([0.5, math.nan, math.inf, 0.9])])
    dataset = Dataset(name="churn-train", digest="be9dd889", source_type="s3",
                      source='{"uri": "s3://bucket/churn/train.parquet"}',
                      schema='{"mlflow_colspec": [{"type": "double", "name": "tenure"}]}',
                      profile='{"num_rows": 1000}')
    client.log_inputs(pid, datasets=[DatasetInput(dataset, tags=[InputTag("mlflow.data.context", "training")])])
    (workdir / "notes.txt").write_text("hello artifacts\n")
    (workdir / "plots").mkdir(exist_ok=True)
    (workdir / "plots" / "roc.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (workdir / "big.bin").write_bytes(os.urandom(4096))
    client.log_artifact(pid, str(workdir / "notes.txt"))
    client.log_artifacts(pid, str(workdir / "plots"), "plots")
    client.log_artifact(pid, str(workdir / "big.bin"), "data")
    client.set_terminated(pid, "FINISHED", end_time=T0 + 60_000)

    children = []
    for i, lr in enumerate(["0.01", "0.1"]):
        child = client.create_run(exp, run_name=f"lr={lr}", start_time=T0 + 1000 * (i + 1),
                                  tags={"mlflow.parentRunId": pid})
        cid = child.info.run_id
        client.log_batch(cid, params=[Param("lr", lr)], tags=[RunTag("fold", str(i))],
                         metrics=[Metric("loss", 0.5 - 0.01 * s * (i + 1), T0 + 2000 + s, s) for s in range(20)])
        (workdir / "model").mkdir(exist_ok=True)
        (workdir / "model" / "MLmodel").write_text(MLMODEL)
        client.log_artifacts(cid, str(workdir / "model"), "model")
        client.set_terminated(cid, "FAILED" if i else "FINISHED", end_time=T0 + 30_000 + i)
        children.append(cid)
    lone = client.create_run(other, run_name="other", start_time=T0 + 5)
    client.log_metric(lone.info.run_id, "auc", 0.8, timestamp=T0 + 6, step=0)
    client.set_terminated(lone.info.run_id, "KILLED", end_time=T0 + 7)

    client.create_registered_model("Churn Model", tags={"domain": "growth"}, description="Predicts *churn*.")
    for cid in children:
        client.create_model_version("Churn Model", f"runs:/{cid}/model", run_id=cid, description=f"from {cid[:6]}")
    client.set_registered_model_alias("Churn Model", "champion", "1")
    client.set_registered_model_alias("Churn Model", "challenger", "2")
    client.set_model_version_tag("Churn Model", "1", "validated", "yes")
    try:
        client.transition_model_version_stage("Churn Model", "1", "Production")
    except Exception:  # noqa: BLE001 - stages removed in a future MLflow: nothing to map then
        pass
    return {"experiment": exp, "other": other, "parent": pid, "children": children,
            "lone": lone.info.run_id}


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory):
    base = tmp_path_factory.mktemp("mlflow-sqlite")
    uri = f"sqlite:///{base / 'mlflow.db'}"
    old = os.getcwd()
    os.chdir(base)  # the default artifact root ./mlruns lands here
    try:
        client = MlflowClient(tracking_uri=uri)
        ids = _make_store(client, base / "work")
    finally:
        os.chdir(old)
    return uri, client, ids


@pytest.fixture(scope="module")
def imported(sqlite_store, tmp_path_factory):
    uri, client, ids = sqlite_store
    target = tmp_path_factory.mktemp("sitegen-from-mlflow")
    result = CliRunner().invoke(main, ["import", "mlflow", "--tracking-uri", uri,
                                       "--artifact-size-limit", "2048", str(target)])
    assert result.exit_code == 0, result.output
    return target, result.output


def _yaml(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _snapshot(root: Path) -> dict[str, tuple[int, str]]:
    return {p.relative_to(root).as_posix(): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_slugs_are_deterministic_and_clashes_get_the_id(imported, sqlite_store):
    target, output = imported
    _uri, client, ids = sqlite_store
    first = _yaml(target / "runs" / "churn-baseline-v2" / "experiment.yaml")
    second = _yaml(target / "runs" / f"churn-baseline-v2-{ids['other']}" / "experiment.yaml")
    assert first["title"] == "Churn: Baseline / v2"
    assert first["description"] == "Churn *models*."
    assert first["tags"] == {"team": "growth", "mlflow.experiment_id": ids["experiment"]}
    assert second["title"] == "churn baseline v2"
    assert "runs: 4 imported, 0 updated, 0 skipped, 0 failed" in output


def test_every_run_param_tag_and_metric_point_matches_the_client(imported, sqlite_store):
    target, _ = imported
    _uri, client, ids = sqlite_store
    slug_of = {ids["experiment"]: "churn-baseline-v2", ids["other"]: f"churn-baseline-v2-{ids['other']}"}
    runs = client.search_runs([ids["experiment"], ids["other"]])
    assert len(runs) == 4
    for r in runs:
        run_dir = target / "runs" / slug_of[r.info.experiment_id] / r.info.run_id
        rec = _yaml(run_dir / "run.yaml")
        assert rec["id"] == r.info.run_id and rec["name"] == r.info.run_name
        assert rec["status"] == r.info.status.lower()
        assert rec["user"] == r.info.user_id
        from sitegen.store.load import parse_time
        assert parse_time(rec["start_time"]).timestamp() * 1000 == r.info.start_time
        assert parse_time(rec["end_time"]).timestamp() * 1000 == r.info.end_time
        assert rec["params"] == r.data.params  # every param, as the string MLflow stores
        tags = r.data.tags
        for key, value in tags.items():
            if key == "mlflow.parentRunId":
                assert rec["parent"] == value
            elif key == "mlflow.note.content":
                assert rec["notes"] == value
            elif key == "mlflow.source.git.commit":
                assert rec["provenance"]["code"]["commit"] == value
            elif key == "mlflow.source.git.branch":
                assert rec["provenance"]["code"]["branch"] == value
            elif key == "mlflow.source.git.repoURL":  # credentials never reach the store
                assert rec["provenance"]["code"]["repo"] == "https://github.com/org/proj"
            elif key == "mlflow.source.name":
                assert rec["provenance"]["code"]["entry_point"] == value
            elif key == "mlflow.runName":
                assert rec["name"] == value
            elif key == "mlflow.user":
                assert rec["user"] == value
            else:
                assert rec["tags"][key] == value, key
        assert set(rec["tags"]) <= set(tags)
        # every metric point: the client's history, exact duplicates removed, sorted by step
        table = pq.read_table(run_dir / "metrics.parquet")
        assert table.schema.field("timestamp").type.tz == "UTC"
        got = sorted(zip(table.column("key").to_pylist(), table.column("step").to_pylist(),
                         [repr(v) for v in table.column("value").to_pylist()],
                         [int(t.timestamp() * 1000) for t in table.column("timestamp").to_pylist()]))
        want = sorted({(m.key, m.step, repr(m.value), m.timestamp)
                       for key in r.data.metrics for m in client.get_metric_history(r.info.run_id, key)})
        assert got == want
    parent_table = pq.read_table(target / "runs" / "churn-baseline-v2" / ids["parent"] / "metrics.parquet")
    assert parent_table.num_rows == 50 + 4  # the duplicate step-10 point is gone; NaN and inf are kept


def test_dataset_input_and_nesting(imported, sqlite_store):
    target, _ = imported
    _uri, _client, ids = sqlite_store
    rec = _yaml(target / "runs" / "churn-baseline-v2" / ids["parent"] / "run.yaml")
    (inp,) = rec["provenance"]["inputs"]
    assert inp["name"] == "churn-train" and inp["kind"] == "dataset" and inp["role"] == "training"
    assert inp["digest"] == "mlflow:be9dd889" and inp["uri"] == "s3://bucket/churn/train.parquet"
    assert inp["schema"] == {"mlflow_colspec": [{"type": "double", "name": "tenure"}]}
    assert inp["profile"] == {"num_rows": 1000}
    project = load_project(target)
    parent = project.runs[f"churn-baseline-v2/{ids['parent']}"]
    assert parent.children == sorted(f"churn-baseline-v2/{c}" for c in ids["children"])


def test_artifacts_downloaded_and_large_ones_external(imported, sqlite_store):
    target, _ = imported
    _uri, client, ids = sqlite_store
    run_dir = target / "runs" / "churn-baseline-v2" / ids["parent"]
    for rel in ("notes.txt", "plots/roc.png"):
        local = client.download_artifacts(ids["parent"], rel, str(run_dir.parent.parent.parent / "dl"))
        assert (run_dir / "artifacts" / rel).read_bytes() == Path(local).read_bytes()
    assert not (run_dir / "artifacts" / "data" / "big.bin").exists()
    (ext,) = _yaml(run_dir / "run.yaml")["artifacts"]
    assert ext["name"] == "data/big.bin" and ext["size"] == 4096
    assert ext["uri"].endswith("/artifacts/data/big.bin")


def test_registered_model_versions_aliases_and_stage(imported, sqlite_store):
    target, output = imported
    _uri, client, ids = sqlite_store
    mdir = target / "models" / "churn-model"
    model = _yaml(mdir / "model.yaml")
    rm = client.get_registered_model("Churn Model")
    assert model["name"] == rm.name and model["description"] == rm.description
    assert model["aliases"] == {"champion": 1, "challenger": 2} == {k: int(v) for k, v in rm.aliases.items()}
    assert model["tags"]["domain"] == "growth"
    for v in client.search_model_versions("name = 'Churn Model'"):
        ver = _yaml(mdir / "versions" / f"{v.version}.yaml")
        assert ver["version"] == int(v.version)
        assert ver["source_run"] == f"churn-baseline-v2/{v.run_id}"
        assert ver["description"] == v.description
        assert ver.get("stage", "none") == (v.current_stage or "None").lower()
        assert ver["tags"]["mlflow.source"] == v.source
        for key, value in v.tags.items():
            assert ver["tags"][key] == value
        assert ver["signature"] == {"inputs": [{"name": "tenure", "type": "double"}, {"name": "plan", "type": "string"}],
                                    "outputs": [{"name": "churn", "type": "double"}]}
    assert "model versions: 2 imported" in output


def test_imported_store_validates_and_builds(imported, built_site):
    target, _ = imported
    project = load_project(target)
    errors = [str(d) for d in project.diagnostics if d.is_error]
    assert errors == []
    assert len(project.runs) == 4
    site = built_site(target)
    assert site.path("index.html").is_file()
    assert any(site.output.joinpath("runs").rglob("index.html"))


def test_reimport_is_a_no_op_then_picks_up_changes(imported, sqlite_store, tmp_path):
    uri, client, ids = sqlite_store
    target = tmp_path / "store"
    shutil.copytree(imported[0], target, copy_function=shutil.copy2)
    before = _snapshot(target)
    summary = import_mlflow(target, uri, artifact_size_limit=2048)
    assert _snapshot(target) == before  # not one file rewritten (same mtime and content)
    assert summary.count("run", "skipped") == 4 and summary.count("run", "imported") == 0
    assert summary.count("model version", "skipped") == 2 and not summary.failed
    # a change in MLflow: one run updated, the rest untouched
    lone = ids["lone"]
    client.set_tag(lone, "reviewed", "yes")
    client.log_metric(lone, "auc", 0.85, timestamp=T0 + 8, step=1)
    summary = import_mlflow(target, uri, artifact_size_limit=2048)
    assert summary.count("run", "updated") == 1 and summary.count("run", "skipped") == 3
    after = _snapshot(target)
    changed = sorted(k for k in after if after[k] != before.get(k))
    run_prefix = f"runs/churn-baseline-v2-{ids['other']}/{lone}/"
    assert changed == [run_prefix + "metrics.parquet", run_prefix + "run.yaml"]
    # --since after everything: nothing is even compared
    summary = import_mlflow(target, uri, since=__import__("datetime").datetime(2100, 1, 1))
    assert summary.count("run", "skipped") == 4


def test_experiment_filter_and_unknown_name(sqlite_store, tmp_path):
    uri, _client, ids = sqlite_store
    summary = import_mlflow(tmp_path, uri, experiments=["churn baseline v2", "nope"])
    assert summary.count("run", "imported") == 1
    assert ("experiment", "nope", "no active experiment with this name or id") in summary.failures
    assert not (tmp_path / "runs" / "churn-baseline-v2").exists()
    assert not (tmp_path / "models").exists()  # no version of it comes from the chosen experiment


def test_copied_file_store_falls_back_to_store_relative_artifacts(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    original = tmp_path / "elsewhere" / "mlruns"
    client = MlflowClient(tracking_uri=original.as_uri())
    exp = client.create_experiment("copied")
    run = client.create_run(exp, run_name="r", start_time=T0)
    (tmp_path / "a.txt").write_text("artifact body")
    client.log_artifact(run.info.run_id, str(tmp_path / "a.txt"), "sub")
    client.log_batch(run.info.run_id, metrics=[Metric("m", float(s), T0 + s, s) for s in range(5)],
                     params=[Param("p", "1")])
    client.set_terminated(run.info.run_id, end_time=T0 + 10)
    copied = tmp_path / "copied" / "mlruns"
    shutil.copytree(original, copied)
    shutil.rmtree(tmp_path / "elsewhere")  # the absolute artifact paths in the copy now point nowhere

    result = CliRunner().invoke(main, ["import", "mlflow", "--tracking-uri", str(copied), str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    run_dir = tmp_path / "out" / "runs" / "copied" / run.info.run_id
    assert (run_dir / "artifacts" / "sub" / "a.txt").read_text() == "artifact body"
    assert pq.read_table(run_dir / "metrics.parquet").column("value").to_pylist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert _yaml(run_dir / "run.yaml")["params"] == {"p": "1"}
    assert [d for d in load_project(tmp_path / "out").diagnostics if d.is_error] == []
