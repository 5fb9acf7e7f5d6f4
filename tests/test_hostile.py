"""Hostile content: every string a user controls carries script payloads; nothing may run or leak.

The source is a git repository (hostile commit messages and author names) in which every field carries
``<script>``, event-handler attributes, ``javascript:`` and ``data:`` URLs, ``</script>`` that would close an
inline JSON block, and raw HTML inside Markdown; artifacts include an SVG and an HTML file with scripts.
The test builds whatever pages exist, checks every HTML file's markup statically, then opens every page
in Chromium from file:// and fails on any dialog, console error or script side effect (``window.__pwned``).
"""

from __future__ import annotations

import base64
import html.parser
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from conftest import GitRepo, assert_no_browser_errors

# One payload per injection style; each sets window.__pwned (and opens a dialog) if it ever runs.
RUN = "window.__pwned=1;alert(1)"
SCRIPT = f"<script>{RUN}</script>"
ATTR_BREAK = f"\"><img src=x onerror=\"{RUN}\">'><svg onload={RUN}>"
JSON_BREAK = f"</script><script>{RUN}</script><!--"
JS_URL = f"javascript:{RUN}"
DATA_URL = "data:text/html;base64," + base64.b64encode(f"<script>{RUN}</script>".encode()).decode()
TEMPLATE = "{{ 7*'7' }}{% raw %}"
P = f"{SCRIPT}{ATTR_BREAK}{JSON_BREAK} {JS_URL} {DATA_URL} {TEMPLATE}"

MARKDOWN = f"""# Heading {SCRIPT}

Text with <img src=x onerror="{RUN}"> and <a href="{JS_URL}" onclick="{RUN}">a link</a>.

[md link]({JS_URL}) [data link]({DATA_URL}) ![md image]({JS_URL}) ![remote](https://evil.example/x.png)
![data image](data:image/svg+xml;base64,{base64.b64encode(b'<svg onload="alert(1)"/>').decode()})

<iframe src="{JS_URL}"></iframe><object data="{DATA_URL}"></object><embed src="{JS_URL}">
<style>body {{ display: none }}</style><link rel="stylesheet" href="https://evil.example/x.css">
<form action="{JS_URL}"><input name="q" autofocus onfocus="{RUN}"><button formaction="{JS_URL}">go</button></form>
<meta http-equiv="refresh" content="0;url={JS_URL}"><base href="https://evil.example/">
<svg><script>{RUN}</script><a xlink:href="{JS_URL}"><text>svg link</text></a></svg>
<math><mtext><table><mglyph><style><img src=x onerror="{RUN}">
<details open ontoggle="{RUN}"><summary>s</summary></details>
<div style="background:url(javascript:alert(1))">styled</div>

```
{SCRIPT} {JSON_BREAK}
```

| col {SCRIPT} |
|---|
| {ATTR_BREAK} |
"""

SVG = f"""<svg xmlns="http://www.w3.org/2000/svg" onload="{RUN}"><script>{RUN}</script>
<foreignObject><body xmlns="http://www.w3.org/1999/xhtml"><img src="x" onerror="{RUN}"/></body></foreignObject>
<a href="{JS_URL}"><text y="20">{ATTR_BREAK.replace('<', '&lt;')}</text></a></svg>
"""
HTML = f"""<!DOCTYPE html><html><head><base href="https://evil.example/"><meta http-equiv="refresh" content="0;url={JS_URL}">
<script>{RUN}</script><script src="https://evil.example/x.js"></script></head>
<body onload="{RUN}"><h1>Report</h1><img src=x onerror="{RUN}"><iframe src="{JS_URL}"></iframe>
<a href="{JS_URL}">click</a><form action="https://evil.example"><input autofocus onfocus="{RUN}"></form>
<svg><script>{RUN}</script></svg></body></html>
"""


