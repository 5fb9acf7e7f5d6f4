"""Artifact previews on run pages: what a JSON file looks like."""

import json

from sitegen.previews import preview


def _json_preview(tmp_path, text: str, limit: int = 64 * 1024) -> dict:
    path = tmp_path / "a.json"
    path.write_text(text, encoding="utf-8")
    return preview("json", path, path.stat().st_size, limit)


def test_minified_json_is_indented_for_reading(tmp_path):
    p = _json_preview(tmp_path, json.dumps({"b": 1, "a": [1, 2], "name": "caf\u00e9"}))
    assert p["type"] == "text" and p["lang"] == "json" and not p["truncated"]
    assert p["text"] == '{\n  "b": 1,\n  "a": [\n    1,\n    2\n  ],\n  "name": "café"\n}'


def test_json_laid_out_by_its_author_is_shown_as_written(tmp_path):
    text = '{\n    "z": 1,   "a": {"nested": true},\n    "esc": "\\u00e9"\n}'
    assert _json_preview(tmp_path, text + "\n")["text"] == text


def test_invalid_or_truncated_json_is_shown_as_text(tmp_path):
    assert _json_preview(tmp_path, '{"a": 1,')["text"] == '{"a": 1,'
    long = json.dumps({"k": "x" * 500})
    p = _json_preview(tmp_path, long, limit=100)
    assert p["truncated"] and p["text"] == ""  # the only line was cut mid-way: not shown
