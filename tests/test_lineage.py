"""The derived lineage graph, its collapsing, and its SVG drawing."""

from __future__ import annotations

import re
import time
from pathlib import Path

import yaml

from sitegen.lineage import build_lineage, collapse, data_key, model_key, run_key
from sitegen.lineage_svg import render_svg
from sitegen.store.load import load_project

SAMPLE = Path(__file__).resolve().parents[1] / "sample_runs"
D1, D2, D3 = ("sha256:" + c * 64 for c in "123")


def write_run(root: Path, exp: str, rid: str, *, inputs=(), outputs=(), name=None) -> None:
    folder = root / "runs" / exp / rid
    folder.mkdir(parents=True, exist_ok=True)
    data = {"format": "sitegen.run/1", "id": rid, "status": "finished", "name": name or rid,
            "provenance": {"inputs": list(inputs), "outputs": list(outputs)}}
    (folder / "run.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def test_sample_chain_preprocessing_training_model():
    lin = build_lineage(load_project(SAMPLE))
    prep, train = "feature-pipeline/20261102-081500-54f3c6", "cifar10-resnet/20261118-112026-56d8f2"
    cifar = "data:sha256:4a0adfb540f30274c656506ba1e0222316d32622cf1eaa3025e818a99d65a725"
    assert lin.graph.has_edge(run_key(prep), cifar) and lin.graph.has_edge(cifar, run_key(train))
    assert lin.graph.has_edge(run_key(train), model_key("cifar10-classifier", 2))
    assert lin.node(cifar).kind == "dataset" and lin.node(cifar).url == "datasets/cifar10/index.html"
    assert prep in lin.upstream_runs(train) and train in lin.downstream_runs(prep)
    impact = lin.downstream(cifar)
    assert model_key("cifar10-classifier", 2) in impact and run_key(train) in impact


def test_edges_by_digest_dataset_slug_and_stale_inputs(tmp_path):
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "raw.yaml").write_text(f"format: sitegen.dataset/1\nname: Raw\ndigest: '{D1}'\n")
    write_run(tmp_path, "prep", "p1", inputs=[{"name": "raw", "dataset": "raw"}],
              outputs=[{"name": "feat", "kind": "features", "digest": D2}, {"name": "log", "digest": D3}])
    write_run(tmp_path, "train", "t1", inputs=[{"name": "feat", "digest": D2}])
    write_run(tmp_path, "train", "t2", inputs=[{"name": "raw", "digest": D3}])  # names raw, other digest
    lin = build_lineage(load_project(tmp_path))
    g = lin.graph
    assert g.has_edge(data_key(D1), run_key("prep/p1"))  # by dataset slug, no digest recorded
    assert g.has_edge(run_key("prep/p1"), data_key(D2)) and g.has_edge(data_key(D2), run_key("train/t1"))
    assert lin.upstream_runs("train/t1") == ["prep/p1"]
    # D3 is written by p1 and read by t2: a data node; t2 is flagged as reading "raw" with another digest
    assert g.has_edge(run_key("prep/p1"), data_key(D3))
    (stale,) = lin.stale_inputs
    assert (stale.run, stale.dataset, stale.recorded, stale.expected) == ("train/t2", "raw", D3, D1)
    assert "stale" in lin.node(data_key(D3)).flags


def test_outputs_nobody_reads_are_not_nodes(tmp_path):
    write_run(tmp_path, "e", "r1", outputs=[{"name": "ckpt", "kind": "model", "digest": D1}])
    lin = build_lineage(load_project(tmp_path))
    assert data_key(D1) not in lin and lin.connected().number_of_nodes() == 0


def big_source(root: Path, experiments: int = 12, runs_each: int = 100) -> None:
    for e in range(experiments):
        write_run(root, f"prep{e}", "p", inputs=[{"name": "src", "uri": f"s3://b/{e}", "digest": f"sha256:{e:064x}"}],
                  outputs=[{"name": "out", "kind": "dataset", "digest": f"sha256:{e + 100:064x}"}])
        for i in range(runs_each):
            write_run(root, f"exp{e}", f"r{i}", inputs=[{"name": "d", "digest": f"sha256:{e + 100:064x}"}],
                      outputs=[{"name": "m", "kind": "model", "digest": f"sha256:{10000 + e * 1000 + i:064x}"}])


def test_collapse_keeps_thousands_readable(tmp_path):
    big_source(tmp_path)
    project = load_project(tmp_path, with_history=False)
    lin = build_lineage(project)
    full = lin.connected()
    assert full.number_of_nodes() > 1200
    started = time.perf_counter()
    small = collapse(full, project, limit=150)
    svg = render_svg(small, "lineage/index.html", svg_id="x")
    elapsed = time.perf_counter() - started
    assert small.number_of_nodes() <= 3 * 12 + 2
    cluster = small.nodes["cluster:exp:exp3"]["node"]
    assert cluster.count == 100 and cluster.url == "experiments/exp3/index.html"
    assert 'href="../experiments/exp3/index.html"' in svg
    assert elapsed < 5, elapsed


def test_svg_escapes_labels_and_links_relatively(tmp_path):
    write_run(tmp_path, "e", "r1", name='<script>alert("x")</script>', outputs=[{"name": "a&b", "kind": "dataset",
                                                                                 "digest": D1}])
    write_run(tmp_path, "e", "r2", inputs=[{"name": "a&b", "digest": D1}])
    project = load_project(tmp_path)
    lin = build_lineage(project)
    svg = str(render_svg(lin.connected(), "runs/e/r2/index.html", svg_id="n", focus=run_key("e/r2")))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "a&amp;b" in svg
    hrefs = re.findall(r'href="([^"]+)"', svg)
    assert "../r1/index.html" in hrefs and all(not h.startswith(("/", "http")) for h in hrefs)
    # the focus node is drawn, not linked to itself
    assert "../r2/index.html" not in hrefs
    # deterministic: the same graph draws the same bytes
    assert svg == str(render_svg(build_lineage(load_project(tmp_path)).connected(), "runs/e/r2/index.html",
                                 svg_id="n", focus=run_key("e/r2")))


def test_neighbourhood_is_two_steps_each_way(tmp_path):
    chain = [f"sha256:{i:064x}" for i in range(6)]
    for i in range(5):  # r0 -> d1 -> r1 -> d2 -> r2 ...
        write_run(tmp_path, "e", f"r{i}", inputs=[{"name": f"d{i}", "digest": chain[i]}],
                  outputs=[{"name": f"d{i + 1}", "kind": "dataset", "digest": chain[i + 1]}])
    lin = build_lineage(load_project(tmp_path))
    near = set(lin.neighbourhood(run_key("e/r2")))
    assert near == {run_key("e/r1"), data_key(chain[2]), run_key("e/r2"), data_key(chain[3]), run_key("e/r3")}