def dump(rel: str, root: Path, data) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def make_hostile_source(root: Path) -> GitRepo:
    repo = GitRepo.init(root)
    dump("sitegen.yaml", root, {
        "title": f"Site {P}", "description": MARKDOWN, "repo_url": f"https://example.org/{ATTR_BREAK}",
        "experiments": {"hostile": {"title": f"Configured {P}"}},
        "comparisons": [{"name": "evil", "title": f"Compare {P}", "description": MARKDOWN,
                         "query": "params.payload != 'x'", "metrics": [f"m{SCRIPT}", "loss"],
                         "group_by": [f"params.k{SCRIPT}"]}],
        "card": {"required_sections": [f"sec{SCRIPT}"]},
    })
    dump("runs/hostile/experiment.yaml", root, {
        "format": "sitegen.experiment/1", "title": f"Experiment {P}", "description": MARKDOWN,
        "primary_metric": f"m{SCRIPT}", "goal": "max", "tags": {f"tag{SCRIPT}": P, "team": P},
    })
    for i, run_id in enumerate(["run-a", "run-b"]):
        run = {
            "format": "sitegen.run/1", "id": run_id, "name": f"Run {i} {P}", "status": "finished",
            "start_time": f"2026-01-0{i + 1}T00:00:00Z", "end_time": f"2026-01-0{i + 1}T01:00:00Z", "user": P,
            "tags": {f"t{SCRIPT}": P, "kind": P},
            "params": {f"k{SCRIPT}": P, "payload": P, "nested": {f"n{ATTR_BREAK}": [P, JS_URL, {P: P}]},
                       "url": JS_URL, "data": DATA_URL},
            "metrics": {f"m{SCRIPT}": 0.5 + i / 10, "loss": 0.3 - i / 10, f"x{JSON_BREAK}": 1.0},
            "notes": MARKDOWN,
            "artifacts": [{"name": f"ext {P}", "uri": JS_URL, "kind": P, "role": P, "description": MARKDOWN},
                          {"name": "data", "uri": DATA_URL, "path": P}],
            "provenance": {
                "code": {"repo": JS_URL, "commit": P, "branch": P, "dirty": True, "diff": f"+{P}\n-{JSON_BREAK}",
                         "entry_point": P},
                "command": [P, JS_URL],
                "environment": {"python": P, "platform": P, "packages": {f"pkg{SCRIPT}": P}, "lockfile": P,
                                "container": {"image": P}},
                "hardware": {"cpu": P, "gpus": [P]},
                "inputs": [{"name": P, "kind": "dataset", "role": P, "uri": JS_URL, "path": P,
                            "digest": "sha256:" + "ab" * 32, "dataset": "evil-data"}],
                "outputs": [{"name": P, "kind": "model", "path": DATA_URL}],
            },
        }
        if i == 1:
            run["parent"] = "run-a"
        dump(f"runs/hostile/{run_id}/run.yaml", root, run)
        arts = root / f"runs/hostile/{run_id}/artifacts"
        arts.mkdir(parents=True)
        (arts / "chart.svg").write_text(SVG)
        (arts / "report.html").write_text(HTML)
        (arts / "notes.md").write_text(MARKDOWN)
        (arts / "table.csv").write_text(f"name,value\n\"{P.replace(chr(34), chr(34) * 2)}\",1\n")
        (arts / "data.json").write_text('{"k": "' + P.replace('"', '\\"') + '"}')
        (arts / "log.txt").write_text(P + "\n")
        (arts / "page.xml").write_text(f"<x><script>{RUN}</script></x>")
        (arts / "code.js").write_text(RUN)
        (arts / f"{ATTR_BREAK.replace('/', '')}.txt").write_text("odd name\n")
        (arts / f"{SCRIPT.replace('/', '')}.md").write_text(MARKDOWN)
        n = 40
        pq.write_table(pa.table({
            "key": [f"m{SCRIPT}"] * n + [f"x{JSON_BREAK}".replace("/", "")] * n,
            "step": list(range(n)) * 2, "value": [i / n for i in range(n)] * 2,
            "timestamp": pa.array([1_767_225_600_000 + 1000 * i for i in range(2 * n)], pa.timestamp("ms", "UTC")),
        }), root / f"runs/hostile/{run_id}/metrics.parquet")
    dump("models/evil-model/model.yaml", root, {
        "format": "sitegen.model/1", "name": f"Model {P}", "description": MARKDOWN, "owners": [P],
        "tags": {f"t{SCRIPT}": P}, "aliases": {"champion": 1},
        "alias_history": [{"alias": "champion", "version": 1, "at": "2026-01-03T00:00:00Z", "by": P, "note": P}],
        "monitoring": {f"m{SCRIPT}": {"min": 0.1}},
    })
    card = {key: MARKDOWN for key in ("details", "intended_use", "factors", "metrics", "evaluation_data",
                                      "training_data", "caveats_and_recommendations")}
    card["details"] = {"developers": P, "license": P, "contact": JS_URL, f"x{SCRIPT}": MARKDOWN}
    card["ethical_considerations"] = [{"name": P, "mitigation": MARKDOWN}]
    card["quantitative_analyses"] = [{"metric": f"m{SCRIPT}", "value": 0.5, "dataset": P, "split": P,
                                      "slice": P, "ci95": [0.4, 0.6]}]
    dump("models/evil-model/versions/1.yaml", root, {
        "format": "sitegen.model-version/1", "version": 1, "source_run": "hostile/run-b",
        "created": "2026-01-03T00:00:00Z", "description": MARKDOWN, "stage": "production",
        "tags": {f"t{SCRIPT}": P},
        "signature": {"inputs": [{"name": P, "type": P}], "outputs": [{"name": P, "type": JS_URL}]},
        "input_example": {P: P}, "card": card, "hub": {"repo_id": P, "url": JS_URL},
    })
    sheet = {"summary": MARKDOWN, f"k{SCRIPT}": P, "list": [P, MARKDOWN]}
    dump("datasets/evil-data.yaml", root, {
        "format": "sitegen.dataset/1", "name": f"Data {P}", "uri": JS_URL, "digest": "sha256:" + "ab" * 32,
        "description": MARKDOWN, "license": P, "size": 10, "rows": 5,
        "schema": [{"name": P, "type": P, "description": MARKDOWN}],
        **{k: sheet for k in ("motivation", "composition", "collection", "preprocessing", "uses", "distribution",
                              "maintenance")},
    })
    repo.git("config", "user.name", f"Author {P}")
    repo.git("config", "user.email", "evil@example.org")
    repo.commit(f"Add runs {P}\n\n{MARKDOWN}")
    (root / "runs/hostile/run-a/artifacts/log.txt").write_text("second commit\n")
    repo.commit(f"Second {JSON_BREAK} {JS_URL}")
    return repo


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    from sitegen.build import build

    root = tmp_path_factory.mktemp("hostile") / "src"
    make_hostile_source(root)
    out = root.parent / "site"
    result = build(root, out)
    return root, out, result


