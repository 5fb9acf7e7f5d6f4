"""sitegen.query: the search syntax, evaluated on rows and DataFrames."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from query_strategies import junk_text, load_cases, query_text, rows
from sitegen.diagnostics import SitegenError
from sitegen.query import Query, QueryError, number_text, parse, query_value

CASES = load_cases()
ROWS = CASES["rows"]
MATCH_CASES = [c for c in CASES["cases"] if "expect" in c]
ERROR_CASES = [c for c in CASES["cases"] if "error_position" in c]


def ids(query: str, rows_=ROWS) -> list[str]:
    q = parse(query)
    return [r["attributes.id"] for r in rows_ if q.matches(r)]


def frame(rows_: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows_, index=range(len(rows_)))


# ------------------------------------------------------------------------- shared golden cases

@pytest.mark.parametrize("case", MATCH_CASES, ids=[c["query"] for c in MATCH_CASES])
def test_case_matches(case):
    assert ids(case["query"]) == case["expect"]


@pytest.mark.parametrize("case", MATCH_CASES, ids=[c["query"] for c in MATCH_CASES])
def test_case_filter_frame_agrees(case):
    df = frame(ROWS)
    got = parse(case["query"]).filter_frame(df)["attributes.id"].tolist()
    assert got == case["expect"]


@pytest.mark.parametrize("case", MATCH_CASES, ids=[c["query"] for c in MATCH_CASES])
def test_case_canonical_round_trip(case):
    q = parse(case["query"])
    again = parse(str(q))
    assert str(again) == str(q)
    assert ids(str(q)) == case["expect"]


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c["query"][:40] for c in ERROR_CASES])
def test_case_error_position(case):
    with pytest.raises(QueryError) as info:
        parse(case["query"])
    assert info.value.position == case["error_position"]
    assert f"at position {case['error_position']}" in str(info.value)


# ------------------------------------------------------------------------------ specific rules

def test_error_message_names_the_operator_and_position():
    with pytest.raises(QueryError, match=r"^expected a value after '=' at position 17$"):
        parse("tags.team_name = ")
    with pytest.raises(QueryError, match=r"expected a value after '>=' at position 16 \(text values need quotes\)"):
        parse("metrics.loss >= high")


def test_query_error_is_a_sitegen_error():
    with pytest.raises(SitegenError):
        parse("nonsense")


def test_unknown_field_suggests_prefixes():
    with pytest.raises(QueryError, match=r"use metrics\.acc, params\.acc or tags\.acc"):
        parse("acc > 1")


def test_unknown_attribute_lists_valid_names():
    with pytest.raises(QueryError, match="expected one of duration, end_time, experiment, id, name"):
        parse("attributes.colour = 'x'")


def test_and_binds_tighter_than_or():
    q = parse("status = 'a' or status = 'b' and name = 'c'")
    assert str(q) == "attributes.status = 'a' or (attributes.status = 'b' and attributes.name = 'c')"
    assert q.matches({"attributes.status": "a", "attributes.name": "zzz"})
    assert not q.matches({"attributes.status": "b", "attributes.name": "zzz"})
    grouped = parse("(status = 'a' or status = 'b') and name = 'c'")
    assert str(grouped) == "(attributes.status = 'a' or attributes.status = 'b') and attributes.name = 'c'"
    assert not grouped.matches({"attributes.status": "a", "attributes.name": "zzz"})


def test_nested_same_operator_is_flattened():
    assert str(parse("(a.x = 1 and (tags.y = 2)) and ((tags.z = 3))".replace("a.x", "tags.x"))) == \
        "tags.x = 1 and tags.y = 2 and tags.z = 3"


def test_fields_are_normalised():
    q = parse("run_name = 'x' and (status = 'y' or metric.acc > 1) and param.`a b` IS NULL and attr.run_id = 'z'")
    assert q.fields() == {"attributes.name", "attributes.status", "metrics.acc", "params.a b", "attributes.id"}
    assert parse("").fields() == set()


def test_keys_with_dots_slashes_dashes_and_quotes():
    row = {"metrics.val/acc": 0.8, "params.optimizer.name": "adamw", "metrics.f1-macro": 0.5,
           "tags.my tag": "x", "tags.we`ird": "y"}
    assert parse("metrics.val/acc > 0.7 and params.optimizer.name = 'adamw'").matches(row)
    assert parse("metrics.f1-macro = 0.5").matches(row)
    assert parse('tags."my tag" = \'x\' and tags.`we\\`ird` = "y"').matches(row)
    assert str(parse("tags.`we\\`ird` = 'y'")) == "tags.`we\\`ird` = 'y'"
    assert str(parse('tags."my tag" = "x"')) == "tags.`my tag` = 'x'"


def test_canonical_numbers_follow_javascript():
    assert str(parse("metrics.a = 1.0")) == "metrics.a = 1"
    assert str(parse("metrics.a = 1e-3")) == "metrics.a = 0.001"
    assert str(parse("metrics.a = 1e-7")) == "metrics.a = 1e-7"
    assert str(parse("metrics.a = 1e21")) == "metrics.a = 1e+21"
    assert str(parse("metrics.a = -nan")) == "metrics.a = NaN"
    assert str(parse("metrics.a IN (+Infinity, -inf)")) == "metrics.a IN (inf, -inf)"


@pytest.mark.parametrize("x, text", [(0.0, "0"), (-0.0, "0"), (3.0, "3"), (0.1, "0.1"), (-1.5, "-1.5"),
                                     (1e21, "1e+21"), (1e20, "100000000000000000000"), (123456789.125, "123456789.125"),
                                     (1e-6, "0.000001"), (1e-7, "1e-7"), (1.5e-7, "1.5e-7"), (2**53, "9007199254740992"),
                                     (1.7976931348623157e308, "1.7976931348623157e+308"), (5e-324, "5e-324"),
                                     (math.inf, "Infinity"), (math.nan, "NaN")])
def test_number_text(x, text):
    assert number_text(x) == text


def test_params_compare_numerically_only_when_both_sides_are_numbers():
    assert parse("params.lr = 0.001").matches({"params.lr": "0.0010"})
    assert parse("params.lr = '1e-3'").matches({"params.lr": 0.001})
    assert parse("params.n > 9").matches({"params.n": "10"})          # numeric: 10 > 9
    assert not parse("params.n > '9'").matches({"params.n": "10x"})   # text: '10x' < '9'
    assert parse("params.n < '9'").matches({"params.n": "10x"})
    assert not parse("params.n > 9").matches({"params.n": "10x"})    # unquoted number: not ordered vs text
    assert not parse("params.n < 9").matches({"params.n": "10x"})
    assert parse("params.n != 9").matches({"params.n": "10x"})        # ... but unequal
    assert not parse("params.b = 1").matches({"params.b": True})      # bools are not numbers
    assert not parse("params.n = ' 1'").matches({"params.n": 1})      # ' 1' is not a number spelling
    assert parse("params.big = 9007199254740993").matches({"params.big": 2**53 + 1})  # both doubles


def test_missing_and_null_values_never_compare():
    for query in ["params.x = 'a'", "params.x != 'a'", "params.x NOT IN ('a')", "params.x NOT LIKE 'a'",
                  "params.x < 1", "metrics.m != 0"]:
        q = parse(query)
        assert not q.matches({}), query
        assert not q.matches({"params.x": None, "metrics.m": None}), query
    assert parse("params.x IS NULL").matches({"params.x": None})
    assert parse("params.x IS NULL").matches({})
    assert not parse("params.x IS NOT NULL").matches({"params.x": None})


def test_nan_is_null_and_never_ordered():
    row = {"metrics.m": math.nan}
    assert parse("metrics.m IS NULL").matches(row)
    for op in ["=", "!=", "<", "<=", ">", ">="]:
        assert not parse(f"metrics.m {op} 0").matches(row)
        assert not parse(f"metrics.z {op} NaN").matches({"metrics.z": 1.0})
    assert parse("metrics.m IS NULL").matches({"metrics.m": "NaN"})   # the JSON token form
    assert parse("metrics.m > 1e308").matches({"metrics.m": "Infinity"})
    assert parse("params.p = 'NaN'").matches({"params.p": "NaN"})      # params keep text


def test_like_wildcards_and_escapes():
    row = {"params.p": "50%_done\nnext", "params.b": "a\\b"}
    assert parse("params.p LIKE '50%'").matches(row)
    assert parse("params.p LIKE '50\\%\\_done_next'").matches(row)   # '_' matches the newline
    assert not parse("params.p LIKE '5\\%%'").matches(row)
    assert parse("params.p LIKE '%.%'") .matches({"params.p": "a.b"})
    assert not parse("params.p LIKE 'a.b'").matches({"params.p": "axb"})  # no regex leaks
    assert parse("params.p LIKE '(a|b)*'").matches({"params.p": "(a|b)*"})
    assert parse("params.b LIKE 'a\\\\\\\\b'").matches(row)
    assert parse("params.p ILIKE 'ÉTÉ'").matches({"params.p": "été"})
    assert parse("params.p LIKE '_'").matches({"params.p": "\U0001F600"})  # one character, not one UTF-16 unit


def test_string_escapes_and_doubled_quotes():
    assert parse("tags.t = 'a\\tb\\n'").matches({"tags.t": "a\tb\n"})
    assert parse("tags.t = 'it''s'").matches({"tags.t": "it's"})
    assert parse('tags.t = "say ""hi"""').matches({"tags.t": 'say "hi"'})
    assert parse("tags.t = '\\q'").matches({"tags.t": "\\q"})     # unknown escapes are kept
    assert str(parse("tags.t = 'it''s\\\\'")) == "tags.t = 'it\\'s\\\\'"


