"""The bad-input corpus (tests/corpus/cases.py): every case gets its exact diagnostics from ``sitegen
validate``; ``sitegen build`` reports them, skips only the broken items and builds the rest; ``--strict``
fails; nothing outside the source is ever read."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from click.testing import CliRunner

from corpus.cases import CASES, LFS_OID, OUTSIDE_MARKER, SPARSE_SIZE, Case, make_corpus, write_parquet
from sitegen.cli import main
from sitegen.diagnostics import Diagnostic
from sitegen.store.load import load_project

LINE_RE = re.compile(r"^(?P<path>.*):(?P<line>\d+):(?P<col>\d+): (?P<severity>error|warning): (?P<message>.*)$")
ALL_EXPECTED = [e for case in CASES for e in case.expect]
GOOD_PAGES = ["index.html", "experiments/good/index.html", "runs/good/g1/index.html", "runs/good/g1/metrics.csv",
              "models/good-model/index.html", "models/good-model/1/index.html", "datasets/good-data/index.html",
              "data/runs.csv", "data/runs.json"]


def sitegen(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sitegen", *args], capture_output=True, text=True, timeout=300)


def printed(e) -> str:
    """How ``sitegen validate`` prints the start of an expected diagnostic (control characters escaped)."""
    return str(Diagnostic(e.path, e.line, e.col, "", e.severity))[:-1]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return make_corpus(tmp_path_factory.mktemp("corpus") / "src")


@pytest.fixture(scope="module")
def corpus_build(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus-site") / "site"
    proc = sitegen("build", str(corpus), "-o", str(out), "-q")
    return proc, out


# --- validate -------------------------------------------------------------------------------------


def test_loader_reports_exactly_the_expected_diagnostics(corpus):
    """Every diagnostic of the whole corpus is one the table expects, and every expected one is there."""
    diags = list(load_project(corpus).diagnostics)
    unexpected = [str(d) for d in diags if not any(e.matches(d) for e in ALL_EXPECTED)]
    missing = [str(e) for e in ALL_EXPECTED if not any(e.matches(d) for d in diags)]
    assert not unexpected and not missing, f"unexpected: {unexpected}\nmissing: {missing}"
    assert len(diags) == len(ALL_EXPECTED)


def test_validate_prints_file_line_col_and_exits_1(corpus):
    proc = sitegen("validate", str(corpus))
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stdout.splitlines()
    assert all(LINE_RE.match(line) for line in lines), [l for l in lines if not LINE_RE.match(l)]
    assert len(lines) == len(ALL_EXPECTED)  # one line per problem, even for names with a newline in them
    for e in ALL_EXPECTED:
        assert any(line.startswith(printed(e)) and e.message in line for line in lines), f"not printed: {e}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_case_alone(case: Case, tmp_path):
    """A source with only the good items and this case: exactly this case's diagnostics, in order."""
    root = make_corpus(tmp_path / "src", [case])
    result = CliRunner().invoke(main, ["validate", str(root)])
    errors = [e for e in case.expect if e.severity == "error"]
    assert result.exit_code == (1 if errors else 0), result.output
    lines = result.output.splitlines()
    assert len(lines) == len(case.expect), result.output
    for e in case.expect:
        assert any(line.startswith(printed(e)) and e.message in line for line in lines), f"{e}\n{result.output}"


def test_validate_warnings_as_errors(tmp_path):
    (case,) = [c for c in CASES if c.name == "duplicate-ids"]
    root = make_corpus(tmp_path / "src", [case])
    assert CliRunner().invoke(main, ["validate", str(root)]).exit_code == 0
    assert CliRunner().invoke(main, ["validate", "--warnings-as-errors", str(root)]).exit_code == 1


# --- build ----------------------------------------------------------------------------------------


def test_build_reports_problems_and_builds_the_rest(corpus_build):
    proc, out = corpus_build
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    for e in ALL_EXPECTED:
        assert any(line.startswith(printed(e)) and e.message in line for line in proc.stderr.splitlines()), str(e)
    for page in GOOD_PAGES:
        assert (out / page).is_file(), page


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_build_skips_only_the_bad_item(case: Case, corpus_build):
    _, out = corpus_build
    for page in case.built:
        assert (out / page).is_file(), f"{case.name}: {page} was not built"
    for page in case.absent:
        assert not (out / page).exists(), f"{case.name}: {page} should not be in the site"


def test_strict_build_fails_and_writes_nothing(corpus, tmp_path):
    out = tmp_path / "site"
    proc = sitegen("build", str(corpus), "-o", str(out), "--strict", "-q")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert f"{len(ALL_EXPECTED)} problem(s) in the source; with --strict nothing was built" in proc.stderr
    assert not out.exists()