# --- static checks -----------------------------------------------------------------------------------

URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "poster", "background", "data", "cite",
             "srcset"}
BANNED_TAGS = {"object", "embed", "base", "applet", "frame", "frameset", "portal"}


class _Checker(html.parser.HTMLParser):
    """Collects markup that could run code: handlers, inline scripts, dangerous URLs and elements."""

    def __init__(self, where: str, in_frame: bool = False):
        super().__init__(convert_charrefs=True)
        self.where, self.in_frame = where, in_frame
        self.problems: list[str] = []
        self._script_type: str | None = None

    def bad(self, what: str) -> None:
        self.problems.append(f"{self.where}: {what}")

    def handle_starttag(self, tag, attrs):
        a = {k.lower(): (v or "") for k, v in attrs}
        for name, value in a.items():
            if name.startswith("on"):
                self.bad(f"<{tag} {name}=...>")
            if name in URL_ATTRS:
                v = re.sub(r"[\x00-\x20]", "", value).lower()
                if v.startswith(("javascript:", "vbscript:")):
                    self.bad(f"<{tag} {name}={value[:60]!r}>")
                empty_icon = tag == "link" and a.get("rel") == "icon" and v == "data:,"  # base.html's favicon
                if v.startswith("data:") and not (tag == "img" and v.startswith("data:image/")) and not empty_icon:
                    self.bad(f"<{tag} {name}={value[:60]!r}>")
                if not self.in_frame and tag in ("img", "script", "link", "iframe") and "://" in v:
                    self.bad(f"remote load <{tag} {name}={value[:60]!r}>")
        if tag in BANNED_TAGS:
            self.bad(f"<{tag}>")
        if tag == "meta" and a.get("http-equiv", "").lower() == "refresh":
            self.bad("<meta http-equiv=refresh>")
        if tag == "script":
            if self.in_frame:
                self.bad("<script> in a frame document")
            elif "src" in a:
                if not a["src"].split("/")[-1].endswith(".js") or "://" in a["src"]:
                    self.bad(f"<script src={a['src'][:60]!r}>")
            elif a.get("type") not in ("application/json", "application/ld+json"):
                self.bad(f"inline <script type={a.get('type')!r}>")
            self._script_type = a.get("type")
        if tag == "iframe":
            if "sandbox" not in a or "allow-scripts" in a["sandbox"]:
                self.bad(f"<iframe> without a script-free sandbox ({a.get('sandbox')!r})")
            if a.get("srcdoc"):
                inner = _Checker(self.where + " (srcdoc)", in_frame=True)
                inner.feed(a["srcdoc"])
                self.problems += inner.problems

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._script_type is not None and "application/json" in self._script_type:
            if "</" in data.lower():
                self.bad("'</' inside a JSON block")

    def handle_endtag(self, tag):
        if tag == "script":
            self._script_type = None


