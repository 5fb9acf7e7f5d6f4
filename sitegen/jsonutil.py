"""JSON written into pages and exports: strict, deterministic, safe inside <script>."""

from __future__ import annotations

import json
import math
from json.encoder import encode_basestring  # C, as json.dumps(ensure_ascii=False) uses it
from typing import Any

# Characters that could end a <script> element or start an HTML comment / CDATA section.
_SCRIPT_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026",
                   0x2028: "\\u2028", 0x2029: "\\u2029"}


def finite_or_none(value: Any) -> Any:
    """Floats that JSON cannot carry (NaN, +inf, -inf) become None; everything else is returned as is."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def float_token(value: float) -> str | float:
    """A JSON-safe stand-in for a float: the float itself when finite, else "NaN", "Infinity", "-Infinity"."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _default(obj: Any) -> Any:
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    return str(obj)


def dumps(obj: Any, *, indent: int | None = None) -> str:
    """Deterministic strict JSON (sorted keys, no NaN)."""
    return json.dumps(obj, sort_keys=True, indent=indent, ensure_ascii=False, allow_nan=False,
                      default=_default, separators=(",", ":") if indent is None else (",", ": "))


def dumps_lines(obj: dict[str, Any], *, default: Any = _default, allow_nan: bool = False) -> str:
    """Deterministic strict JSON laid out one entry a line, for exports read by programs and by ``git diff``:
    each key of ``obj`` starts a line, and the items of a list or dict under it are a line each, written
    compactly. Encoded by ``json``'s C encoder (an ``indent`` makes it fall back to pure Python, several times
    slower on a site's tables), and a changed run changes only its own line."""
    encode = json.JSONEncoder(sort_keys=True, ensure_ascii=False, allow_nan=allow_nan, default=default,
                              separators=(",", ":")).encode

    def compact(value: Any) -> str:  # what json.dumps with these options writes, a string straight by C
        return encode_basestring(value) if type(value) is str else encode(value)

    lines = []
    for key in sorted(obj):
        value = obj[key]
        if isinstance(value, dict) and value:
            body = ",\n".join(f"{compact(k if isinstance(k, str) else compact(k))}:{compact(value[k])}"
                               for k in sorted(value))
            lines.append(f"{compact(key)}:{{\n{body}\n}}")
        elif isinstance(value, list) and value:
            lines.append(f"{compact(key)}:[\n" + ",\n".join(map(compact, value)) + "\n]")
        else:
            lines.append(f"{compact(key)}:{compact(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def dumps_for_script(obj: Any) -> str:
    """JSON safe to place inside ``<script type="application/json">`` (no ``</script>`` can escape)."""
    text = dumps(obj)
    for char, escaped in _SCRIPT_ESCAPES.items():  # str.replace: many times quicker than translate on long text
        if chr(char) in text:
            text = text.replace(chr(char), escaped)
    return text


def js_numbers(values: Any) -> str:
    """A JavaScript array literal of a numeric numpy array (see :func:`js_number_arrays`)."""
    return js_number_arrays([values])[0]


def js_number_arrays(arrays: list[Any]) -> list[str]:
    """JavaScript array literals of numeric numpy arrays, formatted by Arrow in C++ (the shortest text that
    reads back as the same number, like ``repr``); NaN and infinities become the literals NaN, Infinity,
    -Infinity. Arrays of one kind (integers, floats) are formatted in one call: many times quicker than
    ``json.dumps(values.tolist())`` for the long arrays of metric curves."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from . import arrowbuf

    out: list[str] = [""] * len(arrays)
    for kind in ("f", "iub"):
        picked = [i for i, a in enumerate(arrays) if (a.dtype.kind == "f") == (kind == "f")]
        if not picked:
            continue
        sizes = [len(arrays[i]) for i in picked]
        values = np.concatenate([np.asarray(arrays[i], dtype=np.float64 if kind == "f" else np.int64)
                                 for i in picked])
        offsets = arrowbuf.numeric(pa.int32(), np.concatenate([[0], np.cumsum(sizes)]).astype(np.int32))
        numbers = arrowbuf.numeric(pa.float64() if kind == "f" else pa.int64(), values)
        joined = pc.binary_join(pa.ListArray.from_arrays(offsets, pc.cast(numbers, pa.string())),
                                 arrowbuf.string_scalar(","))
        for i, text in zip(picked, joined.to_pylist()):
            if kind == "f":
                text = text.replace("nan", "NaN").replace("inf", "Infinity")
            out[i] = f"[{text}]"
    return out
