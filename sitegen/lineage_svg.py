"""Static SVG drawings of lineage graphs, laid out at build time (no Graphviz binary needed).

The layout is grandalf's layered (Sugiyama) layout, turned to run left to right: data flows from the
left (sources) to the right (model versions). Each weakly connected component is laid out on its own
and the components are stacked, largest first. Every node is an ``<a>`` with a relative link; every
label is escaped. The drawing is meant to be inlined in a page, so the theme's CSS styles it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from . import cache, urls
from .graph import DiGraph, weakly_connected_components
from .lineage import Node

NODE_H = 38  # px, two text lines
CHAR_W = 7.2  # px per character of the bold 12px label (an estimate; labels are clipped to MAX_CHARS)
MAX_CHARS = 30
MIN_W, PAD_X = 70, 14
LAYER_GAP = 56  # px between layers (horizontal, since the drawing runs left to right)
ROW_GAP = 14  # px between nodes of one layer
COMPONENT_GAP = 28
MARGIN = 8


@dataclass
class _View:
    """What grandalf needs of a vertex: its size (w across layers, h along them) and a position."""

    w: float
    h: float
    xy: tuple[float, float] = (0.0, 0.0)


@dataclass
class _EdgeView:
    points: list[tuple[float, float]] | None = None

    def setpath(self, points: list[tuple[float, float]]) -> None:
        self.points = list(points)


def _clip(text: str, limit: int = MAX_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _width(node: Node) -> float:
    chars = max(len(_clip(node.label)), len(_clip(node.sub)))
    return max(MIN_W, chars * CHAR_W + 2 * PAD_X)


@dataclass
class Layout:
    """Node centres and sizes, edge polylines and the drawing's size (left-to-right coordinates)."""

    boxes: dict[str, tuple[float, float, float, float]]  # key -> (cx, cy, w, h)
    edges: list[tuple[str, str, list[tuple[float, float]]]]
    width: float
    height: float


def layout(graph: DiGraph) -> Layout:
    """Lay out ``graph`` (nodes carry ``node``: :class:`Node`). Deterministic: components, vertices and
    edges are handed to grandalf in sorted order.

    The layout depends on nothing but the nodes' widths in the order of their keys and the edges between
    them, so it is made once for each such shape and kept for the process: a run page's neighbourhood is
    mostly one of a few shapes (a run and its model version), and grandalf takes most of a drawing's time."""
    keys = sorted(graph.nodes)
    rank = {k: i for i, k in enumerate(keys)}
    shape = (tuple(_width(graph.nodes[k]["node"]) for k in keys),
             tuple(sorted((rank[a], rank[b]) for a, b in graph.edges())))
    made = _LAYOUTS.get(shape)
    if made is None:
        if len(_LAYOUTS) >= MAX_LAYOUTS:
            _LAYOUTS.clear()
        components = sorted((sorted(rank[k] for k in c) for c in weakly_connected_components(graph)),
                            key=lambda c: (-len(c), c[0]))
        made = _LAYOUTS[shape] = _layout_shape(*shape, components)
    boxes, edges, width, height = made
    return Layout({keys[i]: box for i, box in boxes.items()}, [(keys[a], keys[b], pts) for a, b, pts in edges],
                  width, height)


MAX_LAYOUTS = 4096
_LAYOUTS: dict[tuple[Any, ...], tuple[Any, ...]] = {}


