"""The lineage graph, derived from what runs recorded (never typed twice; DESIGN.md section 2).

Nodes:
- ``data:<digest>``: a piece of data named by its content digest. It is a node when a dataset file
  records the digest, when some run read it, or when a run wrote it as a dataset. A dataset file
  without a digest is ``dataset:<slug>``; an input recorded without a digest is ``data:uri:<uri>``.
- ``run:<experiment>/<id>``: a run.
- ``model:<model>/<version>``: a registered model version.

Edges (``a -> b``: b was made from a):
- data -> run when the run's provenance ``inputs`` name the data (by digest, or by ``dataset:`` slug);
- run -> data when its ``outputs`` carry that digest, so run -> data -> run is the chain
  "one run's output digest equals another run's input digest";
- run -> model version for the version's ``source_run``.

:func:`collapse` folds big graphs into cluster nodes (the runs of one experiment, the versions of one
model), so a drawing stays readable at thousands of nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from . import urls
from .graph import DiGraph, ancestors, descendants, within
from .model import Dataset, Project, Run

RUN, DATA, DATASET, MODEL, CLUSTER = "run", "data", "dataset", "model-version", "cluster"


@dataclass
class Node:
    """One node of the graph, with what a drawing needs: a label, a second line, a link."""

    key: str
    kind: str  # run | dataset (data named by a dataset file) | data | model-version | cluster
    label: str
    sub: str = ""
    url: str | None = None
    group: str = ""  # experiment slug (runs), model slug (versions), "" for data
    count: int = 1  # members of a cluster
    flags: list[str] = field(default_factory=list)  # "stale": an input whose dataset file records another digest
    uid: str | None = None  # run uid / "model/version" / dataset slug


def run_key(uid: str) -> str:
    return f"run:{uid}"


def model_key(model: str, version: int) -> str:
    return f"model:{model}/{version}"


def data_key(digest: str) -> str:
    return f"data:{digest}"


def short_digest(digest: str | None) -> str:
    if not digest:
        return ""
    algo, _, hexpart = digest.partition(":")
    return f"{algo}:{hexpart[:10]}…" if hexpart else digest[:16]


def _entries(run: Run, direction: str) -> list[dict[str, Any]]:
    return [e for e in run.provenance.get(direction) or [] if isinstance(e, dict)]


@dataclass
class InputCheck:
    """An input that names a dataset file (by ``dataset:`` slug or by name) but carries another digest."""

    run: str
    index: int
    name: str
    dataset: str
    recorded: str
    expected: str


class Lineage:
    """The derived graph of a project, with the queries pages need."""

    def __init__(self, graph: DiGraph, stale_inputs: list[InputCheck]):
        self.graph = graph
        self.stale_inputs = stale_inputs

    def node(self, key: str) -> Node:
        return self.graph.nodes[key]["node"]

    def __contains__(self, key: str) -> bool:
        return key in self.graph

    def dataset_key(self, dataset: Dataset) -> str:
        return data_key(dataset.digest) if dataset.digest else f"dataset:{dataset.slug}"

    # -- neighbours ----------------------------------------------------------------------------
    def upstream_runs(self, uid: str) -> list[str]:
        """Runs whose outputs this run read (one data node between)."""
        return self._runs_via(run_key(uid), self.graph.predecessors)

    def downstream_runs(self, uid: str) -> list[str]:
        """Runs that read what this run wrote."""
        return self._runs_via(run_key(uid), self.graph.successors)

    def _runs_via(self, key: str, step) -> list[str]:
        if key not in self.graph:
            return []
        found = set()
        for mid in step(key):
            for other in step(mid):
                node = self.node(other)
                if node.kind == RUN and other != key:
                    found.add(node.uid)
        return sorted(found)

    def downstream(self, key: str) -> list[str]:
        """Every node reachable from ``key`` (the impact of changing it), sorted."""
        if key not in self.graph:
            return []
        return sorted(descendants(self.graph, key))

    def upstream(self, key: str) -> list[str]:
        if key not in self.graph:
            return []
        return sorted(ancestors(self.graph, key))

    def neighbourhood(self, key: str, hops: int = 2) -> DiGraph:
        """``key`` with everything up to ``hops`` steps upstream and downstream of it."""
        if key not in self.graph:
            return DiGraph()
        if not self.graph.degree(key):  # most runs record no inputs or outputs: just the node itself
            return self.graph.subgraph([key])
        return self.graph.subgraph(within(self.graph, key, hops))

    def connected(self) -> DiGraph:
        """The graph without isolated nodes (runs that recorded no inputs or outputs)."""
        return self.graph.subgraph([k for k in self.graph if self.graph.degree(k) > 0])


def build_lineage(project: Project) -> Lineage:
    """Derive the lineage graph of ``project``."""
    g = DiGraph()
    by_digest: dict[str, Dataset] = {}
    for slug in sorted(project.datasets):
        ds = project.datasets[slug]
        if ds.digest and ds.digest not in by_digest:
            by_digest[ds.digest] = ds
        key = data_key(ds.digest) if ds.digest else f"dataset:{slug}"
        if key not in g:
            g.add_node(key, node=Node(key, DATASET, ds.name, short_digest(ds.digest) or ds.slug,
                                      urls.dataset(ds.slug), uid=ds.slug))

    read_digests = {e["digest"] for r in project.runs.values() for e in _entries(r, "inputs")
                    if isinstance(e.get("digest"), str)}
    stale: list[InputCheck] = []

    def ensure_data(key: str, item: dict[str, Any], run: Run) -> None:
        if key in g:
            return
        name = str(item.get("name") or item.get("uri") or item.get("path") or "data")
        g.add_node(key, node=Node(key, DATA, name, short_digest(item.get("digest")) or str(item.get("kind") or ""),
                                  urls.run(run.experiment, run.id) + "#provenance"))

    for uid in sorted(project.runs):
        run = project.runs[uid]
        rk = run_key(uid)
        g.add_node(rk, node=Node(rk, RUN, run.name, _run_sub(project, run), urls.run(run.experiment, run.id),
                                 group=run.experiment, uid=uid))
    for uid in sorted(project.runs):
        run = project.runs[uid]
        rk = run_key(uid)
        for i, item in enumerate(_entries(run, "inputs")):
            key, check = _input_key(item, project, by_digest)
            if check is not None:
                stale.append(InputCheck(uid, i, str(item.get("name") or ""), *check))
            if key is None:
                continue
            ensure_data(key, item, run)
            if check is not None:
                flags = g.nodes[key]["node"].flags
                if "stale" not in flags:
                    flags.append("stale")
            g.add_edge(key, rk, role=item.get("role"))
        for item in _entries(run, "outputs"):
            digest = item.get("digest")
            if not isinstance(digest, str):
                continue
            key = data_key(digest)
            if key in g or digest in read_digests or item.get("kind") == "dataset":
                ensure_data(key, item, run)
                # A data node first seen as an input links to its reader; once a run writes it, the writer's
                # page is the better link.
                node = g.nodes[key]["node"]
                if node.kind == DATA:
                    node.url = urls.run(run.experiment, run.id) + "#provenance"
                g.add_edge(rk, key)
    for slug in sorted(project.models):
        model = project.models[slug]
        for v in model.versions:
            key = model_key(slug, v.version)
            aliases = model.aliases_of(v.version)
            sub = ", ".join(aliases) if aliases else (v.stage if v.stage != "none" else "")
            g.add_node(key, node=Node(key, MODEL, f"{model.name} v{v.version}", sub,
                                      urls.model_version(slug, v.version), group=slug, uid=f"{slug}/{v.version}"))
            if v.source_run and v.source_run in project.runs:
                g.add_edge(run_key(v.source_run), key)
    return Lineage(g, stale)


def _run_sub(project: Project, run: Run) -> str:
    exp = project.experiments.get(run.experiment)
    return exp.title if exp else run.experiment


def _input_key(item: dict[str, Any], project: Project,
               by_digest: dict[str, Dataset]) -> tuple[str | None, tuple[str, str, str] | None]:
    """The data node an input names, and (dataset slug, recorded, expected digest) when it is stale."""
    digest = item.get("digest") if isinstance(item.get("digest"), str) else None
    slug = item.get("dataset") if isinstance(item.get("dataset"), str) else None
    named = project.datasets.get(slug) if slug else None
    if named is None and digest not in by_digest:
        named = project.datasets.get(str(item.get("name") or ""))
    check = None
    if named is not None and named.digest and digest and digest != named.digest:
        check = (named.slug, digest, named.digest)
    if digest:
        return data_key(digest), check
    if named is not None:
        return (data_key(named.digest) if named.digest else f"dataset:{named.slug}"), None
    uri = item.get("uri") or item.get("path")
    return (f"data:uri:{uri}" if uri else None), None


# -- collapsing big graphs -----------------------------------------------------------------------
def collapse(graph: DiGraph, project: Project, *, keep: Iterable[str] = (), limit: int = 60) -> DiGraph:
    """``graph`` itself when it has at most ``limit`` nodes; else the runs of each experiment and the
    versions of each model folded into one cluster node each (linking to the experiment / model page),
    keeping the nodes in ``keep`` as they are. Unnamed data made inside one cluster folds into it."""
    if graph.number_of_nodes() <= limit:
        return graph
    keep = set(keep)
    group: dict[str, str] = {}
    for key in sorted(graph):
        node: Node = graph.nodes[key]["node"]
        if key in keep:
            group[key] = key
        elif node.kind == RUN:
            group[key] = f"cluster:exp:{node.group}"
        elif node.kind == MODEL:
            group[key] = f"cluster:model:{node.group}"
    for key in sorted(graph):
        if key in group:
            continue
        node = graph.nodes[key]["node"]
        producers = sorted({group[p] for p in graph.predecessors(key) if p in group})
        if node.kind == DATA and len(producers) == 1 and producers[0].startswith("cluster:"):
            group[key] = producers[0]
        elif node.kind == DATA and not producers:
            readers = sorted({group[s] for s in graph.successors(key) if s in group})
            group[key] = f"cluster:ext:{readers[0]}" if len(readers) == 1 and readers[0].startswith("cluster:") \
                else key
        else:
            group[key] = key
    members: dict[str, list[str]] = {}
    for key, gkey in group.items():
        members.setdefault(gkey, []).append(key)
    out = DiGraph()
    for gkey in sorted(members):
        keys = members[gkey]
        if gkey in graph and keys == [gkey]:
            out.add_node(gkey, **graph.nodes[gkey])
            continue
        out.add_node(gkey, node=_cluster_node(gkey, keys, graph, project))
    for a, b in sorted(graph.edges()):
        ga, gb = group[a], group[b]
        if ga != gb:
            if out.has_edge(ga, gb):
                out.edges[ga, gb]["count"] += 1
            else:
                out.add_edge(ga, gb, count=1)
    return out


def _cluster_node(gkey: str, keys: list[str], graph: DiGraph, project: Project) -> Node:
    kinds = [graph.nodes[k]["node"].kind for k in keys]
    runs, versions, data = kinds.count(RUN), kinds.count(MODEL), kinds.count(DATA)
    _, what, name = gkey.split(":", 2)
    if what == "exp":
        exp = project.experiments.get(name)
        parts = [f"{runs} run{'s' if runs != 1 else ''}"] + ([f"{data} outputs"] if data else [])
        return Node(gkey, CLUSTER, exp.title if exp else name, ", ".join(parts), urls.experiment(name),
                    group=name, count=runs, uid=name)
    if what == "model":
        model = project.models.get(name)
        return Node(gkey, CLUSTER, model.name if model else name, f"{versions} version{'s' if versions != 1 else ''}",
                    urls.model(name), group=name, count=versions, uid=name)
    # "ext": data with no producer, read only by one cluster
    reader = name.split(":", 2)[-1]
    exp = project.experiments.get(reader)
    return Node(gkey, CLUSTER, f"{data} external input{'s' if data != 1 else ''}",
                f"read by {exp.title if exp else reader}", urls.experiment(reader) if exp else None,
                group=reader, count=data)
