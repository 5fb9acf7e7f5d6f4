"""Names in the run store: run id generation and the slug / run-id validators (DESIGN.md section 2).

A slug (experiment, model, dataset) is ``[a-z0-9][a-z0-9._-]*``; a run id is
``[A-Za-z0-9][A-Za-z0-9._-]{0,127}`` and equals its folder name. Anything else is a validation error,
never a path: these validators are what keeps a name from walking out of its directory.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone

SLUG_RE = re.compile(r"[a-z0-9][a-z0-9._-]*")
RUN_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
# What the tracker itself generates: sortable by start time.
GENERATED_RUN_ID_RE = re.compile(r"\d{8}-\d{6}-[0-9a-f]{6}")


def is_slug(name: object) -> bool:
    """True when ``name`` is a valid experiment / model / dataset slug."""
    return isinstance(name, str) and SLUG_RE.fullmatch(name) is not None


def is_run_id(name: object) -> bool:
    """True when ``name`` is a valid run id (and so a safe folder name)."""
    return isinstance(name, str) and RUN_ID_RE.fullmatch(name) is not None


def new_run_id(now: datetime | None = None) -> str:
    """A new sortable run id ``YYYYMMDD-HHMMSS-xxxxxx``: UTC start time and 6 random hex digits."""
    now = now or datetime.now(timezone.utc)
    return f"{now.astimezone(timezone.utc):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
