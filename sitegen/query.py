r"""The search syntax (MLflow's ``search_runs`` filter strings): parse once, evaluate on a row or a DataFrame.

The same language is implemented for the browser in ``themes/default/static/js/query.js``; the two
implementations are tested against each other (tests/test_query_js.py), so a change here needs the same
change there.

Grammar (keywords and attribute names are case-insensitive, keys are case-sensitive)::

    query      := <empty> | or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := primary ("and" primary)*
    primary    := "(" or_expr ")" | comparison
    comparison := field ("=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=") value
                | field ["NOT"] ("LIKE" | "ILIKE") string
                | field ["NOT"] "IN" "(" value ("," value)* ")"
                | field "IS" ["NOT"] "NULL"
    field      := prefix "." key | attribute
    prefix     := metric(s) | param(s) | parameter(s) | tag(s) | attribute(s) | attr
    key        := [A-Za-z0-9_./-]+ | `backticked` | "double quoted"
    value      := string | number | NaN | inf | infinity   (numbers and inf may carry a sign)
    string     := '...' | "..."   escapes: \\ \' \" \` \n \t \r, a doubled quote; other \x stay as typed

Fields are normalised to the row keys ``metrics.<key>``, ``params.<key>``, ``tags.<key>`` and
``attributes.<name>`` where name is one of status, name, start_time, end_time, user, id, experiment,
duration (synonyms: run_name, run_id, user_id, experiment_id; any attribute may be written bare, e.g.
``status``).

Semantics (identical in Python and JavaScript):

* A value is *null* when the key is missing, None, or a float NaN. ``IS NULL`` / ``IS NOT NULL`` test
  that; every other comparison (including ``!=``, ``NOT IN`` and ``NOT LIKE``) is false on a null value.
* All numbers are IEEE doubles (ints too). A value or literal has a *numeric view* when it is a number or
  a string spelling a decimal number (``[+-]digits[.digits][e[+-]digits]``, nothing else, no spaces).
  When both sides have a numeric view they compare as numbers; otherwise both compare as strings by
  code point (but see the next rule for unquoted numbers). So ``params.lr = 0.001`` and
  ``params.lr = '0.001'`` both match lr 0.001 and lr "0.001"; ``tags.epochs > 5`` matches the tag "10".
* A number literal (unquoted) never equals a value without a numeric view and is not ordered against
  it: ``params.lr > 0.001`` is false for lr "abc", ``params.lr != 0.001`` is true. A quoted literal
  falls back to text: ``params.lr > '0.001'`` compares "abc" with "0.001" as text.
* The string form of a number is JavaScript's ``String(x)`` (shortest round-trip: 3, 0.001, 1e-7,
  1e+21, Infinity); of a bool ``true``/``false``. Lists and mappings never match a comparison.
* NaN is never equal, unequal or ordered: a NaN literal matches nothing.
* ``metrics.*`` literals must be numbers (a quoted number is accepted); LIKE does not apply to metrics.
  A metric value given as the JSON token "NaN", "Infinity" or "-Infinity" is read as that float.
* ``attributes.status`` compares case-insensitively (``status = 'FINISHED'`` matches ``finished``).
* ``LIKE``: ``%`` any run of characters, ``_`` exactly one, ``\\`` escapes the next character of the
  pattern; as in MySQL, the string literal keeps unknown escapes, so ``'50\\%'`` is the pattern for
  "50%". ``ILIKE`` lower-cases value and pattern first. Numbers and bools match by their string form.
* ``IN (a, b)`` is ``= a or = b``; ``NOT IN (a, b)`` is ``!= a and != b``.
* Dates and datetimes in a row compare as ISO 8601 text in UTC (``2026-11-27T06:12:00Z``); see
  :func:`query_value`.

Errors are :class:`QueryError` with ``.position``, a 0-based offset in code points.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import math
import numbers
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Mapping

from .diagnostics import SitegenError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["QueryError", "Query", "parse", "query_value", "number_text", "ATTRIBUTES"]


class QueryError(SitegenError, ValueError):
    """A malformed query. ``position`` is the 0-based offset (in characters) where the problem is."""

    def __init__(self, detail: str, position: int, hint: str = ""):
        self.detail = detail
        self.position = position
        self.hint = hint
        super().__init__(f"{detail} at position {position}" + (f" ({hint})" if hint else ""))


# --------------------------------------------------------------------------------------------- names

#: canonical attribute names, and the synonyms accepted for them (lower case)
ATTRIBUTES = ("duration", "end_time", "experiment", "id", "name", "start_time", "status", "user")
_ATTRIBUTE_NAMES = {name: name for name in ATTRIBUTES} | {
    "run_name": "name", "run_id": "id", "user_id": "user", "experiment_id": "experiment"}
_PREFIXES = {
    "metric": "metrics", "metrics": "metrics",
    "param": "params", "params": "params", "parameter": "params", "parameters": "params",
    "tag": "tags", "tags": "tags",
    "attribute": "attributes", "attributes": "attributes", "attr": "attributes",
}
_STATUS = "attributes.status"

# ------------------------------------------------------------------------------------------ scanning

_WS = re.compile("[ \t\n\r\f\v\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]*")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SIGNED_WORD = re.compile(r"[+-]?[A-Za-z_][A-Za-z0-9_]*")
_KEY = re.compile(r"[A-Za-z0-9_./-]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NUMBER_END = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.")
_OPERATOR = re.compile(r"<=|>=|<>|!=|==|=|<|>")
_OPERATORS = {"=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "`": "`", "n": "\n", "t": "\t", "r": "\r"}
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "infinity": math.inf}
_MAX_DEPTH = 100


def _numeric(text: str) -> float | None:
    """The numeric view of a string: a float when it spells a decimal number, else None."""
    if _NUMBER.fullmatch(text):
        return float(text)
    return None


def number_text(x: float) -> str:
    """The string form of a number, exactly as JavaScript's ``String(x)`` writes it."""
    if x != x:
        return "NaN"
    if x in (math.inf, -math.inf):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    mantissa, _, exp = repr(abs(x)).partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    stripped = digits.rstrip("0")
    k = len(stripped)
    # value = 0.<stripped> * 10**n
    n = k + int(exp or 0) - len(frac) + (len(digits) - k)
    if k <= n <= 21:
        body = stripped + "0" * (n - k)
    elif 0 < n <= 21:
        body = stripped[:n] + "." + stripped[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * -n + stripped
    else:
        e = n - 1
        body = stripped[0] + ("." + stripped[1:] if k > 1 else "") + "e" + ("+" if e >= 0 else "-") + str(abs(e))
    return sign + body


# ------------------------------------------------------------------------------------ row values

class _Other:
    """Marker for a value that is present but not a scalar (a list, a mapping): matches only IS NOT NULL."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<non-scalar>"


_OTHER = _Other()


def _iso(value: _dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return value.isoformat() + "Z"


def query_value(value: Any) -> Any:
    """What the query engine sees of a row value: None (null), float, bool, str, or a non-scalar marker.

    Exporters that hand rows to the browser's ``query.js`` should write these values (with NaN/inf as
    the tokens "NaN"/"Infinity"/"-Infinity" for metrics) so both implementations see the same thing.
    """
    t = type(value)
    if t is str or t is bool:
        return value
    if t is float:
        return None if value != value else value
    if value is None:
        return None
    if t is int:
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    np = sys.modules.get("numpy")  # no value is a numpy one while numpy is not even loaded (most site builds)
    if isinstance(value, bool) or (np is not None and isinstance(value, np.bool_)):
        return bool(value)
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    if isinstance(value, (numbers.Real, decimal.Decimal)):
        try:
            f = float(value)
        except OverflowError:
            f = math.inf if value > 0 else -math.inf
        return None if f != f else f
    if isinstance(value, str):
        return str(value)
    if isinstance(value, _dt.datetime):
        return _iso(value)
    if isinstance(value, _dt.date):
        return value.isoformat()
    if np is not None and isinstance(value, np.datetime64):
        return None if np.isnat(value) else _iso(_dt.datetime.fromisoformat(str(value.astype("datetime64[us]"))))
    return _OTHER


_METRIC_TOKENS = {"NaN": None, "Infinity": math.inf, "-Infinity": -math.inf}


def _metric_value(value: Any) -> Any:
    v = query_value(value)
    if type(v) is str and v in _METRIC_TOKENS:
        return _METRIC_TOKENS[v]
    return v


def _text_of(v: Any) -> str:
    if type(v) is str:
        return v
    if type(v) is bool:
        return "true" if v else "false"
    return number_text(v)


# --------------------------------------------------------------------------------------------- AST

@dataclass(frozen=True)
class Literal:
    """A value in a query: a float (numbers, NaN, inf) or a str (quoted text)."""

    value: float | str

    @property
    def number(self) -> float | None:
        v = self.value
        return v if type(v) is float else _numeric(v)

    @property
    def is_number(self) -> bool:
        return type(self.value) is float

    @property
    def text(self) -> str:
        return _text_of(self.value)

    def __str__(self) -> str:
        v = self.value
        if type(v) is float:
            if v != v:
                return "NaN"
            if v in (math.inf, -math.inf):
                return "inf" if v > 0 else "-inf"
            return number_text(v)
        return _quote(v, "'")


def _quote(text: str, q: str) -> str:
    out = text.replace("\\", "\\\\").replace(q, "\\" + q).replace("\n", "\\n").replace("\r", "\\r")
    return q + out.replace("\t", "\\t") + q


def _field_str(field: str) -> str:
    kind, _, key = field.partition(".")
    return field if _KEY.fullmatch(key) else f"{kind}.{_quote(key, '`')}"


_UNEQUAL = 2  # a _compare result: different, but not ordered (a number against a text value)


def _compare(v: Any, number: float | None, text: str | None) -> int | None:
    """Compare a non-null scalar row value with a literal: -1, 0 or 1; _UNEQUAL when a number literal
    meets a value that is not a number; None when nothing holds (a NaN literal).

    ``text`` is the literal's text when it was quoted, None for a number literal."""
    t = type(v)
    if t is float:
        vnum = v
    elif t is str:
        vnum = _numeric(v)
    else:
        vnum = None
    if vnum is not None and number is not None:
        if number != number:
            return None
        return (vnum > number) - (vnum < number)
    if text is None:
        return None if number != number else _UNEQUAL
    s = v if t is str else _text_of(v)
    return (s > text) - (s < text)


