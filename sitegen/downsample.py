"""Downsampling of long series for display, keeping what a reader must see.

Both algorithms return a sorted ``int64`` array of indices into the input, so callers keep using their
own arrays (and any extra columns) with ``x[idx]``, ``y[idx]``. Guarantees shared by both:

* the first and the last point are always kept;
* ``n_out >= len(y)`` returns every index;
* non-finite values (NaN, +inf, -inf) are never dropped silently. Every non-finite point is kept,
  with one bound so a diverged run cannot blow up a page: inside a run of *consecutive identical*
  non-finite values (say 500 000 NaN after a divergence) the run's first and last points are kept,
  so the stretch shows with its exact extent. Isolated or alternating non-finite points are all kept.
  These indices come on top of the ``n_out`` budget, which applies to the finite points.

Which to use. :func:`minmax` keeps, per bucket, the smallest and the largest value: with about two
buckets' worth of points per pixel column, the drawn line covers the same vertical extent in every
column as the full series (the M4 argument), so every spike and the full noise band survive. That is
the default for charts (:data:`DEFAULT_METHOD`), because a loss spike or a collapse is exactly what a
reader of a training curve looks for. :func:`lttb` (Largest-Triangle-Three-Buckets) picks one point per
bucket that best preserves the visual shape; it reads better at very low budgets, but it may drop a
single-point spike in noisy data.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["DEFAULT_METHOD", "downsample", "lttb", "minmax", "nonfinite_indices"]

DEFAULT_METHOD = "minmax"


def _as_arrays(x, y, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    xa = np.asarray(x)
    ya = np.asarray(y, dtype=np.float64)
    if xa.ndim != 1 or ya.ndim != 1:
        raise ValueError(f"x and y must be one-dimensional, got shapes {xa.shape} and {ya.shape}")
    if len(xa) != len(ya):
        raise ValueError(f"x and y must have the same length, got {len(xa)} and {len(ya)}")
    if int(n_out) < 2:
        raise ValueError(f"n_out must be at least 2 (first and last point), got {n_out}")
    return xa, ya


def nonfinite_indices(y) -> np.ndarray:
    """Indices of the non-finite values of ``y`` that downsampling keeps (see the module docstring).

    Every non-finite point is returned except the inner points of a run of consecutive identical
    non-finite values, whose first and last points stand for it.
    """
    ya = np.asarray(y, dtype=np.float64)
    bad = ~np.isfinite(ya)
    if not bad.any():
        return np.empty(0, dtype=np.int64)
    # 0 finite, 1 NaN, 2 +inf, 3 -inf: a run is a stretch of equal non-zero kinds.
    kind = np.where(np.isnan(ya), 1, np.where(ya == np.inf, 2, np.where(ya == -np.inf, 3, 0)))
    starts = np.ones(len(ya), dtype=bool)
    starts[1:] = kind[1:] != kind[:-1]
    ends = np.ones(len(ya), dtype=bool)
    ends[:-1] = kind[:-1] != kind[1:]
    return np.flatnonzero(bad & (starts | ends)).astype(np.int64)


def _finish(n: int, chosen: np.ndarray, y: np.ndarray) -> np.ndarray:
    extra = [np.array([0, n - 1], dtype=np.int64), nonfinite_indices(y)]
    return np.unique(np.concatenate([chosen.astype(np.int64), *extra]))


def _bucket_starts(first: int, count: int, buckets: int) -> np.ndarray:
    """Start offsets of ``buckets`` near-equal, non-empty buckets over ``count`` items from ``first``."""
    return first + (np.arange(buckets, dtype=np.int64) * count) // buckets


def minmax(x, y, n_out: int) -> np.ndarray:
    """Indices of the minimum and maximum of each bucket, plus first/last and non-finite points.

    The ``n_out - 2`` interior slots make ``(n_out - 2) // 2`` equal-count buckets; each gives its
    smallest and largest finite value (one index when they coincide). O(n), fully vectorised.
    ``x`` is only checked for length; buckets are by position, so ``x`` should be sorted.
    """
    _, ya = _as_arrays(x, y, n_out)
    n = len(ya)
    if n_out >= n:
        return np.arange(n, dtype=np.int64)
    interior = n - 2
    buckets = max((n_out - 2) // 2, 0)
    if buckets == 0 or interior <= 0:
        return _finish(n, np.empty(0, dtype=np.int64), ya)
    starts = _bucket_starts(1, interior, buckets)
    inner = ya[1:n - 1]
    finite = np.isfinite(inner)
    offsets = starts - 1  # bucket starts as offsets into ``inner``
    bucket_of = np.repeat(np.arange(buckets), np.diff(np.append(offsets, interior)))
    chosen = []
    for fill, reduce in ((np.inf, np.minimum), (-np.inf, np.maximum)):
        vals = np.where(finite, inner, fill)
        best = reduce.reduceat(vals, offsets)
        hits = np.flatnonzero(finite & (vals == best[bucket_of]))
        if len(hits):
            hit_bucket = bucket_of[hits]
            first_hit = np.ones(len(hits), dtype=bool)
            first_hit[1:] = hit_bucket[1:] != hit_bucket[:-1]
            chosen.append(hits[first_hit] + 1)
    picked = np.concatenate(chosen) if chosen else np.empty(0, dtype=np.int64)
    return _finish(n, picked, ya)


def lttb(x, y, n_out: int) -> np.ndarray:
    """Largest-Triangle-Three-Buckets over the finite points, plus first/last and non-finite points.

    ``x`` must be sorted ascending (a metric's steps or times; datetimes are accepted). The bucket loop
    is sequential by nature (each choice depends on the previous one) but each bucket is one vectorised
    numpy step, so the cost is O(n) with ``n_out`` small Python iterations.
    """
    xa, ya = _as_arrays(x, y, n_out)
    n = len(ya)
    if n_out >= n:
        return np.arange(n, dtype=np.int64)
    xf = xa.astype("datetime64[ns]").astype(np.float64) if np.issubdtype(xa.dtype, np.datetime64) \
        else xa.astype(np.float64)
    if n > 1 and bool(np.any(np.diff(xf) < 0)):
        raise ValueError("lttb needs x sorted ascending; sort the series by x first")
    keep = np.flatnonzero(np.isfinite(ya))
    if len(keep) <= n_out:
        return _finish(n, keep, ya)
    fx, fy = xf[keep], ya[keep]
    m = len(keep)
    buckets = n_out - 2
    bounds = np.append(_bucket_starts(1, m - 2, buckets), m - 1)
    out = np.empty(buckets, dtype=np.int64)
    a = 0
    for i in range(buckets):
        lo, hi = bounds[i], bounds[i + 1]
        if i + 1 < buckets:
            nlo, nhi = bounds[i + 1], bounds[i + 2]
            cx, cy = fx[nlo:nhi].mean(), fy[nlo:nhi].mean()
        else:
            cx, cy = fx[m - 1], fy[m - 1]
        ax, ay = fx[a], fy[a]
        area = np.abs((ax - cx) * (fy[lo:hi] - ay) - (ax - fx[lo:hi]) * (cy - ay))
        a = lo + int(np.argmax(area))
        out[i] = a
    return _finish(n, keep[np.concatenate(([0], out, [m - 1]))], ya)


_METHODS: dict[str, Callable[..., np.ndarray]] = {"minmax": minmax, "lttb": lttb}


def downsample(x, y, n_out: int, method: str = DEFAULT_METHOD) -> np.ndarray:
    """Indices chosen by ``method`` (``"minmax"`` or ``"lttb"``)."""
    try:
        fn = _METHODS[method]
    except KeyError:
        raise ValueError(f"unknown downsampling method {method!r}; expected one of {sorted(_METHODS)}") from None
    return fn(x, y, n_out)
