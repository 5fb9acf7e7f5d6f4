#!/usr/bin/env python3
"""Generate the sample run store ``sample_runs/`` (format 1 of DESIGN.md section 2).

Usage::

    python scripts/make_sample_runs.py [OUT_DIR]      # default: <repo>/sample_runs

The script deletes and recreates ``runs/``, ``models/``, ``datasets/`` and ``sitegen.yaml`` inside
OUT_DIR and nothing else.  Output is fully deterministic: every random number comes from a numpy
``default_rng`` seeded from a fixed constant and a name, and every timestamp is a fixed date in
November 2026 (no wall clock).  ``tests/test_sample_runs.py`` checks that the committed files are
byte-identical to a fresh run of this script.

The store tells one story across three experiments:

* ``feature-pipeline``: two preprocessing runs whose outputs are the datasets ``cifar10`` and
  ``churn-2026q3`` (their digests are the digests in ``datasets/*.yaml``), a failed run with a
  traceback and a crashed run that only left a journal.
* ``churn``: eight tabular models (logistic regression, random forests, gradient boosting); three
  of them are versions of the registered model ``churn``.
* ``cifar10-resnet``: a learning-rate x optimizer x seed sweep (two sweep parents with nine nested
  trials each, one of which diverges to inf/NaN) plus one longer ResNet-56 run; three of them are
  versions of the registered model ``cifar10-classifier``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import io
import json
import math
import shutil
import sys
import zlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import vl_convert as vlc
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # the file formats' schemas come from the package
from sitegen.monitoring import SCHEMA as MONITORING_SCHEMA  # noqa: E402
from sitegen.store.metrics import SCHEMA as METRICS_SCHEMA  # noqa: E402
DEFAULT_OUT = REPO_ROOT / "sample_runs"
GENERATED = ("runs", "models", "datasets", "sitegen.yaml")

BASE_SEED = 20261127
UTC = dt.timezone.utc
REPO_URL = "https://github.com/example-org/vision-and-churn"



# --------------------------------------------------------------------------------------------
# Deterministic building blocks
# --------------------------------------------------------------------------------------------


def rng_for(name: str) -> np.random.Generator:
    """A generator seeded from the fixed base seed and a name, independent of call order."""
    return np.random.default_rng([BASE_SEED, zlib.crc32(name.encode("utf-8"))])


def digest(name: str) -> str:
    """A stable ``sha256:<64 hex>`` digest standing in for the content digest of ``name``."""
    return "sha256:" + hashlib.sha256(f"sitegen-sample:{name}".encode("utf-8")).hexdigest()


def text_digest(text: str) -> str:
    """The real ``sha256:<hex>`` of a text artifact as :func:`write_text` writes it, for outputs kept in the
    run folder (the build checks those digests)."""
    if not text.endswith("\n"):
        text += "\n"
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def commit_for(name: str) -> str:
    """A stable 40-hex git commit id."""
    return hashlib.sha1(f"sitegen-sample-commit:{name}".encode("utf-8")).hexdigest()


def utc(text: str) -> dt.datetime:
    """Parse ``YYYY-MM-DDTHH:MM:SS`` as UTC."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def run_id(start: dt.datetime, name: str) -> str:
    """The tracker's sortable id ``YYYYMMDD-HHMMSS-xxxxxx``; the hex comes from a seeded RNG."""
    suffix = int(rng_for(f"run-id:{name}").integers(0, 2**24))
    return f"{start:%Y%m%d-%H%M%S}-{suffix:06x}"


def ms(t: dt.datetime) -> int:
    return int(round(t.timestamp() * 1000))


def iso_ms(t_ms: int) -> str:
    t = dt.datetime.fromtimestamp(t_ms / 1000, tz=UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t_ms % 1000:03d}Z"


def f32(values: np.ndarray) -> np.ndarray:
    """Round to float32 precision, as values logged from a float32 tensor are."""
    return np.asarray(values, dtype=np.float32).astype(np.float64)


def r(x: float, nd: int = 4) -> float:
    return float(round(float(x), nd))


# --------------------------------------------------------------------------------------------
# YAML: block style, keys in insertion order, timestamps as 2026-11-27T06:12:00Z
# --------------------------------------------------------------------------------------------


class FlowList(list):
    """A short list written inline: ``[0.90, 0.92]``."""


class FlowMap(dict):
    """A short mapping written inline: ``{name: tenure, type: double}``."""


