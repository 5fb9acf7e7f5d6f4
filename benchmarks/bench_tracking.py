"""Tracking benchmark: 1,000,000 metric points (5 keys) through ``Run.log_metric``, then ``end()``.

    python benchmarks/bench_tracking.py [--points N] [--mlflow-points N] [--no-mlflow]

Each measurement runs in a fresh Python process, so its peak RSS (``resource.getrusage``) belongs to
that measurement alone. Reported:

- sitegen at 1,000,000 points and at 100,000 points (fastest of ``--repeat`` runs, 3 by default): seconds for the logging loop plus ``end()`` (journal
  flushes and the Parquet compaction included; ``start_run`` and imports excluded), points/s, µs/point,
  peak RSS and RSS growth over the process's RSS before logging. Equal growth at both sizes shows
  memory does not depend on the run's length.
- MLflow (when importable): the same loop, scaled down, against ``mlflow.log_metric`` with a sqlite
  tracking store in a temporary folder; µs/point and the ratio to sitegen.

Results go to ``benchmarks/results/tracking.json``. Goal (issue 3): at most 2 s for 1,000,000 points,
and at least 1,000x faster per point than MLflow's ``log_metric``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results" / "tracking.json"
KEYS = ("loss", "val/loss", "acc", "val/acc", "lr")
GOAL_SECONDS = 2.0
GOAL_RATIO = 1000.0


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def worker_sitegen(points: int) -> dict:
    sys.path.insert(0, str(REPO))
    import pyarrow.parquet as pq

    import sitegen

    with tempfile.TemporaryDirectory() as root:
        run = sitegen.start_run("bench", root=root, capture=False)
        rss_before = _rss_mb()
        log = run.log_metric
        rounds = points // len(KEYS)
        t0 = time.perf_counter()
        for i in range(rounds):
            value = i * 1e-3
            for key in KEYS:
                log(key, value)
        t1 = time.perf_counter()
        run.end()
        t2 = time.perf_counter()
        rows = pq.ParquetFile(run.dir / "metrics.parquet").metadata.num_rows
    total = rounds * len(KEYS)
    assert rows == total, (rows, total)
    return {"points": total, "log_seconds": t1 - t0, "end_seconds": t2 - t1, "seconds": t2 - t0,
            "rss_before_mb": rss_before, "peak_rss_mb": _rss_mb()}


def worker_mlflow(points: int) -> dict:
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    import mlflow

    with tempfile.TemporaryDirectory() as root:
        mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
        mlflow.set_experiment("bench")
        rounds = points // len(KEYS)
        with mlflow.start_run():
            t0 = time.perf_counter()
            for i in range(rounds):
                value = i * 1e-3
                for key in KEYS:
                    mlflow.log_metric(key.replace("/", "_"), value, step=i)
            t1 = time.perf_counter()
    total = rounds * len(KEYS)
    return {"points": total, "seconds": t1 - t0, "version": mlflow.__version__, "store": "sqlite"}


def _spawn(kind: str, points: int) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, __file__, "--worker", kind, str(points)], capture_output=True,
                          text=True, env=env, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} worker failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _mlflow_importable() -> bool:
    probe = subprocess.run([sys.executable, "-c", "import mlflow"], capture_output=True)
    return probe.returncode == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--small-points", type=int, default=100_000, help="second size, for memory growth")
    parser.add_argument("--mlflow-points", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3,
                        help="sitegen measurements per size; the fastest is reported (others' load is noise)")
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "POINTS"), help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    if args.worker:
        kind, points = args.worker[0], int(args.worker[1])
        result = worker_sitegen(points) if kind == "sitegen" else worker_mlflow(points)
        print(json.dumps(result))
        return 0

    rows = []
    big_all = [_spawn("sitegen", args.points) for _ in range(max(1, args.repeat))]
    small_all = [_spawn("sitegen", args.small_points) for _ in range(max(1, args.repeat))]
    big = min(big_all, key=lambda r: r["seconds"])
    small = min(small_all, key=lambda r: r["seconds"])
    big["all_seconds"] = sorted(r["seconds"] for r in big_all)
    small["all_seconds"] = sorted(r["seconds"] for r in small_all)
    for r in (big, small):
        r["us_per_point"] = r["seconds"] / r["points"] * 1e6
        r["points_per_second"] = r["points"] / r["seconds"]
        r["rss_growth_mb"] = r["peak_rss_mb"] - r["rss_before_mb"]
        rows.append(("sitegen", r["points"], r["seconds"], r["points_per_second"], r["us_per_point"],
                     f"{r['peak_rss_mb']:.0f} (+{r['rss_growth_mb']:.0f})"))
    ml = None
    if not args.no_mlflow and _mlflow_importable():
        ml = _spawn("mlflow", args.mlflow_points)
        ml["us_per_point"] = ml["seconds"] / ml["points"] * 1e6
        ml["points_per_second"] = ml["points"] / ml["seconds"]
        rows.append((f"mlflow {ml['version']} (sqlite)", ml["points"], ml["seconds"], ml["points_per_second"],
                     ml["us_per_point"], "-"))

    header = ("writer", "points", "seconds", "points/s", "us/point", "peak RSS MB (+growth)")
    widths = (26, 10, 9, 12, 10, 22)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for row in rows:
        cells = (row[0], f"{row[1]:,}", f"{row[2]:.3f}", f"{row[3]:,.0f}", f"{row[4]:.3f}", row[5])
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths)))

    result = {
        "benchmark": "tracking: log_metric x N (5 keys) + end()",
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "sitegen": big,
        "sitegen_small": small,
        "memory_growth_ratio_big_vs_small": big["rss_growth_mb"] / max(small["rss_growth_mb"], 1e-9),
        "goal_seconds": GOAL_SECONDS,
        "meets_time_goal": big["seconds"] <= GOAL_SECONDS,
    }
    print(f"\n{big['points']:,} points in {big['seconds']:.2f} s (loop {big['log_seconds']:.2f} s + end "
          f"{big['end_seconds']:.2f} s; fastest of {', '.join(f'{x:.2f}' for x in big['all_seconds'])}): "
          f"goal <= {GOAL_SECONDS} s {'met' if result['meets_time_goal'] else 'MISSED'}")
    print(f"RSS growth while logging: {small['rss_growth_mb']:.1f} MB at {small['points']:,} points, "
          f"{big['rss_growth_mb']:.1f} MB at {big['points']:,} points")
    if ml:
        ratio = ml["us_per_point"] / big["us_per_point"]
        result.update({"mlflow": ml, "ratio_mlflow_over_sitegen": ratio, "goal_ratio": GOAL_RATIO,
                       "meets_ratio_goal": ratio >= GOAL_RATIO})
        print(f"MLflow log_metric: {ml['us_per_point']:.0f} us/point; sitegen is {ratio:,.0f}x faster per point "
              f"(goal >= {GOAL_RATIO:,.0f}x: {'met' if ratio >= GOAL_RATIO else 'MISSED'})")
    elif not args.no_mlflow:
        print("MLflow not importable: no comparison (pip install 'sitegen[bench]')")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(f"wrote {args.output.relative_to(REPO) if args.output.is_relative_to(REPO) else args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
