"""Benchmark of experiment comparison (issue 4) in headless Chromium, from file://.

    python benchmarks/bench_compare.py [--keep DIR] [--repeat 3]

Generates a synthetic source in a temporary directory (format-1 files written directly):

* ``runs1000``: 1,000 runs x 20 params x 5 metrics (summaries), 50 parents with 19 nested runs each;
* ``runs2000``: 2,000 runs x 20 params x 10 metrics (summaries);
* ``cmp100``: 100 runs x 20 params x 5 metrics with 10,000 steps each (metrics.parquet), and a
  configured comparison ``bench`` of those 100 runs;

builds it with ``sitegen.build.build`` and measures, in headless Chromium (Debian's /usr/bin/chromium):
first and all rows of the 1,000-run table after navigation (marks set by an init script: the end of
the first frame after the rows are in the DOM); the 2,000-run page's HTML + embedded data size, sort and
filter times (handler + next frame); for the 100-run comparison (configured and ad-hoc) the time to
parallel coordinates and to all charts. Console errors and page errors fail the run. Prints the figures and writes
``benchmarks/results/compare.json``. Goals are in the issue; ``goal_met`` says whether each was met.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sitegen.build import build  # noqa: E402
from sitegen.store.metrics import SCHEMA  # noqa: E402  (the metrics.parquet schema)

T0 = 1_793_000_000_000  # 2026-10-25 in ms
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


def _run_id(i: int, salt: int) -> str:
    t = time.gmtime((T0 + i * 60_000) / 1000)
    return time.strftime("%Y%m%d-%H%M%S", t) + f"-{(i * 7919 + salt) % 0xFFFFFF:06x}"


def _params(rng: np.random.Generator, n: int = 20) -> dict:
    out = {}
    for j in range(n):
        if j % 4 == 0:
            out[f"p{j:02d}"] = float(rng.choice([0.1, 0.01, 0.001, 0.0003]))
        elif j % 4 == 1:
            out[f"p{j:02d}"] = int(rng.integers(1, 512))
        elif j % 4 == 2:
            out[f"p{j:02d}"] = str(rng.choice(["adamw", "sgd", "lion"]))
        else:
            out[f"p{j:02d}"] = bool(rng.integers(0, 2))
    return out


def _write(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.dump(doc, Dumper=_Dumper, sort_keys=False), encoding="utf-8")


def write_experiment(root: Path, slug: str, runs: int, metrics: int, steps: int, rng: np.random.Generator,
                     nested: bool = False, salt: int = 0) -> list[str]:
    keys = [f"m{k:02d}" for k in range(metrics)]
    _write(root / "runs" / slug / "experiment.yaml",
           {"format": "sitegen.experiment/1", "title": f"Benchmark {slug}", "primary_metric": keys[0], "goal": "max"})
    uids = []
    parent = None
    for i in range(runs):
        rid = _run_id(i, salt)
        start = T0 + i * 60_000
        doc = {"format": "sitegen.run/1", "id": rid, "name": f"{slug}-{i:04d}",
               "status": "failed" if i % 37 == 5 else "finished", "start_time": _iso(start),
               "end_time": _iso(start + 3_600_000 + i * 1000), "user": f"user{i % 7}",
               "tags": {"team": "bench", "group": f"g{i % 5}"}, "params": _params(rng)}
        if nested and i % 20 == 0:
            parent = rid
        elif nested and parent:
            doc["parent"] = f"{slug}/{parent}"
        if not steps:
            values = {k: float(rng.random()) for k in keys}
            if i % 50 == 7:
                values[keys[1]] = float("nan")
            doc["metrics"] = values
        _write(root / "runs" / slug / rid / "run.yaml", doc)
        if steps:
            s = np.arange(steps, dtype=np.int64)
            parts_k, parts_s, parts_v, parts_t = [], [], [], []
            for k in keys:
                v = 1.0 - np.exp(-s / (steps / 5)) * rng.uniform(0.5, 1) + rng.normal(0, 0.02, steps)
                parts_k += [k] * steps
                parts_s.append(s)
                parts_v.append(v)
                parts_t.append(start + s * 500)
            table = pa.table({"key": pa.array(parts_k, pa.string()), "step": np.concatenate(parts_s),
                              "value": np.concatenate(parts_v),
                              "timestamp": pa.array(np.concatenate(parts_t), pa.int64()).cast(pa.timestamp("ms", "UTC"))},
                             schema=SCHEMA)
            pq.write_table(table, root / "runs" / slug / rid / "metrics.parquet")
        uids.append(f"{slug}/{rid}")
    return uids


def generate(root: Path) -> dict:
    rng = np.random.default_rng(4)
    info = {
        "runs1000": write_experiment(root, "runs1000", 1000, 5, 0, rng, nested=True, salt=1),
        "runs2000": write_experiment(root, "runs2000", 2000, 10, 0, rng, salt=2),
        "cmp100": write_experiment(root, "cmp100", 100, 5, 10_000, rng, salt=3),
    }
    _write(root / "sitegen.yaml", {"title": "Comparison benchmark", "comparisons": [
        {"name": "bench", "title": "100 runs", "query": "experiment = 'cmp100'", "baseline": info["cmp100"][0],
         "metrics": [f"m{k:02d}" for k in range(5)]}]})
    return info


# --------------------------------------------------------------------------------- browser

# Installed before the page's own scripts (Playwright init script), so the marks do not depend on when
# Playwright's own evaluate() gets a turn on a busy main thread. A row "appears" at the end of the first
# frame after it is inserted (requestAnimationFrame, then a task: the frame has been painted by then);
# "all rows" is when the table's row model holds every run (rows are virtualised: the scroll range
# covers all of them, the DOM only those near the viewport).
ROW_MARKS = """(() => {
  const out = window.__sitegenBench = {};
  const painted = key => requestAnimationFrame(() => setTimeout(() => { out[key] = performance.now(); }, 0));
  new MutationObserver((records, observer) => {
    if (out.inserted === undefined && document.querySelector('.rt-table tbody tr[data-uid]')) {
      out.inserted = performance.now();
      painted('first');
    }
    const t = window.sitegenRunTable, all = t && t.rows ? t.rows.length : 0;
    if (out.inserted !== undefined && all >= %d && out.allInserted === undefined) {
      out.allInserted = performance.now();
      out.rows = all;
      painted('all');
      observer.disconnect();
    }
  }).observe(document, {childList: true, subtree: true});
})()"""

TIMED = """([what, arg]) => new Promise(resolve => {
  const t0 = performance.now();
  if (what === 'sort') document.querySelector(`.rt-sort[data-col="${arg}"]`).click();
  else { const t = window.sitegenRunTable; t.input.value = arg; t.setQuery(arg); }
  const handler = performance.now() - t0;
  requestAnimationFrame(() => setTimeout(() => resolve({handler, frame: performance.now() - t0,
    rows: window.sitegenRunTable.rows.length}), 0));
})"""


def measure(site: Path, info: dict, repeat: int) -> dict:
    from playwright.sync_api import sync_playwright

    out: dict = {"first_row_ms": [], "all_rows_ms": [], "sort_ms": [], "filter_ms": [],
                 "cmp_parallel_ms": [], "cmp_all_charts_ms": [], "adhoc_parallel_ms": [], "adhoc_all_charts_ms": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ.get("SITEGEN_CHROMIUM", "/usr/bin/chromium"),
                                    headless=True, args=["--no-sandbox", "--disable-gpu"])
        errors: list[str] = []

        def new_page():
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
            return page

        for _ in range(repeat):
            page = new_page()
            page.add_init_script(ROW_MARKS % 1000)
            page.goto((site / "experiments/runs1000/index.html").as_uri())
            page.wait_for_function("window.__sitegenBench && window.__sitegenBench.all !== undefined")
            got = page.evaluate("window.__sitegenBench")
            assert got["rows"] >= 1000, got
            page.click(".rt-expand")  # collapse all, then expand all again: the controls work
            page.click(".rt-expand")
            out["first_row_ms"].append(got["first"])
            out["all_rows_ms"].append(got["all"])
            page.close()

            page = new_page()
            page.goto((site / "experiments/runs2000/index.html").as_uri())
            page.wait_for_selector(".runtable[data-ready='true']")
            for col in ("m:m00", "p:p02", "attr:dur"):
                out["sort_ms"].append(page.evaluate(TIMED, ["sort", col])["frame"])
            for q in ("metrics.m00 > 0.5", "params.p02 = 'sgd' and metrics.m03 < 0.3", "tags.group IN ('g1', 'g2')"):
                res = page.evaluate(TIMED, ["filter", q])
                out["filter_ms"].append(res["frame"])
            page.close()

            for kind, url in (("cmp", (site / "compare/bench/index.html").as_uri()),
                              ("adhoc", (site / "compare/index.html").as_uri() + "?runs=" + ",".join(info["cmp100"]))):
                page = new_page()
                page.goto(url)
                page.wait_for_selector(".cmp[data-ready='true']", timeout=60_000)
                root = page.locator(".cmp")
                out[f"{kind}_parallel_ms"].append(float(root.get_attribute("data-parallel-ms")))
                out[f"{kind}_all_charts_ms"].append(float(root.get_attribute("data-charts-ms")))
                rendered = page.locator(".cmp-curve[data-vega-rendered='true']").count()
                assert rendered == 5, f"{kind}: {rendered} curve charts drawn"
                page.close()
        browser.close()
    if errors:
        raise SystemExit("browser errors during the benchmark:\n" + "\n".join(errors[:20]))
    return out


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, help="generate and build here and keep the files")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="sitegen-bench-compare-"))
    try:
        source, site = work / "source", work / "site"
        if source.exists():
            shutil.rmtree(source)
        started = time.perf_counter()
        info = generate(source)
        generated = time.perf_counter() - started
        result = build(source, site, quiet=True, search=False) if "search" in build.__code__.co_varnames \
            else build(source, site, quiet=True)
        page2000 = site / "experiments/runs2000/index.html"
        cmp_page = site / "compare/bench/index.html"
        adhoc = site / "compare/index.html"
        data_js = [site / (u.replace("cmp100/", "runs/cmp100/", 1) + "/data.js") for u in info["cmp100"]]
        load_before = _loadavg()
        figures = measure(site, info, args.repeat)
        load_after = _loadavg()
        med = {k: round(statistics.median(v), 1) for k, v in figures.items()}
        sizes = {
            "runs2000_page_bytes": page2000.stat().st_size,
            "runs1000_page_bytes": (site / "experiments/runs1000/index.html").stat().st_size,
            "cmp100_page_bytes": cmp_page.stat().st_size,
            "adhoc_page_bytes": adhoc.stat().st_size,
            "cmp100_data_js_bytes_total": sum(p.stat().st_size for p in data_js),
        }
        goals = {
            "first_row_ms <= 500": med["first_row_ms"] <= 500,
            "all_rows_ms <= 1000": med["all_rows_ms"] <= 1000,
            "runs2000 page+data <= 2 MB": sizes["runs2000_page_bytes"] <= 2 * 1024 * 1024,
            "sort_ms <= 200 (max)": max(figures["sort_ms"]) <= 200,
            "filter_ms <= 200 (max)": max(figures["filter_ms"]) <= 200,
            "cmp_parallel_ms <= 1000": med["cmp_parallel_ms"] <= 1000,
            "cmp_all_charts_ms <= 2000": med["cmp_all_charts_ms"] <= 2000,
        }
        report = {
            "benchmark": "compare", "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                                                "python": platform.python_version()},
            "loadavg": {"before": load_before, "after": load_after},
            "generate_s": round(generated, 1), "build_s": round(result.seconds, 1), "build_pages": result.pages,
            "median": med, "max": {k: round(max(v), 1) for k, v in figures.items()}, "samples": figures,
            "sizes": sizes, "goal_met": goals,
            "notes": "times in ms since navigation start (rows, charts) or since the click (sort, filter, "
                     "including the next frame); medians of --repeat runs",
        }
        out = ROOT / "benchmarks/results/compare.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        print(f"build: {result.pages} pages in {result.seconds:.1f} s (generated in {generated:.1f} s)")
        print(f"load average (1/5/15 min) before: {load_before}, after: {load_after}; {os.cpu_count()} CPUs")
        for key, value in med.items():
            print(f"  {key:24s} median {value:8.1f} ms   max {max(figures[key]):8.1f} ms")
        for key, value in sizes.items():
            print(f"  {key:28s} {value / 1024:9.1f} KiB")
        for key, ok in goals.items():
            print(f"  goal {key:30s} {'met' if ok else 'NOT met'}")
        print(f"wrote {out.relative_to(ROOT)}")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
