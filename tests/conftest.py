"""Shared test fixtures for sitegen.

Sections (add new fixtures to the section they belong to, or start a new one):

- Paths
- Browser: ``chromium_path``, ``browser``, ``page``, ``assert_no_browser_errors``
- Built sites: ``sample_site``, ``built_site``
- Git: ``git_repo`` (``GitRepo``)
- HTTP: ``serve_dir``

Helpers defined here are plain functions and classes; tests import them with
``from conftest import assert_no_browser_errors`` (pytest puts ``tests/`` on ``sys.path``).

Under pytest-xdist (``scripts/test`` runs ``-n 2``) every session-scoped fixture is created once per
worker, not once per run: the browser is launched and the sample site built in each worker.
"""

from __future__ import annotations

import atexit
import filecmp
import functools
import http.server
import importlib
import importlib.util
import itertools
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

# --- Paths ---------------------------------------------------------------------------------

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_RUNS = REPO_ROOT / "sample_runs"

# The machine's cache of sitegen (compiled templates) is this test process's own: tests never read or write
# the user's, and every build of the session after the first loads the templates compiled.
MACHINE_CACHE = Path(tempfile.mkdtemp(prefix="sitegen-test-cache-"))
os.environ["SITEGEN_CACHE_DIR"] = str(MACHINE_CACHE)
atexit.register(shutil.rmtree, MACHINE_CACHE, True)


def tree_diff(a: Path, b: Path) -> list[str]:
    """Paths that differ between two directory trees (missing on one side, or other bytes)."""
    files_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    out = sorted(str(p) for p in files_a ^ files_b)
    return out + sorted(str(p) for p in files_a & files_b if not filecmp.cmp(a / p, b / p, shallow=False))


# --- Browser -------------------------------------------------------------------------------

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGE_TIMEOUT_MS = 15_000


def chromium_path() -> str | None:
    """The Chromium executable to drive, or None when there is none.

    ``SITEGEN_CHROMIUM`` names it explicitly (e.g. a Chrome build on macOS); otherwise Debian's
    /usr/bin/chromium, otherwise ``chromium`` on PATH.
    """
    explicit = os.environ.get("SITEGEN_CHROMIUM")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def browser_required() -> bool:
    """True when a missing browser must fail the test run instead of skipping (CI sets this)."""
    return os.environ.get("SITEGEN_REQUIRE_BROWSER") == "1"