class SampleDumper(yaml.SafeDumper):
    """SafeDumper that indents block sequences under their key, like people write them."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)

    def ignore_aliases(self, data):  # never write &id001 anchors
        return True


def _repr_datetime(dumper: yaml.SafeDumper, value: dt.datetime):
    text = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return dumper.represent_scalar("tag:yaml.org,2002:timestamp", text)


def _repr_str(dumper: yaml.SafeDumper, value: str):
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


SampleDumper.add_representer(dt.datetime, _repr_datetime)
SampleDumper.add_representer(str, _repr_str)
SampleDumper.add_representer(
    FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", list(v), flow_style=True)
)
SampleDumper.add_representer(
    FlowMap, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", dict(v), flow_style=True)
)


def yaml_text(data: dict) -> str:
    return yaml.dump(
        data,
        Dumper=SampleDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )


# --------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not text.endswith("\n"):
        text += "\n"
    path.write_bytes(text.encode("utf-8"))


def write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def write_yaml(path: Path, data: dict) -> None:
    write_text(path, yaml_text(data))


class Series:
    """Collects metric points ``(key, step, value, timestamp_ms)`` as numpy column chunks."""

    def __init__(self) -> None:
        self.chunks: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, key: str, steps, values, times_ms) -> None:
        steps = np.asarray(steps, dtype=np.int64)
        values = np.asarray(values, dtype=np.float64)
        times_ms = np.asarray(times_ms, dtype=np.int64)
        assert steps.shape == values.shape == times_ms.shape, key
        self.chunks.append((key, steps, values, times_ms))

    def last(self) -> dict[str, float]:
        return {key: float(values[-1]) for key, _, values, _ in self.chunks}

    def table(self) -> pa.Table:
        keys = np.concatenate([np.full(len(s), k, dtype=object) for k, s, _, _ in self.chunks])
        steps = np.concatenate([s for _, s, _, _ in self.chunks])
        values = np.concatenate([v for _, _, v, _ in self.chunks])
        times = np.concatenate([t for _, _, _, t in self.chunks])
        order = np.lexsort((steps, keys.astype(str)))
        return pa.table(
            {
                "key": pa.array(keys[order].tolist(), type=pa.string()),
                "step": pa.array(steps[order], type=pa.int64()),
                "value": pa.array(values[order], type=pa.float64()),
                "timestamp": pa.array(times[order], type=pa.timestamp("ms", tz="UTC")),
            },
            schema=METRICS_SCHEMA,
        )


def write_parquet(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    int_cols = [f.name for f in table.schema if pa.types.is_integer(f.type) or pa.types.is_timestamp(f.type)]
    str_cols = [f.name for f in table.schema if pa.types.is_string(f.type)]
    pq.write_table(
        table,
        path,
        compression="zstd",
        compression_level=9,
        use_dictionary=str_cols,
        column_encoding={c: "DELTA_BINARY_PACKED" for c in int_cols},
        use_byte_stream_split=["value"],
        write_statistics=True,
    )


def write_journal(path: Path, series: Series) -> None:
    """Journal lines in the order they were logged (by time, then key)."""
    points = []
    for key, steps, values, times in series.chunks:
        for s, v, t in zip(steps.tolist(), values.tolist(), times.tolist()):
            points.append((t, key, s, v))
    points.sort()
    lines = [
        json.dumps({"key": k, "step": s, "value": v, "timestamp": iso_ms(t)}, allow_nan=False)
        for t, k, s, v in points
    ]
    write_text(path, "\n".join(lines))


# --------------------------------------------------------------------------------------------
# Charts (rendered with vl-convert; small, scale 1)
# --------------------------------------------------------------------------------------------

CHART_CONFIG = {"view": {"stroke": None}, "axis": {"grid": True, "gridOpacity": 0.4}}


def _spec(body: dict, title: str, width: int, height: int) -> dict:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": title,
        "width": width,
        "height": height,
        "background": "white",
        "config": CHART_CONFIG,
        **body,
    }


def render_png(spec: dict) -> bytes:
    return bytes(vlc.vegalite_to_png(spec, scale=1))


def render_svg(spec: dict) -> str:
    return vlc.vegalite_to_svg(spec)


def loss_curve_spec(series: Series, title: str, every: int = 20) -> dict:
    rows = []
    for key, steps, values, _ in series.chunks:
        if key not in ("train/loss", "val/loss"):
            continue
        stride = every if key == "train/loss" else 1
        for s, v in zip(steps[::stride].tolist(), values[::stride].tolist()):
            if math.isfinite(v):
                rows.append({"step": s, "loss": r(v), "split": key.split("/")[0]})
    body = {
        "data": {"values": rows},
        "mark": {"type": "line", "strokeWidth": 1.5},
        "encoding": {
            "x": {"field": "step", "type": "quantitative", "title": "step"},
            "y": {"field": "loss", "type": "quantitative", "title": "loss", "scale": {"type": "log"}},
            "color": {"field": "split", "type": "nominal", "title": None},
        },
    }
    return _spec(body, title, 340, 200)


def roc_spec(fpr: np.ndarray, tpr: np.ndarray, auc: float, title: str) -> dict:
    idx = np.unique(np.linspace(0, len(fpr) - 1, 120).astype(int))
    rows = [{"fpr": r(fpr[i]), "tpr": r(tpr[i])} for i in idx]
    body = {
        "layer": [
            {
                "data": {"values": [{"fpr": 0, "tpr": 0}, {"fpr": 1, "tpr": 1}]},
                "mark": {"type": "line", "strokeDash": [4, 4], "color": "#999"},
                "encoding": {
                    "x": {"field": "fpr", "type": "quantitative"},
                    "y": {"field": "tpr", "type": "quantitative"},
                },
            },
            {
                "data": {"values": rows},
                "mark": {"type": "line", "interpolate": "step-after"},
                "encoding": {
                    "x": {"field": "fpr", "type": "quantitative", "title": "false positive rate"},
                    "y": {"field": "tpr", "type": "quantitative", "title": "true positive rate"},
                },
            },
        ]
    }
    return _spec(body, f"{title} (AUC {auc:.3f})", 260, 260)


def confusion_spec(labels: list[str], matrix: np.ndarray, title: str, size: int) -> dict:
    rows = [
        {"actual": labels[i], "predicted": labels[j], "count": int(matrix[i, j])}
        for i in range(len(labels))
        for j in range(len(labels))
    ]
    threshold = float(matrix.max()) / 2
    enc = {
        "x": {"field": "predicted", "type": "ordinal", "sort": labels},
        "y": {"field": "actual", "type": "ordinal", "sort": labels},
    }
    body = {
        "data": {"values": rows},
        "encoding": enc,
        "layer": [
            {
                "mark": "rect",
                "encoding": {"color": {"field": "count", "type": "quantitative", "legend": None}},
            },
            {
                "mark": {"type": "text", "fontSize": 9 if len(labels) > 4 else 13},
                "encoding": {
                    "text": {"field": "count", "type": "quantitative"},
                    "color": {
                        "condition": {"test": f"datum.count > {threshold}", "value": "white"},
                        "value": "black",
                    },
                },
            },
        ],
    }
    return _spec(body, title, size, size)


def sweep_spec(rows: list[dict], title: str) -> dict:
    body = {
        "data": {"values": rows},
        "mark": {"type": "point", "filled": True, "size": 60},
        "encoding": {
            "x": {"field": "lr", "type": "quantitative", "scale": {"type": "log"}, "title": "learning rate"},
            "y": {"field": "val_acc", "type": "quantitative", "scale": {"zero": False}, "title": "val/acc"},
            "color": {"field": "seed", "type": "nominal"},
        },
    }
    return _spec(body, title, 300, 200)


# --------------------------------------------------------------------------------------------
# Provenance and shared artifacts
# --------------------------------------------------------------------------------------------

CHURN_PACKAGES = {
    "numpy": "2.1.3",
    "pandas": "2.2.3",
    "pyarrow": "18.1.0",
    "scikit-learn": "1.5.2",
    "lightgbm": "4.5.0",
}
VISION_PACKAGES = {
    "numpy": "2.1.3",
    "torch": "2.4.1",
    "torchvision": "0.19.1",
    "pillow": "11.0.0",
}
PIPELINE_PACKAGES = {"numpy": "2.1.3", "pandas": "2.2.3", "pyarrow": "18.1.0", "duckdb": "1.1.3"}

CPU_BOX = {"cpu": "AMD EPYC 7R13 (16 vCPU)", "gpus": FlowList(), "memory_gb": 64}
GPU_BOX = {"cpu": "AMD EPYC 7763 (32 vCPU)", "gpus": FlowList(["NVIDIA A100 80GB"]), "memory_gb": 128}
LAPTOP = {"cpu": "Apple M3 Pro (12 cores)", "gpus": FlowList(), "memory_gb": 36}


def provenance(
    *,
    commit: str,
    entry_point: str,
    command: str,
    packages: dict,
    hardware: dict,
    inputs: list,
    outputs: list,
    branch: str = "main",
    dirty: bool = False,
    diff: str | None = None,
    lockfile: str | None = None,
    container: dict | None = None,
    repo: str = REPO_URL,
    platform: str = "Linux-6.1.0-27-cloud-amd64-x86_64-with-glibc2.36",
) -> dict:
    code = {"repo": repo, "commit": commit_for(commit), "branch": branch, "dirty": dirty}
    if diff:
        code["diff"] = diff
    code["entry_point"] = entry_point
    environment: dict = {"python": "3.11.9", "platform": platform, "packages": dict(packages)}
    if lockfile:
        environment["lockfile"] = lockfile
    if container:
        environment["container"] = container
    return {
        "code": code,
        "command": command,
        "environment": environment,
        "hardware": dict(hardware),
        "inputs": inputs,
        "outputs": outputs,
    }


def requirements_lock(packages: dict, extra: dict) -> str:
    lines = [
        "# This file was autogenerated by uv via the following command:",
        "#    uv pip compile requirements.in -o requirements.lock",
    ]
    for name, version in sorted({**packages, **extra}.items()):
        lines.append(f"{name}=={version} \\")
        lines.append(f"    --hash={digest(f'wheel:{name}=={version}')}")
    return "\n".join(lines)


def lfs_pointer(oid_digest: str, size: int) -> str:
    return f"version https://git-lfs.github.com/spec/v1\noid {oid_digest}\nsize {size}\n"


class RunWriter:
    """Writes one run folder: run.yaml, metrics, artifacts."""

    def __init__(self, root: Path, experiment: str, run: dict) -> None:
        self.experiment = experiment
        self.run = run
        self.dir = root / "runs" / experiment / run["id"]

    @property
    def ref(self) -> str:
        return f"{self.experiment}/{self.run['id']}"

    def artifact_text(self, rel: str, text: str) -> None:
        write_text(self.dir / "artifacts" / rel, text)

    def artifact_bytes(self, rel: str, data: bytes) -> None:
        write_bytes(self.dir / "artifacts" / rel, data)

    def write(self, series: Series | None = None, journal: Series | None = None) -> None:
        write_yaml(self.dir / "run.yaml", self.run)
        if series is not None:
            write_parquet(self.dir / "metrics.parquet", series.table())
        if journal is not None:
            write_journal(self.dir / "metrics.journal.jsonl", journal)


def make_run(
    *,
    run_id_: str,
    name: str,
    status: str,
    start: dt.datetime,
    end: dt.datetime | None,
    user: str,
    parent: str | None = None,
    tags: dict | None = None,
    params: dict | None = None,
    metrics: dict | None = None,
    notes: str | None = None,
    prov: dict,
) -> dict:
    run: dict = {
        "format": "sitegen.run/1",
        "id": run_id_,
        "name": name,
        "status": status,
        "start_time": start,
    }
    if end is not None:
        run["end_time"] = end
    run["user"] = user
    if parent:
        run["parent"] = parent
    if tags:
        run["tags"] = tags
    if params:
        run["params"] = params
    if metrics:
        run["metrics"] = metrics
    if notes:
        run["notes"] = notes
    run["provenance"] = prov
    return run


# --------------------------------------------------------------------------------------------
# Datasets
# --------------------------------------------------------------------------------------------

CHURN_DATA = {
    "slug": "churn-2026q3",
    "uri": "s3://example-ml-data/churn/2026q3/snapshot.parquet",
    "rows": 48213,
    "digest": digest("dataset:churn-2026q3"),
    "raw_uri": "s3://example-crm-exports/2026-10-01/customers_monthly.csv.gz",
    "raw_digest": digest("raw:crm-export-2026-10-01"),
}
CIFAR_DATA = {
    "slug": "cifar10",
    "uri": "s3://example-ml-data/cifar10/v1/",
    "rows": 60000,
    "digest": digest("dataset:cifar10"),
    "raw_uri": "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    "raw_digest": "sha256:6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
}
CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def churn_input() -> dict:
    return {
        "name": "churn-2026q3",
        "kind": "dataset",
        "role": "training",
        "uri": CHURN_DATA["uri"],
        "digest": CHURN_DATA["digest"],
        "rows": CHURN_DATA["rows"],
    }


def cifar_input() -> dict:
    return {
        "name": "cifar10",
        "kind": "dataset",
        "role": "training",
        "uri": CIFAR_DATA["uri"],
        "digest": CIFAR_DATA["digest"],
        "rows": CIFAR_DATA["rows"],
    }


def write_datasets(root: Path) -> None:
    write_yaml(
        root / "datasets" / "churn-2026q3.yaml",
        {
            "format": "sitegen.dataset/1",
            "name": "Customer churn snapshot, 2026 Q3",
            "uri": CHURN_DATA["uri"],
            "digest": CHURN_DATA["digest"],
            "description": (
                "One row per active subscription customer on 2026-09-30, with 90 days of account\n"
                "history and a label saying whether the customer cancelled within the next 60 days.\n"
                "Built by the `feature-pipeline` experiment from the October CRM export.\n"
            ),
            "size": 3914752,
            "rows": CHURN_DATA["rows"],
            "license": "proprietary",
            "schema": [
                {"name": "customer_id", "type": "string", "description": "Salted SHA-256 of the CRM id (pseudonymous)."},
                {"name": "tenure_months", "type": "int32", "description": "Months since the first paid invoice."},
                {"name": "plan", "type": "string", "description": "basic, plus, team or enterprise."},
                {"name": "contract", "type": "string", "description": "monthly or annual."},
                {"name": "monthly_charges", "type": "double", "description": "Average invoice over the last 3 months, EUR."},
                {"name": "support_tickets_90d", "type": "int32", "description": "Tickets opened in the last 90 days."},
                {"name": "payment_method", "type": "string", "description": "card, sepa or invoice."},
                {"name": "region", "type": "string", "description": "EU, UK, NA or APAC."},
                {"name": "seats", "type": "int32", "description": "Licensed seats on the account."},
                {"name": "churned", "type": "bool", "description": "Label: cancelled within 60 days of the snapshot."},
            ],
            "motivation": (
                "Created by the retention analytics team to train and evaluate churn models that\n"
                "prioritise outreach by customer success. Funded internally; no external sponsor.\n"
            ),
            "composition": {
                "instances": "Subscription accounts (businesses and individuals); no end-user data.",
                "count": "48,213 accounts; 11.8% positive (churned).",
                "splits": "train 33,749; validation 7,232; test 7,232.",
                "sampling": "All active accounts on the snapshot date; trial accounts excluded.",
                "missing_data": "monthly_charges is imputed for 0.4% of accounts billed for less than one month.",
                "sensitive_attributes": "None collected. Region is coarse (four values) and is used for evaluation slices.",
            },
            "collection": (
                "Exported from the CRM and billing databases by the nightly ETL job on 2026-10-01;\n"
                "labels observed until 2026-11-29. No data was collected specifically for this dataset.\n"
            ),
            "preprocessing": (
                "Deduplicated on customer_id, pseudonymised with a salted hash, imputed monthly_charges\n"
                "with the plan median, split 70/15/15 stratified by label and region (seed 13).\n"
            ),
            "uses": {
                "intended": "Training and evaluating churn-propensity models for outreach prioritisation.",
                "not_intended": "Pricing, credit or any decision that changes what a customer is offered or charged.",
            },
            "distribution": "Internal only, in the ML data bucket; access via the data-science IAM group.",
            "maintenance": {
                "owner": "alice (retention analytics)",
                "updates": "A new snapshot every quarter; old snapshots are kept for 2 years and then deleted.",
                "errata": "None known.",
            },
        },
    )
    write_yaml(
        root / "datasets" / "cifar10.yaml",
        {
            "format": "sitegen.dataset/1",
            "name": "CIFAR-10 (sharded)",
            "uri": CIFAR_DATA["uri"],
            "digest": CIFAR_DATA["digest"],
            "description": (
                "The [CIFAR-10](https://www.cs.toronto.edu/~kriz/cifar.html) image classification\n"
                "dataset (Krizhevsky, 2009), re-packed into Parquet shards with a fixed validation split.\n"
            ),
            "size": 171442176,
            "rows": CIFAR_DATA["rows"],
            "license": "research use, see https://www.cs.toronto.edu/~kriz/cifar.html",
            "schema": [
                {"name": "image", "type": "binary", "description": "32x32 RGB image, PNG-encoded."},
                {"name": "label", "type": "int64", "description": "Class index 0-9 (airplane ... truck)."},
                {"name": "split", "type": "string", "description": "train, validation or test."},
                {"name": "source_index", "type": "int64", "description": "Index in the original pickle batches."},
            ],
            "motivation": (
                "A small, well-understood benchmark used to compare optimizers and schedules before\n"
                "spending GPU time on the production image models.\n"
            ),
            "composition": {
                "instances": "60,000 colour images in 10 mutually exclusive classes, 6,000 per class.",
                "splits": "train 45,000; validation 5,000; test 10,000.",
                "labels": "Human-assigned class labels from the original release; a small fraction are known to be wrong.",
                "sensitive_attributes": "None by design, although some images show people.",
            },
            "collection": (
                "Images were collected from the web by the original authors (subset of the 80 million\n"
                "tiny images). This copy was downloaded from the authors' page and checked against\n"
                "the published archive digest.\n"
            ),
            "preprocessing": (
                "Decoded from the pickle batches, validation split = last 5,000 training images,\n"
                "re-encoded as PNG, written as 8 Parquet shards. No normalisation is stored.\n"
            ),
            "uses": {
                "intended": "Benchmarking training recipes; teaching.",
                "not_intended": "Any product decision; the images are too small and too old to say anything about real traffic.",
            },
            "distribution": "Original licence terms apply (research use). Internal mirror only.",
            "maintenance": {"owner": "bob (vision platform)", "updates": "Frozen; no updates planned."},
        },
    )


# --------------------------------------------------------------------------------------------
# Experiment: feature-pipeline
# --------------------------------------------------------------------------------------------


def build_feature_pipeline(root: Path) -> dict:
    exp = "feature-pipeline"
    write_yaml(
        root / "runs" / exp / "experiment.yaml",
        {
            "format": "sitegen.experiment/1",
            "title": "Feature pipeline",
            "description": (
                "Jobs that turn raw exports into the versioned datasets every model trains on.\n\n"
                "Each run records the raw input and the dataset it produced with their digests, so\n"
                "the lineage page can follow a model back to the exact export it came from.\n"
                "See `datasets/` for the datasheets.\n"
            ),
            "primary_metric": "rows_dropped_pct",
            "goal": "min",
        },
    )
    refs: dict = {}

    # -- prepare-cifar10 -------------------------------------------------------------------
    start = utc("2026-11-02T08:15:00")
    end = utc("2026-11-02T08:41:27")
    rid = run_id(start, "prepare-cifar10")
    series = Series()
    rng = rng_for("prepare-cifar10")
    shards = np.arange(8)
    t = ms(start) + 30_000 + shards * 190_000 + rng.integers(0, 5000, 8)
    series.add("shard_rows", shards, np.full(8, 7500.0), t)
    series.add("shard_mb", shards, f32(20.4 + rng.normal(0, 0.3, 8)), t)
    run = make_run(
        run_id_=rid,
        name="prepare-cifar10",
        status="finished",
        start=start,
        end=end,
        user="bob",
        tags={"team": "vision", "stage": "data"},
        params={"source": CIFAR_DATA["raw_uri"], "shards": 8, "validation_size": 5000, "image_format": "png"},
        metrics={"rows_in": 60000, "rows_out": 60000, "rows_dropped_pct": 0.0, "duration_s": 1587.0},
        prov=provenance(
            commit="pipeline-cifar",
            entry_point="pipelines/cifar10.py",
            command="python pipelines/cifar10.py --shards 8 --out s3://example-ml-data/cifar10/v1/",
            packages=PIPELINE_PACKAGES,
            hardware=CPU_BOX,
            inputs=[
                {
                    "name": "cifar-10-python",
                    "kind": "dataset",
                    "role": "source",
                    "uri": CIFAR_DATA["raw_uri"],
                    "digest": CIFAR_DATA["raw_digest"],
                    "size": 170498071,
                }
            ],
            outputs=[
                {
                    "name": "cifar10",
                    "kind": "dataset",
                    "uri": CIFAR_DATA["uri"],
                    "digest": CIFAR_DATA["digest"],
                    "rows": CIFAR_DATA["rows"],
                    "size": 171442176,
                }
            ],
        ),
    )
    w = RunWriter(root, exp, run)
    log = [f"2026-11-02 08:15:{2 + i:02d},{100 * i:03d} INFO  {msg}" for i, msg in enumerate([
        "downloading cifar-10-python.tar.gz",
        f"archive digest ok: {CIFAR_DATA['raw_digest']}",
        "decoding 5 training batches and 1 test batch",
        "holding out the last 5000 training images as validation",
    ])]
    for i in range(8):
        log.append(f"2026-11-02 08:{16 + 3 * i:02d}:{(7 * i) % 60:02d},512 INFO  wrote shard {i:05d}-of-00008 (7500 rows)")
    log.append("2026-11-02 08:41:26,901 INFO  done: 60000 rows in 8 shards")
    w.artifact_text("preprocess.log", "\n".join(log))
    counts = io.StringIO()
    cw = csv.writer(counts, lineterminator="\n")
    cw.writerow(["class", "train", "validation", "test"])
    crng = rng_for("cifar-class-counts")
    val = 500 + crng.integers(-30, 31, 10)
    val[-1] = 5000 - val[:-1].sum()
    for c, v in zip(CIFAR_CLASSES, val.tolist()):
        cw.writerow([c, 5000 - v, v, 1000])
    w.artifact_text("class_counts.csv", counts.getvalue())
    w.write(series)
    refs["prepare-cifar10"] = w.ref

    # -- prepare-churn-2026q3 ----------------------------------------------------------------
    start = utc("2026-11-03T10:05:00")
    end = utc("2026-11-03T10:52:40")
    rid = run_id(start, "prepare-churn-2026q3")
    rng = rng_for("prepare-churn-2026q3")
    chunks = np.arange(1, 41)
    t = ms(start) + 60_000 + chunks * 68_000 + rng.integers(0, 4000, 40)
    rows_chunk = np.full(40, 1250.0)
    rows_chunk[-1] = 49012 - 1250 * 39
    series = Series()
    series.add("rows_processed", chunks, np.cumsum(rows_chunk), t)
    series.add("null_fraction", chunks, f32(np.clip(0.004 + rng.normal(0, 0.0012, 40), 0, 1)), t)
    series.add("throughput_rows_s", chunks, f32(rows_chunk / (68 + rng.normal(0, 3, 40))), t)
    pipeline_cfg = {
        "source": CHURN_DATA["raw_uri"],
        "snapshot_date": "2026-09-30",
        "label_window_days": 60,
        "dedupe_on": ["customer_id"],
        "pseudonymise": {"columns": ["customer_id"], "salt_secret": "vault:kv/churn/salt"},
        "impute": {"monthly_charges": "plan_median"},
        "split": {"train": 0.7, "validation": 0.15, "test": 0.15, "stratify": ["churned", "region"], "seed": 13},
        "output": CHURN_DATA["uri"],
    }
    quality_html = data_quality_html(rng_for("churn-quality"))
    run = make_run(
        run_id_=rid,
        name="prepare-churn-2026q3",
        status="finished",
        start=start,
        end=end,
        user="alice",
        tags={"team": "retention", "stage": "data"},
        params={
            "snapshot_date": "2026-09-30",
            "label_window_days": 60,
            "split": {"train": 0.7, "validation": 0.15, "test": 0.15, "seed": 13},
            "impute": {"monthly_charges": "plan_median"},
        },
        metrics={
            "rows_in": 49012,
            "rows_out": CHURN_DATA["rows"],
            "rows_dropped_pct": r(100 * (49012 - CHURN_DATA["rows"]) / 49012, 3),
            "positive_rate": 0.118,
            "duration_s": 2860.0,
        },
        notes=(
            "Q3 snapshot. 799 duplicate accounts (migrated from the old billing system) were dropped;\n"
            "see the data-quality report in the artifacts.\n\n"
            "| split | rows | churned |\n"
            "|---|---:|---:|\n"
            "| train | 33,749 | 11.8% |\n"
            "| validation | 7,232 | 11.8% |\n"
            "| test | 7,232 | 11.9% |\n\n"
            "The salt lives in Vault (`kv/churn/salt`), never in this repo.\n"
        ),
        prov=provenance(
            commit="pipeline-churn",
            entry_point="pipelines/churn_snapshot.py",
            command="python pipelines/churn_snapshot.py --config artifacts/pipeline.yaml",
            packages=PIPELINE_PACKAGES,
            lockfile="artifacts/requirements.lock",
            hardware=CPU_BOX,
            inputs=[
                {
                    "name": "crm-export-2026-10-01",
                    "kind": "dataset",
                    "role": "source",
                    "uri": CHURN_DATA["raw_uri"],
                    "digest": CHURN_DATA["raw_digest"],
                    "rows": 49012,
                }
            ],
            outputs=[
                {
                    "name": "churn-2026q3",
                    "kind": "dataset",
                    "uri": CHURN_DATA["uri"],
                    "digest": CHURN_DATA["digest"],
                    "rows": CHURN_DATA["rows"],
                    "size": 3914752,
                },
                {"name": "data-quality-report", "kind": "report", "path": "artifacts/data_quality.html",
                 "digest": text_digest(quality_html)},
            ],
        ),
    )
    w = RunWriter(root, exp, run)
    w.artifact_text("pipeline.yaml", yaml_text(pipeline_cfg))
    w.artifact_text("requirements.lock", requirements_lock(PIPELINE_PACKAGES, {"pyyaml": "6.0.2", "boto3": "1.35.60"}))
    w.artifact_text("data_quality.html", quality_html)
    w.write(series)
    refs["prepare-churn-2026q3"] = w.ref

    # -- prepare-churn-2026q4: failed --------------------------------------------------------
    start = utc("2026-11-25T14:02:11")
    end = utc("2026-11-25T14:03:05")
    rid = run_id(start, "prepare-churn-2026q4")
    run = make_run(
        run_id_=rid,
        name="prepare-churn-2026q4",
        status="failed",
        start=start,
        end=end,
        user="alice",
        tags={"team": "retention", "stage": "data"},
        params={"snapshot_date": "2026-12-31", "label_window_days": 60, "split": {"seed": 13}},
        notes="First try on the January export: the CRM renamed `plan` to `plan_tier`. Traceback attached.\n",
        prov=provenance(
            commit="pipeline-churn-q4",
            branch="q4-snapshot",
            entry_point="pipelines/churn_snapshot.py",
            command="python pipelines/churn_snapshot.py --config configs/churn_2026q4.yaml",
            packages=PIPELINE_PACKAGES,
            hardware=LAPTOP,
            platform="macOS-15.1-arm64-arm-64bit",
            inputs=[
                {
                    "name": "crm-export-2026-11-25",
                    "kind": "dataset",
                    "role": "source",
                    "uri": "s3://example-crm-exports/2026-11-25/customers_monthly.csv.gz",
                    "digest": digest("raw:crm-export-2026-11-25"),
                }
            ],
            outputs=[],
        ),
    )
    w = RunWriter(root, exp, run)
    w.artifact_text("traceback.txt", TRACEBACK)
    w.write()
    refs["prepare-churn-2026q4"] = w.ref

    # -- backfill-events: crashed (still "running", journal only) ---------------------------
    start = utc("2026-11-26T22:40:00")
    rid = run_id(start, "backfill-events")
    rng = rng_for("backfill-events")
    n = 37
    steps = np.arange(1, n + 1)
    t = ms(start) + 45_000 + np.cumsum(rng.integers(55_000, 65_000, n))
    journal = Series()
    journal.add("rows_processed", steps, steps * 250_000.0, t)
    journal.add("throughput_rows_s", steps, f32(250_000 / (60 + rng.normal(0, 2.5, n))), t + 5)
    journal.add("memory_gb", steps, f32(np.minimum(6 + steps * 1.55 + rng.normal(0, 0.2, n), 61.8)), t + 9)
    run = make_run(
        run_id_=rid,
        name="backfill-events",
        status="running",
        start=start,
        end=None,
        user="chen",
        tags={"team": "retention", "stage": "data"},
        params={"since": "2026-01-01", "until": "2026-11-25", "chunk_rows": 250000, "workers": 8},
        prov=provenance(
            commit="backfill-events",
            branch="chen/event-features",
            entry_point="pipelines/backfill_events.py",
            command="python pipelines/backfill_events.py --since 2026-01-01 --workers 8",
            packages=PIPELINE_PACKAGES,
            hardware=CPU_BOX,
            inputs=[
                {
                    "name": "product-events",
                    "kind": "dataset",
                    "role": "source",
                    "uri": "s3://example-events/product/2026/",
                    "digest": digest("raw:product-events-2026"),
                }
            ],
            outputs=[],
        ),
    )
    w = RunWriter(root, exp, run)
    w.write(journal=journal)
    refs["backfill-events"] = w.ref
    return refs


TRACEBACK = """Traceback (most recent call last):
  File "/home/alice/src/vision-and-churn/pipelines/churn_snapshot.py", line 212, in <module>
    main()
  File "/home/alice/src/vision-and-churn/pipelines/churn_snapshot.py", line 198, in main
    frame = validate_schema(frame, EXPECTED_COLUMNS)
            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/home/alice/src/vision-and-churn/pipelines/schema.py", line 41, in validate_schema
    raise KeyError(f"missing columns: {sorted(missing)}")
