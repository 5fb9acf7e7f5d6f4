"""``sitegen serve``: a live preview. Builds the source into a temporary directory, serves it over HTTP,
rebuilds when the source, the config or the theme change, and reloads open pages.

- Watching: watchdog, with a short debounce so an editor's save (several events) causes one build.
- Reloading: pages get a small script (``/__sitegen__/reload.js``) injected into the HTML *as it is served*;
  the built files never contain it. The script listens to server-sent events on ``/__sitegen__/events``.
- Problems: a broken file, or a build that fails outright, never stops the server; the problems are shown
  in an overlay on every page until they are fixed (and printed to the terminal).
- Paths: the site is served under the path of the config's ``base_url`` (``/`` when there is none).
"""

from __future__ import annotations

import html
import http.server
import json
import shutil
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import unquote, urlsplit

from .config import load_config
from .diagnostics import Diagnostics, SitegenError
from .theme import default_theme_dir, resolve_theme

PREFIX = "/__sitegen__/"
DEBOUNCE_SECONDS = 0.15
HEARTBEAT_SECONDS = 15.0
_IGNORED_PARTS = {".git", "__pycache__", ".hg", ".svn", "node_modules"}
_IGNORED_SUFFIXES = (".swp", ".swx", ".tmp", "~")


def _reload_script() -> bytes:
    return (default_theme_dir() / "static" / "js" / "reload.js").read_bytes()


@dataclass
class BuildState:
    """The outcome of the latest build, shared between the builder and the request handlers."""

    generation: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    finished_at: float = 0.0  # time.monotonic() when the latest build ended
    cond: threading.Condition = field(default_factory=threading.Condition)

    def publish(self, problems: list[str], seconds: float) -> None:
        with self.cond:
            self.generation += 1
            self.problems = problems
            self.seconds = seconds
            self.finished_at = time.monotonic()
            self.cond.notify_all()

    def wait_newer(self, generation: int, timeout: float) -> int:
        with self.cond:
            self.cond.wait_for(lambda: self.generation != generation, timeout=timeout)
            return self.generation


def site_path_prefix(base_url: str | None) -> str:
    """The URL path the site is served under: ``/churn/`` for ``https://host/churn/``, else ``/``."""
    if not base_url:
        return "/"
    path = urlsplit(base_url).path or "/"
    return path if path.endswith("/") else path + "/"


def overlay_html(problems: list[str]) -> str:
    """The error overlay shown on every page while the source has problems (all text escaped)."""
    items = "".join(f"<li>{html.escape(p)}</li>" for p in problems[:50])
    more = f"<li>… and {len(problems) - 50} more</li>" if len(problems) > 50 else ""
    return ('<div id="sitegen-serve-overlay" role="alert" style="position:fixed;left:0;right:0;bottom:0;'
            'max-height:50vh;overflow:auto;z-index:2147483647;background:#2b0b0b;color:#ffd7d7;'
            'font:14px/1.4 monospace;padding:12px 16px;border-top:3px solid #e5484d">'
            f'<strong>sitegen serve: {len(problems)} problem(s) in the source</strong>'
            f'<ul style="margin:6px 0 0;padding-left:20px">{items}{more}</ul>'
            '<p style="margin:6px 0 0;opacity:.8">The page updates by itself when you save a fix.</p></div>')


def inject(page: bytes, problems: list[str]) -> bytes:
    """Add the reload script (and the overlay, if there are problems) before ``</body>``."""
    snippet = f'<script src="{PREFIX}reload.js"></script>'
    if problems:
        snippet = overlay_html(problems) + snippet
    data = snippet.encode("utf-8")
    at = page.rfind(b"</body>")
    return page[:at] + data + page[at:] if at >= 0 else page + data