def _layout_shape(widths: tuple[float, ...], pairs: tuple[tuple[int, int], ...],
                  components: list[list[int]]) -> tuple[Any, ...]:
    """The layout of nodes 0..n-1 (node i as wide as ``widths[i]``) joined by ``pairs`` (sorted), whose
    weakly connected ``components`` (each sorted) are stacked in the order given."""
    # imported here: grandalf imports numpy, which a rebuild whose drawings are all kept does not need
    from grandalf.graphs import Edge, Vertex, graph_core
    from grandalf.layouts import SugiyamaLayout

    boxes: dict[int, tuple[float, float, float, float]] = {}
    edges: list[tuple[int, int, list[tuple[float, float]]]] = []
    offset_y, width = float(MARGIN), 0.0
    for comp in components:
        verts = {}
        for key in comp:
            v = Vertex(key)
            # grandalf lays layers out top to bottom; we turn it: its w is our height, its h our width.
            v.view = _View(w=NODE_H, h=widths[key])
            verts[key] = v
        members = set(comp)
        gedges = []
        for a, b in pairs:
            if a in members:
                e = Edge(verts[a], verts[b])
                e.view = _EdgeView()
                gedges.append((a, b, e))
        core = graph_core([verts[k] for k in comp], [e for _, _, e in gedges], directed=True)
        sug = SugiyamaLayout(core)
        sug.xspace, sug.yspace = ROW_GAP, LAYER_GAP
        sug.init_all()
        sug.draw()
        xs = [verts[k].view.xy[0] for k in comp]
        top = min(xs) - NODE_H / 2
        comp_h = max(xs) + NODE_H / 2 - top
        for key in comp:
            gx, gy = verts[key].view.xy
            w = verts[key].view.h
            cx, cy = gy + MARGIN, gx - top + offset_y
            boxes[key] = (cx, cy, w, NODE_H)
            width = max(width, cx + w / 2 + MARGIN)
        for a, b, e in gedges:
            pts = [(gy + MARGIN, gx - top + offset_y) for gx, gy in (e.view.points or [])]
            edges.append((a, b, pts))
        offset_y += comp_h + COMPONENT_GAP
    height = offset_y - COMPONENT_GAP + MARGIN if components else 0.0
    return boxes, edges, width, height


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _edge_path(a: tuple[float, float, float, float], b: tuple[float, float, float, float],
               points: list[tuple[float, float]]) -> str:
    """From the right side of ``a`` to the left side of ``b`` through grandalf's bend points, as
    cubic Béziers with horizontal tangents."""
    ax, ay, aw, _ = a
    bx, by, bw, _ = b
    mids = points[1:-1] if len(points) >= 2 else []
    pts = [(ax + aw / 2, ay), *mids, (bx - bw / 2, by)]
    if bx - bw / 2 < ax + aw / 2:  # a back edge (a cycle): leave from the left, enter from the right
        pts = [(ax - aw / 2, ay), *mids, (bx + bw / 2, by)]
    d = [f"M{_fmt(pts[0][0])},{_fmt(pts[0][1])}"]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        mx = (x0 + x1) / 2
        d.append(f"C{_fmt(mx)},{_fmt(y0)} {_fmt(mx)},{_fmt(y1)} {_fmt(x1)},{_fmt(y1)}")
    return " ".join(d)


def _shape(node: Node, cx: float, cy: float, w: float, h: float) -> str:
    x, y = cx - w / 2, cy - h / 2
    if node.kind in ("dataset", "data"):
        # a "document" shape: rectangle with a folded corner
        f = 8
        return (f'<path class="lg-shape" d="M{_fmt(x)},{_fmt(y)} h{_fmt(w - f)} l{f},{f} v{_fmt(h - f)} '
                f'h{_fmt(-w)} z"/>')
    if node.kind == "model-version":
        c = 10
        return (f'<path class="lg-shape" d="M{_fmt(x + c)},{_fmt(y)} h{_fmt(w - 2 * c)} l{c},{_fmt(h / 2)} '
                f'l{-c},{_fmt(h / 2)} h{_fmt(-(w - 2 * c))} l{-c},{_fmt(-h / 2)} z"/>')
    if node.kind == "cluster":
        return (f'<rect class="lg-shape lg-stack" x="{_fmt(x + 4)}" y="{_fmt(y - 4)}" width="{_fmt(w)}" '
                f'height="{_fmt(h)}" rx="6"/><rect class="lg-shape" x="{_fmt(x)}" y="{_fmt(y)}" '
                f'width="{_fmt(w)}" height="{_fmt(h)}" rx="6"/>')
    return f'<rect class="lg-shape" x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(w)}" height="{_fmt(h)}" rx="6"/>'