KeyError: "missing columns: ['plan']"
"""


def data_quality_html(rng: np.random.Generator) -> str:
    cols = [
        ("customer_id", "string", 0.0, 48213),
        ("tenure_months", "int32", 0.0, 97),
        ("plan", "string", 0.0, 4),
        ("contract", "string", 0.0, 2),
        ("monthly_charges", "double", 0.41, 9120),
        ("support_tickets_90d", "int32", 0.0, 31),
        ("payment_method", "string", 0.02, 3),
        ("region", "string", 0.0, 4),
        ("seats", "int32", 0.0, 412),
        ("churned", "bool", 0.0, 2),
    ]
    rows = "\n".join(
        f"      <tr><td><code>{n}</code></td><td>{t}</td><td class=num>{nul:.2f}%</td><td class=num>{d:,}</td></tr>"
        for n, t, nul, d in cols
    )
    bars = "\n".join(
        f'      <div class="bar" style="height:{int(h)}px" title="{lo}-{lo + 6} months"></div>'
        for lo, h in zip(range(0, 96, 6), 20 + 80 * np.exp(-np.arange(16) / 5) + rng.integers(0, 8, 16))
    )
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Data quality: churn-2026q3</title>
  <style>
    body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 52rem; }}
    table {{ border-collapse: collapse; }}
    th, td {{ border-bottom: 1px solid #ddd; padding: .3rem .8rem; text-align: left; }}
    td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
    .ok {{ color: #1a7f37; }} .warn {{ color: #9a6700; }}
    .hist {{ display: flex; align-items: flex-end; gap: 2px; height: 110px; }}
    .bar {{ width: 18px; background: #4c78a8; }}
  </style>
</head>
<body>
  <h1>Data quality: churn-2026q3</h1>
  <p>Snapshot 2026-09-30, built from <code>customers_monthly.csv.gz</code> (CRM export of 2026-10-01).</p>
  <h2>Checks</h2>
  <ul>
    <li class="ok">customer_id unique after dedupe (799 duplicates removed)</li>
    <li class="ok">label rate 11.8% (expected 9-14%)</li>
    <li class="warn">monthly_charges missing for 0.41% of rows (imputed with plan median)</li>
  </ul>
  <h2>Columns</h2>
  <table>
    <thead><tr><th>column</th><th>type</th><th>null</th><th>distinct</th></tr></thead>
    <tbody>
{rows}
    </tbody>
  </table>
  <h2>Tenure (months)</h2>
  <div class="hist">
{bars}
  </div>
</body>
</html>
"""


