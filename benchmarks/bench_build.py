"""Build benchmark (issue 9): sitegen against the I/O floor and Hugo, on synthetic sources.

    python benchmarks/bench_build.py                 # corpus M (1,000 runs)
    python benchmarks/bench_build.py --size L        # corpus L (10,000 runs)
    python benchmarks/bench_build.py --size S --no-hugo

Each figure is one process measured from outside: wall seconds, CPU seconds and peak RSS (from
``os.wait4``: the largest of the process and its worker and Pagefind processes), and the stage timings
``sitegen build --timings`` prints. Figures:

- sitegen cold build (no output, no build cache, no compiled templates: the first build on a machine), a build
  with the build cache kept but no output (CI restoring its cache), no-op rebuild, rebuild after one run
  changed (a param renamed; the median of three edits, with and without search), the same in a process that
  stays up between rebuilds as ``sitegen serve`` does (the median of five edits), rebuild after one run was
  added; output bytes in all and per run page; pages per second for the whole build and for rendering (the
  site_pages and run_pages stages: every HTML page and the files written beside run pages, after the data is
  loaded, before exports and search).
- the I/O floor: reading every run.yaml (libyaml's C loader) and every metrics.parquet
  (``ParquetFile.read(use_threads=False)``), per-key summaries, and writing the same number of files with
  the same bytes as sitegen's output.
- Hugo (Debian's ``hugo``) rendering one page per run from Markdown front matter (params, summary
  metrics, tags) with a minimal theme; beside it, sitegen rendering only its HTML pages from the loaded
  project (no run data files, exports or search) in the same number of processes as the build. The two
  take turns, five runs each, every run into a new folder; they are compared on their medians.
- compiling the default theme's templates, which only the first build on a machine does (they are kept in
  the machine's cache, ``SITEGEN_CACHE_DIR``: here a folder of the benchmark's own, empty at the start).

Results are printed as a table and written to ``benchmarks/results/build-<size>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import corpus  # noqa: E402

RESULTS = HERE / "results"


# Measured processes run as in a normal install, whose modules are compiled to bytecode once and read back
# after: a shell that sets PYTHONDONTWRITEBYTECODE would make every start compile the modules changed since
# their bytecode was written (70 ms of a rebuild, in a working copy being edited).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def measure(cmd: list[str], cwd: Path | None = None, env: dict | None = None) -> dict:
    """Run ``cmd``; wall seconds, peak RSS (MB) of the largest process of its tree, CPU seconds of the
    process and its reaped descendants, and the stage timings sitegen prints with ``--timings``."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err_file:
        proc = subprocess.Popen(cmd, cwd=cwd, env=ENV if env is None else env, stdout=subprocess.DEVNULL,
                                stderr=err_file)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        err_file.seek(0)
        err = err_file.read().decode(errors="replace")
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-3000:]}")
    # wait4's ru_maxrss is the largest of the process and its reaped descendants (Linux), e.g. Pagefind
    out = {"seconds": round(wall, 3), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
           "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3)}
    for line in err.splitlines():
        if line.startswith("timings: "):
            out["stages"] = {k: float(v.rstrip("s")) for k, v in (x.split("=") for x in line[9:].split())}
    return out


def median_of(runs: list[dict], key: str) -> dict:
    """The run whose ``key`` is the median of ``runs`` (an odd number), with every run's ``key`` in ``each``:
    rendering and Hugo are compared on medians, since one run of either moves by a third on this machine."""
    ordered = sorted(runs, key=lambda r: r[key])
    return {**ordered[len(ordered) // 2], "each": [r[key] for r in runs]}


def tree_stats(root: Path) -> dict:
    files = [p for p in root.rglob("*") if p.is_file()]
    run_pages = [p for p in (root / "runs").rglob("index.html")]
    total = sum(p.stat().st_size for p in files)
    return {"files": len(files), "bytes": total, "html_pages": sum(1 for p in files if p.suffix == ".html"),
            "run_pages": len(run_pages),
            "bytes_per_run_page": round(sum(p.stat().st_size for p in run_pages) / max(1, len(run_pages))),
            "bytes_per_run_dir": round(sum(p.stat().st_size for p in files if "runs" in p.relative_to(root).parts)
                                       / max(1, len(run_pages)))}


IO_FLOOR = r'''
import sys, os, yaml, numpy as np, pyarrow as pa, pyarrow.parquet as pq, pyarrow.compute as pc, json
from pathlib import Path
src, out, sizes_file = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
loader = yaml.CSafeLoader
summaries = {}
for run_yaml in sorted(src.glob("runs/*/*/run.yaml")):
    data = yaml.load(run_yaml.read_text(), Loader=loader)
    pqf = run_yaml.parent / "metrics.parquet"
    if pqf.exists():
        t = pq.ParquetFile(pqf).read(use_threads=False)
        g = t.group_by("key").aggregate([("value", "min"), ("value", "max"), ("value", "count")])
        summaries[data["id"]] = g.num_rows
sizes = json.loads(sizes_file.read_text())
for rel, size in sizes:
    target = out / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"x" * size)
'''


RENDER_ONLY = r'''
import json, os, sys, time
from pathlib import Path
from sitegen import build as b, urls
from sitegen.cache import template_cache
from sitegen.forked import forked_map
from sitegen.output import SiteWriter
from sitegen.pages import provenance as provenance_pages
from sitegen.store.load import load_project
from sitegen.theme import resolve_theme

src, out, jobs = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
t0 = time.perf_counter()
project = load_project(src, jobs=jobs)
facts = provenance_pages.gather(project)
loaded = time.perf_counter()
JOB = {}

def run_chunk(uids):  # the build's passes over a chunk (sitegen.build._render_run_files), HTML alone
    writer = JOB["writer"].child()
    pages = b.run_page_contexts(project, facts, uids)
    html = [JOB["renderer"].render(page) for page in pages]
    for page, page_html in zip(pages, html):
        writer.write_bytes(page.url, page_html)
    return writer.part()

with b._fewer_collections(), SiteWriter(out) as writer:  # collecting garbage as the build does
    theme = resolve_theme(project.config.theme, src)
    renderer = b.Renderer(theme, project, b.publish_assets(theme, writer),
                          template_cache(b._renderer_versions()))  # compiled templates as the build has them
    JOB.update(writer=writer, renderer=renderer)
    fixed = b._site_pages(project, facts, None)
    b._write_pages(fixed, facts, renderer, writer)
    site_done = time.perf_counter()
    uids = sorted(project.runs)
    chunks = [uids[i:i + b.CHUNK] for i in range(0, len(uids), b.CHUNK)]
    # this process (first chunk first, before forking) and jobs - 1 forked ones, as the build
    for part in forked_map(run_chunk, chunks, jobs, warm_up=True):
        writer.merge(part)
    done = time.perf_counter()
    writer.publish()
print(json.dumps({"load_seconds": round(loaded - t0, 3), "site_pages": len(fixed),
                  "site_pages_seconds": round(site_done - loaded, 3), "run_pages": len(uids),
                  "run_pages_seconds": round(done - site_done, 3), "render_seconds": round(done - loaded, 3)}))
'''


RESIDENT = r'''
import json, re, statistics, sys, time
from pathlib import Path
from sitegen.build import build
src, site, run_yaml = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
edits, search = int(sys.argv[4]), sys.argv[5] == "search"
build(src, site, search=search)  # the first build of a `sitegen serve` session
times = []
for i in range(edits):
    text = run_yaml.read_text()
    key = re.search(r"\bp01\w*:", text).group(0)
    run_yaml.write_text(text.replace(key, f"p01_resident{i}:", 1))
    start = time.perf_counter()
    build(src, site, search=search)
    times.append(time.perf_counter() - start)
print(json.dumps({"seconds": round(statistics.median(times), 3), "each": [round(t, 3) for t in times]}))
'''


def resident(source: Path, site: Path, run_yaml: Path, search: bool, edits: int = 5) -> dict:
    """Rebuilds after one run changed, in one process that stays up between them, as `sitegen serve`
    rebuilds on every save (no Python start-up and imports each time): the median of ``edits`` rebuilds."""
    proc = subprocess.run([sys.executable, "-c", RESIDENT, str(source), str(site), str(run_yaml), str(edits),
                           "search" if search else "no-search"], capture_output=True, text=True, env=ENV)
    if proc.returncode != 0:
        raise SystemExit(f"resident rebuild measurement failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


COMPILE = r'''
import json, time
from pathlib import Path
from sitegen.render import make_environment
from sitegen.theme import resolve_theme
env = make_environment(resolve_theme(None, Path(".")))  # no bytecode cache: every template compiled
names = env.list_templates(extensions=["html"])
start = time.perf_counter()
for name in names:
    env.get_template(name)
print(json.dumps({"templates": len(names), "seconds": round(time.perf_counter() - start, 3)}))
'''


def compile_templates() -> dict:
    """Compiling every template of the default theme, as the first build on a machine does (later builds
    load them from the machine's cache: see sitegen.cache.template_cache)."""
    proc = subprocess.run([sys.executable, "-c", COMPILE], capture_output=True, text=True, env=ENV)
    if proc.returncode != 0:
        raise SystemExit(f"template compile measurement failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def render_only(source: Path, out: Path, jobs: int) -> dict:
    """Every HTML page rendered and written from the loaded project (in ``jobs`` processes) into ``out`` (a new
    folder), and nothing else: no run data files, exports or search. What Hugo's figure compares with."""
    proc = subprocess.run([sys.executable, "-c", RENDER_ONLY, str(source), str(out), str(jobs)],
                          capture_output=True, text=True, env=ENV)
    if proc.returncode != 0:
        raise SystemExit(f"render-only measurement failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    pages = result["site_pages"] + result["run_pages"]
    result["pages_per_second"] = round(pages / result["render_seconds"], 1)
    result["run_pages_per_second"] = round(result["run_pages"] / result["run_pages_seconds"], 1)
    return result


def io_floor(source: Path, site: Path, work: Path) -> dict:
    sizes = sorted([p.relative_to(site).as_posix(), p.stat().st_size] for p in site.rglob("*") if p.is_file())
    sizes_file = work / "sizes.json"
    sizes_file.write_text(json.dumps(sizes))
    out = work / "floor-out"
    shutil.rmtree(out, ignore_errors=True)
    return measure([sys.executable, "-c", IO_FLOOR, str(source), str(out), str(sizes_file)])


HUGO_LAYOUT = """<!DOCTYPE html><html><head><title>{{ .Title }}</title></head><body><h1>{{ .Title }}</h1>
<h2>Params</h2><table>{{ range $k, $v := .Params.hyper }}<tr><td>{{ $k }}</td><td>{{ $v }}</td></tr>{{ end }}</table>
<h2>Metrics</h2><table>{{ range $k, $v := .Params.metrics }}<tr><td>{{ $k }}</td><td>{{ $v }}</td></tr>{{ end }}</table>
<h2>Tags</h2><ul>{{ range $k, $v := .Params.runtags }}<li>{{ $k }}: {{ $v }}</li>{{ end }}</ul>
{{ .Content }}</body></html>
"""


def hugo_site(source: Path, work: Path) -> tuple[Path, int]:
    import yaml

    from sitegen.store.load import load_project

    project = load_project(source)
    site = work / "hugo"
    shutil.rmtree(site, ignore_errors=True)
    (site / "content" / "runs").mkdir(parents=True)
    (site / "layouts" / "_default").mkdir(parents=True)
    (site / "layouts" / "_default" / "single.html").write_text(HUGO_LAYOUT)
    (site / "layouts" / "_default" / "list.html").write_text("<html><body>{{ range .Pages }}"
                                                             "<a href='{{ .RelPermalink }}'>{{ .Title }}</a>"
                                                             "{{ end }}</body></html>")
    (site / "layouts" / "index.html").write_text("<html><body>runs</body></html>")
    (site / "config.yaml").write_text("baseURL: https://example.org/\ndisableKinds: [taxonomy, term, RSS, sitemap]\n")
    for uid, run in project.runs.items():
        front = {"title": run.name, "hyper": {k: str(v) for k, v in run.params_flat.items()},
                 "metrics": {k: m.last for k, m in run.metrics.items()},
                 "runtags": {k: str(v) for k, v in run.tags.items()}}
        name = uid.replace("/", "--")
        (site / "content" / "runs" / f"{name}.md").write_text(
            "---\n" + yaml.safe_dump(front, sort_keys=True) + "---\n" + (run.notes or "A run.") + "\n")
    return site, len(project.runs)


REPEATS = 5  # runs of the rendering and of Hugo, taking turns, compared on their medians


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="sitegen build benchmark")
    parser.add_argument("--size", choices=sorted(corpus.SIZES), default="M")
    parser.add_argument("--jobs", type=int, default=None, help="sitegen build --jobs (default: all cores)")
    parser.add_argument("--no-hugo", action="store_true")
    parser.add_argument("--keep", type=Path, help="work directory to keep (default: a temporary one)")
    args = parser.parse_args(argv)

    work = args.keep or Path(tempfile.mkdtemp(prefix="sitegen-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    # The machine's cache of compiled templates starts empty, as after installing sitegen: the cold build
    # compiles them (see "templates" below); every later build loads them, as on a machine used before.
    machine_cache = work / "machine-cache"
    shutil.rmtree(machine_cache, ignore_errors=True)
    ENV["SITEGEN_CACHE_DIR"] = str(machine_cache)
    source = work / f"corpus-{args.size}"
    site = work / "site"
    t0 = time.perf_counter()
    corpus.generate(args.size, source)
    results: dict = {"size": args.size, "runs": corpus.SIZES[args.size], "machine": platform.platform(),
                     "cpus": os.cpu_count(), "generate_seconds": round(time.perf_counter() - t0, 2)}
    results["templates"] = compile_templates()
    sitegen_cmd = [sys.executable, "-m", "sitegen", "build", "-q", "--timings", str(source), "-o", str(site)]
    if args.jobs:
        sitegen_cmd += ["--jobs", str(args.jobs)]
    cache = work / f".{site.name}.cache"  # the build cache beside the output
    shutil.rmtree(site, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    results["cold"] = measure(sitegen_cmd)
    results["output"] = tree_stats(site)
    shutil.rmtree(site)  # CI with the build cache restored (see the README) but no previous site
    results["cold_cache_kept"] = measure(sitegen_cmd)
    results["noop"] = measure(sitegen_cmd)
    run_yaml = sorted(source.glob("runs/exp-03/*/run.yaml"))[5]

    def one_changed(extra: list[str], tag: str) -> dict:
        """The median of three rebuilds, each after the run's parameter p01 got another name."""
        runs = []
        for i in range(3):
            text = run_yaml.read_text()
            key = re.search(r"\bp01\w*:", text).group(0)
            run_yaml.write_text(text.replace(key, f"p01_{tag}{i}:", 1))
            runs.append(measure(sitegen_cmd + extra))
        return median_of(runs, "seconds")

    results["one_changed"] = one_changed([], "changed")
    results["one_changed_no_search"] = one_changed(["--no-search"], "again")
    results["one_changed_resident"] = resident(source, site, run_yaml, search=False)
    results["one_changed_resident_search"] = resident(source, site, run_yaml, search=True)
    results["noop"] = results.get("noop") or {}
    measure(sitegen_cmd)  # back to a site with its search index
    new_run = source / "runs" / "exp-03" / "20261231-235959-abcdef"
    shutil.copytree(run_yaml.parent, new_run)
    (new_run / "run.yaml").write_text((new_run / "run.yaml").read_text().replace(run_yaml.parent.name, new_run.name))
    results["one_added"] = measure(sitegen_cmd)
    pages = results["output"]["html_pages"]
    results["pages_per_second_cold"] = round(pages / results["cold"]["seconds"], 1)
    stages = results["cold"].get("stages", {})
    rendering = stages.get("site_pages", 0) + stages.get("run_pages", 0)
    if rendering:  # everything after the data is loaded, up to search and exports: pages and run files
        results["render_seconds"] = round(rendering, 3)
        results["render_pages_per_second"] = round(pages / rendering, 1)
    results["io_floor"] = io_floor(source, site, work)
    results["cold_vs_io_floor"] = round(results["cold"]["seconds"] / results["io_floor"]["seconds"], 2)
    jobs = args.jobs or os.cpu_count() or 1
    fresh = work / "outputs"  # the rendering's and Hugo's outputs, each new
    shutil.rmtree(fresh, ignore_errors=True)
    if not args.no_hugo and shutil.which("hugo"):
        hsite, n = hugo_site(source, work)

        # Taking turns, each run into a folder of its own, deleted only when all are done: this file system's
        # speed drifts by half within minutes, and deleting a tree slows what is written next (the ext4 here
        # discards freed blocks as it goes), so neither side pays for the other's or its own deletes.
        rendered, hugos = [], []
        for i in range(REPEATS):
            rendered.append(render_only(source, fresh / f"render-{i}", jobs))
            hugos.append(measure(["hugo", "--quiet", "-s", str(hsite), "-d", str(fresh / f"hugo-{i}")]))
        results["render_only"] = median_of(rendered, "run_pages_seconds")
        results["hugo"] = median_of(hugos, "seconds")
        results["hugo"]["pages"] = n
        results["hugo"]["pages_per_second"] = round(n / results["hugo"]["seconds"], 1)
        results["hugo"]["version"] = subprocess.run(["hugo", "version"], capture_output=True, text=True).stdout.strip()
    else:
        results["render_only"] = median_of([render_only(source, fresh / f"render-{i}", jobs) for i in range(REPEATS)],
                                           "run_pages_seconds")
    shutil.rmtree(fresh, ignore_errors=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"build-{args.size}.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"corpus {args.size}: {results['runs']} runs, {pages} HTML pages, "
          f"{results['output']['bytes'] / 1e6:.1f} MB output ({results['output']['bytes_per_run_page'] / 1e3:.1f} KB "
          f"a run page)")
    print(f"{'measurement':<28}{'seconds':>10}{'peak RSS MB':>14}")
    for key in ("cold", "cold_cache_kept", "noop", "one_changed", "one_changed_no_search", "one_changed_resident",
                "one_changed_resident_search", "one_added", "io_floor", "hugo"):
        if key in results:
            r = results[key]
            rss = f"{r['peak_rss_mb']:>14.1f}" if "peak_rss_mb" in r else f"{'-':>14}"
            print(f"{key:<28}{r['seconds']:>10.2f}{rss}")
    print(f"cold build / I/O floor: {results['cold_vs_io_floor']}x; sitegen {results['pages_per_second_cold']} pages/s"
          f" whole build, {results.get('render_pages_per_second', '?')} pages/s rendering (site and run pages with "
          f"their files, after loading)" + (f"; hugo {results['hugo']['pages_per_second']} pages/s" if "hugo" in results
                                            else ""))
    ro = results["render_only"]
    print(f"HTML only, from the loaded project (medians of {REPEATS}, as Hugo's): {ro['run_pages']} run pages in "
          f"{ro['run_pages_seconds']:.2f} s "
          f"({ro['run_pages_per_second']} pages/s), {ro['site_pages']} other pages in {ro['site_pages_seconds']:.2f} s; "
          f"all {ro['pages_per_second']} pages/s" + (f" (hugo {results['hugo']['pages_per_second']} pages/s)"
                                                     if "hugo" in results else ""))
    t = results["templates"]
    print(f"templates: {t['templates']} compiled in {t['seconds']:.2f} s, once a machine (in the cold build; later "
          f"builds, and the HTML-only runs above, load them from the machine's cache)")
    for key in ("cold", "one_changed"):
        if results[key].get("stages"):
            print(f"{key} stages: " + ", ".join(f"{k} {v:.2f} s" for k, v in results[key]["stages"].items()))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
