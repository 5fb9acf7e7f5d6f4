from pathlib import Path

import pytest

from sitegen.store.yamlio import MAX_YAML_BYTES, YamlProblem, parse_yaml, read_yaml


def problem(text: str) -> YamlProblem:
    with pytest.raises(YamlProblem) as info:
        parse_yaml(text)
    return info.value


def test_parses_mapping_and_keeps_timestamps_as_text():
    doc = parse_yaml("id: r1\nstart_time: 2026-11-27T06:12:00Z\nparams: {lr: 0.001}\n")
    assert doc.data == {"id": "r1", "start_time": "2026-11-27T06:12:00Z", "params": {"lr": 0.001}}


def test_position_of_nested_values_and_list_items():
    doc = parse_yaml("a: 1\nb:\n  c: [10, 20]\n  d: x\n")
    assert doc.position(["b", "c", 1]) == (3, 11)
    assert doc.position(["b", "d"]) == (4, 6)
    assert doc.position(["b", "d"], key=True) == (4, 3)
    assert doc.position(["b", "missing"]) == (3, 3)  # falls back to the deepest existing parent


def test_duplicate_key_names_both_lines():
    err = problem("id: a\nname: x\nid: b\n")
    assert (err.line, err.col) == (3, 1)
    assert "duplicate key 'id'" in err.message and "line 1" in err.message


def test_tab_indentation_is_named():
    err = problem("params:\n\tlr: 1\n")
    assert err.line == 2 and "tab" in err.message


def test_syntax_error_has_position():
    err = problem("a: [1, 2\nb: 3\n")
    assert err.line >= 2 and err.message.startswith("invalid YAML")


def test_alias_bomb_is_refused_quickly():
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    err = problem("\n".join(lines) + "\n")
    assert "aliases" in err.message


def test_small_alias_use_is_fine():
    assert parse_yaml("base: &b {x: 1}\nother: *b\n").data == {"base": {"x": 1}, "other": {"x": 1}}


def test_bom_is_accepted_and_non_utf8_is_located(tmp_path: Path):
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbfid: r1\n")
    assert read_yaml(bom).data == {"id": "r1"}
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"id: r1\nname: caf\xe9\n")
    with pytest.raises(YamlProblem) as info:
        read_yaml(latin)
    assert (info.value.line, info.value.col) == (2, 10) and "UTF-8" in info.value.message


def test_oversized_file_is_refused_without_parsing(tmp_path: Path):
    big = tmp_path / "big.yaml"
    with open(big, "wb") as fh:
        fh.truncate(MAX_YAML_BYTES + 1)
    with pytest.raises(YamlProblem) as info:
        read_yaml(big)
    assert "limited" in info.value.message


def test_unsafe_tags_are_rejected():
    err = problem("x: !!python/object/apply:os.system ['echo hi']\n")
    assert err.line == 1