# --------------------------------------------------------------------------------------------
# Experiment: churn
# --------------------------------------------------------------------------------------------

CHURN_FEATURES = [
    "tenure_months",
    "plan",
    "contract",
    "monthly_charges",
    "support_tickets_90d",
    "payment_method",
    "region",
    "seats",
]


def roc_from_scores(rng: np.random.Generator, target_auc: float, n: int = 7232, pos_rate: float = 0.118):
    """Simulated test scores with roughly ``target_auc``; returns fpr, tpr, auc, labels, scores."""
    labels = rng.random(n) < pos_rate
    # binormal model: AUC = Phi(d / sqrt(2))
    d = math.sqrt(2) * _norm_ppf(target_auc)
    z = rng.normal(0, 1, n) + d * labels
    scores = 1 / (1 + np.exp(-(z - d)))
    order = np.argsort(-scores, kind="stable")
    y = labels[order]
    tps = np.cumsum(y)
    fps = np.cumsum(~y)
    tpr = np.concatenate([[0.0], tps / tps[-1]])
    fpr = np.concatenate([[0.0], fps / fps[-1]])
    auc = float(np.trapezoid(tpr, fpr))
    return fpr, tpr, auc, labels, scores


def _norm_ppf(p: float) -> float:
    """Inverse standard normal CDF by bisection (enough for a generator)."""
    lo, hi = -8.0, 8.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if 0.5 * (1 + math.erf(mid / math.sqrt(2))) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def classification_metrics(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict:
    pred = scores >= threshold
    tp = int(np.sum(pred & labels))
    fp = int(np.sum(pred & ~labels))
    fn = int(np.sum(~pred & labels))
    tn = int(np.sum(~pred & ~labels))
    precision = tp / max(tp + fp, 1)
    recall = tp / max(tp + fn, 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-12)
    p = np.clip(scores, 1e-6, 1 - 1e-6)
    log_loss = float(-np.mean(labels * np.log(p) + (~labels) * np.log(1 - p)))
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "log_loss": log_loss,
        "confusion": np.array([[tn, fp], [fn, tp]]),
    }


CHURN_RUNS = [
    # name, user, start, family, params, target auc, commit, extras
    ("logreg-baseline", "alice", "2026-11-05T09:12:41", "logreg",
     {"model": {"type": "logistic_regression", "C": 1.0, "penalty": "l2", "class_weight": None}}, 0.842),
    ("logreg-l1", "alice", "2026-11-05T11:03:17", "logreg",
     {"model": {"type": "logistic_regression", "C": 0.1, "penalty": "l1", "class_weight": "balanced"}}, 0.836),
    ("random-forest-300", "bob", "2026-11-06T13:47:05", "rf",
     {"model": {"type": "random_forest", "n_estimators": 300, "max_depth": 12, "min_samples_leaf": 20}}, 0.871),
    ("random-forest-800-balanced", "bob", "2026-11-07T10:20:58", "rf",
     {"model": {"type": "random_forest", "n_estimators": 800, "max_depth": 16, "min_samples_leaf": 10,
                "class_weight": "balanced_subsample"}}, 0.878),
    ("gbm-baseline", "alice", "2026-11-08T15:31:22", "gbm",
     {"model": {"type": "lightgbm", "learning_rate": 0.1, "num_leaves": 63, "n_rounds": 300,
                "early_stopping_rounds": 50}}, 0.889),
    ("gbm-tuned", "alice", "2026-11-10T09:44:09", "gbm",
     {"model": {"type": "lightgbm", "learning_rate": 0.05, "num_leaves": 31, "n_rounds": 800,
                "min_child_samples": 40, "feature_fraction": 0.8, "early_stopping_rounds": 50}}, 0.903),
    ("gbm-no-tenure", "chen", "2026-11-13T16:05:30", "gbm",
     {"model": {"type": "lightgbm", "learning_rate": 0.05, "num_leaves": 31, "n_rounds": 800,
                "early_stopping_rounds": 50}, "drop_features": FlowList(["tenure_months"])}, 0.861),
    ("gbm-tuned-monotone", "chen", "2026-11-21T10:18:44", "gbm",
     {"model": {"type": "lightgbm", "learning_rate": 0.05, "num_leaves": 31, "n_rounds": 800,
                "min_child_samples": 40, "feature_fraction": 0.8, "early_stopping_rounds": 50,
                "monotone_constraints": {"tenure_months": -1, "support_tickets_90d": 1}}}, 0.906),
]


def churn_history(family: str, name: str, params: dict, auc: float, log_loss: float, t0: int) -> tuple[Series, int]:
    """Per-iteration curves; returns the series and the number of iterations."""
    rng = rng_for(f"churn-history:{name}")
    series = Series()
    if family == "logreg":
        n = 38 if params["model"]["penalty"] == "l2" else 61
        it = np.arange(1, n + 1)
        loss = log_loss + (0.693 - log_loss) * np.exp(-it / 5.0) + np.abs(rng.normal(0, 0.0015, n)) * np.exp(-it / 20)
        series.add("train/log_loss", it, f32(loss), t0 + it * 120)
        return series, n
    if family == "rf":
        trees = np.arange(10, params["model"]["n_estimators"] + 1, 10)
        oob = (auc - 0.004) - 0.09 * np.exp(-trees / 60) + rng.normal(0, 0.0015, len(trees))
        series.add("oob_auc", trees, f32(oob), t0 + trees * 410)
        return series, int(trees[-1])
    # gradient boosting: train and validation curves with early stopping
    lr = params["model"]["learning_rate"]
    max_rounds = params["model"]["n_rounds"]
    best = int({0.1: 212, 0.05: 0}.get(lr, 0)) or int(540 + rng.integers(0, 120))
    stop = min(best + params["model"]["early_stopping_rounds"], max_rounds)
    rounds = np.arange(1, stop + 1)
    speed = 32.0 * (0.1 / lr)
    train = log_loss - 0.06 + (0.36 - log_loss + 0.06) * np.exp(-rounds / speed) - 0.00005 * rounds
    val = log_loss + (0.36 - log_loss) * np.exp(-rounds / speed) + 2.5e-7 * np.maximum(rounds - best, 0) ** 2
    val = val + rng.normal(0, 0.0008, stop)
    val_auc = auc - (auc - 0.74) * np.exp(-rounds / (speed * 0.8)) + rng.normal(0, 0.0012, stop)
    t = t0 + rounds * 90
    series.add("train/log_loss", rounds, f32(train), t)
    series.add("val/log_loss", rounds, f32(val), t + 3)
    series.add("val/auc", rounds, f32(val_auc), t + 5)
    return series, best


