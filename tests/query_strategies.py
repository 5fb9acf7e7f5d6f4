"""Hypothesis strategies for the query language, and the shared case file; used by test_query*.py."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

CASES_FILE = Path(__file__).with_name("query_cases.json")

_FLOAT_TOKENS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def decode(value: Any) -> Any:
    """Rows in JSON carry non-finite floats as {"$float": "nan" | "inf" | "-inf"}."""
    if isinstance(value, dict) and set(value) == {"$float"}:
        return _FLOAT_TOKENS[value["$float"]]
    return value


def encode(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return {"$float": "nan" if value != value else ("inf" if value > 0 else "-inf")}
    return value


def decode_row(row: dict) -> dict:
    return {k: decode(v) for k, v in row.items()}


def encode_row(row: dict) -> dict:
    return {k: encode(v) for k, v in row.items()}


def load_cases() -> dict:
    data = json.loads(CASES_FILE.read_text(encoding="utf-8"))
    data["rows"] = [decode_row(r) for r in data["rows"]]
    return data


# ------------------------------------------------------------------------------ grammar strategies

# A small alphabet so generated values and keys collide with row values often enough to match.
ALPHABET = "ab%_\\'\"` .-/éK\uff5e\U0001F600"
_text = st.text(alphabet=ALPHABET, max_size=6)

METRIC_KEYS = ["acc", "loss", "val/acc", "my metric", "a`b"]
PARAM_KEYS = ["lr", "optimizer.name", "epochs", "x-y", "odd key"]
TAG_KEYS = ["team", "note"]
ATTRIBUTE_FIELDS = ["status", "name", "id", "user", "experiment", "duration"]
ALL_FIELDS = ([f"metrics.{k}" for k in METRIC_KEYS] + [f"params.{k}" for k in PARAM_KEYS]
              + [f"tags.{k}" for k in TAG_KEYS] + [f"attributes.{k}" for k in ATTRIBUTE_FIELDS])


def _case(word: str) -> st.SearchStrategy[str]:
    return st.sampled_from([word.lower(), word.upper(), word.capitalize()])


def _quote(text: str, q: str) -> str:
    return q + text.replace("\\", "\\\\").replace(q, "\\" + q) + q


@st.composite
def field_text(draw) -> tuple[str, str]:
    """(kind, source text of a field reference)."""
    kind = draw(st.sampled_from(["metrics", "params", "tags", "attributes", "bare"]))
    if kind == "bare":
        return "attributes", draw(st.sampled_from(ATTRIBUTE_FIELDS + ["run_name", "run_id"]))
    if kind == "attributes":
        prefix = draw(st.sampled_from(["attributes", "attribute", "attr", "ATTRIBUTES"]))
        return kind, f"{prefix}.{draw(st.sampled_from(ATTRIBUTE_FIELDS + ['run_name', 'user_id']))}"
    keys = {"metrics": METRIC_KEYS, "params": PARAM_KEYS, "tags": TAG_KEYS}[kind]
    prefix = draw(st.sampled_from([kind, kind[:-1], kind.upper()]))
    key = draw(st.one_of(st.sampled_from(keys), _text.filter(bool)))
    style = draw(st.sampled_from(["bare", "`", '"']))
    if style == "bare" and all(c.isascii() and (c.isalnum() or c in "_./-") for c in key):
        return kind, f"{prefix}.{key}"
    q = '"' if style == '"' else "`"
    return kind, f"{prefix}.{_quote(key, q)}"


def number_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(-1000, 1000).map(str),
        st.floats(allow_nan=False, allow_infinity=False).map(repr).filter(lambda s: "inf" not in s),
        st.sampled_from(["0.001", "1e-3", "-2.5E+2", ".5", "5.", "+3", "0", "-0", "1e400", "NaN", "inf", "-Infinity"]),
    )


def string_text() -> st.SearchStrategy[str]:
    return st.builds(_quote, st.one_of(_text, st.sampled_from(["0.001", "10", "adam", "finished", "a%"])),
                     st.sampled_from(["'", '"']))


@st.composite
def comparison_text(draw) -> str:
    kind, field = draw(field_text())
    numeric_only = kind == "metrics"
    value = number_text() if numeric_only else st.one_of(number_text(), string_text())
    form = draw(st.sampled_from(["cmp", "cmp", "cmp", "like", "in", "is"]))
    if form == "like" and not numeric_only:
        op = draw(st.sampled_from(["LIKE", "ILIKE", "not like", "NOT ILIKE", "like"]))
        return f"{field} {op} {draw(string_text())}"
    if form == "in":
        op = draw(st.sampled_from(["IN", "in", "NOT IN", "not in"]))
        items = draw(st.lists(value, min_size=1, max_size=3))
        return f"{field} {op} ({', '.join(items)})"
    if form == "is":
        return f"{field} {draw(st.sampled_from(['IS NULL', 'is not null', 'IS NOT NULL', 'is null']))}"
    op = draw(st.sampled_from(["=", "==", "!=", "<>", "<", "<=", ">", ">="]))
    space = draw(st.sampled_from([" ", "", "  "]))
    return f"{field}{space}{op}{space}{draw(value)}"


def _join(parts: list[str], word: str) -> str:
    return f" {word} ".join(parts)


query_text = st.recursive(
    comparison_text(),
    lambda inner: st.one_of(
        st.builds(_join, st.lists(inner, min_size=2, max_size=3), _case("and")),
        st.builds(_join, st.lists(inner, min_size=2, max_size=3), _case("or")),
        inner.map(lambda q: f"({q})"),
    ),
    max_leaves=6,
)

_TOKENS = ["metrics.acc", "params.lr", "status", "name", "(", ")", "'a'", '"b"', "`c`", "=", "!=", "<=", ">",
           "LIKE", "ILIKE", "NOT", "IN", "IS", "NULL", "and", "or", ",", "0.5", "-1e3", "NaN", "\\", ".", " "]

#: text that is mostly not a valid query: random characters, token soup, or a valid query mutated
junk_text = st.one_of(
    st.text(max_size=30),
    st.lists(st.sampled_from(_TOKENS), max_size=10).map(" ".join),
    st.lists(st.sampled_from(_TOKENS), max_size=10).map("".join),
    st.tuples(query_text, st.integers(0, 200), st.integers(0, 3), st.text(max_size=2)).map(
        lambda t: t[0][:t[1] % (len(t[0]) + 1)] + t[3] + t[0][t[1] % (len(t[0]) + 1) + t[2]:]),
)

row_value = st.one_of(
    st.none(),
    st.floats(),
    st.integers(-20, 20),
    st.integers(-2**70, 2**70),
    st.sampled_from([0.001, 0.5, 10, "0.001", "10", "1e-3", "adam", "finished", "FINISHED", True, False,
                     "NaN", "Infinity", "Running", [1, 2]]),
    _text,
)

row = st.dictionaries(st.sampled_from(ALL_FIELDS), row_value, max_size=10)
rows = st.lists(row, min_size=1, max_size=4)