def test_status_is_case_insensitive_but_other_text_is_not():
    assert parse("status = 'FINISHED'").matches({"attributes.status": "finished"})
    assert parse("status LIKE 'FIN%'").matches({"attributes.status": "finished"})
    assert not parse("name = 'FINISHED'").matches({"attributes.name": "finished"})


def test_code_point_order_for_text():
    # U+FF5E sorts before U+1F600 by code point, though not by UTF-16 code unit
    assert parse("tags.t < '\U0001F600'").matches({"tags.t": "\uff5e"})


def test_row_values_are_normalised():
    assert query_value(np.int64(3)) == 3.0 and type(query_value(np.int64(3))) is float
    assert query_value(np.bool_(True)) is True
    assert query_value(np.float32("nan")) is None
    assert query_value(pd.NA) is None and query_value(pd.NaT) is None
    when = dt.datetime(2026, 11, 27, 7, 12, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert query_value(when) == "2026-11-27T06:12:00Z"
    assert query_value(dt.date(2026, 1, 2)) == "2026-01-02"
    assert query_value(decimal.Decimal("0.25")) == 0.25 and query_value(decimal.Decimal("NaN")) is None
    assert parse("start_time >= '2026-11-27T06'").matches({"attributes.start_time": when})
    assert parse("params.l IS NOT NULL").matches({"params.l": [1]})
    assert not parse("params.l = '[1]'").matches({"params.l": [1]})


def test_empty_query_matches_everything():
    q = parse("  \t")
    assert q.matches({}) and str(q) == ""
    df = frame(ROWS)
    assert len(q.filter_frame(df)) == len(df)


def test_parse_rejects_non_text():
    with pytest.raises(TypeError):
        parse(b"status = 'x'")  # type: ignore[arg-type]


def test_query_equality_is_by_canonical_form():
    assert parse("STATUS='x'") == parse("attributes.status = 'x'")
    assert isinstance(parse("status = 'x'"), Query)


# ------------------------------------------------------------------------------ DataFrames

def test_filter_frame_with_typed_columns():
    df = pd.DataFrame({
        "metrics.acc": np.array([0.9, np.nan, 0.5, np.inf]),
        "params.n": pd.array([1, 2, None, 4], dtype="Int64"),
        "params.flag": np.array([True, False, True, False]),
        "tags.t": pd.array(["a", None, "b", "10"], dtype="string"),
        "attributes.start_time": pd.to_datetime(["2026-01-01", "2026-02-01", None, "2026-03-01"], utc=True),
    }, index=[10, 11, 12, 13])
    cases = {
        "metrics.acc > 0.6": [10, 13], "metrics.acc IS NULL": [11], "metrics.acc != 0.5": [10, 13],
        "params.n >= 2": [11, 13], "params.n IS NULL": [12], "params.n IN (1, '4')": [10, 13],
        "params.n NOT IN (2)": [10, 13], "params.n = 'x'": [], "params.n != 'x'": [10, 11, 13],
        "params.n LIKE '4'": [13], "params.flag = 'true'": [10, 12], "tags.t > 5": [13],
        "tags.t IS NULL": [11], "attributes.start_time >= '2026-02'": [11, 13],
        "metrics.missing IS NULL": [10, 11, 12, 13], "metrics.missing > 0": [],
        "metrics.acc > 0.6 or params.n IS NULL": [10, 12, 13],
    }
    records = df.to_dict("records")
    for query, expected in cases.items():
        q = parse(query)
        assert q.filter_frame(df).index.tolist() == expected, query
        assert [i for i, r in zip(df.index, records) if q.matches(r)] == expected, query


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query_text, rows)
def test_filter_frame_agrees_with_matches(text, rows_):
    q = parse(text)
    df = frame(rows_)
    expected = [q.matches({k: v for k, v in r.items()}) for r in rows_]
    assert q.mask(df).tolist() == expected