_ORDER_TESTS: dict[str, Callable[[int], bool]] = {
    "=": lambda c: c == 0, "!=": lambda c: c != 0, "<": lambda c: c == -1,
    "<=": lambda c: c == -1 or c == 0, ">": lambda c: c == 1, ">=": lambda c: c == 0 or c == 1,
}
_NUMPY_OPS = {"=": "equal", "!=": "not_equal", "<": "less", "<=": "less_equal", ">": "greater",
              ">=": "greater_equal"}  # numpy's functions, by name: numpy is loaded for DataFrames only


class Comparison:
    """One test of one field: ``field op values``. ``op`` is one of =, !=, <, <=, >, >=, LIKE, ILIKE,
    NOT LIKE, NOT ILIKE, IN, NOT IN, IS NULL, IS NOT NULL."""

    __slots__ = ("field", "op", "values", "_test", "_regex")

    def __init__(self, field: str, op: str, values: tuple[Literal, ...] = ()):
        self.field = field
        self.op = op
        self.values = values
        self._regex = None
        self._test = self._compile()

    # -- evaluation on one value
    def _compile(self) -> Callable[[Any], bool]:
        op = self.op
        if op == "IS NULL":
            return lambda v: v is None
        if op == "IS NOT NULL":
            return lambda v: v is not None
        status = self.field == _STATUS
        lits = [(lit.number, None if lit.is_number else lit.text.lower() if status else lit.text)
                for lit in self.values]
        if op.endswith("LIKE"):
            fold = "ILIKE" in op
            pattern = self.values[0].text.lower() if status else self.values[0].text
            self._regex = regex = re.compile(_like_regex(pattern.lower() if fold else pattern), re.DOTALL)
            want = not op.startswith("NOT")

            def like(v: Any) -> bool:
                if v is None or v is _OTHER:
                    return False
                s = _text_of(v)
                if fold or status:
                    s = s.lower()
                return (regex.fullmatch(s) is not None) is want
            return like

        def prepare(v: Any) -> Any:
            return v.lower() if status and type(v) is str else v

        if op in ("IN", "NOT IN"):
            negate = op == "NOT IN"

            def member(v: Any) -> bool:
                if v is None or v is _OTHER:
                    return False
                v = prepare(v)
                for number, text in lits:
                    c = _compare(v, number, text)
                    if negate:
                        if c is None or c == 0:
                            return False
                    elif c == 0:
                        return True
                return negate
            return member
        order = _ORDER_TESTS[op]
        number, text = lits[0]

        def compare(v: Any) -> bool:
            if v is None or v is _OTHER:
                return False
            c = _compare(prepare(v), number, text)
            return c is not None and order(c)
        return compare

    def value_of(self, row: Mapping[str, Any]) -> Any:
        raw = row.get(self.field)
        return _metric_value(raw) if self.field.startswith("metrics.") else query_value(raw)

    def matches(self, row: Mapping[str, Any]) -> bool:
        return self._test(self.value_of(row))

    # -- evaluation on a DataFrame column
    def mask(self, df: Any) -> np.ndarray:
        import numpy as np

        n = len(df)
        if self.field not in df.columns:
            return np.full(n, self.op == "IS NULL")
        column = df[self.field]
        if column.dtype.kind in "iuf":
            fast = self._numeric_mask(column.to_numpy(dtype="float64", na_value=np.nan))
            if fast is not None:
                return fast
        convert = _metric_value if self.field.startswith("metrics.") else query_value
        test = self._test
        return np.fromiter((test(convert(v)) for v in column.tolist()), dtype=bool, count=n)

    def _numeric_mask(self, arr: np.ndarray) -> np.ndarray | None:
        import numpy as np

        present = ~np.isnan(arr)
        op = self.op
        if op == "IS NULL":
            return ~present
        if op == "IS NOT NULL":
            return present
        numbers_ = [lit.number for lit in self.values]
        if op.endswith("LIKE") or any(x is None for x in numbers_):
            return None  # string semantics: evaluated value by value
        with np.errstate(invalid="ignore"):
            if op in ("IN", "NOT IN"):
                if op == "IN":
                    out = np.zeros(len(arr), dtype=bool)
                    for x in numbers_:
                        out |= arr == x
                    return out
                out = present.copy()
                for x in numbers_:
                    out &= (arr != x) & (x == x)
                return out
            x = numbers_[0]
            if x != x:
                return np.zeros(len(arr), dtype=bool)
            return getattr(np, _NUMPY_OPS[op])(arr, x) & present

    def fields(self) -> set[str]:
        return {self.field}

    def __str__(self) -> str:
        field = _field_str(self.field)
        if self.op.startswith("IS"):
            return f"{field} {self.op}"
        if self.op.endswith("IN"):
            return f"{field} {self.op} ({', '.join(map(str, self.values))})"
        return f"{field} {self.op} {self.values[0]}"

    def __repr__(self) -> str:
        return f"Comparison({str(self)!r})"