def build_churn(root: Path) -> dict:
    exp = "churn"
    write_yaml(
        root / "runs" / exp / "experiment.yaml",
        {
            "format": "sitegen.experiment/1",
            "title": "Customer churn",
            "description": (
                "Predict which subscription customers cancel within 60 days, so customer success can\n"
                "call the right accounts first. Trained on the **churn-2026q3** snapshot.\n\n"
                "- primary metric: test **AUC** (ranking quality is what outreach needs)\n"
                "- also tracked: F1, precision and recall at the 0.5 threshold, and log loss\n\n"
                "Models that ship are registered as `churn` in the model registry.\n"
            ),
            "primary_metric": "auc",
            "goal": "max",
        },
    )
    refs: dict = {}
    for name, user, start_s, family, params, target_auc in CHURN_RUNS:
        rng = rng_for(f"churn:{name}")
        start = utc(start_s)
        rid = run_id(start, name)
        fpr, tpr, auc, labels, scores = roc_from_scores(rng, target_auc)
        cm = classification_metrics(labels, scores, 0.5)
        series, iters = churn_history(family, name, params, auc, cm["log_loss"], ms(start) + 20_000)
        duration = {"logreg": 95, "rf": 610, "gbm": 840}[family] + int(rng.integers(0, 60))
        end = start + dt.timedelta(seconds=duration)
        full_params = {
            "features": [f for f in CHURN_FEATURES if f not in params.get("drop_features", [])],
            **{k: v for k, v in params.items() if k != "drop_features"},
            "threshold": 0.5,
            "seed": 13,
        }
        if "drop_features" in params:
            full_params["drop_features"] = params["drop_features"]
        metrics = {
            "auc": r(auc),
            "f1": r(cm["f1"]),
            "precision": r(cm["precision"]),
            "recall": r(cm["recall"]),
            "log_loss": r(cm["log_loss"]),
            "train_time_s": float(duration - 15),
        }
        if family == "gbm":
            metrics["best_iteration"] = iters
        model_digest = digest(f"model:churn:{name}")
        outputs: list = []
        artifacts: dict[str, str | bytes] = {}
        repo = REPO_URL
        dirty, diff, branch = False, None, "main"
        lockfile = None
        notes = None
        commit = f"churn-{family}"
        if name == "logreg-baseline":
            coefs = {f: r(c, 4) for f, c in zip(CHURN_FEATURES, rng.normal(0, 0.6, len(CHURN_FEATURES)))}
            artifacts["model.json"] = json.dumps(
                {"type": "logistic_regression", "intercept": -2.0113, "coefficients": coefs, "threshold": 0.5},
                indent=2,
            )
            model_digest = text_digest(artifacts["model.json"])  # the real file: the build checks it
            outputs.append({"name": "model", "kind": "model", "path": "artifacts/model.json", "digest": model_digest})
            artifacts["roc_curve.svg"] = render_svg(roc_spec(fpr, tpr, auc, "ROC, logreg-baseline"))
            artifacts["requirements.lock"] = requirements_lock(CHURN_PACKAGES, {"joblib": "1.4.2", "scipy": "1.14.1"})
            lockfile = "artifacts/requirements.lock"
            notes = "Plain L2 logistic regression on standardised numerics and one-hot categoricals. The bar to beat.\n"
        elif name == "random-forest-300":
            dirty, diff = True, "artifacts/code.diff"
            artifacts["code.diff"] = CODE_DIFF
            imp = np.sort(rng.dirichlet(np.ones(len(CHURN_FEATURES)) * 2))[::-1]
            buf = io.StringIO()
            cw = csv.writer(buf, lineterminator="\n")
            cw.writerow(["feature", "importance"])
            for f, v in zip(["tenure_months", "contract", "support_tickets_90d", "monthly_charges", "plan", "seats",
                             "payment_method", "region"], imp.tolist()):
                cw.writerow([f, f"{v:.4f}"])
            artifacts["feature_importance.csv"] = buf.getvalue()
            notes = (
                "Uncommitted change to the tenure bucketing (see `code.diff`); numbers are not\n"
                "comparable with the logreg runs until that lands.\n"
            )
        elif name == "gbm-tuned":
            outputs.append(
                {
                    "name": "model",
                    "kind": "model",
                    "uri": f"s3://example-ml-artifacts/churn/{rid}/model.lgb.txt",
                    "digest": model_digest,
                    "size": 4812331,
                }
            )
            artifacts["roc_curve.png"] = render_png(roc_spec(fpr, tpr, auc, "ROC, gbm-tuned"))
            artifacts["confusion_matrix.svg"] = render_svg(
                confusion_spec(["stay", "churn"], cm["confusion"], "Confusion matrix (test, t=0.5)", 200)
            )
            artifacts["predictions_sample.csv"] = churn_predictions_csv(rng, labels, scores)
            artifacts["config.yaml"] = yaml_text({"model": params["model"], "features": list(CHURN_FEATURES),
                                                  "threshold": 0.5, "seed": 13})
            artifacts["report.md"] = churn_report_md(auc, cm, rid)
            artifacts["requirements.lock"] = requirements_lock(CHURN_PACKAGES, {"joblib": "1.4.2", "scipy": "1.14.1"})
            lockfile = "artifacts/requirements.lock"
            notes = (
                "Tuned with a 60-trial search over `learning_rate`, `num_leaves` and\n"
                "`min_child_samples` (search code in `tuning/churn_search.py`).\n\n"
                "| setting | gbm-baseline | gbm-tuned |\n"
                "|---|---:|---:|\n"
                "| learning_rate | 0.1 | 0.05 |\n"
                "| num_leaves | 63 | 31 |\n"
                f"| best iteration | 212 | {iters} |\n\n"
                "Calibration looks fine without isotonic post-processing. Parameter reference:\n"
                "[LightGBM parameters](https://lightgbm.readthedocs.io/en/stable/Parameters.html).\n"
                "The model file is too big for git and lives in S3 (see outputs).\n"
            )
        elif name == "gbm-no-tenure":
            repo = "https://chen:hunter2@git.example.org/retention/vision-and-churn.git"
            branch = "chen/ablations"
            commit = "churn-ablations"
            notes = "Ablation: without `tenure_months` AUC drops by about 0.04, so tenure carries real signal.\n"
        elif name == "gbm-tuned-monotone":
            outputs.append(
                {
                    "name": "model",
                    "kind": "model",
                    "uri": f"s3://example-ml-artifacts/churn/{rid}/model.lgb.txt",
                    "digest": model_digest,
                    "size": 4630954,
                }
            )
            artifacts["roc_curve.svg"] = render_svg(roc_spec(fpr, tpr, auc, "ROC, gbm-tuned-monotone"))
            artifacts["config.yaml"] = yaml_text({"model": params["model"], "features": list(CHURN_FEATURES),
                                                  "threshold": 0.5, "seed": 13})
            commit = "churn-gbm-monotone"
            branch = "chen/monotone"
        prov = provenance(
            commit=commit,
            repo=repo,
            branch=branch,
            dirty=dirty,
            diff=diff,
            entry_point="train_churn.py",
            command=f"python train_churn.py --config configs/{name}.yaml",
            packages=CHURN_PACKAGES,
            lockfile=lockfile,
            hardware=CPU_BOX if family != "logreg" else LAPTOP,
            platform="macOS-15.1-arm64-arm-64bit" if family == "logreg" else
            "Linux-6.1.0-27-cloud-amd64-x86_64-with-glibc2.36",
            inputs=[churn_input()],
            outputs=outputs,
        )
        run = make_run(
            run_id_=rid,
            name=name,
            status="finished",
            start=start,
            end=end,
            user=user,
            tags={"team": "retention", "family": family},
            params=full_params,
            metrics=metrics,
            notes=notes,
            prov=prov,
        )
        w = RunWriter(root, exp, run)
        for rel, content in artifacts.items():
            if isinstance(content, bytes):
                w.artifact_bytes(rel, content)
            else:
                w.artifact_text(rel, content)
        w.write(series)
        refs[name] = {"ref": w.ref, "id": rid, "auc": auc, "cm": cm, "end": end, "digest": model_digest}
    return refs


CODE_DIFF = """diff --git a/src/churn/features.py b/src/churn/features.py
index 4b1c2e0..9d7f3a1 100644
--- a/src/churn/features.py
+++ b/src/churn/features.py
@@ -18,11 +18,13 @@ def tenure_bucket(months: int) -> str:
-    if months < 12:
-        return "<1y"
-    if months < 36:
-        return "1-3y"
-    return ">3y"
+    if months < 6:
+        return "<6m"
+    if months < 12:
+        return "6-12m"
+    if months < 36:
+        return "1-3y"
+    return ">3y"
@@ -52,7 +54,7 @@ def build_features(frame):
-    frame["tickets_per_seat"] = frame.support_tickets_90d / frame.seats
+    frame["tickets_per_seat"] = frame.support_tickets_90d / frame.seats.clip(lower=1)
"""


def churn_predictions_csv(rng: np.random.Generator, labels: np.ndarray, scores: np.ndarray) -> str:
    idx = np.sort(rng.choice(len(labels), size=60, replace=False))
    plans = np.array(["basic", "plus", "team", "enterprise"])
    buf = io.StringIO()
    cw = csv.writer(buf, lineterminator="\n")
    cw.writerow(["customer_id", "tenure_months", "plan", "score", "predicted", "churned"])
    for i in idx.tolist():
        cid = hashlib.sha256(f"customer:{i}".encode()).hexdigest()[:16]
        tenure = int(rng.integers(1, 12) if labels[i] else rng.integers(1, 96))
        cw.writerow([cid, tenure, plans[rng.integers(0, 4)], f"{scores[i]:.4f}", int(scores[i] >= 0.5), int(labels[i])])
    return buf.getvalue()


def churn_report_md(auc: float, cm: dict, rid: str) -> str:
    return f"""# gbm-tuned: evaluation report

Run `{rid}` on the **churn-2026q3** test split (7,232 accounts).

## Headline

| metric | value |
|---|---:|
| AUC | {auc:.3f} |
| F1 @ 0.5 | {cm['f1']:.3f} |
| precision @ 0.5 | {cm['precision']:.3f} |
| recall @ 0.5 | {cm['recall']:.3f} |
| log loss | {cm['log_loss']:.3f} |

## Slices

| slice | accounts | AUC |
|---|---:|---:|
| tenure < 6 months | 1,204 | {auc - 0.041:.3f} |
| plan = enterprise | 512 | {auc - 0.018:.3f} |
| region = APAC | 688 | {auc - 0.027:.3f} |

New customers are the hardest slice; see the discussion in
[the retention wiki](https://wiki.example.org/retention/churn-model#new-customers).

![ROC curve](roc_curve.png)
"""


# --------------------------------------------------------------------------------------------
# Experiment: cifar10-resnet
# --------------------------------------------------------------------------------------------

LRS = [0.001, 0.01, 0.1]
SEEDS = [0, 1, 2]
STEPS = 2400  # 24 epochs of 100 steps (batch 450 on 45k training images)
WARMUP = 100
FINAL_VAL_ACC = {
    ("adamw", 0.001): 0.906,
    ("adamw", 0.01): 0.889,
    ("adamw", 0.1): 0.641,
    ("sgd", 0.001): 0.842,
    ("sgd", 0.01): 0.903,
    ("sgd", 0.1): 0.921,
}
TAU = {0.001: 520.0, 0.01: 330.0, 0.1: 260.0}
DIVERGED = ("adamw", 0.1, 2)


def lr_schedule(lr: float, steps: np.ndarray, total: int) -> np.ndarray:
    warm = np.minimum(1.0, steps / WARMUP)
    progress = np.clip((steps - WARMUP) / (total - WARMUP), 0, 1)
    return lr * warm * 0.5 * (1 + np.cos(np.pi * progress))


def cifar_curves(key: str, lr: float, final_acc: float, tau: float, total: int, t0: int, step_ms: float,
                 noisy: bool = False, diverge_at: int | None = None) -> tuple[Series, dict]:
    """Train curves every step, validation every 100 steps, lr every 10 steps."""
    rng = rng_for(f"curves:{key}")
    last = total if diverge_at is None else diverge_at + 20
    steps = np.arange(1, last + 1)
    times = t0 + np.round(steps * step_ms + rng.normal(0, 40, last)).astype(np.int64)
    prog = (1 - np.exp(-steps / tau)) / (1 - np.exp(-total / tau))
    anneal = (steps / total) ** 2
    final_train_loss = 0.12 + (0.95 - final_acc) * 1.6
    loss_mean = final_train_loss + (2.303 - final_train_loss) * (1 - prog) + 0.18 * (1 - anneal) * prog
    sigma = 0.16 if noisy else 0.07
    loss = loss_mean * np.exp(rng.normal(0, sigma, last))
    # a few spikes that decay over ~30 steps
    n_spikes = 6 if noisy else 2
    for s in rng.choice(np.arange(300, min(last, total - 200)), size=n_spikes, replace=False):
        height = rng.uniform(0.6, 1.8)
        span = np.arange(s, min(s + 60, last))
        loss[span - 1] *= 1 + height * np.exp(-(span - s) / 12.0)
    train_acc_mean = 0.1 + (min(final_acc + 0.05, 0.995) - 0.1) * prog ** 0.9
    acc = np.clip(train_acc_mean - 0.12 * (loss - loss_mean) + rng.normal(0, 0.018, last), 0, 1)
    grad_norm = 2.5 * np.exp(-steps / 600) + 0.6 + np.abs(rng.normal(0, 0.15, last))
    if diverge_at is not None:
        blow = steps >= diverge_at - 60
        loss[blow] = loss[blow] * np.exp((steps[blow] - (diverge_at - 60)) / 7.0)
        grad_norm[blow] = grad_norm[blow] * np.exp((steps[blow] - (diverge_at - 60)) / 5.0)
        acc[blow] = np.clip(acc[blow] * np.exp(-(steps[blow] - (diverge_at - 60)) / 25.0), 0.1, 1)
        loss[steps == diverge_at] = np.inf
        grad_norm[steps == diverge_at] = np.inf
        loss[steps > diverge_at] = np.nan
        grad_norm[steps > diverge_at] = np.nan
        acc[steps > diverge_at] = 0.1
    series = Series()
    series.add("train/loss", steps, f32(loss), times)
    series.add("train/acc", steps, f32(acc), times)
    every10 = steps[steps % 10 == 0]
    series.add("train/grad_norm", every10, f32(grad_norm[every10 - 1]), times[every10 - 1] + 1)
    series.add("lr", every10, lr_schedule(lr, every10, total), times[every10 - 1] + 2)
    vsteps = steps[steps % 100 == 0]
    vprog = (1 - np.exp(-vsteps / (tau * 1.1))) / (1 - np.exp(-total / (tau * 1.1)))
    vanneal = (vsteps / total) ** 2
    val_noise = rng.normal(0, 0.006, len(vsteps)) * (1 - 0.8 * vanneal)
    val_acc = 0.1 + (final_acc - 0.012 * (1 - vanneal) - 0.1) * vprog + val_noise
    val_loss = 0.22 + 2.1 * (1 - (val_acc - 0.1) / 0.9) ** 1.25 + rng.normal(0, 0.01, len(vsteps))
    if diverge_at is not None:
        bad = vsteps >= diverge_at - 60
        val_acc[bad] = 0.1
        val_loss[bad] = 8.4e3
    vtimes = times[vsteps - 1] + 14_000
    series.add("val/acc", vsteps, f32(val_acc), vtimes)
    series.add("val/loss", vsteps, f32(val_loss), vtimes + 1)
    info = {"last_step": last, "end_ms": int(times[-1]), "val_acc": float(val_acc[-1]),
            "val_loss": float(val_loss[-1]), "best_val_acc": float(np.max(val_acc))}
    return series, info