def test_filter_frame_2000_rows_is_fast():
    rng = np.random.default_rng(0)
    n = 2000
    df = pd.DataFrame({
        "attributes.status": rng.choice(["finished", "failed", "running"], n),
        "attributes.experiment": rng.choice(["mnist", "cifar"], n),
        "metrics.acc": rng.random(n),
        "metrics.loss": rng.random(n) * 3,
        "params.lr": rng.choice([0.1, 0.01, 0.001, 0.0003], n),
        "params.optimizer.name": rng.choice(["adam", "adamw", "sgd"], n),
        "tags.team": rng.choice(["vision", "nlp", None], n),
    })
    q = parse("experiment = 'mnist' and metrics.acc > 0.5 and (params.optimizer.name LIKE 'adam%' "
              "or params.lr < 0.01) and status != 'failed' and tags.team IS NOT NULL")
    q.filter_frame(df)
    best = min(_timed(lambda: q.filter_frame(df)) for _ in range(5))
    print(f"filter_frame over {n} rows: {best * 1000:.2f} ms")
    assert best < 0.05
    records = df.to_dict("records")
    assert q.filter_frame(df).index.tolist() == [i for i, r in enumerate(records) if q.matches(r)]


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# ------------------------------------------------------------------------------ properties

@settings(max_examples=250, deadline=None)
@given(query_text, rows)
def test_canonical_form_round_trips(text, rows_):
    q = parse(text)
    again = parse(str(q))
    assert str(again) == str(q)
    assert again.fields() == q.fields()
    assert [again.matches(r) for r in rows_] == [q.matches(r) for r in rows_]


@settings(max_examples=400, deadline=None)
@given(st.one_of(junk_text, query_text))
def test_any_text_parses_or_raises_query_error(text):
    try:
        q = parse(text)
    except QueryError as error:
        assert 0 <= error.position <= len(text)
        assert str(error).startswith(error.detail)
        assert f"at position {error.position}" in str(error)
    else:
        assert str(parse(str(q))) == str(q)
        q.matches({"params.lr": "x", "metrics.acc": 1.0})
