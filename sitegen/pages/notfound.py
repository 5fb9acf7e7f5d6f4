"""The 404 page (hosts such as Netlify and GitHub Pages serve 404.html for missing paths)."""

from __future__ import annotations

from typing import Iterator

from .. import urls
from ..model import Project
from . import Page


def pages(project: Project) -> Iterator[Page]:
    yield Page(url=urls.NOT_FOUND, template="404.html", title="Page not found", kind="404", indexed=False)
