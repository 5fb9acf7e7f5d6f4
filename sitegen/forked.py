"""Work shared between this process and forked workers, all taking items from one counter.

A pool of ``jobs`` workers leaves the process that forked them waiting, and every worker pays for copying
the pages of the parent's memory it touches (Python's reference counts write to every object read). Here
the parent works too, beside ``jobs - 1`` workers: one process fewer is forked, and the parent runs at the
speed of a warm process. Rendering 1,000 run pages this way took 10% less time than with a pool of two.
"""

from __future__ import annotations

import gc
import multiprocessing
from typing import Any, Callable, Iterator, Sequence

from .diagnostics import SitegenError


def _next(counter: Any, count: int) -> int | None:
    with counter.get_lock():
        index = counter.value
        if index >= count:
            return None
        counter.value = index + 1
        return index


def _worker(func: Callable[[Any], Any], items: Sequence[Any], counter: Any, conn: Any,
            init: Callable[[], None] | None) -> None:
    try:
        if init is not None:
            init()
        while (index := _next(counter, len(items))) is not None:
            conn.send(("ok", func(items[index])))
        conn.send(("done", None))
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
        try:
            conn.send(("error", exc))
        except Exception:  # noqa: BLE001 - an exception that cannot be pickled: its text, then
            conn.send(("error", SitegenError(f"{type(exc).__name__}: {exc}")))
    finally:
        conn.close()


def forked_map(func: Callable[[Any], Any], items: Sequence[Any], jobs: int,
               init: Callable[[], None] | None = None, warm_up: bool = False) -> Iterator[Any]:
    """``func(item)`` for every item, in the order they finish, made by this process and ``jobs - 1`` forked
    workers (``init`` runs first in each worker). A worker's exception is raised here; if this process
    fails or stops iterating, the workers are killed.

    ``warm_up``: this process does the first item before forking, so that what ``func`` loads or keeps on
    first use (compiled templates, memos, imports) is made once and shared, not made again in every worker."""
    ctx = multiprocessing.get_context("fork")
    counter = ctx.Value("l", 0)
    if warm_up and items and jobs > 1:
        counter.value = 1
        yield func(items[0])
    workers = []
    # What Python's gc documentation advises before a fork: the objects made so far (the loaded project)
    # are left out of collections, so neither process scans them again, and a worker's collections do
    # not write to (and so copy) the pages they share. (1,000 run pages: at most a few percent less time.)
    gc.freeze()
    try:
        for _ in range(max(0, jobs - 1)):
            receive, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_worker, args=(func, items, counter, send, init), daemon=True)
            proc.start()
            send.close()
            workers.append((proc, receive))
        running = list(workers)

        def collect(block: bool) -> Iterator[Any]:
            for entry in list(running):
                proc, receive = entry
                while block or receive.poll():
                    try:
                        status, value = receive.recv()
                    except EOFError:
                        proc.join()
                        raise SitegenError(f"a worker process ended without its results (exit code "
                                           f"{proc.exitcode})") from None
                    if status == "error":
                        raise value
                    if status == "done":
                        running.remove(entry)
                        break
                    yield value

        while (index := _next(counter, len(items))) is not None:
            yield func(items[index])
            yield from collect(block=False)
        yield from collect(block=True)
        for proc, _receive in workers:
            proc.join()
    finally:
        for proc, receive in workers:
            if proc.is_alive():
                proc.kill()
                proc.join()
            receive.close()
        gc.unfreeze()