def cifar_params(opt: str, lr: float, seed: int, depth: int = 20, epochs: int = 24) -> dict:
    optimizer = {"name": opt, "weight_decay": 0.05 if opt == "adamw" else 0.0005, "momentum": 0.9}
    if opt == "adamw":
        optimizer["beta2"] = 0.999
    else:
        optimizer["nesterov"] = True
    return {
        "lr": lr,
        "seed": seed,
        "epochs": epochs,
        "batch_size": 450,
        "optimizer": optimizer,
        "schedule": {"name": "cosine", "warmup_steps": WARMUP},
        "model": {"arch": "resnet", "depth": depth, "width": 16},
        "data": {
            "dataset": "cifar10",
            "augmentation": {"random_crop": 4, "horizontal_flip": True, "cutout": 8 if depth > 20 else 0},
            "normalize": True,
        },
        "precision": "bf16",
    }


def cifar_confusion(rng: np.random.Generator, acc: float) -> np.ndarray:
    # the class each class is most often confused with (cat<->dog, car<->truck, plane<->ship, ...)
    hard = {0: 8, 1: 9, 2: 4, 3: 5, 4: 7, 5: 3, 6: 3, 7: 4, 8: 0, 9: 1}
    m = np.zeros((10, 10), dtype=int)
    for i in range(10):
        cls_acc = np.clip(acc + {3: -0.09, 5: -0.06, 2: -0.04, 1: 0.04, 6: 0.03, 9: 0.03}.get(i, 0.0)
                          + rng.normal(0, 0.006), 0, 1)
        correct = int(round(1000 * cls_acc))
        wrong = 1000 - correct
        to_hard = int(round(wrong * 0.45))
        rest = rng.multinomial(wrong - to_hard, np.full(8, 1 / 8))
        others = [j for j in range(10) if j not in (i, hard[i])]
        m[i, i] = correct
        m[i, hard[i]] += to_hard
        for j, v in zip(others, rest.tolist()):
            m[i, j] += v
    return m


def cifar_predictions_csv(rng: np.random.Generator, m: np.ndarray) -> str:
    buf = io.StringIO()
    cw = csv.writer(buf, lineterminator="\n")
    cw.writerow(["index", "label", "predicted", "confidence"])
    for idx in np.sort(rng.choice(10000, size=50, replace=False)).tolist():
        label = idx % 10
        pred = int(rng.choice(10, p=m[label] / m[label].sum()))
        conf = rng.uniform(0.85, 0.999) if pred == label else rng.uniform(0.35, 0.8)
        cw.writerow([idx, CIFAR_CLASSES[label], CIFAR_CLASSES[pred], f"{conf:.3f}"])
    return buf.getvalue()


def train_log(name: str, series: Series, start: dt.datetime, lr: float, diverged_at: int | None) -> str:
    chunks = {k: (s, v, t) for k, s, v, t in series.chunks}
    ls, lv, lt = chunks["train/loss"]
    _, av, _ = chunks["train/acc"]
    vs, vv, vt = chunks["val/acc"]
    _, vl, _ = chunks["val/loss"]
    out = [
        f"{start:%Y-%m-%d %H:%M:%S},000 INFO  run {name}: resnet on cifar10, peak lr {lr:g}",
        f"{start:%Y-%m-%d %H:%M:%S},004 INFO  loading shards from {CIFAR_DATA['uri']}",
    ]
    for i, step in enumerate(vs.tolist()):
        j = step - 1
        when = dt.datetime.fromtimestamp(lt[j] / 1000, tz=UTC)
        vwhen = dt.datetime.fromtimestamp(vt[i] / 1000, tz=UTC)
        out.append(f"{when:%Y-%m-%d %H:%M:%S},{lt[j] % 1000:03d} INFO  step {step:5d} loss {lv[j]:.4f} "
                   f"acc {av[j]:.4f}")
        out.append(f"{vwhen:%Y-%m-%d %H:%M:%S},{vt[i] % 1000:03d} INFO  epoch {step // 100:3d} "
                   f"val/loss {vl[i]:.4f} val/acc {vv[i]:.4f}")
    if diverged_at is not None:
        j = diverged_at - 1
        when = dt.datetime.fromtimestamp(lt[j] / 1000, tz=UTC)
        out.append(f"{when:%Y-%m-%d %H:%M:%S},{lt[j] % 1000:03d} WARNING loss is inf at step {diverged_at}")
        j = int(ls[-1]) - 1
        when = dt.datetime.fromtimestamp(lt[j] / 1000, tz=UTC)
        out.append(f"{when:%Y-%m-%d %H:%M:%S},{lt[j] % 1000:03d} ERROR non-finite loss for 20 steps; "
                   "divergence watchdog sent SIGTERM")
    return "\n".join(out)


def sweep_markdown(opt: str, results: list[dict]) -> str:
    lines = [
        f"# {opt} sweep",
        "",
        "Final validation accuracy per trial (24 epochs, ResNet-20).",
        "",
        "| lr | seed | val/acc | test/acc | status |",
        "|---:|---:|---:|---:|---|",
    ]
    for res in results:
        test = f"{res['test_acc']:.4f}" if res["test_acc"] is not None else "-"
        lines.append(f"| {res['lr']:g} | {res['seed']} | {res['val_acc']:.4f} | {test} | {res['status']} |")
    lines += [
        "",
        "Recipe after [He et al., 2016](https://arxiv.org/abs/1512.03385), section 4.2.",
    ]
    return "\n".join(lines)


