"""query.js (the browser's query engine) agrees with sitegen.query: same matches, canonical forms,
fields, error positions and messages. One node process evaluates the whole batch."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from query_strategies import encode, encode_row, junk_text, load_cases, query_text, row
from sitegen.query import QueryError, number_text, parse

HARNESS = Path(__file__).with_name("query_harness.js")
GENERATED_QUERIES = 300
GENERATED_JUNK = 150
GENERATED_NUMBERS = 200
GENERATED_ROWS = 60
PERF_ROWS = 2000
PERF_QUERY = ("experiment = 'mnist' and metrics.acc > 0.5 and (params.optimizer.name LIKE 'adam%' "
              "or params.lr < 0.01) and status != 'failed' and tags.team IS NOT NULL")


@pytest.fixture(scope="module", autouse=True)
def node() -> str:
    """The node executable; checked before the (slower) batch is generated."""
    node = shutil.which("node")
    if node is None:
        if os.environ.get("SITEGEN_REQUIRE_BROWSER") == "1":
            pytest.fail("node is not on PATH and SITEGEN_REQUIRE_BROWSER=1")
        pytest.skip("node is not on PATH")
    return node


def _collect(strategy, count: int) -> list:
    """Draw ``count`` examples from a strategy, deterministically (the same batch on every run)."""
    out: list = []

    @settings(max_examples=count, derandomize=True, database=None, deadline=None, phases=[Phase.generate])
    @given(strategy)
    def draw(example):
        out.append(example)

    draw()
    return out


def _perf_rows() -> list[dict]:
    import random

    rng = random.Random(0)
    return [{
        "attributes.status": rng.choice(["finished", "failed", "running"]),
        "attributes.experiment": rng.choice(["mnist", "cifar"]),
        "metrics.acc": rng.random(),
        "metrics.loss": rng.random() * 3,
        "params.lr": rng.choice([0.1, 0.01, 0.001, 0.0003]),
        "params.optimizer.name": rng.choice(["adam", "adamw", "sgd"]),
        "tags.team": rng.choice(["vision", "nlp", None]),
    } for _ in range(PERF_ROWS)]


def python_result(query: str, rows_: list[dict]) -> dict:
    try:
        q = parse(query)
    except QueryError as error:
        return {"error": {"position": error.position, "message": str(error)}}
    return {"canonical": str(q), "fields": sorted(q.fields()), "matches": [q.matches(r) for r in rows_]}


@pytest.fixture(scope="module")
def batch():
    """Everything both engines evaluate: (query, row set) cases, floats to format, the timing case."""
    golden = load_cases()
    row_sets = [golden["rows"]]
    cases = [{"query": c["query"], "rows": 0, "source": "golden", "expect": c} for c in golden["cases"]]
    row_sets.append(_collect(row, GENERATED_ROWS))  # one pool of rows for every generated query
    cases += [{"query": text, "rows": 1, "source": "grammar"} for text in _collect(query_text, GENERATED_QUERIES)]
    cases += [{"query": text, "rows": 1, "source": "junk"} for text in _collect(junk_text, GENERATED_JUNK)]
    numbers = [0.0, -0.0, 1e21, 1e-7, 123e-20, 2.0**53, 5e-324, 1.7976931348623157e308, math.inf, -math.inf,
               math.nan] + _collect(st.floats(), GENERATED_NUMBERS)
    return {"row_sets": row_sets, "cases": cases, "numbers": numbers, "perf_rows": _perf_rows()}


@pytest.fixture(scope="module")
def node_output(batch, node):
    payload = {
        "row_sets": [[encode_row(r) for r in rows_] for rows_ in batch["row_sets"]],
        "cases": [{"query": c["query"], "rows": c["rows"]} for c in batch["cases"]],
        "numbers": [encode(x) for x in batch["numbers"]],
        "perf": {"query": PERF_QUERY, "rows": batch["perf_rows"]},
    }
    proc = subprocess.run([node, str(HARNESS)], input=json.dumps(payload), capture_output=True,
                          text=True, encoding="utf-8", timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _mismatches(batch, node_output, source: str) -> list[str]:
    problems = []
    for case, js in zip(batch["cases"], node_output["results"]):
        if case["source"] != source:
            continue
        py = python_result(case["query"], batch["row_sets"][case["rows"]])
        if js != py:
            problems.append(f"{case['query']!r}\n  python: {py}\n  js:     {js}")
    return problems


def test_batch_is_complete(batch, node_output):
    assert len(node_output["results"]) == len(batch["cases"])
    sources = [c["source"] for c in batch["cases"]]
    assert sources.count("grammar") >= GENERATED_QUERIES // 2   # hypothesis may stop early on tiny spaces
    assert sources.count("junk") >= GENERATED_JUNK // 2
    assert not [r for r in node_output["results"] if "crash" in r]


def test_golden_cases_in_javascript(batch, node_output):
    for case, js in zip(batch["cases"], node_output["results"]):
        if case["source"] != "golden":
            continue
        expect = case["expect"]
        if "error_position" in expect:
            assert js.get("error", {}).get("position") == expect["error_position"], case["query"]
        else:
            ids = [row["attributes.id"] for row, hit in zip(batch["row_sets"][0], js["matches"]) if hit]
            assert ids == expect["expect"], case["query"]


def test_golden_cases_agree(batch, node_output):
    assert _mismatches(batch, node_output, "golden") == []


def test_generated_queries_agree(batch, node_output):
    problems = _mismatches(batch, node_output, "grammar")
    assert problems == [], "\n".join(problems[:10])
    parsed = [r for c, r in zip(batch["cases"], node_output["results"]) if c["source"] == "grammar"]
    assert all("canonical" in r for r in parsed)  # the grammar only makes valid queries
    assert sum(any(r["matches"]) for r in parsed) > len(parsed) // 10  # and they do match things


def test_junk_text_agrees(batch, node_output):
    problems = _mismatches(batch, node_output, "junk")
    assert problems == [], "\n".join(problems[:10])
    junk = [r for c, r in zip(batch["cases"], node_output["results"]) if c["source"] == "junk"]
    assert sum("error" in r for r in junk) > len(junk) // 2


def test_number_text_matches_javascript_string(batch, node_output):
    assert [number_text(x) for x in batch["numbers"]] == node_output["numbers"]


def test_javascript_filter_of_2000_rows_is_fast(batch, node_output):
    perf = node_output["perf"]
    q = parse(PERF_QUERY)
    assert perf["count"] == sum(q.matches(r) for r in batch["perf_rows"])
    print(f"query.js filter over {PERF_ROWS} rows: {perf['best_ms']:.2f} ms")
    assert perf["best_ms"] < 50


def test_query_js_works_as_a_classic_browser_script(node_output):
    assert node_output["classic"] == {
        "defined": True,
        "canonical": "metrics.acc > 0.5 and attributes.status = 'FINISHED'",
        "matches": True,
        "errorPosition": 9,
    }
