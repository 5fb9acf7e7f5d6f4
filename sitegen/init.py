"""``sitegen init``: the files a project needs to build, preview and deploy its site.

Writes ``sitegen.yaml`` and ``.gitignore`` into the project directory, and ``netlify.toml`` and the GitHub
Actions workflow ``.github/workflows/sitegen.yml`` at the root of its git repository (the project may be a
subdirectory). Existing files are never overwritten unless asked; the result says what was done to each.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .diagnostics import SitegenError

TEMPLATES = Path(__file__).resolve().parent / "templates_init"


@dataclass(frozen=True)
class Written:
    path: Path
    action: str  # "created", "overwritten", "kept" (it existed), "updated" (.gitignore lines added)


def _git_root(directory: Path) -> Path | None:
    try:
        done = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=directory, capture_output=True,
                              text=True, env={**os.environ, "LC_ALL": "C"})
    except FileNotFoundError:
        return None
    return Path(done.stdout.strip()).resolve() if done.returncode == 0 and done.stdout.strip() else None


def _default_branch(root: Path) -> str:
    done = subprocess.run(["git", "symbolic-ref", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
    branch = done.stdout.strip() if done.returncode == 0 else ""
    return branch if re.fullmatch(r"[A-Za-z0-9._/-]+", branch or "") else "main"


def _fill(name: str, values: dict[str, str]) -> str:
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace(f"@@{key}@@", value)
    leftover = re.search(r"@@[A-Z]+@@", text)
    if leftover:  # a template bug, not a user error
        raise RuntimeError(f"templates_init/{name}: placeholder {leftover.group()} was not filled")
    return text


def _write(path: Path, text: str, force: bool) -> Written:
    existed = path.exists()
    if existed and not force:
        return Written(path, "kept")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return Written(path, "overwritten" if existed else "created")


def _merge_gitignore(path: Path, text: str) -> Written:
    """Add the lines of ``text`` that ``path`` lacks (a .gitignore is merged, never replaced)."""
    if not path.exists():
        path.write_text(text, encoding="utf-8")
        return Written(path, "created")
    current = path.read_text(encoding="utf-8")
    have = {line.strip() for line in current.splitlines()}
    missing = [line for line in text.splitlines() if line.strip() and line.strip() not in have]
    if not [m for m in missing if not m.startswith("#")]:
        return Written(path, "kept")
    path.write_text(current + ("" if current.endswith("\n") or not current else "\n") + "\n".join(missing) + "\n",
                    encoding="utf-8")
    return Written(path, "updated")


def init(directory: str | Path = ".", *, title: str | None = None, force: bool = False,
         install: str | None = None) -> list[Written]:
    """Write the project files; return what happened to each (in a stable order)."""
    project = Path(directory).resolve()
    if project.exists() and not project.is_dir():
        raise SitegenError(f"{directory} exists and is not a directory")
    project.mkdir(parents=True, exist_ok=True)
    root = _git_root(project) or project
    source = project.relative_to(root).as_posix() if project != root else "."
    output = "site" if source == "." else f"{source}/site"
    name = title or project.name.replace("-", " ").replace("_", " ").strip().capitalize() or "Experiments"
    values = {
        "TITLE": json.dumps(name, ensure_ascii=False),  # a JSON string is a valid YAML scalar
        "SLUG": re.sub(r"[^a-z0-9-]+", "-", project.name.lower()).strip("-") or "site",
        "SOURCE": source, "OUTPUT": output, "BRANCH": _default_branch(root),
        "INSTALL": install or f"sitegen=={__version__}",
    }
    if not re.fullmatch(r"[A-Za-z0-9._/ -]+", source):
        raise SitegenError(f"the project path {source!r} inside the repository has characters the CI templates "
                           "cannot quote safely; use letters, digits, '.', '_', '-' and '/'")
    if "'" in values["INSTALL"] or "\n" in values["INSTALL"]:
        raise SitegenError("--install must not contain quotes or newlines")
    return [
        _write(project / "sitegen.yaml", _fill("sitegen.yaml", values), force),
        _merge_gitignore(project / ".gitignore", _fill("gitignore", values)),
        _write(root / "netlify.toml", _fill("netlify.toml", values), force),
        _write(root / ".github" / "workflows" / "sitegen.yml", _fill("sitegen.yml", values), force),
    ]
