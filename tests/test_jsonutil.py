"""JSON for exports: ``dumps_lines`` is the same data as ``json.dumps`` of it, laid out a record a line."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sitegen.jsonutil import dumps, dumps_lines

_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(st.text(max_size=5), inner, max_size=4), max_leaves=12)


@given(st.dictionaries(st.text(max_size=8), _values, max_size=6))
def test_dumps_lines_reads_back_as_the_same_data(obj):
    text = dumps_lines(obj)
    assert json.loads(text) == obj
    assert text.endswith("}\n")
    assert dumps_lines(obj) == text  # deterministic


def test_each_item_of_a_collection_is_a_line_of_its_own():
    text = dumps_lines({"format": "f/1", "runs": [{"b": 2, "a": 1}, {"a": 3}], "by": {"y": [1, 2], "x": None},
                        "none": {}})
    assert text.splitlines() == ['{', '"by":{', '"x":null,', '"y":[1,2]', '},', '"format":"f/1",', '"none":{},',
                                 '"runs":[', '{"a":1,"b":2},', '{"a":3}', ']', '}']


def test_keys_that_are_not_strings_are_written_as_json_writes_them():
    obj = {"counts": {1: "one", 2: "two"}}
    assert json.loads(dumps_lines(obj)) == json.loads(dumps(obj))


def test_nan_is_refused_unless_allowed():
    with pytest.raises(ValueError):
        dumps_lines({"x": [math.nan]})
    assert "NaN" in dumps_lines({"x": [math.nan]}, allow_nan=True)
