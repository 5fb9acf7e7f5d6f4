"""Downsampling keeps first/last points, spikes and non-finite values, and stays fast."""

from __future__ import annotations

import time

import numpy as np
import pytest

from sitegen.downsample import downsample, lttb, minmax, nonfinite_indices

METHODS = [minmax, lttb]


def noisy(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return np.arange(n, dtype=np.int64), np.cumsum(rng.normal(size=n)) * 0.01 + rng.normal(size=n)


@pytest.mark.parametrize("method", METHODS)
def test_first_last_kept_sorted_unique_and_within_budget(method):
    x, y = noisy(10_000)
    idx = method(x, y, 200)
    assert idx.dtype == np.int64
    assert idx[0] == 0 and idx[-1] == len(y) - 1
    assert np.all(np.diff(idx) > 0)  # sorted, no duplicates, so x[idx] stays monotone
    assert np.all(np.diff(x[idx]) > 0)
    assert 100 <= len(idx) <= 200


@pytest.mark.parametrize("method", METHODS)
def test_n_out_at_least_len_returns_everything(method):
    x, y = noisy(50)
    assert method(x, y, 50).tolist() == list(range(50))
    assert method(x, y, 1000).tolist() == list(range(50))


@pytest.mark.parametrize("method", METHODS)
def test_single_spikes_survive(method):
    x, y = noisy(100_000, seed=1)
    y[12_345] = 1e6
    y[77_777] = -1e6
    idx = set(method(x, y, 500).tolist())
    assert {12_345, 77_777} <= idx


def test_minmax_keeps_every_bucket_extreme():
    x, y = noisy(10_000, seed=2)
    n_out = 102  # 50 buckets of 199-200 interior points
    idx = minmax(x, y, n_out)
    kept = set(idx.tolist())
    bounds = 1 + (np.arange(51) * 9_998) // 50
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        assert lo + int(np.argmin(y[lo:hi])) in kept
        assert lo + int(np.argmax(y[lo:hi])) in kept


@pytest.mark.parametrize("method", METHODS)
def test_non_finite_values_are_kept(method):
    x, y = noisy(100_000, seed=3)
    y[10] = np.nan
    y[20] = np.inf
    y[30] = -np.inf
    y[50_000:90_000] = np.inf  # a diverged stretch: its first and last points stand for it
    y[-1] = np.nan
    idx = method(x, y, 300)
    kept = set(idx.tolist())
    assert {10, 20, 30, 50_000, 89_999, 99_999} <= kept
    assert len(idx) < 320  # the stretch does not blow the budget


def test_alternating_non_finite_values_are_all_kept():
    y = np.array([1.0, np.nan, np.inf, np.nan, -np.inf, 2.0, 3.0, np.nan, np.nan, 4.0])
    assert nonfinite_indices(y).tolist() == [1, 2, 3, 4, 7, 8]


def test_lttb_needs_sorted_x_and_downsample_dispatches():
    x, y = noisy(1000)
    with pytest.raises(ValueError, match="sorted"):
        lttb(x[::-1], y, 100)
    with pytest.raises(ValueError, match="unknown downsampling method"):
        downsample(x, y, 100, method="every-nth")
    assert downsample(x, y, 100, method="lttb").tolist() == lttb(x, y, 100).tolist()
    with pytest.raises(ValueError, match="same length"):
        minmax(x, y[:-1], 100)
    with pytest.raises(ValueError, match="at least 2"):
        minmax(x, y, 1)


def test_lttb_accepts_datetimes():
    x = np.arange("2026-01-01", "2026-03-01", dtype="datetime64[h]")
    y = np.sin(np.arange(len(x)) / 50.0)
    idx = lttb(x, y, 100)
    assert len(idx) == 100 and idx[0] == 0 and idx[-1] == len(x) - 1


@pytest.mark.parametrize("method", METHODS)
def test_million_points_is_fast(method):
    x, y = noisy(1_000_000, seed=4)
    start = time.perf_counter()
    idx = method(x, y, 1000)
    elapsed = time.perf_counter() - start
    print(f"{method.__name__}: 1e6 -> {len(idx)} points in {elapsed:.3f} s")
    assert len(idx) <= 1000
    assert elapsed < 5.0  # loose: the target is < 0.2 s, measured and printed above