class Previewer:
    """Builds ``source`` into a temporary directory, and rebuilds it on request (one build at a time)."""

    def __init__(self, source: Path, *, search: bool = False, log: Callable[[str], None] | None = None):
        self.source = Path(source).resolve()
        self.output_root = Path(tempfile.mkdtemp(prefix="sitegen-serve-"))
        self.output = self.output_root / "site"
        self.search = search
        self.state = BuildState()
        self.log = log or (lambda message: None)
        self._lock = threading.Lock()

    def build(self) -> None:
        from .build import build

        with self._lock:
            started = time.perf_counter()
            problems: list[str] = []
            try:
                result = build(self.source, self.output, search=self.search)
                problems = [str(d) for d in result.diagnostics if d.is_error]
            except SitegenError as exc:
                problems = [f"build failed: {exc}"]
            except Exception as exc:  # a bug must not stop the preview; show it instead
                problems = ["build crashed (a sitegen bug; please report it): "
                            + "".join(traceback.format_exception_only(type(exc), exc)).strip()]
                self.log(traceback.format_exc())
            seconds = time.perf_counter() - started
            self.state.publish(problems, seconds)
            self.log(f"built in {seconds:.2f} s" + (f"; {len(problems)} problem(s):" if problems else ""))
            for p in problems:
                self.log(f"  {p}")

    def close(self) -> None:
        shutil.rmtree(self.output_root, ignore_errors=True)


class Watcher:
    """Watches directories with watchdog; calls ``on_change`` once per burst of events (debounced)."""

    def __init__(self, paths: list[Path], on_change: Callable[[], None], debounce: float = DEBOUNCE_SECONDS,
                 ignore: list[Path] | None = None):
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        self.on_change = on_change
        self.debounce = debounce
        self.ignore = [p.resolve() for p in ignore or []]
        self._dirty = threading.Event()
        self._last = 0.0
        self._stop = threading.Event()
        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: Any) -> None:
                if event.event_type in ("opened", "closed_no_write"):
                    return
                paths = [event.src_path, getattr(event, "dest_path", "") or ""]
                if any(p and watcher.relevant(Path(p)) for p in paths):
                    watcher._last = time.monotonic()
                    watcher._dirty.set()

        self.observer = Observer()
        for path in {p.resolve() for p in paths if p.is_dir()}:
            self.observer.schedule(Handler(), str(path), recursive=True)
        self.thread = threading.Thread(target=self._loop, name="sitegen-rebuild", daemon=True)

    def relevant(self, path: Path) -> bool:
        if any(part in _IGNORED_PARTS for part in path.parts) or path.name.endswith(_IGNORED_SUFFIXES):
            return False
        if path.name.startswith((".#", ".~")):
            return False
        return not any(path == d or d in path.parents for d in self.ignore)

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not self._dirty.wait(timeout=0.5):
                continue
            while time.monotonic() - self._last < self.debounce:  # let the burst finish
                time.sleep(self.debounce / 3)
            self._dirty.clear()
            self.on_change()

    def start(self) -> None:
        self.observer.start()
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.observer.stop()
        self.observer.join(timeout=5)


