"""Work shared between this process and forked workers (sitegen.forked)."""

import os
import signal
import time

import pytest

from sitegen.diagnostics import SitegenError
from sitegen.forked import forked_map

PARENT = os.getpid()  # the test process (pytest-xdist: each worker's own)


def square_and_pid(x):
    time.sleep(0.002)  # long enough that every process gets items, whichever starts first
    return x * x, os.getpid()


def test_every_item_is_done_once_by_this_process_and_the_workers():
    results = list(forked_map(square_and_pid, list(range(200)), jobs=3))
    assert sorted(r for r, _ in results) == [x * x for x in range(200)]
    assert os.getpid() in {pid for _, pid in results}  # this process worked too
    assert list(forked_map(square_and_pid, [], jobs=2)) == []
    assert [r for r, _ in forked_map(square_and_pid, [3], jobs=1)] == [9]


SEEN_HERE = []  # items this process did before forking: a forked worker's copy has them too


def remember(x):
    SEEN_HERE.append(x)
    time.sleep(0.002)
    return x, os.getpid(), list(SEEN_HERE)


def test_warm_up_does_the_first_item_here_before_any_worker_is_forked():
    SEEN_HERE.clear()
    results = list(forked_map(remember, list(range(60)), jobs=2, warm_up=True))
    assert sorted(x for x, _, _ in results) == list(range(60))
    first = results[0]
    assert first[:2] == (0, os.getpid())  # done here, first
    workers = [seen for _, pid, seen in results if pid != os.getpid()]
    assert workers and all(seen[0] == 0 for seen in workers)  # forked after it: item 0 is in their memory
    assert [r[0] for r in forked_map(remember, [7], jobs=2, warm_up=True)] == [7]
    assert list(forked_map(remember, [], jobs=2, warm_up=True)) == []


def fail_in_worker(x):
    if os.getpid() != PARENT:
        raise ValueError(f"item {x}")
    time.sleep(0.05)  # leave items to the worker
    return x


def die_in_worker(x):
    if os.getpid() != PARENT:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.05)
    return x


def hang_in_worker(x):
    if os.getpid() != PARENT:
        time.sleep(30)
    return x


def test_a_workers_exception_is_raised_here_and_a_worker_that_dies_is_an_error():
    with pytest.raises(ValueError, match="item"):
        list(forked_map(fail_in_worker, list(range(20)), jobs=2))
    with pytest.raises(SitegenError, match="ended without its results"):
        list(forked_map(die_in_worker, list(range(20)), jobs=2))


def test_stopping_early_kills_the_workers():
    results = forked_map(hang_in_worker, list(range(20)), jobs=2)
    first = next(results)
    start = time.monotonic()
    results.close()  # the consumer stops: the worker in its 30 s item is killed, not waited for
    assert isinstance(first, int) and time.monotonic() - start < 10
