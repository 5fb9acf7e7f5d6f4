"""Lineage drawings (sitegen.lineage_svg): layouts kept by shape are the layouts made afresh."""

from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen import lineage_svg
from sitegen.graph import DiGraph
from sitegen.lineage import Node

KINDS = ["run", "dataset", "data", "model-version"]


def _graph(names, edges, prefix):
    graph = DiGraph()
    for i, (kind, label) in enumerate(names):
        key = f"{prefix}{i:02d}"
        graph.add_node(key, node=Node(key=key, kind=kind, label=label, sub=kind))
    for a, b in edges:
        if a < len(names) and b < len(names) and a != b:
            graph.add_edge(f"{prefix}{a:02d}", f"{prefix}{b:02d}")
    return graph


@given(names=st.lists(st.tuples(st.sampled_from(KINDS), st.sampled_from(["a", "run-12", "Model 3 v2", "x" * 40])),
                      min_size=1, max_size=7),
       edges=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=10))
@settings(max_examples=60, deadline=None)
def test_a_layout_kept_for_its_shape_is_the_layout_made_afresh(names, edges):
    lineage_svg._LAYOUTS.clear()
    fresh = lineage_svg.layout(_graph(names, edges, "a"))
    lineage_svg._LAYOUTS.clear()
    lineage_svg.layout(_graph(names, edges, "b"))  # the same shape under other keys: kept
    assert len(lineage_svg._LAYOUTS) == 1
    kept = lineage_svg.layout(_graph(names, edges, "a"))
    assert len(lineage_svg._LAYOUTS) == 1 and kept == fresh
