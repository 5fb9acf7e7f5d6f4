from sitegen.diagnostics import Diagnostics
from sitegen.store import validate
from sitegen.store.yamlio import parse_yaml


def check(kind: str, text: str) -> tuple[bool, Diagnostics]:
    diags = Diagnostics()
    ok = validate.check(kind, parse_yaml(text), "runs/e/r/run.yaml", diags)
    return ok, diags


def test_valid_run_has_no_diagnostics():
    ok, diags = check("run", "format: sitegen.run/1\nid: r\nstatus: finished\nstart_time: 2026-11-27T06:12:00Z\n"
                             "params: {lr: 0.1}\nmetrics: {acc: .nan, loss: .inf}\n")
    assert ok and not diags


def test_wrong_type_names_field_line_and_expectation():
    ok, diags = check("run", "id: r\nstatus: finished\ntags: [a, b]\n")
    assert not ok
    (d,) = diags
    assert (d.line, d.col) == (3, 7)
    assert "field 'tags'" in d.message and "expected object" in d.message


def test_bad_enum_and_bad_time_are_both_reported():
    ok, diags = check("run", "id: r\nstatus: done\nstart_time: yesterday\n")
    assert not ok
    messages = sorted(d.message for d in diags)
    assert any("'done' is not one of: running, finished, failed, killed" in m for m in messages)
    assert any("field 'start_time'" in m and "ISO 8601" in m for m in messages)
    assert sorted(d.line for d in diags) == [2, 3]


def test_missing_required_field():
    ok, diags = check("run", "name: x\n")
    assert not ok and "'id' is a required property" in diags[0].message


def test_newer_format_gets_a_clear_error():
    ok, diags = check("run", "format: sitegen.run/2\nid: r\n")
    assert not ok
    assert "newer than this sitegen understands" in diags[0].message and diags[0].line == 1


def test_wrong_format_kind():
    ok, diags = check("run", "format: sitegen.model/1\nid: r\n")
    assert not ok and "expected 'sitegen.run/1'" in diags[0].message


def test_unknown_top_level_field_is_a_warning_only():
    ok, diags = check("run", "id: r\nstatsu: finished\n")
    assert ok
    (d,) = diags
    assert d.severity == "warning" and "statsu" in d.message and d.line == 2


def test_top_level_must_be_a_mapping():
    ok, diags = check("run", "- a\n- b\n")
    assert not ok and "expected a mapping" in diags[0].message


def test_schemas_are_published_and_valid_json_schema():
    from jsonschema import Draft202012Validator

    for kind in validate.KINDS:
        Draft202012Validator.check_schema(validate.schema(kind))