class BoolOp:
    """``and`` / ``or`` of two or more children (flattened: no child has the same op)."""

    __slots__ = ("op", "children")

    def __init__(self, op: str, children: list[Any]):
        self.op = op
        flat: list[Any] = []
        for child in children:
            flat.extend(child.children if isinstance(child, BoolOp) and child.op == op else [child])
        self.children = tuple(flat)

    def matches(self, row: Mapping[str, Any]) -> bool:
        if self.op == "and":
            return all(child.matches(row) for child in self.children)
        return any(child.matches(row) for child in self.children)

    def mask(self, df: Any) -> np.ndarray:
        import numpy as np

        masks = [child.mask(df) for child in self.children]
        return np.logical_and.reduce(masks) if self.op == "and" else np.logical_or.reduce(masks)

    def fields(self) -> set[str]:
        return set().union(*(child.fields() for child in self.children))

    def __str__(self) -> str:
        parts = []
        for child in self.children:
            text = str(child)
            parts.append(f"({text})" if isinstance(child, BoolOp) else text)
        return f" {self.op} ".join(parts)

    def __repr__(self) -> str:
        return f"BoolOp({str(self)!r})"


def _like_regex(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "%":
            if not out or out[-1] != ".*":
                out.append(".*")
        elif c == "_":
            out.append(".")
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


# ------------------------------------------------------------------------------------------ parser

class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.n = len(text)
        self.word_pos = 0

    def fail(self, detail: str, position: int, hint: str = "") -> QueryError:
        return QueryError(detail, position, hint)

    def ws(self) -> int:
        self.pos = _WS.match(self.text, self.pos).end()
        return self.pos

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < self.n else ""

    def keyword(self, *words: str) -> str | None:
        """Consume the next word when it is one of ``words`` (lower case); return it, else None."""
        self.ws()
        m = _WORD.match(self.text, self.pos)
        if m and m.group().lower() in words:
            self.word_pos = m.start()
            self.pos = m.end()
            return m.group().lower()
        return None

    def query(self) -> Any:
        self.ws()
        if self.pos == self.n:
            return None
        node = self.or_expr(0)
        self.ws()
        if self.pos != self.n:
            raise self.fail("expected 'and', 'or' or end of query", self.pos)
        return node

    def or_expr(self, depth: int) -> Any:
        children = [self.and_expr(depth)]
        while self.keyword("or"):
            children.append(self.and_expr(depth))
        return children[0] if len(children) == 1 else BoolOp("or", children)

    def and_expr(self, depth: int) -> Any:
        children = [self.primary(depth)]
        while self.keyword("and"):
            children.append(self.primary(depth))
        return children[0] if len(children) == 1 else BoolOp("and", children)

    def primary(self, depth: int) -> Any:
        self.ws()
        if self.peek() == "(":
            if depth >= _MAX_DEPTH:
                raise self.fail("parentheses nested too deeply", self.pos)
            self.pos += 1
            node = self.or_expr(depth + 1)
            self.ws()
            if self.peek() != ")":
                raise self.fail("expected 'and', 'or' or ')'", self.pos)
            self.pos += 1
            return node
        return self.comparison()

    def comparison(self) -> Comparison:
        start = self.ws()
        field = self.field()
        source = self.text[start:self.pos]
        op_pos = self.ws()
        m = _OPERATOR.match(self.text, self.pos)
        if m:
            self.pos = m.end()
            return Comparison(field, _OPERATORS[m.group()], (self.value(field, f"'{m.group()}'"),))
        word = self.keyword("like", "ilike", "in", "not", "is")
        negate = ""
        if word == "not":
            negate = "NOT "
            word = self.keyword("like", "ilike", "in")
            if word is None:
                raise self.fail("expected IN, LIKE or ILIKE after NOT", self.ws())
        if word in ("like", "ilike"):
            keyword = word.upper()
            if field.startswith("metrics."):
                raise self.fail(f"{keyword} does not apply to metrics", self.word_pos)
            self.ws()
            if self.peek() not in ("'", '"'):
                raise self.fail(f"expected a quoted pattern after {keyword}", self.pos)
            return Comparison(field, negate + keyword, (Literal(self.string()),))
        if word == "in":
            self.ws()
            if self.peek() != "(":
                raise self.fail("expected '(' after IN", self.pos)
            self.pos += 1
            values = [self.value(field, "'('")]
            while True:
                self.ws()
                c = self.peek()
                if c == ")":
                    self.pos += 1
                    return Comparison(field, negate + "IN", tuple(values))
                if c != ",":
                    raise self.fail("expected ',' or ')' in the IN list", self.pos)
                self.pos += 1
                values.append(self.value(field, "','"))
        if word == "is":
            if self.keyword("not"):
                if not self.keyword("null"):
                    raise self.fail("expected NULL or NOT NULL after IS", self.ws())
                return Comparison(field, "IS NOT NULL")
            if not self.keyword("null"):
                raise self.fail("expected NULL or NOT NULL after IS", self.ws())
            return Comparison(field, "IS NULL")
        raise self.fail(f"expected an operator after '{source}'", op_pos)

    def field(self) -> str:
        start = self.ws()
        m = _WORD.match(self.text, start)
        if not m:
            raise self.fail("expected a field (metrics.<key>, params.<key>, tags.<key> or attributes.<name>)", start)
        word = m.group()
        lower = word.lower()
        self.pos = m.end()
        if self.peek() == ".":
            kind = _PREFIXES.get(lower)
            if kind is None:
                raise self.fail(f"unknown field prefix '{word}'", start,
                                "expected metrics, params, tags or attributes")
            self.pos += 1
            key_pos = self.pos
            if self.peek() in ("`", '"'):
                key = self.string()
                if key == "":
                    raise self.fail("empty key", key_pos)
            else:
                km = _KEY.match(self.text, key_pos)
                if not km:
                    raise self.fail(f"expected a key after '{word}.'", key_pos)
                key = km.group()
                self.pos = km.end()
            if kind == "attributes":
                name = _ATTRIBUTE_NAMES.get(key.lower())
                if name is None:
                    raise self.fail(f"unknown attribute '{key}'", key_pos,
                                    "expected one of " + ", ".join(ATTRIBUTES))
                return "attributes." + name
            return f"{kind}.{key}"
        name = _ATTRIBUTE_NAMES.get(lower)
        if name is not None:
            return "attributes." + name
        if lower in _PREFIXES:
            raise self.fail(f"expected '.' after '{word}'", self.pos)
        raise self.fail(f"unknown field '{word}'", start, f"use metrics.{word}, params.{word} or tags.{word}")

    def value(self, field: str, after: str) -> Literal:
        start = self.ws()
        c = self.peek()
        if c in ("'", '"'):
            lit = Literal(self.string())
        else:
            m = _NUMBER.match(self.text, start)
            if m:
                if m.end() < self.n and self.text[m.end()] in _NUMBER_END:
                    raise self.fail("invalid number", start)
                self.pos = m.end()
                lit = Literal(float(m.group()))
            else:
                m = _SIGNED_WORD.match(self.text, start)
                if not m:
                    raise self.fail(f"expected a value after {after}", start)
                word = m.group()
                number = _NON_FINITE.get(word.lstrip("+-").lower())
                if number is None:
                    raise self.fail(f"expected a value after {after}", start, "text values need quotes")
                self.pos = m.end()
                lit = Literal(-number if word.startswith("-") else number)
        if field.startswith("metrics.") and type(lit.value) is str:
            number = _numeric(lit.value)
            if number is None:
                raise self.fail(f"expected a number for '{field}'", start)
            lit = Literal(number)
        return lit

    def string(self) -> str:
        text, start = self.text, self.pos
        q = text[start]
        out: list[str] = []
        i = start + 1
        while True:
            j = i
            while j < self.n and text[j] != q and text[j] != "\\":
                j += 1
            out.append(text[i:j])
            if j >= self.n:
                raise self.fail("unterminated string", start)
            if text[j] == "\\":
                if j + 1 >= self.n:
                    raise self.fail("unterminated string", start)
                d = text[j + 1]
                out.append(_ESCAPES.get(d, "\\" + d))
                i = j + 2
            elif j + 1 < self.n and text[j + 1] == q:
                out.append(q)
                i = j + 2
            else:
                self.pos = j + 1
                return "".join(out)


# ------------------------------------------------------------------------------------------ public

class Query:
    """A parsed query. Immutable; build one with :func:`parse`."""

    __slots__ = ("text", "root")

    def __init__(self, text: str, root: Any):
        self.text = text
        self.root = root

    def matches(self, row: Mapping[str, Any]) -> bool:
        """Whether a row (a flat mapping keyed by normalised field names) satisfies the query."""
        return True if self.root is None else self.root.matches(row)

    def filter_frame(self, df: Any) -> Any:
        """The rows of a DataFrame (columns named like row keys) that satisfy the query, index kept."""
        if self.root is None:
            return df.copy()
        return df[self.root.mask(df)]

    def mask(self, df: Any) -> np.ndarray:
        """A boolean array over the rows of ``df``: True where the row satisfies the query."""
        import numpy as np

        return np.ones(len(df), dtype=bool) if self.root is None else self.root.mask(df)

    def fields(self) -> set[str]:
        """The normalised field names the query reads."""
        return set() if self.root is None else self.root.fields()

    def __str__(self) -> str:
        return "" if self.root is None else str(self.root)

    def __repr__(self) -> str:
        return f"Query({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Query) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


@lru_cache(maxsize=512)
def parse(text: str) -> Query:
    """Parse a filter string; empty or blank text matches every row. Raises :class:`QueryError`."""
    if not isinstance(text, str):
        raise TypeError(f"query must be a str, not {type(text).__name__}")
    return Query(text, _Parser(text).query())
