"""Arrow arrays made straight from numpy buffers and Python strings.

``pa.array()`` asks pandas whether its argument is a pandas object, and so imports pandas the first time it
is called: a sixth of a second and 40 MB in every process that only wanted to write a column. The
functions here hand Arrow the buffers themselves, which is also quicker for the long columns of metric
histories.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pyarrow as pa


def numeric(type_: pa.DataType, column: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """An Arrow array of a fixed-width ``type_`` over ``column`` (whose dtype must match it: int64 for
    int64 and timestamps, float64 for float64, ...); ``null`` marks the entries that are null."""
    column = np.ascontiguousarray(column)
    if column.dtype.itemsize * 8 != type_.bit_width:
        raise TypeError(f"a {column.dtype} column cannot hold Arrow {type_}")
    validity = None
    nulls = 0
    if null is not None:
        nulls = int(np.count_nonzero(null))
        if nulls:
            validity = pa.py_buffer(np.packbits(~np.asarray(null, dtype=bool), bitorder="little"))
    return pa.Array.from_buffers(type_, len(column), [validity, pa.py_buffer(column)], null_count=nulls)


def strings(texts: Sequence[str]) -> pa.Array:
    """An Arrow string array of ``texts`` (none of them null)."""
    encoded = [t.encode("utf-8") for t in texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    return pa.Array.from_buffers(pa.string(), len(encoded), [None, pa.py_buffer(offsets),
                                                             pa.py_buffer(b"".join(encoded))])


def string_scalar(text: str) -> pa.Scalar:
    return strings([text])[0]


def scalar(type_: pa.DataType, value: float | int, dtype: np.dtype | type) -> pa.Scalar:
    """A fixed-width Arrow scalar (``pa.scalar`` imports pandas too)."""
    return numeric(type_, np.array([value], dtype=dtype))[0]


def to_numpy(column: pa.ChunkedArray | pa.Array, dtype: np.dtype | type, fill: float | int | None = None) -> np.ndarray:
    """A fixed-width column as one (read-only) numpy array of ``dtype``, read from Arrow's buffer; nulls
    become ``fill`` (a column with nulls and no ``fill`` is an error). Arrow's own ``to_numpy`` imports
    pandas, even for a zero-copy view."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    dtype = np.dtype(dtype)
    if dtype.itemsize * 8 != column.type.bit_width:
        raise TypeError(f"Arrow {column.type} cannot be read as {dtype}")
    if column.null_count:
        if fill is None:
            raise ValueError("the column has nulls")
        column = column.fill_null(scalar(column.type, fill, dtype))
    if not len(column):
        return np.empty(0, dtype=dtype)
    return np.frombuffer(column.buffers()[1], dtype=dtype, count=len(column), offset=column.offset * dtype.itemsize)