def make_handler(previewer: Previewer, prefix: str) -> type[http.server.BaseHTTPRequestHandler]:
    reload_js = _reload_script()

    class Handler(http.server.SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def __init__(self, *args: Any, **kwargs: Any):
            super().__init__(*args, directory=str(previewer.output), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
            pass

        def end_headers(self) -> None:
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def _send(self, status: int, body: bytes, ctype: str, head: bool = False) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def _events(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "keep-alive")
            self.end_headers()
            self.close_connection = True
            seen = previewer.state.generation
            try:
                self.wfile.write(f"retry: 500\nevent: hello\ndata: {seen}\n\n".encode())
                self.wfile.flush()
                while True:
                    now = previewer.state.wait_newer(seen, HEARTBEAT_SECONDS)
                    if now == seen:
                        self.wfile.write(b": heartbeat\n\n")
                    else:
                        seen = now
                        data = json.dumps({"generation": now, "problems": len(previewer.state.problems)})
                        self.wfile.write(f"event: reload\ndata: {data}\n\n".encode())
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError, OSError):
                return

        def _special(self, path: str, head: bool) -> bool:
            if path == PREFIX + "reload.js":
                self._send(200, reload_js, "text/javascript; charset=utf-8", head)
            elif path == PREFIX + "events" and not head:
                self._events()
            elif path == PREFIX + "status":
                state = previewer.state
                body = json.dumps({"generation": state.generation, "problems": state.problems,
                                   "seconds": round(state.seconds, 3)}).encode()
                self._send(200, body, "application/json", head)
            else:
                self._send(404, b"not found", "text/plain; charset=utf-8", head)
            return True

        def _serve(self, head: bool) -> None:
            path = unquote(urlsplit(self.path).path)
            if path.startswith(PREFIX):
                self._special(path, head)
                return
            if not path.startswith(prefix):
                if path.rstrip("/") + "/" == prefix or path == "/":
                    self.send_response(302)
                    self.send_header("Location", prefix)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self._send(404, f"not found: the site is served under {prefix}".encode(),
                               "text/plain; charset=utf-8", head)
                return
            rel = path[len(prefix):]
            target = (previewer.output / rel).resolve()
            root = previewer.output.resolve()
            if target != root and root not in target.parents:
                self._send(404, b"not found", "text/plain; charset=utf-8", head)
                return
            if target.is_dir():
                if not path.endswith("/"):
                    self.send_response(301)
                    self.send_header("Location", path + "/")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                target = target / "index.html"
            status = 200
            if not target.is_file():
                status, target = 404, root / "404.html"
                if not target.is_file():
                    self._send(404, inject(b"<!DOCTYPE html><title>Not found</title><body><p>Not found (the "
                                           b"first build may still be running).</p></body>",
                                           previewer.state.problems), "text/html; charset=utf-8", head)
                    return
            try:
                body = target.read_bytes()
            except OSError:  # swapped away by a rebuild in between: try once more
                time.sleep(0.05)
                body = target.read_bytes() if target.is_file() else b""
            ctype = self.guess_type(str(target))
            if target.suffix in (".html", ".htm"):
                body = inject(body, previewer.state.problems)
                ctype = "text/html; charset=utf-8"
            self._send(status, body, ctype, head)

        def do_GET(self) -> None:  # noqa: N802 - http.server naming
            self._serve(head=False)

        def do_HEAD(self) -> None:  # noqa: N802
            self._serve(head=True)

    return Handler


class PreviewServer:
    """The whole preview: first build, HTTP server and watcher. ``start()`` returns once serving."""

    def __init__(self, source: str | Path = ".", host: str = "127.0.0.1", port: int = 8000, *,
                 search: bool = False, log: Callable[[str], None] | None = None):
        self.source = Path(source).resolve()
        if not self.source.is_dir():
            raise SitegenError(f"source {source} is not a directory")
        self.previewer = Previewer(self.source, search=search, log=log)
        config = load_config(self.source, Diagnostics())
        self.prefix = site_path_prefix(config.base_url)
        handler = make_handler(self.previewer, self.prefix)
        try:
            self.httpd = http.server.ThreadingHTTPServer((host, port), handler)
        except OSError as exc:
            self.previewer.close()
            raise SitegenError(f"cannot listen on {host}:{port}: {exc.strerror} (try another --port)") from None
        self.httpd.daemon_threads = True
        watch = [self.source]
        theme = resolve_theme(config.theme, self.source) if config.theme else None
        if theme is not None:
            watch += [d for d in theme.dirs if self.source not in d.resolve().parents]
        ignore = [self.previewer.output_root, self.source / config.output]
        self.watcher = Watcher(watch, self.previewer.build, ignore=ignore)
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="sitegen-serve", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}{self.prefix}"

    def start(self) -> "PreviewServer":
        self.previewer.build()
        self.watcher.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        self.watcher.stop()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.previewer.close()

    def __enter__(self) -> "PreviewServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve(source: str | Path = ".", host: str = "127.0.0.1", port: int = 8000, *, search: bool = False) -> None:
    """Run the preview until interrupted (Ctrl-C)."""
    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    server = PreviewServer(source, host, port, search=search, log=log)
    server.start()
    log(f"serving {server.source} at {server.url} (Ctrl-C to stop)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        log("stopping")
    finally:
        server.stop()