def build_cifar(root: Path) -> dict:
    exp = "cifar10-resnet"
    write_yaml(
        root / "runs" / exp / "experiment.yaml",
        {
            "format": "sitegen.experiment/1",
            "title": "CIFAR-10 ResNet: optimizer and learning-rate sweep",
            "description": (
                "Which optimizer and peak learning rate give the best ResNet-20 on CIFAR-10 in a short\n"
                "(24-epoch) budget?\n\n"
                "Grid: `lr` in {0.001, 0.01, 0.1} x `optimizer` in {adamw, sgd} x 3 seeds, cosine\n"
                "schedule with 100 warm-up steps. Each optimizer has a *sweep* parent run; the trials\n"
                "are its children. The winner is registered as `cifar10-classifier`.\n"
            ),
            "primary_metric": "val/acc",
            "goal": "max",
        },
    )
    refs: dict = {}
    # final accuracies are drawn up front so the champion (best test accuracy) is known before writing
    planned = {}
    for opt in ("adamw", "sgd"):
        for lr in LRS:
            for seed in SEEDS:
                name = f"{opt}-lr{lr:g}-s{seed}"
                prng = rng_for(f"final:{name}")
                final = FINAL_VAL_ACC[(opt, lr)] + prng.normal(0, 0.003)
                diverged = (opt, lr, seed) == DIVERGED
                planned[name] = (final, None if diverged else final + prng.normal(0, 0.0015))
    finished = {n: t for n, (_, t) in planned.items() if t is not None}
    champion = max(finished, key=finished.get)
    adamw_best = max((n for n in finished if n.startswith("adamw")), key=finished.get)
    assert champion.startswith("sgd-lr0.1"), champion  # the registry's alias notes tell this story
    refs["champion"], refs["adamw_best"] = champion, adamw_best
    sweep_starts = {"adamw": (utc("2026-11-16T08:00:00"), "alice"), "sgd": (utc("2026-11-18T07:30:00"), "chen")}
    for opt in ("adamw", "sgd"):
        p_start, user = sweep_starts[opt]
        parent_name = f"sweep-{opt}"
        parent_id = run_id(p_start, parent_name)
        cursor = p_start + dt.timedelta(seconds=64)
        results = []
        for lr in LRS:
            for seed in SEEDS:
                name = f"{opt}-lr{lr:g}-s{seed}"
                rng = rng_for(f"trial:{name}")
                start = cursor
                rid = run_id(start, name)
                diverge = (opt, lr, seed) == DIVERGED
                final, planned_test_acc = planned[name]
                step_ms = 905.0 + rng.normal(0, 12)
                series, info = cifar_curves(
                    name, lr, final, TAU[lr] * (0.6 if opt == "adamw" else 1.0), STEPS,
                    ms(start) + 41_000, step_ms, noisy=(lr == 0.1 and opt == "adamw"),
                    diverge_at=412 if diverge else None,
                )
                end_ms = info["end_ms"] + (3_000 if diverge else 29_000)
                end = dt.datetime.fromtimestamp(end_ms // 1000, tz=UTC)
                params = cifar_params(opt, lr, seed)
                tags = {"team": "vision", "sweep": "lr-x-optimizer", "kind": "trial"}
                if diverge:
                    status = "killed"
                    metrics = {"train/grad_norm_max": float("inf"), "diverged_at_step": 412}
                    test_acc = None
                    notes = (
                        "Diverged: the loss became `inf` at step 412 and `NaN` after it; the watchdog\n"
                        "killed the run 20 steps later. AdamW at lr 0.1 is simply too hot without a\n"
                        "longer warm-up.\n"
                    )
                else:
                    status = "finished"
                    test_acc = planned_test_acc
                    metrics = {
                        "test/acc": r(test_acc),
                        "test/loss": r(info["val_loss"] + rng.normal(0, 0.01)),
                        "test/top5_acc": r(min(0.999, 0.99 + (test_acc - 0.64) * 0.03)),
                        "val/best_acc": r(info["best_val_acc"]),
                        "train_time_s": float(round((end - start).total_seconds())),
                    }
                    notes = None
                ckpt = {
                    "name": "checkpoint",
                    "kind": "model",
                    "uri": f"s3://example-ml-artifacts/cifar10-resnet/{rid}/last.ckpt",
                    "digest": digest(f"ckpt:{name}"),
                    "size": 2195523 + int(rng.integers(0, 2000)),
                }
                outputs = [] if diverge else [ckpt]
                w_artifacts: dict[str, str | bytes] = {"config.json": json.dumps(params, indent=2)}
                dirty = False
                lockfile = None
                if name == champion:  # full set of artifacts
                    m = cifar_confusion(rng, test_acc)
                    model_digest = digest(f"model:cifar10:{name}")
                    outputs = [
                        {"name": "model", "kind": "model", "path": "artifacts/model.safetensors",
                         "digest": model_digest, "size": 1091848},
                        ckpt,
                    ]
                    w_artifacts["model.safetensors"] = lfs_pointer(model_digest, 1091848)
                    w_artifacts["loss_curve.png"] = render_png(loss_curve_spec(series, f"Loss, {name}"))
                    w_artifacts["confusion_matrix.png"] = render_png(
                        confusion_spec(CIFAR_CLASSES, m, "Confusion matrix (test)", 320))
                    w_artifacts["predictions_sample.csv"] = cifar_predictions_csv(rng, m)
                    w_artifacts["train.log"] = train_log(name, series, start, lr, None)
                    w_artifacts["requirements.lock"] = requirements_lock(
                        VISION_PACKAGES, {"safetensors": "0.4.5", "tqdm": "4.67.0"})
                    lockfile = "artifacts/requirements.lock"
                    notes = (
                        "Best trial of the sweep. Registered as **cifar10-classifier v2**.\n\n"
                        "- test accuracy is within noise of seeds 0 and 2\n"
                        "- `torch.compile` was on; about 8% faster per step\n"
                        "- weights are in git LFS (`artifacts/model.safetensors`)\n"
                    )
                elif name == adamw_best:
                    model_digest = digest(f"model:cifar10:{name}")
                    outputs = [{"name": "model", "kind": "model",
                                "uri": f"s3://example-ml-artifacts/cifar10-resnet/{rid}/model.safetensors",
                                "digest": model_digest, "size": 1091848}, ckpt]
                elif diverge:
                    w_artifacts["train.log"] = train_log(name, series, start, lr, 412)
                    w_artifacts["loss_curve.svg"] = render_svg(loss_curve_spec(series, f"Loss, {name}", every=4))
                elif name == "sgd-lr0.01-s2":
                    dirty = True
                    w_artifacts["code.diff"] = VISION_DIFF
                if name == "sgd-lr0.001-s0":
                    params["logging"] = {"backend": "wandb", "project": "cifar10-resnet",
                                         "wandb_api_key": "sk-live-3f9a1c7e5b2d4f60a8c1e9b7d5f3a1c2"}
                prov = provenance(
                    commit=f"cifar-sweep-{opt}",
                    branch="main",
                    dirty=dirty,
                    diff="artifacts/code.diff" if dirty else None,
                    entry_point="train_cifar.py",
                    command=(f"python train_cifar.py --optimizer {opt} --lr {lr:g} --seed {seed} "
                             f"--epochs 24 --parent {parent_id}"),
                    packages=VISION_PACKAGES,
                    lockfile=lockfile,
                    container={"image": "ghcr.io/example-org/train-vision:2026.11.1",
                               "digest": digest("container:train-vision:2026.11.1")},
                    hardware=GPU_BOX,
                    inputs=[cifar_input()],
                    outputs=outputs,
                )
                run = make_run(
                    run_id_=rid, name=name, status=status, start=start, end=end, user=user,
                    parent=parent_id, tags=tags, params=params, metrics=metrics, notes=notes, prov=prov,
                )
                w = RunWriter(root, exp, run)
                for rel, content in w_artifacts.items():
                    (w.artifact_bytes if isinstance(content, bytes) else w.artifact_text)(rel, content)
                w.write(series)
                refs[name] = {"ref": w.ref, "id": rid, "end": end, "test_acc": test_acc,
                              "digest": outputs[0]["digest"] if outputs else None}
                results.append({"lr": lr, "seed": seed, "val_acc": info["val_acc"], "test_acc": test_acc,
                                "status": status, "name": name})
                cursor = end + dt.timedelta(seconds=int(40 + rng.integers(0, 50)))
        # the sweep parent
        p_end = cursor
        best = max((x for x in results if x["test_acc"] is not None), key=lambda x: x["test_acc"])
        p_run = make_run(
            run_id_=parent_id,
            name=parent_name,
            status="finished",
            start=p_start,
            end=p_end,
            user=user,
            tags={"team": "vision", "sweep": "lr-x-optimizer", "kind": "sweep"},
            params={
                "optimizer": {"name": opt},
                "search": {"lr": FlowList(LRS), "seed": FlowList(SEEDS), "strategy": "grid"},
                "model": {"arch": "resnet", "depth": 20, "width": 16},
                "epochs": 24,
            },
            metrics={
                "best/val_acc": r(max(x["val_acc"] for x in results)),
                "best/test_acc": r(best["test_acc"]),
                "trials": len(results),
                "trials_killed": sum(1 for x in results if x["status"] != "finished"),
            },
            notes=(
                f"Grid sweep for **{opt}**: 3 learning rates x 3 seeds, run one after another on a single\n"
                f"A100. Best trial: `{best['name']}` (test acc {best['test_acc']:.4f}). Results table in\n"
                "`artifacts/sweep.md`.\n"
            ),
            prov=provenance(
                commit=f"cifar-sweep-{opt}",
                entry_point="sweep.py",
                command=f"python sweep.py --optimizer {opt} --grid lr=0.001,0.01,0.1 --seeds 3",
                packages=VISION_PACKAGES,
                container={"image": "ghcr.io/example-org/train-vision:2026.11.1",
                           "digest": digest("container:train-vision:2026.11.1")},
                hardware=GPU_BOX,
                inputs=[cifar_input()],
                outputs=[],
            ),
        )
        w = RunWriter(root, exp, p_run)
        w.artifact_text("sweep.md", sweep_markdown(opt, results))
        w.artifact_text("sweep.yaml", yaml_text({
            "optimizer": opt,
            "grid": {"lr": LRS, "seed": SEEDS},
            "fixed": {"epochs": 24, "batch_size": 450, "schedule": "cosine", "warmup_steps": WARMUP},
        }))
        w.artifact_bytes("sweep_val_acc.svg", render_svg(sweep_spec(
            [{"lr": x["lr"], "seed": str(x["seed"]), "val_acc": r(x["val_acc"])} for x in results
             if x["status"] == "finished"], f"{opt}: final val/acc by learning rate")).encode("utf-8"))
        w.write()
        refs[parent_name] = {"ref": w.ref, "id": parent_id, "end": p_end}

    # -- a longer ResNet-56 run outside the sweep: the challenger --------------------------------
    name = "resnet56-sgd-lr0.1-long"
    start = utc("2026-11-21T19:02:37")
    rid = run_id(start, name)
    rng = rng_for(f"trial:{name}")
    total = 6000
    series, info = cifar_curves(name, 0.1, 0.934, 700.0, total, ms(start) + 52_000, 2410.0)
    end = dt.datetime.fromtimestamp((info["end_ms"] + 31_000) // 1000, tz=UTC)
    test_acc = 0.934 + 0.0011
    params = cifar_params("sgd", 0.1, 0, depth=56, epochs=60)
    model_digest = digest(f"model:cifar10:{name}")
    run = make_run(
        run_id_=rid,
        name=name,
        status="finished",
        start=start,
        end=end,
        user="bob",
        tags={"team": "vision", "kind": "long-run"},
        params=params,
        metrics={
            "test/acc": r(test_acc),
            "test/loss": r(info["val_loss"]),
            "test/top5_acc": 0.9981,
            "val/best_acc": r(info["best_val_acc"]),
            "latency_ms_p95": 11.8,
            "train_time_s": float(round((end - start).total_seconds())),
        },
        notes=(
            "ResNet-56 with the sweep's best recipe (SGD, lr 0.1), 60 epochs and cutout: "
            f"{100 * (test_acc - refs[refs['champion']]['test_acc']):+.1f} points\n"
            "of test accuracy over the sweep winner at about 2.6x the inference cost; registered as\n"
            "challenger (v3).\n"
        ),
        prov=provenance(
            commit="cifar-resnet56",
            branch="bob/resnet56",
            entry_point="train_cifar.py",
            command="python train_cifar.py --optimizer sgd --lr 0.1 --depth 56 --epochs 60 --cutout 8",
            packages=VISION_PACKAGES,
            lockfile="artifacts/requirements.lock",
            container={"image": "ghcr.io/example-org/train-vision:2026.11.2",
                       "digest": digest("container:train-vision:2026.11.2")},
            hardware=GPU_BOX,
            inputs=[cifar_input()],
            outputs=[{"name": "model", "kind": "model",
                      "uri": f"s3://example-ml-artifacts/cifar10-resnet/{rid}/model.safetensors",
                      "digest": model_digest, "size": 3432272}],
        ),
    )
    w = RunWriter(root, exp, run)
    w.artifact_text("config.json", json.dumps(params, indent=2))
    w.artifact_bytes("loss_curve.png", render_png(loss_curve_spec(series, f"Loss, {name}", every=40)))
    w.artifact_text("requirements.lock", requirements_lock(VISION_PACKAGES, {"safetensors": "0.4.5", "tqdm": "4.67.0"}))
    w.write(series)
    refs[name] = {"ref": w.ref, "id": rid, "end": end, "test_acc": test_acc, "digest": model_digest}
    return refs


VISION_DIFF = """diff --git a/train_cifar.py b/train_cifar.py
index 1e0a9f3..b27c4d8 100644
--- a/train_cifar.py
+++ b/train_cifar.py
@@ -88,7 +88,8 @@ def make_loader(split, batch_size, augment):
     return DataLoader(
         dataset,
         batch_size=batch_size,
-        num_workers=4,
+        num_workers=8,
+        persistent_workers=True,
         shuffle=(split == "train"),
     )
"""


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------


def monitoring_table(series: list[tuple[str, str | None, np.ndarray]], start: dt.datetime) -> pa.Table:
    times, metrics, values, slices = [], [], [], []
    for metric, slice_, vals in series:
        for day, v in enumerate(vals.tolist()):
            times.append(ms(start + dt.timedelta(days=day)))
            metrics.append(metric)
            values.append(v)
            slices.append(slice_)
    order = sorted(range(len(times)), key=lambda i: (times[i], metrics[i], slices[i] or ""))
    return pa.table(
        {
            "time": pa.array([times[i] for i in order], type=pa.timestamp("ms", tz="UTC")),
            "metric": pa.array([metrics[i] for i in order], type=pa.string()),
            "value": pa.array([values[i] for i in order], type=pa.float64()),
            "slice": pa.array([slices[i] for i in order], type=pa.string()),
        },
        schema=MONITORING_SCHEMA,
    )


MONITOR_START = utc("2026-08-29T00:00:00")
MONITOR_DAYS = 90  # 2026-08-29 .. 2026-11-26


def build_churn_model(root: Path, runs: dict) -> None:
    base = root / "models" / "churn"
    write_yaml(
        base / "model.yaml",
        {
            "format": "sitegen.model/1",
            "name": "Churn classifier",
            "description": (
                "Scores every active account nightly with the probability of cancelling in the next\n"
                "60 days. Customer success works the list from the top; see the\n"
                "[runbook](https://wiki.example.org/retention/churn-model).\n"
            ),
            "owners": FlowList(["alice", "chen"]),
            "aliases": {"champion": 2, "challenger": 3},
            "alias_history": [
                {"alias": "champion", "version": 1, "at": utc("2026-11-05T17:40:00"), "by": "alice",
                 "note": "first model in production; replaces the tenure-only rule"},
                {"alias": "challenger", "version": 2, "at": utc("2026-11-10T16:05:00"), "by": "alice",
                 "note": "tuned GBM in shadow mode"},
                {"alias": "champion", "version": 2, "at": utc("2026-11-11T09:30:00"), "by": "bob",
                 "note": "+0.07 AUC over v1 on churn-2026q3 test; calibration checked"},
                {"alias": "challenger", "version": 3, "at": utc("2026-11-21T16:30:00"), "by": "chen",
                 "note": "monotone constraints on tenure and tickets; shadow for two weeks"},
            ],
            "monitoring": {"auc": {"min": 0.80}, "latency_ms": {"max": 50}, "positive_rate": {"min": 0.05, "max": 0.25}},
        },
    )
    signature = {
        "inputs": [FlowMap(name=f, type=t) for f, t in [
            ("tenure_months", "int32"), ("plan", "string"), ("contract", "string"), ("monthly_charges", "double"),
            ("support_tickets_90d", "int32"), ("payment_method", "string"), ("region", "string"), ("seats", "int32")]],
        "outputs": [FlowMap(name="churn_probability", type="double")],
    }
    versions = [
        (1, "logreg-baseline", "archived", "Logistic regression (L2), one-hot categoricals", "sklearn", False),
        (2, "gbm-tuned", "production", "Gradient-boosted trees (LightGBM)", "lightgbm", True),
        (3, "gbm-tuned-monotone", "staging", "Gradient-boosted trees (LightGBM) with monotone constraints",
         "lightgbm", True),
    ]
    for number, run_name, stage, model_type, library, complete in versions:
        info = runs[run_name]
        auc = info["auc"]
        cm = info["cm"]
        rng = rng_for(f"churn-card:{number}")
        ci = 1.96 * math.sqrt(auc * (1 - auc) / 850)
        analyses = [
            {"metric": "auc", "value": r(auc), "dataset": "churn-2026q3", "split": "test",
             "ci95": FlowList([r(auc - ci), r(auc + ci)])},
            {"metric": "f1", "value": r(cm["f1"]), "dataset": "churn-2026q3", "split": "test"},
        ]
        if complete:
            for slice_, delta, n in [("tenure < 6 months", -0.041, 1204), ("plan = enterprise", -0.018, 512),
                                     ("region = APAC", -0.027, 688), ("region = EU", 0.004, 2911)]:
                v = auc + delta + rng.normal(0, 0.003)
                c = 1.96 * math.sqrt(v * (1 - v) / (n * 0.118))
                analyses.append({"metric": "auc", "value": r(v), "dataset": "churn-2026q3", "split": "test",
                                 "slice": slice_, "ci95": FlowList([r(v - c), r(min(v + c, 1.0))])})
        card: dict = {
            "details": {
                "developers": "Retention analytics (alice, chen)",
                "model_type": model_type,
                "version": number,
                "date": info["end"].date().isoformat(),
                "license": "proprietary",
                "citation": "Internal report RA-2026-14, Churn propensity models.",
                "contact": "retention-ml@example.org",
            },
            "intended_use": {
                "primary_uses": "Rank active accounts by churn risk for proactive outreach by customer success.",
                "primary_users": "Customer success managers, through the nightly CRM list.",
                "out_of_scope": "Pricing, discounts, credit decisions or any automated action on an account.",
            },
            "factors": {
                "relevant": FlowList(["tenure", "plan", "region"]),
                "evaluation": FlowList(["tenure < 6 months", "plan = enterprise", "region"]),
            },
            "metrics": {
                "performance_measures": FlowList(["auc", "f1", "precision", "recall"]),
                "decision_threshold": 0.5,
                "variation": "bootstrap 95% CI, 1,000 resamples of the test split",
            },
            "evaluation_data": FlowMap(dataset="churn-2026q3", split="test"),
            "training_data": FlowMap(dataset="churn-2026q3", split="train"),
            "quantitative_analyses": analyses,
        }
        if complete:
            card["ethical_considerations"] = [
                {"name": "Unequal outreach", "mitigation": "Scores only order a call list; no account is "
                 "treated worse for a high score. Slice AUCs are reviewed before each promotion."},
                {"name": "Pseudonymous data", "mitigation": "Customer ids are salted hashes; the salt is in Vault."},
            ]
            card["caveats_and_recommendations"] = (
                "New customers (tenure < 6 months) are scored least reliably. Retrain every quarter;\n"
                "the Q4 price change is expected to shift the base rate.\n"
            )
        version = {
            "format": "sitegen.model-version/1",
            "version": number,
            "source_run": info["ref"],
            "created": info["end"] + dt.timedelta(minutes=11),
            "stage": stage,
            "signature": signature,
            "card": card,
            "hub": {
                "library_name": library,
                "pipeline_tag": "tabular-classification",
                "tags": FlowList(["churn", "tabular", "retention"]),
                "datasets": FlowList(["churn-2026q3"]),
                "license": "other",
            },
        }
        write_yaml(base / "versions" / f"{number}.yaml", version)

    rng = rng_for("monitoring:churn")
    days = np.arange(MONITOR_DAYS)
    # who served: the tenure-only rule until 2026-11-05 (day 68), v1 until 2026-11-11 (day 74), then v2;
    # the Q4 price change (from 2026-11-17, day 80) erodes AUC until it breaches the 0.80 alert at the end
    era = np.select([days < 68, days < 74], [0.824, 0.836], 0.897)
    drift = (np.maximum(days - 79, 0) / 10) ** 1.5 * 0.12
    auc = era + rng.normal(0, 0.003, MONITOR_DAYS) - drift
    series = [
        ("auc", None, np.round(auc, 4)),
        ("auc", "tenure < 6 months", np.round(auc - 0.01 + rng.normal(0, 0.002, MONITOR_DAYS) - drift * 0.3, 4)),
        ("auc", "plan = enterprise", np.round(auc + 0.01 + rng.normal(0, 0.003, MONITOR_DAYS), 4)),
        ("latency_ms", None, np.round(np.where(days < 74, 9.0, 21.0) + rng.gamma(2.0, 1.5, MONITOR_DAYS), 1)),
        ("positive_rate", None, np.round(0.118 + rng.normal(0, 0.006, MONITOR_DAYS) + drift * 0.6, 4)),
    ]
    write_parquet(base / "monitoring.parquet", monitoring_table(series, MONITOR_START))


def build_cifar_model(root: Path, runs: dict) -> None:
    base = root / "models" / "cifar10-classifier"
    write_yaml(
        base / "model.yaml",
        {
            "format": "sitegen.model/1",
            "name": "CIFAR-10 classifier",
            "description": (
                "Reference image classifier used to test the serving stack end to end (batching,\n"
                "GPU scheduling, monitoring). Not a product model.\n"
            ),
            "owners": FlowList(["bob"]),
            "aliases": {"champion": 2, "challenger": 3},
            "alias_history": [
                {"alias": "champion", "version": 1, "at": utc("2026-11-16T16:20:00"), "by": "alice",
                 "note": "winner of the AdamW sweep"},
                {"alias": "champion", "version": 2, "at": utc("2026-11-18T17:05:00"), "by": "chen",
                 "note": "SGD lr 0.1 beats AdamW by about a point of test accuracy"},
                {"alias": "challenger", "version": 3, "at": utc("2026-11-22T10:15:00"), "by": "bob",
                 "note": "ResNet-56; shadow deployment to check the latency budget"},
            ],
            "monitoring": {"accuracy": {"min": 0.9}, "latency_ms": {"max": 30}},
        },
    )
    signature = {
        "inputs": [FlowMap(name="image", type="uint8", shape=FlowList([-1, 32, 32, 3]))],
        "outputs": [FlowMap(name="logits", type="float32", shape=FlowList([-1, 10]))],
    }
    versions = [
        (1, runs["adamw_best"], "archived", 20),
        (2, runs["champion"], "production", 20),
        (3, "resnet56-sgd-lr0.1-long", "staging", 56),
    ]
    for number, run_name, stage, depth in versions:
        info = runs[run_name]
        acc = info["test_acc"]
        rng = rng_for(f"cifar-card:{number}")
        ci = 1.96 * math.sqrt(acc * (1 - acc) / 10000)
        analyses = [{"metric": "accuracy", "value": r(acc), "dataset": "cifar10", "split": "test",
                     "ci95": FlowList([r(acc - ci), r(acc + ci)])}]
        for cls, delta in [("cat", -0.09), ("dog", -0.06), ("bird", -0.04), ("automobile", 0.04)]:
            v = min(acc + delta + rng.normal(0, 0.004), 0.999)
            c = 1.96 * math.sqrt(v * (1 - v) / 1000)
            analyses.append({"metric": "accuracy", "value": r(v), "dataset": "cifar10", "split": "test",
                             "slice": f"class = {cls}", "ci95": FlowList([r(v - c), r(min(v + c, 1.0))])})
        card = {
            "details": {
                "developers": "Vision platform (bob, alice, chen)",
                "model_type": f"ResNet-{depth} (He et al., 2016), {'0.27' if depth == 20 else '0.85'}M parameters",
                "version": number,
                "date": info["end"].date().isoformat(),
                "license": "apache-2.0",
                "citation": "He, Zhang, Ren, Sun. Deep Residual Learning for Image Recognition. CVPR 2016.",
            },
            "intended_use": {
                "primary_uses": "Load and latency testing of the image serving stack; teaching.",
                "primary_users": "Platform engineers.",
                "out_of_scope": "Any real-world image decision; photos outside the 10 CIFAR classes.",
            },
            "factors": {
                "relevant": FlowList(["object class", "lighting"]),
                "evaluation": FlowList(["class"]),
            },
            "metrics": {
                "performance_measures": FlowList(["accuracy", "top-5 accuracy"]),
                "variation": "normal-approximation 95% CI over the 10,000 test images",
            },
            "evaluation_data": (
                "The CIFAR-10 test split (10,000 images, 1,000 per class) from the `cifar10` dataset.\n"
                "It was not used for model selection; the sweep chose on the validation split.\n"
            ),
            "training_data": "CIFAR-10 training split minus a 5,000-image validation hold-out (45,000 images).",
            "quantitative_analyses": analyses,
            "ethical_considerations": [
                {"name": "Dataset provenance", "mitigation": "Web-scraped images of unclear licence; "
                 "used for internal benchmarking only."},
            ],
            "caveats_and_recommendations": "32x32 inputs only. Accuracy on real camera images is far lower.",
        }
        version = {
            "format": "sitegen.model-version/1",
            "version": number,
            "source_run": info["ref"],
            "created": info["end"] + dt.timedelta(minutes=23),
            "stage": stage,
            "signature": signature,
            "card": card,
            "hub": {
                "library_name": "pytorch",
                "pipeline_tag": "image-classification",
                "tags": FlowList(["resnet", "cifar10", "image-classification"]),
                "datasets": FlowList(["cifar10"]),
                "license": "apache-2.0",
            },
        }
        write_yaml(base / "versions" / f"{number}.yaml", version)

    rng = rng_for("monitoring:cifar")
    days = np.arange(MONITOR_DAYS)
    acc = 0.918 + rng.normal(0, 0.003, MONITOR_DAYS)
    latency = 14.0 + rng.gamma(3.0, 1.2, MONITOR_DAYS)
    latency[-3:] = [33.4, 36.9, 35.2]  # node pool swapped to T4s: latency alert
    series = [
        ("accuracy", None, np.round(acc, 4)),
        ("accuracy", "low-light", np.round(acc - 0.008 + rng.normal(0, 0.002, MONITOR_DAYS), 4)),
        ("latency_ms", None, np.round(latency, 1)),
        ("requests", None, np.round(1.2e5 + 2e4 * np.sin(days / 7 * 2 * np.pi) + rng.normal(0, 4e3, MONITOR_DAYS))),
    ]
    write_parquet(base / "monitoring.parquet", monitoring_table(series, MONITOR_START))


# --------------------------------------------------------------------------------------------
# Site configuration
# --------------------------------------------------------------------------------------------


def write_config(root: Path, churn: dict, cifar: dict) -> None:
    config = {
        "title": "Vision and churn: sample runs",
        "repo_url": REPO_URL,
        "experiments": {
            "cifar10-resnet": {"primary_metric": "val/acc", "goal": "max"},
            "churn": {"primary_metric": "auc", "goal": "max"},
            "feature-pipeline": {"primary_metric": "rows_dropped_pct", "goal": "min"},
        },
        "comparisons": [
            {
                "name": "lr-sweep",
                "title": "AdamW learning-rate sweep",
                "query": "experiment = 'cifar10-resnet' and params.optimizer.name = 'adamw' and tags.kind = 'trial'",
                "baseline": cifar[cifar["adamw_best"]]["ref"],
                "metrics": FlowList(["val/acc", "val/loss", "train/loss", "test/acc"]),
            },
            {
                "name": "seed-groups",
                "title": "Sweep grouped across seeds",
                "query": "experiment = 'cifar10-resnet' and tags.sweep = 'lr-x-optimizer' and tags.kind = 'trial'",
                "group_by": FlowList(["params.lr", "params.optimizer.name"]),
                "metrics": FlowList(["val/acc", "test/acc"]),
            },
            {
                "name": "churn-models",
                "title": "Churn model families",
                "query": "experiment = 'churn'",
                "baseline": churn["logreg-baseline"]["ref"],
                "metrics": FlowList(["auc", "f1", "precision", "recall", "log_loss"]),
            },
        ],
        "redact": FlowList(["*password*", "*secret*", "*token*", "*api_key*", "*wandb*key*"]),
    }
    write_yaml(root / "sitegen.yaml", config)


# --------------------------------------------------------------------------------------------


def generate(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in GENERATED:
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    write_datasets(out)
    build_feature_pipeline(out)
    churn = build_churn(out)
    cifar = build_cifar(out)
    build_churn_model(out, churn)
    build_cifar_model(out, cifar)
    write_config(out, churn, cifar)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", nargs="?", type=Path, default=DEFAULT_OUT,
                        help="target directory (default: sample_runs/ at the repo root)")
    args = parser.parse_args(argv)
    generate(args.out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
