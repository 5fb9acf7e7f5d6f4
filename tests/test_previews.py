"""Artifact previews on run pages: what a JSON file looks like; previews from bytes the listing kept."""

import dataclasses
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sitegen import previews
from sitegen.previews import preview
from sitegen.store.artifacts import scan


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


# -- a small file's bytes, kept by the listing, stand for the file ------------------------------------
KINDS = ["text", "json", "yaml", "csv", "markdown", "html", "diff", "svg"]
TEXTS = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.lists(st.sampled_from(['a,b', '1,"x, y"', "{", '"k": [1, 2]', "# h", "<b>x</b>", "+ add", "\ufeff", ""]),
             max_size=12).map("\n".join),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(KINDS), text=TEXTS, limit=st.sampled_from([8, 40, 64 * 1024]))
def test_a_preview_from_kept_bytes_equals_one_from_the_file(tmp_path, kind, text, limit):
    path = tmp_path / "artifact"
    path.write_bytes(text.encode("utf-8"))
    size = path.stat().st_size
    assert preview(kind, path, size, limit, content=path.read_bytes()) == preview(kind, path, size, limit)


def test_the_listing_keeps_small_files_whole_and_reads_them_once(tmp_path, monkeypatch):
    base = tmp_path / "run" / "artifacts"
    base.mkdir(parents=True)
    (base / "config.json").write_text('{"lr": 0.1}')
    (base / "big.log").write_text("line\n" * 400)  # 2,000 bytes: not read while listing
    (base / "model.bin").write_text("version https://git-lfs.github.com/spec/v1\noid sha256:" + "a" * 64
                                    + "\nsize 12345\n")
    arts = {a.path: a for a in scan(tmp_path / "run")[0]}
    assert arts["config.json"].content == b'{"lr": 0.1}'
    assert arts["big.log"].content is None and arts["big.log"].size == 2000
    assert arts["model.bin"].kind == "lfs" and arts["model.bin"].size == 12345 and arts["model.bin"].content is None
    assert arts["config.json"] == dataclasses.replace(arts["config.json"], content=None)  # not its identity

    def no_reads(path, count):
        raise AssertionError(f"{path} read again")

    monkeypatch.setattr(previews, "read_head", no_reads)
    a = arts["config.json"]
    assert preview(a.kind, a.source, a.size, 1024, content=a.content)["text"] == '{\n  "lr": 0.1\n}'


def test_csv_that_the_csv_module_cannot_read_is_shown_not_raised(tmp_path):
    """A lone carriage return (found by the property test above) raised csv.Error out of the run page and
    stopped the build; a field over the csv module's size limit did too."""
    path = tmp_path / "a.csv"
    path.write_bytes(b"\r0")
    assert preview("csv", path, 2, 100) == {"type": "table", "header": [], "rows": [["0"]], "truncated": False}
    path.write_bytes(b"a,b\r\n1,2\r\n")
    assert preview("csv", path, 10, 100)["rows"] == [["1", "2"]]
    big = b"h\n" + b'"' + b"x" * 200_000
    path.write_bytes(big)
    shown = preview("csv", path, len(big), len(big))
    assert shown["type"] == "text" and shown["lang"] == "csv" and shown["text"].startswith("h\n")
