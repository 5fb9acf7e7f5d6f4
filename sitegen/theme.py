"""Theme lookup: a user theme directory overrides any single template or static file of the default theme."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .diagnostics import SitegenError

_PACKAGE_DIR = Path(__file__).resolve().parent


def default_theme_dir() -> Path:
    """The default theme: inside the installed package (wheel), or at the repository's top level (checkout)."""
    for candidate in (_PACKAGE_DIR / "themes" / "default", _PACKAGE_DIR.parent / "themes" / "default"):
        if (candidate / "templates").is_dir():
            return candidate
    raise SitegenError("the default theme is missing from this installation (themes/default)")


@dataclass(frozen=True)
class Theme:
    """Theme directories, highest priority first."""

    dirs: tuple[Path, ...]

    @property
    def template_dirs(self) -> list[str]:
        return [str(d / "templates") for d in self.dirs if (d / "templates").is_dir()]

    def static_files(self) -> dict[str, Path]:
        """Static files by their path under static/; a file in a higher-priority theme wins."""
        files: dict[str, Path] = {}
        for d in reversed(self.dirs):
            static = d / "static"
            if not static.is_dir():
                continue
            for path in sorted(static.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    files[path.relative_to(static).as_posix()] = path
        return dict(sorted(files.items()))


def resolve_theme(setting: str, source: Path) -> Theme:
    """``default``, or a directory (relative to the source) that overrides the default theme."""
    default = default_theme_dir()
    if not setting or setting == "default":
        return Theme((default,))
    path = (source / setting).resolve()
    if not path.is_dir():
        raise SitegenError(f"sitegen.yaml: theme directory {setting!r} does not exist (looked in {path})")
    return Theme((path, default))
