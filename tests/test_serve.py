"""sitegen serve: rebuild on change, a reload event within 2 s, the error overlay, the base_url path."""

from __future__ import annotations

import http.client
import queue
import threading
import time
import urllib.request

import pytest

from sitegen.serve import PreviewServer, inject, site_path_prefix

RUN = """format: sitegen.run/1
id: run-a
name: {name}
status: finished
start_time: 2026-01-01T10:00:00Z
params: {{lr: 0.1}}
metrics: {{acc: 0.5}}
"""


class EventStream:
    """Reads server-sent events on a thread; ``events`` gets (event name, data, monotonic time)."""

    def __init__(self, host: str, port: int):
        self.events: queue.Queue = queue.Queue()
        self.conn = http.client.HTTPConnection(host, port, timeout=30)
        self.conn.request("GET", "/__sitegen__/events")
        self.response = self.conn.getresponse()
        assert self.response.getheader("Content-Type") == "text/event-stream"
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        name, data = "message", ""
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data = line[6:]
                elif not line and data:
                    self.events.put((name, data, time.monotonic()))
                    name, data = "message", ""
        except (OSError, ValueError):
            pass

    def next(self, kind: str, timeout: float) -> tuple[str, str, float]:
        deadline = time.monotonic() + timeout
        while True:
            event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if event[0] == kind:
                return event

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def source(tmp_path):
    root = tmp_path / "src"
    (root / "runs/mnist/run-a").mkdir(parents=True)
    (root / "runs/mnist/run-a/run.yaml").write_text(RUN.format(name="first-name"))
    (root / "sitegen.yaml").write_text("title: Preview\nbase_url: https://example.org/reports/\n")
    return root


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_edit_reload_and_error_overlay(source):
    with PreviewServer(source, "127.0.0.1", 0) as server:
        assert server.url.endswith("/reports/")  # served under the base_url path
        host, port = server.httpd.server_address[:2]
        page_url = server.url + "runs/mnist/run-a/index.html"
        status, text = fetch(page_url)
        assert status == 200 and "first-name" in text
        assert '<script src="/__sitegen__/reload.js"></script></body>' in text
        assert "__sitegen__" not in (server.previewer.output / "runs/mnist/run-a/index.html").read_text()
        stream = EventStream(host, port)
        stream.next("hello", 5)

        edited = time.monotonic()
        (source / "runs/mnist/run-a/run.yaml").write_text(RUN.format(name="second-name"))
        _, _, at = stream.next("reload", 10)
        assert at - edited < 2.0, f"reload event {at - edited:.2f} s after the edit"
        status, text = fetch(page_url)
        assert "second-name" in text and "sitegen-serve-overlay" not in text

        (source / "runs/mnist/run-a/run.yaml").write_text("format: sitegen.run/1\nid: run-a\nname: [unclosed\n")
        stream.next("reload", 10)
        status, text = fetch(server.url + "index.html")
        assert status == 200 and 'id="sitegen-serve-overlay"' in text
        assert "runs/mnist/run-a/run.yaml" in text
        assert server._thread.is_alive()  # the broken file did not stop the server

        (source / "runs/mnist/run-a/run.yaml").write_text(RUN.format(name="fixed-name"))
        stream.next("reload", 10)
        status, text = fetch(page_url)
        assert "fixed-name" in text and "sitegen-serve-overlay" not in text
        stream.close()


def test_paths_outside_the_site(source):
    with PreviewServer(source, "127.0.0.1", 0) as server:
        root = server.url.split("/reports/")[0]
        req = urllib.request.Request(root + "/")
        opener = urllib.request.build_opener(type("NoRedirect", (urllib.request.HTTPRedirectHandler,),
                                                  {"redirect_request": lambda *a, **k: None}))
        with pytest.raises(urllib.error.HTTPError) as redirect:
            opener.open(req, timeout=10)
        assert redirect.value.code == 302 and redirect.value.headers["Location"] == "/reports/"
        assert fetch(root + "/reports/../../etc/passwd")[0] == 404
        status, text = fetch(server.url + "no/such/page.html")
        assert status == 404 and "__sitegen__/reload.js" in text
        assert fetch(root + "/__sitegen__/reload.js")[0] == 200


def test_helpers():
    assert site_path_prefix(None) == "/"
    assert site_path_prefix("https://h.example/a/b") == "/a/b/"
    out = inject(b"<html><body><p>x</p></body></html>", ["runs/x.yaml:1:2: error: <bad>"])
    assert b"&lt;bad&gt;" in out and out.endswith(b"</body></html>")
