"""Provenance, lineage and git history added to run, dataset and model-version pages.

:func:`gather` derives what every page needs once per build (the lineage graph, one ``git log`` pass,
the integrity checks); :func:`enrich` adds the keys of one page's context:
- run pages: ``prov`` (the context of ``_provenance.html``);
- dataset and model-version pages: ``lineage_panel`` (the context of ``_lineage_panel.html``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from markupsafe import Markup

from .. import urls
from ..gitinfo import Commit, GitInfo, commit_url, read_git, web_repo
from ..integrity import ArtifactCheck, check_artifacts
from ..lineage import DATASET, MODEL, RUN, Lineage, build_lineage, collapse, data_key, model_key, run_key
from ..lineage_svg import describe, render_svg
from ..model import Project, Run
from ..reproduce import default_run_files, reproduce_script
from . import Page
from .common import display_value, ref_link, run_link
from .run import MAX_COPY_BYTES

DIFF_DISPLAY_BYTES = 200_000
NEIGHBOURHOOD_LIMIT = 40  # nodes drawn around a page's own node before runs fold into clusters
IMPACT_LIMIT = 60


@dataclass
class Facts:
    project: Project
    lineage: Lineage
    git: GitInfo | None
    integrity: dict[str, list[ArtifactCheck]]


def gather(project: Project) -> Facts:
    return Facts(project, build_lineage(project), read_git(project.root), check_artifacts(project))


# -- git ------------------------------------------------------------------------------------------
def _commit(c: Commit | None, repo: str | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {"sha": c.sha, "short": c.short, "author": c.author, "date": c.date, "subject": c.subject,
            "url": commit_url(repo, c.sha)}


def git_context(facts: Facts, relpath: str) -> dict[str, Any] | None:
    """When and by whom a file was added and last changed; None outside git."""
    info = facts.git
    if info is None:
        return None
    repo = facts.project.config.repo_url
    hist = info.file(relpath)
    note = None
    if info.shallow:
        note = "This site was built from a shallow clone: history before its oldest commit is not known."
    if hist is None:
        return {"added": None, "changed": None, "uncommitted": True, "before_shallow": False, "note": note}
    return {"added": _commit(hist.added, repo), "changed": _commit(hist.changed, repo), "uncommitted": False,
            "before_shallow": hist.before_shallow, "note": note}


# -- lineage drawings -----------------------------------------------------------------------------
def neighbourhood_svg(facts: Facts, key: str, page_url: str, svg_id: str, *, draw: bool = True) -> Any:
    """The lineage two steps around ``key``, drawn (empty when it has no neighbour). ``draw=False``: what
    the drawing is made from instead (its nodes and edges, sorted, and its arguments), as plain data for a
    cache key: laying a graph out is most of a drawing's cost, and the same data gives the same drawing
    (the layout does not depend on the order the graph was made in, which follows set order)."""
    svg, made_from = neighbourhood_drawing(facts, key, page_url, svg_id, draw=draw)
    return svg if draw else made_from


def neighbourhood_drawing(facts: Facts, key: str, page_url: str, svg_id: str, *,
                          draw: bool = True) -> tuple[Markup | None, Any]:
    """The drawing of :func:`neighbourhood_svg` (None unless ``draw``) and what it is made from, both made
    from one collapsed neighbourhood (a run page's key needs the second, its page the first)."""
    graph = facts.lineage.graph
    if key not in graph or not graph.degree(key):  # nothing up- or downstream: no drawing
        return Markup(""), Markup("")
    sub = facts.lineage.neighbourhood(key)
    if sub.number_of_nodes() <= 1:
        return Markup(""), Markup("")
    keep = {key, *sub.predecessors(key), *sub.successors(key)}
    keep = {k for k in keep if sub.nodes[k]["node"].kind != RUN} | {key}
    drawn = collapse(sub, facts.project, keep=keep, limit=NEIGHBOURHOOD_LIMIT)
    made_from = [page_url, svg_id, key, *describe(drawn)]
    if not draw:
        return None, made_from
    return render_svg(drawn, page_url, svg_id=svg_id, focus=key, title="Lineage: two steps up- and downstream",
                      described=made_from), made_from


def _node_link(facts: Facts, key: str) -> dict[str, Any] | None:
    if key not in facts.lineage:
        return None
    node = facts.lineage.node(key)
    return {"label": node.label, "url": node.url, "kind": node.kind, "sub": node.sub}


# -- run pages ------------------------------------------------------------------------------------
_ITEM_KEYS = ("name", "kind", "role", "uri", "path", "digest", "rows", "size", "dataset")


def _diff(run: Run, rel: str | None) -> dict[str, Any] | None:
    if not isinstance(rel, str):
        return None
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        return None
    path = run.directory / pure
    if path.is_symlink() or not path.is_file():
        return {"path": rel, "lines": [], "truncated": False, "missing": True, "url": None}
    with open(path, "rb") as fh:
        data = fh.read(DIFF_DISPLAY_BYTES + 1)
    truncated = len(data) > DIFF_DISPLAY_BYTES
    lines = []
    for line in data[:DIFF_DISPLAY_BYTES].decode("utf-8", "replace").splitlines():
        if line.startswith(("+++", "---", "diff ", "index ", "new file", "deleted file", "similarity", "rename ")):
            cls = "meta"
        elif line.startswith("@@"):
            cls = "hunk"
        elif line.startswith("+"):
            cls = "add"
        elif line.startswith("-"):
            cls = "del"
        else:
            cls = "ctx"
        lines.append((cls, line))
    return {"path": rel, "lines": lines, "truncated": truncated, "missing": False, "url": _artifact_url(run, rel)}


def _artifact_url(run: Run, rel: Any) -> str | None:
    if not isinstance(rel, str) or not rel.startswith("artifacts/"):
        return None
    pure = PurePosixPath(rel)
    if ".." in pure.parts:
        return None
    art = rel[len("artifacts/"):]
    published = any(a.path == art and a.kind != "lfs" and a.size is not None and a.size <= MAX_COPY_BYTES
                    and a.source is not None for a in run.artifacts)
    return urls.artifact(run.experiment, run.id, art) if published else None


def _items(facts: Facts, run: Run, direction: str) -> list[dict[str, Any]]:
    project, lineage = facts.project, facts.lineage
    stale = {c.index: c for c in lineage.stale_inputs if c.run == run.uid} if direction == "inputs" else {}
    problems = {c.path: c for c in facts.integrity.get(run.uid, [])}
    out = []
    entries = [e for e in run.provenance.get(direction) or [] if isinstance(e, dict)]
    for i, e in enumerate(entries):
        item = {k: e.get(k) for k in _ITEM_KEYS}
        item["location"] = e.get("uri") or e.get("path")
        item["url"] = _artifact_url(run, e.get("path"))
        item["links"] = []
        digest = e.get("digest") if isinstance(e.get("digest"), str) else None
        key = data_key(digest) if digest else None
        if key and key in lineage:
            graph = lineage.graph
            node = lineage.node(key)
            if node.kind == DATASET:
                item["links"].append({"label": f"dataset {node.label}", "url": node.url})
            others = graph.predecessors(key) if direction == "inputs" else graph.successors(key)
            for other in sorted(others):
                onode = lineage.node(other)
                if onode.kind == RUN and other != run_key(run.uid):
                    verb = "written by" if direction == "inputs" else "read by"
                    item["links"].append({"label": f"{verb} {onode.label}", "url": onode.url})
        item["stale"] = None
        if i in stale:
            c = stale[i]
            ds = project.datasets.get(c.dataset)
            item["stale"] = {"dataset": c.dataset, "expected": c.expected,
                             "url": urls.dataset(c.dataset) if ds else None}
        check = problems.get(e.get("path")) if isinstance(e.get("path"), str) else None
        item["integrity"] = {"problem": check.problem, "current": check.current} if check else None
        out.append(item)
    return out


def run_provenance(facts: Facts, run: Run, page_url: str, script: bool = True, draw: bool = True) -> dict[str, Any]:
    """What the run page's provenance section shows. For a cache key: ``script=False`` leaves out the
    reproduce script (a function of the run and the config alone, which the key already covers);
    ``draw=False`` gives what the lineage drawing is made from instead of the drawing (see
    :func:`neighbourhood_svg`). With the drawing, ``svg_made_from`` is that, for the page's key."""
    project, lineage = facts.project, facts.lineage
    prov = run.provenance or {}
    code_in = prov.get("code") if isinstance(prov.get("code"), dict) else {}
    env = prov.get("environment") if isinstance(prov.get("environment"), dict) else {}
    repo = code_in.get("repo") if isinstance(code_in.get("repo"), str) else None
    web = web_repo(repo) or web_repo(project.config.repo_url)
    commit = code_in.get("commit") if isinstance(code_in.get("commit"), str) else None
    entry = code_in.get("entry_point") if isinstance(code_in.get("entry_point"), str) else None
    code = None
    if code_in:
        code = {
            "repo": repo, "repo_url": web, "commit": commit, "commit_url": commit_url(web, commit),
            "branch": code_in.get("branch"), "dirty": bool(code_in.get("dirty")), "entry_point": entry,
            "entry_url": f"{web}/blob/{commit}/{entry}" if web and commit and entry and "gitlab" not in web
            else (f"{web}/-/blob/{commit}/{entry}" if web and commit and entry else None),
            "diff": _diff(run, code_in.get("diff")) if code_in.get("dirty") or code_in.get("diff") else None,
            "diff_truncated": bool(code_in.get("diff_truncated")),
        }
    command = prov.get("command")
    if isinstance(command, list):
        command = " ".join(str(c) for c in command)
    packages = env.get("packages") if isinstance(env.get("packages"), dict) else {}
    container = env.get("container") if isinstance(env.get("container"), dict) else {}
    lockfile = env.get("lockfile") if isinstance(env.get("lockfile"), str) else None
    conda = env.get("conda") if isinstance(env.get("conda"), str) else None
    skip = {"packages", "container", "lockfile", "conda", "files"}
    files = [{"name": f.get("name"), "path": f.get("path"), "digest": f.get("digest"), "size": f.get("size"),
              "url": _artifact_url(run, f.get("path"))}
             for f in env.get("files") or [] if isinstance(f, dict)]
    versions = sorted((s, n) for s, n in (lineage.node(k).uid.split("/") for k in lineage.graph.successors(
        run_key(run.uid)) if lineage.node(k).kind == MODEL)) if run_key(run.uid) in lineage else []
    reproduce = reproduce_script(project, run, run_files=default_run_files(project, run, site=True)) \
        if script else None
    out = {
        "code": code,
        "command": command if isinstance(command, str) else None,
        "environment": [(k, display_value(v)) for k, v in env.items() if k not in skip],
        "container": [(k, display_value(v)) for k, v in sorted(container.items())],
        "packages": sorted((str(k), display_value(v)) for k, v in packages.items()),
        "lockfile": {"path": lockfile, "url": _artifact_url(run, lockfile)} if lockfile else None,
        "conda": {"path": conda, "url": _artifact_url(run, conda)} if conda else None,
        "env_files": files,
        "hardware": [(k, display_value(v)) for k, v in (prov.get("hardware") or {}).items()]
        if isinstance(prov.get("hardware"), dict) else [],
        "inputs": _items(facts, run, "inputs"),
        "outputs": _items(facts, run, "outputs"),
        "integrity": [{"path": c.path, "problem": c.problem, "recorded": c.recorded, "current": c.current,
                       "url": _artifact_url(run, c.path)} for c in facts.integrity.get(run.uid, [])],
        "parent": ref_link(project, run.parent),
        "children": [ref_link(project, uid) for uid in run.children],
        "upstream": [run_link(project.runs[u]) for u in lineage.upstream_runs(run.uid)],
        "downstream": [run_link(project.runs[u]) for u in lineage.downstream_runs(run.uid)],
        "model_versions": [{"label": f"{project.models[s].name} v{n}", "url": urls.model_version(s, int(n))}
                           for s, n in versions],
        "reproduce": reproduce,
        "prov_json": urls.run_prov(run.experiment, run.id),
        "git": git_context(facts, run.file),
        "file": run.file,
    }
    svg, made_from = neighbourhood_drawing(facts, run_key(run.uid), page_url, "lineage-run", draw=draw)
    if draw:
        out.update(svg=svg, svg_made_from=made_from)
    else:
        out["svg"] = made_from
    return out


# -- dataset and model-version pages --------------------------------------------------------------
def dataset_panel(facts: Facts, slug: str, page_url: str) -> dict[str, Any]:
    project, lineage = facts.project, facts.lineage
    ds = project.datasets[slug]
    key = lineage.dataset_key(ds)
    down = lineage.downstream(key)
    runs_by_exp: dict[str, list[dict[str, Any]]] = {}
    versions = []
    for k in down:
        node = lineage.node(k)
        if node.kind == RUN:
            runs_by_exp.setdefault(node.group, []).append(run_link(project.runs[node.uid]))
        elif node.kind == MODEL:
            versions.append({"label": node.label, "url": node.url, "sub": node.sub})
    groups = [{"experiment": project.experiments[e].title if e in project.experiments else e,
               "url": urls.experiment(e), "runs": runs} for e, runs in sorted(runs_by_exp.items())]
    impact_graph = lineage.graph.subgraph([key, *down])
    impact_svg = render_svg(collapse(impact_graph, project, keep={key}, limit=IMPACT_LIMIT), page_url,
                            svg_id="lineage-impact", focus=key, title="Everything downstream of this dataset") \
        if len(down) else Markup("")
    stale = [{"run": run_link(project.runs[c.run]), "recorded": c.recorded}
             for c in lineage.stale_inputs if c.dataset == slug]
    return {
        "svg": neighbourhood_svg(facts, key, page_url, "lineage-dataset"),
        "impact": {"groups": groups, "versions": versions, "runs": sum(len(g["runs"]) for g in groups),
                   "svg": impact_svg},
        "stale": stale,
        "git": git_context(facts, ds.file),
        "prov_json": None,
    }


def version_panel(facts: Facts, slug: str, version: int, page_url: str) -> dict[str, Any]:
    model = facts.project.models[slug]
    v = model.version(version)
    return {
        "svg": neighbourhood_svg(facts, model_key(slug, version), page_url, "lineage-version"),
        "impact": None,
        "stale": [],
        "git": git_context(facts, v.file) if v else None,
        "prov_json": urls.model_version_prov(slug, version),
    }


def enrich(page: Page, facts: Facts) -> None:
    """Add the provenance / lineage / git keys to the context of run, dataset and model-version pages
    (recognised by kind and URL, so the page modules stay unaware of this one)."""
    parts = page.url.split("/")
    project = facts.project
    if page.kind == "run" and len(parts) == 4:
        run = project.runs.get(f"{parts[1]}/{parts[2]}")
        if run is not None:
            page.context["prov"] = run_provenance(facts, run, page.url)
    elif page.kind == "dataset" and len(parts) == 3 and parts[1] in project.datasets:
        page.context["lineage_panel"] = dataset_panel(facts, parts[1], page.url)
    elif page.kind == "model-version" and len(parts) == 4 and parts[1] in project.models and parts[2].isdigit():
        if project.models[parts[1]].version(int(parts[2])) is not None:
            page.context["lineage_panel"] = version_panel(facts, parts[1], int(parts[2]), page.url)


__all__ = ["Facts", "gather", "enrich", "run_provenance", "dataset_panel", "version_panel", "git_context"]
