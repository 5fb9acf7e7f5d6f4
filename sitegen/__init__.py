"""sitegen: experiment tracking in plain YAML and Parquet files, published as a static website."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "start_run", "open"]


def start_run(*args, **kwargs):
    """Start (or resume) a run; see :func:`sitegen.track.start_run`."""
    from .track import start_run as _start_run

    return _start_run(*args, **kwargs)


def open(root="."):  # noqa: A001 - the public name is part of the contract
    """Open a run store for reading; see :class:`sitegen.store.reader.Store`."""
    from .store.api import Store

    return Store(root)
