"""The committed sample source ``sample_runs/`` is regenerable and follows format 1 (DESIGN.md section 2)."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from sitegen.monitoring import SCHEMA as MONITORING_SCHEMA
from sitegen.store.metrics import SCHEMA as METRICS_SCHEMA

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "make_sample_runs.py"
SAMPLE = REPO / "sample_runs"
GENERATED = ("runs", "models", "datasets", "sitegen.yaml")
MAX_BYTES = 5 * 1024 * 1024

RUN_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{6}$")
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def load_yaml(path: Path):
    with path.open("rb") as fh:
        return yaml.load(fh, Loader=yaml.CSafeLoader)


def tree(root: Path) -> dict[str, bytes]:
    """Relative path -> bytes for the generated parts of a source."""
    files = {}
    for name in GENERATED:
        top = root / name
        paths = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        for path in paths:
            files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files


def run_dirs(root: Path) -> list[Path]:
    return sorted(p.parent for p in (root / "runs").glob("*/*/run.yaml"))


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample_runs")
    (out / "runs").mkdir()
    (out / "runs" / "stale.txt").write_text("left over from an older run\n")  # must be removed
    (out / "keep.txt").write_text("not ours\n")  # must survive
    subprocess.run([sys.executable, str(SCRIPT), str(out)], check=True, capture_output=True, timeout=120)
    return out


@pytest.fixture(scope="module")
def runs() -> dict[str, dict]:
    """'<experiment>/<run-id>' -> parsed run.yaml of the committed sample."""
    return {f"{d.parent.name}/{d.name}": load_yaml(d / "run.yaml") for d in run_dirs(SAMPLE)}


def test_committed_sample_is_byte_identical_to_a_fresh_generation(regenerated):
    fresh, committed = tree(regenerated), tree(SAMPLE)
    assert sorted(fresh) == sorted(committed), "file lists differ: rerun scripts/make_sample_runs.py"
    changed = [name for name in fresh if fresh[name] != committed[name]]
    assert not changed, f"regenerated files differ from the committed ones: {changed[:10]}"
    assert (regenerated / "keep.txt").exists(), "the generator must only replace its own outputs"
    assert not (regenerated / "runs" / "stale.txt").exists()


def test_total_size_is_under_5_mb():
    total = sum(len(data) for data in tree(SAMPLE).values())
    assert 0 < total < MAX_BYTES, f"sample_runs/ is {total} bytes"


def test_every_run_yaml_has_the_required_keys(runs):
    assert len(runs) >= 30
    for ref, run in runs.items():
        experiment, folder = ref.split("/")
        assert run["format"] == "sitegen.run/1", ref
        assert run["id"] == folder and RUN_ID.match(folder), ref
        assert list(run)[:4] == ["format", "id", "name", "status"], ref
        assert run["status"] in {"running", "finished", "failed", "killed"}, ref
        assert run["user"] in {"alice", "bob", "chen"}, ref
        start = run["start_time"]
        assert isinstance(start, dt.datetime) and start.tzinfo is not None, ref
        assert folder.startswith(start.strftime("%Y%m%d-%H%M%S")), ref
        assert dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc) <= start < dt.datetime(
            2026, 11, 27, tzinfo=dt.timezone.utc
        ), ref
        if run["status"] == "running":
            assert "end_time" not in run, ref
        else:
            assert run["end_time"] > start, ref
        prov = run["provenance"]
        assert set(prov) >= {"code", "command", "environment", "hardware", "inputs", "outputs"}, ref
        assert set(prov["code"]) >= {"repo", "commit", "branch", "dirty", "entry_point"}, ref
        for item in prov["inputs"] + prov["outputs"]:
            assert DIGEST.match(item["digest"]), (ref, item)
        if "parent" in run:
            assert f"{experiment}/{run['parent']}" in runs, ref


def test_every_status_and_special_run_is_present(runs):
    statuses = {run["status"] for run in runs.values()}
    assert statuses == {"running", "finished", "failed", "killed"}
    for ref, run in runs.items():
        folder = SAMPLE / "runs" / ref
        if run["status"] == "running":
            assert not (folder / "metrics.parquet").exists()
            lines = (folder / "metrics.journal.jsonl").read_text().splitlines()
            points = [json.loads(line) for line in lines]
            assert points and all(list(p) == ["key", "step", "value", "timestamp"] for p in points)
        if run["status"] == "failed":
            assert "Traceback" in (folder / "artifacts" / "traceback.txt").read_text()
    assert sum(1 for run in runs.values() if run.get("parent")) == 18
    experiments = {ref.split("/")[0] for ref in runs}
    assert experiments == {"cifar10-resnet", "churn", "feature-pipeline"}
    for exp in experiments:
        meta = load_yaml(SAMPLE / "runs" / exp / "experiment.yaml")
        assert {"title", "description", "primary_metric", "goal"} <= set(meta)


def test_parquet_files_have_exactly_the_contract_schema():
    metric_files = sorted((SAMPLE / "runs").glob("*/*/metrics.parquet"))
    assert len(metric_files) >= 25
    saw_nan = saw_inf = False
    for path in metric_files:
        schema = pq.read_schema(path).remove_metadata()
        assert schema.equals(METRICS_SCHEMA), f"{path}: {schema}"
        values = pq.read_table(path, columns=["value"]).column("value").to_pylist()
        saw_nan |= any(math.isnan(v) for v in values)
        saw_inf |= any(v == math.inf for v in values)
    assert saw_nan and saw_inf, "one history must carry NaN and +inf"
    long = pq.read_table(SAMPLE / "runs" / "cifar10-resnet" / next(
        d.name for d in run_dirs(SAMPLE) if d.parent.name == "cifar10-resnet" and (d / "metrics.parquet").exists()
    ) / "metrics.parquet")
    assert max(long.column("step").to_pylist()) >= 2000
    for model in ("churn", "cifar10-classifier"):
        path = SAMPLE / "models" / model / "monitoring.parquet"
        assert pq.read_schema(path).remove_metadata().equals(MONITORING_SCHEMA), path
        assert pq.read_metadata(path).num_rows >= 90


def test_digests_chain_from_datasets_through_runs_to_models(runs):
    datasets = {p.stem: load_yaml(p) for p in sorted((SAMPLE / "datasets").glob("*.yaml"))}
    assert set(datasets) == {"churn-2026q3", "cifar10"}
    produced = {
        out["digest"]: ref
        for ref, run in runs.items()
        for out in run["provenance"]["outputs"]
        if out["kind"] == "dataset"
    }
    consumed = {
        inp["digest"]
        for ref, run in runs.items()
        if not ref.startswith("feature-pipeline/")
        for inp in run["provenance"]["inputs"]
    }
    for slug, data in datasets.items():
        assert DIGEST.match(data["digest"]), slug
        assert produced.get(data["digest"], "").startswith("feature-pipeline/"), slug
        assert data["digest"] in consumed, slug
        for section in ("motivation", "composition", "collection", "preprocessing", "uses", "distribution",
                        "maintenance"):
            assert data[section], (slug, section)
    for model_dir in sorted((SAMPLE / "models").iterdir()):
        model = load_yaml(model_dir / "model.yaml")
        versions = {int(p.stem): load_yaml(p) for p in (model_dir / "versions").glob("*.yaml")}
        assert len(versions) >= 2 and set(model["aliases"].values()) <= set(versions)
        for number, version in versions.items():
            source = runs[version["source_run"]]
            assert any(out["kind"] == "model" for out in source["provenance"]["outputs"]), (model_dir, number)


def test_artifact_kinds_cover_the_site_previews():
    suffixes = {p.suffix for p in (SAMPLE / "runs").glob("*/*/artifacts/**/*") if p.is_file()}
    assert {".png", ".svg", ".csv", ".json", ".yaml", ".log", ".md", ".html", ".diff", ".lock", ".txt",
            ".safetensors"} <= suffixes
    pointer = next((SAMPLE / "runs").glob("*/*/artifacts/model.safetensors")).read_text()
    assert pointer.startswith("version https://git-lfs.github.com/spec/v1\noid sha256:")
    for png in (SAMPLE / "runs").glob("*/*/artifacts/*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size < 120_000, png
