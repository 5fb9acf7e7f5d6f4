"""Deterministic synthetic sources in format 1, for the build benchmarks.

    python benchmarks/corpus.py M /tmp/corpus-m      # 1,000 runs in 10 experiments
    python benchmarks/corpus.py L /tmp/corpus-l      # 10,000 runs

Shape (issue 9): runs spread over 10 experiments, 20 params, 5 metrics x 1,000 steps each, 2 small
artifacts per run (a JSON config and a text log), 20 models x 3 versions pointing at runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from sitegen.store.metrics import SCHEMA  # noqa: E402  (the metrics.parquet schema)

SIZES = {"S": 100, "M": 1_000, "L": 10_000}
EXPERIMENTS = 10
PARAMS = 20
METRICS = ("loss", "val/loss", "acc", "val/acc", "lr")
STEPS = 1_000
MODELS = 20
VERSIONS = 3
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
T0 = 1_793_000_000_000  # 2026-10-25 in ms since the epoch


def _dump(path: Path, data) -> None:
    path.write_text(yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False), encoding="utf-8")


def run_id(i: int) -> str:
    day, rest = divmod(i, 1440)
    return f"202611{1 + day % 28:02d}-{rest // 60:02d}{rest % 60:02d}00-{i % 0xFFFFFF:06x}"


def write_run(root: Path, i: int, rng: np.random.Generator) -> str:
    exp = f"exp-{i % EXPERIMENTS:02d}"
    rid = run_id(i)
    run_dir = root / "runs" / exp / rid
    (run_dir / "artifacts").mkdir(parents=True)
    params = {f"p{j:02d}": float(rng.choice([0.1, 0.01, 0.001])) if j % 3 == 0 else
              (str(rng.choice(["adamw", "sgd", "lion"])) if j % 3 == 1 else int(rng.integers(1, 512)))
              for j in range(PARAMS)}
    start = T0 + i * 60_000
    _dump(run_dir / "run.yaml", {
        "format": "sitegen.run/1", "id": rid, "name": f"run-{i}", "status": "finished",
        "start_time": f"2026-11-{1 + (i // 1440) % 28:02d}T{(i % 1440) // 60:02d}:{i % 60:02d}:00Z",
        "end_time": f"2026-11-{1 + (i // 1440) % 28:02d}T{(i % 1440) // 60:02d}:{i % 60:02d}:59Z",
        "user": ["alice", "bob", "chen"][i % 3], "tags": {"team": "bench", "seed": str(i % 3)},
        "params": params,
        "provenance": {"code": {"repo": "https://example.org/bench", "commit": f"c{i:039x}"},
                       "command": f"python train.py --run {i}"},
    })
    steps = np.arange(STEPS, dtype=np.int64)
    decay = np.exp(-steps / (200 + rng.random() * 300))
    values = {
        "loss": decay + rng.normal(0, 0.02, STEPS), "val/loss": decay * 1.1 + rng.normal(0, 0.02, STEPS),
        "acc": 1 - decay * 0.9 + rng.normal(0, 0.01, STEPS), "val/acc": 1 - decay + rng.normal(0, 0.01, STEPS),
        "lr": np.full(STEPS, params["p00"]) * decay,
    }
    table = pa.table({
        "key": pa.array(np.repeat(np.array(METRICS, dtype=object), STEPS), pa.string()),
        "step": np.tile(steps, len(METRICS)),
        "value": np.concatenate([values[k] for k in METRICS]),
        "timestamp": pa.array(np.tile(start + steps * 1000, len(METRICS)), pa.int64()).cast(SCHEMA.field(3).type),
    }, schema=SCHEMA)
    pq.write_table(table, run_dir / "metrics.parquet")
    (run_dir / "artifacts" / "config.json").write_text(json.dumps({"run": i, "params": params}, indent=2))
    (run_dir / "artifacts" / "train.log").write_text("".join(f"step {s} loss {values['loss'][s]:.4f}\n"
                                                            for s in range(0, STEPS, 50)))
    return f"{exp}/{rid}"


def generate(size: str, root: Path) -> Path:
    n = SIZES[size]
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    rng = np.random.default_rng(9)
    uids = [write_run(root, i, rng) for i in range(n)]
    for e in range(EXPERIMENTS):
        _dump(root / "runs" / f"exp-{e:02d}" / "experiment.yaml",
              {"format": "sitegen.experiment/1", "title": f"Experiment {e}", "primary_metric": "val/acc",
               "goal": "max"})
    for m in range(MODELS):
        mdir = root / "models" / f"model-{m:02d}"
        (mdir / "versions").mkdir(parents=True)
        _dump(mdir / "model.yaml", {"format": "sitegen.model/1", "name": f"Model {m}",
                                    "aliases": {"champion": VERSIONS}})
        for v in range(1, VERSIONS + 1):
            _dump(mdir / "versions" / f"{v}.yaml", {
                "format": "sitegen.model-version/1", "version": v, "source_run": uids[(m * VERSIONS + v) % n],
                "created": "2026-11-20T10:00:00Z", "stage": "production" if v == VERSIONS else "archived",
                "card": {"details": {"model_type": "resnet"}, "intended_use": "benchmarking"}})
    _dump(root / "sitegen.yaml", {"title": f"Benchmark corpus {size}"})
    return root


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", choices=sorted(SIZES))
    parser.add_argument("root", type=Path)
    args = parser.parse_args(argv)
    generate(args.size, args.root)
    print(f"wrote {SIZES[args.size]} runs into {args.root}", file=sys.stderr)


if __name__ == "__main__":
    main()
