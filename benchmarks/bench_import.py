"""Benchmark `sitegen import mlflow`: an MLflow sqlite store of RUNS runs x METRICS metrics x STEPS steps
(default 1,000 x 5 x 1,000 = 5 million points), made with MlflowClient.log_batch, then imported.

    python benchmarks/bench_import.py [--runs 1000 --metrics 5 --steps 1000] [--store DIR] [--keep]

``--store DIR`` keeps (and on a later call reuses) the MLflow store, whose creation takes minutes.
Prints the creation time, the first import time, and the re-import (no-op) time.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

T0 = 1_767_225_600_000
BATCH = 1000  # MLflow's limit of metrics per log_batch


def make_store(uri: str, runs: int, metrics: int, steps: int) -> None:
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment("bench")
    for i in range(runs):
        run = client.create_run(exp, run_name=f"run-{i}", start_time=T0 + i * 1000)
        rid = run.info.run_id
        points = [Metric(f"metric_{k}", (k + 1) / (s + 1), T0 + i * 1000 + s, s)
                  for k in range(metrics) for s in range(steps)]
        client.log_batch(rid, params=[Param("i", str(i)), Param("lr", str(1e-3 * (i % 10 + 1)))])
        for start in range(0, len(points), BATCH):
            client.log_batch(rid, metrics=points[start:start + BATCH])
        client.set_terminated(rid, end_time=T0 + i * 1000 + steps)
        if i % 100 == 99:
            print(f"  created {i + 1} runs", file=sys.stderr, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--metrics", type=int, default=5)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--store", type=Path, help="folder for the MLflow store (kept and reused)")
    args = ap.parse_args()

    from sitegen.importers.mlflow import import_mlflow

    work = Path(tempfile.mkdtemp(prefix="sitegen-bench-import-"))
    store = args.store or work / "mlflow"
    store.mkdir(parents=True, exist_ok=True)
    db = store / "mlflow.db"
    uri = f"sqlite:///{db}"
    points = args.runs * args.metrics * args.steps
    try:
        if not db.exists():
            started = time.perf_counter()
            make_store(uri, args.runs, args.metrics, args.steps)
            print(f"created MLflow store ({args.runs} runs x {args.metrics} metrics x {args.steps} steps) "
                  f"in {time.perf_counter() - started:.1f} s")
        target = work / "site-source"
        started = time.perf_counter()
        summary = import_mlflow(target, uri)
        first = time.perf_counter() - started
        print(f"import: {first:.1f} s ({points / first:,.0f} points/s); " + "; ".join(summary.lines()))
        started = time.perf_counter()
        summary = import_mlflow(target, uri)
        again = time.perf_counter() - started
        print(f"re-import (no-op): {again:.1f} s; " + "; ".join(summary.lines()))
    finally:
        shutil.rmtree(work / "site-source", ignore_errors=True)
        if args.store is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