def _no_browser(reason: str) -> None:
    if browser_required():
        pytest.fail(f"{reason} (SITEGEN_REQUIRE_BROWSER=1, so this is a failure, not a skip)")
    pytest.skip(reason)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the browser with ``browser`` so ``-m 'not browser'`` works."""
    for item in items:
        if {"browser", "page"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Chromium (Playwright sync API), shared by the tests of one worker."""
    executable = chromium_path()
    if executable is None:
        _no_browser("Chromium not found (looked for $SITEGEN_CHROMIUM, /usr/bin/chromium, PATH)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _no_browser("the playwright package is not installed (pip install -e '.[test]')")

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page in its own browser context.

    ``page.sitegen_errors`` collects, as readable strings: console messages of type error,
    uncaught page errors, and dialogs (alert/confirm/prompt are dismissed and recorded).
    Check it with ``assert_no_browser_errors(page)``.
    """
    context = browser.new_context()
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    new_page = context.new_page()
    errors: list[str] = []
    new_page.sitegen_errors = errors

    def on_console(message: Any) -> None:
        if message.type == "error":
            location = message.location or {}
            where = location.get("url", "")
            if where:
                where = f" ({where}:{location.get('lineNumber', 0)})"
            errors.append(f"console.error: {message.text}{where}")

    def on_dialog(dialog: Any) -> None:
        errors.append(f"dialog {dialog.type}: {dialog.message}")
        dialog.dismiss()

    new_page.on("console", on_console)
    new_page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    new_page.on("dialog", on_dialog)
    try:
        yield new_page
    finally:
        context.close()


def assert_no_browser_errors(page: Any) -> None:
    """Fail with every recorded console error, page error and dialog, if there were any."""
    errors = page.sitegen_errors
    assert not errors, f"browser reported {len(errors)} problem(s) on {page.url}:\n" + "\n".join(
        f"  - {error}" for error in errors
    )


# --- Built sites ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BuiltSite:
    """A site built by ``sitegen.build.build``: where from, where to, and the build's result."""

    source: Path
    output: Path
    result: Any

    @property
    def pages(self) -> Any:
        return self.result.pages

    @property
    def warnings(self) -> Any:
        return self.result.warnings

    def path(self, relative: str) -> Path:
        return self.output / relative

    def read(self, relative: str) -> str:
        return (self.output / relative).read_text(encoding="utf-8")

    def url(self, relative: str = "index.html") -> str:
        """A file:// URL for a page of the site."""
        return (self.output / relative).as_uri()


def _build_module() -> Any:
    """``sitegen.build``; skip while it does not exist yet, but let errors inside it surface."""
    if importlib.util.find_spec("sitegen.build") is None:
        pytest.skip("sitegen.build does not exist yet")
    return importlib.import_module("sitegen.build")


def build_site(source: Path, output: Path, **kwargs: Any) -> BuiltSite:
    """Build ``source`` into ``output`` with ``sitegen.build.build`` (quiet unless told)."""
    kwargs.setdefault("quiet", True)
    result = _build_module().build(Path(source), Path(output), **kwargs)
    return BuiltSite(source=Path(source), output=Path(output), result=result)


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    """The repo's ``sample_runs/`` built once per worker into a temporary directory."""
    _build_module()
    if not SAMPLE_RUNS.is_dir():
        pytest.fail(f"{SAMPLE_RUNS} is missing: the sample run store is part of the repo")
    return build_site(SAMPLE_RUNS, tmp_path_factory.mktemp("sample_site") / "site")


@pytest.fixture
def built_site(tmp_path: Path) -> Callable[..., BuiltSite]:
    """Factory: ``built_site(source, **build_kwargs)`` builds into a fresh tmp dir."""
    counter = itertools.count(1)

    def build(source: Path, **kwargs: Any) -> BuiltSite:
        return build_site(source, tmp_path / f"site-{next(counter)}", **kwargs)

    return build


# --- Git -----------------------------------------------------------------------------------

GIT_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


@dataclass
class GitRepo:
    """A real git repository in a temporary directory, with fixed identity and commit dates."""

    path: Path
    _commits: int = field(default=0, init=False)

    @classmethod
    def init(cls, path: Path) -> GitRepo:
        path.mkdir(parents=True, exist_ok=True)
        repo = cls(path)
        repo.git("init", "-q", "-b", "main")
        repo.git("config", "user.name", "Test Author")
        repo.git("config", "user.email", "author@example.org")
        repo.git("config", "commit.gpgsign", "false")
        return repo

    def git(self, *args: str, env: dict[str, str] | None = None) -> str:
        """Run git in the repo; return its stdout with the trailing newline removed."""
        full_env = {
            **os.environ,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            **(env or {}),
        }
        completed = subprocess.run(
            ["git", *args],
            cwd=self.path,
            env=full_env,
            capture_output=True,
            text=True,
        )
        if completed.returncode != 0:
            raise AssertionError(
                f"git {' '.join(args)} failed in {self.path} ({completed.returncode}):\n"
                f"{completed.stderr}"
            )
        return completed.stdout.rstrip("\n")

    def write(self, relative: str, text: str) -> Path:
        """Write a text file (making parent directories) and return its path."""
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target

    def commit(self, message: str, date: datetime | str | None = None) -> str:
        """Stage everything and commit it; return the new commit's sha.

        Without ``date`` the n-th commit is dated GIT_EPOCH + n hours, so histories (and shas)
        are the same on every run.
        """
        self._commits += 1
        if date is None:
            date = GIT_EPOCH + timedelta(hours=self._commits)
        stamp = date.isoformat() if isinstance(date, datetime) else date
        self.git("add", "-A")
        self.git(
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            message,
            env={"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp},
        )
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def git_repo(tmp_path: Path) -> GitRepo:
    """A fresh git repository at ``tmp_path / "repo"``; more can be made with ``GitRepo.init``."""
    return GitRepo.init(tmp_path / "repo")


# --- HTTP ----------------------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a directory without logging every request; adds configured response headers."""

    extra_headers: dict[str, str] = {}

    def end_headers(self) -> None:
        for name, value in self.extra_headers.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        pass


@pytest.fixture
def serve_dir() -> Iterator[Callable[..., str]]:
    """Factory: ``serve_dir(path, headers=None)`` serves a directory over HTTP on 127.0.0.1.

    Returns the base URL (``http://127.0.0.1:PORT/``). ``headers`` are added to every response
    (e.g. a Content-Security-Policy). Every server is shut down when the test ends.
    """
    servers: list[tuple[http.server.ThreadingHTTPServer, threading.Thread]] = []

    def serve(path: Path, headers: dict[str, str] | None = None) -> str:
        handler_class = type("Handler", (_QuietHandler,), {"extra_headers": dict(headers or {})})
        handler = functools.partial(handler_class, directory=str(path))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, name="serve_dir", daemon=True)
        thread.start()
        servers.append((server, thread))
        host, port = server.server_address[:2]
        return f"http://{host}:{port}/"

    try:
        yield serve
    finally:
        for server, thread in servers:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
