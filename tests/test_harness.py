"""The shared test harness (tests/conftest.py) works: browser, error capture, git, HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import REPO_ROOT, GitRepo, assert_no_browser_errors, chromium_path


def write_page(directory: Path, name: str, body: str, head: str = "") -> Path:
    path = directory / name
    path.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{name}</title>{head}</head>"
        f"<body>{body}</body></html>",
        encoding="utf-8",
    )
    return path


# --- Browser ---------------------------------------------------------------------------------


def test_chromium_path_is_an_executable_or_none():
    found = chromium_path()
    assert found is None or os.access(found, os.X_OK)


def test_page_opens_a_file_url_and_runs_its_script(page, tmp_path):
    html = write_page(
        tmp_path,
        "hello.html",
        "<p id='out'>static</p><script>document.getElementById('out').textContent = 'ran';</script>",
    )
    page.goto(html.as_uri())
    assert page.title() == "hello.html"
    assert page.text_content("#out") == "ran"
    assert_no_browser_errors(page)


def test_console_errors_page_errors_and_dialogs_are_recorded(page, tmp_path):
    html = write_page(
        tmp_path,
        "noisy.html",
        "<script>console.error('boom from the page'); console.log('not an error');</script>"
        "<script>alert('hello dialog');</script>"
        "<script>undefinedFunctionCall();</script>",
    )
    page.goto(html.as_uri())
    page.wait_for_timeout(100)  # page errors are delivered asynchronously
    errors = page.sitegen_errors
    assert any("console.error: boom from the page" in e for e in errors), errors
    assert any(e == "dialog alert: hello dialog" for e in errors), errors
    assert any(e.startswith("page error:") and "undefinedFunctionCall" in e for e in errors), errors
    assert not any("not an error" in e for e in errors), errors
    with pytest.raises(AssertionError, match="boom from the page"):
        assert_no_browser_errors(page)


def test_a_missing_browser_fails_when_required_and_skips_otherwise(tmp_path):
    """SITEGEN_REQUIRE_BROWSER=1 turns the browser fixture's skip into a failure."""
    test_id = f"{Path(__file__).name}::test_page_opens_a_file_url_and_runs_its_script"
    env = {**os.environ, "SITEGEN_CHROMIUM": str(tmp_path / "no-such-chromium")}
    env.pop("SITEGEN_REQUIRE_BROWSER", None)

    def run(extra_env):
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", test_id],
            cwd=REPO_ROOT / "tests",
            env={**env, **extra_env},
            capture_output=True,
            text=True,
            timeout=120,
        )

    skipped = run({})
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert "1 skipped" in skipped.stdout

    required = run({"SITEGEN_REQUIRE_BROWSER": "1"})
    assert required.returncode == 1, required.stdout + required.stderr
    assert "1 error" in required.stdout
    assert "SITEGEN_REQUIRE_BROWSER=1" in required.stdout


# --- HTTP ------------------------------------------------------------------------------------


def test_serve_dir_serves_files_with_extra_headers(serve_dir, tmp_path):
    (tmp_path / "data.json").write_text('{"ok": true}', encoding="utf-8")
    base = serve_dir(tmp_path, headers={"X-Test": "yes"})
    assert base.startswith("http://127.0.0.1:") and base.endswith("/")

    with urllib.request.urlopen(base + "data.json", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json"
        assert response.headers["X-Test"] == "yes"
        assert response.read() == b'{"ok": true}'

    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(base + "missing.html", timeout=10)
    assert missing.value.code == 404


def test_page_over_http_reports_csp_violations(page, serve_dir, tmp_path):
    """An inline script blocked by a served CSP shows up as a browser error (for CSP tests)."""
    (tmp_path / "ok.js").write_text(
        "document.getElementById('out').textContent = 'external ran';", encoding="utf-8"
    )
    write_page(
        tmp_path,
        "index.html",
        "<p id='out'></p><script src='ok.js'></script><script>document.title = 'inline ran';</script>",
    )
    base = serve_dir(tmp_path, headers={"Content-Security-Policy": "script-src 'self'"})
    page.goto(base + "index.html")
    assert page.text_content("#out") == "external ran"
    assert page.title() == "index.html"  # the inline script did not run
    assert any("Content Security Policy" in e for e in page.sitegen_errors), page.sitegen_errors


# --- Git -------------------------------------------------------------------------------------


def test_git_repo_commits_with_fixed_identity_and_dates(git_repo, tmp_path):
    git_repo.write("runs/a/run.yaml", "name: a\n")
    first = git_repo.commit("Add run a")
    git_repo.write("runs/b/run.yaml", "name: b\n")
    second = git_repo.commit("Add run b")

    log = git_repo.git("log", "--format=%H|%an|%ae|%aI|%cI|%s")
    assert log.splitlines() == [
        f"{second}|Test Author|author@example.org|2026-01-01T02:00:00+00:00|2026-01-01T02:00:00+00:00|Add run b",
        f"{first}|Test Author|author@example.org|2026-01-01T01:00:00+00:00|2026-01-01T01:00:00+00:00|Add run a",
    ]

    # Same content, same identity, same dates: the same shas, on any machine.
    twin = GitRepo.init(tmp_path / "twin")
    twin.write("runs/a/run.yaml", "name: a\n")
    assert twin.commit("Add run a") == first


def test_git_repo_commit_accepts_an_explicit_date(git_repo):
    git_repo.write("README.md", "x\n")
    sha = git_repo.commit("Dated", date="2025-06-30T12:00:00+02:00")
    assert git_repo.git("show", "-s", "--format=%aI", sha) == "2025-06-30T12:00:00+02:00"


# --- Built sites -----------------------------------------------------------------------------


def test_sample_site_builds_an_index(sample_site):
    pytest.importorskip("sitegen.build")
    assert sample_site.path("index.html").is_file()
    assert sample_site.pages
