"""A small directed graph with attributes, and the few traversals the lineage pages need.

The lineage graph used networkx. Importing networkx took 0.12 s (it loads some 300 modules of algorithms),
an eighth of a one-run rebuild at 1,000 runs, for adjacency dictionaries and breadth-first searches. This
keeps networkx's names for what sitegen uses (``nodes[key]``, ``nodes(data=True)``, ``edges[a, b]``,
``predecessors``, ``subgraph``...), so the lineage code reads the same. Nodes and edges iterate in the order
they were added; every drawing and page sorts them anyway.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable, Iterable, Iterator


class _Nodes:
    """``graph.nodes``: ``nodes[key]`` is a node's attribute dict; ``nodes(data=True)`` its (key, attrs)."""

    __slots__ = ("_node",)

    def __init__(self, node: dict[str, dict[str, Any]]):
        self._node = node

    def __getitem__(self, key: str) -> dict[str, Any]:
        return self._node[key]

    def __call__(self, data: bool = False) -> Iterable[Any]:
        return list(self._node.items()) if data else list(self._node)

    def __iter__(self) -> Iterator[str]:
        return iter(self._node)

    def __contains__(self, key: object) -> bool:
        return key in self._node

    def __len__(self) -> int:
        return len(self._node)


class _Edges:
    """``graph.edges``: ``edges[a, b]`` is an edge's attribute dict; ``edges(data=True)`` its (a, b, attrs)."""

    __slots__ = ("_succ",)

    def __init__(self, succ: dict[str, dict[str, dict[str, Any]]]):
        self._succ = succ

    def __getitem__(self, pair: tuple[str, str]) -> dict[str, Any]:
        a, b = pair
        return self._succ[a][b]

    def __call__(self, data: bool = False) -> list[Any]:
        if data:
            return [(a, b, attrs) for a, out in self._succ.items() for b, attrs in out.items()]
        return [(a, b) for a, out in self._succ.items() for b in out]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self())

    def __len__(self) -> int:
        return sum(len(out) for out in self._succ.values())


class DiGraph:
    """Directed graph: nodes are strings with an attribute dict; at most one edge ``a -> b``, with its own."""

    __slots__ = ("_node", "_succ", "_pred")

    def __init__(self) -> None:
        self._node: dict[str, dict[str, Any]] = {}
        self._succ: dict[str, dict[str, dict[str, Any]]] = {}
        self._pred: dict[str, dict[str, dict[str, Any]]] = {}

    @property
    def nodes(self) -> _Nodes:
        return _Nodes(self._node)

    @property
    def edges(self) -> _Edges:
        return _Edges(self._succ)

    def add_node(self, key: str, **attrs: Any) -> None:
        """Add ``key``, or update the attributes of the node already there."""
        if key in self._node:
            self._node[key].update(attrs)
            return
        self._node[key] = attrs
        self._succ[key] = {}
        self._pred[key] = {}

    def add_edge(self, a: str, b: str, **attrs: Any) -> None:
        """Add ``a -> b`` (and its ends, if new), or update the attributes of the edge already there."""
        for key in (a, b):
            if key not in self._node:
                self.add_node(key)
        if b in self._succ[a]:
            self._succ[a][b].update(attrs)
            return
        self._succ[a][b] = self._pred[b][a] = attrs

    def has_edge(self, a: str, b: str) -> bool:
        return a in self._succ and b in self._succ[a]

    def successors(self, key: str) -> Iterator[str]:
        return iter(self._succ[key])

    def predecessors(self, key: str) -> Iterator[str]:
        return iter(self._pred[key])

    def degree(self, key: str) -> int:
        """Edges in and out of ``key`` (a loop counts twice)."""
        return len(self._succ[key]) + len(self._pred[key])

    def number_of_nodes(self) -> int:
        return len(self._node)

    def number_of_edges(self) -> int:
        return len(self.edges)

    def subgraph(self, keys: Iterable[str]) -> DiGraph:
        """A new graph of the nodes in ``keys`` and the edges between them, in this graph's order. Attribute
        dicts are copied (their values are shared)."""
        keep = set(keys)
        sub = DiGraph()
        for key, attrs in self._node.items():
            if key in keep:
                sub.add_node(key, **attrs)
        for a in sub._node:
            for b, attrs in self._succ[a].items():
                if b in keep:
                    sub._succ[a][b] = sub._pred[b][a] = dict(attrs)
        return sub

    def copy(self) -> DiGraph:
        return self.subgraph(self._node)

    def __contains__(self, key: object) -> bool:
        return key in self._node

    def __iter__(self) -> Iterator[str]:
        return iter(self._node)

    def __len__(self) -> int:
        return len(self._node)


def _reach(step: Callable[[str], Iterable[str]], start: str, hops: int | None = None) -> dict[str, int]:
    """Breadth-first from ``start`` along ``step``: every node reached, with its distance (at most ``hops``)."""
    dist = {start: 0}
    queue = deque([start])
    while queue:
        key = queue.popleft()
        d = dist[key]
        if hops is not None and d >= hops:
            continue
        for nxt in step(key):
            if nxt not in dist:
                dist[nxt] = d + 1
                queue.append(nxt)
    return dist


def descendants(graph: DiGraph, key: str) -> set[str]:
    """Every node reachable from ``key``, without it."""
    return set(_reach(graph.successors, key)) - {key}


def ancestors(graph: DiGraph, key: str) -> set[str]:
    """Every node ``key`` is reachable from, without it."""
    return set(_reach(graph.predecessors, key)) - {key}


def within(graph: DiGraph, key: str, hops: int) -> set[str]:
    """``key`` and every node at most ``hops`` steps downstream or upstream of it."""
    return set(_reach(graph.successors, key, hops)) | set(_reach(graph.predecessors, key, hops))


def weakly_connected_components(graph: DiGraph) -> list[set[str]]:
    """The node sets connected when edge directions are ignored, in the order of their first node."""
    seen: set[str] = set()
    components = []
    for key in graph:
        if key in seen:
            continue
        comp = set(_reach(lambda k: [*graph.successors(k), *graph.predecessors(k)], key))
        seen |= comp
        components.append(comp)
    return components