def test_nothing_from_outside_the_source(corpus_build):
    _, out = corpus_build
    passwd = Path("/etc/passwd").read_bytes()[:20]
    for path in out.rglob("*"):
        assert not path.is_symlink(), path
        if path.is_file():
            data = path.read_bytes()
            assert OUTSIDE_MARKER.encode() not in data, path
            assert passwd not in data, path


def test_sparse_artifact_listed_with_size_never_copied(corpus_build):
    _, out = corpus_build
    html = (out / "runs/sparse-artifact/sparse1/index.html").read_text()
    assert "weights.bin" in html and "2.0 GB" in html
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    assert total < SPARSE_SIZE // 20, f"site is {total} bytes"


def test_lfs_pointer_shown_with_size_and_oid(corpus_build):
    _, out = corpus_build
    html = (out / "runs/lfs/lfs1/index.html").read_text()
    assert "model.bin" in html and "700.0 MB" in html and LFS_OID[:12] in html
    assert "LFS" in html


def test_extreme_numbers_are_shown_and_exported(corpus_build):
    _, out = corpus_build
    html = (out / "runs/extreme-numbers/numbers1/index.html").read_text()
    for text in ("NaN", "inf", "-inf", "1.000e+308", "-1.000e+308"):
        assert re.search(rf">\s*{re.escape(text)}\s*<", html), text
    csv = (out / "runs/extreme-numbers/numbers1/metrics.csv").read_text()
    assert "inf" in csv and "nan" in csv.lower() and "1e+308" in csv
    # the JSON exports stay strict JSON (no bare NaN / Infinity tokens)
    import json

    json.loads((out / "data/runs.json").read_text(), parse_constant=lambda c: pytest.fail(f"bare {c} in runs.json"))


def test_many_params_all_listed(corpus_build):
    _, out = corpus_build
    html = (out / "runs/many-params/params1/index.html").read_text()
    assert html.count("p0") >= 10_000 and "p09999" in html


def test_odd_names_published(corpus_build):
    _, out = corpus_build
    html = (out / "runs/odd-names/odd-ok/index.html").read_text()
    assert "we ird &amp; &lt;name&gt;.txt" in html
    assert (out / "runs/odd-names/odd-ok/artifacts/we ird & <name>.txt").read_text() == "odd file name\n"
    nul = (out / "runs/odd-names/nul/index.html").read_text()
    assert "\x00" not in nul


def test_bad_parquet_runs_keep_their_summary(corpus_build):
    _, out = corpus_build
    html = (out / "runs/bad-parquet/corrupt/index.html").read_text()
    assert "0.5" in html  # metrics: loss from run.yaml
    csv = (out / "runs/bad-parquet/torn-journal/metrics.csv").read_text().splitlines()
    assert len(csv) == 3  # header + the two good journal lines


def test_bom_and_non_utf8_artifacts(corpus_build):
    _, out = corpus_build
    html = (out / "runs/encoding/bom/index.html").read_text()
    assert "café with a BOM" in html
    art = (out / "runs/encoding/artifacts/index.html").read_text()
    assert "\ufffd" in art or "caf" in art


def test_yaml_exponent_floats_are_numbers(tmp_path):
    """`1e-4` and `1e308` are floats (YAML 1.2), not strings as in PyYAML's YAML 1.1 default."""
    from sitegen.store.yamlio import parse_yaml

    data = parse_yaml("a: 1e308\nb: 1e-4\nc: -2E+3\nd: 12\ne: '1e5'\nf: 1e\n").data
    assert data == {"a": 1e308, "b": 1e-4, "c": -2000.0, "d": 12, "e": "1e5", "f": "1e"}


# --- scale ----------------------------------------------------------------------------------------


def _peak_rss_mb(cmd: list[str]) -> tuple[subprocess.CompletedProcess, float]:
    code = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
            "sys.stdout.write(p.stdout); sys.stderr.write(p.stderr); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(p.returncode)")
    proc = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True, timeout=900)
    return proc, int(proc.stderr.strip().splitlines()[-1]) / 1024


@pytest.mark.slow
def test_ten_million_points(tmp_path):
    """One metric with 10,000,000 points: the page's chart is downsampled and memory stays bounded."""
    from corpus.cases import make_base, good_run

    root = tmp_path / "src"
    make_base(root)
    good_run(root, "huge", "h1")
    n = 10_000_000
    steps = np.arange(n, dtype=np.int64)
    table = pa.table({"key": pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), ["loss"]),
                      "step": steps, "value": np.sin(steps / 1e5) + steps / n})
    write_parquet(root / "runs/huge/h1/metrics.parquet", table)
    out = tmp_path / "site"
    proc, peak = _peak_rss_mb([sys.executable, "-m", "sitegen", "build", str(root), "-o", str(out), "-q"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    page = out / "runs/huge/h1/index.html"
    assert page.stat().st_size < 2_000_000, page.stat().st_size
    print(f"10M points: peak RSS {peak:.0f} MB, page {page.stat().st_size} bytes")
    assert peak < 3000, f"peak RSS {peak:.0f} MB"
