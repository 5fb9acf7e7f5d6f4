"""Standards: the Nu HTML Checker finds no errors on any page of the sample site, and axe-core finds no
serious or critical accessibility violations. Both come from npm (package.json; `npm ci`) and are skipped
when java / node_modules are missing, unless SITEGEN_REQUIRE_BROWSER=1 (CI)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from conftest import REPO_ROOT, browser_required

# Nothing is excused: every page must pass both checkers as it is.
KNOWN_VNU: tuple[str, ...] = ()
KNOWN_AXE: set[str] = set()

VNU = REPO_ROOT / "node_modules/vnu-jar/build/dist/vnu.jar"
AXE = REPO_ROOT / "node_modules/axe-core/axe.min.js"


def _need(ok: bool, reason: str) -> None:
    if not ok:
        if browser_required():
            pytest.fail(f"{reason} (SITEGEN_REQUIRE_BROWSER=1)")
        pytest.skip(reason)


def test_nu_html_checker_reports_no_errors(sample_site):
    _need(VNU.is_file(), "vnu-jar not installed (run `npm ci`)")
    _need(shutil.which("java") is not None, "java not found")
    pages = sorted(str(p) for p in sample_site.output.rglob("*.html"))
    assert len(pages) > 10
    proc = subprocess.run(["java", "-jar", str(VNU), "--errors-only", "--format", "json", *pages],
                          capture_output=True, text=True, timeout=600)
    messages = json.loads(proc.stderr or '{"messages": []}')["messages"]
    errors = [f"{m.get('url', '').split('/site/', 1)[-1]}:{m.get('lastLine')}: {m.get('message')}"
              for m in messages if m.get("type") == "error"
              and not any(k in m.get("message", "") for k in KNOWN_VNU)]
    assert not errors, f"{len(errors)} HTML error(s):\n" + "\n".join(sorted(set(errors))[:40])


def test_axe_reports_no_serious_violations(sample_site, page):
    _need(AXE.is_file(), "axe-core not installed (run `npm ci`)")
    script = AXE.read_text("utf-8")
    problems: list[str] = []
    pages = sorted(sample_site.output.rglob("*.html"))
    for path in pages:
        page.goto(path.as_uri(), wait_until="load")
        page.add_script_tag(content=script)
        result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                               ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
                               " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))")
        for v in result:
            if v["impact"] in ("serious", "critical") and v["id"] not in KNOWN_AXE:
                rel = path.relative_to(sample_site.output).as_posix()
                problems.append(f"{rel}: {v['impact']} {v['id']} ({v['help']}): {v['nodes']}")
    assert not problems, f"{len(problems)} violation(s):\n" + "\n".join(problems[:40])
