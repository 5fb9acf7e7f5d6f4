"""The small directed graph behind the lineage pages: what networkx gave them, in insertion order."""

from sitegen.graph import DiGraph, ancestors, descendants, weakly_connected_components, within


def chain() -> DiGraph:
    g = DiGraph()
    g.add_node("a", label="A")
    for x, y in [("a", "b"), ("b", "c"), ("c", "d"), ("x", "c"), ("y", "z")]:
        g.add_edge(x, y, role=f"{x}{y}")
    return g


def test_nodes_and_edges_keep_their_attributes_and_insertion_order():
    g = chain()
    assert list(g) == ["a", "b", "c", "d", "x", "y", "z"] and len(g) == g.number_of_nodes() == 7
    assert g.nodes["a"] == {"label": "A"} and g.nodes["b"] == {}  # made by an edge
    g.add_node("a", kind="data")  # a node added again keeps its place and gains attributes
    assert list(g)[0] == "a" and g.nodes["a"] == {"label": "A", "kind": "data"}
    assert g.edges() == [("a", "b"), ("b", "c"), ("c", "d"), ("x", "c"), ("y", "z")] == list(g.edges)
    assert g.edges["x", "c"] == {"role": "xc"} and ("x", "c", {"role": "xc"}) in g.edges(data=True)
    g.add_edge("x", "c", count=2)  # one edge a pair: its attributes are updated
    assert g.number_of_edges() == 5 and g.edges["x", "c"] == {"role": "xc", "count": 2}
    assert g.has_edge("a", "b") and not g.has_edge("b", "a") and not g.has_edge("q", "a")
    assert list(g.predecessors("c")) == ["b", "x"] and list(g.successors("c")) == ["d"]
    assert (g.degree("c"), g.degree("a"), "q" in g, "a" in g.nodes) == (3, 1, False, True)
    assert [k for k, _ in g.nodes(data=True)] == list(g)


def test_subgraph_is_a_copy_in_the_graphs_order():
    g = chain()
    sub = g.subgraph({"d", "c", "b", "y"})
    assert list(sub) == ["b", "c", "d", "y"] and sub.edges() == [("b", "c"), ("c", "d")]
    sub.edges["b", "c"]["role"] = "changed"
    sub.add_node("b", label="B")
    assert g.edges["b", "c"] == {"role": "bc"} and g.nodes["b"] == {}  # the graph is untouched
    assert g.copy().edges(data=True) == g.edges(data=True) and g.copy() is not g


def test_traversals():
    g = chain()
    assert descendants(g, "a") == {"b", "c", "d"} and ancestors(g, "c") == {"a", "b", "x"}
    assert descendants(g, "d") == set() and ancestors(g, "a") == set()
    assert within(g, "c", 1) == {"b", "c", "d", "x"} and within(g, "c", 2) == {"a", "b", "c", "d", "x"}
    assert within(g, "y", 5) == {"y", "z"}
    g.add_edge("d", "a")  # a cycle: the start is never its own descendant
    assert descendants(g, "a") == {"b", "c", "d"} and "a" not in ancestors(g, "a")
    assert weakly_connected_components(g) == [{"a", "b", "c", "d", "x"}, {"y", "z"}]
    assert weakly_connected_components(DiGraph()) == []