KIND_LABELS = {"run": "run", "dataset": "dataset", "data": "data", "model-version": "model version",
               "cluster": "group"}


def describe(graph: DiGraph) -> list[Any]:
    """What a drawing of ``graph`` is made from, as plain data: its nodes and edges, sorted (the layout
    does not depend on the order the graph was built in, which can follow set order)."""
    return [sorted([k, vars(data["node"])] for k, data in graph.nodes(data=True)),
            sorted([a, b, data] for a, b, data in graph.edges(data=True))]


def render_svg(graph: DiGraph, page_url: str, *, svg_id: str, focus: str | None = None,
               title: str = "Lineage", described: Any = None) -> Markup:
    """The graph as an inline ``<svg>`` whose links are relative to ``page_url``. ``described``: the caller's
    :func:`describe` of the graph (with anything else), when it made one already."""
    if graph.number_of_nodes() == 0:
        return Markup("")
    memo = cache.memo("svg")  # the same graph, page and arguments give the same drawing; laying out is slow
    if memo is None:
        return Markup(_draw(graph, page_url, svg_id, focus, title))
    key = cache.digest_json([described if described is not None else describe(graph), page_url, svg_id, focus,
                             title])
    return Markup(memo.get(key, lambda: _draw(graph, page_url, svg_id, focus, title)))


def _draw(graph: DiGraph, page_url: str, svg_id: str, focus: str | None, title: str) -> str:
    lay = layout(graph)
    sid = escape(svg_id)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="lineage-svg" id="{sid}" role="group" '
           f'aria-label="{escape(title)}" width="{_fmt(lay.width)}" height="{_fmt(lay.height)}" '
           f'viewBox="0 0 {_fmt(lay.width)} {_fmt(lay.height)}">',
           f'<defs><marker id="{sid}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
           f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="lg-arrow"/>'
           f'</marker></defs>', '<g class="lg-edges">']
    for a, b, pts in lay.edges:
        count = graph.edges[a, b].get("count", 1)
        cls = "lg-edge" + (" lg-edge-many" if count > 1 else "")
        tip = f"<title>{escape(count)} links</title>" if count > 1 else ""
        out.append(f'<path class="{cls}" d="{_edge_path(lay.boxes[a], lay.boxes[b], pts)}" '
                   f'marker-end="url(#{sid}-arrow)">{tip}</path>')
    out.append('</g><g class="lg-nodes">')
    for key in sorted(lay.boxes):
        node: Node = graph.nodes[key]["node"]
        cx, cy, w, h = lay.boxes[key]
        classes = ["lg-node", f"lg-{node.kind}"] + [f"lg-flag-{f}" for f in node.flags]
        if key == focus:
            classes.append("lg-focus")
        tip = f"{KIND_LABELS.get(node.kind, node.kind)}: {node.label}" + (f" ({node.sub})" if node.sub else "")
        if "stale" in node.flags:
            tip += ": read by a run as a dataset whose file records another digest"
        inner = (f"<title>{escape(tip)}</title>{_shape(node, cx, cy, w, h)}"
                 f'<text x="{_fmt(cx)}" y="{_fmt(cy - 3)}" class="lg-label">{escape(_clip(node.label))}</text>'
                 f'<text x="{_fmt(cx)}" y="{_fmt(cy + 12)}" class="lg-sub">{escape(_clip(node.sub))}</text>')
        cls = escape(" ".join(classes))
        if node.url and key != focus:
            href = escape(urls.relative(page_url, node.url))
            out.append(f'<a href="{href}" class="{cls}">{inner}</a>')
        else:
            out.append(f'<g class="{cls}">{inner}</g>')
    out.append("</g></svg>")
    return "".join(out)