def html_pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def test_hostile_source_loads_cleanly(hostile_site):
    """Every hostile item was loaded (so its strings really reach the pages): no errors, only the card warning."""
    _, out, result = hostile_site
    errors = [str(d) for d in result.diagnostics if d.is_error]
    assert not errors
    assert (out / "runs/hostile/run-a/index.html").is_file()
    assert (out / "models/evil-model/1/index.html").is_file()
    assert (out / "datasets/evil-data/index.html").is_file()


def test_markup_never_carries_a_payload(hostile_site):
    _, out, _ = hostile_site
    problems: list[str] = []
    pages = html_pages(out)
    assert len(pages) >= 8
    shown = 0
    for page in pages:
        text = page.read_text(encoding="utf-8")
        checker = _Checker(str(page.relative_to(out)))
        checker.feed(text)
        problems += checker.problems
        outside_json = re.sub(r'<script type="application/json"[^>]*>.*?</script>', "", text, flags=re.S)
        shown += "&lt;script&gt;window.__pwned" in text
        for raw in (SCRIPT, "<img src=x onerror", "<svg onload", "7777777"):
            if raw in outside_json:
                problems.append(f"{page.relative_to(out)}: unescaped {raw!r}")
    assert not problems, "\n".join(problems[:50])
    assert shown >= 6  # the payloads did reach the pages, as text


@pytest.mark.parametrize("markup", [
    f"<p onclick='x'>", f"<script>{RUN}</script>", f'<a href=" javascript:{RUN}">', f'<iframe srcdoc="<script></script>" sandbox="">',
    f'<iframe sandbox="allow-scripts">', '<script type="application/json">"</script><script>x</script>', "<base href=/>",
    f'<a href="{DATA_URL}">', '<meta http-equiv="Refresh" content="0">', '<img src="https://evil.example/x">',
])
def test_checker_catches(markup):
    checker = _Checker("t")
    checker.feed(markup)
    assert checker.problems


def test_active_artifacts_published_as_text(hostile_site):
    _, out, _ = hostile_site
    arts = out / "runs/hostile/run-a/artifacts"
    published = {p.name for p in arts.iterdir()}
    for name in ("chart.svg", "report.html", "page.xml", "code.js"):
        assert name not in published and f"{name}.txt" in published
    for path in out.rglob("*"):
        if path.is_file() and "artifacts" in path.parts:
            assert path.suffix.lower() not in (".html", ".htm", ".svg", ".xml", ".js", ".xhtml"), path


def test_exports_carry_strings_as_data(hostile_site):
    """JSON/CSV exports keep the strings (they are data) but as valid, escaped JSON."""
    import json

    _, out, _ = hostile_site
    runs = json.loads((out / "data/runs.json").read_text())

    def strings(value):
        if isinstance(value, dict):
            for k, v in value.items():
                yield str(k)
                yield from strings(v)
        elif isinstance(value, list):
            for v in value:
                yield from strings(v)
        elif isinstance(value, str):
            yield value

    assert any(P in text for text in strings(runs))


def test_every_page_is_inert_in_chromium(hostile_site, page):
    _, out, _ = hostile_site
    seen = []
    for path in html_pages(out):
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_timeout(50)
        pwned = page.evaluate("() => window.__pwned")
        assert pwned is None, f"payload ran on {path.relative_to(out)}"
        frames = [f for f in page.frames if f != page.main_frame]
        for frame in frames:
            try:
                assert frame.evaluate("() => window.__pwned") is None, f"payload ran in a frame of {path}"
            except Exception as exc:  # a sandboxed frame without scripts cannot be evaluated: that is the point
                if "__pwned" in str(exc):
                    raise
        seen.append(path)
    # What is left of `<img src=x onerror=...>` after sanitizing is a harmless broken image named "x".
    page.sitegen_errors[:] = [e for e in page.sitegen_errors if not re.search(
        r"(Failed to load resource: net::ERR_FILE_NOT_FOUND|Not allowed to load local resource:) \(?file://\S*/x\b", e)]
    assert_no_browser_errors(page)
    assert len(seen) >= 8
