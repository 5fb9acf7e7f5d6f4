"""Problems found in a source: where they are and what was expected."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class SitegenError(Exception):
    """An error the user can act on (bad input, bad arguments); mapped to exit code 1 by the CLI."""


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem in one file. ``path`` is relative to the source root, in POSIX form.

    ``line`` and ``col`` are 1-based; 0 means unknown (for example a problem with a whole file).
    """

    path: str
    line: int = 0
    col: int = 0
    message: str = field(default="", compare=True)
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        # A file name may hold a newline or other control character: escape it so one problem stays one line.
        path = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), self.path)
        return f"{path}:{self.line}:{self.col}: {self.severity}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class Diagnostics(list):
    """A list of :class:`Diagnostic` with helpers for the common cases."""

    def error(self, path: str, message: str, line: int = 0, col: int = 0) -> None:
        self.append(Diagnostic(path, line, col, message, "error"))

    def warning(self, path: str, message: str, line: int = 0, col: int = 0) -> None:
        self.append(Diagnostic(path, line, col, message, "warning"))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self if not d.is_error]
