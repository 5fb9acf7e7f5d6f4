"""Previews of artifact files for run pages: escaped text, parsed tables, sanitized Markdown.

Previews read at most ``limit`` bytes of a file. Nothing in an artifact is ever executed on the page:
text is escaped by the template, Markdown is sanitized, HTML is shown in a sandboxed frame with no scripts.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from pathlib import Path
from typing import Any

from . import markup
from .store.paths import read_head

MAX_LINES = 200
MAX_CSV_ROWS = 20
MAX_SVG_INLINE = 512 * 1024
MAX_HTML_FRAME = 256 * 1024


def _head(path: Path, limit: int, content: bytes | None = None) -> tuple[str, bool]:
    raw = read_head(path, limit + 1) if content is None else content[:limit + 1]
    truncated = len(raw) > limit
    raw = raw[:limit]
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    return raw.decode("utf-8", errors="replace"), truncated


def _lines(text: str, truncated: bool) -> tuple[str, bool]:
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        return "\n".join(lines[:MAX_LINES]), True
    if truncated and lines:
        lines = lines[:-1]  # the last line may be cut mid-way
    return "\n".join(lines), truncated


def preview(kind: str, path: Path, size: int, limit: int, base: str = "",
            content: bytes | None = None) -> dict[str, Any] | None:
    """A preview dict for the template (``type`` says how to show it), or None when there is none.

    ``base`` is the folder of the artifact relative to the page showing it (for links inside Markdown).
    ``content``, when given, is the whole file, already read: the file is not read again.
    """
    if kind == "image":
        return {"type": "image"}
    if kind == "svg":
        if size > MAX_SVG_INLINE:
            return None
        data = base64.b64encode(path.read_bytes() if content is None else content).decode("ascii")
        # As an <img>, an SVG's scripts never run; a data: URI keeps the file off the site's origin.
        return {"type": "svg", "data_uri": f"data:image/svg+xml;base64,{data}"}
    if kind in ("text", "yaml", "diff"):
        text, truncated = _lines(*_head(path, limit, content))
        return {"type": "text", "text": text, "truncated": truncated, "lang": kind}
    if kind == "json":
        text, truncated = _head(path, limit, content)
        if not truncated and "\n" not in text.strip():  # minified: indented for reading; else as written
            try:
                text = json.dumps(json.loads(text), indent=2, ensure_ascii=False, sort_keys=False)
            except ValueError:
                pass
        text, cut = _lines(text, truncated)
        return {"type": "text", "text": text, "truncated": cut, "lang": "json"}
    if kind == "csv":
        text, truncated = _head(path, limit, content)
        try:  # newline="": the csv module reads line ends itself (a lone carriage return is one)
            rows = list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error:  # not CSV it can read (a field over its size limit, say): shown as text
            text, cut = _lines(text, truncated)
            return {"type": "text", "text": text, "truncated": cut, "lang": "csv"}
        if truncated and rows:
            rows = rows[:-1]
        if not rows:
            return None
        header, body = rows[0], rows[1:]
        return {"type": "table", "header": header, "rows": body[:MAX_CSV_ROWS],
                "truncated": truncated or len(body) > MAX_CSV_ROWS}
    if kind == "markdown":
        text, truncated = _head(path, limit, content)
        return {"type": "markdown", "html": markup.render(text, base=base, level=4), "truncated": truncated}
    if kind == "html":
        if size > MAX_HTML_FRAME:
            text, truncated = _lines(*_head(path, limit, content))
            return {"type": "text", "text": text, "truncated": truncated, "lang": "html"}
        text, _ = _head(path, MAX_HTML_FRAME, content)
        return {"type": "html", "srcdoc": markup.sanitize_document(text)}
    return None
